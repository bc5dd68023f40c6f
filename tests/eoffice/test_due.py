"""``run_due(now)`` for the tasks worker: overdue reviews escalated (GL-10.7), late
registrations flagged (ND30-23), missed assignment deadlines; once each, audited; and
what the selectors show as late."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.audit.models import AuditEvent
from congvu.eoffice import actions, selectors
from congvu.eoffice.actions import Recipient
from congvu.eoffice.due import run_due
from congvu.eoffice.models import Notice
from congvu.eoffice.params import EofficeParams
from congvu.eoffice.rules import AssignmentKind as K
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, draft, form, pdf, register

pytestmark = pytest.mark.django_db


def _due(office, when, **kwargs):
    return run_due(at(when), profile=office.p, params=kwargs.get("params", PARAMS))


def test_gl_10_7_a_review_past_3_working_days_is_escalated_once(office) -> None:
    doc = draft(office)
    current = actions.do_submit_outgoing(actor=office.spec.actor, profile=office.p,
                                         outgoing_id=doc.pk, now=NOW, params=PARAMS)
    assert current.due_at == at("2026-03-05T17:00")  # Tue, Wed, Thu
    assert _due(office, "2026-03-05T16:59")["reviews"] == 0
    assert _due(office, "2026-03-05T17:01")["reviews"] == 1
    told = set(Notice.objects.filter(outgoing=doc, kind="outgoing.overdue")
               .values_list("recipient_id", flat=True))
    # The reviewer, the leaders above them, and the drafter.
    assert told == {office.head.id, office.director.id, office.deputy.id, office.spec.id}
    event = AuditEvent.objects.get(action="eoffice.review_overdue")
    assert (event.rule, event.actor) == ("GL-10.7", "system:eoffice")
    assert _due(office, "2026-03-06T09:00")["reviews"] == 0  # idempotent
    (item,) = selectors.reviews_for(office.head.actor, at("2026-03-06T09:00"))
    assert item.overdue
    assert [i.outgoing for i in selectors.overdue_reviews(
        office.clerk.actor, at("2026-03-06T09:00"), agency_id=office.agency.pk)] == [doc]


def test_gl_10_7_a_decided_round_is_not_escalated(office) -> None:
    doc = draft(office)
    actions.do_submit_outgoing(actor=office.spec.actor, profile=office.p, outgoing_id=doc.pk,
                               now=NOW, params=PARAMS)
    actions.do_forward_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                             now=at("2026-03-04T09:00"), params=PARAMS)
    # The director's round started on Wednesday: due Monday 9/3.
    assert _due(office, "2026-03-06T09:00")["reviews"] == 0
    assert _due(office, "2026-03-09T17:30")["reviews"] == 1


def test_nd30_23_an_unregistered_document_past_its_due_time_is_flagged(office) -> None:
    received = actions.do_receive_incoming(actor=office.clerk.actor, profile=office.p,
                                           agency_id=office.agency.pk, form=form(),
                                           upload=pdf(), now=NOW, params=PARAMS)
    (waiting,) = selectors.intake_for(office.clerk.actor, at("2026-03-03T18:00"),
                                      agency_id=office.agency.pk)
    assert (waiting.document, waiting.waiting) == (received, True)
    assert _due(office, "2026-03-03T16:00")["registrations"] == 0
    assert _due(office, "2026-03-03T17:30")["registrations"] == 1
    told = set(Notice.objects.filter(incoming=received, kind="incoming.late")
               .values_list("recipient_id", flat=True))
    assert told == {office.clerk.id, office.director.id, office.deputy.id}
    late = selectors.late_registrations(office.clerk.actor, at("2026-03-03T17:30"),
                                        agency_id=office.agency.pk)
    assert [(x.document, x.waiting) for x in late] == [(received, True)]
    assert _due(office, "2026-03-04T09:00")["registrations"] == 0
    doc = actions.do_register_incoming(actor=office.clerk.actor, profile=office.p,
                                       agency_id=office.agency.pk, form=form(),
                                       received_id=received.pk, now=at("2026-03-04T09:00"),
                                       params=PARAMS)
    assert doc.registered_late
    late = selectors.late_registrations(office.clerk.actor, at("2026-03-04T10:00"),
                                        agency_id=office.agency.pk)
    assert [(x.document, x.waiting) for x in late] == [(doc, False)]


def test_gl_9_missed_assignment_deadlines_are_flagged(office) -> None:
    doc = register(office)
    (mine,) = actions.do_assign_incoming(
        actor=office.director.actor, profile=office.p, document_id=doc.pk, now=NOW,
        params=PARAMS, recipients=[Recipient(K.HANDLE, account_id=office.spec.id,
                                             deadline=dt.date(2026, 3, 4))])
    assert _due(office, "2026-03-04T20:00")["assignments"] == 0  # still the 4th locally
    assert _due(office, "2026-03-05T08:00")["assignments"] == 1
    told = set(Notice.objects.filter(incoming=doc, kind="incoming.overdue")
               .values_list("recipient_id", flat=True))
    assert told == {office.spec.id, office.director.id}
    off = EofficeParams(escalate_assignments=False)
    assert _due(office, "2026-03-06T08:00", params=off)["assignments"] == 0
    assert mine.pk


def test_run_due_with_nothing_to_do(office) -> None:
    assert _due(office, "2026-03-02T09:00") == {"reviews": 0, "registrations": 0,
                                                "assignments": 0}
