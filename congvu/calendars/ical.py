"""iCalendar (RFC 5545) output, written by hand (no package in the lock): TEXT escaping
(§3.3.11), content lines folded at 75 octets without splitting a UTF-8 character
(§3.1), CRLF line ends, UID, DTSTAMP in UTC, local times with TZID and a VTIMEZONE when
the zone has a fixed offset (Asia/Ho_Chi_Minh: no daylight saving), else UTC. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PRODID = "-//congvu//eOffice work calendar//VI"
_LIMIT = 75


@dataclass(frozen=True)
class IcsEvent:
    uid: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    summary: str
    location: str = ""
    description: str = ""
    categories: str = ""
    sequence: int = 0
    created: dt.datetime | None = None
    last_modified: dt.datetime | None = None


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded into lines of at most 75 octets (the continuation's
    leading space counts), cut only between characters."""
    out: list[str] = []
    current, size, limit = "", 0, _LIMIT
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = "", 0, _LIMIT - 1
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _offset(delta: dt.timedelta | None) -> str:
    minutes = int((delta or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def fixed_offset(tz: str, year: int) -> dt.timedelta | None:
    """The zone's offset when it is the same all year (then a one-line VTIMEZONE is
    exact), else None (times are written in UTC instead)."""
    zone = ZoneInfo(tz)
    offsets = {dt.datetime(year, month, 1, 12, tzinfo=zone).utcoffset() for month in range(1, 13)}
    return offsets.pop() if len(offsets) == 1 else None


def _vtimezone(tz: str, offset: dt.timedelta) -> list[str]:
    name = dt.datetime(2000, 1, 1, tzinfo=ZoneInfo(tz)).tzname() or tz
    value = _offset(offset)
    return ["BEGIN:VTIMEZONE", f"TZID:{tz}", "BEGIN:STANDARD", "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{value}", f"TZOFFSETTO:{value}", f"TZNAME:{escape_text(name)}",
            "END:STANDARD", "END:VTIMEZONE"]


def _moment(name: str, moment: dt.datetime, tz: str, local: bool) -> str:
    if local:
        return f"{name};TZID={tz}:{moment.astimezone(ZoneInfo(tz)).strftime('%Y%m%dT%H%M%S')}"
    return f"{name}:{_utc(moment)}"


def _event_lines(event: IcsEvent, tz: str, local: bool, stamp: dt.datetime) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{escape_text(event.uid)}", f"DTSTAMP:{_utc(stamp)}"]
    if event.all_day:
        zone = ZoneInfo(tz)
        first = event.start.astimezone(zone).date()
        after = event.end.astimezone(zone).date()
        if after <= first:
            after = first + dt.timedelta(days=1)
        lines += [f"DTSTART;VALUE=DATE:{first:%Y%m%d}", f"DTEND;VALUE=DATE:{after:%Y%m%d}"]
    else:
        lines += [_moment("DTSTART", event.start, tz, local),
                  _moment("DTEND", event.end, tz, local)]
    lines.append(f"SUMMARY:{escape_text(event.summary)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.categories:
        lines.append(f"CATEGORIES:{escape_text(event.categories)}")
    lines.append(f"SEQUENCE:{event.sequence}")
    if event.created is not None:
        lines.append(f"CREATED:{_utc(event.created)}")
    if event.last_modified is not None:
        lines.append(f"LAST-MODIFIED:{_utc(event.last_modified)}")
    lines += ["TRANSP:OPAQUE", "END:VEVENT"]
    return lines


def render(events: Iterable[IcsEvent], *, name: str, tz: str, now: dt.datetime) -> str:
    """A VCALENDAR of ``events`` (``DTSTAMP`` = ``now``), CRLF-terminated lines."""
    offset = fixed_offset(tz, now.year)
    local = offset is not None
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text(name)}", f"X-WR-TIMEZONE:{tz}"]
    if offset is not None:
        lines += _vtimezone(tz, offset)
    for event in events:
        lines += _event_lines(event, tz, local, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
