"""The eOffice registers, search and statistics pages (issue 7): the Decree 30 registers
with filters and paging, printed as PDF (read back with pdftotext) and XLSX (read back
with openpyxl); the search without tone marks that never shows a document the reader
may not read; the processing statistics and their workbook."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import tempfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from congvu.console.pages import eoffice_registers
from congvu.eoffice import actions, selectors
from congvu.eoffice.actions import Recipient
from congvu.eoffice.rules import AssignmentKind as K
from congvu.jobs.actions import run_pending
from congvu.jobs.models import Job
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, approved, register

pytestmark = pytest.mark.django_db

URL = "/console/eoffice/registers/"


@pytest.fixture(autouse=True)
def _march(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages read the clock: they live on the fixtures' Monday, 2 March 2026."""
    monkeypatch.setattr("congvu.clock.now", lambda: NOW)


def pdf_text(content: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        Path(fh.name).write_bytes(content)
        return subprocess.run(["pdftotext", "-layout", fh.name, "-"], capture_output=True,
                              check=True, text=True).stdout


ARRIVALS = {1: "2026-02-27", 2: "2026-02-28", 3: "2026-03-01"}


def three(o) -> list:
    return [register(o, number_symbol=f"{i}/UBND-VX", received_at=at(f"{ARRIVALS[i]}T09:00"),
                     doc_type="thong-bao" if i == 2 else "cong-van",
                     urgency="khan" if i == 3 else "normal",
                     summary=f"UBND tỉnh thông báo kết luận số {i} về chuyển đổi số")
            for i in (1, 2, 3)]


def test_nd30_incoming_register_page_with_filters(web_office, browser_of) -> None:
    three(web_office)
    page = browser_of(web_office.clerk).get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Sổ đăng ký văn bản đến" in body
    for column in selectors.INCOMING_COLUMNS:
        assert f"<th scope=\"col\">{column}</th>" in body
    assert body.count('<th scope="row">') == 3
    assert "Thông báo: UBND tỉnh thông báo kết luận số 2" in body
    typed = browser_of(web_office.clerk).get(URL, {"type": "thong-bao"}).content.decode()
    assert "kết luận số 2" in typed and "kết luận số 1" not in typed
    urgent = browser_of(web_office.clerk).get(URL, {"urgency": "khan"}).content.decode()
    assert "kết luận số 3" in urgent and "kết luận số 2" not in urgent
    dated = browser_of(web_office.clerk).get(
        URL, {"date_from": "2026-02-28", "date_to": "2026-02-28"}).content.decode()
    assert "kết luận số 2" in dated and "kết luận số 1" not in dated


def test_nd30_register_pages_forward_by_number(web_office, browser_of, monkeypatch) -> None:
    three(web_office)
    monkeypatch.setattr(eoffice_registers, "PAGE_SIZE", 2)
    first = browser_of(web_office.clerk).get(URL).content.decode()
    assert "kết luận số 2" in first and "kết luận số 3" not in first
    assert 'rel="next"' in first and "after=2" in first
    second = browser_of(web_office.clerk).get(URL, {"after": 2}).content.decode()
    assert "kết luận số 3" in second and "kết luận số 1" not in second
    assert 'rel="first"' in second and 'rel="next"' not in second


def test_nd30_register_filter_errors_are_named_in_vietnamese(web_office, browser_of) -> None:
    page = browser_of(web_office.clerk).get(URL, {"date_from": "2026-03-05",
                                                  "date_to": "2026-03-01", "year": "1990",
                                                  "type": "thu-tinh"})
    assert page.status_code == 400
    body = page.content.decode()
    assert "Đến ngày: ngày này trước “Từ ngày”." in body
    assert "Năm: từ 2000 đến 2100." in body


def test_gl14_registers_are_for_clerks_and_leaders_only(web_office, browser_of) -> None:
    three(web_office)
    for person in (web_office.spec, web_office.head):
        assert browser_of(person).get(URL).status_code == 403
        assert browser_of(person).get(URL + "incoming.xlsx").status_code == 403
    # Another agency's clerk reads their own (empty) register, never ours.
    theirs = browser_of(web_office.other_clerk).get(URL, {"agency": web_office.agency.pk})
    assert theirs.status_code == 200 and "kết luận số" not in theirs.content.decode()


def test_nd30_incoming_register_printed_as_pdf(web_office, browser_of) -> None:
    three(web_office)
    response = browser_of(web_office.director).get(URL + "incoming.pdf",
                                                   {"year": 2026, "type": "cong-van"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in text
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in text and "Năm 2026" in text
    assert "Ngày đến" in text and "Số đến" in text
    assert "1/UBND-VX" in text and "3/UBND-VX" in text and "2/UBND-VX" not in text


def test_nd30_registers_exported_as_xlsx(web_office, browser_of) -> None:
    three(web_office)
    doc = actions.do_number_outgoing(actor=web_office.clerk.actor, profile=web_office.p,
                                     outgoing_id=approved(web_office, signer="Nguyễn Ngọc Hùng")
                                     .pk, now=NOW)
    response = browser_of(web_office.clerk).get(URL + "incoming.xlsx", {"q": "ket luan so"})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [tuple(c.value or "" for c in row) for row in ws.iter_rows(min_row=6)]
    assert rows[0] == selectors.INCOMING_COLUMNS
    assert [r[1] for r in rows[1:]] == ["01", "02", "03"]
    assert rows[1][0] == "27/02/2026" and rows[1][3] == "1/UBND-VX"
    assert ws["A3"].value == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    out = browser_of(web_office.clerk).get(URL + "outgoing.xlsx", {"series": "general"})
    ws = load_workbook(io.BytesIO(out.content)).active
    rows = [tuple(c.value or "" for c in row) for row in ws.iter_rows(min_row=6)]
    assert rows[0] == selectors.OUTGOING_COLUMNS
    assert rows[1][0] == doc.number_text.removeprefix("Số: ") and rows[1][3] == "Nguyễn Ngọc Hùng"
    assert len(rows) == 2


def test_nd30_a_register_too_large_to_wait_for_is_built_by_the_tasks_worker(
        web_office, browser_of, monkeypatch) -> None:
    """Past the inline limit the file is offered to the tasks worker: a POST queues it
    with the same filters, the job's page shows the progress, then the whole file; a
    specialist can queue nothing, and another agency's clerk cannot fetch the file."""
    monkeypatch.setattr(eoffice_registers, "INLINE_ROWS", 2)
    three(web_office)
    clerk = browser_of(web_office.clerk)
    offer = clerk.get(URL + "incoming.xlsx", {"q": "ket luan so", "year": 2026})
    page = offer.content.decode()
    assert offer.status_code == 200 and 'id="large-register"' in page
    assert "nhiều hơn 2" in page and 'method="post"' in page
    assert Job.objects.count() == 0  # the GET only offers
    queued = clerk.post(URL + "incoming.xlsx?q=ket+luan+so&year=2026")
    job = Job.objects.get()
    assert queued.status_code == 302 and queued["Location"] == f"/console/jobs/{job.pk}/"
    assert job.kind == eoffice_registers.FILE_JOB and job.account == web_office.clerk.account
    run_pending()
    done = clerk.get(f"/console/jobs/{job.pk}/").content.decode()
    assert "3 dòng" in done and "so-den-" in done
    book = clerk.get(f"/console/jobs/{job.pk}/download/")
    ws = load_workbook(io.BytesIO(book.content)).active
    rows = [tuple(c.value or "" for c in row) for row in ws.iter_rows(min_row=7)]
    assert [r[1] for r in rows] == ["01", "02", "03"]
    assert "ket luan so" in (ws["A4"].value or "")  # the filters are printed
    specialist = browser_of(web_office.spec)  # no register seat: nothing is queued
    assert specialist.post(URL + "incoming.xlsx?q=ket+luan+so&year=2026").status_code == 403
    stranger = browser_of(web_office.other_clerk)
    assert stranger.get(f"/console/jobs/{job.pk}/download/").status_code in (403, 404)
    assert Job.objects.count() == 1


def test_nd30_a_printed_register_past_its_limit_asks_for_a_shorter_period(
        web_office, browser_of, monkeypatch) -> None:
    """A PDF costs far more per row than a workbook: past its limit the job fails with a
    message the clerk can act on, in Vietnamese."""
    monkeypatch.setattr(eoffice_registers, "INLINE_ROWS", 1)
    monkeypatch.setattr("congvu.console.jobs.MAX_PDF_ROWS", 2)
    three(web_office)
    clerk = browser_of(web_office.clerk)
    clerk.post(URL + "incoming.pdf?year=2026")
    run_pending()
    job = Job.objects.get()
    assert job.status == "failed" and "chọn khoảng thời gian ngắn hơn" in job.error
    page = clerk.get(f"/console/jobs/{job.pk}/").content.decode()
    assert "chọn khoảng thời gian ngắn hơn" in page


SEARCH = "/console/eoffice/search/"


def test_gl2_search_page_finds_without_tone_marks(web_office, browser_of) -> None:
    doc = register(web_office, number_symbol="45/QĐ-UBND",
                   summary="Quyết định phê duyệt Đề án chuyển đổi số tỉnh Gia Lai")
    page = browser_of(web_office.clerk).get(SEARCH, {"q": "quyet dinh chuyen doi so"})
    assert page.status_code == 200
    body = page.content.decode()
    assert f'id="hit-incoming-{doc.pk}"' in body
    assert "Quyết định phê duyệt Đề án chuyển đổi số" in body and "01/2026" in body
    partial = browser_of(web_office.clerk).get(SEARCH, {"q": "de an"},
                                               HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<div id="results"') and f"hit-incoming-{doc.pk}" in partial
    none = browser_of(web_office.clerk).get(SEARCH, {"q": "khong co gi"}).content.decode()
    assert "Không có văn bản nào bạn được xem khớp với từ khóa" in none


def test_gl12_search_page_never_leaks_a_document(web_office, browser_of) -> None:
    open_doc = register(web_office, number_symbol="1/UBND-VX", summary="Kế hoạch chữ ký số")
    secret = register(web_office, number_symbol="2/PA-CA", summary="Phương án chữ ký số mật",
                      confidentiality="mat")
    actions.do_assign_incoming(actor=web_office.director.actor, profile=web_office.p,
                               document_id=open_doc.pk, now=NOW, params=PARAMS,
                               recipients=[Recipient(K.HANDLE, account_id=web_office.spec.id)])

    def hits(person) -> str:
        return browser_of(person).get(SEARCH, {"q": "chu ky so"}).content.decode()

    assert f"hit-incoming-{secret.pk}" in hits(web_office.clerk)
    assert f"hit-incoming-{secret.pk}" not in hits(web_office.deputy)
    assert "Phương án chữ ký số mật" not in hits(web_office.deputy)
    spec = hits(web_office.spec)
    assert f"hit-incoming-{open_doc.pk}" in spec and f"hit-incoming-{secret.pk}" not in spec
    for outsider in (web_office.spec2, web_office.other_clerk, web_office.other_director):
        assert "hit-incoming-" not in hits(outsider)


def test_gl2_search_page_filter_errors(web_office, browser_of) -> None:
    page = browser_of(web_office.clerk).get(SEARCH, {"q": "x" * 201, "year": "abc"})
    assert page.status_code == 400
    body = page.content.decode()
    assert "Từ khóa tìm kiếm: tối đa 200 ký tự" in body
    assert "Năm: nhập một năm, ví dụ 2026." in body


STATS = "/console/eoffice/statistics/"


def _statistics_case(o) -> None:
    d1, d2 = (register(o, number_symbol=f"{i}/UBND-VX") for i in (1, 2))
    (a1,) = actions.do_assign_incoming(
        actor=o.director.actor, profile=o.p, document_id=d1.pk, now=NOW, params=PARAMS,
        recipients=[Recipient(K.HANDLE, account_id=o.spec.id, deadline=dt.date(2026, 3, 5))])
    actions.do_record_result(actor=o.spec.actor, assignment_id=a1.pk, result="Xong", now=NOW)
    actions.do_assign_incoming(
        actor=o.director.actor, profile=o.p, document_id=d2.pk, now=NOW, params=PARAMS,
        recipients=[Recipient(K.HANDLE, department_id=o.cntt.pk, deadline=dt.date(2026, 3, 3))])


def test_gl13_statistics_page_and_workbook(web_office, browser_of, monkeypatch) -> None:
    _statistics_case(web_office)
    monkeypatch.setattr("congvu.clock.now", lambda: at("2026-03-10T09:00"))  # CNTT overdue
    page = browser_of(web_office.director).get(STATS, {"date_from": "2026-03-01",
                                                       "date_to": "2026-03-31"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Thống kê tình hình xử lý văn bản" in body and "Đã xử lý đúng hạn" in body
    spec = web_office.spec.account.person.full_name
    assert (f"<th scope=\"row\">{spec}</th><td>{web_office.cntt.name}</td>"
            "<td>1</td><td>1</td><td>0</td><td>0</td><td>0</td>") in body
    assert (f"<th scope=\"row\">{web_office.cntt.name}</th>"
            "<td>1</td><td>0</td><td>0</td><td>1</td><td>0</td>") in body
    book = browser_of(web_office.director).get(STATS + "statistics.xlsx",
                                               {"date_from": "2026-03-01",
                                                "date_to": "2026-03-31"})
    assert book.status_code == 200
    wb = load_workbook(io.BytesIO(book.content))
    people = next(ws for ws in wb.worksheets if ws.title == "Theo cá nhân"
                  or any(c.value == spec for row in ws.iter_rows() for c in row))
    values = [[c.value for c in row] for row in people.iter_rows()]
    assert [spec, web_office.cntt.name, 1, 1, 0, 0, 0] in values


def test_gl15_statistics_page_refuses_specialists(web_office, browser_of) -> None:
    assert browser_of(web_office.spec).get(STATS).status_code == 403
    bad = browser_of(web_office.director).get(STATS, {"date_from": "2026-13-01"})
    assert bad.status_code == 400
    assert "Từ ngày: nhập một ngày, ví dụ 2026-03-02." in bad.content.decode()
