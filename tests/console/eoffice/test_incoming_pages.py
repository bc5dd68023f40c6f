"""The incoming-document pages (issue 7, GL-9) in Vietnamese: the worklists (intake with
what is late, ND30-23; documents to distribute; assignments, overdue first), the
registration form (Decree 30 fields, summary hints GL-9.1, duplicate warning), one
document with its files and history, the director's distribution (GL-9.3, GL-9.5,
GL-15.3), passing on (GL-9.4), progress, result and work files (GL-9.6); and who is
refused (GL-12..15)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from congvu.eoffice import actions
from congvu.eoffice.actions import Recipient
from congvu.eoffice.models import (
    Assignment,
    AssignmentStatus,
    IncomingDocument,
    IncomingStatus,
    WorkFile,
)
from congvu.eoffice.rules import AssignmentKind as K
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, Office, Person, form, pdf, register

pytestmark = pytest.mark.django_db
Browser = Callable[[Person], Client]
BASE = "/console/eoffice/incoming/"


@pytest.fixture(autouse=True)
def _monday_morning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages' clock: Monday 2 March 2026, 09:00 (the domain tests' NOW)."""
    monkeypatch.setattr("congvu.clock.now", lambda: NOW)


def csrf(c: Client, url: str) -> str:
    page = c.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def text(resp: Any) -> str:
    """What the page says (tags dropped, spaces collapsed)."""
    return " ".join(re.sub(r"<[^>]+>", " ", resp.content.decode()).replace(" :", ":").split())


def upload(name: str = "cong-van.pdf", content: bytes | None = None) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content if content is not None else pdf().content,
                              content_type="application/pdf")


def fields(**kwargs: Any) -> dict[str, Any]:
    values = {"issuer": "UBND tỉnh Gia Lai", "number_symbol": "123/UBND-KGVX",
              "document_date": "2026-02-27", "doc_type": "cong-van",
              "summary": "UBND tỉnh mời họp ngày 10/3/2026 về việc triển khai chuyển đổi số",
              "signer": "Nguyễn Văn A", "urgency": "normal", "confidentiality": "none",
              "page_count": "2", "deadline": "", "field": "Chuyển đổi số", "channel": "paper",
              "received_at": "2026-03-02T08:30"}
    values.update(kwargs)
    return values


def post_register(c: Client, office: Office, file: Any = None, **kwargs: Any) -> Any:
    data = {"csrfmiddlewaretoken": csrf(c, f"{BASE}new/"), "agency": str(office.agency.pk),
            **fields(**kwargs)}
    if file is not None:
        data["file"] = file
    return c.post(f"{BASE}new/", data)


def assign(office: Office, doc: IncomingDocument, *recipients: Recipient) -> list[Assignment]:
    return actions.do_assign_incoming(actor=office.director.actor, profile=office.p,
                                      document_id=doc.pk, recipients=list(recipients),
                                      now=NOW, params=PARAMS)


# --- registration -------------------------------------------------------------------------


def test_gl_9_1_the_clerk_registers_a_scan_and_sees_the_incoming_number(
        web_office: Office, browser_of: Browser) -> None:
    c = browser_of(web_office.clerk)
    page = c.get(f"{BASE}new/")
    assert page.status_code == 200
    assert "Trích yếu" in text(page) and "Công văn" in text(page)
    resp = post_register(c, web_office, upload(), urgency="khan")
    assert resp.status_code == 302, text(resp)
    doc = IncomingDocument.objects.get()
    assert resp["Location"] == f"{BASE}{doc.pk}/"
    shown = text(c.get(resp["Location"]))
    assert "Số đến: 01 (năm 2026)" in shown
    assert "Độ khẩn: Khẩn" in shown  # a word, not a colour
    assert (doc.number, doc.status, doc.urgency) == (1, IncomingStatus.REGISTERED, "khan")
    assert doc.received_at == at("2026-03-02T08:30") and not doc.registered_late
    assert doc.versions.get().mime == "application/pdf"


def test_gl_9_registration_errors_name_their_field_in_vietnamese(
        web_office: Office, browser_of: Browser) -> None:
    c = browser_of(web_office.clerk)
    resp = post_register(c, web_office, upload("scan.pdf", b"not a pdf"), issuer=" ",
                         summary="", page_count="0", document_date="31/02/2026",
                         received_at="2026-03-09T08:00")
    assert resp.status_code == 400
    shown = text(resp)
    assert "Văn bản chưa được vào sổ. Chưa có gì được ghi lại." in shown
    assert "Cơ quan ban hành: bắt buộc." in shown
    assert "Trích yếu: bắt buộc." in shown
    assert "Số trang: quá nhỏ." in shown
    assert "Ngày văn bản: không phải ngày hợp lệ" in shown
    assert "Ngày giờ đến: ở tương lai." in shown
    assert "Tệp scan.pdf không phải là tệp PDF" in shown
    assert not IncomingDocument.objects.exists()


def test_gl_9_a_document_without_its_pdf_is_refused_beside_the_file_field(
        web_office: Office, browser_of: Browser) -> None:
    c = browser_of(web_office.clerk)
    resp = post_register(c, web_office)
    assert resp.status_code == 400
    assert "hãy đính kèm tệp PDF" in text(resp)
    assert not IncomingDocument.objects.exists()
    # A classified document may stay on paper (no file).
    resp = post_register(c, web_office, confidentiality="mat")
    assert resp.status_code == 302
    assert IncomingDocument.objects.get().confidentiality == "mat"


def test_gl_9_a_duplicate_is_warned_before_saving_then_confirmed(
        web_office: Office, browser_of: Browser) -> None:
    first = register(web_office)
    c = browser_of(web_office.clerk)
    resp = post_register(c, web_office, upload(), number_symbol="Số: 123 / UBND-KGVX")
    assert resp.status_code == 409
    shown = text(resp)
    assert "Văn bản này có vẻ đã được vào sổ." in shown
    assert f'href="{BASE}{first.pk}/"' in resp.content.decode() and "Số đến 01/2026" in shown
    assert "Vẫn vào sổ văn bản này" in shown and "được giữ lại" in shown  # the file is kept
    assert IncomingDocument.objects.count() == 1
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                      resp.content.decode()).group(1)  # type: ignore[union-attr]
    resp = c.post(f"{BASE}new/", {"csrfmiddlewaretoken": token,
                                  "agency": str(web_office.agency.pk), "keep_file": "1",
                                  "confirm_duplicate": "1",
                                  **fields(number_symbol="Số: 123 / UBND-KGVX")})
    assert resp.status_code == 302, text(resp)
    again = IncomingDocument.objects.exclude(pk=first.pk).get()
    assert (again.number, again.duplicate_of_id) == (2, first.pk)
    assert again.versions.count() == 1  # the kept file


def test_gl_9_1_summary_hints_live_and_after_saving(web_office: Office,
                                                    browser_of: Browser) -> None:
    c = browser_of(web_office.clerk)
    live = c.get(f"{BASE}new/hints/", {"summary": "V/v Mời họp"}, HTTP_HX_REQUEST="true")
    assert live.status_code == 200 and "GL-9.1" in text(live)
    assert "Về trích yếu" in text(live)
    good = c.get(f"{BASE}new/hints/", {"summary": fields()["summary"]})
    assert "Về trích yếu" not in text(good)
    resp = post_register(c, web_office, upload(), summary="V/v Mời họp")
    assert resp.status_code == 302
    shown = text(c.get(resp["Location"]))
    assert "Số đến: 01" in shown and "GL-9.1" in shown  # saved, with the hint shown


def test_gl_9_2_the_intake_shows_what_is_late_and_is_registered_from_there(
        web_office: Office, browser_of: Browser) -> None:
    late = actions.do_receive_incoming(
        actor=web_office.clerk.actor, profile=web_office.p, agency_id=web_office.agency.pk,
        form=form(channel="email", number_symbol="7/SNV"), upload=pdf("thu"),
        now=at("2026-02-26T08:00"), params=PARAMS)  # due Friday 27/02 17:00
    fresh = actions.do_receive_incoming(
        actor=web_office.clerk.actor, profile=web_office.p, agency_id=web_office.agency.pk,
        form=form(channel="email", number_symbol="8/SNV"), upload=pdf("moi"), now=NOW,
        params=PARAMS)
    c = browser_of(web_office.clerk)
    page = c.get(BASE)
    shown = page.content.decode()
    assert page.status_code == 200 and 'aria-current="page">Chờ vào sổ' in shown
    rows = re.findall(r'<tr id="doc-(\d+)"( class="overdue")?>(.*?)</tr>', shown, re.S)
    assert [(int(pk), "TRỄ HẠN" in body) for pk, _cls, body in rows] == [
        (late.pk, True), (fresh.pk, False)]
    assert "27/02/2026 17:00" in shown
    only_late = c.get(BASE, {"tab": "intake", "overdue": "1"}).content.decode()
    assert f"doc-{late.pk}" in only_late and f"doc-{fresh.pk}" not in only_late
    # From the intake: the form is filled in, the file is the one received.
    form_page = c.get(f"{BASE}new/", {"received": late.pk})
    assert "7/SNV" in form_page.content.decode() and "Từ danh sách chờ vào sổ" in text(form_page)
    resp = c.post(f"{BASE}new/", {"csrfmiddlewaretoken": csrf(c, f"{BASE}new/"),
                                  "received": str(late.pk), "agency": str(web_office.agency.pk),
                                  **fields(number_symbol="7/SNV", channel="email",
                                           received_at="")})
    assert resp.status_code == 302, text(resp)
    late.refresh_from_db()
    assert (late.number, late.registered_late) == (1, True)
    shown = text(c.get(resp["Location"]))
    assert "Số đến: 01" in shown and "trễ hạn" in shown and "TRỄ HẠN" in shown
    late_list = c.get(BASE, {"tab": "intake"}).content.decode()
    assert 'id="registered-late"' in late_list and "01/2026" in late_list


def test_gl_12_15_only_a_clerk_registers(web_office: Office, browser_of: Browser) -> None:
    for who in (web_office.spec, web_office.director, web_office.head):
        assert browser_of(who).get(f"{BASE}new/").status_code == 403
    received = actions.do_receive_incoming(
        actor=web_office.clerk.actor, profile=web_office.p, agency_id=web_office.agency.pk,
        form=form(channel="email"), upload=pdf(), now=NOW, params=PARAMS)
    other = browser_of(web_office.other_clerk)
    assert other.get(f"{BASE}new/", {"received": received.pk}).status_code == 403


# --- one document ------------------------------------------------------------------------------


def test_gl_12_15_who_reads_a_document(web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    url = f"{BASE}{doc.pk}/"
    for who in (web_office.clerk, web_office.director, web_office.deputy):
        assert browser_of(who).get(url).status_code == 200
    for who in (web_office.spec, web_office.head, web_office.other_clerk,
                web_office.other_director):
        resp = browser_of(who).get(url)
        assert resp.status_code == 403 and doc.summary not in text(resp)
    assert browser_of(web_office.clerk).get(f"{BASE}99999/").status_code == 404
    version = doc.versions.get()
    file_url = f"{url}files/{version.pk}/"
    assert browser_of(web_office.spec).get(file_url).status_code == 403
    assert browser_of(web_office.other_clerk).get(file_url).status_code == 403


def test_gl_12_15_a_classified_document_is_narrower(web_office: Office,
                                                    browser_of: Browser) -> None:
    doc = register(web_office, confidentiality="toi_mat")
    url = f"{BASE}{doc.pk}/"
    assert browser_of(web_office.deputy).get(url).status_code == 403
    page = browser_of(web_office.director).get(url)
    assert page.status_code == 200 and "Độ mật: Tối mật" in text(page)
    assert 'id="assign"' in page.content.decode()
    assign(web_office, doc, Recipient(K.HANDLE, department_id=web_office.cntt.pk))
    assert browser_of(web_office.head).get(url).status_code == 200
    assert browser_of(web_office.spec).get(url).status_code == 403  # a member, not the head
    assert doc.summary not in text(browser_of(web_office.spec).get(BASE))


def test_gl_9_the_file_opens_inline_or_downloads_with_its_name(
        web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    version = doc.versions.get()
    c = browser_of(web_office.director)
    page = text(c.get(f"{BASE}{doc.pk}/"))
    assert version.original_name in page and "phiên bản 1" in page
    inline = c.get(f"{BASE}{doc.pk}/files/{version.pk}/")
    assert inline.status_code == 200 and inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"].startswith("inline")
    assert inline.content.startswith(b"%PDF-")
    saved = c.get(f"{BASE}{doc.pk}/files/{version.pk}/", {"download": "1"})
    assert saved["Content-Disposition"].startswith("attachment")
    assert quote(version.original_name) in saved["Content-Disposition"]
    other = register(web_office, number_symbol="9/SNV")
    assert c.get(f"{BASE}{other.pk}/files/{version.pk}/").status_code == 404


# --- distribution ---------------------------------------------------------------------------------


def _rows(*rows: dict[str, str], key: str = "assign", count: int = 3) -> dict[str, str]:
    data = {f"{key}-rows": str(count)}
    for n, row in enumerate(rows, start=1):
        for name, value in row.items():
            data[f"{key}-{n}-{name}"] = value
    return data


def test_gl_9_3_the_director_assigns_a_lead_coordinating_and_for_information(
        web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    c = browser_of(web_office.director)
    url = f"{BASE}{doc.pk}/"
    page = c.get(url).content.decode()
    assert 'id="assign"' in page and page.count('name="assign-') >= 12  # 3 empty rows
    resp = c.post(f"{url}assign/", {
        "csrfmiddlewaretoken": csrf(c, url), "doc_type": "ke-hoach", "field": "CĐS",
        "deadline": "2026-03-31",
        **_rows({"target": f"d:{web_office.cntt.pk}", "kind": "lead",
                 "directions": "Tham mưu báo cáo", "deadline": "2026-03-13"},
                {"target": f"d:{web_office.vp.pk}", "kind": "coordinate",
                 "deadline": "2026-03-11"},
                {"target": f"p:{web_office.deputy.id}", "kind": "inform"})})
    assert resp.status_code == 302, text(resp)
    made = list(Assignment.objects.filter(document=doc).order_by("id"))
    assert [(a.kind, a.to_department_id, a.to_account_id, a.deadline) for a in made] == [
        (K.LEAD, web_office.cntt.pk, None, dt.date(2026, 3, 13)),
        (K.COORDINATE, web_office.vp.pk, None, dt.date(2026, 3, 11)),
        (K.INFORM, None, web_office.deputy.id, None)]
    doc.refresh_from_db()
    assert (doc.status, doc.doc_type, doc.deadline) == (IncomingStatus.ASSIGNED, "ke-hoach",
                                                        dt.date(2026, 3, 31))
    shown = text(c.get(url))
    assert "Đã phân phối cho 3 nơi nhận." in shown
    assert "Chủ trì: Phòng Công nghệ thông tin" in shown and "Phối hợp: Văn phòng Sở" in shown
    assert "Tham mưu báo cáo" in shown and "13/03/2026" in shown and "Để biết" in shown
    assert "Phân phối" in shown  # the history


def test_gl_9_5_straight_to_a_specialist_who_then_reads_it(
        web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    c = browser_of(web_office.director)
    url = f"{BASE}{doc.pk}/"
    resp = c.post(f"{url}assign/", {"csrfmiddlewaretoken": csrf(c, url), "doc_type": "cong-van",
                                    **_rows({"target": f"p:{web_office.spec.id}",
                                             "kind": "handle", "directions": "Xử lý ngay",
                                             "deadline": "2026-03-05"})})
    assert resp.status_code == 302
    spec = browser_of(web_office.spec)
    mine = spec.get(BASE).content.decode()
    assert 'aria-current="page">Giao cho tôi' in mine and doc.summary in mine
    assert spec.get(url).status_code == 200


def test_gl_9_3_distribution_errors_are_shown_and_nothing_is_written(
        web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    c = browser_of(web_office.director)
    url = f"{BASE}{doc.pk}/"
    token = csrf(c, url)
    two_leads = c.post(f"{url}assign/", {
        "csrfmiddlewaretoken": token, "doc_type": "cong-van",
        **_rows({"target": f"d:{web_office.cntt.pk}", "kind": "lead"},
                {"target": f"d:{web_office.vp.pk}", "kind": "lead"})})
    assert two_leads.status_code == 400 and "chủ trì" in text(two_leads).lower()
    empty = c.post(f"{url}assign/", {"csrfmiddlewaretoken": token, "doc_type": "cong-van",
                                     **_rows()})
    assert empty.status_code == 400 and "Nơi nhận: hãy chọn ít nhất một" in text(empty)
    past = c.post(f"{url}assign/", {
        "csrfmiddlewaretoken": token, "doc_type": "cong-van",
        **_rows({"target": f"d:{web_office.cntt.pk}", "kind": "handle",
                 "deadline": "2026-03-01"})})
    assert past.status_code == 400 and "2026-03-01" in text(past)
    bad_date = c.post(f"{url}assign/", {
        "csrfmiddlewaretoken": token, "doc_type": "cong-van",
        **_rows({"target": f"d:{web_office.cntt.pk}", "kind": "handle",
                 "deadline": "mai"})})
    assert bad_date.status_code == 400 and "Hạn xử lý: không phải ngày hợp lệ" in text(bad_date)
    assert not Assignment.objects.exists()


def test_gl_9_3_more_rows_without_javascript_and_with_htmx(
        web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    c = browser_of(web_office.director)
    url = f"{BASE}{doc.pk}/"
    resp = c.post(f"{url}assign/", {"csrfmiddlewaretoken": csrf(c, url), "more": "1",
                                    "doc_type": "cong-van",
                                    **_rows({"target": f"d:{web_office.cntt.pk}",
                                             "kind": "lead", "directions": "Giữ nguyên"})})
    page = resp.content.decode()
    assert resp.status_code == 200 and 'name="assign-6-target"' in page
    assert "Giữ nguyên" in page and not Assignment.objects.exists()
    row = c.get(f"{url}assign/row/", {"assign-rows": "6"}, HTTP_HX_REQUEST="true")
    added = row.content.decode()
    assert 'name="assign-7-target"' in added and 'hx-swap-oob="true"' in added
    assert 'value="7"' in added and "Phòng Công nghệ thông tin" in added


def test_gl_9_3_only_leaders_distribute(web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    assign(web_office, doc, Recipient(K.HANDLE, account_id=web_office.spec.id))
    url = f"{BASE}{doc.pk}/"
    spec = browser_of(web_office.spec)
    page = spec.get(url).content.decode()
    assert 'id="assign"' not in page  # not offered...
    resp = spec.post(f"{url}assign/", {"csrfmiddlewaretoken": csrf(spec, url),
                                       "doc_type": "cong-van",
                                       **_rows({"target": f"d:{web_office.cntt.pk}",
                                                "kind": "handle"})})
    assert resp.status_code == 403  # ...and refused
    assert spec.get(f"{url}assign/row/").status_code == 403
    assert Assignment.objects.count() == 1
    deputy = browser_of(web_office.deputy).get(url).content.decode()
    assert 'id="assign"' in deputy  # a deputy distributes an unclassified document


# --- handling ------------------------------------------------------------------------------------


def test_gl_9_4_the_head_passes_on_and_the_specialist_finishes_and_files(
        web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    dept, _coord = assign(web_office, doc,
                          Recipient(K.LEAD, department_id=web_office.cntt.pk,
                                    deadline=dt.date(2026, 3, 13)),
                          Recipient(K.COORDINATE, department_id=web_office.vp.pk))
    url = f"{BASE}{doc.pk}/"
    head = browser_of(web_office.head)
    page = head.get(url).content.decode()
    assert f'id="pass-on-{dept.pk}"' in page and f'id="pass-on-{_coord.pk}"' not in page
    assert "Võ Văn Chuyên" in page and "Đinh Văn Vũ" not in page  # CNTT's people only
    resp = head.post(f"{BASE}assignments/{dept.pk}/pass-on/", {
        "csrfmiddlewaretoken": csrf(head, url),
        **_rows({"target": f"p:{web_office.spec.id}", "kind": "handle",
                 "directions": "Dự thảo báo cáo", "deadline": "2026-03-11"},
                key=f"pass{dept.pk}")})
    assert resp.status_code == 302, text(resp)
    handler = Assignment.objects.get(parent=dept)
    assert "Đã chuyển xử lý cho 1 người." in text(head.get(url))
    # Another department's head may not pass it on.
    vp_head = browser_of(web_office.vp_head)
    assert vp_head.post(f"{BASE}assignments/{dept.pk}/pass-on/", {
        "csrfmiddlewaretoken": csrf(vp_head, url),
        **_rows({"target": f"p:{web_office.vp_spec.id}", "kind": "handle"},
                key=f"pass{dept.pk}")}).status_code == 403

    spec = browser_of(web_office.spec)
    page = spec.get(url).content.decode()
    assert f'id="progress-{handler.pk}"' in page and f'id="pass-on-{dept.pk}"' not in page
    resp = spec.post(f"{BASE}assignments/{handler.pk}/progress/", {
        "csrfmiddlewaretoken": csrf(spec, url), f"a{handler.pk}-text": "Đã dự thảo",
        f"a{handler.pk}-percent": "50"})
    assert resp.status_code == 302
    bad = spec.post(f"{BASE}assignments/{handler.pk}/progress/", {
        "csrfmiddlewaretoken": csrf(spec, url), f"a{handler.pk}-text": "",
        f"a{handler.pk}-percent": "120"})
    assert bad.status_code == 400 and "Tiến độ: bắt buộc." in text(bad)
    folder = actions.do_create_work_file(actor=web_office.spec.actor,
                                         agency_id=web_office.agency.pk,
                                         title="Chuyển đổi số 2026", now=NOW)
    resp = spec.post(f"{BASE}assignments/{handler.pk}/result/", {
        "csrfmiddlewaretoken": csrf(spec, url), f"a{handler.pk}-result": "Đã báo cáo UBND tỉnh",
        f"a{handler.pk}-work_file": str(folder.pk)})
    assert resp.status_code == 302, text(resp)
    doc.refresh_from_db()
    assert doc.status == IncomingStatus.DONE
    shown = text(spec.get(url))
    assert "văn bản đã được xử lý xong" in shown and "Đã báo cáo UBND tỉnh" in shown
    assert "Đã dự thảo (50%)" in shown and "Chuyển đổi số 2026" in shown
    assert folder.items.get().incoming_id == doc.pk
    # Another specialist of the department may not act on it.
    spec2 = browser_of(web_office.spec2)
    assert spec2.post(f"{BASE}assignments/{handler.pk}/progress/", {
        "csrfmiddlewaretoken": csrf(spec2, BASE), f"a{handler.pk}-text": "x"}
    ).status_code == 403


def test_gl_9_6_reply_link_for_handlers_only(web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    assign(web_office, doc, Recipient(K.HANDLE, account_id=web_office.spec.id),
           Recipient(K.INFORM, account_id=web_office.spec2.id))
    reply = f"/console/eoffice/outgoing/new/?reply_to={doc.pk}"
    assert reply in browser_of(web_office.spec).get(f"{BASE}{doc.pk}/").content.decode()
    assert reply not in browser_of(web_office.spec2).get(f"{BASE}{doc.pk}/").content.decode()


def test_gl_9_6_filing_into_a_new_work_file_and_the_work_files_pages(
        web_office: Office, browser_of: Browser) -> None:
    doc = register(web_office)
    c = browser_of(web_office.director)
    url = f"{BASE}{doc.pk}/"
    missing = c.post(f"{url}file/", {"csrfmiddlewaretoken": csrf(c, url)})
    assert missing.status_code == 400 and "Hồ sơ công việc: hãy chọn một hồ sơ" in text(missing)
    resp = c.post(f"{url}file/", {"csrfmiddlewaretoken": csrf(c, url),
                                  "new_title": "Chỉ đạo chuyển đổi số"})
    assert resp.status_code == 302
    folder = WorkFile.objects.get()
    assert "Đã lưu vào hồ sơ công việc" in text(c.get(url))
    listing = text(c.get("/console/eoffice/work-files/"))
    assert "Chỉ đạo chuyển đổi số" in listing
    one = text(c.get(f"/console/eoffice/work-files/{folder.pk}/"))
    assert doc.summary in one and "01/2026" in one
    assert browser_of(web_office.spec).get(
        f"/console/eoffice/work-files/{folder.pk}/").status_code == 403
    spec = browser_of(web_office.spec)
    made = spec.post("/console/eoffice/work-files/", {
        "csrfmiddlewaretoken": csrf(spec, "/console/eoffice/work-files/"),
        "agency": str(web_office.agency.pk), "title": "", "code": "CNTT.01"})
    assert made.status_code == 400 and "Tiêu đề: bắt buộc." in text(made)
    made = spec.post("/console/eoffice/work-files/", {
        "csrfmiddlewaretoken": csrf(spec, "/console/eoffice/work-files/"),
        "agency": str(web_office.agency.pk), "title": "Hạ tầng số", "code": "CNTT.01"})
    assert made.status_code == 302
    assert "Hạ tầng số" in text(spec.get("/console/eoffice/work-files/"))
    assert "Chỉ đạo chuyển đổi số" not in text(spec.get("/console/eoffice/work-files/"))


def test_gl_11_a_delegate_acts_on_behalf_and_it_shows(web_office: Office,
                                                      browser_of: Browser) -> None:
    from congvu.eoffice.models import OfficeRole

    delegation = actions.do_request_delegation(
        actor=web_office.head.actor, agency_id=web_office.agency.pk,
        delegate_id=web_office.spec2.id, roles=[OfficeRole.DEPARTMENT_HEAD],
        starts_at=at("2026-03-02T08:00"), ends_at=at("2026-03-06T17:00"), reason="Đi công tác",
        now=at("2026-03-01T10:00"))
    actions.do_approve_delegation(actor=web_office.director.actor, delegation_id=delegation.pk,
                                  now=at("2026-03-01T11:00"))
    actions.do_announce_delegation(actor=web_office.head.actor, delegation_id=delegation.pk,
                                   now=at("2026-03-01T12:00"))
    doc = register(web_office)
    (dept,) = assign(web_office, doc, Recipient(K.HANDLE, department_id=web_office.cntt.pk))
    url = f"{BASE}{doc.pk}/"
    c = browser_of(web_office.spec2)
    page = text(c.get(url))
    assert f"thay mặt {web_office.head.account.address}" in page
    resp = c.post(f"{BASE}assignments/{dept.pk}/progress/", {
        "csrfmiddlewaretoken": csrf(c, url), f"a{dept.pk}-text": "Đang tổng hợp"})
    assert resp.status_code == 302
    shown = text(c.get(url))
    assert (f"{web_office.spec2.account.address} thay mặt "
            f"{web_office.head.account.address} (ủy quyền): Đang tổng hợp") in shown


# --- worklists -----------------------------------------------------------------------------------


def test_gl_9_assignments_overdue_first_and_flagged_in_words(
        web_office: Office, browser_of: Browser) -> None:
    later = register(web_office, number_symbol="1/A", urgency="hoa_toc")
    sooner = register(web_office, number_symbol="2/B", confidentiality="mat")
    (calm,) = assign(web_office, later, Recipient(K.HANDLE, account_id=web_office.spec.id,
                                                  deadline=dt.date(2026, 3, 20)))
    (overdue,) = assign(web_office, sooner, Recipient(K.HANDLE, account_id=web_office.spec.id,
                                                      deadline=dt.date(2026, 3, 3)))
    c = browser_of(web_office.spec)
    page = c.get(BASE).content.decode()
    order = [int(pk) for pk in re.findall(r'<tr id="assignment-(\d+)"', page)]
    assert len(order) == 2 and order[0] == overdue.pk  # due 3 March, before 20 March
    assert "Mật" in page and "Hỏa tốc" in page  # the marks, as words
    # The next day, the one due on 3 March is overdue: first, flagged in words.
    Assignment.objects.filter(pk=overdue.pk).update(deadline=dt.date(2026, 2, 27))
    page = c.get(BASE).content.decode()
    rows = re.findall(r'<tr id="assignment-(\d+)"( class="overdue")?>(.*?)</tr>', page, re.S)
    assert int(rows[0][0]) == overdue.pk and "Quá hạn" in rows[0][2]
    assert "Quá hạn" not in rows[1][2] and "Hỏa tốc" in rows[1][2]
    only = c.get(BASE, {"tab": "mine", "overdue": "1"}).content.decode()
    assert f"assignment-{overdue.pk}" in only and f"assignment-{calm.pk}" not in only
    urgent = c.get(BASE, {"tab": "mine", "urgency": "hoa_toc"}).content.decode()
    assert f"assignment-{overdue.pk}" not in urgent and f"assignment-{calm.pk}" in urgent
    done = c.get(BASE, {"tab": "mine", "status": AssignmentStatus.DONE}).content.decode()
    assert "Không có văn bản nào." in done


def test_gl_9_3_leaders_see_what_waits_for_distribution(web_office: Office,
                                                        browser_of: Browser) -> None:
    waiting = register(web_office, number_symbol="1/A")
    secret = register(web_office, number_symbol="2/B", confidentiality="tuyet_mat")
    handled = register(web_office, number_symbol="3/C")
    assign(web_office, handled, Recipient(K.HANDLE, department_id=web_office.cntt.pk))
    director = browser_of(web_office.director).get(BASE).content.decode()
    assert 'aria-current="page">Chờ phân phối' in director
    assert f"doc-{waiting.pk}" in director and f"doc-{secret.pk}" in director
    assert f"doc-{handled.pk}" not in director and "Tuyệt mật" in director
    deputy = browser_of(web_office.deputy).get(BASE).content.decode()
    assert f"doc-{waiting.pk}" in deputy and f"doc-{secret.pk}" not in deputy
    clerk = browser_of(web_office.clerk).get(BASE, {"tab": "registered",
                                                    "status": "assigned"}).content.decode()
    assert f"doc-{handled.pk}" in clerk and f"doc-{waiting.pk}" not in clerk
    assert browser_of(web_office.spec).get(BASE, {"tab": "distribute"}).status_code == 200
    other = browser_of(web_office.other_director).get(BASE).content.decode()
    assert f"doc-{waiting.pk}" not in other
