"""The usage report's cadence from the profile (pure): NB-11.7 yearly before 15 December,
QN-13.6 every 6 months, KH-11.7 yearly; GL and NT set none."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.errors import CongvuError
from congvu.profiles import build_profile, merge, raw_profile
from congvu.reports.cadence import cadence_of, next_due, previous_period
from tests.conftest import profile

D = dt.date


def test_nb_11_7_yearly_before_15_december() -> None:
    cadence = cadence_of(profile("ninh-binh"))
    assert cadence is not None and cadence.rule == "NB-11.7"
    period = next_due(cadence, D(2026, 11, 30))
    assert (period.start, period.end, period.due) == (D(2025, 12, 16), D(2026, 12, 15),
                                                      D(2026, 12, 15))
    assert period.title() == "Báo cáo năm 2026" and period.days_left(D(2026, 11, 30)) == 15
    assert next_due(cadence, D(2026, 12, 15)).due == D(2026, 12, 15)  # due today
    after = next_due(cadence, D(2026, 12, 16))
    assert (after.start, after.due) == (D(2026, 12, 16), D(2027, 12, 15))
    assert previous_period(cadence, after).due == D(2026, 12, 15)


def test_qn_13_6_every_six_months_in_halves_of_the_year() -> None:
    cadence = cadence_of(profile("quang-nam"))
    assert cadence is not None and cadence.rule == "QN-13.6"
    first = next_due(cadence, D(2026, 3, 10))
    assert (first.start, first.end) == (D(2026, 1, 1), D(2026, 6, 30))
    assert first.title() == "Báo cáo 6 tháng đầu năm 2026"
    second = next_due(cadence, D(2026, 7, 1))
    assert (second.start, second.end) == (D(2026, 7, 1), D(2026, 12, 31))
    assert second.title() == "Báo cáo 6 tháng cuối năm 2026"
    assert previous_period(cadence, first).start == D(2025, 7, 1)


def test_kh_11_7_yearly_covers_the_calendar_year() -> None:
    cadence = cadence_of(profile("khanh-hoa"))
    assert cadence is not None and cadence.rule == "KH-11.7"
    period = next_due(cadence, D(2026, 2, 1))
    assert (period.start, period.end) == (D(2026, 1, 1), D(2026, 12, 31))


@pytest.mark.parametrize("name", ["gia-lai", "ninh-thuan"])
def test_profiles_without_a_periodic_report(name: str) -> None:
    assert cadence_of(profile(name)) is None


def _with(usage: str, rule: str = "") -> object:
    return build_profile(merge(raw_profile("quang-nam"),
                               {"report": {"usage": usage, "usage_rule": rule}}))


def test_a_deployment_may_set_its_own_cadence_quarterly_before_a_day() -> None:
    cadence = cadence_of(_with("every 3 months before 03-15", "X-1"))  # type: ignore[arg-type]
    assert cadence is not None
    assert cadence.dues_in(2026) == [D(2026, 3, 15), D(2026, 6, 15), D(2026, 9, 15),
                                     D(2026, 12, 15)]
    period = next_due(cadence, D(2026, 4, 1))
    assert (period.start, period.end) == (D(2026, 3, 16), D(2026, 6, 15))
    assert period.title() == "Báo cáo quý 2 năm 2026"


def test_month_ends_are_clamped() -> None:
    cadence = cadence_of(_with("every 2 months"))  # type: ignore[arg-type]
    assert cadence is not None and cadence.rule == "QN:report"
    assert cadence.dues_in(2028)[0] == D(2028, 2, 29)


@pytest.mark.parametrize("text", ["weekly", "every 5 months", "yearly before 02-30",
                                  "every 0 months"])
def test_a_cadence_that_is_not_understood_is_a_clear_error(text: str) -> None:
    with pytest.raises(CongvuError, match="hồ sơ của tỉnh"):
        cadence_of(_with(text))  # type: ignore[arg-type]
