"""Passkeys in a real browser: Debian's chromium with a virtual WebAuthn authenticator
(Chrome DevTools Protocol), a provider at http://localhost:PORT (WebAuthn needs a host
name) and a relying party served by Apache with mod_auth_openidc. A person whose agency
requires a second factor registers a passkey at the first sign-in, signs out, and signs
in again with the password and the passkey: no authenticator code is asked."""

from __future__ import annotations

import base64
import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import (
    RP_BROWSER_SKIP,
    LocalhostProvider,
    eventually,
    free_port,
)
from tests.e2e.relying_party import RelyingParty

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("passkeys-e2e"), RP_BROWSER_SKIP]


@pytest.fixture(scope="module")
def app(localhost_provider: LocalhostProvider) -> Iterator[RelyingParty]:
    """One shared application, told of sign-outs through back-channel logout."""
    root = Path(tempfile.mkdtemp(prefix="cvrpk", dir="/tmp"))
    rp = RelyingParty("cvrpk", "Dịch vụ công", free_port(), root)
    try:
        made = localhost_provider.cli_json(
            "sso", "client", "add", "--name", rp.title, "--redirect-uri", rp.redirect_uri,
            "--post-logout-uri", rp.logged_out,
            "--backchannel-logout-uri", rp.backchannel_logout_uri, "--json")
        rp.client_id, rp.client_secret = made["client_id"], made["client_secret"]
        rp.start(localhost_provider.issuer)
        yield rp
    finally:
        rp.stop()
        shutil.rmtree(root, ignore_errors=True)


class PasskeyBrowser(Browser):
    """A browser with a virtual platform authenticator (user verification on)."""

    def __init__(self, page: Any, cdp: Any, provider: LocalhostProvider, folder: Path,
                 prefix: str) -> None:
        super().__init__(page, provider, folder, prefix)
        self.failed: list[str] = []
        page.on("response", lambda r: self.failed.append(r.url) if r.status >= 400 else None)
        self.cdp = cdp
        cdp.send("WebAuthn.enable")
        self.authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True}})["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        return list(self.cdp.send("WebAuthn.getCredentials",
                                  {"authenticatorId": self.authenticator})["credentials"])


@pytest.fixture
def browser(chromium: Any, localhost_provider: LocalhostProvider, artifacts: Path,
            request: pytest.FixtureRequest) -> Iterator[PasskeyBrowser]:
    context = chromium.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    b = PasskeyBrowser(page, context.new_cdp_session(page), localhost_provider, artifacts,
                       request.node.name)
    try:
        yield b
    finally:
        with contextlib.suppress(Exception):
            b.shot("cuoi")
        context.close()


def script_errors(b: PasskeyBrowser) -> list[str]:
    """The browser's errors, but a missing favicon (neither site has one)."""
    only_favicons = all(u.endswith("/favicon.ico") for u in b.failed)
    return [m for m in b.console if not (only_favicons and "404 (Not Found)" in m)]


def _subject(provider: LocalhostProvider, address: str) -> bytes:
    text = provider.django("from congvu.accounts.models import Account\n"
                           f"print(Account.objects.get(address={address!r}).subject)")
    return uuid.UUID(text.strip()).bytes


def test_register_a_passkey_then_sign_in_with_password_and_passkey(
        browser: PasskeyBrowser, localhost_provider: LocalhostProvider,
        app: RelyingParty) -> None:
    provider = localhost_provider
    issuer = provider.issuer
    provider.cli("org", "add", "--abbr", "vpub", "--name", "Văn phòng UBND tỉnh")
    provider.cli("org", "set", "vpub", "--require-second-factor")
    person = provider.account("vpub")

    # First sign-in: password, forced change, then a second factor is required; the
    # enrolment page offers an authenticator app or a passkey. The passkey it is.
    browser.open(app.home)
    assert browser.on_sign_in_page(), browser.url
    browser.sign_in(person, then=f"{issuer}/sso/totp/enrol/")
    assert browser.page.locator("#id_code").count() == 1  # the app is offered too
    browser.shot("dang-ky-yeu-to-thu-hai")
    browser.page.fill("#id_passkey_name", "Khoá USB")
    browser.page.click("#passkey-add")
    browser.arrive(app.home)
    assert browser.shown()["email"] == person.address
    browser.shot("ung-dung-sau-dang-ky-passkey")
    assert any(u == f"{issuer}/static/passkeys.js" for u in browser.requests)
    assert not script_errors(browser), browser.console  # no CSP violation, no script error

    # The authenticator holds one credential for RP ID "localhost" whose user handle is
    # the account's subject, never the address.
    creds = browser.credentials()
    assert len(creds) == 1 and creds[0]["rpId"] == "localhost"
    assert base64.b64decode(creds[0]["userHandle"]) == _subject(provider, person.address)
    assert creds[0]["isResidentCredential"] is True

    # The account page lists it.
    browser.open(f"{issuer}/sso/")
    assert "Khoá USB" in browser.page.inner_text("#passkey-list")
    browser.shot("trang-tai-khoan-passkey")

    # Sign out everywhere.
    browser.page.click("#signout")
    browser.page.wait_for_selector("#signed-out")
    assert eventually(lambda: browser.signed_out_of(app)), browser.url

    # Again: password, then the passkey; no code asked.
    before = len(browser.requests)
    browser.page.fill("#id_address", person.address)
    browser.page.fill("#id_password", person.password)
    browser.page.click("#signin")
    browser.arrive(f"{issuer}/sso/passkey/")
    browser.shot("dang-nhap-bang-passkey")
    browser.page.click("#passkey-use")
    browser.arrive(app.home)
    assert browser.shown()["email"] == person.address
    visited = browser.requests[before:]
    assert not any(u.startswith(f"{issuer}/sso/totp/") for u in visited), visited
    assert not script_errors(browser), browser.console
    browser.shot("ung-dung-sau-dang-nhap-bang-passkey")

    sessions = provider.sessions(person.address)
    assert sessions and all(s["second_factor"] for s in sessions)
    assert browser.credentials()[0]["signCount"] >= 2  # registration, then the sign-in


def test_a_failed_passkey_shows_a_clear_message_and_can_be_retried(
        browser: PasskeyBrowser, localhost_provider: LocalhostProvider) -> None:
    """The key does not answer (here: its credential is gone from the authenticator): the
    page says so in place, and the same button works once the key is back."""
    provider = localhost_provider
    issuer = provider.issuer
    person = provider.ready_account()
    browser.open(f"{issuer}/sso/")
    browser.sign_in(person, then=f"{issuer}/sso/")
    browser.page.fill("#id_passkey_name", "Điện thoại")
    browser.page.click("#passkey-add")
    browser.page.wait_for_selector("#passkey-list")
    saved = browser.credentials()
    browser.page.click("#signout")
    browser.page.wait_for_selector("#signed-out")

    browser.open(f"{issuer}/sso/login/")
    browser.page.fill("#id_address", person.address)
    browser.page.fill("#id_password", person.password)
    browser.page.click("#signin")
    browser.arrive(f"{issuer}/sso/passkey/")
    browser.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": browser.authenticator})
    browser.page.click("#passkey-use")
    error = browser.page.locator("#passkey-sign-in .passkey-error")
    error.wait_for(state="visible", timeout=150_000)
    browser.shot("passkey-khong-tra-loi")
    cancelled = browser.page.get_attribute("#passkey-sign-in", "data-msg-cancelled")
    assert cancelled and error.inner_text().strip() == cancelled  # in the page's language
    assert browser.url.startswith(f"{issuer}/sso/passkey/")

    browser.cdp.send("WebAuthn.addCredential", {"authenticatorId": browser.authenticator,
                                                "credential": saved[0]})
    browser.page.click("#passkey-use")
    browser.arrive(f"{issuer}/sso/")
    assert browser.page.inner_text("#who") == person.address
