"""The usage report's cadence (pure): when the profile's periodic report is due and which
period it covers. NB-11.7 yearly before 15 December, QN-13.6 every 6 months, KH-11.7
yearly; GL and NT set none.

The profile's ``[report] usage`` reads ``yearly``, ``every N months`` (N divides 12) or
either followed by ``before MM-DD``; ``usage_rule`` names the rule. **Reading:** without
a date the reports close the calendar periods (31 December; 30 June and 31 December for
every 6 months); with ``before MM-DD`` they are due on that day, every N months from it.
A report covers the day after the previous deadline up to its own deadline, so every
day is counted in exactly one report.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from congvu.errors import CongvuError
from congvu.profiles import Profile, add_months

_CADENCE_RE = re.compile(
    r"^\s*(?:(?P<yearly>yearly)|every\s+(?P<months>\d+)\s+months?)"
    r"(?:\s+before\s+(?P<month>\d{1,2})-(?P<day>\d{1,2}))?\s*$")


@dataclass(frozen=True)
class Cadence:
    """Every ``months`` months, due on ``due_month``/``due_day`` and the dates N, 2N...
    months before it in each year; ``rule`` is the profile's rule ID."""

    months: int
    due_month: int
    due_day: int
    rule: str

    def dues_in(self, year: int) -> list[dt.date]:
        """The deadlines falling in ``year``, in order."""
        # Each counted from the anchor itself (never month to month), so 31 December
        # gives 30 June and 31 August, not 30 August.
        anchor = dt.datetime(year, self.due_month, min(self.due_day, 28 if self.due_month == 2
                                                       and not _leap(year) else 31))
        steps = 12 // self.months
        days = {add_months(anchor, k * self.months).date() for k in range(-steps, steps + 1)}
        return sorted(d for d in days if d.year == year)


@dataclass(frozen=True)
class Period:
    """One report of the cadence: the days it covers (both included) and its deadline."""

    start: dt.date
    end: dt.date
    due: dt.date
    index: int  # 1-based within the deadline's year
    per_year: int
    rule: str

    @property
    def year(self) -> int:
        return self.due.year

    def title(self) -> str:
        """``Report for 2026``, ``Report for the first half of 2026``..."""
        if self.per_year == 1:
            return _("Report for %(year)d") % {"year": self.year}
        if self.per_year == 2:
            return (_("Report for the first half of %(year)d") if self.index == 1
                    else _("Report for the second half of %(year)d")) % {"year": self.year}
        if self.per_year == 4:
            return _("Report for quarter %(n)d of %(year)d") % {"n": self.index,
                                                                 "year": self.year}
        return _("Report %(n)d of %(count)d for %(year)d") % {
            "n": self.index, "count": self.per_year, "year": self.year}

    def days_left(self, today: dt.date) -> int:
        return (self.due - today).days


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def cadence_of(profile: Profile) -> Cadence | None:
    """The profile's cadence, or None when it regulates no periodic report."""
    text = (profile.report.get("usage") or "").strip()
    if not text:
        return None
    m = _CADENCE_RE.match(text)
    months = 12 if m and m.group("yearly") else int(m.group("months")) if m else 0
    if m is None or months < 1 or 12 % months:
        raise CongvuError(_("The profile's report cadence %(text)r is not understood: write "
                            "'yearly', 'every 6 months' (a divisor of 12), optionally "
                            "followed by 'before MM-DD'.") % {"text": text})
    month, day = (int(m.group("month")), int(m.group("day"))) if m.group("month") else (12, 31)
    try:
        dt.date(2024, month, day)  # a leap year: 02-29 is a valid anchor
    except ValueError:
        raise CongvuError(_("The profile's report deadline %(date)r is not a day of the "
                            "year (MM-DD).") % {"date": f"{month:02d}-{day:02d}"}) from None
    rule = (profile.report.get("usage_rule") or "").strip() or f"{profile.rule_prefix}:report"
    return Cadence(months=months, due_month=month, due_day=day, rule=rule)


def _period(cadence: Cadence, due: dt.date) -> Period:
    dues = cadence.dues_in(due.year)
    index = dues.index(due)
    previous = dues[index - 1] if index else cadence.dues_in(due.year - 1)[-1]
    return Period(start=previous + dt.timedelta(days=1), end=due, due=due, index=index + 1,
                  per_year=len(dues), rule=cadence.rule)


def next_due(cadence: Cadence, today: dt.date) -> Period:
    """The report due next: the first deadline on or after ``today``."""
    for year in (today.year, today.year + 1):
        for due in cadence.dues_in(year):
            if due >= today:
                return _period(cadence, due)
    raise AssertionError("a cadence has a deadline every year")  # pragma: no cover


def previous_period(cadence: Cadence, period: Period) -> Period:
    """The report before ``period`` (the one whose deadline has passed)."""
    return period_ending_before(cadence, period.start)


def period_ending_before(cadence: Cadence, day: dt.date) -> Period:
    """The last report whose deadline is before ``day``."""
    for year in (day.year, day.year - 1):
        for due in reversed(cadence.dues_in(year)):
            if due < day:
                return _period(cadence, due)
    raise AssertionError("a cadence has a deadline every year")  # pragma: no cover
