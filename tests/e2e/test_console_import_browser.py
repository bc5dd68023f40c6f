"""The bulk import in a real browser (issue 6, NB-13): an operator, made with the real CLI,
signs in at congvu's own sign-in page (one-time password, forced change, authenticator),
uploads an XLSX with one faulty row, reads the error in the preview, uploads the fixed
file, confirms, watches the tasks worker create the accounts, downloads the passwords
file once, and finds the import in the audit log with a filter. Screenshots at each
step; no Content-Security-Policy violation."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]


def _xlsx(rows: list[list[Any]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(["DANH SÁCH CÁN BỘ CHUYỂN ĐỔI HỘP THƯ"])
    sheet.append(["STT", "Họ và tên", "Cơ quan/đơn vị", "Chức vụ", "Ngày sinh", "Lãnh đạo",
                  "Địa chỉ cũ"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS = [[1, "Nguyễn Ngọc Thành", "skhcn", "Chuyên viên", "05/09/1985", "",
         "thanh@hanam.gov.vn"],
        [2, "Trần Thị Bích Ngọc", "skhcn", "Trưởng phòng", "12/01/1979", "có", ""],
        [3, "Lan", "skhcn", "Văn thư", "", "", ""]]
FIXED = [*ROWS[:2], [3, "Phạm Thị Lan", "skhcn", "Văn thư", "", "", ""]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sign_in_operator(browser: Browser, provider: LiveProvider, then: str) -> None:
    op = provider.account("skhcn")
    provider.cli("role", "grant", op.address, "operator")
    browser.open(then)
    assert browser.on_sign_in_page(), browser.url
    browser.sign_in_enrolling_totp(op, then=then)


def _upload(browser: Browser, name: str, rows: list[list[Any]]) -> str:
    page = browser.page
    page.set_input_files("#id_file", {"name": name, "mimeType": XLSX, "buffer": _xlsx(rows)})
    page.click("#upload-button")
    page.wait_for_url(re.compile(r".*/console/imports/\d+/$"))
    # The check runs in `congvu serve`'s worker; the page shows its progress, then reloads.
    page.wait_for_selector("#preview-rows", timeout=60_000)
    return str(page.url)


def test_operator_imports_a_file_with_preview_confirm_passwords_and_audit(
        browser: Browser, provider: LiveProvider) -> None:
    import openpyxl
    from playwright.sync_api import expect

    console = f"{provider.issuer}/console/imports/"
    _sign_in_operator(browser, provider, console)
    page = browser.page
    assert page.get_attribute("html", "lang") == "vi"
    assert "Nhập danh sách cán bộ" in page.inner_text("h1")
    browser.shot("trang-nhap")

    # 1. A file with a faulty row: the preview shows the error first, names the column
    #    and the rule; every other row shows its address and rule.
    _upload(browser, "danh-sach-loi.xlsx", ROWS)
    first = page.locator("#preview-rows tbody tr").first
    assert "row-error" in (first.get_attribute("class") or "")
    text = first.inner_text()
    assert "Họ và tên" in text and "NB-5.3" in text and "Lan" in text
    body = page.inner_text("main")
    assert "thanhnn.skhcn@ninhbinh.gov.vn" in body and "ngocttb.skhcn@ninhbinh.gov.vn" in body
    assert "hanam.gov.vn" in body  # the old address at a former province's domain
    assert page.locator("#valid_only").count() == 1
    browser.shot("xem-truoc-co-loi")
    page.select_option("#show", "errors")
    expect(page.locator("#preview-rows tbody tr")).to_have_count(1)
    assert "show=errors" in page.url  # the filter is in the address bar too
    browser.shot("chi-dong-loi")

    # 2. The fixed file: no error, confirm, the worker writes, the page follows.
    browser.open(console)
    _upload(browser, "danh-sach.xlsx", FIXED)
    assert page.locator("#preview-rows tr.row-error").count() == 0
    assert page.locator("#valid_only").count() == 0
    browser.shot("xem-truoc-hop-le")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r".*/console/imports/\d+/$"))
    browser.shot("dang-tao-tai-khoan")
    page.wait_for_selector("#passwords-download", timeout=60_000)
    assert page.inner_text("#created").strip() == "3"
    browser.shot("da-tao-tai-khoan")

    # 3. The passwords, once.
    with page.expect_download() as info:
        page.click("#passwords-download")
    assert info.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    table = {r[3]: r[4] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert set(table) == {"thanhnn.skhcn@ninhbinh.gov.vn", "ngocttb.skhcn@ninhbinh.gov.vn",
                          "lanpt.skhcn@ninhbinh.gov.vn"}
    assert all(len(p or "") >= 9 for p in table.values())  # NB-8.2b length
    made = provider.cli_json("account", "show", "lanpt.skhcn", "--json")
    assert made["state"] == "active" and made["must_change_password"] is True
    page.reload()
    assert page.locator("#passwords-taken").count() == 1
    assert page.locator("#passwords-download").count() == 0
    browser.shot("mat-khau-da-tai")

    # 4. The import in the audit log, found with a filter.
    import_id = page.url.rstrip("/").rsplit("/", 1)[1]
    browser.open(f"{provider.issuer}/console/audit/")
    page.fill("#id_target", f"import:{import_id}")
    page.fill("#id_action", "import.")
    page.click("#audit-filters button[type=submit]")
    # htmx swaps the results in place (and puts the filters in the address bar).
    expect(page.locator("#events code", has_text="account.create")).to_have_count(0)
    expect(page.locator("#events code", has_text="import.write")).to_have_count(1)
    assert "target=import%3A" in page.url
    events = page.inner_text("#events")
    for action in ("import.upload", "import.check", "import.confirm", "import.passwords"):
        assert action in events, action
    assert "Tạo tài khoản" not in events  # only the import's own events match
    browser.shot("nhat-ky-dot-nhap")
    page.fill("#id_target", "lanpt.skhcn")
    page.fill("#id_action", "")
    page.click("#audit-filters button[type=submit]")
    expect(page.locator("#events code", has_text="import.")).to_have_count(0)
    expect(page.locator("#events code", has_text="account.create")).to_have_count(1)
    assert f"import:{import_id}" in page.inner_text("#events")
    browser.shot("nhat-ky-tai-khoan")
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console
