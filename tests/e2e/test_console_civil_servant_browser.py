"""A civil servant's own console pages in a real browser (issue 6): made with the real
CLI, they sign in at congvu's own sign-in page (changing their one-time password), see
their profile, find a colleague in the province directory typing without diacritics
(htmx updates the results as they type), add automatic forwarding to a government
mailbox and are refused a gmail.com one naming NB-4.5, and change their password from
the console. Screenshots along the way are kept as CI artefacts."""

from __future__ import annotations

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider, new_password

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]


def test_civil_servant_profile_directory_forwarding_and_password(
        browser: Browser, provider: LiveProvider) -> None:
    colleague = provider.cli_json("account", "create", "--agency", "skhcn", "--full-name",
                                  "Đặng Thị Ngọc Ánh", "--position", "Chuyên viên chính",
                                  "--json")
    me = provider.account("skhcn")
    page = browser.page
    console = f"{provider.issuer}/console/me/"

    browser.open(console)
    assert browser.on_sign_in_page(), browser.url
    browser.sign_in(me, then=console)
    assert page.get_attribute("html", "lang") == "vi"
    assert page.inner_text("#me-name").strip() == me.full_name
    assert page.inner_text("#me-address").strip() == me.address
    assert "Sở Khoa học và Công nghệ" in page.inner_text("#me-agency")
    assert "Cán bộ, công chức" in page.inner_text("#me-roles")
    assert "NB-8.2a" in page.inner_text("#me-expiry")  # Ninh Bình: six months (NB-8.2a)
    assert page.locator("a[href='/sso/totp/enrol/']").count() == 1
    assert "chưa được khởi động" in page.inner_text("#mailbox")
    browser.shot("ho-so")

    # The directory: typed without diacritics, the results follow as they type (htmx).
    page.click("nav.console-nav a[href='/console/directory/']")
    browser.arrive(f"{provider.issuer}/console/directory/")
    assert me.address in page.inner_text("#persons tbody")  # everyone, before a search
    page.fill("#dir-q", "dang thi ngoc anh")
    # No button pressed: htmx asks as they type and puts the search in the address bar
    # (the back button and a shared link show the same results).
    page.wait_for_url(lambda url: "q=dang" in url)
    page.wait_for_selector("#result-count:has-text('Số người tìm thấy: 1.')")
    row = page.inner_text("#persons tbody")
    assert colleague["address"] in row and "Chuyên viên chính" in row
    assert me.address not in row
    browser.shot("danh-ba")

    # Forwarding within NB-4.5: a government mailbox is accepted...
    browser.open(console)
    page.fill("#id_target", "ban.sao@skhcn.ninhbinh.gov.vn")
    page.click("#add-forward")
    page.wait_for_selector("#forward-notice")
    assert "ban.sao@skhcn.ninhbinh.gov.vn" in page.inner_text("#forwards")
    browser.shot("chuyen-tiep")
    # ... a personal one is refused, naming the rule, and nothing is added.
    page.fill("#id_target", "ca.nhan@gmail.com")
    page.click("#add-forward")
    page.wait_for_selector("#target-errors li")
    error = page.inner_text("#target-errors")
    assert "NB-4.5" in error and "gmail.com" in error and "quy định" in error
    assert "gmail.com" not in page.inner_text("#forwards")
    browser.shot("chuyen-tiep-bi-tu-choi")

    # The password, changed voluntarily: the current one is asked.
    password = new_password()
    page.fill("#id_current_password", me.password)
    page.fill("#id_new_password1", password)
    page.fill("#id_new_password2", password)
    page.click("#change-password")
    browser.arrive(console)
    assert "Đã đổi mật khẩu" in page.inner_text("#notice")
    me.password = password
    browser.shot("doi-mat-khau-xong")
    # Still signed in here; the new password is the one that works from now on.
    browser.open(console)
    assert page.inner_text("#me-address").strip() == me.address
    shown = provider.cli_json("account", "show", me.address, "--json")
    assert shown["password_changed_at"] and not shown["must_change_password"]
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console


def test_the_public_directory_of_an_agency_needs_no_sign_in(
        browser: Browser, provider: LiveProvider) -> None:
    """NB-11.5, QN-13.4: what the agency's portal shows or embeds."""
    person = provider.cli_json("account", "create", "--agency", "skhcn", "--full-name",
                               "Vũ Minh Khoa", "--position", "Phó Giám đốc", "--json")
    browser.open(f"{provider.issuer}/danh-ba/skhcn/")
    assert browser.page.inner_text("h1") == "Sở Khoa học và Công nghệ"
    body = browser.page.inner_text("main")
    assert person["address"] in body and "Phó Giám đốc" in body
    browser.shot("danh-ba-cong-khai")
    browser.open(f"{provider.issuer}/danh-ba/skhcn/nhung/")
    assert person["address"] in browser.page.inner_text("main")
    assert browser.page.locator("header.bar").count() == 0
    browser.shot("danh-ba-nhung")
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console
