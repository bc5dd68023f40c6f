"""Mailbox checks (NB-9.2, KH-10): IMAP/POP3 sign-ins reported by Dovecot are counted
per account and local day, reconnections within the profile's window count once."""

from __future__ import annotations

import dataclasses

import pytest

from congvu.accounts.actions import do_suspend
from congvu.accounts.models import Account, MailboxCheck
from congvu.mail.actions import do_record_auth_success
from congvu.mail.authpolicy import AuthPolicyService
from congvu.mail.checks import CheckRule, check_rules, is_new_check, same_check_within
from congvu.profiles import build_profile, merge, raw_profile
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency
from tests.mail import FakeClock, drive, sync_db

NB = profile("ninh-binh")
KH = profile("khanh-hoa")


def _account() -> Account:
    agency(NB, "skhcn", "Sở Khoa học và Công nghệ")
    acct, _otp = account(NB, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    return acct


def _days(acct: Account) -> dict[str, int]:
    return {c.day.isoformat(): c.count for c in MailboxCheck.objects.filter(account=acct)}


def _sign_in(acct: Account, when: str, protocol: str = "imap") -> bool:
    return do_record_auth_success(address=acct.address, now=at(when), protocol=protocol,
                                  profile=NB)


def test_the_rules_and_their_ids_come_from_the_profile() -> None:
    assert check_rules(NB) == {"agency": CheckRule(2, "NB-9.2"),
                               "personal": CheckRule(0, "")}
    assert check_rules(KH) == {"agency": CheckRule(3, "KH-10.1"),
                               "personal": CheckRule(2, "KH-10.2")}
    qn = check_rules(profile("quang-nam"))
    assert not qn["agency"].regulated and not qn["personal"].regulated
    # A deployment's own minimum without a rule is still cited, by its setting.
    own = build_profile(merge(raw_profile("quang-nam"), {
        "checks": {"agency_per_working_day": 1, "same_check_minutes": 10}}))
    assert check_rules(own)["agency"] == CheckRule(1, "QN:checks.agency_per_working_day")
    assert same_check_within(own).total_seconds() == 600
    assert same_check_within(NB).total_seconds() == 30 * 60


def test_is_new_check_reading_window_and_local_day() -> None:
    assert is_new_check(NB, None, at("2026-02-02T09:00"))
    assert not is_new_check(NB, at("2026-02-02T09:00"), at("2026-02-02T09:29"))
    assert is_new_check(NB, at("2026-02-02T09:00"), at("2026-02-02T09:30"))
    # Midnight in Vietnam starts a new day even within the window.
    assert is_new_check(NB, at("2026-02-02T23:50"), at("2026-02-03T00:05"))
    # A clock that went backwards is a new check rather than a lost one.
    assert is_new_check(NB, at("2026-02-02T09:00"), at("2026-02-02T08:59"))


@pytest.mark.django_db
def test_nb_9_2_imap_sign_ins_are_counted_per_day_reconnections_once() -> None:
    acct = _account()
    for when in ("2026-02-02T07:45", "2026-02-02T07:46", "2026-02-02T08:10",  # one check
                 "2026-02-02T13:40", "2026-02-02T13:45",  # the afternoon's
                 "2026-02-03T08:00"):
        assert _sign_in(acct, when)
    assert _days(acct) == {"2026-02-02": 2, "2026-02-03": 1}
    row = MailboxCheck.objects.get(account=acct, day="2026-02-02")
    assert (row.first_at, row.last_at) == (at("2026-02-02T07:45"), at("2026-02-02T13:40"))
    acct.refresh_from_db()
    assert acct.last_mailbox_check == at("2026-02-03T08:00")


@pytest.mark.django_db
def test_pop3_and_webmail_count_submission_and_the_sso_page_do_not() -> None:
    acct = _account()
    assert _sign_in(acct, "2026-02-02T08:00", "smtp")
    assert _sign_in(acct, "2026-02-02T09:00", "submission")
    assert do_record_auth_success(address=acct.address, now=at("2026-02-02T10:00"))  # SSO
    assert _days(acct) == {}
    acct.refresh_from_db()
    assert acct.last_login == at("2026-02-02T10:00")  # the sign-ins are still recorded
    # The SSO sign-in a moment earlier does not swallow webmail's IMAP sign-in.
    assert _sign_in(acct, "2026-02-02T10:01", "IMAP")
    assert _sign_in(acct, "2026-02-02T11:00", "pop3")
    assert _days(acct) == {"2026-02-02": 2}


@pytest.mark.django_db
def test_accounts_that_cannot_sign_in_and_unknown_addresses_count_nothing() -> None:
    acct = _account()
    do_suspend(actor=OPERATOR, profile=NB, account=acct, now=at("2026-02-01T08:00"),
               rule="NB-7.2c", reason="Lộ mật khẩu")
    assert not _sign_in(acct, "2026-02-02T08:00")
    assert not do_record_auth_success(address="nobody@ninhbinh.gov.vn",
                                      now=at("2026-02-02T08:00"), protocol="imap", profile=NB)
    assert MailboxCheck.objects.count() == 0


@pytest.mark.django_db
def test_the_auth_policy_endpoint_counts_imap_sign_ins() -> None:
    acct = _account()
    clock = FakeClock(at("2026-02-02T09:00"))
    svc = AuthPolicyService(profile_loader=lambda: NB, now=clock, run_db=sync_db)
    report = {"login": acct.address, "remote": "203.0.113.9", "success": True,
              "policy_reject": False, "session_id": "x", "tls": False}

    async def go() -> None:
        await svc.handle("report", {**report, "protocol": "imap"})
        await svc.handle("report", {**report, "protocol": "smtp"})
        clock.advance(seconds=3600)
        await svc.handle("report", {**report, "protocol": "imap", "mech": "XOAUTH2"})

    drive(go)
    assert _days(acct) == {"2026-02-02": 2}


@pytest.mark.django_db
def test_a_profile_window_setting_changes_what_counts_once() -> None:
    acct = _account()
    short = dataclasses.replace(NB, checks={**NB.checks, "same_check_minutes": 5})
    for when in ("2026-02-02T08:00", "2026-02-02T08:06", "2026-02-02T08:12"):
        do_record_auth_success(address=acct.address, now=at(when), protocol="imap",
                               profile=short)
    assert _days(acct) == {"2026-02-02": 3}
