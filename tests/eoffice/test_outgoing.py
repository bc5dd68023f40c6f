"""Outgoing documents (GL-10): draft, submit, review rounds with versions and comments
(GL-10.8) within the reviewer's 3 working days (GL-10.7), approval, numbering by the
clerk (GL-10.5, Decree 30), issue in eOffice, to other agencies and by official e-mail
(KH-7, KH-8.3)."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.audit.models import AuditEvent
from congvu.eoffice import actions, selectors
from congvu.eoffice.models import (
    Decision,
    Distribution,
    DistributionChannel,
    IncomingDocument,
    IncomingStatus,
    MailOutbox,
    Mark,
    Notice,
    OutgoingDocument,
    OutgoingStatus,
    ReviewStage,
)
from congvu.eoffice.rules import Series
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, approved, docx, draft, pdf

pytestmark = pytest.mark.django_db
S = OutgoingStatus


def _submit(office, doc, who=None, when=NOW):
    return actions.do_submit_outgoing(actor=(who or office.spec).actor, profile=office.p,
                                      outgoing_id=doc.pk, now=when, params=PARAMS)


def _version(office, doc, who, note=""):
    return actions.do_add_version(actor=who.actor, outgoing_id=doc.pk, upload=docx(note or "v"),
                                  now=NOW, profile=office.p, note=note, params=PARAMS)


def test_gl_10_1_specialist_drafts_with_the_fields(office) -> None:
    doc = draft(office, urgency="khan", confidentiality="none", deadline=dt.date(2026, 3, 20),
                signer="Nguyễn Ngọc Hùng", recipients_text="UBND tỉnh; Lưu: VT, CNTT")
    assert (doc.status, doc.department_id, doc.doc_type, doc.field) == (
        S.DRAFT, office.cntt.pk, "quyet-dinh", "Công nghệ thông tin")
    assert doc.versions.get().number == 1
    with pytest.raises(Forbidden):  # a clerk does not draft
        draft(office, who=office.clerk)
    with pytest.raises(Forbidden):  # another agency's people
        draft(office, who=office.other_clerk)
    with pytest.raises(Forbidden):  # another department as the submitting unit
        draft(office, department_id=office.vp.pk)
    with pytest.raises(CongvuError):
        draft(office, doc_type="sac-lenh")


def test_gl_10_2_submit_to_the_head_with_a_3_working_day_deadline(office) -> None:
    doc = draft(office)
    first = _submit(office, doc, when=at("2026-04-28T10:00"))
    doc.refresh_from_db()
    assert (doc.status, doc.stage) == (S.UNDER_REVIEW, ReviewStage.DEPARTMENT)
    assert (first.number, first.department_id, first.due_rule) == (1, office.cntt.pk, "GL-10.7")
    assert first.due_at == at("2026-05-05T17:00")  # 29/4, (30/4, 1/5 off), 4/5, 5/5
    assert Notice.objects.filter(outgoing=doc, kind="outgoing.review").get().recipient_id == \
        office.head.id
    with pytest.raises(Forbidden):
        _submit(office, doc)  # already under review
    with pytest.raises(Forbidden):
        _submit(office, draft(office), who=office.spec2)  # not the drafter


def test_gl_10_7_urgent_drafts_are_due_in_one_working_day(office) -> None:
    doc = draft(office, urgency="hoa_toc")
    assert _submit(office, doc).due_at == at("2026-03-03T17:00")
    assert MailOutbox.objects.filter(outgoing=doc).exists()  # urgent: mailed at once


def test_gl_10_2_head_comments_edits_in_blue_and_returns(office) -> None:
    doc = draft(office)
    _submit(office, doc)
    with pytest.raises(Forbidden):
        actions.do_comment_draft(actor=office.vp_head.actor, outgoing_id=doc.pk, text="x",
                                 now=NOW)
    comment = actions.do_comment_draft(actor=office.head.actor, outgoing_id=doc.pk,
                                       text="Sửa căn cứ pháp lý", now=NOW)
    marked = _version(office, doc, office.head, "Bản sửa của trưởng phòng")
    assert (comment.mark, marked.mark, marked.number) == (Mark.BLUE, Mark.BLUE, 2)
    with pytest.raises(CongvuError):  # a return says why
        actions.do_return_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                                comment=" ", now=NOW, params=PARAMS)
    actions.do_return_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                            comment="Bổ sung số liệu", now=NOW, params=PARAMS)
    doc.refresh_from_db()
    assert (doc.status, doc.stage) == (S.RETURNED, "")
    assert Notice.objects.filter(outgoing=doc, kind="outgoing.returned",
                                 recipient_id=office.spec.id).exists()


def test_gl_10_8_every_round_is_a_new_version_with_its_comments_kept(office) -> None:
    doc = draft(office)
    first = _submit(office, doc)
    actions.do_return_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                            comment="Viết lại mục 2", now=NOW, params=PARAMS)
    with pytest.raises(CongvuError, match=r"GL-10\.8"):
        _submit(office, doc)  # the same version again
    v2 = _version(office, doc, office.spec, "Đã sửa mục 2")
    second = _submit(office, doc)
    assert (first.version.number, second.version_id, second.number) == (1, v2.pk, 2)
    rounds = selectors.rounds(office.spec.actor, NOW, doc.pk)
    assert [r.decision for r in rounds] == [Decision.RETURNED, ""]
    assert [c.text for c in rounds[0].comments.all()] == ["Viết lại mục 2"]
    assert [v.number for v in selectors.versions(office.spec.actor, NOW,
                                                 outgoing_id=doc.pk)] == [1, 2]


def test_gl_10_8_disagreement_is_recorded_and_goes_to_the_director(office) -> None:
    doc = draft(office)
    _submit(office, doc)
    upward = actions.do_forward_draft(actor=office.head.actor, profile=office.p,
                                      outgoing_id=doc.pk, now=NOW, params=PARAMS,
                                      comment="Đồng ý trình",
                                      disagreement="Chuyên viên giữ nguyên phương án 2")
    doc.refresh_from_db()
    assert (doc.stage, upward.stage, upward.number) == (ReviewStage.DIRECTOR,
                                                        ReviewStage.DIRECTOR, 2)
    first = doc.rounds.get(number=1)
    assert (first.decision, first.disagreement) == (Decision.FORWARDED,
                                                    "Chuyên viên giữ nguyên phương án 2")
    assert AuditEvent.objects.get(action="eoffice.outgoing.forward").rule == "GL-10.8"
    assert set(Notice.objects.filter(outgoing=doc, kind="outgoing.review")
               .values_list("recipient_id", flat=True)) == {office.head.id,
                                                            office.director.id,
                                                            office.deputy.id}


def test_gl_10_4_director_edits_in_red_and_returns_to_the_head_or_drafter(office) -> None:
    doc = draft(office)
    _submit(office, doc)
    actions.do_forward_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                             now=NOW, params=PARAMS)
    with pytest.raises(Forbidden):  # the head cannot decide the director's round
        actions.do_approve_draft(actor=office.head.actor, outgoing_id=doc.pk, now=NOW)
    red = _version(office, doc, office.director, "Ý kiến Giám đốc")
    assert red.mark == Mark.RED
    actions.do_return_draft(actor=office.director.actor, profile=office.p, outgoing_id=doc.pk,
                            comment="Trưởng phòng rà soát lại", to_department=True, now=NOW,
                            params=PARAMS)
    doc.refresh_from_db()
    assert (doc.status, doc.stage) == (S.UNDER_REVIEW, ReviewStage.DEPARTMENT)
    actions.do_forward_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                             now=NOW, params=PARAMS)
    actions.do_return_draft(actor=office.deputy.actor, profile=office.p, outgoing_id=doc.pk,
                            comment="Chuyên viên sửa", now=NOW, params=PARAMS)
    doc.refresh_from_db()
    assert doc.status == S.RETURNED
    assert [r.stage for r in doc.rounds.order_by("number")] == [
        "department", "director", "department", "director"]


def test_gl_10_head_drafting_goes_straight_to_the_director(office) -> None:
    doc = draft(office, who=office.head)
    current = _submit(office, doc, who=office.head)
    assert current.stage == ReviewStage.DIRECTOR


def test_gl_10_4_only_the_director_approves(office) -> None:
    doc = draft(office)
    _submit(office, doc)
    with pytest.raises(Forbidden):  # still at the department
        actions.do_approve_draft(actor=office.director.actor, outgoing_id=doc.pk, now=NOW)
    actions.do_forward_draft(actor=office.head.actor, profile=office.p, outgoing_id=doc.pk,
                             now=NOW, params=PARAMS)
    for who in (office.clerk, office.spec, office.other_director):
        with pytest.raises(Forbidden):
            actions.do_approve_draft(actor=who.actor, outgoing_id=doc.pk, now=NOW)
    actions.do_approve_draft(actor=office.director.actor, outgoing_id=doc.pk, now=NOW,
                             comment="Đồng ý ban hành")
    doc.refresh_from_db()
    assert doc.status == S.APPROVED and doc.approved_at == NOW
    assert Notice.objects.filter(outgoing=doc, kind="outgoing.approved",
                                 recipient_id=office.clerk.id).exists()


def test_gl_10_5_clerk_numbers_so_qd_stttt(office) -> None:
    doc = approved(office)
    with pytest.raises(Forbidden):
        actions.do_number_outgoing(actor=office.spec.actor, profile=office.p,
                                   outgoing_id=doc.pk, now=NOW)
    doc = actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                     outgoing_id=doc.pk, now=NOW)
    assert (doc.status, doc.series, doc.year, doc.number) == (S.NUMBERED, Series.GENERAL,
                                                              2026, 1)
    assert doc.number_text == "Số: 01/QĐ-STTTT"
    assert doc.document_date == dt.date(2026, 3, 2)
    with pytest.raises(Forbidden):  # numbered once
        actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                   outgoing_id=doc.pk, now=NOW)
    letter = actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                        outgoing_id=approved(office, doc_type="cong-van").pk,
                                        now=NOW)
    assert letter.number_text == "Số: 02/STTTT-CNTT"
    assert Notice.objects.filter(outgoing=doc, kind="outgoing.numbered",
                                 recipient_id=office.spec.id).exists()  # GL-10.6


def test_gl_10_5_series_are_numbered_separately(office) -> None:
    def number(**kwargs):
        doc = approved(office, **kwargs)
        return actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                          outgoing_id=doc.pk, now=NOW)

    assert number().number_text == "Số: 01/QĐ-STTTT"
    assert number(normative=True).number_text == "Số: 01/2026/QĐ-STTTT"
    secret = number(doc_type="bao-cao", confidentiality="mat")
    assert (secret.series, secret.number_text) == (Series.SECRET, "Số: 01/BC-STTTT")
    assert number(doc_type="sao-y").number_text == "Số: 01/SY-STTTT"
    assert number(doc_type="ke-hoach").number_text == "Số: 02/KH-STTTT"


def test_gl_10_5_issue_internally_to_other_agencies_and_by_email_kh_7(office) -> None:
    doc = actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                     outgoing_id=approved(office).pk, now=NOW)
    with pytest.raises(CongvuError, match="PDF"):  # the signed PDF first
        actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p,
                                  outgoing_id=doc.pk, emails=["vp@gialai.gov.vn"], now=NOW,
                                  params=PARAMS)
    actions.do_add_version(actor=office.clerk.actor, outgoing_id=doc.pk, upload=pdf("ký số"),
                           now=NOW, profile=office.p, note="Bản ký số", params=PARAMS)
    with pytest.raises(CongvuError):
        actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p,
                                  outgoing_id=doc.pk, emails=["not-an-address"], now=NOW,
                                  params=PARAMS)
    actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                              now=NOW, params=PARAMS, accounts=[office.vp_spec.id],
                              units=[office.vp.pk], agencies=[office.other.pk],
                              emails=["ubnd@gialai.gov.vn", "UBND@gialai.gov.vn "])
    doc.refresh_from_db()
    assert (doc.status, doc.issued_at) == (S.ISSUED, NOW)
    mail = MailOutbox.objects.get(outgoing=doc, attachment__isnull=False)
    assert (mail.subject, mail.recipients, mail.rule) == (doc.summary, "ubnd@gialai.gov.vn",
                                                          "KH-7")
    assert mail.attachment.mime == "application/pdf"
    assert Distribution.objects.filter(outgoing=doc).count() == 4
    received = IncomingDocument.objects.get(agency=office.other)
    assert (received.status, received.channel, received.number_symbol, received.issuer) == (
        IncomingStatus.RECEIVED, "exchange", "01/QĐ-STTTT", office.agency.name)
    assert received.versions.get().sha256 == mail.attachment.sha256
    assert Notice.objects.filter(incoming=received, recipient_id=office.other_clerk.id).exists()
    assert Notice.objects.filter(outgoing=doc, recipient_id=office.vp_head.id).exists()
    with pytest.raises(Forbidden):  # issued once
        actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p,
                                  outgoing_id=doc.pk, accounts=[office.spec.id], now=NOW,
                                  params=PARAMS)


@pytest.mark.parametrize("level", ["mat", "toi_mat", "tuyet_mat"])
def test_kh_8_3_classified_documents_are_never_emailed(office, level) -> None:
    doc = actions.do_number_outgoing(
        actor=office.clerk.actor, profile=office.p, now=NOW,
        outgoing_id=approved(office, doc_type="bao-cao", confidentiality=level).pk)
    actions.do_add_version(actor=office.clerk.actor, outgoing_id=doc.pk, upload=pdf("mật"),
                           now=NOW, profile=office.p, params=PARAMS)
    with pytest.raises(Forbidden, match=r"KH-8\.3") as refused:
        actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p,
                                  outgoing_id=doc.pk, accounts=[office.director.id],
                                  emails=["ubnd@gialai.gov.vn"], now=NOW, params=PARAMS)
    assert refused.value.rule == "KH-8.3"
    with pytest.raises(Forbidden, match=r"KH-8\.3"):
        actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p,
                                  outgoing_id=doc.pk, agencies=[office.other.pk], now=NOW,
                                  params=PARAMS)
    assert not MailOutbox.objects.filter(outgoing=doc).exists()
    assert not Distribution.objects.filter(outgoing=doc).exists()
    doc.refresh_from_db()
    assert doc.status == S.NUMBERED
    # Internally, to named people, it may go.
    actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                              accounts=[office.director.id], now=NOW, params=PARAMS)
    assert Distribution.objects.get(outgoing=doc).channel == DistributionChannel.INTERNAL


def test_gl_10_6_drafter_corrects_form_after_approval_before_numbering(office) -> None:
    doc = approved(office)
    version = _version(office, doc, office.spec, "Sửa thể thức")
    assert version.number == 2
    numbered = actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                          outgoing_id=doc.pk, now=NOW)
    with pytest.raises(Forbidden):
        _version(office, numbered, office.spec)


def test_gl_10_every_step_is_audited(office) -> None:
    doc = approved(office)
    actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                               now=NOW)
    steps = list(AuditEvent.objects.filter(target=f"outgoing:{doc.pk}").order_by("id")
                 .values_list("action", "actor"))
    assert steps == [
        ("eoffice.outgoing.draft", office.spec.actor.label),
        ("eoffice.outgoing.submit", office.spec.actor.label),
        ("eoffice.outgoing.forward", office.head.actor.label),
        ("eoffice.outgoing.approve", office.director.actor.label),
        ("eoffice.outgoing.number", office.clerk.actor.label),
    ]


def test_gl_10_status_list_for_the_drafter(office) -> None:
    first, second = draft(office), draft(office)
    _submit(office, second)
    mine = selectors.outgoing_for(office.spec.actor, NOW, status=S.UNDER_REVIEW)
    assert list(mine) == [second]
    assert set(OutgoingDocument.objects.values_list("pk", flat=True)) == {first.pk, second.pk}
