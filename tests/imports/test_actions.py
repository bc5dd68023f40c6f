"""The import's domain layer through the tasks worker (NB-13 migration): upload → check
(nothing written) → confirm → write (all or nothing, re-checked at write time, audited
like ``account create``) → the passwords file once. Operators only."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from congvu.accounts.hashers import dovecot_hash
from congvu.accounts.models import Account, Alias, Mailbox, ReservedName
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.directory.models import Person
from congvu.errors import CongvuError, Forbidden
from congvu.imports import actions
from congvu.imports.actions import (
    do_cancel_import,
    do_confirm_import,
    do_recheck_import,
    do_start_import,
    do_take_passwords,
    forget_expired_passwords,
)
from congvu.imports.models import ImportRow, ImportStatus, PersonImport
from congvu.jobs.actions import run_pending
from congvu.jobs.models import Job
from congvu.profiles import Profile
from tests.factories import account, agency, contact
from tests.imports.conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)

GOOD = csv_bytes(
    "Họ và tên,Cơ quan,Chức vụ,Ngày sinh,Lãnh đạo,Địa chỉ cũ",
    "Phan Văn Hùng,sotttt,Chuyên viên,05/09/1985,,hung.old@quangnam.gov.vn",
    "Nguyễn Văn Nam,stc,Phó Giám đốc,02/03/1979,có,",
    "Đỗ Thị Lan,ttcntt,,,,lan@hanam.gov.vn")


@pytest.fixture
def qn(use_profile: Callable[[str], Profile]) -> dict[str, Any]:
    p = use_profile("quang-nam")
    agency(p, "sotttt", "Sở Thông tin và Truyền thông")
    agency(p, "ttcntt", "Trung tâm CNTT", kind="unit", parent="sotttt")
    agency(p, "stc", "Sở Tài chính")
    account(p, "sotttt", "Nguyễn Văn Nam", NOW)
    from congvu.accounts.actions import do_create_operator
    from tests.factories import OPERATOR

    op, _otp = do_create_operator(actor=OPERATOR, profile=p, local_part="quantri", now=NOW)
    actor = Actor(kind="operator", label=f"operator:{op.address}", account_id=op.pk)
    return {"p": p, "op": op, "actor": actor}


def start(qn: dict[str, Any], data: bytes = GOOD, name: str = "ds.csv") -> PersonImport:
    batch = do_start_import(actor=qn["actor"], profile=qn["p"], data=data, file_name=name,
                            now=timezone.now(), account=qn["op"], language="vi")
    run_pending()
    batch.refresh_from_db()
    return batch


def confirm(qn: dict[str, Any], batch: PersonImport, mode: str = "all") -> PersonImport:
    do_confirm_import(actor=qn["actor"], batch_id=batch.pk, mode=mode, now=timezone.now(),
                      account=qn["op"], language="vi")
    run_pending()
    batch.refresh_from_db()
    return batch


def test_nb_13_check_writes_nothing_then_the_write_creates_every_account(
        qn: dict[str, Any]) -> None:
    accounts_before = Account.objects.count()
    batch = start(qn)
    assert batch.status == ImportStatus.READY, batch.error
    assert (batch.total_rows, batch.valid_rows, batch.error_rows) == (3, 3, 0)
    assert Account.objects.count() == accounts_before  # the check wrote no account
    rows = {r.full_name: r for r in ImportRow.objects.filter(batch=batch)}
    assert rows["Nguyễn Văn Nam"].address == "namnv1@quangnam.gov.vn"
    assert rows["Nguyễn Văn Nam"].rule == "QN-4.2"
    check_job = Job.objects.get(pk=batch.check_job_id)
    assert check_job.status == "done" and check_job.result_name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(bytes(check_job.result))).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][:2] == ["Dòng", "Họ và tên"]

    batch = confirm(qn, batch)
    assert batch.status == ImportStatus.DONE, batch.error
    assert batch.created_rows == 3 and batch.passwords_waiting
    assert Account.objects.count() == accounts_before + 3
    hung = Account.objects.get(address="hungpv@quangnam.gov.vn")
    assert hung.state == "active" and hung.must_change_password
    assert hung.must_change_reason == "QN-5.3" or hung.must_change_reason
    assert hung.person is not None and hung.person.position == "Chuyên viên"
    assert hung.person.birth_date == dt.date(1985, 9, 5)
    assert Mailbox.objects.filter(account=hung).exists()
    # Found in the directory's search like a person created one by one.
    from congvu.directory.search import key_of_person

    assert hung.person.search_key == key_of_person(hung.person) and " hungpv " in \
        hung.person.search_key
    assert ReservedName.objects.filter(local_part="hungpv", account=hung).exists()
    alias = Alias.objects.get(address="hung.old@quangnam.gov.vn")
    assert alias.account == hung and alias.expires_at is None  # QN: old_address_alias_for unset
    assert ReservedName.objects.filter(local_part="hung.old", kind="alias").exists()
    nam = Account.objects.get(address="namnv1@quangnam.gov.vn")
    assert nam.person is not None and nam.person.is_leader
    lan = Account.objects.get(address="landt@quangnam.gov.vn")
    assert lan.agency is not None and lan.agency.abbr == "ttcntt"
    # Audited like `account create`, with the import and the row.
    event = AuditEvent.objects.get(action="account.create", target=hung.address)
    assert event.rule == "QN-4.1" and event.actor == qn["actor"].label
    assert event.data["import"] == batch.target and event.data["line"] == 2
    assert AuditEvent.objects.get(action="account.create", target=lan.address
                                  ).data["old_address"] == "lan@hanam.gov.vn"
    assert bytes(Job.objects.get(pk=batch.check_job_id).source) == b""  # upload forgotten
    for action in ("import.upload", "import.check", "import.confirm", "import.write"):
        assert AuditEvent.objects.filter(action=action, target=batch.target).exists(), action

    # The passwords, once, by the operator who confirmed it.
    name, data = do_take_passwords(actor=qn["actor"], batch_id=batch.pk, now=timezone.now())
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    table = {row[3]: row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(table) == {hung.address, nam.address, lan.address}
    hung.refresh_from_db()
    assert check_password(table[hung.address], hung.password)
    assert dovecot_hash(hung.password).startswith("{ARGON2ID}$argon2id$")
    batch.refresh_from_db()
    assert bytes(batch.passwords_sealed) == b"" and batch.passwords_taken_at is not None
    with pytest.raises(CongvuError) as exc:
        do_take_passwords(actor=qn["actor"], batch_id=batch.pk, now=timezone.now())
    assert "đã được tải" in exc.value.message
    assert AuditEvent.objects.filter(action="import.passwords", target=batch.target).count() == 1
    assert name.endswith(".xlsx")


def test_the_passwords_are_sealed_at_rest(qn: dict[str, Any]) -> None:
    batch = confirm(qn, start(qn))
    sealed = bytes(PersonImport.objects.get(pk=batch.pk).passwords_sealed)
    assert sealed and not sealed.startswith(b"PK")


def test_errors_must_be_left_out_explicitly(qn: dict[str, Any]) -> None:
    data = csv_bytes("Họ tên,Cơ quan", "Phan Văn Hùng,sotttt", "Cúc,stc", "Lê Văn Tám,nope")
    batch = start(qn, data)
    assert (batch.valid_rows, batch.error_rows) == (1, 2)
    with pytest.raises(CongvuError) as exc:
        do_confirm_import(actor=qn["actor"], batch_id=batch.pk, mode="all",
                          now=timezone.now(), account=qn["op"])
    assert "Chỉ nhập các dòng không có lỗi" in exc.value.message
    batch = confirm(qn, batch, mode="valid")
    assert batch.status == ImportStatus.DONE and batch.created_rows == 1
    assert Account.objects.filter(address="hungpv@quangnam.gov.vn").exists()
    assert not Person.objects.filter(full_name="Lê Văn Tám").exists()


def test_an_address_taken_since_the_check_stops_the_whole_write(qn: dict[str, Any]) -> None:
    batch = start(qn)
    # Meanwhile someone creates Phan Văn Hùng by hand: hungpv is taken.
    account(qn["p"], "stc", "Phan Văn Hùng", NOW)
    before = (Account.objects.count(), Person.objects.count(), AuditEvent.objects.filter(
        action="account.create").count())
    batch = confirm(qn, batch)
    assert batch.status == ImportStatus.STALE
    assert "hungpv1@quangnam.gov.vn" in batch.error and "dòng 2" in batch.error
    assert (Account.objects.count(), Person.objects.count(), AuditEvent.objects.filter(
        action="account.create").count()) == before  # nothing half-written
    assert Job.objects.get(pk=batch.write_job_id).status == "failed"
    # Checked again, the preview shows the new address; then it goes through.
    do_recheck_import(actor=qn["actor"], batch_id=batch.pk, now=timezone.now(),
                      account=qn["op"])
    run_pending()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.READY
    assert ImportRow.objects.get(batch=batch, line=2).address == "hungpv1@quangnam.gov.vn"
    assert confirm(qn, batch).status == ImportStatus.DONE


def test_a_failure_while_writing_rolls_everything_back(
        qn: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    batch = start(qn)
    real = actions.write_accounts

    def broken(**kwargs: Any) -> Any:
        real(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "write_accounts", broken)
    before = (Account.objects.count(), Person.objects.count(), Mailbox.objects.count(),
              ReservedName.objects.count(), Alias.objects.count())
    batch = confirm(qn, batch)
    assert batch.status == ImportStatus.READY and "lỗi nội bộ" in batch.error
    assert (Account.objects.count(), Person.objects.count(), Mailbox.objects.count(),
            ReservedName.objects.count(), Alias.objects.count()) == before


def test_a_file_that_cannot_be_read_fails_with_its_reason(qn: dict[str, Any]) -> None:
    batch = start(qn, csv_bytes("Tên,Chức vụ", "A,B"))
    assert batch.status == ImportStatus.FAILED and "Họ và tên" in batch.error
    job = Job.objects.get(pk=batch.check_job_id)
    assert job.status == "failed" and job.error == batch.error
    do_cancel_import(actor=qn["actor"], batch_id=batch.pk, now=timezone.now())
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED


def test_xlsx_files_are_imported_too(qn: dict[str, Any]) -> None:
    data = xlsx_bytes([["Họ và tên", "Đơn vị", "Ngày sinh"],
                       ["Trần Thị Bình", "stc", dt.datetime(1990, 5, 6)]],
                      title_rows=["DANH SÁCH"])
    batch = confirm(qn, start(qn, data, "ds.xlsx"))
    assert batch.status == ImportStatus.DONE and batch.file_format == "xlsx"
    assert Person.objects.get(full_name="Trần Thị Bình").birth_date == dt.date(1990, 5, 6)


def test_only_operators_import_and_only_the_confirming_one_takes_the_passwords(
        qn: dict[str, Any]) -> None:
    it, it_actor = contact(qn["p"], "sotttt", "Trần Văn An")
    with pytest.raises(Forbidden):
        do_start_import(actor=it_actor, profile=qn["p"], data=GOOD, file_name="x.csv",
                        now=timezone.now(), account=it)
    batch = start(qn)
    for call in (lambda: do_confirm_import(actor=it_actor, batch_id=batch.pk, mode="all",
                                           now=timezone.now(), account=it),
                 lambda: do_cancel_import(actor=it_actor, batch_id=batch.pk,
                                          now=timezone.now()),
                 lambda: do_recheck_import(actor=it_actor, batch_id=batch.pk,
                                           now=timezone.now())):
        with pytest.raises(Forbidden):
            call()
    batch = confirm(qn, batch)
    other = Actor(kind="operator", label="operator:other", account_id=it.pk)
    with pytest.raises(Forbidden):
        do_take_passwords(actor=other, batch_id=batch.pk, now=timezone.now())
    with pytest.raises(Forbidden):
        do_take_passwords(actor=it_actor, batch_id=batch.pk, now=timezone.now())
    assert PersonImport.objects.get(pk=batch.pk).passwords_waiting


def test_an_unread_passwords_file_is_wiped_after_its_time(qn: dict[str, Any]) -> None:
    batch = confirm(qn, start(qn))
    assert forget_expired_passwords(timezone.now()) == 0
    later = timezone.now() + actions.PASSWORDS_KEPT + dt.timedelta(minutes=1)
    assert forget_expired_passwords(later) == 1
    batch.refresh_from_db()
    assert batch.passwords_expired and bytes(batch.passwords_sealed) == b""
    with pytest.raises(CongvuError):
        do_take_passwords(actor=qn["actor"], batch_id=batch.pk, now=later)
    assert AuditEvent.objects.filter(action="import.passwords_expired").count() == 1


def test_a_confirmed_import_cannot_be_confirmed_twice(qn: dict[str, Any]) -> None:
    batch = start(qn)
    do_confirm_import(actor=qn["actor"], batch_id=batch.pk, mode="all", now=timezone.now(),
                      account=qn["op"])
    with pytest.raises(CongvuError):
        do_confirm_import(actor=qn["actor"], batch_id=batch.pk, mode="all",
                          now=timezone.now(), account=qn["op"])
    run_pending()
    assert Account.objects.filter(address="hungpv@quangnam.gov.vn").count() == 1


def test_an_import_cancelled_while_waiting_for_its_check_stores_nothing(
        qn: dict[str, Any]) -> None:
    batch = do_start_import(actor=qn["actor"], profile=qn["p"], data=GOOD, file_name="x.csv",
                            now=timezone.now(), account=qn["op"])
    do_cancel_import(actor=qn["actor"], batch_id=batch.pk, now=timezone.now())
    run_pending()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED
    assert not ImportRow.objects.filter(batch=batch).exists()
    assert Job.objects.get(pk=batch.check_job_id).status == "failed"


def test_a_job_runs_with_its_owners_rights_when_it_runs(qn: dict[str, Any]) -> None:
    from congvu.accounts.models import Account as Acct

    batch = do_start_import(actor=qn["actor"], profile=qn["p"], data=GOOD, file_name="x.csv",
                            now=timezone.now(), account=qn["op"])
    Acct.objects.filter(pk=qn["op"].pk).update(is_operator=False)  # role revoked meanwhile
    run_pending()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and "quản trị" in batch.error
    assert not ImportRow.objects.filter(batch=batch).exists()
