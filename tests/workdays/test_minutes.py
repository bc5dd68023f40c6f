"""Minutes of working time (NT-6.3b) and office hours."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from congvu.errors import CongvuError
from congvu.workdays import WorkCalendar

from . import shipped


def add(start: datetime, n: int = 30) -> datetime:
    return shipped("ninh-thuan").add_working_minutes(start, n)


def test_nt_6_3b_thirty_working_minutes_cross_lunch() -> None:
    assert add(datetime(2026, 3, 2, 11, 20)) == datetime(2026, 3, 2, 13, 50)


def test_nt_6_3b_thirty_working_minutes_inside_a_period() -> None:
    assert add(datetime(2026, 3, 2, 9, 0)) == datetime(2026, 3, 2, 9, 30)


def test_nt_6_3b_deadline_at_the_end_of_a_period_is_that_end() -> None:
    assert add(datetime(2026, 3, 2, 11, 0)) == datetime(2026, 3, 2, 11, 30)
    assert add(datetime(2026, 3, 2, 16, 30)) == datetime(2026, 3, 2, 17, 0)


def test_nt_6_3b_start_at_11_30_exactly_counts_from_13_30() -> None:
    assert add(datetime(2026, 3, 2, 11, 30)) == datetime(2026, 3, 2, 14, 0)


def test_nt_6_3b_start_at_06_00_counts_from_07_30() -> None:
    assert add(datetime(2026, 3, 2, 6, 0)) == datetime(2026, 3, 2, 8, 0)


def test_nt_6_3b_start_at_17_10_friday_before_a_holiday_weekend() -> None:
    # Monday 27/4/2026 is the observed Hùng Kings' day.
    assert add(datetime(2026, 4, 24, 17, 10)) == datetime(2026, 4, 28, 8, 0)
    # Friday 13/2/2026, then Tết until Sunday 22/2.
    assert add(datetime(2026, 2, 13, 17, 10)) == datetime(2026, 2, 23, 8, 0)


def test_nt_6_3b_start_on_a_holiday() -> None:
    assert add(datetime(2026, 9, 2, 10, 0)) == datetime(2026, 9, 3, 8, 0)


def test_nt_6_3b_minutes_carry_over_to_the_next_working_day() -> None:
    assert add(datetime(2026, 3, 6, 16, 50)) == datetime(2026, 3, 9, 7, 50)  # Fri -> Mon
    # A whole office day is 450 minutes.
    assert add(datetime(2026, 3, 2, 7, 30), 450) == datetime(2026, 3, 2, 17, 0)
    assert add(datetime(2026, 3, 2, 7, 30), 451) == datetime(2026, 3, 3, 7, 31)


def test_nt_6_3b_make_up_saturday_has_office_hours() -> None:
    assert add(datetime(2025, 4, 25, 17, 0)) == datetime(2025, 4, 26, 8, 0)


def test_zero_minutes_returns_the_start_and_negative_is_an_error() -> None:
    assert add(datetime(2026, 3, 7, 3, 0), 0) == datetime(2026, 3, 7, 3, 0)
    with pytest.raises(CongvuError):
        add(datetime(2026, 3, 2, 9, 0), -5)


def test_aware_start_is_counted_in_the_profile_time_zone() -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    start = datetime(2026, 3, 2, 4, 20, tzinfo=UTC)  # 11:20 in Vietnam
    result = add(start)
    assert result == datetime(2026, 3, 2, 13, 50, tzinfo=zone)
    assert result.utcoffset() == zone.utcoffset(datetime(2026, 3, 2))


def test_seconds_in_the_start_are_kept() -> None:
    assert add(datetime(2026, 3, 2, 11, 20, 30)) == datetime(2026, 3, 2, 13, 50, 30)


def test_office_hours_come_from_the_profile_setting() -> None:
    cal = WorkCalendar(office_hours=((time(8), time(12)), (time(13), time(17))))
    assert cal.add_working_minutes(datetime(2026, 3, 2, 11, 50), 30) == datetime(
        2026, 3, 2, 13, 20)


def test_is_office_time() -> None:
    cal = shipped("ninh-thuan")
    assert cal.is_office_time(datetime(2026, 3, 2, 7, 30))
    assert cal.is_office_time(datetime(2026, 3, 2, 11, 29))
    assert not cal.is_office_time(datetime(2026, 3, 2, 11, 30))
    assert not cal.is_office_time(datetime(2026, 3, 2, 12, 0))
    assert not cal.is_office_time(datetime(2026, 3, 2, 17, 0))
    assert not cal.is_office_time(datetime(2026, 3, 7, 9, 0))  # Saturday
    assert cal.is_office_time(datetime(2025, 4, 26, 9, 0))  # make-up Saturday
    assert not cal.is_office_time(datetime(2026, 2, 17, 9, 0))  # Tết


def test_bad_office_hours_are_a_clear_error() -> None:
    with pytest.raises(CongvuError):
        WorkCalendar(office_hours=())
    with pytest.raises(CongvuError):
        WorkCalendar(office_hours=((time(8), time(12)), (time(11), time(17))))
    with pytest.raises(CongvuError):
        WorkCalendar(office_hours=((time(12), time(8)),))
