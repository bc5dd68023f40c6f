"""Authorisation (GL-12..15): no one reads a document they are not assigned, filed on, or
entitled to by role; never another agency's; classified documents narrower still (README
"Authorisation")."""

from __future__ import annotations

import pytest

from congvu.accounts.models import Account, AccountState
from congvu.actors import Actor
from congvu.eoffice import actions, selectors
from congvu.eoffice.actions import Recipient
from congvu.eoffice.rules import AssignmentKind as K
from congvu.errors import Forbidden, NotFound
from tests.eoffice.conftest import NOW, PARAMS, approved, draft, register
from tests.factories import OPERATOR

pytestmark = pytest.mark.django_db


def readers(office, doc, *, outgoing: bool = False) -> set[str]:
    """Who of the office may read ``doc`` (through the detail selector)."""
    found = set()
    for name, who in office.people.items():
        try:
            if outgoing:
                selectors.outgoing_detail(who.actor, NOW, doc.pk)
            else:
                selectors.incoming_detail(who.actor, NOW, doc.pk)
        except Forbidden:
            continue
        found.add(name)
    return found


def test_gl_12_15_a_registered_document_is_read_by_the_clerk_and_the_leaders(office) -> None:
    doc = register(office)
    assert readers(office, doc) == {"clerk", "director", "deputy"}


def test_gl_12_15_assignment_opens_it_to_the_department_and_the_person(office) -> None:
    doc = register(office)
    actions.do_assign_incoming(actor=office.director.actor, profile=office.p,
                               document_id=doc.pk, now=NOW, params=PARAMS,
                               recipients=[Recipient(K.HANDLE, department_id=office.cntt.pk),
                                           Recipient(K.INFORM, account_id=office.vp_spec.id)])
    # The Phòng CNTT (its head and its specialists) and the person named; not the VP head.
    assert readers(office, doc) == {"clerk", "director", "deputy", "head", "spec", "spec2",
                                    "vp_spec"}


def test_gl_12_15_never_another_agencys_document(office) -> None:
    doc = register(office)
    for who in (office.other_clerk, office.other_director):
        with pytest.raises(Forbidden):
            selectors.incoming_detail(who.actor, NOW, doc.pk)
        assert not selectors.incoming_for(who.actor, NOW).exists()
        with pytest.raises(Forbidden):
            selectors.incoming_register(who.actor, NOW, agency_id=office.agency.pk, year=2026)


def test_gl_12_15_no_role_no_document(office) -> None:
    doc = register(office)
    for actor in (OPERATOR, Actor(kind="system", label="system"),
                  Actor(kind="self", label="self:x", account_id=None)):
        with pytest.raises(Forbidden):
            selectors.incoming_detail(actor, NOW, doc.pk)
    with pytest.raises(NotFound):
        selectors.incoming_detail(office.clerk.actor, NOW, 999_999)


def test_gl_12_15_a_received_unregistered_document_is_the_clerks_only(office) -> None:
    from tests.eoffice.conftest import form, pdf

    doc = actions.do_receive_incoming(actor=office.clerk.actor, profile=office.p,
                                      agency_id=office.agency.pk, form=form(), upload=pdf(),
                                      now=NOW, params=PARAMS)
    assert readers(office, doc) == {"clerk"}


def test_gl_12_15_classified_incoming_is_narrower(office) -> None:
    doc = register(office, confidentiality="mat")
    assert readers(office, doc) == {"clerk", "director"}  # not the deputy
    actions.do_assign_incoming(actor=office.director.actor, profile=office.p,
                               document_id=doc.pk, now=NOW, params=PARAMS,
                               recipients=[Recipient(K.HANDLE, department_id=office.cntt.pk),
                                           Recipient(K.INFORM, account_id=office.deputy.id)])
    # The department's head, not its specialists; the deputy once named personally.
    assert readers(office, doc) == {"clerk", "director", "head", "deputy"}


def test_gl_12_15_a_draft_is_the_drafters_until_submitted(office) -> None:
    doc = draft(office)
    assert readers(office, doc, outgoing=True) == {"spec"}
    actions.do_submit_outgoing(actor=office.spec.actor, profile=office.p, outgoing_id=doc.pk,
                               now=NOW, params=PARAMS)
    assert readers(office, doc, outgoing=True) == {"spec", "head"}
    actions.do_forward_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                             now=NOW, params=PARAMS)
    assert readers(office, doc, outgoing=True) == {"spec", "head", "director", "deputy"}
    actions.do_approve_draft(actor=office.director.actor, outgoing_id=doc.pk, now=NOW)
    assert readers(office, doc, outgoing=True) == {"spec", "head", "director", "deputy",
                                                   "clerk"}


def test_gl_12_15_issued_documents_reach_their_recipients_only(office) -> None:
    doc = actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                     outgoing_id=approved(office).pk, now=NOW)
    actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                              units=[office.vp.pk], now=NOW, params=PARAMS)
    assert readers(office, doc, outgoing=True) == {"spec", "head", "director", "deputy",
                                                   "clerk", "vp_head", "vp_spec"}


def test_gl_12_15_classified_outgoing_is_narrower(office) -> None:
    doc = approved(office, doc_type="bao-cao", confidentiality="toi_mat")
    assert readers(office, doc, outgoing=True) == {"spec", "head", "director", "clerk"}
    with pytest.raises(Forbidden):
        actions.do_return_draft(actor=office.deputy.actor, profile=office.p,
                                outgoing_id=draft(office, confidentiality="mat").pk,
                                comment="x", now=NOW, params=PARAMS)


def test_gl_12_15_filing_keeps_a_document_readable_for_its_filer(office) -> None:
    doc = register(office)
    (mine,) = actions.do_assign_incoming(
        actor=office.director.actor, profile=office.p, document_id=doc.pk, now=NOW,
        params=PARAMS, recipients=[Recipient(K.HANDLE, account_id=office.spec2.id)])
    work_file = actions.do_create_work_file(actor=office.spec2.actor,
                                            agency_id=office.agency.pk, title="Hồ sơ", now=NOW)
    actions.do_record_result(actor=office.spec2.actor, assignment_id=mine.pk, result="Xong",
                             now=NOW, work_file_id=work_file.pk)
    mine.delete()  # even if the assignment went away (e.g. corrected by the director)
    assert "spec2" in readers(office, doc)


def test_gl_12_15_lists_and_search_apply_the_same_rules(office) -> None:
    seen = register(office, summary="UBND tỉnh mời họp ngày 10/3 về chuyển đổi số")
    hidden = register(office, number_symbol="2/X", summary="Sở Tài chính hướng dẫn quyết toán "
                                                           "năm 2025")
    actions.do_assign_incoming(actor=office.director.actor, profile=office.p,
                               document_id=seen.pk, now=NOW, params=PARAMS,
                               recipients=[Recipient(K.HANDLE, account_id=office.spec.id)])
    assert list(selectors.incoming_for(office.spec.actor, NOW)) == [seen]
    assert list(selectors.incoming_for(office.spec.actor, NOW, text="chuyen doi so")) == [seen]
    assert list(selectors.incoming_for(office.spec.actor, NOW, text="quyết toán")) == []
    assert list(selectors.incoming_for(office.clerk.actor, NOW, text="QUYET TOAN")) == [hidden]


def test_gl_12_15_files_follow_their_document(office) -> None:
    doc = register(office)
    (version,) = selectors.versions(office.clerk.actor, NOW, incoming_id=doc.pk)
    got, content = selectors.version_content(office.director.actor, NOW, version.pk)
    assert got == version and content.startswith(b"%PDF-")
    with pytest.raises(Forbidden):
        selectors.version_content(office.spec.actor, NOW, version.pk)


def test_gl_12_15_registers_are_the_clerks_and_leaders(office) -> None:
    register(office)
    assert selectors.incoming_register(office.clerk.actor, NOW, agency_id=office.agency.pk,
                                       year=2026)
    for who in (office.spec, office.head):
        with pytest.raises(Forbidden):
            selectors.incoming_register(who.actor, NOW, agency_id=office.agency.pk, year=2026)


def test_gl_12_15_a_suspended_holder_keeps_no_powers(office) -> None:
    doc = register(office)
    Account.objects.filter(pk=office.director.id).update(state=AccountState.SUSPENDED)
    assert "director" not in readers(office, doc)
    with pytest.raises(Forbidden):
        actions.do_assign_incoming(
            actor=office.director.actor, profile=office.p, document_id=doc.pk, now=NOW,
            params=PARAMS, recipients=[Recipient(K.HANDLE, department_id=office.cntt.pk)])
