"""The reports page (issue 6): the periodic report due next (QN-13.6), a report's figures
as tables with SVG charts, its XLSX and PDF queued for the tasks worker; errors that
name the field; and the authorisation of every view: an agency contact cannot read or
queue another agency's report by editing the URL or the form's fields, a civil servant
or a clerk sees no report, an anonymous visitor is sent to sign in."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from congvu.audit.models import AuditEvent
from congvu.jobs.actions import run_pending
from congvu.jobs.models import Job
from congvu.reports.cadence import cadence_of, next_due
from tests.console.conftest import csrf, logged_in
from tests.factories import contact

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
URL = "/console/reports/"
EXPORT = "/console/reports/export/"


def _today() -> dt.date:
    return timezone.now().astimezone(TZ).date()


def _ask(kind: str = "usage", agency: str = "", **extra: str) -> dict[str, str]:
    today = _today()
    return {"report": kind, "start": (today - dt.timedelta(days=60)).isoformat(),
            "end": today.isoformat(), "agency": agency, "days": "90", **extra}


def _export(c: Client, data: dict[str, str]) -> Any:
    token = csrf(c.get(URL).content.decode())
    return c.post(EXPORT, {"csrfmiddlewaretoken": token, **data})


def test_the_operator_sees_the_qn_13_6_report_due_next_and_by_when(world: Any) -> None:
    page = logged_in(world["op"][0]).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    period = next_due(cadence_of(world["p"]), _today())  # type: ignore[arg-type]
    left = (period.due - _today()).days
    half = "đầu" if period.due.month == 6 else "cuối"
    headline = (f"Báo cáo 6 tháng {half} năm {period.due.year}: hạn "
                f"{period.due:%d/%m/%Y}, còn {left} ngày") if left else "hạn là hôm nay"
    assert headline in html and "(QN-13.6)" in html
    assert f"Kỳ báo cáo: từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}." in html
    assert f"start={period.start.isoformat()}" in html and "Lập báo cáo này" in html
    # The form, with a label for every field; no report until one is asked for.
    for field in ("report", "start", "end", "agency", "days"):
        assert f'<label for="id_{field}">' in html and f'id="id_{field}"' in html
    assert 'id="report"' not in html
    assert 'style="' not in html and "<script>" not in html  # the CSP stays strict


def test_the_operator_sees_the_figures_with_charts_and_tables(world: Any) -> None:
    html = logged_in(world["op"][0]).get(URL, _ask("requests")).content.decode()
    assert '<h2 id="report-title">Yêu cầu và việc bảo đảm thời hạn xử lý</h2>' in html
    assert html.count("<svg") >= 2 and 'role="img"' in html
    assert '<table id="table-sla-by-kind">' in html and '<th scope="col"' in html
    assert "Cấp hộp thư mới (Mẫu 01)" in html and "QN-5.2" in html
    assert "Sở Tài chính" in html and "Sở Thông tin và Truyền thông" in html
    assert 'id="export-xlsx"' in html and 'id="export-pdf"' in html
    assert 'style="' not in html


def test_htmx_gets_the_form_and_figures_without_the_page(world: Any) -> None:
    c = logged_in(world["op"][0])
    part = c.get(URL, _ask("accounts"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part and 'id="report-form"' in part and "<svg" in part
    full = c.get(URL, _ask("accounts")).content.decode()
    assert "<html" in full and 'hx-get="/console/reports/"' in full


def test_every_error_names_the_field_in_vietnamese_and_nothing_is_queued(world: Any) -> None:
    c = logged_in(world["op"][0])
    resp = c.get(URL, _ask(start="2026-06-30", end="2026-01-01"))
    assert resp.status_code == 400
    html = resp.content.decode()
    assert ("Đến ngày: ngày cuối (01/01/2026) đứng trước ngày đầu (30/06/2026) của kỳ báo "
            "cáo.") in html
    assert 'id="id_end" name="end" value="2026-01-01" required aria-invalid="true"' in html
    resp = c.get(URL, _ask(start="31/02/2026", days="0"))
    html = resp.content.decode()
    assert "Từ ngày: hãy nhập ngày theo dạng ngày/tháng/năm, ví dụ 16/12/2025." in html
    assert "Không sử dụng (số ngày): ít nhất là 1 ngày." in html
    resp = c.get(URL, _ask(kind="secret"))
    assert "Báo cáo: hãy chọn một báo cáo trong danh sách." in resp.content.decode()
    before = Job.objects.count()
    resp = _export(c, _ask(start="2026-06-30", end="2026-01-01", format="xlsx"))
    assert resp.status_code == 400 and Job.objects.count() == before
    resp = _export(c, _ask(format="docx"))
    assert resp.status_code == 400 and Job.objects.count() == before
    assert "hãy chọn XLSX hoặc PDF" in resp.content.decode()


def test_download_xlsx_queues_a_job_then_the_job_page_gives_the_file(world: Any) -> None:
    op = world["op"][0]
    c = logged_in(op)
    resp = _export(c, _ask("accounts", format="xlsx"))
    assert resp.status_code == 303
    job = Job.objects.get(pk=int(re.search(r"/console/jobs/(\d+)/", resp["Location"])
                                 .group(1)))  # type: ignore[union-attr]
    assert job.kind == "reports.accounts" and job.account_id == op.pk
    assert job.params["format"] == "xlsx" and job.params["lang"] == "vi"
    assert AuditEvent.objects.filter(action="job.queue", target=f"job:{job.pk}").exists()
    assert run_pending() == 1
    page = c.get(resp["Location"]).content.decode()
    assert "Tài khoản theo trạng thái và cơ quan" in page and "XLSX" in page
    assert 'id="job-download"' in page
    file = c.get(f"/console/jobs/{job.pk}/download/")
    assert file["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in file["Content-Disposition"]
    wb = load_workbook(io.BytesIO(file.content))
    assert "Tài khoản theo cơ quan" in wb.sheetnames


def test_download_pdf_in_english_when_the_reader_chose_english(world: Any) -> None:
    c = logged_in(world["op"][0])
    c.cookies["django_language"] = "en"
    html = c.get(URL).content.decode()
    assert "Periodic report due next" in html
    resp = _export(c, _ask("usage", format="pdf"))
    job = Job.objects.get(pk=int(resp["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert job.params["lang"] == "en"
    run_pending()
    job.refresh_from_db()
    assert job.status == "done" and job.result_type == "application/pdf"
    assert job.summary["subject"] == "Management and use of the official e-mail system"
    assert bytes(job.result).startswith(b"%PDF")


# ------------------------------------------------------------------ authorisation


def test_an_agency_contact_sees_their_own_agency_only(world: Any) -> None:
    it = world["it"][0]
    html = logged_in(it).get(URL, _ask("accounts")).content.decode()
    assert "Sở Thông tin và Truyền thông" in html and "Trung tâm CNTT" in html
    assert "Sở Tài chính" not in html and 'value="stc"' not in html
    assert "Tất cả cơ quan tôi phụ trách" in html and "Toàn tỉnh" not in html


@pytest.mark.parametrize("kind", ["usage", "accounts", "requests"])
def test_an_agency_contact_editing_the_url_for_another_agency_gets_a_403(
        world: Any, kind: str) -> None:
    resp = logged_in(world["it"][0]).get(URL, _ask(kind, agency="stc"))
    assert resp.status_code == 403
    html = resp.content.decode()
    assert "Sở Tài chính" not in html and "Phạm Thị Cúc" not in html and "<svg" not in html


def test_an_agency_contact_forging_the_export_form_gets_a_403_and_nothing_queued(
        world: Any) -> None:
    c = logged_in(world["it"][0])
    before = Job.objects.count()
    for kind in ("usage", "accounts", "requests"):
        resp = _export(c, _ask(kind, agency="stc", format="pdf"))
        assert resp.status_code == 403, kind
        assert "Sở Tài chính" not in resp.content.decode()
    assert Job.objects.count() == before


def test_a_contact_whose_role_is_revoked_before_the_job_runs_gets_no_report(
        world: Any) -> None:
    from congvu.accounts.roles import do_revoke_role
    from tests.factories import OPERATOR

    it = world["it"][0]
    resp = _export(logged_in(it), _ask("accounts", format="xlsx"))
    job = Job.objects.get(pk=int(resp["Location"].rstrip("/").rsplit("/", 1)[1]))
    do_revoke_role(actor=OPERATOR, profile=world["p"], address=it.address, role="agency-it",
                   agency_ref="sotttt", now=timezone.now())
    run_pending()
    job.refresh_from_db()
    assert job.status == "failed" and not job.result and "không được xem báo cáo" in job.error


def test_another_agencys_contact_cannot_open_the_job_or_its_file(world: Any) -> None:
    it = world["it"][0]
    resp = _export(logged_in(it), _ask("accounts", format="xlsx"))
    run_pending()
    job_url = resp["Location"]
    other, _actor = contact(world["p"], "stc", "Đinh Văn Khoa")
    for url in (job_url, f"{job_url}download/", f"{job_url}progress/"):
        assert logged_in(other).get(url).status_code == 403, url
    assert logged_in(it).get(f"{job_url}download/").status_code == 200


@pytest.mark.parametrize("role", ["civil servant", "clerk"])
def test_civil_servants_and_clerks_see_no_report(world: Any, role: str) -> None:
    if role == "clerk":
        acct, _actor = contact(world["p"], "stc", "Hà Thị Lan", role="clerk")
    else:
        acct = world["servant"][0]
    c = logged_in(acct)
    for params in ({}, _ask("usage"), _ask("accounts", agency="stc")):
        resp = c.get(URL, params)
        assert resp.status_code == 403
        assert "Sở Tài chính" not in resp.content.decode()
    before = Job.objects.count()
    token = csrf(logged_in(world["op"][0]).get(URL).content.decode())
    resp = c.post(EXPORT, {"csrfmiddlewaretoken": token, **_ask(format="xlsx")})
    assert resp.status_code == 403 and Job.objects.count() == before


def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any) -> None:
    c = Client()
    resp = c.get(URL, _ask("accounts"))
    assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/")
    before = Job.objects.count()
    resp = c.post(EXPORT, _ask(format="xlsx"))
    assert resp.status_code in (302, 403) and Job.objects.count() == before
    assert "Sở Tài chính" not in resp.content.decode()


def test_the_export_view_takes_no_get_and_the_page_takes_no_post(world: Any) -> None:
    c = logged_in(world["op"][0])
    assert c.get(EXPORT, _ask(format="xlsx")).status_code == 405
    token = csrf(c.get(URL).content.decode())
    assert c.post(URL, {"csrfmiddlewaretoken": token}).status_code == 405


def test_a_deployments_unreadable_cadence_is_shown_and_reports_still_work(
        world: Any, use_profile: Any) -> None:
    use_profile("quang-nam", '[profile.report]\nusage = "weekly"\n')
    c = logged_in(world["op"][0])
    html = c.get(URL).content.decode()
    assert "Không hiểu chu kỳ báo cáo &#x27;weekly&#x27;" in html and 'role="alert"' in html
    resp = c.get(URL, _ask("usage"))
    assert resp.status_code == 200
    assert '<h2 id="report-title">Báo cáo định kỳ tình hình sử dụng</h2>' in resp.content.decode()
