"""The import's fast paths: the XLSX writer (read back by openpyxl) and the lean INSERT
(the same rows Django's own ``save`` writes), and the one-time password hash (verified by
Django and in Dovecot's form, replaced at full cost after the first sign-in)."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import openpyxl
import pytest
from django.contrib.auth.hashers import check_password, get_hasher

from congvu.accounts.hashers import dovecot_hash
from congvu.accounts.models import Account, ReservedName
from congvu.audit.models import AuditEvent
from congvu.directory.models import Agency, Person
from congvu.imports.bulk import insert
from congvu.imports.writing import OneTimePasswordHasher
from congvu.imports.xlsx import workbook

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def test_the_xlsx_writer_is_read_back_exactly() -> None:
    rows = [[1, "Nguyễn Văn Nam", "a<b>&\"c'", None, "x\x01y", "=1+1"],
            [2, "  spaces  ", "", 0, "line\nbreak", "Đ"]]
    data = workbook([("Kiểm tra", ["Số", "Họ và tên", "A", "B", "C", "D"], rows),
                     ("Đọc trước", ["Ghi chú"], [["một"]])])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Kiểm tra", "Đọc trước"]
    got = list(book["Kiểm tra"].iter_rows(values_only=True))
    assert got[0] == ("Số", "Họ và tên", "A", "B", "C", "D")
    assert got[1] == (1, "Nguyễn Văn Nam", "a<b>&\"c'", None, "xy", "=1+1")
    assert got[2] == (2, "  spaces  ", None, 0, "line\nbreak", "Đ")
    assert book["Kiểm tra"]["F2"].data_type == "s"  # text, never a formula
    assert book["Đọc trước"]["A2"].value == "một"


@pytest.mark.django_db
def test_the_lean_insert_writes_what_django_writes() -> None:
    agency = Agency.objects.create(abbr="stc", name="Sở Tài chính", kind="province-dept",
                                   account_name="stc", created_at=NOW)
    persons = [Person(full_name=f"Người {i}", agency=agency, created_at=NOW,
                      birth_date=dt.date(1990, 1, i + 1)) for i in range(3)]
    insert(Person, persons, returning=True)
    assert all(p.pk for p in persons)
    assert list(Person.objects.order_by("id").values_list("full_name", flat=True)) == [
        "Người 0", "Người 1", "Người 2"]
    fast = Account(address="a@x.gov.vn", local_part="a", domain="x.gov.vn",
                   person=persons[0], agency=agency, state="active", state_changed_at=NOW,
                   created_at=NOW, password="argon2$x")
    insert(Account, [fast], returning=True)
    slow = Account(address="b@x.gov.vn", local_part="b", domain="x.gov.vn",
                   person=persons[1], agency=agency, state="active", state_changed_at=NOW,
                   created_at=NOW, password="argon2$x")
    slow.save()
    skip = {"id", "address", "local_part", "person", "subject"}
    a = Account.objects.filter(pk=fast.pk).values().get()
    b = Account.objects.filter(pk=slow.pk).values().get()
    assert {k: v for k, v in a.items() if k not in skip and k != "person_id"} == {
        k: v for k, v in b.items() if k not in skip and k != "person_id"}
    assert isinstance(a["subject"], uuid.UUID) and a["subject"] != b["subject"]
    # Plain dicts for the simple tables: defaults and auto_now_add filled as Django would.
    insert(ReservedName, [{"local_part": "a", "domain": "x.gov.vn", "kind": "account",
                           "account_id": fast.pk, "created_at": NOW}])
    assert ReservedName.objects.get(local_part="a").tombstoned_at is None
    insert(AuditEvent, [{"at": NOW, "actor": "t", "action": "account.create", "target": "a",
                         "data": {"candidates": ["a", "b"], "ok": True}},
                        {"at": NOW, "actor": "t", "action": "x"}])
    event = AuditEvent.objects.get(action="account.create")
    assert event.data == {"candidates": ["a", "b"], "ok": True} and event.recorded_at
    assert AuditEvent.objects.get(action="x").data == {} and event.rule == ""


def test_one_time_passwords_are_verified_and_rehashed_at_full_cost() -> None:
    hasher = OneTimePasswordHasher()
    encoded = hasher.encode("Kx7#ab9Qzz!mTt4@", "c2FsdHNhbHRzYWx0")
    assert encoded.startswith("argon2$argon2id$v=19$m=64,t=1,p=1$")
    assert check_password("Kx7#ab9Qzz!mTt4@", encoded)
    assert not check_password("wrong", encoded)
    assert dovecot_hash(encoded).startswith("{ARGON2ID}$argon2id$")
    assert get_hasher("default").must_update(encoded)  # full cost at the next sign-in
