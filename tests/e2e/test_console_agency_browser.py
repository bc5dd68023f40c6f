"""The agency IT contact's console in a real browser (issue 6): signs in through congvu's
SSO, files a KH Mẫu 01 request with two persons (the first row refused in Vietnamese with
its rule, fixed, filed again), finds it in the agency's list with its deadline and rule,
and opens the mailbox-check monitoring (NB-9.2). Screenshots along the way."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]


def test_agency_contact_files_form_01_follows_it_and_sees_the_mailbox_checks(
        browser: Browser, provider: LiveProvider) -> None:
    provider.cli("org", "add", "--abbr", "stc", "--name", "Sở Tài chính")
    contact = provider.account("skhcn")
    provider.cli("role", "grant", contact.address, "agency-it", "--agency", "skhcn")
    box = provider.cli_json("account", "create", "--agency", "skhcn", "--agency-mailbox",
                            "--now", "2026-01-05T08:00", "--json")
    # The agency mailbox was read twice on the last working day before today, over IMAP
    # (what Dovecot's auth-policy report records).
    last_day = provider.django(
        "import datetime as dt\n"
        "from congvu import clock\n"
        "from congvu.deployment import deployment_profile\n"
        "from congvu.mail.actions import do_record_auth_success\n"
        "from congvu.workdays import calendar_for\n"
        "cal = calendar_for(deployment_profile())\n"
        "day = clock.now().astimezone(cal.zone).date() - dt.timedelta(days=1)\n"
        "while not cal.is_working_day(day):\n"
        "    day -= dt.timedelta(days=1)\n"
        "for hour in (8, 14):\n"
        "    when = dt.datetime.combine(day, dt.time(hour), tzinfo=cal.zone)\n"
        f"    do_record_auth_success(address={box['address']!r}, protocol='imap', now=when)\n"
        "print(day.strftime('%d/%m'))\n").strip()
    page = browser.page
    start = f"{provider.issuer}/console/requests/new/"

    browser.open(start)
    assert browser.on_sign_in_page(), browser.url
    browser.sign_in(contact, then=start)
    assert page.get_attribute("html", "lang") == "vi"
    assert "QN" not in page.inner_text("#kinds")
    assert "3 ngày làm việc (NB-6.2b)" in page.inner_text("#kinds")
    browser.shot("chon-mau")

    page.click("#kind-new_mailboxes")
    browser.arrive(f"{provider.issuer}/console/requests/new/new_mailboxes/")
    assert page.input_value("#id_agency") == "skhcn"
    page.fill("#id_requester_position", "Chuyên viên phụ trách CNTT")
    page.fill("#id_requester_phone", "0229 3871 234")
    page.fill("#id_row-1-full_name", "Tám")  # a single word: no address can be made
    page.fill("#id_row-1-position", "Chuyên viên")
    page.fill("#id_row-2-full_name", "Lê Thị Hồng Nhung")
    page.fill("#id_row-2-position", "Phó Trưởng phòng")
    page.check("#id_row-2-leader")
    # htmx adds a row without reloading the page (what was typed stays).
    page.click("#add-row")
    page.wait_for_selector("#id_row-4-full_name")
    assert page.input_value("#id_row-2-full_name") == "Lê Thị Hồng Nhung"
    browser.shot("mau-01")
    page.click("#file")
    page.wait_for_selector("#error-summary")
    error = page.inner_text("#id_row-1-full_name_error")
    assert error.startswith("Dòng 1, họ và tên:") and "NB-5.3" in error, error
    assert "Chưa có gì được ghi lại" in page.inner_text("#error-summary")
    assert page.input_value("#id_row-2-full_name") == "Lê Thị Hồng Nhung"
    browser.shot("loi-dong-1")

    page.fill("#id_row-1-full_name", "Nguyễn Văn Tám")
    page.click("#file")
    browser.arrive(f"{provider.issuer}/console/requests/")
    page.wait_for_selector("#facts")
    match = re.search(r"/console/requests/(\d+)/$", browser.url)
    assert match, browser.url
    request_id = match.group(1)
    assert "đã được gửi" in page.inner_text("#messages")
    assert "3 ngày làm việc" in page.inner_text("#deadline")
    assert page.inner_text("#deadline-rule").strip() == "NB-6.2b"
    rows = page.inner_text("#items")
    assert "Nguyễn Văn Tám" in rows and "Lê Thị Hồng Nhung" in rows
    deadline = page.inner_text("#deadline").split(" (")[0]
    browser.shot("da-gui")

    browser.open(f"{provider.issuer}/console/requests/")
    row = page.inner_text(f"#request-{request_id}")
    assert deadline in row and "NB-6.2b" in row, row
    browser.shot("danh-sach")

    page.click("a[href='/console/monitoring/']")
    browser.arrive(f"{provider.issuer}/console/monitoring/")
    assert "NB-9.2" in page.inner_text("#rule-agency")
    agency_table = page.inner_text("#agency-table")
    assert box["address"] in agency_table and "chưa đạt" in agency_table
    # Its two checks on the last working day meet NB-9.2: that day is not flagged.
    headers = page.locator("#agency-table thead th")
    columns = [headers.nth(i).inner_text() for i in range(headers.count())]
    column = next(i for i, text in enumerate(columns) if last_day in text)
    cell = page.locator(f"#agency-table tbody tr td:nth-child({column + 1})").inner_text()
    assert cell.strip() == "2", cell
    assert "stc@" not in page.inner_text("main")
    browser.shot("kiem-tra-hop-thu")

    # On a phone the form's rows are cards with visible labels, and nothing overflows.
    page.set_viewport_size({"width": 390, "height": 844})
    browser.open(f"{provider.issuer}/console/requests/new/new_mailboxes/")
    assert page.locator("label[for='id_row-1-full_name']").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    browser.shot("dien-thoai")
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console
