"""The monitoring period (NB-9.2, KH-10): working days only, today still going on."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.errors import CongvuError
from congvu.mail.monitoring import MAX_PERIOD_DAYS, default_period, period
from congvu.workdays import WorkCalendar

CAL = WorkCalendar()


def test_the_default_period_is_the_last_five_working_days_up_to_today() -> None:
    per = default_period(CAL, dt.date(2026, 3, 11))  # a Wednesday
    assert [d.isoformat() for d in per.days] == [
        "2026-03-05", "2026-03-06", "2026-03-09", "2026-03-10", "2026-03-11"]
    assert per.finished == per.days[:4]
    # On a Sunday the period ends on Friday; none of it is still going on.
    sunday = default_period(CAL, dt.date(2026, 3, 15))
    assert sunday.days[-1] == dt.date(2026, 3, 13) and sunday.finished == sunday.days


def test_public_holidays_are_not_working_days() -> None:
    # 30 April and 1 May 2026 are days off in Vietnam.
    per = period(CAL, dt.date(2026, 4, 27), dt.date(2026, 5, 4), dt.date(2026, 5, 20))
    assert dt.date(2026, 4, 30) not in per.days and dt.date(2026, 5, 1) not in per.days
    assert dt.date(2026, 4, 29) in per.days


@pytest.mark.parametrize(("start", "end", "words"), [
    (dt.date(2026, 3, 10), dt.date(2026, 3, 5), "before the first day"),
    (dt.date(2026, 3, 10), dt.date(2026, 3, 12), "today at the latest"),
    (dt.date(2026, 1, 1), dt.date(2026, 3, 10), f"longer than {MAX_PERIOD_DAYS} days"),
])
def test_a_wrong_period_is_refused_with_a_reason(start: dt.date, end: dt.date,
                                                 words: str) -> None:
    from django.utils import translation

    with translation.override("en"), pytest.raises(CongvuError, match=words):
        period(CAL, start, end, dt.date(2026, 3, 11))
