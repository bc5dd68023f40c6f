"""The import's rules without writing: every cell checked, every address computed with
the profile's person rule and collision rule against the accounts, the tombstones and
the other rows of the file; errors name the column and the rule, in Vietnamese."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from congvu.accounts.actions import do_delete
from congvu.accounts.models import Account, ReservedName
from congvu.directory.models import Person
from congvu.imports.parsing import RawRow
from congvu.imports.planning import RowPlan, plan_rows
from congvu.imports.snapshot import load_snapshot
from congvu.profiles import Profile
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
TODAY = NOW.date()


def rows(*items: dict[str, str]) -> list[RawRow]:
    return [RawRow(line=n, values=v) for n, v in enumerate(items, start=2)]


def plan(p: Profile, *items: dict[str, str]) -> list[RowPlan]:
    return plan_rows(p, rows(*items), load_snapshot(p), TODAY)


def messages(row: RowPlan) -> str:
    return " | ".join(f"{e.field}: {e.message} [{e.rule}]" for e in row.errors)


@pytest.fixture
def qn(use_profile: Callable[[str], Profile]) -> Profile:
    p = use_profile("quang-nam")
    agency(p, "sotttt", "Sở Thông tin và Truyền thông")
    agency(p, "vp", "Văn phòng", kind="department", parent="sotttt")
    agency(p, "ttcntt", "Trung tâm CNTT", kind="unit", parent="sotttt")
    agency(p, "stc", "Sở Tài chính")
    account(p, "sotttt", "Nguyễn Văn Nam", NOW, birth_date=dt.date(1980, 1, 2))
    gone, _otp = account(p, "stc", "Lê Văn Tám", NOW)
    do_delete(actor=OPERATOR, profile=p, account=gone, now=NOW, rule="QN-7.1", reason="")
    return p


def test_qn_4_1_addresses_and_qn_4_2_collisions_with_accounts_tombstones_and_rows(
        qn: Profile) -> None:
    out = plan(qn,
               {"full_name": "Nguyễn Văn Nam", "agency": "stc"},          # namnv is in use
               {"full_name": "Lê Văn Tám", "agency": "sotttt"},          # tamlv: tombstone
               {"full_name": "Nguyễn Văn Nam", "agency": "ttcntt"},      # after row 2
               {"full_name": "Phạm Thị Cúc", "agency": "Sở Tài chính"},  # by full name
               {"full_name": "Võ Văn Nam", "agency": "sotttt", "leader": "có"})
    assert all(r.ok for r in out), [messages(r) for r in out]
    assert [r.local_part for r in out] == ["namnv1", "tamlv1", "namnv2", "cucpt", "namvv"]
    assert [r.rule for r in out] == ["QN-4.2", "QN-4.2", "QN-4.2", "QN-4.1", "QN-4.1"]
    assert out[4].leader


def test_qn_4_2_a_leader_keeps_the_base_wherever_they_are_in_the_file(qn: Profile) -> None:
    out = plan(qn,
               {"full_name": "Nguyễn Thị Thanh Vân", "agency": "sotttt"},
               {"full_name": "Nguyễn Thị Tú Vân", "agency": "sotttt", "leader": "x"})
    assert [r.local_part for r in out] == ["vanntt1", "vanntt"]


def test_nb_5_3_puts_the_agency_in_the_address_and_a_department_uses_its_agency(
        use_profile: Callable[[str], Profile]) -> None:
    p = use_profile("ninh-binh")
    agency(p, "skhcn", "Sở Khoa học và Công nghệ")
    agency(p, "vp", "Văn phòng", kind="department", parent="skhcn")
    out = plan(p, {"full_name": "Nguyễn Ngọc Thành", "agency": "skhcn", "department": "vp"},
               {"full_name": "Nguyễn Ngọc Thành", "agency": "skhcn"})
    assert out[0].local_part == "thanhnn.skhcn" and out[0].rule == "NB-5.3"
    assert out[1].local_part != "thanhnn.skhcn" and out[1].rule == "NB-5.4"
    assert len(out[1].candidates) > 1


def test_errors_name_the_column_and_the_rule_and_take_no_address(qn: Profile) -> None:
    out = plan(qn,
               {"full_name": "Cúc", "agency": "stc"},
               {"full_name": "Trần Văn 2", "agency": "stc"},
               {"full_name": "Phan Văn Hùng", "agency": "khongco"},
               {"full_name": "Phan Văn Hùng", "agency": "sotttt", "department": "kt"},
               {"full_name": "Phan Văn Hùng", "agency": "sotttt", "birth_date": "31/02/1990"},
               {"full_name": "Phan Văn Hùng", "agency": "sotttt", "birth_date": "01/01/2090"},
               {"full_name": "Phan Văn Hùng", "agency": "sotttt", "leader": "maybe"},
               {"full_name": "", "agency": ""},
               {"full_name": "Phan Văn Hùng", "agency": "sotttt"})
    assert [r.ok for r in out] == [False] * 8 + [True]
    assert out[0].errors[0].field == "full_name" and out[0].errors[0].rule == "QN-4.1"
    assert "một từ" in out[0].errors[0].message
    assert "chữ số" in out[1].errors[0].message
    assert out[2].errors[0].field == "agency" and "khongco" in out[2].errors[0].message
    assert out[3].errors[0].field == "department"
    assert out[4].errors[0].field == "birth_date" and "dd/mm/yyyy" in out[4].errors[0].message
    assert out[5].errors[0].field == "birth_date"
    assert out[6].errors[0].field == "leader"
    assert {e.field for e in out[7].errors} == {"full_name", "agency"}
    # Rows with errors take no address: the valid row gets the base.
    assert out[8].local_part == "hungpv" and all(not r.local_part for r in out[:8])


def test_wanted_addresses_are_checked_and_claimed_first_come_first_served(qn: Profile) -> None:
    out = plan(qn,
               {"full_name": "Phan Văn Hùng", "agency": "sotttt", "wanted_address": "hung.pv"},
               {"full_name": "Phan Văn Hải", "agency": "sotttt",
                "wanted_address": "hung.pv@quangnam.gov.vn"},
               {"full_name": "Lê Văn Tám", "agency": "sotttt", "wanted_address": "tamlv"},
               {"full_name": "Võ Văn Nam", "agency": "sotttt", "wanted_address": "namnv"},
               {"full_name": "Võ Văn Ba", "agency": "sotttt", "wanted_address": "ba@gmail.com"},
               {"full_name": "Võ Văn Bốn", "agency": "sotttt", "wanted_address": "bốn!"},
               {"full_name": "Phan Văn Hùng", "agency": "stc"})
    assert out[0].ok and out[0].local_part == "hung.pv" and out[0].rule == "QN-4.2"
    assert "dòng 2" in messages(out[1])
    assert "đã xoá" in messages(out[2])
    assert "đang được dùng" in messages(out[3])
    assert "quangnam.gov.vn" in messages(out[4])
    assert out[5].errors[0].field == "wanted_address"
    assert out[6].ok and out[6].local_part == "hungpv"


def test_nb_13_old_addresses_alias_kept_or_recorded(qn: Profile) -> None:
    out = plan(qn,
               {"full_name": "Phan Văn Hùng", "agency": "sotttt",
                "old_address": "hung.sotttt@quangnam.gov.vn"},
               {"full_name": "Đỗ Thị Lan", "agency": "sotttt",
                "old_address": "lanđt@quangnam.gov.vn"},
               {"full_name": "Đỗ Thị Mai", "agency": "sotttt", "old_address": "maidt"},
               {"full_name": "Đỗ Thị Hoa", "agency": "sotttt",
                "old_address": "hoadt@hanam.gov.vn"},
               {"full_name": "Lê Văn Tám", "agency": "sotttt", "old_address": "tamlv"},
               {"full_name": "Võ Văn Ba", "agency": "sotttt", "old_address": "namnv"},
               {"full_name": "Võ Văn Bảy", "agency": "sotttt",
                "old_address": "hung.sotttt@quangnam.gov.vn"})
    assert out[0].ok and out[0].alias == "hung.sotttt" and out[0].local_part == "hungpv"
    assert out[1].errors[0].field == "old_address"
    # The person rule gives exactly the old address: the person keeps it, no alias.
    assert out[2].ok and out[2].local_part == "maidt" and out[2].alias == ""
    assert out[2].rule == "QN-4.1"
    assert out[3].ok and out[3].alias == "" and "hanam.gov.vn" in out[3].notes[0].message
    assert out[4].ok and out[4].alias == "" and out[4].local_part == "tamlv1"
    assert out[4].notes and out[4].notes[0].field == "old_address"
    assert not out[5].ok and out[5].errors[0].field == "old_address"
    assert not out[6].ok and "dòng 2" in messages(out[6])


def test_one_account_per_person_in_the_file_and_in_the_directory(qn: Profile) -> None:
    out = plan(qn,
               {"full_name": "Nguyễn Văn Nam", "agency": "sotttt", "birth_date": "02/01/1980"},
               {"full_name": "Nguyen Van Nam", "agency": "sotttt"},
               {"full_name": "Trần Thị Bình", "agency": "stc", "birth_date": "1990-05-06"},
               {"full_name": "Trần Thị Bình", "agency": "stc", "birth_date": "06/05/1990"},
               {"full_name": "Hồ Văn Út", "agency": "stc"},
               {"full_name": "Hồ Văn Út", "agency": "stc"})
    assert "namnv@quangnam.gov.vn" in messages(out[0])
    assert out[1].ok and "namnv@quangnam.gov.vn" in out[1].notes[0].message
    assert out[2].ok and not out[3].ok and "dòng 4" in messages(out[3])
    assert out[4].ok and out[5].ok and "dòng 6" in out[5].notes[0].message.lower()
    assert out[4].local_part == "uthv" and out[5].local_part == "uthv1"


def test_nt_4_2b_fallbacks(use_profile: Callable[[str], Profile]) -> None:
    p = use_profile("ninh-thuan")
    agency(p, "nh", "UBND huyện Ninh Hải", kind="district")
    out = plan(p, *[{"full_name": "Lê Văn Tuấn", "agency": "nh"}] * 4)
    assert [r.local_part for r in out] == ["vantuan", "tuanlv", "tuanlv.nh", "tuanlv2.nh"]
    assert [r.rule for r in out] == ["NT-4.2a", "NT-4.2b", "NT-4.2b", "NT-4.2b"]
    assert out[1].notes  # same name, no birth date: make sure they are different people


def test_the_check_writes_nothing(qn: Profile) -> None:
    before = (Account.objects.count(), Person.objects.count(), ReservedName.objects.count())
    plan(qn, {"full_name": "Phan Văn Hùng", "agency": "sotttt", "old_address": "hung1"})
    assert (Account.objects.count(), Person.objects.count(),
            ReservedName.objects.count()) == before
