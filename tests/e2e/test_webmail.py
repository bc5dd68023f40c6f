"""Webmail end to end: a real ``congvu serve`` (the SSO provider), the mail plane started
by ``congvu mail up``, Roundcube started by ``congvu webmail up``, and Debian's chromium
driven by Playwright. A civil servant types their password only at congvu's sign-in page;
Roundcube opens the mailbox with the OAuth access token (IMAP XOAUTH2 checked by Dovecot
through congvu's introspection); signing out of webmail signs out everywhere, and
signing out at the provider ends the Roundcube session (back-channel logout).

Runs as root only (private Postfix, Dovecot and Apache instances), on SQLite or on the
PostgreSQL of DATABASE_URL. Screenshots go to $CONGVU_ARTIFACTS (or a temporary folder)."""

from __future__ import annotations

import base64
import imaplib
import io
import json
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Account,
    LiveProvider,
    free_port,
    new_password,
)
from tests.e2e.oidc_client import Client
from tests.mail.smtp_sink import Sink, start_sink

NEEDS = ["/usr/sbin/postfix", "/usr/sbin/dovecot", "/usr/sbin/apache2",
         "/usr/share/roundcube/index.php", CHROMIUM]
CAN_RUN = os.geteuid() == 0 and all(Path(p).exists() for p in NEEDS)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("mail-plane"),
    pytest.mark.skipif(not CAN_RUN, reason="webmail needs root (private Postfix, Dovecot and "
                       "Apache instances) and Debian's postfix, dovecot, apache2, "
                       "libapache2-mod-php, roundcube and chromium (scripts/setup)"),
]
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the deployment's self-signed certificate
WAIT_MS = 30_000


@dataclass
class Webmail:
    provider: LiveProvider
    url: str
    smtp_port: int
    submission_port: int
    imap_port: int
    sink: Sink

    @property
    def home(self) -> Path:
        return Path(self.provider.env["CONGVU_HOME"])

    def deliver(self, recipient: str, subject: str, body: str) -> None:
        """A mail from the Internet, through the mail plane's SMTP port."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "citizen@example.org", recipient, subject
        msg.set_content(body)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as s:
            s.send_message(msg)

    def log(self, *parts: str) -> str:
        try:
            return self.home.joinpath(*parts).read_text("utf-8", "replace")
        except OSError:
            return ""

    def open_sessions(self, address: str) -> list[dict[str, Any]]:
        return list(self.provider.cli_json("sso", "sessions", address, "--json")["sessions"])

    def imap_token(self, address: str, token: str, mechanism: str = "XOAUTH2") -> imaplib.IMAP4:
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        m.starttls(ssl_context=TLS)
        if mechanism == "XOAUTH2":
            payload = f"user={address}\x01auth=Bearer {token}\x01\x01"
        else:
            payload = f"n,a={address},\x01auth=Bearer {token}\x01\x01"
        try:
            # On failure the server sends an error challenge, answered with an empty line.
            m.authenticate(mechanism, lambda challenge: b"" if challenge else payload.encode())
        except BaseException:
            m.shutdown()
            raise
        return m


@pytest.fixture(scope="module")
def webmail(provider: LiveProvider) -> Iterator[Webmail]:
    # The deployment sits in a private temporary folder: Postfix and Apache's users must
    # traverse it to reach $CONGVU_HOME (mail up and webmail up open $CONGVU_HOME itself).
    provider.home.chmod(0o711)
    sink = start_sink()
    mail = Webmail(provider, "", free_port(), free_port(), free_port(), sink)
    port = free_port()
    try:
        provider.cli("mail", "up", "--smtp-port", str(mail.smtp_port), "--submission-port",
                     str(mail.submission_port), "--imap-port", str(mail.imap_port),
                     "--internet-relay", f"127.0.0.1:{sink.port}", "--listen", "127.0.0.1")
        state = provider.cli_json("webmail", "up", "--port", str(port), "--json")
        mail.url = state["url"]
        yield mail
    finally:
        provider.cli("webmail", "down", check=False)
        provider.cli("mail", "down", check=False)
        sink.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    # E2E_DEBUG_BYPASS_CSP: only to look past a provider CSP problem while debugging.
    context = browser.new_context(locale="vi-VN",
                                  bypass_csp=bool(os.environ.get("E2E_DEBUG_BYPASS_CSP")))
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        yield page
    finally:
        page.screenshot(path=str(artifacts / f"webmail-{request.node.name}-last.png"))
        context.close()


def _until(predicate: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _sign_in_to_webmail(page: Any, webmail: Webmail, acc: Account, *,
                        new_password: str = "") -> None:
    """Open webmail: congvu's sign-in page, (the forced change,) then the inbox."""
    issuer = webmail.provider.issuer
    page.goto(webmail.url + "/")
    page.wait_for_url(f"{issuer}/sso/login/**")
    page.fill("#id_address", acc.address)
    page.fill("#id_password", acc.password)
    page.click("#signin")
    if new_password:
        page.wait_for_url(f"{issuer}/sso/password/**")
        page.fill("#id_new_password1", new_password)
        page.fill("#id_new_password2", new_password)
        page.click("#change")
    page.wait_for_url(f"{webmail.url}/**")
    page.wait_for_selector("#messagelist", state="attached")


def test_webmail_status(webmail: Webmail) -> None:
    state = webmail.provider.cli_json("webmail", "status", "--json")
    assert state["running"] is True and state["url"] == webmail.url
    assert requests.get(webmail.url + "/", allow_redirects=False, timeout=30).headers[
        "Location"].startswith(f"{webmail.provider.issuer}/sso/authorize/")


def test_sign_in_read_a_mail_and_sign_out_everywhere(webmail: Webmail, page: Any,
                                                      artifacts: Path) -> None:
    acc = webmail.provider.account()  # one-time password: changed at the first sign-in
    webmail.deliver(acc.address, "Giấy mời họp giao ban", "Kính gửi anh Phạm Văn, mời dự họp.")
    _sign_in_to_webmail(page, webmail, acc, new_password=new_password())
    row = page.locator("#messagelist tr", has_text="Giấy mời họp giao ban")
    row.wait_for()
    page.screenshot(path=str(artifacts / "webmail-1-inbox.png"))
    row.click()
    body = page.frame_locator("#messagecontframe").locator("#messagebody")
    body.wait_for()
    assert "mời dự họp" in body.inner_text()
    page.screenshot(path=str(artifacts / "webmail-2-message.png"))
    # The mailbox was opened with the access token, not a password.
    assert f"user=<{acc.address}>, method=XOAUTH2" in webmail.log("mail", "log",
                                                                  "dovecot.log")
    sessions = webmail.open_sessions(acc.address)
    assert [c["name"] for s in sessions for c in s["clients"]] == ["webmail"]

    page.click("a.logout")  # Roundcube's "Thoát"
    issuer = webmail.provider.issuer
    page.wait_for_url(f"{issuer}/sso/login/**")  # via the provider's end-session endpoint
    page.screenshot(path=str(artifacts / "webmail-3-signed-out.png"))
    assert webmail.open_sessions(acc.address) == []
    # Signed out everywhere: the provider asks for the password again.
    page.goto(f"{issuer}/sso/")
    assert "/sso/login/" in page.url
    page.goto(webmail.url + "/")
    page.wait_for_url(f"{issuer}/sso/login/**")


def test_signing_out_at_the_provider_ends_the_webmail_session(webmail: Webmail, page: Any,
                                                               artifacts: Path) -> None:
    acc = webmail.provider.ready_account()
    webmail.deliver(acc.address, "Báo cáo tuần", "Nội dung báo cáo.")
    _sign_in_to_webmail(page, webmail, acc)
    page.locator("#messagelist tr", has_text="Báo cáo tuần").wait_for()
    [session] = webmail.open_sessions(acc.address)

    provider_tab = page.context.new_page()
    provider_tab.goto(f"{webmail.provider.issuer}/sso/logout/")
    provider_tab.click("#confirm-logout")
    provider_tab.wait_for_load_state()
    provider_tab.screenshot(path=str(artifacts / "webmail-4-provider-signed-out.png"))
    assert webmail.open_sessions(acc.address) == []

    # The provider's outbox POSTs a logout token to Roundcube, which destroys the session.
    heard = f"back-channel logout sid={session['sid']} sub="
    assert _until(lambda: any(heard in line and line.endswith(", 1 session(s)") for line in
                              webmail.log("webmail", "logs", "userlogins.log").splitlines())
                  and acc.address not in _roundcube_sessions(webmail)), (
        webmail.log("webmail", "logs", "userlogins.log")[-1500:],
        webmail.log("webmail", "logs", "errors.log")[-1500:],
        webmail.provider.log()[-1500:])
    page.goto(webmail.url + "/?_task=mail")
    page.wait_for_url(f"{webmail.provider.issuer}/sso/login/**")
    page.screenshot(path=str(artifacts / "webmail-5-session-gone.png"))


def _roundcube_sessions(webmail: Webmail) -> str:
    """The user names in Roundcube's live sessions (its own SQLite database)."""
    import sqlite3

    db = webmail.home / "webmail" / "db" / "roundcube.sqlite"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT vars FROM session").fetchall()
    return " ".join(base64.b64decode(v).decode("utf-8", "replace") for (v,) in rows if v)


def _pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    sheet = canvas.Canvas(out)
    sheet.drawString(72, 760, text)
    sheet.showPage()
    sheet.save()
    return out.getvalue()


def _idle(page: Any) -> None:
    page.wait_for_function("() => window.rcmail && !window.rcmail.busy")


def _note(page: Any) -> str:
    """The text of the message Roundcube shows at the bottom (it hides it after 15 s)."""
    note = page.locator("#messagestack > div:not(.loading)").last
    note.wait_for()
    return str(note.inner_text())


def test_gl9_a_clerk_hands_an_official_mail_to_the_eoffice_intake_with_one_click(
        webmail: Webmail, page: Any, artifacts: Path) -> None:
    """Roundcube's "Chuyển vào văn bản đến" button: the plugin posts the open message,
    server to server, with the clerk's own access token; the PDF arrives in the agency's
    intake, and a second click is refused rather than received twice (GL-9)."""
    provider = webmail.provider
    clerk = provider.ready_account()
    provider.cli("eoffice", "role", "grant", clerk.address, "clerk", "--agency", "skhcn")
    subject = "Công văn số 45/UBND-KGVX về triển khai chuyển đổi số"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "vanthu@ubnd.example.org", clerk.address, subject
    msg.set_content("Kính gửi Sở Khoa học và Công nghệ: gửi kèm công văn số 45.")
    msg.add_attachment(_pdf("Cong van so 45/UBND-KGVX"), maintype="application",
                       subtype="pdf", filename="cv-45-ubnd-kgvx.pdf")
    with smtplib.SMTP("127.0.0.1", webmail.smtp_port, timeout=30) as s:
        s.send_message(msg)
    _sign_in_to_webmail(page, webmail, clerk)
    row = page.locator("#messagelist tr", has_text="Công văn số 45/UBND-KGVX")
    row.wait_for()
    row.click()
    page.frame_locator("#messagecontframe").locator("#messagebody").wait_for()
    button = page.locator("a.congvu-eoffice:not(.disabled)").first
    button.wait_for()
    _idle(page)  # Roundcube ignores commands while it is busy (loading the preview)
    page.screenshot(path=str(artifacts / "webmail-eoffice-1-button.png"))
    button.click()
    try:
        assert "Đã chuyển vào văn bản đến" in _note(page)
    except Exception as exc:
        raise AssertionError("no confirmation; Roundcube: " + webmail.log(
            "webmail", "logs", "errors.log")[-3000:] + "\nApache: " + webmail.log(
            "webmail", "apache", "logs", "error.log")[-2000:] + "\ncongvu: "
            + provider.log()) from exc
    page.screenshot(path=str(artifacts / "webmail-eoffice-2-handed-over.png"))
    received = json.loads(provider.django(
        "import json\nfrom congvu.eoffice.models import IncomingDocument\n"
        "print(json.dumps([{'status': d.status, 'agency': d.agency.account_name, "
        "'summary': d.summary, 'issuer': d.issuer} for d in "
        "IncomingDocument.objects.select_related('agency')]))"))
    assert len(received) == 1 and received[0]["status"] == "received"
    assert received[0]["agency"] == "skhcn" and "chuyển đổi số" in received[0]["summary"]
    page.locator("#messagestack > div:not(.loading)").last.wait_for(state="detached",
                                                                    timeout=WAIT_MS)
    _idle(page)
    button.click()  # the same message again: refused, not received twice
    assert "Không tiếp nhận lần thứ hai" in _note(page)
    assert provider.django(
        "from congvu.eoffice.models import IncomingDocument\n"
        "print(IncomingDocument.objects.count())").strip() == "1"


@pytest.fixture(scope="module")
def token_client(webmail: Webmail) -> Client:
    return webmail.provider.add_client("Kiểm thử IMAP", f"http://127.0.0.1:{free_port()}/cb")


def _access_token(webmail: Webmail, client: Client, acc: Account) -> str:
    tokens = webmail.provider.oidc.sign_in(client, requests.Session(), address=acc.address,
                                           password=acc.password)
    return str(tokens["access_token"])


def test_imap_and_submission_accept_a_valid_access_token(webmail: Webmail,
                                                         token_client: Client) -> None:
    acc = webmail.provider.ready_account()
    token = _access_token(webmail, token_client, acc)
    for mechanism in ("XOAUTH2", "OAUTHBEARER"):
        m = webmail.imap_token(acc.address, token, mechanism)
        assert m.select("INBOX")[0] == "OK"
        m.logout()
    payload = f"user={acc.address}\x01auth=Bearer {token}\x01\x01"
    with smtplib.SMTP("127.0.0.1", webmail.submission_port, timeout=30) as s:
        s.starttls(context=TLS)
        s.ehlo()  # auth() does not, and would take Postfix's 503 for success
        code, _text = s.auth("XOAUTH2", lambda challenge=None: "" if challenge else payload)
        assert code == 235
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = acc.address, acc.address, "Tự gửi"
        msg.set_content("XOAUTH2")
        assert s.send_message(msg) == {}


def test_garbage_foreign_and_revoked_tokens_are_refused(webmail: Webmail,
                                                        token_client: Client) -> None:
    acc, other = webmail.provider.ready_account(), webmail.provider.ready_account()
    token = _access_token(webmail, token_client, acc)
    with pytest.raises(imaplib.IMAP4.error):
        webmail.imap_token(acc.address, "not-a-token")
    with pytest.raises(imaplib.IMAP4.error):  # a token opens only its holder's mailbox
        webmail.imap_token(other.address, token)
    webmail.imap_token(acc.address, token).logout()
    revoked = webmail.provider.oidc.revoke(token_client, token)
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(imaplib.IMAP4.error):
        webmail.imap_token(acc.address, token)
    with smtplib.SMTP("127.0.0.1", webmail.submission_port, timeout=30) as s:
        s.starttls(context=TLS)
        s.ehlo()
        payload = f"user={acc.address}\x01auth=Bearer {token}\x01\x01"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.auth("XOAUTH2", lambda challenge=None: "" if challenge else payload)
    # NB-7.2a counts wrong passwords; a refused token is not one.
    counts = webmail.provider.django(
        "from congvu.accounts.models import Account\n"
        f"print(Account.objects.get(address={acc.address!r}).failed_logins)")
    assert counts.strip() == "0"


def test_webmail_down_and_up_again(webmail: Webmail) -> None:
    down = webmail.provider.cli("webmail", "down", "--json")
    assert json.loads(down.stdout)["running"] is False
    status = webmail.provider.cli("webmail", "status", check=False)
    assert status.returncode == 3
    up = webmail.provider.cli_json("webmail", "up", "--json")  # same port as before
    assert up["running"] is True and up["url"] == webmail.url
