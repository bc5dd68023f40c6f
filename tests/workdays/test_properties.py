"""Properties of working-day and working-minute arithmetic (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import shipped

STARTS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
FIXTURES = [HealthCheck.function_scoped_fixture]


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURES)
@given(start=STARTS, n=st.integers(min_value=1, max_value=40))
def test_add_working_days_lands_on_the_nth_working_day_after_start(start: date, n: int) -> None:
    cal = shipped()
    result = cal.add_working_days(start, n)
    assert result > start
    assert cal.is_working_day(result)
    counted, day = 0, start + timedelta(days=1)
    while day <= result:
        counted += cal.is_working_day(day)
        day += timedelta(days=1)
    assert counted == n
    assert cal.working_days_between(start, result) == n


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    n=st.integers(min_value=1, max_value=600),
)
def test_add_working_minutes_counts_exactly_n_office_minutes(start: datetime, n: int) -> None:
    cal = shipped("ninh-thuan")
    start = start.replace(second=0, microsecond=0)
    result = cal.add_working_minutes(start, n)
    assert result > start
    assert cal.is_office_time(result - timedelta(minutes=1))
    counted, moment = 0, start
    while moment < result:
        counted += cal.is_office_time(moment)
        moment += timedelta(minutes=1)
    assert counted == n
