"""Vietnamese working-day arithmetic for SLAs (spec section 1, "Working days").

A working day is Monday–Friday, minus the public holidays, Tết and compensatory days of
the ``holidays`` package (country VN), minus the ``[[days_off]]`` of the calendar files,
plus the make-up Saturdays of the package and the ``[[working_days]]`` of the files.
Calendar files (``congvu/profiles/calendar/*.toml``, then ``$CONGVU_HOME/calendar/*.toml``,
then explicit paths) hold each year's official swaps as data: see the README beside them.

Pure: no database, no clock. Naive datetimes are local time; an aware datetime is
converted to the calendar's time zone and the answer is aware in that zone.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from django.utils.translation import gettext as _

from congvu import deployment
from congvu.errors import CongvuError
from congvu.profiles import Duration, Profile

OfficeHours = tuple[tuple[dt.time, dt.time], ...]

#: Reading (spec section 1): 07:30–11:30 and 13:30–17:00; profiles set their own.
DEFAULT_OFFICE_HOURS: OfficeHours = (
    (dt.time(7, 30), dt.time(11, 30)),
    (dt.time(13, 30), dt.time(17, 0)),
)
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

SECTIONS = ("days_off", "working_days")
ENTRY_KEYS = ("date", "name", "source")
_REQUIRED_KEYS = ("date", "name")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class CalendarEntry:
    """One dated line of a calendar file: a day off or a make-up working day."""

    date: dt.date
    name: str
    source: str
    file: str


@dataclass(frozen=True)
class CalendarData:
    """The merged entries of every calendar file read, by date."""

    days_off: Mapping[dt.date, CalendarEntry]
    working_days: Mapping[dt.date, CalendarEntry]


# --- the holidays package, one year at a time -------------------------------------------


@cache
def _package_year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(days off, make-up weekend working days) of ``holidays.VN`` for one year, cached.

    ``holidays.VN`` is slow to build, so each year is built once per process.
    """
    table = holidays.country_holidays("VN", years=year)
    off = frozenset(d for d in table if d.year == year)
    on = frozenset(d for d in table.weekend_workdays if d.year == year)
    return off, on


# --- calendar files ---------------------------------------------------------------------


def _error(file: str, message: str) -> CongvuError:
    return CongvuError(
        _("Calendar file %(file)s: %(problem)s") % {"file": file, "problem": message}
    )


def _parse_entry_date(value: object, file: str, section: str, index: int) -> dt.date:
    if isinstance(value, dt.datetime | dt.time):
        value = value.isoformat()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _error(file, _(
        "entry %(index)d of [[%(section)s]] has an invalid date %(value)r "
        "(expected YYYY-MM-DD, e.g. \"2025-05-02\")."
    ) % {"index": index, "section": section, "value": value})


def _parse_entries(data: dict[str, Any], file: str) -> Iterator[tuple[str, CalendarEntry]]:
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise _error(file, _("unknown key(s) %(keys)s (expected %(expected)s).") % {
            "keys": ", ".join(unknown), "expected": ", ".join(SECTIONS)})
    for section in SECTIONS:
        items = data.get(section, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _error(file, _("%(section)s must be a list of [[%(section)s]] tables.") % {
                "section": section})
        for index, item in enumerate(items, start=1):
            unknown = sorted(set(item) - set(ENTRY_KEYS))
            if unknown:
                raise _error(file, _(
                    "entry %(index)d of [[%(section)s]] has unknown key(s) %(keys)s "
                    "(expected %(expected)s)."
                ) % {"index": index, "section": section, "keys": ", ".join(unknown),
                     "expected": ", ".join(ENTRY_KEYS)})
            missing = [k for k in _REQUIRED_KEYS if k not in item]
            if missing:
                raise _error(file, _(
                    "entry %(index)d of [[%(section)s]] lacks %(keys)s."
                ) % {"index": index, "section": section, "keys": ", ".join(missing)})
            name, source = item["name"], item.get("source", "")
            if not isinstance(name, str) or not name.strip() or not isinstance(source, str):
                raise _error(file, _(
                    "entry %(index)d of [[%(section)s]]: name and source must be text, "
                    "and the name must not be empty."
                ) % {"index": index, "section": section})
            day = _parse_entry_date(item["date"], file, section, index)
            yield section, CalendarEntry(day, name.strip(), source.strip(), file)


def _read(path: Path | Traversable) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise _error(str(path), _("the file does not exist.")) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _error(str(path), _("not valid TOML: %(error)s") % {"error": exc}) from exc
    except OSError as exc:
        raise _error(str(path), _("cannot be read: %(error)s") % {
            "error": exc.strerror or exc}) from exc


def load_calendar_files(paths: Iterable[Path | Traversable]) -> CalendarData:
    """Read and merge calendar files in order; any problem is a :class:`CongvuError`.

    A date may repeat within one kind (harmless); a date that is both a day off and a
    working day, in one file or across files, is an error naming both files.
    """
    merged: dict[str, dict[dt.date, CalendarEntry]] = {s: {} for s in SECTIONS}
    for path in paths:
        file = str(path)
        for section, entry in _parse_entries(_read(path), file):
            other_section = SECTIONS[1 - SECTIONS.index(section)]
            clash = merged[other_section].get(entry.date)
            if clash is not None:
                raise _error(file, _(
                    "%(date)s is both a day off and a working day (the other entry is in "
                    "%(other)s)."
                ) % {"date": entry.date.isoformat(), "other": clash.file})
            merged[section].setdefault(entry.date, entry)
    return CalendarData(days_off=merged["days_off"], working_days=merged["working_days"])


def calendar_paths(
    *, home: Path | None = None, extra: Sequence[Path] = ()
) -> list[Path | Traversable]:
    """The calendar files in loading order: shipped, ``$CONGVU_HOME/calendar``, ``extra``.

    An extra path may be a file or a folder (its ``*.toml`` files, sorted).
    """
    shipped = resources.files("congvu.profiles").joinpath("calendar")
    out: list[Path | Traversable] = sorted(
        (p for p in shipped.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    operator = (home if home is not None else deployment.home()) / "calendar"
    if operator.is_dir():
        out.extend(sorted(operator.glob("*.toml")))
    for path in extra:
        out.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return out


# --- the calendar -----------------------------------------------------------------------


def _check_office_hours(hours: OfficeHours) -> OfficeHours:
    ordered = tuple(sorted(hours))
    if not ordered:
        raise CongvuError(_("Office hours must contain at least one period."))
    previous_end: dt.time | None = None
    for start, end in ordered:
        if end <= start or (previous_end is not None and start < previous_end):
            raise CongvuError(_(
                "Office hours must be periods that end after they start and do not "
                "overlap; got %(hours)s."
            ) % {"hours": ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in ordered)})
        previous_end = end
    return ordered


class WorkCalendar:
    """Working days and office hours: the package's holidays plus the calendar files."""

    def __init__(
        self,
        data: CalendarData | None = None,
        *,
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.data = data or CalendarData(days_off={}, working_days={})
        self.office_hours = _check_office_hours(office_hours)
        self.zone = ZoneInfo(timezone)
        self._years: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}

    def _year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        """(days off, weekend working days) of one year, files over package, cached."""
        cached = self._years.get(year)
        if cached is None:
            pkg_off, pkg_on = _package_year(year)
            file_off = {d for d in self.data.days_off if d.year == year}
            file_on = {d for d in self.data.working_days if d.year == year}
            off = frozenset(file_off | (pkg_off - file_on))
            on = frozenset(file_on | (pkg_on - off))
            cached = self._years[year] = (off, on)
        return cached

    def is_working_day(self, day: dt.date) -> bool:
        """True on a Vietnamese public-sector working day."""
        if isinstance(day, dt.datetime):
            day = day.date()
        off, on = self._year(day.year)
        if day in off:
            return False
        return day in on or day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (the day of receipt is not counted).

        ``n = 0`` returns ``start`` itself.
        """
        if n < 0:
            raise CongvuError(_("The number of working days must not be negative (got "
                                "%(n)d).") % {"n": n})
        day = start.date() if isinstance(start, dt.datetime) else start
        for _i in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """How many working days lie in ``(a, b]``; negative when ``b`` is before ``a``."""
        a = a.date() if isinstance(a, dt.datetime) else a
        b = b.date() if isinstance(b, dt.datetime) else b
        if b < a:
            return -self.working_days_between(b, a)
        count, day = 0, a + _ONE_DAY
        while day <= b:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def is_office_time(self, moment: dt.datetime) -> bool:
        """True during office hours of a working day (each period is [start, end))."""
        local = self.to_local(moment)
        t = local.time()
        return self.is_working_day(local.date()) and any(
            start <= t < end for start, end in self.office_hours)

    def office_day_end(self, day: dt.date) -> dt.datetime:
        """The end of the day's last office period, as a naive local datetime."""
        return dt.datetime.combine(day, self.office_hours[-1][1])

    def add_working_minutes(self, start: dt.datetime, n: int) -> dt.datetime:
        """``start`` plus ``n`` minutes counted only in office hours of working days.

        A start outside office hours begins counting at the next office period; a
        deadline landing exactly at the end of a period is that end (11:30, not 13:30).
        """
        if n < 0:
            raise CongvuError(_("The number of working minutes must not be negative (got "
                                "%(n)d).") % {"n": n})
        cursor = self.to_local(start)
        if n == 0:
            return self.from_local(cursor, start)
        remaining = dt.timedelta(minutes=n)
        day = cursor.date()
        while True:
            if self.is_working_day(day):
                for begin, end in self.office_hours:
                    period_start = max(dt.datetime.combine(day, begin), cursor)
                    period_end = dt.datetime.combine(day, end)
                    if period_start >= period_end:
                        continue
                    available = period_end - period_start
                    if remaining <= available:
                        return self.from_local(period_start + remaining, start)
                    remaining -= available
            day += _ONE_DAY

    def to_local(self, moment: dt.datetime) -> dt.datetime:
        """Naive local time: naive stays, aware is converted to the calendar's zone."""
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def from_local(self, local: dt.datetime, like: dt.datetime) -> dt.datetime:
        """A naive local result made naive or aware (in the calendar's zone) like ``like``."""
        return local if like.tzinfo is None else local.replace(tzinfo=self.zone)


def calendar_for(
    profile: Profile, *, home: Path | None = None, extra: Sequence[Path] = ()
) -> WorkCalendar:
    """The profile's calendar: its office hours and time zone, with every calendar file."""
    return WorkCalendar(
        load_calendar_files(calendar_paths(home=home, extra=extra)),
        office_hours=profile.workdays.office_hours,
        timezone=profile.timezone,
    )


def deadline(calendar: WorkCalendar, start: dt.datetime, span: Duration) -> dt.datetime:
    """When a profile SLA started at ``start`` runs out (NB-6.2b, NT-6.3b, QN-5.2, ...).

    ``N working days``: the end of the last office period of the N-th working day after
    the day of receipt. ``N working minutes``: :meth:`WorkCalendar.add_working_minutes`.
    Other spans: calendar arithmetic (:meth:`Duration.after`).
    """
    if not span.working:
        return span.after(start)
    if span.unit == "minutes":
        return calendar.add_working_minutes(start, span.amount)
    if span.unit == "days":
        local = calendar.to_local(start)
        day = calendar.add_working_days(local.date(), span.amount)
        return calendar.from_local(calendar.office_day_end(day), start)
    raise CongvuError(_("Cannot count %(span)s: working time is counted in days or "
                        "minutes, not months.") % {"span": span})


def parse_start(text: str) -> dt.date | dt.datetime:
    """Parse a CLI start: ``YYYY-MM-DD`` (a date) or ``YYYY-MM-DDTHH:MM`` (a datetime)."""
    value = text.strip()
    try:
        if _DATE_RE.match(value):
            return dt.date.fromisoformat(value)
        if _DATETIME_RE.match(value):
            return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    raise CongvuError(_(
        "Invalid start %(text)r: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM "
        "(e.g. 2026-12-31 or 2026-12-31T14:30)."
    ) % {"text": text})
