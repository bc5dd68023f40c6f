"""The time-based rules of each profile, applied by ``lifecycle.run`` (spec section 3)."""

from __future__ import annotations

import pytest

from congvu.accounts import lifecycle
from congvu.accounts.actions import (
    do_change_password,
    do_delete,
    do_leave,
    do_record_login,
    do_restore,
    do_suspend,
)
from congvu.accounts.models import Account, AccountState, ReservedName
from congvu.audit.models import AuditEvent
from congvu.errors import Forbidden
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Rv7&kLm2Qz!x"


def _run(p, when):
    return {(r.rule, r.action): r.addresses for r in lifecycle.run(profile=p, now=at(when))
            if r.addresses}


def _state(acct: Account) -> tuple[str, str]:
    acct.refresh_from_db()
    return acct.state, acct.reason


def test_nb_7_2đ_default_password_unchanged_one_month_suspends() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn", "Sở Khoa học và Công nghệ")
    acct, _otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    assert _run(p, "2026-02-15T08:59") == {}
    assert _state(acct) == (AccountState.ACTIVE, "")
    changed = _run(p, "2026-02-15T09:00")
    assert changed == {("NB-7.2đ", "suspend"): ["thanhnn.skhcn@ninhbinh.gov.vn"]}
    assert _state(acct) == (AccountState.SUSPENDED, "NB-7.2đ")
    assert acct.receives_mail  # NB-7.1: a suspended mailbox still receives


def test_nb_7_2đ_not_applied_once_the_password_was_changed() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    do_change_password(profile=p, account=acct, current=otp, new=NEW_PASSWORD,
                       now=at("2026-01-20"))
    assert _run(p, "2026-03-01") == {}


def test_nb_7_3_restore_gives_a_new_one_time_password_and_restarts_the_clock() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, _otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    _run(p, "2026-02-16")
    otp = do_restore(actor=OPERATOR, profile=p, account=acct, now=at("2026-02-20T10:00"))
    acct.refresh_from_db()
    assert acct.state == AccountState.ACTIVE and acct.must_change_password
    assert acct.check_password(otp)
    assert _run(p, "2026-03-19") == {}
    assert _run(p, "2026-03-20T10:00") == {("NB-7.2đ", "suspend"): [acct.address]}


def test_lifecycle_run_is_idempotent() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    assert _run(p, "2026-03-01")
    events = AuditEvent.objects.count()
    assert _run(p, "2026-03-01") == {}
    assert AuditEvent.objects.count() == events


def test_qn_7_2_three_months_without_login_suspends() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    idle, _ = account(p, "sotttt", "Nguyễn Văn Nam", at("2026-01-10T08:00"))
    busy, _ = account(p, "sotttt", "Trần Thị Bình", at("2026-01-10T08:00"))
    do_record_login(account=busy, now=at("2026-03-01T08:00"))
    assert _run(p, "2026-04-10T07:59") == {}
    assert _run(p, "2026-04-10T08:00") == {("QN-7.2", "suspend"): [idle.address]}
    assert _state(idle) == (AccountState.SUSPENDED, "QN-7.2")
    assert _state(busy) == (AccountState.ACTIVE, "")
    assert _run(p, "2026-06-01T08:00") == {("QN-7.2", "suspend"): [busy.address]}


def test_nt_6_2a_six_months_without_any_transaction_suspends() -> None:
    p = profile("ninh-thuan")
    agency(p, "sotttt")
    acct, _ = account(p, "sotttt", "Nguyễn Quốc Trạng", at("2026-01-10T08:00"))
    Account.objects.filter(pk=acct.pk).update(last_activity_at=at("2026-03-01T08:00"))
    assert _run(p, "2026-08-31T08:00") == {}
    assert _run(p, "2026-09-01T08:00") == {("NT-6.2a", "suspend"): [acct.address]}


def test_nb_8_2a_password_older_than_six_months_must_be_changed() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    do_change_password(profile=p, account=acct, current=otp, new=NEW_PASSWORD,
                       now=at("2026-01-16T09:00"))
    assert _run(p, "2026-07-16T08:59") == {}
    assert _run(p, "2026-07-16T09:00") == {("NB-8.2a", "expire-password"): [acct.address]}
    acct.refresh_from_db()
    assert acct.state == AccountState.ACTIVE
    assert acct.must_change_password and acct.must_change_reason == "NB-8.2a"


def test_nb_7_4_leaving_locks_at_once_and_deletes_after_three_months() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    do_leave(actor=OPERATOR, profile=p, account=acct, effective=at("2026-03-01").date(),
             now=at("2026-03-02T10:00"))
    assert _state(acct) == (AccountState.LOCKED, "NB-7.4")
    assert not acct.receives_mail
    assert _run(p, "2026-05-31T23:59") == {}
    assert _run(p, "2026-06-01T00:00") == {("NB-7.4", "delete"): [acct.address]}
    assert _state(acct) == (AccountState.DELETED, "NB-7.4")
    assert not hasattr(Account.objects.get(pk=acct.pk), "mailbox")
    reserved = ReservedName.objects.get(local_part="thanhnn.skhcn")
    assert reserved.tombstoned_at is not None


def test_nb_7_4_future_leave_is_applied_by_the_sweep_on_the_effective_date() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    do_leave(actor=OPERATOR, profile=p, account=acct, effective=at("2026-04-01").date(),
             now=at("2026-03-02T10:00"))
    assert _state(acct) == (AccountState.ACTIVE, "")
    assert _run(p, "2026-04-01T00:00") == {("NB-7.4", "lock"): [acct.address]}


def test_tombstoned_address_is_never_given_to_someone_else() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    do_delete(actor=OPERATOR, profile=p, account=acct, now=at("2026-02-01"), rule="NB-10.1e",
              reason="security emergency")
    newcomer, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-02-02"))
    assert newcomer.address != acct.address
    assert newcomer.address.endswith(".skhcn@ninhbinh.gov.vn")


def _nt_setup():
    p = profile("ninh-thuan")
    agency(p, "sotttt", "Sở Thông tin và Truyền thông", kind="province-dept")
    agency(p, "vp", "Văn phòng Sở", kind="department", parent="sotttt")
    return p


def test_nt_5_2c_staff_locked_at_once_revoked_after_six_months() -> None:
    p = _nt_setup()
    acct, _ = account(p, "sotttt", "Lê Văn Tuấn", at("2026-01-05"))
    do_leave(actor=OPERATOR, profile=p, account=acct, effective=at("2026-03-01").date(),
             now=at("2026-03-01T09:00"))
    assert _state(acct) == (AccountState.LOCKED, "NT-5.2c")
    assert _run(p, "2026-08-31T23:00") == {}
    assert _run(p, "2026-09-01T00:00") == {("NT-5.2c", "delete"): [acct.address]}


def test_nt_5_2c_leader_of_a_provincial_department_locked_after_one_month() -> None:
    p = _nt_setup()
    acct, _ = account(p, "sotttt", "Nguyễn Quốc Trạng", at("2026-01-05"), leader=True)
    do_leave(actor=OPERATOR, profile=p, account=acct, effective=at("2026-03-01").date(),
             now=at("2026-03-01T09:00"))
    assert _state(acct) == (AccountState.ACTIVE, "")
    assert _run(p, "2026-03-31T23:00") == {}
    assert _run(p, "2026-04-01T00:00") == {("NT-5.2c", "lock"): [acct.address]}
    assert _run(p, "2027-02-28T23:00") == {}
    assert _run(p, "2027-03-01T00:00") == {("NT-5.2c", "delete"): [acct.address]}


def test_nt_5_2c_leader_of_a_department_follows_the_staff_rule() -> None:
    p = _nt_setup()
    acct, _ = account(p, "vp", "Phạm Thị Hoa", at("2026-01-05"), leader=True)
    do_leave(actor=OPERATOR, profile=p, account=acct, effective=at("2026-03-01").date(),
             now=at("2026-03-01T09:00"))
    assert _state(acct) == (AccountState.LOCKED, "NT-5.2c")


def test_kh_4_4_leaving_deletes_on_the_effective_date() -> None:
    p = profile("khanh-hoa")
    agency(p, "stttt")
    acct, _ = account(p, "stttt", "Lê Đức Phương", at("2026-01-05"))
    do_leave(actor=OPERATOR, profile=p, account=acct, effective=at("2026-02-01").date(),
             now=at("2026-01-20T09:00"))
    assert _state(acct) == (AccountState.ACTIVE, "")
    assert _run(p, "2026-02-01T00:00") == {("KH-4.4", "lock"): [acct.address],
                                           ("KH-4.4", "delete"): [acct.address]}
    assert _state(acct) == (AccountState.DELETED, "KH-4.4")


def test_state_machine_refuses_a_forbidden_transition_without_changing_anything() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    do_suspend(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-16"), rule="NB-7.2c",
               reason="leaked password")
    events = AuditEvent.objects.count()
    acct.refresh_from_db()
    with pytest.raises(Forbidden):
        do_suspend(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-17"),
                   rule="NB-7.2d", reason="again")
    acct.refresh_from_db()
    assert (acct.state, acct.reason) == (AccountState.SUSPENDED, "NB-7.2c")
    assert AuditEvent.objects.count() == events
    do_delete(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-18"), rule="", reason="")
    acct.refresh_from_db()
    with pytest.raises(Forbidden):
        do_restore(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-19"))


def test_every_state_change_is_audited_with_actor_rule_and_reason() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    do_suspend(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-16"), rule="NB-7.2c",
               reason="virus")
    _run(p, "2026-01-20")
    ev = AuditEvent.objects.filter(target=acct.address).order_by("id")
    assert [e.action for e in ev] == ["account.create", "account.suspend"]
    last = ev.last()
    assert last is not None
    assert (last.actor, last.rule, last.reason) == ("test:operator", "NB-7.2c", "virus")
    assert last.data == {"from": "active", "to": "suspended"}
