"""Profile SLAs as deadlines, and the CLI's start parser."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from congvu.errors import CongvuError
from congvu.profiles import Duration, load_profile
from congvu.workdays import deadline, parse_start

from . import shipped


def test_nb_6_2b_three_working_days_end_at_the_close_of_the_third_day() -> None:
    span = load_profile("ninh-binh").sla["new_mailbox"]
    # Received Wednesday 30/12/2026: 31/12, (1/1 holiday, weekend) 4/1, 5/1.
    assert deadline(shipped(), datetime(2026, 12, 30, 9, 0), span) == datetime(
        2027, 1, 5, 17, 0)


def test_nb_6_2b_time_of_receipt_does_not_matter_within_the_day() -> None:
    span = Duration(3, "days", working=True)
    early = deadline(shipped(), datetime(2026, 3, 2, 6, 0), span)
    late = deadline(shipped(), datetime(2026, 3, 2, 23, 0), span)
    assert early == late == datetime(2026, 3, 5, 17, 0)


def test_nb_7_3b_restore_received_on_a_saturday() -> None:
    span = load_profile("ninh-binh").sla["restore"]
    assert deadline(shipped(), datetime(2026, 3, 7, 10, 0), span) == datetime(
        2026, 3, 11, 17, 0)


def test_qn_5_2_five_working_days_over_tet_2026() -> None:
    span = load_profile("quang-nam").sla["new_mailbox"]
    cal = shipped("quang-nam")
    # Received Thursday 12/2: 13/2, (Tết 14–22/2) 23/2, 24/2, 25/2, 26/2.
    assert deadline(cal, datetime(2026, 2, 12, 10, 0), span) == datetime(2026, 2, 26, 17, 0)


def test_nt_6_3b_thirty_working_minutes_deadline_via_the_profile() -> None:
    span = load_profile("ninh-thuan").sla["restore"]
    cal = shipped("ninh-thuan")
    assert deadline(cal, datetime(2026, 3, 2, 11, 20), span) == datetime(2026, 3, 2, 13, 50)


def test_working_days_deadline_keeps_an_aware_start_aware() -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    start = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)  # Monday 2/3 01:00 in Vietnam
    result = deadline(shipped(), start, Duration(1, "days", working=True))
    assert result == datetime(2026, 3, 3, 17, 0, tzinfo=zone)


def test_non_working_spans_use_calendar_arithmetic() -> None:
    start = datetime(2026, 1, 31, 9, 0)
    assert deadline(shipped(), start, Duration(1, "months")) == datetime(2026, 2, 28, 9, 0)
    assert deadline(shipped(), start, Duration(3, "days")) == datetime(2026, 2, 3, 9, 0)


def test_working_months_are_refused() -> None:
    with pytest.raises(CongvuError):
        deadline(shipped(), datetime(2026, 3, 2), Duration(1, "months", working=True))


def test_parse_start_accepts_a_date_or_a_date_and_time() -> None:
    assert parse_start("2026-12-31") == date(2026, 12, 31)
    assert not isinstance(parse_start("2026-12-31"), datetime)
    assert parse_start(" 2026-12-31T14:30 ") == datetime(2026, 12, 31, 14, 30)


@pytest.mark.parametrize("text", [
    "2026-13-01", "31/12/2026", "2026-12-31T25:00", "2026-02-30", "", "tomorrow",
    "2026-12-31 14:30", "2026-12-31T14:30:00", "2026-1-5", "2026-12-31T14:30+07:00",
])
def test_parse_start_rejects_other_forms_naming_the_expected_format(text: str) -> None:
    with pytest.raises(CongvuError) as info:
        parse_start(text)
    assert "YYYY-MM-DD" in info.value.message
    assert "YYYY-MM-DDTHH:MM" in info.value.message
