"""Creating accounts, passwords, transfers and permissions (spec sections 2–4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from congvu.accounts.actions import (
    PasswordRejected,
    do_change_password,
    do_create_account,
    do_reset_password,
    do_suspend,
    do_transfer,
)
from congvu.accounts.models import Account, AccountState, Mailbox
from congvu.accounts.selectors import account_by_address
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.directory.models import Person
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db
GOOD = "Rv7&kLm2Qz!x"


def test_nb_5_3_account_with_mailbox_quota_and_one_time_password() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn", "Sở Khoa học và Công nghệ")
    acct, otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05T09:00"))
    assert acct.address == "thanhnn.skhcn@ninhbinh.gov.vn"
    assert acct.state == AccountState.ACTIVE and acct.must_change_password
    assert acct.password.startswith("argon2$argon2id$")
    assert acct.check_password(otp)
    assert Mailbox.objects.get(account=acct).quota_bytes == 2048 * 1024 * 1024  # NB-8.1b


def test_kh_9_1_personal_and_agency_mailbox_quotas() -> None:
    from congvu.accounts.actions import do_create_agency_mailbox

    p = profile("khanh-hoa")
    agency(p, "stttt")
    person, _ = account(p, "stttt", "Lê Đức Phương", at("2026-01-05"))
    box, otp = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="stttt",
                                        now=at("2026-01-05"))
    assert person.address == "ldphuong@khanhhoa.gov.vn"
    assert person.mailbox.quota_bytes == 100 * 1024 * 1024
    assert box.address == "stttt@khanhhoa.gov.vn" and otp
    assert box.mailbox.quota_bytes == 500 * 1024 * 1024


def test_one_time_passwords_are_random() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    _a, one = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"))
    _b, two = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"))
    assert one != two and "123456" not in (one, two)


def test_qn_4_2_numbering_in_the_database() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    lead, _ = account(p, "sotttt", "Nguyễn Thị Tú Vân", at("2026-01-05"), leader=True)
    staff, _ = account(p, "sotttt", "Nguyễn Thị Thanh Vân", at("2026-01-05"))
    assert (lead.local_part, staff.local_part) == ("vanntt", "vanntt1")


def test_nt_4_2b_fallbacks_in_the_database() -> None:
    p = profile("ninh-thuan")
    agency(p, "nh", "UBND huyện Ninh Hải", kind="district")
    names = [account(p, "ubnd_nh", "Lê Văn Tuấn", at("2026-01-05"))[0].local_part
             for _ in range(4)]
    assert names == ["vantuan", "tuanlv", "tuanlv.nh", "tuanlv2.nh"]


def test_nb_5_4_operator_picks_a_candidate() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"))
    acct, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-06"),
                      local_part="ngocthanh.skhcn")
    assert acct.address == "ngocthanh.skhcn@ninhbinh.gov.vn"
    with pytest.raises(CongvuError):
        account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-06"), local_part="ngocthanh.skhcn")


def test_bad_name_writes_nothing() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    before = AuditEvent.objects.count()
    for bad in ["", "12345", "Thành", "Nguyễn 3 Thành"]:
        with pytest.raises(CongvuError):
            do_create_account(actor=OPERATOR, profile=p, agency_ref="skhcn", full_name=bad,
                              now=at("2026-01-05"))
    assert not Person.objects.exists() and not Account.objects.filter(kind="person").exists()
    assert AuditEvent.objects.count() == before


def test_nb_8_2b_change_password_enforces_policy_and_lists_every_problem() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"),
                        birth_date=dt.date(1990, 5, 12))
    with pytest.raises(PasswordRejected) as err:
        do_change_password(profile=p, account=acct, current=otp, new="thanh12051990",
                           now=at("2026-01-06"))
    assert err.value.exit_code == 1
    assert len(err.value.message.splitlines()) >= 3
    acct.refresh_from_db()
    assert acct.must_change_password and acct.check_password(otp)


def test_change_password_rejects_a_wrong_current_password() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, _otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"))
    with pytest.raises(CongvuError):
        do_change_password(profile=p, account=acct, current="nope", new=GOOD,
                           now=at("2026-01-06"))


def test_password_history_refuses_reuse() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"))
    do_change_password(profile=p, account=acct, current=otp, new=GOOD, now=at("2026-01-06"))
    do_change_password(profile=p, account=acct, current=GOOD, new="Zq8#Wx4!Lp2v",
                       now=at("2026-01-07"))
    with pytest.raises(PasswordRejected):
        do_change_password(profile=p, account=acct, current="Zq8#Wx4!Lp2v", new=GOOD,
                           now=at("2026-01-08"))
    acct.refresh_from_db()
    assert not acct.must_change_password and acct.password_changed_at == at("2026-01-07")


def test_suspended_account_cannot_change_its_password() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    acct, otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"))
    do_suspend(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-06"), rule="NB-7.2c",
               reason="")
    acct.refresh_from_db()
    with pytest.raises(Forbidden):
        do_change_password(profile=p, account=acct, current=otp, new=GOOD, now=at("2026-01-07"))


def test_kh_4_2_password_reissue_forces_a_change() -> None:
    p = profile("khanh-hoa")
    agency(p, "stttt")
    acct, otp = account(p, "stttt", "Lê Đức Phương", at("2026-01-05"))
    do_change_password(profile=p, account=acct, current=otp, new=GOOD, now=at("2026-01-06"))
    new_otp = do_reset_password(actor=OPERATOR, profile=p, account=acct, now=at("2026-02-01"))
    acct.refresh_from_db()
    assert acct.must_change_password and acct.must_change_reason == "KH-4.2"
    assert acct.check_password(new_otp)


def test_kh_2_4_transfer_keeps_the_address() -> None:
    p = profile("khanh-hoa")
    agency(p, "stttt")
    agency(p, "cl", kind="district")
    acct, _ = account(p, "stttt", "Lê Đức Phương", at("2026-01-05"))
    moved = do_transfer(actor=OPERATOR, profile=p, account=acct, to_agency_ref="cl",
                        now=at("2026-02-01"))
    assert moved.address == "ldphuong@khanhhoa.gov.vn"
    assert moved.agency is not None and moved.agency.account_name == "cl"


def test_nb_transfer_gives_a_new_address_and_keeps_the_old_one_as_an_alias() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    agency(p, "sgddt")
    acct, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-05"))
    moved = do_transfer(actor=OPERATOR, profile=p, account=acct, to_agency_ref="sgddt",
                        now=at("2026-02-01"))
    assert moved.address == "thanhnn.sgddt@ninhbinh.gov.vn"
    assert account_by_address(p, "thanhnn.skhcn").pk == moved.pk
    alias = moved.aliases.get()
    assert alias.expires_at == at("2026-05-01")
    other, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-02-02"))
    assert other.address != "thanhnn.skhcn@ninhbinh.gov.vn"


def test_agency_it_contact_manages_only_their_own_agency() -> None:
    p = profile("ninh-binh")
    own = agency(p, "skhcn")
    agency(p, "sgddt")
    contact = Actor(kind="agency-it", label="it:skhcn", agency_ids=frozenset({own.pk}))
    do_create_account(actor=contact, profile=p, agency_ref="skhcn", full_name="Lê Văn An",
                      now=at("2026-01-05"))
    with pytest.raises(Forbidden):
        do_create_account(actor=contact, profile=p, agency_ref="sgddt", full_name="Lê Văn An",
                          now=at("2026-01-05"))


def test_audit_log_is_append_only_in_the_database() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    event = AuditEvent.objects.get()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(IntegrityError if connection.vendor == "sqlite" else Exception), \
            transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET actor = 'forged'")
    with pytest.raises(Exception), transaction.atomic(), connection.cursor() as cur:  # noqa: B017
        cur.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.get().actor == "test:operator"
