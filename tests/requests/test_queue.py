"""The operator's queue: open requests, overdue first and flagged, then by deadline."""

from __future__ import annotations

import pytest

from congvu.requests import actions, selectors
from congvu.requests.filing import AddressRow, ChangeRow, PersonRow, RequestForm
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db


def _file(p, kind, when, form):
    return actions.do_file_request(actor=OPERATOR, profile=p, kind=kind, agency_ref="sotttt",
                                   now=at(when), form=form)


def test_qn_5_2_qn_6_2_overdue_first_then_by_deadline_then_no_deadline() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    nam, _ = account(p, "sotttt", "Nguyễn Văn Nam", at("2026-01-05"))
    person = RequestForm(requester_name="A", persons=(PersonRow("Lê Văn Tám"),))
    reissue = RequestForm(requester_name="A", addresses=(AddressRow(nam.address),))
    change = _file(p, "change", "2026-03-02T08:00", RequestForm(
        requester_name="A", changes=(ChangeRow(nam.address, "1", "Phó phòng"),)))
    # QN-5.2: due Monday 9/3 17:00; QN-6.2: due Wednesday 4/3 17:00.
    new_early = _file(p, "new_mailboxes", "2026-03-02T09:00", person)
    reissue_a = _file(p, "password_reissue", "2026-03-02T10:00", reissue)
    # Due Thursday 5/3 and Friday 6/3.
    reissue_b = _file(p, "password_reissue", "2026-03-03T10:00", reissue)
    reissue_c = _file(p, "password_reissue", "2026-03-04T10:00", reissue)
    done = _file(p, "password_reissue", "2026-03-02T07:00", reissue)
    actions.do_reject_request(actor=OPERATOR, request_id=done.pk, reason="Duplicate",
                              now=at("2026-03-02T11:00"))
    now = at("2026-03-05T18:00")  # after Thursday's office hours
    queue = list(selectors.queue_for(OPERATOR, now))
    assert queue == [reissue_a, reissue_b, reissue_c, new_early, change]
    assert [selectors.is_overdue(r, now) for r in queue] == [True, True, False, False, False]
    assert list(selectors.requests_for(OPERATOR, now, overdue=True)) == [reissue_a, reissue_b]
    assert done not in queue
    data = selectors.request_json(reissue_a, p, now)
    assert (data["overdue"], data["deadline"], data["deadline_rule"]) == (
        True, "2026-03-04T17:00:00+07:00", "QN-6.2")


def test_a_request_done_after_its_deadline_is_recorded_late() -> None:
    from congvu.audit.models import AuditEvent

    p = profile("quang-nam")
    agency(p, "sotttt")
    nam, _ = account(p, "sotttt", "Nguyễn Văn Nam", at("2026-01-05"))
    req = _file(p, "password_reissue", "2026-03-02T10:00",
                RequestForm(requester_name="A", addresses=(AddressRow(nam.address),)))
    result = actions.do_fulfil(actor=OPERATOR, profile=p, request_id=req.pk,
                               now=at("2026-03-05T09:00"))
    assert result.request.status == "done"
    close = AuditEvent.objects.get(action="request.close")
    assert (close.rule, close.data["late"]) == ("QN-6.2", True)
    assert selectors.request_json(result.request, p, at("2026-03-06"))["late"] is True
    assert list(selectors.queue_for(OPERATOR, at("2026-03-06"))) == []
