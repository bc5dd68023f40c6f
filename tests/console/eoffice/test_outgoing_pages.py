"""The outgoing-document pages (issue 7, GL-10) in the console, in Vietnamese: the list
(and the clerks' queues), the reviewer's queue with the GL-10.7 deadline in working days,
the new draft (and the reply to an incoming document), the detail page with its versions
(GL-10.8), rounds and number (``Số: 01/QĐ-STTTT``), and every action, each shown only to
whoever may take it and refused by the domain to anyone else (KH-8.3 included)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from congvu.eoffice import actions
from congvu.eoffice.actions import Recipient
from congvu.eoffice.models import (
    Distribution,
    DocumentLink,
    LinkKind,
    MailOutbox,
    OutgoingDocument,
    OutgoingStatus,
    ReviewRound,
)
from congvu.eoffice.rules import AssignmentKind
from tests.conftest import at
from tests.console.conftest import csrf, logged_in
from tests.eoffice.conftest import NOW, PARAMS, Office, approved, docx, draft, pdf, register
from tests.factories import account

pytestmark = pytest.mark.django_db
S = OutgoingStatus
NEW = "/console/eoffice/outgoing/new/"
SUMMARY = "Quyết định ban hành Quy chế quản lý hệ thống Quản lý văn bản và điều hành"


def _url(doc: Any, action: str = "") -> str:
    return f"/console/eoffice/outgoing/{doc.pk}/" + (f"{action}/" if action else "")


def _html(resp: Any) -> str:
    return resp.content.decode()


def _main(resp: Any) -> str:
    """The page's own content (not the header's language switch, which repeats the URL)."""
    return _html(resp).split("<main", 1)[-1]


def _post(c: Client, page_url: str, url: str, data: dict[str, Any]) -> Any:
    page = c.get(page_url)
    assert page.status_code == 200, _html(page)[:400]
    return c.post(url, {"csrfmiddlewaretoken": csrf(_html(page)), **data})


def _upload(name: str = "du-thao.docx", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else docx().content)


def _draft_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"doc_type": "quyet-dinh", "summary": SUMMARY,
                            "field": "Công nghệ thông tin", "urgency": "normal",
                            "confidentiality": "none", "copies": "2",
                            "signer": "Nguyễn Ngọc Hùng",
                            "recipients_text": "UBND tỉnh; Lưu: VT, CNTT",
                            "file": _upload()}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _field_error(html: str, field: str) -> str:
    found = re.findall(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', html, re.S)
    return " ".join(found)


def _submitted(o: Office, when: dt.datetime = NOW, **kwargs: Any) -> Any:
    doc = draft(o, when=when, **kwargs)
    actions.do_submit_outgoing(actor=o.spec.actor, profile=o.p, outgoing_id=doc.pk,
                               now=when, params=PARAMS)
    return doc


def _numbered(o: Office, **kwargs: Any) -> Any:
    doc = approved(o, **kwargs)
    return actions.do_number_outgoing(actor=o.clerk.actor, profile=o.p, outgoing_id=doc.pk,
                                      now=NOW)


# --- the new draft -----------------------------------------------------------------------


def test_gl_10_1_the_new_draft_form_offers_the_decree_30_types_in_vietnamese(
        web_office: Office, browser_of: Any) -> None:
    page = browser_of(web_office.spec).get(NEW)
    html = _main(page)
    assert page.status_code == 200
    for text in ("Dự thảo mới", "Quyết định (QĐ)", "Tờ trình (TTr)", "Công văn",
                 "Trích yếu", "Độ khẩn", "Hỏa tốc", "Độ mật", "Tuyệt mật",
                 "Phòng Công nghệ thông tin", "Nơi nhận"):
        assert text in html, text
    # The signer is suggested from the agency's leaders.
    assert "Nguyễn Ngọc Hùng" in html


def test_gl_10_1_a_specialist_saves_a_draft_with_its_fields_and_file(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    c = browser_of(o.spec)
    resp = _post(c, NEW, NEW, _draft_data(deadline="20/03/2026", urgency="khan"))
    assert resp.status_code == 302, _main(resp)[:2000]
    doc = OutgoingDocument.objects.get()
    assert resp["Location"] == _url(doc)
    assert (doc.status, doc.drafter_id, doc.department_id, doc.doc_type, doc.urgency,
            doc.deadline, doc.copies) == (S.DRAFT, o.spec.id, o.cntt.pk, "quyet-dinh",
                                          "khan", dt.date(2026, 3, 20), 2)
    assert doc.versions.get().original_name == "du-thao.docx"
    page = c.get(resp["Location"])
    html = _main(page)
    assert SUMMARY in html and "Dự thảo" in html and "Khẩn" in html
    assert "Đã lưu dự thảo" in html  # the message after the redirect
    assert 'id="submit-form"' in html  # the drafter may submit it
    assert 'id="approve-form"' not in html


def test_validation_errors_are_shown_per_field_in_vietnamese_and_nothing_is_written(
        web_office: Office, browser_of: Any) -> None:
    c = browser_of(web_office.spec)
    resp = _post(c, NEW, NEW, _draft_data(summary="  ", doc_type="sac-lenh",
                                          deadline="31/02/2026", copies="0", file=None))
    html = _main(resp)
    assert resp.status_code == 400
    assert "Trích yếu: bắt buộc." in _field_error(html, "summary")
    assert "Loại văn bản: chọn một mục trong danh sách." in _field_error(html, "doc_type")
    assert "Hạn xử lý: không phải là ngày" in _field_error(html, "deadline")
    assert "Số bản: tối thiểu 1." in _field_error(html, "copies")
    assert "Tệp dự thảo: hãy chọn tệp để tải lên." in _field_error(html, "file")
    assert "Chưa lưu dự thảo" in html
    assert OutgoingDocument.objects.count() == 0


def test_the_file_and_the_numbering_series_are_checked_beside_their_fields(
        web_office: Office, browser_of: Any) -> None:
    c = browser_of(web_office.spec)
    resp = _post(c, NEW, NEW, _draft_data(
        file=_upload("virus.exe", b"MZ\x90\x00"), normative="on", confidentiality="mat"))
    html = _main(resp)
    assert resp.status_code == 400
    assert "Không chấp nhận tệp loại .exe" in _field_error(html, "file")
    assert "không được đóng dấu mật" in _field_error(html, "normative")
    resp = _post(c, NEW, NEW, _draft_data(file=_upload("du-thao.pdf", b"not a pdf")))
    assert "không phải là tệp PDF" in _field_error(_main(resp), "file")
    assert OutgoingDocument.objects.count() == 0


def test_gl_10_1_only_specialists_and_heads_draft(web_office: Office, browser_of: Any) -> None:
    for who in (web_office.clerk, web_office.director, web_office.other_clerk):
        resp = browser_of(who).get(NEW)
        assert resp.status_code == 403, who
        assert "chuyên viên" in _main(resp).lower()


def test_gl_9_6_the_handler_replies_to_an_incoming_document(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    incoming = register(o)
    actions.do_assign_incoming(actor=o.director.actor, profile=o.p, document_id=incoming.pk,
                               recipients=[Recipient(AssignmentKind.HANDLE,
                                                     account_id=o.spec.id)],
                               now=NOW, params=PARAMS)
    c = browser_of(o.spec)
    url = f"{NEW}?reply_to={incoming.pk}"
    page = c.get(url)
    assert page.status_code == 200
    assert "123/UBND-KGVX" in _main(page) and 'name="reply_to"' in _main(page)
    resp = c.post(NEW, {"csrfmiddlewaretoken": csrf(_html(page)), "reply_to": incoming.pk,
                        **_draft_data(doc_type="cong-van",
                                      summary="Báo cáo UBND tỉnh kết quả chuyển đổi số")})
    assert resp.status_code == 302, _main(resp)[:2000]
    reply = OutgoingDocument.objects.get()
    link = DocumentLink.objects.get(outgoing=reply)
    assert (link.kind, link.to_incoming_id) == (LinkKind.REPLY_TO, incoming.pk)
    assert "Trả lời văn bản" in _main(c.get(_url(reply)))
    # Someone who cannot read the incoming document cannot start its reply.
    assert browser_of(o.vp_spec).get(url).status_code == 403


# --- the lists -----------------------------------------------------------------------------


def test_the_list_shows_the_persons_documents_with_status_and_filters(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    mine = draft(o, summary="Kế hoạch chuyển đổi số năm 2026 của Sở")
    submitted = _submitted(o, summary="Báo cáo kết quả an toàn thông tin quý I")
    theirs = draft(o, who=o.spec2, summary="Tờ trình mua sắm thiết bị mạng")
    c = browser_of(o.spec)
    html = _main(c.get("/console/eoffice/outgoing/"))
    assert f'id="outgoing-{mine.pk}"' in html and f'id="outgoing-{submitted.pk}"' in html
    assert f'id="outgoing-{theirs.pk}"' not in html  # another specialist's draft
    assert "Đang trình duyệt (lãnh đạo phòng)" in html
    html = _main(c.get("/console/eoffice/outgoing/", {"status": "draft"}))
    assert f'id="outgoing-{mine.pk}"' in html and f'id="outgoing-{submitted.pk}"' not in html
    html = _main(c.get("/console/eoffice/outgoing/", {"q": "an toan thong tin"}))
    assert f'id="outgoing-{submitted.pk}"' in html and f'id="outgoing-{mine.pk}"' not in html
    # htmx asks for the table only.
    part = c.get("/console/eoffice/outgoing/", {"partial": "table", "status": "draft"},
                 HTTP_HX_REQUEST="true")
    assert _html(part).lstrip().startswith('<div id="outgoing-table">')
    # The head sees the submitted draft only (not the one still being written).
    html = _main(browser_of(o.head).get("/console/eoffice/outgoing/"))
    assert f'id="outgoing-{submitted.pk}"' in html and f'id="outgoing-{mine.pk}"' not in html


def test_gl_10_5_clerks_see_what_waits_for_a_number_and_for_issue(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    waiting = approved(o, summary="Quyết định thành lập Tổ công tác chuyển đổi số")
    numbered = _numbered(o, summary="Quyết định phê duyệt kế hoạch đào tạo CNTT")
    html = _main(browser_of(o.clerk).get("/console/eoffice/outgoing/"))
    assert f'id="to-number-{waiting.pk}"' in html and f'id="to-issue-{numbered.pk}"' in html
    assert f'id="to-number-{numbered.pk}"' not in html
    assert "01/QĐ-STTTT" in html
    # A specialist has no clerk's queue.
    assert 'id="clerk-queue"' not in _main(browser_of(o.spec).get("/console/eoffice/outgoing/"))


def test_pages_need_an_eoffice_role(web_office: Office, browser_of: Any) -> None:
    nobody, _otp = account(web_office.p, "sotttt", "Trương Văn Không",
                           dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC))
    c = logged_in(nobody)
    for url in ("/console/eoffice/outgoing/", "/console/eoffice/reviews/", NEW):
        resp = c.get(url)
        assert resp.status_code == 403, url
        assert "vai trò" in _main(resp), url


def test_gl_10_7_the_review_queue_puts_overdue_drafts_first_and_says_so(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    from django.utils import timezone

    now = timezone.now()
    fresh = _submitted(o, when=now, summary="Kế hoạch tổ chức hội nghị chuyển đổi số")
    late = _submitted(o, when=at("2026-03-02T09:00"),
                      summary="Báo cáo tổng kết công tác CNTT năm 2025")
    page = browser_of(o.head).get("/console/eoffice/reviews/")
    html = _main(page)
    assert page.status_code == 200
    assert html.index(f'id="reviews-{late.pk}"') < html.index(f'id="reviews-{fresh.pk}"')
    late_row = re.search(rf'<tr id="reviews-{late.pk}" class="overdue">(.*?)</tr>', html, re.S)
    assert late_row and "Quá hạn" in late_row.group(1)
    assert re.search(r"quá hạn \d+ ngày làm việc", late_row.group(1))
    assert "05/03/2026 17:00" in late_row.group(1)  # 3 working days after Monday 2/3
    fresh_row = re.search(rf'<tr id="reviews-{fresh.pk}">(.*?)</tr>', html, re.S)
    assert fresh_row and re.search(r"còn \d ngày làm việc", fresh_row.group(1))
    assert "1 dự thảo đã quá hạn cho ý kiến" in html
    # The director watches the agency's overdue reviews; a specialist has no queue.
    assert f'id="agency-overdue-{late.pk}"' in _main(browser_of(o.director).get(
        "/console/eoffice/reviews/"))
    assert "Không có dự thảo nào cần cho ý kiến" in _main(browser_of(o.spec).get(
        "/console/eoffice/reviews/"))


# --- one document and its actions ---------------------------------------------------------


def test_gl_10_2_the_head_returns_with_a_comment_and_gl_10_8_resubmits_only_as_a_new_version(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = draft(o)
    spec, head = browser_of(o.spec), browser_of(o.head)
    resp = _post(spec, _url(doc), _url(doc, "submit"), {})
    assert resp.status_code == 302
    assert "Đã trình lãnh đạo phòng" in _main(spec.get(_url(doc)))
    # Before the submission the head could not read it; now they see the review forms.
    html = _main(head.get(_url(doc)))
    assert 'id="return-form"' in html and 'id="forward-form"' in html
    assert 'id="approve-form"' not in html
    # A return needs a comment.
    resp = _post(head, _url(doc), _url(doc, "return"), {"r-comment": " "})
    assert resp.status_code == 400
    assert "Ý kiến: bắt buộc." in _field_error(_main(resp), "r-comment")
    resp = _post(head, _url(doc), _url(doc, "comment"), {"c-comment": "Bổ sung căn cứ pháp lý"})
    assert resp.status_code == 302
    resp = _post(head, _url(doc), _url(doc, "return"),
                 {"r-comment": "Sửa Điều 3 theo ý kiến Văn phòng"})
    assert resp.status_code == 302
    doc.refresh_from_db()
    assert doc.status == S.RETURNED
    html = _main(spec.get(_url(doc)))
    assert "Bổ sung căn cứ pháp lý" in html and "Sửa Điều 3 theo ý kiến Văn phòng" in html
    assert "Trả lại" in html
    # Resubmitting the same version is refused with GL-10.8; a new version goes through.
    resp = _post(spec, _url(doc), _url(doc, "submit"), {})
    assert resp.status_code == 400 and "GL-10.8" in _main(resp)
    resp = _post(spec, _url(doc), _url(doc, "version"),
                 {"file": _upload("du-thao-v2.docx"), "note": "Đã sửa Điều 3"})
    assert resp.status_code == 302
    resp = _post(spec, _url(doc), _url(doc, "submit"), {})
    assert resp.status_code == 302
    html = _main(spec.get(_url(doc)))
    assert 'id="version-2"' in html and "du-thao-v2.docx" in html
    assert 'id="round-1"' in html and 'id="round-2"' in html


def test_gl_10_4_to_10_5_forward_approve_number_and_issue_through_the_pages(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = _submitted(o)
    head, director, clerk = browser_of(o.head), browser_of(o.director), browser_of(o.clerk)
    assert _post(head, _url(doc), _url(doc, "forward"),
                 {"f-comment": "Đồng ý trình", "f-disagreement": ""}).status_code == 302
    html = _main(director.get(_url(doc)))
    assert 'id="approve-form"' in html and 'id="forward-form"' not in html
    assert "Trả lại lãnh đạo phòng" in html  # the director may return to the head
    assert _post(director, _url(doc), _url(doc, "approve"), {"a-comment": ""}).status_code == 302
    html = _main(clerk.get(_url(doc)))
    assert 'id="number-form"' in html and "sổ văn bản đi" in html
    assert "01/QĐ" not in html  # nothing reserved before the number is taken
    resp = _post(clerk, _url(doc), _url(doc, "number"), {})
    assert resp.status_code == 302
    html = _main(clerk.get(_url(doc)))
    assert '<p class="doc-number" id="number">Số: 01/QĐ-STTTT</p>' in html
    # E-mail needs the signed PDF as the latest version.
    assert 'id="needs-pdf"' in html and SUMMARY in html.split('id="mail-subject"')[1]
    resp = _post(clerk, _url(doc), _url(doc, "issue"),
                 {"units": [o.cntt.pk], "emails": "vanthu@ubnd.gialai.gov.vn"})
    assert resp.status_code == 400 and "PDF" in _main(resp)
    assert _post(clerk, _url(doc), _url(doc, "version"),
                 {"file": _upload("ban-ky-so.pdf", pdf("Ký số").content)}).status_code == 302
    resp = _post(clerk, _url(doc), _url(doc, "issue"),
                 {"units": [o.cntt.pk], "accounts": [o.vp_head.id],
                  "emails": "vanthu@ubnd.gialai.gov.vn, sonoivu@gialai.gov.vn"})
    assert resp.status_code == 302, _main(resp)[:3000]
    doc.refresh_from_db()
    assert doc.status == S.ISSUED
    mail = MailOutbox.objects.get(outgoing=doc)
    assert mail.subject == SUMMARY  # KH-7
    html = _main(clerk.get(_url(doc)))
    assert "Phòng Công nghệ thông tin" in html.split('id="distributions"')[1]
    assert "sonoivu@gialai.gov.vn" in html and "Đã phát hành" in html
    # The head of the receiving unit reads it.
    assert browser_of(o.vp_head).get(_url(doc)).status_code == 200


def test_a_specialist_cannot_approve_and_sees_no_approve_button(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = _submitted(o)
    actions.do_forward_draft(actor=o.head.actor, profile=o.p, outgoing_id=doc.pk, now=NOW,
                             params=PARAMS)
    spec = browser_of(o.spec)
    assert 'id="approve-form"' not in _main(spec.get(_url(doc)))
    resp = _post(spec, _url(doc), _url(doc, "approve"), {"a-comment": "tự duyệt"})
    assert resp.status_code == 403
    doc.refresh_from_db()
    assert doc.status == S.UNDER_REVIEW


def test_a_clerk_cannot_number_an_unapproved_draft(web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = _submitted(o)
    clerk = browser_of(o.clerk)
    # Not yet approved: the clerk does not even read it, let alone number it.
    assert clerk.get(_url(doc)).status_code == 403
    page = clerk.get("/console/eoffice/outgoing/")
    resp = clerk.post(_url(doc, "number"), {"csrfmiddlewaretoken": csrf(_html(page))})
    assert resp.status_code == 403
    doc.refresh_from_db()
    assert (doc.status, doc.number) == (S.UNDER_REVIEW, None)


def test_nobody_else_reads_a_draft_or_its_files(web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = draft(o)
    version = doc.versions.get()
    file_url = f"{_url(doc)}versions/{version.pk}/"
    resp = browser_of(o.spec).get(file_url)
    assert resp.status_code == 200 and resp.content == docx().content
    assert "attachment" in resp["Content-Disposition"]
    for who, status in ((o.spec2, 403), (o.head, 403), (o.clerk, 403),
                        (o.other_director, 403), (o.other_clerk, 403)):
        c = browser_of(who)
        assert c.get(_url(doc)).status_code == status, who
        assert c.get(file_url).status_code == status, who
        assert SUMMARY not in _main(c.get("/console/eoffice/outgoing/"))
    assert browser_of(o.spec).get("/console/eoffice/outgoing/999999/").status_code == 404


def test_another_agencys_people_cannot_act_on_a_document(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = approved(o)
    theirs = browser_of(o.other_clerk)
    page = theirs.get("/console/eoffice/outgoing/")
    for action in ("number", "issue", "approve", "submit"):
        resp = theirs.post(_url(doc, action), {"csrfmiddlewaretoken": csrf(_html(page)),
                                               "units": [o.agency.pk]})
        assert resp.status_code == 403, action
    doc.refresh_from_db()
    assert doc.status == S.APPROVED


def test_kh_8_3_a_classified_document_is_never_e_mailed(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = _numbered(o, confidentiality="mat")
    actions.do_add_version(actor=o.clerk.actor, outgoing_id=doc.pk, upload=pdf("Mật"),
                           now=NOW, profile=o.p, params=PARAMS)
    clerk = browser_of(o.clerk)
    html = _main(clerk.get(_url(doc)))
    assert 'id="no-email"' in html and "KH-8.3" in html
    assert 'name="emails"' not in html and 'name="agencies"' not in html
    assert "Số: 01/QĐ-STTTT" in html  # the classified series starts at 1 too
    resp = _post(clerk, _url(doc), _url(doc, "issue"),
                 {"units": [o.cntt.pk], "emails": "vanthu@ubnd.gialai.gov.vn"})
    assert resp.status_code == 403
    assert "KH-8.3" in _main(resp) and "không được gửi qua thư điện tử" in _main(resp)
    doc.refresh_from_db()
    assert doc.status == S.NUMBERED
    assert not MailOutbox.objects.filter(outgoing=doc).exists()
    assert not Distribution.objects.filter(outgoing=doc).exists()
    # In eOffice, to a unit of the agency, it goes.
    assert _post(clerk, _url(doc), _url(doc, "issue"),
                 {"units": [o.cntt.pk]}).status_code == 302


def test_an_invalid_e_mail_address_is_named(web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = _numbered(o)
    clerk = browser_of(o.clerk)
    resp = _post(clerk, _url(doc), _url(doc, "issue"), {"emails": "khong-phai-dia-chi"})
    assert resp.status_code == 400
    assert "khong-phai-dia-chi" in _main(resp)
    resp = _post(clerk, _url(doc), _url(doc, "issue"), {})
    assert resp.status_code == 400 and "nơi nhận" in _main(resp)
    assert ReviewRound.objects.filter(outgoing=doc).count() == 2
    doc.refresh_from_db()
    assert doc.status == S.NUMBERED


def test_gl_10_4_the_director_returns_to_the_head_and_the_disagreement_is_kept(
        web_office: Office, browser_of: Any) -> None:
    o = web_office
    doc = _submitted(o)
    head, director = browser_of(o.head), browser_of(o.director)
    assert _post(head, _url(doc), _url(doc, "forward"), {
        "f-disagreement": "Chuyên viên giữ Điều 5, phòng đề nghị bỏ"}).status_code == 302
    resp = _post(director, _url(doc), _url(doc, "return"),
                 {"r-comment": "Phòng rà soát lại Điều 5", "r-to_department": "on"})
    assert resp.status_code == 302
    doc.refresh_from_db()
    assert (doc.status, doc.stage) == (S.UNDER_REVIEW, "department")
    html = _main(head.get(_url(doc)))
    assert "Chuyên viên giữ Điều 5, phòng đề nghị bỏ" in html
    assert 'id="round-3"' in html and 'id="forward-form"' in html


# --- every route of the area -----------------------------------------------------------------


def _routes(doc: Any) -> list[str]:
    from congvu.console.pages import eoffice_outgoing

    version = doc.versions.get()
    return ["/console/" + str(p.pattern).replace("<int:document_id>", str(doc.pk))
            .replace("<int:version_id>", str(version.pk))
            for p in eoffice_outgoing.urlpatterns]


def test_every_outgoing_route_needs_sign_in_and_a_seat(
        web_office: Office, browser_of: Any) -> None:
    from congvu.audit.models import AuditEvent

    doc = draft(web_office)
    nobody, _otp = account(web_office.p, "stc", "Trương Văn Không",
                           dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC))
    outsider = logged_in(nobody)
    before = AuditEvent.objects.count()
    for url in _routes(doc):
        assert "<" not in url, url
        for method in ("get", "post"):
            resp = getattr(Client(), method)(url)
            assert resp.status_code in (302, 405), (url, method)
            if resp.status_code == 302:
                assert resp["Location"].startswith("/sso/login/"), url
            resp = getattr(outsider, method)(url, {"units": [web_office.agency.pk]})
            assert resp.status_code in (403, 404, 405), (url, method, resp.status_code)
            assert SUMMARY not in _main(resp), url
    assert AuditEvent.objects.count() == before  # nothing was written
