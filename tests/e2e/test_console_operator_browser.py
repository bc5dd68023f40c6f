"""The operator's console in a real browser (issue 6): the operator signs in with the
second factor operators need (TOTP enrolment at the first sign-in), opens the queue and
an overdue request an agency's IT contact filed, processes it (picks a naming
suggestion under NB-5.4, carries it out, sees the one-time password once), resets a
password and suspends an account from its page, and grants agency-it to a person.
Every state change is checked through the CLI, on the same deployment."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.browser import Browser, init_operator
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")






def test_operator_processes_an_overdue_request_then_manages_accounts_and_roles(
        browser: Browser, provider: LiveProvider) -> None:
    issuer = provider.issuer
    contact = provider.ready_account("skhcn")
    provider.cli("role", "grant", contact.address, "agency-it", "--agency", "skhcn")
    # Someone already holds the address the rule gives (NB-5.3): a collision (NB-5.4).
    holder = provider.cli_json("account", "create", "--agency", "skhcn", "--full-name",
                               "Nguyễn Ngọc Thành", "--json")
    assert holder["address"].startswith("thanhnn.skhcn@")
    filed_at = (dt.datetime.now(TZ) - dt.timedelta(days=20)).strftime("%Y-%m-%dT09:00")
    req = provider.cli_json(
        "request", "file", "new_mailboxes", "--agency", "skhcn", "--full-name",
        "Nguyễn Ngọc Thành", "--position", "Chuyên viên", "--requester", "Lê Thị Hoa",
        "--requester-position", "Chánh Văn phòng", "--phone", "0229 3871 234",
        "--as", contact.address, "--now", filed_at, "--json")
    op = init_operator(provider)

    # The queue, overdue first and flagged.
    queue = f"{issuer}/console/requests/"
    browser.open(queue)
    assert browser.on_sign_in_page(), browser.url
    browser.sign_in_enrolling_totp(op, then=queue)
    row = browser.page.locator(f"#request-{req['id']}")
    assert "overdue" in (row.get_attribute("class") or "")
    assert "quá hạn" in row.inner_text().lower()  # shown in capitals by the CSS
    browser.shot("hang-doi")

    # The request, then its processing screen.
    row.locator("a").first.click()
    browser.arrive(f"{issuer}/console/requests/{req['id']}/")
    process = f"{issuer}/console/requests/{req['id']}/process/"
    link = browser.page.locator(f"a[href$='/requests/{req['id']}/process/']")
    if link.count():
        link.first.click()
    else:  # the request page's link to the screen is another area's
        browser.open(process)
    browser.arrive(process)
    assert browser.page.locator("#overdue").count() == 1
    note = browser.page.inner_text("#naming-1 .collision")
    assert "thanhnn.skhcn đã có" in note and "NB-5.4" in note, note
    radios = browser.page.locator("input[name='address-1']")
    assert radios.count() >= 2
    picked = radios.nth(1).get_attribute("value")
    browser.page.click(f"label[for='{radios.nth(1).get_attribute('id')}']")
    browser.shot("xu-ly-yeu-cau")
    browser.page.click("#fulfil")
    browser.page.wait_for_selector("#otp-1")
    otp = browser.page.inner_text("#otp-1").strip()
    assert len(otp) >= 9
    address = f"{picked}@ninhbinh.gov.vn"
    assert address in browser.page.inner_text("#outcomes")
    browser.shot("mat-khau-mot-lan")
    made = provider.cli_json("account", "show", address, "--json")
    assert made["state"] == "active" and made["must_change_password"]
    assert provider.cli_json("request", "show", str(req["id"]), "--json")["status"] == "done"
    # Shown once: the screen does not show it again.
    browser.open(process)
    assert otp not in browser.page.inner_text("body")

    # Reset a password from the account page.
    person = provider.ready_account("skhcn")
    browser.open(f"{issuer}/console/accounts/{person.address}/")
    assert person.full_name in browser.page.inner_text("#full-name")
    browser.page.click("#action-reset-password")
    browser.page.wait_for_selector("#one-time-password")
    assert browser.page.inner_text("#otp-address").strip() == person.address
    browser.shot("cap-lai-mat-khau")
    shown = provider.cli_json("account", "show", person.address, "--json")
    assert shown["must_change_password"] and shown["one_time_password_issued_at"]

    # Suspend it, with the profile's rule.
    browser.page.click("#back")
    browser.page.click("#action-suspend")
    browser.arrive(f"{issuer}/console/accounts/{person.address}/suspend/")
    browser.page.select_option("#id_rule", "NB-7.2c")
    browser.page.fill("#id_reason", "Lộ mật khẩu qua thư lừa đảo")
    browser.shot("tam-dung")
    browser.page.click("#confirm")
    browser.arrive(f"{issuer}/console/accounts/{person.address}/")
    assert "NB-7.2c" in browser.page.inner_text("#state")
    browser.shot("da-tam-dung")
    shown = provider.cli_json("account", "show", person.address, "--json")
    assert (shown["state"], shown["reason"]) == ("suspended", "NB-7.2c")

    # Grant agency-it to a person.
    other = provider.ready_account("skhcn")
    browser.open(f"{issuer}/console/roles/")
    browser.page.fill("#id_address", other.address)
    browser.page.select_option("#id_role", "agency-it")
    browser.page.select_option("#id_agency", "skhcn")
    browser.page.click("#grant")
    browser.arrive(f"{issuer}/console/roles/")
    assert other.address in browser.page.inner_text("#notice")
    assert other.address in browser.page.inner_text("#grants")
    browser.shot("giao-vai-tro")
    roles = provider.cli("role", "list", "--json").stdout
    assert other.address in roles and "agency-it" in roles

    # The account list on a phone: filters, counts by state, the table scrolls sideways.
    browser.page.set_viewport_size({"width": 390, "height": 844})
    browser.open(f"{issuer}/console/accounts/?q=pham+van")
    found = browser.page.inner_text("#accounts")
    assert person.address in found and other.address in found
    assert holder["address"] not in found
    browser.shot("dien-thoai-danh-sach-tai-khoan")
    browser.page.fill("#q", "nguyen ngoc thanh")  # htmx updates the results as one types
    browser.page.locator("#accounts", has_text="thanhnn.skhcn@").wait_for()
    assert person.address not in browser.page.inner_text("#accounts")
    browser.shot("dien-thoai-tim-kiem")
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console
