"""Fulfilment through the accounts actions, row by row, each row all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from congvu.accounts.actions import do_create_account, do_suspend
from congvu.accounts.models import Account, AccountState, Alias, Person
from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.requests import actions, selectors
from congvu.requests.filing import AddressRow, ChangeRow, PersonRow, RequestForm
from congvu.requests.models import RequestItem
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency, contact

pytestmark = pytest.mark.django_db
NOW = at("2026-03-02T09:00")
LATER = at("2026-03-03T10:00")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _file(p, kind, form, agency_ref, actor=OPERATOR):
    return actions.do_file_request(actor=actor, profile=p, kind=kind, agency_ref=agency_ref,
                                   now=NOW, form=form)


def _events(req) -> list[str]:
    return list(AuditEvent.objects.filter(target=req.target).values_list("action", flat=True))


def test_qn_4_2_leaders_first_in_a_batch_with_one_time_passwords_shown_once() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    agency(p, "vp", "Văn phòng", kind="department", parent="sotttt")
    _a, it = contact(p, "sotttt", "Trần Văn An")
    req = _file(p, "new_mailboxes", RequestForm(persons=(
        PersonRow("Nguyễn Thị Thanh Vân", "Chuyên viên", "Văn phòng"),
        PersonRow("Nguyễn Thị Tú Vân", "Chánh Văn phòng", "vp", leader=True))), "sotttt", it)
    shown = selectors.suggestions_for(OPERATOR, p, req)
    assert {n: (s.local_part, s.rule) for n, s in shown.items()} == {
        1: ("vanntt1", "QN-4.2"), 2: ("vanntt", "QN-4.1")}
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER)
    assert [(o.number, o.status, o.address, o.rule) for o in result.outcomes] == [
        (1, "done", "vanntt1@quangnam.gov.vn", "QN-4.2"),
        (2, "done", "vanntt@quangnam.gov.vn", "QN-4.1")]
    assert result.request.status == "done"
    for outcome in result.outcomes:
        acct = Account.objects.get(address=outcome.address)
        assert acct.check_password(outcome.one_time_password)
        assert acct.must_change_password and acct.person.department.account_name == "vp_sotttt"
        # Never stored in clear: not in the request's rows, not in the audit log.
        assert not RequestItem.objects.filter(outcome__contains=outcome.one_time_password)
        assert not AuditEvent.objects.filter(data__icontains=outcome.one_time_password)
    leader = Account.objects.get(address="vanntt@quangnam.gov.vn").person
    assert (leader.position, leader.is_leader) == ("Chánh Văn phòng", True)
    assert _events(req) == ["request.file", "request.take", "request.item_done",
                            "request.item_done", "request.close"]


def test_nb_5_4_collision_default_candidate_or_the_operators_pick() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    account(p, "skhcn", "Nguyễn Ngọc Thành", NOW)  # thanhnn.skhcn is taken
    req = _file(p, "new_mailboxes", RequestForm(requester_name="A", persons=(
        PersonRow("Nguyễn Ngọc Thành"), PersonRow("Nguyễn Ngọc Thành"))), "skhcn")
    shown = selectors.suggestions_for(OPERATOR, p, req)
    assert shown[1].rule == "NB-5.4" and shown[1].local_part == shown[1].candidates[0]
    pick = shown[2].candidates[2]
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER,
                               numbers=[2], addresses={2: pick})
    assert [(o.address, o.rule) for o in result.outcomes] == [
        (f"{pick}@ninhbinh.gov.vn", "NB-5.4")]
    assert result.request.status == "in_progress"
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER)
    assert [(o.number, o.address, o.rule) for o in result.outcomes] == [
        (1, f"{shown[1].local_part}@ninhbinh.gov.vn", "NB-5.4")]
    assert result.request.status == "done"
    item = result.request.items.get(number=1)
    assert (item.rule, item.result_address) == ("NB-5.4", f"{shown[1].local_part}@ninhbinh.gov.vn")


def test_a_failing_row_leaves_nothing_half_written_and_the_others_proceed() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    taken, _ = account(p, "skhcn", "Lê Văn Bình", NOW)
    req = _file(p, "new_mailboxes", RequestForm(requester_name="A", persons=(
        PersonRow("Nguyễn Ngọc Thành", birth_date=dt.date(1980, 1, 2)),
        PersonRow("Trần Thị Hoa"))), "skhcn")
    persons = Person.objects.count()
    # The operator picks an address already in use for row 1.
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER,
                               numbers=[1], addresses={1: taken.local_part})
    [failed] = result.outcomes
    assert failed.status == "failed" and taken.address in failed.message
    assert Person.objects.count() == persons  # no person without an account
    assert not Account.objects.filter(person__full_name="Nguyễn Ngọc Thành").exists()
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER)
    assert [(o.number, o.status) for o in result.outcomes] == [(1, "done"), (2, "done")]
    assert result.request.status == "done"
    failed_event = AuditEvent.objects.get(action="request.item_failed")
    assert failed_event.data == {"item": 1, "action": "create_person"}
    assert taken.address in failed_event.reason


def test_a_row_that_cannot_be_done_is_refused_and_the_request_is_partly_done() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    nam, _ = account(p, "sotttt", "Nguyễn Văn Nam", NOW)
    hoa, _ = account(p, "sotttt", "Trần Thị Hoa", NOW)
    req = _file(p, "password_reissue", RequestForm(requester_name="A", addresses=(
        AddressRow(nam.address), AddressRow(hoa.address))), "sotttt")
    # Between filing and fulfilment Hoa's account was suspended: the reset is refused.
    do_suspend(actor=OPERATOR, profile=p, account=hoa, now=NOW, rule="QN-7.2", reason="idle")
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER)
    assert [(o.number, o.status) for o in result.outcomes] == [(1, "done"), (2, "failed")]
    assert "restore" in result.outcomes[1].message
    assert result.outcomes[0].one_time_password and not result.outcomes[1].one_time_password
    assert result.request.status == "in_progress"
    req = actions.do_refuse_item(actor=OPERATOR, request_id=req.pk, number=2,
                                 reason="Suspended: file a restore request.", now=LATER)
    assert req.status == "partly_done" and req.closed_at == LATER
    with pytest.raises(Forbidden):
        actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER)


def test_kh_4_3_form_02_codes_1_2_3() -> None:
    p = profile("khanh-hoa")
    agency(p, "ttr", "Thanh tra tỉnh")
    agency(p, "pnv3", "Phòng Nghiệp vụ 3", kind="department", parent="ttr")
    agency(p, "vp", "Văn phòng", kind="department", parent="ttr")
    nguyen, _ = account(p, "ttr", "Nguyễn Văn Nguyên", NOW, local_part="nvnguyen_ttr")
    cao, _ = account(p, "ttr", "Trần Cao Nguyên", NOW)
    _a, clerk = contact(p, "ttr", "Lê Đức Phương", role="clerk")
    req = _file(p, "change", RequestForm(changes=(
        ChangeRow("nvnguyen_ttr", "1", "Trưởng phòng", "Nguyễn Văn Nguyên"),
        ChangeRow("nvnguyen_ttr", "2", "Phòng Nghiệp vụ 3"),
        ChangeRow("nvnguyen_ttr", "3", "nvnguyen"),
        ChangeRow(cao.address, "1", "Chuyên viên"),
        ChangeRow(cao.address, "2", "Văn phòng"))), "ttr", clerk)
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER)
    assert [(o.number, o.status, o.rule) for o in result.outcomes] == [
        (1, "done", "KH-4.3"), (2, "done", "KH-2.4"), (3, "done", "KH-4.3"),
        (4, "done", "KH-4.3"), (5, "done", "KH-2.4")]
    nguyen.refresh_from_db()
    assert nguyen.address == "nvnguyen@khanhhoa.gov.vn"
    assert (nguyen.person.position, nguyen.person.department.name) == (
        "Trưởng phòng", "Phòng Nghiệp vụ 3")
    # The old address keeps delivering and stays reserved.
    assert Alias.objects.get(account=nguyen).address == "nvnguyen_ttr@khanhhoa.gov.vn"
    cao.refresh_from_db()
    assert cao.address == "tcnguyen@khanhhoa.gov.vn"  # KH-2.4: the address is kept
    assert cao.person.department.name == "Văn phòng"
    assert result.request.status == "done"
    assert set(AuditEvent.objects.filter(target="nvnguyen@khanhhoa.gov.vn")
               .values_list("action", flat=True)) >= {"account.change_address"}


def test_nb_5_3_a_department_transfer_into_another_agency_changes_the_address() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    agency(p, "stc")
    thanh, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", NOW)
    _a, it = contact(p, "stc", "Trần Văn An")
    req = _file(p, "change", RequestForm(changes=(ChangeRow(thanh.address, "2", "stc"),)),
                "stc", it)
    [done] = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER).outcomes
    assert (done.address, done.rule) == ("thanhnn.stc@ninhbinh.gov.vn", "NB-5.3")
    assert Alias.objects.get(address="thanhnn.skhcn@ninhbinh.gov.vn").expires_at is not None


def test_nb_7_4_form_03_locks_now_and_deletes_after_the_retention() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    thanh, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", NOW)
    req = _file(p, "deletion", RequestForm(requester_name="A", reason="Retired",
                                           effective_date=dt.date(2026, 3, 1),
                                           addresses=(AddressRow(thanh.address),)), "skhcn")
    [done] = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER).outcomes
    assert done.rule == "NB-7.4"
    thanh.refresh_from_db()
    assert thanh.state == AccountState.LOCKED
    assert thanh.leave_delete_at == at("2026-06-01")


def test_kh_4_4_form_03_deletes_at_once() -> None:
    p = profile("khanh-hoa")
    agency(p, "ttr")
    cao, _ = account(p, "ttr", "Trần Cao Nguyên", NOW)
    req = _file(p, "deletion", RequestForm(requester_name="A", reason="Moved out of province",
                                           effective_date=NOW.date(),
                                           addresses=(AddressRow(cao.address),)), "ttr")
    actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER)
    cao.refresh_from_db()
    assert (cao.state, cao.reason) == (AccountState.DELETED, "KH-4.4")


def test_nt_6_3_restore_with_a_password_to_change_at_first_sign_in() -> None:
    p = profile("ninh-thuan")
    agency(p, "sotttt")
    trang, _ = account(p, "sotttt", "Nguyễn Quốc Trạng", NOW)
    do_suspend(actor=OPERATOR, profile=p, account=trang, now=NOW, rule="NT-6.2b",
               reason="Password leaked")
    req = _file(p, "restore", RequestForm(requester_name="A", reason="Password changed",
                                          addresses=(AddressRow(trang.address),)), "sotttt")
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk,
                               now=NOW + dt.timedelta(minutes=20))
    [done] = result.outcomes
    trang.refresh_from_db()
    assert (trang.state, trang.must_change_password, trang.must_change_reason) == (
        AccountState.ACTIVE, True, "NT-6.3c")
    assert trang.check_password(done.one_time_password) and done.rule == "NT-6.3"
    close = AuditEvent.objects.get(action="request.close", target=req.target)
    assert (close.rule, close.data["late"]) == ("NT-6.3b", False)


def test_form_01_agency_mailbox_row() -> None:
    p = profile("khanh-hoa")
    agency(p, "ttr", "Thanh tra tỉnh")
    req = _file(p, "new_mailboxes", RequestForm(requester_name="A", agency_mailbox="TTR"), "ttr")
    [done] = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER).outcomes
    assert (done.address, done.rule) == ("ttr@khanhhoa.gov.vn", "KH-3.2a")
    assert Account.objects.get(address="ttr@khanhhoa.gov.vn").kind == "agency"


def test_take_cancel_reject_transitions_are_audited_with_reasons() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    _a, it = contact(p, "sotttt", "Trần Văn An")
    form = RequestForm(persons=(PersonRow("Lê Văn Tám"),))
    req = _file(p, "new_mailboxes", form, "sotttt", it)
    actions.do_take_request(actor=OPERATOR, request_id=req.pk, now=LATER)
    with pytest.raises(Forbidden, match="ask the operator to reject it"):
        actions.do_cancel_request(actor=it, request_id=req.pk, now=LATER)
    with pytest.raises(Forbidden):
        actions.do_take_request(actor=OPERATOR, request_id=req.pk, now=LATER)
    with pytest.raises(CongvuError, match="Reason: required"):
        actions.do_reject_request(actor=OPERATOR, request_id=req.pk, reason=" ", now=LATER)
    req = actions.do_reject_request(actor=OPERATOR, request_id=req.pk, now=LATER,
                                    reason="No recruitment decision attached")
    assert req.status == "rejected"
    assert req.items.get().outcome == "No recruitment decision attached"
    events = list(AuditEvent.objects.filter(target=req.target).values_list(
        "action", "actor", "reason"))
    assert events == [
        ("request.file", it.label, ""), ("request.take", "test:operator", ""),
        ("request.reject", "test:operator", "No recruitment decision attached"),
        ("request.close", "test:operator", "No recruitment decision attached")]
    with pytest.raises(NotFound):
        actions.do_take_request(actor=OPERATOR, request_id=req.pk + 100, now=LATER)


def test_fulfil_checks_rows_and_choices_before_writing() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    nam, _ = account(p, "sotttt", "Nguyễn Văn Nam", NOW)
    req = _file(p, "password_reissue", RequestForm(requester_name="A",
                                                   addresses=(AddressRow(nam.address),)), "sotttt")
    with pytest.raises(NotFound, match="no row 7"):
        actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER, numbers=[7])
    with pytest.raises(CongvuError, match="an address is chosen only"):
        actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER,
                          addresses={1: "x"})
    req.refresh_from_db()
    assert req.status == "filed" and _events(req) == ["request.file"]


def test_an_account_created_meanwhile_moves_the_default_address_on() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    req = _file(p, "new_mailboxes", RequestForm(requester_name="A",
                                                persons=(PersonRow("Nguyễn Văn Nam"),)),
                "sotttt")
    do_create_account(actor=OPERATOR, profile=p, agency_ref="sotttt",
                      full_name="Nguyễn Văn Nam", now=NOW)
    [done] = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk, now=LATER).outcomes
    assert (done.address, done.rule) == ("namnv1@quangnam.gov.vn", "QN-4.2")
