"""Filing a form: every problem names its field, row and rule; nothing written on error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from congvu.accounts.actions import do_suspend
from congvu.accounts.models import Person
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError, Forbidden
from congvu.requests.actions import do_file_request
from congvu.requests.csvfile import parse_rows
from congvu.requests.filing import (
    AddressRow,
    ChangeRow,
    PersonRow,
    RequestForm,
    RequestInvalid,
)
from congvu.requests.models import ItemAction, RequestItem, ServiceRequest
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency, contact

pytestmark = pytest.mark.django_db
NOW = at("2026-03-02T09:00")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def kh():
    p = profile("khanh-hoa")
    agency(p, "ttr", "Thanh tra tỉnh")
    agency(p, "pnv3", "Phòng Nghiệp vụ 3", kind="department", parent="ttr")
    agency(p, "stc", "Sở Tài chính")
    return p


def _counts() -> tuple[int, int, int, int]:
    return (ServiceRequest.objects.count(), RequestItem.objects.count(),
            AuditEvent.objects.count(), Person.objects.count())


def _file(p, actor, kind, form, agency_ref="ttr"):
    return do_file_request(actor=actor, profile=p, kind=kind, agency_ref=agency_ref, form=form,
                           now=NOW)


def test_kh_4_1_form_01_with_persons_department_and_agency_mailbox(kh) -> None:
    acct, it = contact(kh, "ttr", "Lê Đức Phương")
    req = _file(kh, it, "new_mailboxes", RequestForm(
        requester_phone="0258 3822 123", agency_mailbox="ttr",
        persons=(PersonRow("Nguyễn Văn Nguyên", "Trưởng phòng", "Phòng Nghiệp vụ 3", True),
                 PersonRow("Trần Cao Nguyên", "Chuyên viên", "pnv3",
                           birth_date=dt.date(1990, 5, 12)))))
    assert (req.status, req.requester_name, req.filed_by, req.filed_by_label) == (
        "filed", "Lê Đức Phương", acct, f"agency-it:{acct.address}")
    items = list(req.items.order_by("number"))
    assert [(i.number, i.action, i.unit.account_name) for i in items] == [
        (1, ItemAction.CREATE_PERSON, "pnv3_ttr"), (2, ItemAction.CREATE_PERSON, "pnv3_ttr"),
        (3, ItemAction.CREATE_AGENCY_MAILBOX, "ttr")]
    event = AuditEvent.objects.get(action="request.file")
    assert (event.actor, event.target, event.data["items"]) == (
        f"agency-it:{acct.address}", f"request:{req.pk}", 3)


def test_every_problem_is_listed_with_row_field_and_rule_and_nothing_is_written(kh) -> None:
    _acct, it = contact(kh, "ttr", "Lê Đức Phương")
    before = _counts()
    with pytest.raises(RequestInvalid) as caught:
        _file(kh, it, "new_mailboxes", RequestForm(
            requester_phone="call me",
            persons=(PersonRow("Nguyễn Văn Nguyên", department="Phòng X"),
                     PersonRow("   "),
                     PersonRow("Nguyễn Văn 2", birth_date=dt.date(2030, 1, 1)))))
    problems = caught.value.problems
    assert [p.field for p in problems] == [
        "requester_phone", "rows[1].department", "rows[2].full_name", "rows[3].full_name",
        "rows[3].birth_date"]
    text = str(caught.value)
    assert "Row 1, department or unit: 'Phòng X' is not a department or unit of ttr" in text
    assert "pnv3_ttr (Phòng Nghiệp vụ 3)" in text
    assert "Row 2, full name: The name is empty" in text and "(rule KH-3.3a)" in text
    assert problems[2].rule == "KH-3.3a"
    assert "Row 3, birth date: 2030-01-01 is not a possible birth date." in text
    assert "Phone: 'call me' is not a telephone number" in text
    assert _counts() == before


def test_the_requester_is_required_when_the_filer_is_not_a_person(kh) -> None:
    with pytest.raises(RequestInvalid, match="Requester's name: required"):
        _file(kh, OPERATOR, "new_mailboxes", RequestForm(persons=(PersonRow("Lê Đức Phương"),)))


def test_an_empty_form_is_refused(kh) -> None:
    with pytest.raises(RequestInvalid, match="lists nobody"):
        _file(kh, OPERATOR, "new_mailboxes", RequestForm(requester_name="A"))
    with pytest.raises(RequestInvalid, match="no address"):
        _file(kh, OPERATOR, "password_reissue", RequestForm(requester_name="A"))


def test_rows_of_another_kind_are_an_error_not_ignored(kh) -> None:
    with pytest.raises(RequestInvalid, match="does not take these rows"):
        _file(kh, OPERATOR, "password_reissue", RequestForm(
            requester_name="A", persons=(PersonRow("Lê Đức Phương"),),
            addresses=(AddressRow("x"),)))


def test_kh_4_3_unknown_change_code_names_the_codes(kh) -> None:
    acct, _ = account(kh, "ttr", "Trần Cao Nguyên", NOW)
    with pytest.raises(RequestInvalid) as caught:
        _file(kh, OPERATOR, "change", RequestForm(
            requester_name="A", changes=(ChangeRow(acct.address, "4", "x"),)))
    problem = caught.value.problems[0]
    assert problem.field == "rows[1].code" and problem.rule == "KH-4.3"
    assert "1 = position, 2 = department, 3 = mailbox address" in problem.message


def test_kh_4_3c_new_address_must_be_free_and_valid(kh) -> None:
    acct, _ = account(kh, "ttr", "Trần Cao Nguyên", NOW)
    other, _ = account(kh, "ttr", "Phạm Du Lịch", NOW)
    with pytest.raises(RequestInvalid) as caught:
        _file(kh, OPERATOR, "change", RequestForm(requester_name="A", changes=(
            ChangeRow(acct.address, "3", other.local_part),
            ChangeRow(other.address, "3", "Phạm Lịch"),
            ChangeRow(other.address, "2", "Phòng không có"),
            ChangeRow(acct.address, "1", ""))))
    text = str(caught.value)
    assert f"Row 1, new value: {other.address} is in use or reserved" in text
    assert "Row 2, new value: 'Phạm Lịch' is not a valid address name" in text
    assert "Row 3, new value: 'Phòng không có' is not a department or unit of ttr" in text
    assert "Row 4, new value: required" in text


def test_an_address_outside_the_agency_is_refused(kh) -> None:
    _acct, it = contact(kh, "ttr", "Lê Đức Phương")
    foreign, _ = account(kh, "stc", "Đỗ Văn Dũng", NOW)
    before = _counts()
    for kind in ("deletion", "password_reissue"):
        with pytest.raises(RequestInvalid, match="is not in ttr or its units"):
            _file(kh, it, kind, RequestForm(reason="r", effective_date=NOW.date(),
                                            addresses=(AddressRow(foreign.address),)))
    with pytest.raises(RequestInvalid, match="only a transfer into the agency"):
        _file(kh, it, "change", RequestForm(changes=(ChangeRow(foreign.address, "1", "CV"),)))
    assert _counts() == before


def test_kh_4_3b_the_receiving_agency_files_a_transfer_in(kh) -> None:
    _acct, it = contact(kh, "ttr", "Lê Đức Phương")
    foreign, _ = account(kh, "stc", "Đỗ Văn Dũng", NOW)
    req = _file(kh, it, "change", RequestForm(changes=(
        ChangeRow(foreign.address, "2", "Phòng Nghiệp vụ 3", full_name="Đỗ Văn Dũng"),
        ChangeRow(foreign.address, "1", "Thanh tra viên"))))
    assert [(i.action, i.new_unit and i.new_unit.account_name) for i in req.items.all()] == [
        (ItemAction.CHANGE_UNIT, "pnv3_ttr"), (ItemAction.CHANGE_POSITION, None)]


def test_a_wrong_holder_name_is_refused_without_revealing_the_holder(kh) -> None:
    acct, _ = account(kh, "ttr", "Trần Cao Nguyên", NOW)
    with pytest.raises(RequestInvalid) as caught:
        _file(kh, OPERATOR, "deletion", RequestForm(
            requester_name="A", reason="Retired", effective_date=NOW.date(),
            addresses=(AddressRow(acct.address, full_name="Trần Văn Nguyên"),)))
    assert caught.value.problems[0].field == "rows[1].full_name"
    assert "Trần Cao" not in str(caught.value)
    # Diacritics and spacing do not matter.
    req = _file(kh, OPERATOR, "deletion", RequestForm(
        requester_name="A", reason="Retired", effective_date=NOW.date(),
        addresses=(AddressRow(acct.address, full_name=" tran  cao nguyen "),)))
    assert req.items.get().account == acct


def test_deletion_needs_reason_and_effective_date(kh) -> None:
    acct, _ = account(kh, "ttr", "Trần Cao Nguyên", NOW)
    with pytest.raises(RequestInvalid) as caught:
        _file(kh, OPERATOR, "deletion", RequestForm(requester_name="A",
                                                    addresses=(AddressRow(acct.address),)))
    assert [p.field for p in caught.value.problems] == ["reason", "effective_date"]


def test_restore_and_reissue_say_which_request_fits_the_state(kh) -> None:
    acct, _ = account(kh, "ttr", "Trần Cao Nguyên", NOW)
    with pytest.raises(RequestInvalid, match="file a password re-issue"):
        _file(kh, OPERATOR, "restore", RequestForm(requester_name="A", reason="r",
                                                   addresses=(AddressRow(acct.address),)))
    do_suspend(actor=OPERATOR, profile=kh, account=acct, now=NOW, rule="", reason="virus")
    with pytest.raises(RequestInvalid, match="file a restore request instead"):
        _file(kh, OPERATOR, "password_reissue", RequestForm(
            requester_name="A", addresses=(AddressRow(acct.address),)))
    with pytest.raises(RequestInvalid, match="row 1 already lists"):
        _file(kh, OPERATOR, "restore", RequestForm(requester_name="A", reason="r", addresses=(
            AddressRow(acct.address), AddressRow(acct.local_part))))


def test_an_unknown_address_and_kind(kh) -> None:
    with pytest.raises(RequestInvalid, match="Row 1, address: Unknown address nobody@"):
        _file(kh, OPERATOR, "password_reissue", RequestForm(
            requester_name="A", addresses=(AddressRow("nobody"),)))
    with pytest.raises(CongvuError, match="Unknown kind of request 'leave'"):
        _file(kh, OPERATOR, "leave", RequestForm(requester_name="A"))


def test_a_holder_without_a_role_files_nothing(kh) -> None:
    me, _ = account(kh, "ttr", "Trần Cao Nguyên", NOW)
    with pytest.raises(Forbidden):
        _file(kh, Actor(kind="self", label=f"self:{me.address}", account_id=me.pk),
              "password_reissue", RequestForm(requester_name="A",
                                              addresses=(AddressRow(me.address),)))


def test_csv_with_the_forms_vietnamese_headers() -> None:
    text = ("\ufeffSTT,Họ và tên,Chức vụ,Bộ phận công tác,Lãnh đạo,Ngày sinh\n"
            "1,Nguyễn Văn Nguyên,Trưởng phòng,Phòng Nghiệp vụ 3,có,12/05/1980\n"
            ",,,,,\n"
            "2,Trần Cao Nguyên,Chuyên viên,Văn phòng,,\n")
    persons, changes, rows = parse_rows("new_mailboxes", text)
    assert persons == (
        PersonRow("Nguyễn Văn Nguyên", "Trưởng phòng", "Phòng Nghiệp vụ 3", True,
                  dt.date(1980, 5, 12)),
        PersonRow("Trần Cao Nguyên", "Chuyên viên", "Văn phòng", False, None))
    assert changes == rows == ()
    changes = parse_rows("change", "Họ và tên,Địa chỉ hộp thư đã được cấp,Mã,Nội dung mới\n"
                                   "Phạm Du Lịch,pdlich_ttr,3,pdlich\n")[1]
    assert changes == (ChangeRow("pdlich_ttr", "3", "pdlich", "Phạm Du Lịch"),)


def test_csv_problems_name_row_and_column() -> None:
    with pytest.raises(CongvuError) as caught:
        parse_rows("new_mailboxes", "full_name,leader,birth_date\nA B,maybe,1980-13-01\n")
    assert str(caught.value).splitlines() == [
        "Row 1, leader: write yes or no (có/không, 1/0), not 'maybe'.",
        "Row 1, birth date: '1980-13-01' is not a date: write YYYY-MM-DD or DD/MM/YYYY."]
    with pytest.raises(CongvuError, match="lacks the column"):
        parse_rows("change", "address,new_value\nx,y\n")

