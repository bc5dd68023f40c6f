"""The spec's profile table (section 1) comes from the profile files, and deployments may
override any value."""

from __future__ import annotations

import pytest

from congvu.errors import CongvuError
from congvu.profiles import (
    Duration,
    available_profiles,
    build_profile,
    load_profile,
    merge,
    raw_profile,
)
from tests.conftest import PROFILES


def test_five_profiles_ship() -> None:
    assert available_profiles() == sorted(PROFILES)


@pytest.mark.parametrize(("name", "domain", "min_len", "max_msg", "quota_personal"), [
    ("ninh-binh", "ninhbinh.gov.vn", 9, 30, 2048),     # NB-8.2b, NB-8.1b
    ("khanh-hoa", "khanhhoa.gov.vn", 8, 10, 100),      # KH-9.1, KH-9.2
    ("quang-nam", "quangnam.gov.vn", 8, 20, 5120),     # QN-8.1, QN-9
    ("ninh-thuan", "ninhthuan.gov.vn", 8, 25, 1024),   # NT-7
    ("gia-lai", "gialai.gov.vn", 8, 25, 1024),
])
def test_profile_table_numbers(name: str, domain: str, min_len: int, max_msg: int,
                               quota_personal: int) -> None:
    p = load_profile(name)
    assert (p.mail.domain, p.password.min_length, p.mail.max_message_mb,
            p.mail.quota_personal_mb) == (domain, min_len, max_msg, quota_personal)


def test_nb_7_2_suspension_triggers() -> None:
    life = load_profile("ninh-binh").lifecycle
    assert life.failed_login_limit == 12                                  # NB-7.2a
    assert load_profile("ninh-binh").mail.external_limit == 250           # NB-7.2b
    assert load_profile("ninh-binh").mail.external_window_minutes == 10
    assert life.default_password_suspend_after == Duration(1, "months")  # NB-7.2đ
    assert load_profile("ninh-binh").password.max_age == Duration(6, "months")  # NB-8.2a


def test_inactivity_and_leaving_rules() -> None:
    assert load_profile("quang-nam").lifecycle.inactivity_login_after == Duration(3, "months")
    nt = load_profile("ninh-thuan").lifecycle
    assert nt.inactivity_activity_after == Duration(6, "months")          # NT-6.2a
    assert (nt.leave.lock_after, nt.leave.delete_after) == (Duration(0, "days"),
                                                            Duration(6, "months"))
    assert (nt.leave.senior_lock_after, nt.leave.senior_delete_after) == (
        Duration(1, "months"), Duration(12, "months"))                     # NT-5.2c
    assert load_profile("ninh-binh").lifecycle.leave.delete_after == Duration(3, "months")


def test_slas_are_working_spans() -> None:
    assert load_profile("ninh-binh").sla["new_mailbox"] == Duration(3, "days", working=True)
    assert load_profile("quang-nam").sla["new_mailbox"] == Duration(5, "days", working=True)
    assert load_profile("ninh-thuan").sla["restore"] == Duration(30, "minutes", working=True)
    assert load_profile("quang-nam").sla["password_reset"] == Duration(2, "days", working=True)


@pytest.mark.parametrize("name", PROFILES)
def test_every_sla_cites_its_rule_of_the_same_province(name: str) -> None:
    """A deadline is shown with the rule that sets it (NB-6.2b, QN-5.2, NT-6.3b, ...)."""
    profile = load_profile(name)
    assert set(profile.sla_rules) == set(profile.sla)
    assert all(rule.startswith(profile.rule_prefix + "-") for rule in profile.sla_rules.values())


def test_override_any_value() -> None:
    p = build_profile(merge(raw_profile("ninh-binh"), {
        "password": {"min_length": 12}, "mail": {"external_limit": 100},
        "lifecycle": {"leave": {"delete_after": "6 months"}}}))
    assert (p.password.min_length, p.mail.external_limit) == (12, 100)
    assert p.lifecycle.leave.delete_after == Duration(6, "months")
    assert p.lifecycle.leave.lock_after == Duration(0, "days")  # untouched values stay


def test_unknown_profile_and_bad_overrides_are_clear_errors() -> None:
    with pytest.raises(CongvuError, match="ninh-binh"):
        load_profile("ha-noi")
    with pytest.raises(CongvuError, match="min_lenght"):
        build_profile(merge(raw_profile("ninh-binh"), {"password": {"min_lenght": 12}}))
    with pytest.raises(CongvuError, match="fortnight"):
        build_profile(merge(raw_profile("ninh-binh"), {"password": {"max_age": "1 fortnight"}}))


def test_months_clamp_to_the_end_of_the_month() -> None:
    import datetime as dt

    jan31 = dt.datetime(2026, 1, 31, 9, 0)
    assert Duration(1, "months").after(jan31) == dt.datetime(2026, 2, 28, 9, 0)
    assert Duration(1, "months").before(dt.datetime(2026, 3, 31)) == dt.datetime(2026, 2, 28)
