"""Working days: Mon–Fri, holidays, Tết, swaps (spec section 1, "Working days")."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from congvu.errors import CongvuError
from congvu.workdays import WorkCalendar, _package_year

from . import shipped


def test_new_year_2027_after_thursday_2026_12_31_is_monday_4_january() -> None:
    # 1/1/2027 is New Year's Day (Friday), 2–3/1 a weekend.
    assert shipped().add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_zero_working_days_returns_the_start_date() -> None:
    assert shipped().add_working_days(date(2026, 12, 31), 0) == date(2026, 12, 31)
    assert shipped().add_working_days(date(2026, 1, 3), 0) == date(2026, 1, 3)


def test_negative_working_days_is_a_clear_error() -> None:
    with pytest.raises(CongvuError):
        shipped().add_working_days(date(2026, 1, 5), -1)


def test_day_of_receipt_is_not_counted_even_on_a_weekend() -> None:
    cal = shipped()
    assert cal.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)  # Mon -> Tue
    assert cal.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # Sat -> Mon


def test_tet_2026_february_16_to_20_are_days_off() -> None:
    cal = shipped()
    for day in range(16, 21):
        assert not cal.is_working_day(date(2026, 2, day))
    assert cal.is_working_day(date(2026, 2, 13))
    assert cal.is_working_day(date(2026, 2, 23))
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert cal.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)


def test_tet_2025_january_27_to_31_are_days_off() -> None:
    cal = shipped()
    for day in range(27, 32):
        assert not cal.is_working_day(date(2025, 1, day))
    assert cal.add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)


def test_make_up_saturday_2025_04_26_counts_and_friday_2025_05_02_does_not() -> None:
    cal = shipped()
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2025, 5, 2))
    assert cal.add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 26)
    assert cal.add_working_days(date(2025, 4, 25), 2) == date(2025, 4, 28)
    # 29/4 counts; 30/4, 1/5, the swapped 2/5 and the weekend do not.
    assert cal.add_working_days(date(2025, 4, 28), 2) == date(2025, 5, 5)


def test_new_year_2026_swap_comes_from_the_shipped_file() -> None:
    # Not in the holidays package: Friday 2/1/2026 off, Saturday 10/1/2026 worked.
    bare = WorkCalendar()
    assert bare.is_working_day(date(2026, 1, 2))
    assert not bare.is_working_day(date(2026, 1, 10))
    cal = shipped()
    assert not cal.is_working_day(date(2026, 1, 2))
    assert cal.is_working_day(date(2026, 1, 10))
    assert cal.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 5)


def test_spans_crossing_years_load_each_year() -> None:
    cal = shipped()
    assert cal.add_working_days(date(2025, 12, 30), 2) == date(2026, 1, 5)
    assert cal.add_working_days(date(2027, 12, 30), 1) == date(2027, 12, 31)
    assert cal.add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 4)  # 3/1 observed


def test_holidays_of_the_package_are_days_off() -> None:
    cal = shipped()
    for day in (date(2025, 9, 1), date(2025, 9, 2), date(2026, 4, 27), date(2026, 9, 2)):
        assert not cal.is_working_day(day)


def test_working_days_between_counts_the_half_open_interval() -> None:
    cal = shipped()
    assert cal.working_days_between(date(2026, 12, 31), date(2027, 1, 4)) == 1
    assert cal.working_days_between(date(2027, 1, 4), date(2026, 12, 31)) == -1
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 27)) == 5
    assert cal.working_days_between(datetime(2026, 3, 2, 9), datetime(2026, 3, 3, 8)) == 1


def test_holiday_lookups_are_cached_per_year() -> None:
    cal = shipped()
    cal.is_working_day(date(2026, 6, 1))
    misses = _package_year.cache_info().misses
    day = date(2026, 1, 1)
    for _ in range(2000):
        cal.is_working_day(day)
        day += timedelta(days=1)
        if day.year > 2026:
            day = date(2026, 1, 1)
    assert _package_year.cache_info().misses == misses
