"""Single sign-on and single sign-out in a real browser (Debian's chromium driven by
Playwright) with two real relying parties: private Apache instances with
mod_auth_openidc, each registered with one ``congvu sso client add`` command. The first
hears of a sign-out through back-channel logout, the second through front-channel
logout (an iframe on the provider's logout page)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import (
    RP_BROWSER_SKIP,
    Account,
    LiveProvider,
    eventually,
    free_port,
)
from tests.e2e.relying_party import RelyingParty

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]


@dataclass
class Apps:
    backchannel: RelyingParty  # "Dịch vụ công"
    frontchannel: RelyingParty  # "Quản lý văn bản"


@pytest.fixture(scope="module")
def apps(provider: LiveProvider) -> Iterator[Apps]:
    roots = [Path(tempfile.mkdtemp(prefix="cvrp", dir="/tmp")) for _ in range(2)]
    rp1 = RelyingParty("cvrp1", "Dịch vụ công", free_port(), roots[0])
    rp2 = RelyingParty("cvrp2", "Quản lý văn bản", free_port(), roots[1])
    try:
        # One CLI command registers each application.
        made = provider.cli_json(
            "sso", "client", "add", "--name", rp1.title, "--redirect-uri", rp1.redirect_uri,
            "--post-logout-uri", rp1.logged_out,
            "--backchannel-logout-uri", rp1.backchannel_logout_uri, "--json")
        rp1.client_id, rp1.client_secret = made["client_id"], made["client_secret"]
        made = provider.cli_json(
            "sso", "client", "add", "--name", rp2.title, "--redirect-uri", rp2.redirect_uri,
            "--post-logout-uri", rp2.logged_out,
            "--frontchannel-logout-uri", rp2.frontchannel_logout_uri, "--json")
        rp2.client_id, rp2.client_secret = made["client_id"], made["client_secret"]
        rp1.start(provider.issuer)
        rp2.start(provider.issuer)
        yield Apps(rp1, rp2)
    finally:
        rp1.stop()
        rp2.stop()
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)


def open_clients(provider: LiveProvider, address: str) -> set[str]:
    """client_ids of the SSO sessions ``congvu sso sessions`` lists for the address."""
    found: set[str] = set()
    for session in provider.sessions(address):
        for client in session["clients"]:
            found.add(client["client_id"])
    return found


def sign_in_at_both(b: Browser, apps: Apps, account: Account) -> None:
    b.open(apps.backchannel.home)
    b.sign_in(account, then=apps.backchannel.home)
    b.open(apps.frontchannel.home)
    assert b.url.startswith(apps.frontchannel.home), b.url


# --- the flows ------------------------------------------------------------------------


def test_sign_in_once_use_both_apps_sign_out_at_the_second_ends_the_first(
        browser: Browser, provider: LiveProvider, apps: Apps) -> None:
    person = provider.account()
    rp1, rp2 = apps.backchannel, apps.frontchannel

    browser.open(rp1.home)
    assert browser.on_sign_in_page(), browser.url
    assert browser.page.get_attribute("html", "lang") == "vi"
    assert "Đăng nhập" in browser.page.inner_text("body")
    browser.shot("dang-nhap")
    browser.sign_in(person, then=rp1.home)
    assert browser.shown() == {"email": person.address, "name": person.full_name,
                               "agency": "Sở Khoa học và Công nghệ"}
    browser.shot("ung-dung-1")

    # The second application: the provider knows the browser, no password is asked.
    before = len(browser.requests)
    browser.open(rp2.home)
    assert browser.url.startswith(rp2.home), browser.url
    visited = browser.requests[before:]
    assert any(u.startswith(f"{provider.issuer}/sso/authorize/") for u in visited)
    assert not any(u.startswith(f"{provider.issuer}/sso/login/") for u in visited), visited
    assert browser.shown()["email"] == person.address
    assert browser.shown()["name"] == person.full_name
    browser.shot("ung-dung-2-khong-hoi-mat-khau")

    assert open_clients(provider, person.address) == {rp1.client_id, rp2.client_id}

    # Sign out at the second application: the first hears it through back-channel logout.
    backchannel_hits = rp1.access_log().count("POST /protected/redirect_uri?logout=backchannel")
    browser.open(rp2.logout)
    browser.confirm_sign_out()
    browser.page.wait_for_url(f"{rp2.logged_out}*")
    browser.shot("dang-xuat-ung-dung-2")
    assert eventually(lambda: browser.signed_out_of(rp1)), browser.url
    browser.shot("ung-dung-1-da-dang-xuat")
    assert browser.signed_out_of(rp2)
    assert open_clients(provider, person.address) == set()
    assert rp1.access_log().count("POST /protected/redirect_uri?logout=backchannel") \
        > backchannel_hits


def test_sign_out_at_the_first_ends_the_second_through_front_channel(
        browser: Browser, provider: LiveProvider, apps: Apps) -> None:
    person = provider.ready_account()
    rp1, rp2 = apps.backchannel, apps.frontchannel
    sign_in_at_both(browser, apps, person)
    frontchannel_hits = rp2.access_log().count("GET /protected/redirect_uri?logout=get&")

    browser.open(rp1.logout)
    browser.confirm_sign_out()
    browser.page.wait_for_url(f"{rp1.logged_out}*")
    browser.shot("dang-xuat-ung-dung-1")
    # The provider's logout page loaded the second application's front-channel URI in an
    # iframe, with the session's iss and sid.
    assert rp2.access_log().count("GET /protected/redirect_uri?logout=get&") \
        > frontchannel_hits
    assert browser.signed_out_of(rp2), browser.url
    assert browser.signed_out_of(rp1), browser.url
    browser.shot("ca-hai-da-dang-xuat")
    assert open_clients(provider, person.address) == set()


def test_sign_out_at_the_provider_ends_both(browser: Browser, provider: LiveProvider,
                                            apps: Apps) -> None:
    person = provider.ready_account()
    sign_in_at_both(browser, apps, person)

    # The provider's own page lists where the person is signed in, with a button.
    browser.open(f"{provider.issuer}/sso/")
    assert browser.page.inner_text("#who") == person.address
    listed = browser.page.inner_text("main")
    assert apps.backchannel.title in listed and apps.frontchannel.title in listed
    browser.shot("trang-tai-khoan")
    browser.page.click("#signout")
    browser.page.wait_for_selector("#signed-out")
    browser.page.wait_for_load_state("load")  # the front-channel iframes too
    assert browser.page.get_attribute("html", "lang") == "vi"
    assert "Đã đăng xuất" in browser.page.inner_text("h1")
    browser.shot("da-dang-xuat-tai-nha-cung-cap")
    assert eventually(lambda: browser.signed_out_of(apps.backchannel)), browser.url
    assert browser.signed_out_of(apps.frontchannel), browser.url
    assert open_clients(provider, person.address) == set()


def test_suspended_account_is_signed_out_of_both(browser: Browser, provider: LiveProvider,
                                                 apps: Apps) -> None:
    person = provider.ready_account()
    sign_in_at_both(browser, apps, person)
    browser.open(apps.frontchannel.live)
    assert browser.shown()["email"] == person.address  # re-validation passes while active

    provider.cli("account", "suspend", person.address, "--rule", "NB-7.2c",
                 "--reason", "lộ mật khẩu")

    # Back-channel: the outbox tells the first application.
    assert eventually(lambda: browser.signed_out_of(apps.backchannel)), browser.url
    # Front-channel only: the next re-validation (refresh grant) fails and ends it.
    assert browser.signed_out_of(apps.frontchannel, "/protected/live/"), browser.url
    assert browser.signed_out_of(apps.frontchannel), browser.url
    browser.shot("tai-khoan-bi-dinh-chi")
    assert open_clients(provider, person.address) == set()
    # And the suspended person cannot sign in again.
    browser.page.fill("#id_address", person.address)
    browser.page.fill("#id_password", person.password)
    with browser.page.expect_navigation():
        browser.page.click("#signin")
    assert browser.on_sign_in_page(), browser.url
    assert "NB-7.2c" in browser.page.inner_text("#error")
    browser.shot("dang-nhap-bi-tu-choi")
