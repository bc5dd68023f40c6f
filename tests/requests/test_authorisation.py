"""Per-agency authorisation in every selector and action (issue 6): an agency contact or
clerk never reaches another agency's requests; only operators process them."""

from __future__ import annotations

import pytest

from congvu.actors import Actor
from congvu.errors import Forbidden
from congvu.requests import actions, selectors
from congvu.requests.filing import AddressRow, PersonRow, RequestForm
from congvu.requests.models import RequestStatus, ServiceRequest
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency, contact

pytestmark = pytest.mark.django_db
NOW = at("2026-03-02T09:00")


@pytest.fixture
def world():
    p = profile("quang-nam")
    agency(p, "sotttt", "Sở Thông tin và Truyền thông")
    agency(p, "ttcntt", "Trung tâm CNTT", kind="unit", parent="sotttt")
    agency(p, "stc", "Sở Tài chính")
    _a, it = contact(p, "sotttt", "Trần Văn An")
    _b, clerk = contact(p, "sotttt", "Lê Thị Bình", role="clerk")
    _c, other_it = contact(p, "stc", "Đỗ Văn Dũng")
    own = actions.do_file_request(actor=it, profile=p, kind="new_mailboxes",
                                  agency_ref="sotttt", now=NOW,
                                  form=RequestForm(persons=(PersonRow("Nguyễn Văn Nam"),)))
    unit = actions.do_file_request(actor=OPERATOR, profile=p, kind="new_mailboxes",
                                   agency_ref="ttcntt", now=NOW, form=RequestForm(
                                       requester_name="X", persons=(PersonRow("Phan Văn Hùng"),)))
    foreign = actions.do_file_request(actor=other_it, profile=p, kind="new_mailboxes",
                                      agency_ref="stc", now=NOW,
                                      form=RequestForm(persons=(PersonRow("Võ Thị Hoa"),)))
    return p, it, clerk, own, unit, foreign


def test_an_agency_contact_and_a_clerk_see_their_agency_subtree_only(world) -> None:
    _p, it, clerk, own, unit, foreign = world
    for actor in (it, clerk):
        assert set(selectors.requests_for(actor, NOW)) == {own, unit}
        assert selectors.request_detail(actor, unit.pk) == unit
        with pytest.raises(Forbidden):
            selectors.request_detail(actor, foreign.pk)
        with pytest.raises(Forbidden):
            selectors.requests_for(actor, NOW, agency_ref="stc")
        assert list(selectors.requests_for(actor, NOW, agency_ref="ttcntt_sotttt")) == [unit]


def test_an_agency_contact_cannot_file_for_another_agency(world) -> None:
    p, it, clerk, *_ = world
    before = ServiceRequest.objects.count()
    for actor in (it, clerk):
        with pytest.raises(Forbidden):
            actions.do_file_request(actor=actor, profile=p, kind="new_mailboxes",
                                    agency_ref="stc", now=NOW,
                                    form=RequestForm(persons=(PersonRow("Võ Văn Kiệt"),)))
    assert ServiceRequest.objects.count() == before


def test_an_agency_contact_cannot_cancel_another_agencys_request(world) -> None:
    _p, it, clerk, own, _unit, foreign = world
    for actor in (it, clerk):
        with pytest.raises(Forbidden):
            actions.do_cancel_request(actor=actor, request_id=foreign.pk, now=NOW)
    foreign.refresh_from_db()
    assert foreign.status == RequestStatus.FILED
    actions.do_cancel_request(actor=clerk, request_id=own.pk, now=NOW, reason="Filed twice")
    own.refresh_from_db()
    assert (own.status, own.status_reason) == (RequestStatus.CANCELLED, "Filed twice")


def test_only_operators_see_the_queue_and_process_requests(world) -> None:
    p, it, clerk, own, _unit, _foreign = world
    for actor in (it, clerk):
        with pytest.raises(Forbidden):
            selectors.queue_for(actor, NOW)
        with pytest.raises(Forbidden):
            selectors.suggestions_for(actor, p, own)
        with pytest.raises(Forbidden):
            actions.do_take_request(actor=actor, request_id=own.pk, now=NOW)
        with pytest.raises(Forbidden):
            actions.do_fulfil(actor=actor, profile=p, request_id=own.pk, now=NOW)
        with pytest.raises(Forbidden):
            actions.do_reject_request(actor=actor, request_id=own.pk, reason="x", now=NOW)
        with pytest.raises(Forbidden):
            actions.do_refuse_item(actor=actor, request_id=own.pk, number=1, reason="x",
                                   now=NOW)
    own.refresh_from_db()
    assert own.status == RequestStatus.FILED and own.items.get().status == "pending"


def test_a_holder_without_a_role_sees_no_request(world) -> None:
    _p, _it, _clerk, own, *_ = world
    me = Actor(kind="self", label="self:x", account_id=None)
    with pytest.raises(Forbidden):
        selectors.requests_for(me, NOW)
    with pytest.raises(Forbidden):
        selectors.request_detail(me, own.pk)
    with pytest.raises(Forbidden):
        actions.do_cancel_request(actor=me, request_id=own.pk, now=NOW)


def test_a_clerk_files_a_restore_for_their_agency(world) -> None:
    p, _it, clerk, *_ = world
    from congvu.accounts.actions import do_suspend

    staff, _ = account(p, "ttcntt_sotttt", "Phan Văn Hùng", NOW)
    do_suspend(actor=OPERATOR, profile=p, account=staff, now=NOW, rule="QN-7.2", reason="idle")
    req = actions.do_file_request(actor=clerk, profile=p, kind="restore", agency_ref="sotttt",
                                  now=NOW, form=RequestForm(
                                      reason="Back from leave",
                                      addresses=(AddressRow(staff.address),)))
    assert req.filed_by_label.startswith("clerk:")
