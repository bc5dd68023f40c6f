"""Incoming documents (GL-9): registration with the incoming number, duplicates, late
registration (ND30-23), urgent notices, distribution by the director (GL-9.3, GL-9.5,
GL-15.3), passing on (GL-9.4), progress, result, work files and replies (GL-9.6)."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.audit.models import AuditEvent
from congvu.eoffice import actions, selectors
from congvu.eoffice.actions import Recipient
from congvu.eoffice.models import (
    Assignment,
    AssignmentStatus,
    DocumentLink,
    DocumentVersion,
    IncomingDocument,
    IncomingStatus,
    LinkKind,
    MailOutbox,
    Notice,
    OutgoingStatus,
)
from congvu.eoffice.rules import AssignmentKind as K
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, draft, form, pdf, register

pytestmark = pytest.mark.django_db


def test_gl_9_clerk_registers_with_consecutive_incoming_numbers(office) -> None:
    first = register(office)
    second = register(office, number_symbol="45/QĐ-UBND", channel="email")
    third = register(office, number_symbol="46/QĐ-UBND")
    assert [d.number for d in (first, second, third)] == [1, 2, 3]
    assert {d.year for d in (first, second, third)} == {2026}
    assert first.status == IncomingStatus.REGISTERED
    assert first.registered_by_id == office.clerk.id
    version = DocumentVersion.objects.get(incoming=first)
    assert (version.number, version.mime) == (1, "application/pdf")
    event = AuditEvent.objects.filter(action="eoffice.incoming.register").first()
    assert event is not None and event.data["number"] == 1 and event.rule == "GL-9"


def test_gl_9_only_the_agencys_clerk_registers(office) -> None:
    for who in (office.director, office.spec, office.other_clerk):
        with pytest.raises(Forbidden):
            actions.do_register_incoming(actor=who.actor, profile=office.p,
                                         agency_id=office.agency.pk, form=form(),
                                         upload=pdf(), now=NOW, params=PARAMS)
    assert IncomingDocument.objects.count() == 0


def test_gl_9_registration_fields_are_checked(office) -> None:
    with pytest.raises(CongvuError):
        register(office, issuer=" ")
    with pytest.raises(CongvuError):
        register(office, summary="")
    with pytest.raises(CongvuError):
        register(office, doc_type="thu-tay")
    with pytest.raises(CongvuError):
        register(office, urgency="asap")
    with pytest.raises(CongvuError):
        actions.do_register_incoming(actor=office.clerk.actor, profile=office.p,
                                     agency_id=office.agency.pk, form=form(), now=NOW,
                                     params=PARAMS)  # no PDF
    with pytest.raises(CongvuError, match="PDF"):
        actions.do_register_incoming(actor=office.clerk.actor, profile=office.p,
                                     agency_id=office.agency.pk, form=form(), now=NOW,
                                     upload=pdf().__class__("scan.pdf", b"not a pdf"),
                                     params=PARAMS)
    assert IncomingDocument.objects.count() == 0


def test_gl_9_a_classified_document_may_be_registered_on_paper_only(office) -> None:
    doc = actions.do_register_incoming(
        actor=office.clerk.actor, profile=office.p, agency_id=office.agency.pk,
        form=form(confidentiality="mat"), now=NOW, params=PARAMS)
    assert doc.number == 1 and not doc.versions.exists()


def test_gl_9_duplicates_are_found_first_and_refused_unless_confirmed(office) -> None:
    first = register(office, number_symbol="123/UBND-KGVX")
    found = selectors.find_duplicates(office.clerk.actor, NOW, agency_id=office.agency.pk,
                                      number_symbol="Số: 123/UBND-KGVX",
                                      issuer="UBND  tỉnh Gia Lai",
                                      document_date=dt.date(2026, 2, 27))
    assert found == [first]
    with pytest.raises(actions.DuplicateDocument) as refused:
        register(office, number_symbol="123 / UBND-KGVX")
    assert refused.value.duplicates == [first] and "1/2026" in str(refused.value)
    assert IncomingDocument.objects.count() == 1
    again = register(office, number_symbol="123/UBND-KGVX", confirm_duplicate=True)
    assert (again.number, again.duplicate_of_id) == (2, first.pk)
    # Another year's document with the same number is no duplicate (numbers restart).
    other = register(office, document_date=dt.date(2025, 5, 2))
    assert other.duplicate_of_id is None
    with pytest.raises(Forbidden):
        selectors.find_duplicates(office.spec.actor, NOW, agency_id=office.agency.pk,
                                  number_symbol="123/UBND-KGVX", issuer="UBND tỉnh Gia Lai")


def test_gl_9_duplicates_are_per_agency(office) -> None:
    register(office)
    doc = actions.do_register_incoming(actor=office.other_clerk.actor, profile=office.p,
                                       agency_id=office.other.pk, form=form(), upload=pdf(),
                                       now=NOW, params=PARAMS)
    assert (doc.number, doc.duplicate_of_id) == (1, None)


def test_nd30_23_registration_later_than_the_next_working_day_is_late(office) -> None:
    on_time = register(office, received_at=at("2026-02-27T16:00"))  # Friday → Monday
    late = register(office, number_symbol="9/SNV", received_at=at("2026-02-26T08:00"),
                    when=NOW)
    assert not on_time.registered_late
    assert late.registered_late
    assert late.registration_due_at == at("2026-02-27T17:00")
    event = AuditEvent.objects.filter(action="eoffice.incoming.register",
                                      target=late.target).get()
    assert event.rule == "ND30-23" and event.data["late"] is True
    urgent = register(office, number_symbol="10/SNV", urgency="hoa_toc",
                      received_at=at("2026-02-27T10:00"))
    assert urgent.registered_late  # urgent: due the same day


def test_gl_9_director_is_notified_urgent_documents_at_once_by_mail(office) -> None:
    normal = register(office)
    assert set(Notice.objects.filter(incoming=normal).values_list("recipient_id", flat=True)) \
        == {office.director.id, office.deputy.id}
    assert not MailOutbox.objects.exists()
    urgent = register(office, number_symbol="77/UBND-VP", urgency="thuong_khan")
    assert Notice.objects.filter(incoming=urgent, urgent=True).count() == 2
    mail = MailOutbox.objects.get(incoming=urgent)
    assert office.director.account.address in mail.recipients
    assert urgent.summary in mail.subject


def test_gl_9_classified_notices_never_carry_the_summary(office) -> None:
    doc = register(office, confidentiality="toi_mat", urgency="khan")
    notices = list(Notice.objects.filter(incoming=doc))
    assert [n.recipient_id for n in notices] == [office.director.id]  # not the deputy
    assert doc.summary not in notices[0].text and "Tối mật" in notices[0].text
    assert doc.summary not in MailOutbox.objects.get(incoming=doc).subject


def test_gl_9_2_electronic_intake_then_registration(office) -> None:
    received = actions.do_receive_incoming(
        actor=office.clerk.actor, profile=office.p, agency_id=office.agency.pk,
        form=form(channel="email"), upload=pdf("thu"), now=NOW, params=PARAMS)
    assert (received.status, received.number) == (IncomingStatus.RECEIVED, None)
    assert received.registration_due_at == at("2026-03-03T17:00")
    doc = actions.do_register_incoming(
        actor=office.clerk.actor, profile=office.p, agency_id=office.agency.pk,
        form=form(channel="email", summary="UBND tỉnh mời họp ngày 10/3 về chuyển đổi số"),
        received_id=received.pk, now=at("2026-03-03T08:00"), params=PARAMS)
    assert (doc.pk, doc.number, doc.status) == (received.pk, 1, IncomingStatus.REGISTERED)
    assert doc.received_at == NOW and not doc.registered_late
    assert doc.versions.count() == 1


def _assign(office, doc, *recipients, who=None, **kwargs):
    return actions.do_assign_incoming(actor=(who or office.director).actor, profile=office.p,
                                      document_id=doc.pk, recipients=list(recipients),
                                      now=NOW, params=PARAMS, **kwargs)


def test_gl_9_3_director_assigns_several_departments_at_once(office) -> None:
    doc = register(office)
    made = _assign(office, doc,
                   Recipient(K.HANDLE, department_id=office.cntt.pk, directions="Tham mưu",
                             deadline=dt.date(2026, 3, 9)),
                   Recipient(K.HANDLE, department_id=office.vp.pk,
                             deadline=dt.date(2026, 3, 10)),
                   Recipient(K.INFORM, account_id=office.deputy.id))
    doc.refresh_from_db()
    assert doc.status == IncomingStatus.ASSIGNED
    assert [(a.kind, a.deadline) for a in made] == [
        (K.HANDLE, dt.date(2026, 3, 9)), (K.HANDLE, dt.date(2026, 3, 10)), (K.INFORM, None)]
    assert made[0].from_account_id == office.director.id
    notified = set(Notice.objects.filter(incoming=doc, kind="incoming.assigned")
                   .values_list("recipient_id", flat=True))
    assert notified == {office.head.id, office.vp_head.id, office.deputy.id}


def test_gl_9_3_one_lead_with_coordinating_departments(office) -> None:
    doc = register(office)
    made = _assign(office, doc, Recipient(K.LEAD, department_id=office.cntt.pk),
                   Recipient(K.COORDINATE, department_id=office.vp.pk))
    assert [a.kind for a in made] == [K.LEAD, K.COORDINATE]
    with pytest.raises(CongvuError):
        _assign(office, doc, Recipient(K.LEAD, account_id=office.spec.id))


def test_gl_9_5_director_assigns_straight_to_a_specialist(office) -> None:
    doc = register(office)
    (made,) = _assign(office, doc, Recipient(K.HANDLE, account_id=office.spec.id,
                                             directions="Xử lý ngay"))
    assert made.to_account_id == office.spec.id
    assert selectors.assignments_for(office.spec.actor, NOW).get() == made


def test_gl_9_3_targets_must_belong_to_the_agency(office) -> None:
    doc = register(office)
    with pytest.raises(CongvuError):
        _assign(office, doc, Recipient(K.HANDLE, department_id=office.other.pk))
    with pytest.raises(CongvuError):
        _assign(office, doc, Recipient(K.HANDLE, account_id=office.other_clerk.id))
    with pytest.raises(CongvuError):
        _assign(office, doc, Recipient(K.HANDLE, department_id=office.agency.pk))
    with pytest.raises(CongvuError):  # a deadline in the past
        _assign(office, doc, Recipient(K.HANDLE, department_id=office.cntt.pk,
                                       deadline=dt.date(2026, 3, 1)))
    assert not Assignment.objects.exists()


def test_gl_15_3_director_confirms_type_field_and_deadline(office) -> None:
    doc = register(office)
    _assign(office, doc, Recipient(K.HANDLE, department_id=office.cntt.pk,
                                   deadline=dt.date(2026, 3, 20)),
            doc_type="ke-hoach", field="Chuyển đổi số", deadline=dt.date(2026, 3, 31))
    doc.refresh_from_db()
    assert (doc.doc_type, doc.field, doc.deadline) == ("ke-hoach", "Chuyển đổi số",
                                                       dt.date(2026, 3, 31))
    other = register(office, number_symbol="5/KH-UBND", deadline=dt.date(2026, 3, 5))
    with pytest.raises(CongvuError):  # an assignee's deadline after the document's
        _assign(office, other, Recipient(K.HANDLE, department_id=office.cntt.pk,
                                         deadline=dt.date(2026, 3, 6)))


def test_gl_9_3_only_the_director_distributes(office) -> None:
    doc = register(office)
    for who in (office.clerk, office.head, office.spec, office.other_director):
        with pytest.raises(Forbidden):
            _assign(office, doc, Recipient(K.HANDLE, department_id=office.cntt.pk), who=who)
    _assign(office, doc, Recipient(K.HANDLE, department_id=office.cntt.pk), who=office.deputy)


def test_gl_9_3_a_classified_document_is_distributed_by_the_director_in_person(office) -> None:
    doc = register(office, confidentiality="mat")
    with pytest.raises(Forbidden):
        _assign(office, doc, Recipient(K.HANDLE, department_id=office.cntt.pk),
                who=office.deputy)
    _assign(office, doc, Recipient(K.HANDLE, department_id=office.cntt.pk))


def test_gl_9_4_head_passes_on_to_specialists_of_the_department(office) -> None:
    doc = register(office)
    (dept,) = _assign(office, doc, Recipient(K.LEAD, department_id=office.cntt.pk,
                                             deadline=dt.date(2026, 3, 13)))
    made = actions.do_pass_on(actor=office.head.actor, profile=office.p, assignment_id=dept.pk,
                              recipients=[Recipient(K.HANDLE, account_id=office.spec.id,
                                                    directions="Dự thảo báo cáo",
                                                    deadline=dt.date(2026, 3, 11)),
                                          Recipient(K.COORDINATE, account_id=office.spec2.id)],
                              now=NOW, params=PARAMS)
    dept.refresh_from_db()
    assert dept.status == AssignmentStatus.PASSED_ON
    assert [(a.parent_id, a.kind) for a in made] == [(dept.pk, K.HANDLE),
                                                      (dept.pk, K.COORDINATE)]
    with pytest.raises(CongvuError):  # not of the department
        actions.do_pass_on(actor=office.head.actor, profile=office.p, assignment_id=dept.pk,
                           recipients=[Recipient(K.HANDLE, account_id=office.vp_spec.id)],
                           now=NOW, params=PARAMS)
    with pytest.raises(CongvuError):  # later than the department's deadline
        actions.do_pass_on(actor=office.head.actor, profile=office.p, assignment_id=dept.pk,
                           recipients=[Recipient(K.INFORM, account_id=office.spec2.id,
                                                 deadline=dt.date(2026, 3, 20))],
                           now=NOW, params=PARAMS)
    with pytest.raises(Forbidden):  # another department's head
        actions.do_pass_on(actor=office.vp_head.actor, profile=office.p,
                           assignment_id=dept.pk,
                           recipients=[Recipient(K.HANDLE, account_id=office.spec.id)],
                           now=NOW, params=PARAMS)


def test_gl_9_6_progress_result_and_the_document_is_done(office) -> None:
    doc = register(office)
    dept, coord = _assign(office, doc, Recipient(K.LEAD, department_id=office.cntt.pk),
                          Recipient(K.COORDINATE, department_id=office.vp.pk))
    (handler,) = actions.do_pass_on(actor=office.head.actor, profile=office.p,
                                    assignment_id=dept.pk, now=NOW, params=PARAMS,
                                    recipients=[Recipient(K.HANDLE, account_id=office.spec.id)])
    with pytest.raises(Forbidden):
        actions.do_record_progress(actor=office.spec2.actor, assignment_id=handler.pk,
                                   text="…", now=NOW)
    note = actions.do_record_progress(actor=office.spec.actor, assignment_id=handler.pk,
                                      text="Đã dự thảo báo cáo", percent=50, now=NOW)
    handler.refresh_from_db()
    assert (handler.status, note.percent) == (AssignmentStatus.IN_PROGRESS, 50)
    with pytest.raises(CongvuError):
        actions.do_record_progress(actor=office.spec.actor, assignment_id=handler.pk,
                                   text="x", percent=120, now=NOW)
    work_file = actions.do_create_work_file(actor=office.spec.actor, agency_id=office.agency.pk,
                                            title="Chuyển đổi số 2026", now=NOW)
    actions.do_record_result(actor=office.spec.actor, assignment_id=handler.pk,
                             result="Đã báo cáo UBND tỉnh", now=NOW,
                             work_file_id=work_file.pk)
    dept.refresh_from_db()
    doc.refresh_from_db()
    # The lead's handler finished: the department and the document are done; the
    # coordinating department does not hold it open.
    assert dept.status == AssignmentStatus.DONE
    assert (doc.status, doc.done_at) == (IncomingStatus.DONE, NOW)
    coord.refresh_from_db()
    assert coord.status == AssignmentStatus.PENDING
    assert work_file.items.get().incoming_id == doc.pk
    with pytest.raises(Forbidden):
        actions.do_record_result(actor=office.spec.actor, assignment_id=handler.pk,
                                 result="again", now=NOW)


def test_gl_9_6_several_handlers_all_must_finish(office) -> None:
    doc = register(office)
    a, b = _assign(office, doc, Recipient(K.HANDLE, department_id=office.cntt.pk),
                   Recipient(K.HANDLE, department_id=office.vp.pk))
    actions.do_record_result(actor=office.head.actor, assignment_id=a.pk, result="Xong",
                             now=NOW)
    doc.refresh_from_db()
    assert doc.status == IncomingStatus.ASSIGNED
    actions.do_record_result(actor=office.vp_head.actor, assignment_id=b.pk, result="Xong",
                             now=NOW)
    doc.refresh_from_db()
    assert doc.status == IncomingStatus.DONE


def test_gl_9_6_work_files_are_personal(office) -> None:
    doc = register(office)
    mine = actions.do_create_work_file(actor=office.spec.actor, agency_id=office.agency.pk,
                                       title="Hồ sơ", code="CNTT.01", now=NOW)
    with pytest.raises(Forbidden):  # not readable by the specialist yet
        actions.do_file_document(actor=office.spec.actor, work_file_id=mine.pk,
                                 incoming_id=doc.pk, now=NOW)
    with pytest.raises(Forbidden):  # someone else's work file
        actions.do_file_document(actor=office.director.actor, work_file_id=mine.pk,
                                 incoming_id=doc.pk, now=NOW)
    with pytest.raises(Forbidden):
        actions.do_create_work_file(actor=office.other_clerk.actor,
                                    agency_id=office.agency.pk, title="x", now=NOW)
    theirs = actions.do_create_work_file(actor=office.director.actor,
                                         agency_id=office.agency.pk, title="Lãnh đạo", now=NOW)
    item = actions.do_file_document(actor=office.director.actor, work_file_id=theirs.pk,
                                    incoming_id=doc.pk, now=NOW)
    again = actions.do_file_document(actor=office.director.actor, work_file_id=theirs.pk,
                                     incoming_id=doc.pk, now=NOW)
    assert item.pk == again.pk


def test_gl_9_6_the_handler_starts_a_reply_draft(office) -> None:
    doc = register(office)
    (mine,) = _assign(office, doc, Recipient(K.HANDLE, account_id=office.spec.id))
    reply_form = actions.DraftForm(doc_type="cong-van", field="CNTT",
                                   summary="Báo cáo UBND tỉnh kết quả triển khai chuyển đổi số",
                                   urgency="khan")
    from tests.eoffice.conftest import docx

    with pytest.raises(Forbidden):
        actions.do_start_reply(actor=office.spec2.actor, profile=office.p, incoming_id=doc.pk,
                               form=reply_form, upload=docx(), now=NOW, params=PARAMS)
    reply = actions.do_start_reply(actor=office.spec.actor, profile=office.p,
                                   incoming_id=doc.pk, form=reply_form, upload=docx(), now=NOW,
                                   params=PARAMS)
    assert (reply.status, reply.task_id, reply.department_id, reply.drafter_id) == (
        OutgoingStatus.DRAFT, mine.pk, office.cntt.pk, office.spec.id)
    link = DocumentLink.objects.get(outgoing=reply)
    assert (link.kind, link.to_incoming_id) == (LinkKind.REPLY_TO, doc.pk)


def test_gl_10_1_draft_from_a_task_and_related_documents(office) -> None:
    doc = register(office)
    (mine,) = _assign(office, doc, Recipient(K.HANDLE, account_id=office.spec.id))
    outgoing = draft(office, related_incoming=(doc.pk,))
    assert DocumentLink.objects.get(outgoing=outgoing).kind == LinkKind.RELATED
    with pytest.raises(Forbidden):  # may not link what one cannot read
        draft(office, who=office.spec2, related_incoming=(doc.pk,))
    from tests.eoffice.conftest import docx

    task_draft = actions.do_draft_outgoing(
        actor=office.spec.actor, profile=office.p, agency_id=office.agency.pk,
        form=actions.DraftForm(doc_type="to-trinh", summary="Tờ trình phê duyệt kế hoạch "
                                                            "chuyển đổi số năm 2026"),
        upload=docx(), now=NOW, task_id=mine.pk, params=PARAMS)
    assert task_draft.task_id == mine.pk
    with pytest.raises(Forbidden):
        actions.do_draft_outgoing(
            actor=office.spec2.actor, profile=office.p, agency_id=office.agency.pk,
            form=actions.DraftForm(doc_type="to-trinh", summary="Tờ trình x y z t u v"),
            upload=docx(), now=NOW, task_id=mine.pk, params=PARAMS)
