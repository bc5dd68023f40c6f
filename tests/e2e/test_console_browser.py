"""The web console in a real browser (issue 6, first slice): an agency's IT contact,
made and granted the role with the real CLI, opens the console, signs in at congvu's own
sign-in page, sees their agency's request and is refused another agency's request whose
URL they type in."""

from __future__ import annotations

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]


def test_agency_contact_sees_own_requests_and_is_refused_another_agencys(
        browser: Browser, provider: LiveProvider) -> None:
    provider.cli("org", "add", "--abbr", "stc", "--name", "Sở Tài chính")
    contact = provider.account("skhcn")
    provider.cli("role", "grant", contact.address, "agency-it", "--agency", "skhcn")
    ours, theirs = provider.ready_account("skhcn"), provider.ready_account("stc")
    form = ("--requester", "Lê Thị Hoa", "--requester-position", "Chuyên viên",
            "--phone", "0229 3871 234")
    mine = provider.cli_json("request", "file", "password_reissue", "--agency", "skhcn",
                             "--address", ours.address, *form, "--json")
    other = provider.cli_json("request", "file", "password_reissue", "--agency", "stc",
                              "--address", theirs.address, *form, "--json")
    console = f"{provider.issuer}/console/requests/"

    browser.open(console)
    assert browser.on_sign_in_page(), browser.url
    browser.sign_in(contact, then=console)
    body = browser.page.inner_text("main")
    assert browser.page.get_attribute("html", "lang") == "vi"
    links = browser.page.locator("main a[href*='/console/requests/']")
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert f"/console/requests/{mine['id']}/" in hrefs
    assert f"/console/requests/{other['id']}/" not in hrefs
    assert "Sở Tài chính" not in body
    browser.shot("yeu-cau-cua-co-quan")

    browser.open(f"{provider.issuer}/console/requests/{other['id']}/")
    assert "Không có quyền truy cập" in browser.page.inner_text("h1")
    assert theirs.address not in browser.page.inner_text("body")
    browser.shot("tu-choi")
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console
