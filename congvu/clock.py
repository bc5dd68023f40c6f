"""Time at the edges: parsing ``--now``/dates typed by operators, formatting for output.

Below the edge every rule takes ``now`` as an argument; nothing else calls the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from congvu.errors import CongvuError

_MOMENT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$")


def now() -> dt.datetime:
    """The real current time (only the CLI and web edges call this)."""
    return timezone.now()


def parse_date(text: str, *, option: str = "date") -> dt.date:
    """``YYYY-MM-DD`` or a clear error naming the option and the expected format."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CongvuError(
            _("Invalid %(option)s %(value)r: expected a date as YYYY-MM-DD.")
            % {"option": option, "value": text}
        ) from None


def parse_moment(text: str, tz: str, *, option: str = "--now") -> dt.datetime:
    """``YYYY-MM-DD[THH:MM[:SS]]`` in the profile's time zone, as an aware datetime."""
    value = text.strip()
    try:
        if not _MOMENT_RE.match(value):
            raise ValueError
        parsed = dt.datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise CongvuError(
            _("Invalid %(option)s %(value)r: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
            % {"option": option, "value": text}
        ) from None
    return parsed.replace(tzinfo=ZoneInfo(tz))


def start_of_day(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=ZoneInfo(tz))


def iso(moment: dt.datetime | None, tz: str = "Asia/Ho_Chi_Minh") -> str | None:
    """ISO 8601 in local time with its offset, or None."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")
