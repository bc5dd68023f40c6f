"""Delegation (ủy quyền, GL-4.5, GL-11, GL-13.3): requested by a role holder, approved by
a leader, announced to the whole agency; in force for its period only; the delegate's
actions are recorded as theirs on behalf of the delegator; never delegated further."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.audit.models import AuditEvent
from congvu.eoffice import actions, selectors
from congvu.eoffice.actions import Recipient
from congvu.eoffice.models import (
    Assignment,
    DelegationStatus,
    MailOutbox,
    Notice,
    OfficeRole,
)
from congvu.eoffice.rules import AssignmentKind as K
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, draft, register

pytestmark = pytest.mark.django_db
R = OfficeRole
START, END = at("2026-03-02T08:00"), at("2026-03-06T17:00")


def _delegate(office, who=None, to=None, roles=(R.DEPARTMENT_HEAD,), start=START, end=END,
              approve_by=None):
    delegation = actions.do_request_delegation(
        actor=(who or office.head).actor, agency_id=office.agency.pk,
        delegate_id=(to or office.spec).id, roles=list(roles), starts_at=start, ends_at=end,
        reason="Đi công tác", now=at("2026-03-01T10:00"))
    actions.do_approve_delegation(actor=(approve_by or office.director).actor,
                                  delegation_id=delegation.pk, now=at("2026-03-01T11:00"))
    return actions.do_announce_delegation(actor=(who or office.head).actor,
                                          delegation_id=delegation.pk,
                                          now=at("2026-03-01T12:00"))


def test_gl_11_request_approve_announce(office) -> None:
    delegation = actions.do_request_delegation(
        actor=office.head.actor, agency_id=office.agency.pk, delegate_id=office.spec.id,
        roles=[R.DEPARTMENT_HEAD], starts_at=START, ends_at=END, now=at("2026-03-01T10:00"))
    assert delegation.status == DelegationStatus.REQUESTED
    assert Notice.objects.filter(delegation=delegation, recipient_id=office.director.id,
                                 kind="delegation.requested").exists()
    with pytest.raises(Forbidden):  # announced only once approved
        actions.do_announce_delegation(actor=office.head.actor, delegation_id=delegation.pk,
                                       now=NOW)
    with pytest.raises(Forbidden):  # GL-4.5: a leader approves, not a colleague
        actions.do_approve_delegation(actor=office.vp_head.actor,
                                      delegation_id=delegation.pk, now=NOW)
    actions.do_approve_delegation(actor=office.deputy.actor, delegation_id=delegation.pk,
                                  now=at("2026-03-01T11:00"))
    announced = actions.do_announce_delegation(actor=office.head.actor,
                                               delegation_id=delegation.pk,
                                               now=at("2026-03-01T12:00"))
    assert announced.status == DelegationStatus.ANNOUNCED
    # GL-11: the whole agency is told who acts for whom and when.
    told = set(Notice.objects.filter(delegation=delegation, kind="delegation.announced")
               .values_list("recipient_id", flat=True))
    assert told == {p.id for n, p in office.people.items() if not n.startswith("other")}
    text = Notice.objects.filter(delegation=delegation, kind="delegation.announced").first()
    assert office.spec.account.address in text.text and "06/03/2026" in text.text


def test_gl_11_the_announcement_mails_the_agency_mailbox(office) -> None:
    from congvu.accounts.actions import do_create_agency_mailbox
    from tests.factories import OPERATOR

    mailbox, _otp = do_create_agency_mailbox(actor=OPERATOR, profile=office.p,
                                             agency_ref="sotttt", now=NOW)
    _delegate(office)
    (mail,) = MailOutbox.objects.filter(rule="GL-11")
    assert mail.recipients == mailbox.address


def test_gl_11_the_delegate_acts_on_behalf_of_the_delegator(office) -> None:
    doc = register(office)
    (dept,) = actions.do_assign_incoming(
        actor=office.director.actor, profile=office.p, document_id=doc.pk, now=NOW,
        params=PARAMS, recipients=[Recipient(K.HANDLE, department_id=office.cntt.pk)])
    with pytest.raises(Forbidden):  # not yet
        actions.do_pass_on(actor=office.spec.actor, profile=office.p, assignment_id=dept.pk,
                           recipients=[Recipient(K.HANDLE, account_id=office.spec2.id)],
                           now=NOW, params=PARAMS)
    _delegate(office)
    (child,) = actions.do_pass_on(actor=office.spec.actor, profile=office.p,
                                  assignment_id=dept.pk, now=NOW, params=PARAMS,
                                  recipients=[Recipient(K.HANDLE, account_id=office.spec2.id)])
    assert (child.from_account_id, child.on_behalf_of_id) == (office.spec.id, office.head.id)
    event = AuditEvent.objects.get(action="eoffice.incoming.pass_on")
    assert event.actor == (f"{office.spec.actor.label} on behalf of "
                           f"{office.head.account.address}")
    assert child in selectors.assignments_for(office.spec2.actor, NOW)
    assert dept in selectors.assignments_for(office.spec.actor, NOW)


def test_gl_11_a_delegate_reviews_drafts_for_the_head(office) -> None:
    _delegate(office, to=office.spec2)
    doc = draft(office)
    actions.do_submit_outgoing(actor=office.spec.actor, profile=office.p, outgoing_id=doc.pk,
                               now=NOW, params=PARAMS)
    # The delegate is told, as the head is.
    assert Notice.objects.filter(outgoing=doc, recipient_id=office.spec2.id).exists()
    assert [i.outgoing for i in selectors.reviews_for(office.spec2.actor, NOW)] == [doc]
    actions.do_forward_draft(actor=office.spec2.actor, profile=office.p, outgoing_id=doc.pk,
                             now=NOW, params=PARAMS)
    first = doc.rounds.get(number=1)
    assert (first.decided_by_id, first.on_behalf_of_id) == (office.spec2.id, office.head.id)
    assert first.decided_by_label.endswith(f"on behalf of {office.head.account.address}")


def test_gl_11_only_within_the_period(office) -> None:
    _delegate(office, start=at("2026-03-03T08:00"))
    doc = register(office)
    (dept,) = actions.do_assign_incoming(
        actor=office.director.actor, profile=office.p, document_id=doc.pk, now=NOW,
        params=PARAMS, recipients=[Recipient(K.HANDLE, department_id=office.cntt.pk)])

    def pass_on(when):
        return actions.do_pass_on(actor=office.spec.actor, profile=office.p,
                                  assignment_id=dept.pk, now=when, params=PARAMS,
                                  recipients=[Recipient(K.INFORM, account_id=office.spec2.id)])

    with pytest.raises(Forbidden):
        pass_on(at("2026-03-02T16:00"))  # before it starts
    with pytest.raises(Forbidden):
        pass_on(at("2026-03-06T17:00"))  # it has ended
    assert pass_on(at("2026-03-04T09:00"))


def test_gl_11_rights_received_by_delegation_are_not_delegated_further(office) -> None:
    _delegate(office)
    with pytest.raises(Forbidden, match="GL-11") as refused:
        actions.do_request_delegation(
            actor=office.spec.actor, agency_id=office.agency.pk, delegate_id=office.spec2.id,
            roles=[R.DEPARTMENT_HEAD], starts_at=START, ends_at=END, now=NOW)
    assert refused.value.rule == "GL-11"
    # The delegate may of course delegate their own role.
    own = actions.do_request_delegation(
        actor=office.spec.actor, agency_id=office.agency.pk, delegate_id=office.spec2.id,
        roles=[R.SPECIALIST], starts_at=START, ends_at=END, now=NOW)
    assert own.roles == [R.SPECIALIST]


def test_gl_11_requests_are_checked(office) -> None:
    def request(**kwargs):
        values = {"actor": office.head.actor, "agency_id": office.agency.pk,
                  "delegate_id": office.spec.id, "roles": [R.DEPARTMENT_HEAD],
                  "starts_at": START, "ends_at": END, "now": NOW}
        values.update(kwargs)
        return actions.do_request_delegation(**values)

    with pytest.raises(CongvuError):
        request(delegate_id=office.head.id)  # oneself
    with pytest.raises(CongvuError):
        request(delegate_id=office.other_clerk.id)  # not of the agency
    with pytest.raises(CongvuError):
        request(ends_at=START)
    with pytest.raises(CongvuError):
        request(roles=["king"])
    with pytest.raises(Forbidden):
        request(roles=[R.DIRECTOR])  # not held


def test_gl_4_5_who_approves(office) -> None:
    mine = actions.do_request_delegation(
        actor=office.director.actor, agency_id=office.agency.pk, delegate_id=office.deputy.id,
        roles=[R.DIRECTOR], starts_at=START, ends_at=END, now=NOW)
    with pytest.raises(Forbidden):  # the delegate does not approve their own delegation
        actions.do_approve_delegation(actor=office.deputy.actor, delegation_id=mine.pk,
                                      now=NOW)
    actions.do_approve_delegation(actor=office.director.actor, delegation_id=mine.pk, now=NOW)
    deputy = actions.do_request_delegation(
        actor=office.deputy.actor, agency_id=office.agency.pk, delegate_id=office.head.id,
        roles=[R.DEPUTY_DIRECTOR], starts_at=START, ends_at=END, now=NOW)
    with pytest.raises(Forbidden):  # a deputy does not approve their own
        actions.do_approve_delegation(actor=office.deputy.actor, delegation_id=deputy.pk,
                                      now=NOW)
    rejected = actions.do_approve_delegation(actor=office.director.actor,
                                             delegation_id=deputy.pk, now=NOW, approve=False,
                                             reason="Không cần")
    assert rejected.status == DelegationStatus.REJECTED
    with pytest.raises(Forbidden):
        actions.do_announce_delegation(actor=office.deputy.actor, delegation_id=deputy.pk,
                                       now=NOW)
    pending = selectors.delegations_for(office.director.actor, NOW)
    assert pending["to_approve"] == [] and len(pending["given"]) == 1


def test_gl_11_a_delegated_seat_approves_no_delegation(office) -> None:
    _delegate(office, who=office.director, to=office.deputy, roles=(R.DIRECTOR,))
    request = actions.do_request_delegation(
        actor=office.head.actor, agency_id=office.agency.pk, delegate_id=office.spec.id,
        roles=[R.DEPARTMENT_HEAD], starts_at=START, ends_at=END, now=NOW)
    _delegate(office, who=office.vp_head, to=office.vp_spec)
    with pytest.raises(Forbidden):
        actions.do_approve_delegation(actor=office.vp_spec.actor, delegation_id=request.pk,
                                      now=NOW)


def test_gl_11_revocation_ends_it(office) -> None:
    delegation = _delegate(office)
    with pytest.raises(Forbidden):
        actions.do_revoke_delegation(actor=office.spec2.actor, delegation_id=delegation.pk,
                                     now=NOW)
    actions.do_revoke_delegation(actor=office.head.actor, delegation_id=delegation.pk,
                                 now=NOW, reason="Đã về cơ quan")
    doc = register(office)
    (dept,) = actions.do_assign_incoming(
        actor=office.director.actor, profile=office.p, document_id=doc.pk, now=NOW,
        params=PARAMS, recipients=[Recipient(K.HANDLE, department_id=office.cntt.pk)])
    with pytest.raises(Forbidden):
        actions.do_pass_on(actor=office.spec.actor, profile=office.p, assignment_id=dept.pk,
                           recipients=[Recipient(K.HANDLE, account_id=office.spec2.id)],
                           now=NOW, params=PARAMS)


def test_gl_11_a_delegate_never_opens_classified_documents(office) -> None:
    _delegate(office, who=office.director, to=office.deputy, roles=(R.DIRECTOR,))
    doc = register(office, confidentiality="mat")
    with pytest.raises(Forbidden):
        selectors.incoming_detail(office.deputy.actor, NOW, doc.pk)
    with pytest.raises(Forbidden):
        actions.do_assign_incoming(
            actor=office.deputy.actor, profile=office.p, document_id=doc.pk, now=NOW,
            params=PARAMS, recipients=[Recipient(K.HANDLE, department_id=office.cntt.pk)])
    assert not Assignment.objects.exists()
    assert dt.date(2026, 3, 2) == NOW.date()
