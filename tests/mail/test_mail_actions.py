"""The mail plane's writes: NB-7.2a sign-in results and NB-7.2b suspensions."""

from __future__ import annotations

import pytest

from congvu.accounts.actions import do_delete, do_restore, do_suspend
from congvu.accounts.models import Account, AccountState
from congvu.audit.models import AuditEvent
from congvu.mail.actions import (
    do_record_auth_failure,
    do_record_auth_success,
    do_suspend_for_sending,
)
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db


def _nb_account() -> Account:
    p = profile("ninh-binh")
    agency(p, "skhcn", "Sở Khoa học và Công nghệ")
    acct, _otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    return acct


def _fail(acct: Account | str, n: int, name: str = "ninh-binh") -> list[bool]:
    address = acct if isinstance(acct, str) else acct.address
    return [do_record_auth_failure(profile=profile(name), address=address,
                                   now=at("2026-02-01T09:00"), remote="203.0.113.9",
                                   protocol="imap") for _ in range(n)]


def test_nb_7_2a_the_13th_consecutive_failure_suspends_and_is_audited() -> None:
    acct = _nb_account()
    results = _fail(acct, 13)
    assert results == [False] * 12 + [True]
    acct.refresh_from_db()
    assert (acct.state, acct.reason, acct.failed_logins) == (AccountState.SUSPENDED, "NB-7.2a", 13)
    assert "12" in acct.reason_text and "13" in acct.reason_text
    assert "203.0.113.9" in acct.reason_text
    assert acct.receives_mail  # NB-7.1: a suspended mailbox still receives
    event = AuditEvent.objects.filter(action="account.suspend", target=acct.address).get()
    assert (event.actor, event.rule) == ("system:auth-policy", "NB-7.2a")
    assert event.data == {"from": "active", "to": "suspended"}


def test_nb_7_2a_twelve_failures_do_not_suspend() -> None:
    acct = _nb_account()
    assert not any(_fail(acct, 12))
    acct.refresh_from_db()
    assert (acct.state, acct.failed_logins) == (AccountState.ACTIVE, 12)


def test_nb_7_2a_further_failures_after_suspension_suspend_nothing_again() -> None:
    acct = _nb_account()
    _fail(acct, 13)
    assert not any(_fail(acct, 5))
    assert AuditEvent.objects.filter(action="account.suspend", target=acct.address).count() == 1


def test_nb_7_2a_success_resets_the_count_and_records_the_sign_in() -> None:
    acct = _nb_account()
    _fail(acct, 12)
    assert do_record_auth_success(address=acct.address.upper(), now=at("2026-02-01T10:00"))
    acct.refresh_from_db()
    assert acct.failed_logins == 0
    assert acct.last_login == at("2026-02-01T10:00")
    assert acct.last_activity_at == at("2026-02-01T10:00")
    assert not any(_fail(acct, 12))
    acct.refresh_from_db()
    assert acct.state == AccountState.ACTIVE


def test_nb_7_2a_success_of_a_suspended_account_is_not_a_sign_in() -> None:
    acct = _nb_account()
    do_suspend(actor=OPERATOR, profile=profile("ninh-binh"), account=acct,
               now=at("2026-01-20"), rule="NB-7.2c", reason="virus")
    assert not do_record_auth_success(address=acct.address, now=at("2026-02-01T10:00"))
    acct.refresh_from_db()
    assert acct.last_login is None


def test_nb_7_3_restore_after_nb_7_2a_resets_the_count() -> None:
    acct = _nb_account()
    _fail(acct, 13)
    do_restore(actor=OPERATOR, profile=profile("ninh-binh"), account=acct, now=at("2026-02-02"))
    acct.refresh_from_db()
    assert (acct.state, acct.failed_logins) == (AccountState.ACTIVE, 0)


def test_nb_7_2a_not_regulated_where_the_limit_is_0() -> None:
    p = profile("khanh-hoa")
    agency(p, "stttt", "Sở Thông tin và Truyền thông")
    acct, _otp = account(p, "stttt", "Nguyễn Văn An", at("2026-01-15T09:00"))
    assert not any(_fail(acct, 40, "khanh-hoa"))
    acct.refresh_from_db()
    assert (acct.state, acct.failed_logins) == (AccountState.ACTIVE, 40)


def test_nb_7_2a_unknown_and_deleted_addresses_are_harmless() -> None:
    assert _fail("nobody@ninhbinh.gov.vn", 20) == [False] * 20
    assert not do_record_auth_success(address="nobody@ninhbinh.gov.vn", now=at("2026-02-01"))
    assert not do_suspend_for_sending(profile=profile("ninh-binh"),
                                      address="nobody@ninhbinh.gov.vn",
                                      now=at("2026-02-01"), count=251)
    acct = _nb_account()
    do_delete(actor=OPERATOR, profile=profile("ninh-binh"), account=acct, now=at("2026-01-20"),
              rule="NB-10.1e", reason="emergency")
    assert _fail(acct, 20) == [False] * 20
    acct.refresh_from_db()
    assert (acct.state, acct.failed_logins) == (AccountState.DELETED, 0)


def test_nb_7_2b_suspend_for_sending_cites_the_rule_count_and_window() -> None:
    acct = _nb_account()
    p = profile("ninh-binh")
    assert do_suspend_for_sending(profile=p, address=acct.address, now=at("2026-02-01T09:00"),
                                  count=251)
    acct.refresh_from_db()
    assert (acct.state, acct.reason) == (AccountState.SUSPENDED, "NB-7.2b")
    assert "251" in acct.reason_text and "10" in acct.reason_text
    assert "ninhbinh.gov.vn" in acct.reason_text
    event = AuditEvent.objects.filter(action="account.suspend", target=acct.address).get()
    assert (event.actor, event.rule) == ("system:policy", "NB-7.2b")
    # Once only: a second call finds it suspended already.
    assert not do_suspend_for_sending(profile=p, address=acct.address,
                                      now=at("2026-02-01T09:01"), count=252)
    assert AuditEvent.objects.filter(action="account.suspend", target=acct.address).count() == 1


def test_repeated_sign_ins_within_5_minutes_are_written_once() -> None:
    acct = _nb_account()
    assert do_record_auth_success(address=acct.address, now=at("2026-02-01T10:00"))
    assert do_record_auth_success(address=acct.address, now=at("2026-02-01T10:04"))
    acct.refresh_from_db()
    assert acct.last_login == at("2026-02-01T10:00")
    _fail(acct, 1)
    # A failure since the last recorded sign-in: written at once, count reset (NB-7.2a).
    assert do_record_auth_success(address=acct.address, now=at("2026-02-01T10:04:30"))
    acct.refresh_from_db()
    assert (acct.last_login, acct.failed_logins) == (at("2026-02-01T10:04:30"), 0)
    assert do_record_auth_success(address=acct.address, now=at("2026-02-01T10:10"))
    acct.refresh_from_db()
    assert acct.last_login == at("2026-02-01T10:10")
