"""The reports in a real browser (issue 6): the operator signs in (with the second factor
operators need), opens the reports, sees which NB-11.7 report is due and by when,
prepares it and sees its charts, switches to another report in place (htmx), downloads
the XLSX through the job page the tasks worker completes, and opens the file back. An
agency's IT contact, in their own browser, sees their agency only and is refused
another agency's report typed into the address bar. Screenshots are kept."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from congvu.profiles import load_profile
from congvu.reports.cadence import cadence_of, next_due
from tests.e2e.browser import Browser, init_operator
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")






def test_operator_prepares_the_nb_11_7_report_and_downloads_its_xlsx(
        browser: Browser, provider: LiveProvider) -> None:
    issuer = provider.issuer
    provider.cli("org", "add", "--abbr", "stc", "--name", "Sở Tài chính")
    for agency in ("skhcn", "skhcn", "stc"):
        provider.account(agency)
    filed_at = (dt.datetime.now(TZ) - dt.timedelta(days=10)).strftime("%Y-%m-%dT09:00")
    provider.cli("request", "file", "new_mailboxes", "--agency", "stc", "--full-name",
                 "Trần Thị Mai", "--requester", "Lê Văn Hòa", "--now", filed_at)
    reports = f"{issuer}/console/reports/"

    browser.open(reports)
    assert browser.on_sign_in_page(), browser.url
    browser.sign_in_enrolling_totp(init_operator(provider), then=reports)
    today = dt.datetime.now(TZ).date()
    period = next_due(cadence_of(load_profile("ninh-binh")), today)  # type: ignore[arg-type]
    due = browser.page.inner_text("#report-due")
    assert f"Báo cáo năm {period.due.year}" in due and f"{period.due:%d/%m/%Y}" in due
    assert "(NB-11.7)" in due and f"{period.start:%d/%m/%Y}" in due
    browser.shot("bao-cao-den-han")

    # The report due next: figures, a chart per table, the tables themselves.
    browser.page.click("#report-due-prepare")
    browser.page.wait_for_selector("#report-title")
    assert browser.page.inner_text("#report-title") == f"Báo cáo năm {period.due.year}"
    chart = browser.page.locator("#chart-accounts-by-state svg")
    assert chart.is_visible() and chart.get_attribute("role") == "img"
    assert "Sở Tài chính" in browser.page.inner_text("#table-account-changes")
    assert "Cấp hộp thư mới (Mẫu 01)" in browser.page.inner_text("#table-sla-by-kind")
    browser.shot("bao-cao-bieu-do")

    # Another report, in place (htmx): the page is not reloaded, the address follows.
    # (Reloaded once first: a screenshot leaves empty style="" attributes on the inputs,
    # which htmx's history snapshot would then copy into a CSP report of its own.)
    browser.open(browser.url)
    browser.page.select_option("#id_report", "accounts")
    browser.page.click("#report-show")
    browser.page.wait_for_selector("#table-accounts-by-agency")
    assert "report=accounts" in browser.url
    assert "Sở Tài chính" in browser.page.inner_text("#table-accounts-by-agency")
    browser.shot("tai-khoan-theo-co-quan")

    # The XLSX: queued, the job page shows progress, then the file.
    browser.page.click("#export-xlsx")
    browser.arrive(f"{issuer}/console/jobs/")
    browser.page.wait_for_selector("#job-download", timeout=60_000)
    assert "XLSX" in browser.page.inner_text("#job-summary")
    browser.shot("tac-vu-xong")
    with browser.page.expect_download() as info:
        browser.page.click("#job-download")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as fh:
        wb = load_workbook(io.BytesIO(fh.read()))
    assert wb.sheetnames[0] == "Báo cáo" and "Tài khoản theo cơ quan" in wb.sheetnames
    assert len(wb["Tài khoản theo cơ quan"]._charts) == 1

    # On a phone: the same report, readable.
    browser.page.set_viewport_size({"width": 390, "height": 844})
    browser.open(f"{reports}?report=requests&start={today.replace(month=1, day=1)}"
                 f"&end={today}")
    assert browser.page.locator("#chart-requests-by-kind svg").is_visible()
    browser.shot("dien-thoai")
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console


def test_agency_contact_sees_their_agency_and_is_refused_another(
        browser: Browser, provider: LiveProvider) -> None:
    issuer = provider.issuer
    provider.cli("org", "add", "--abbr", "sxd", "--name", "Sở Xây dựng", check=False)
    contact = provider.account("skhcn")
    provider.cli("role", "grant", contact.address, "agency-it", "--agency", "skhcn")
    provider.account("sxd")
    reports = f"{issuer}/console/reports/"

    browser.open(reports)
    browser.sign_in(contact, then=reports)
    options = browser.page.locator("#id_agency option").all_inner_texts()
    assert any("skhcn" in o for o in options) and not any("sxd" in o for o in options)
    browser.page.click("#report-show")
    browser.page.wait_for_selector("#report-title")
    assert "Sở Xây dựng" not in browser.page.inner_text("main")
    browser.shot("bao-cao-co-quan")

    browser.open(f"{reports}?report=accounts&start=2026-01-01&end=2026-12-31&agency=sxd")
    assert "Không có quyền truy cập" in browser.page.inner_text("h1")
    assert "Sở Xây dựng" not in browser.page.inner_text("main")
    browser.shot("tu-choi-co-quan-khac")
