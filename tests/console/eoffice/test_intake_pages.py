"""The mail hand-over pages (GL-9): a clerk uploads an official e-mail, reads the
preview, confirms, and the document waits in the intake; the webmail's endpoint does the
same in one click with a real SSO access token issued to the webmail client."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from congvu.eoffice.models import IncomingDocument, IncomingStatus
from congvu.sso import actions as sso_actions
from tests.eoffice.conftest import Office, Person
from tests.eoffice.test_mail_intake import eml
from tests.factories import OPERATOR

PAGE = "/console/eoffice/intake/mail/"
API = "/console/eoffice/intake/mail/handover/"
REDIRECT = "http://127.0.0.1:9902/index.php/login/oauth"


def _upload(c: Client, raw: bytes, name: str = "thu.eml") -> Any:
    return c.post(PAGE, {"message": SimpleUploadedFile(name, raw, "message/rfc822")})


def _fields(html: str) -> dict[str, str]:
    found = dict(re.findall(r'<input type="(?:hidden|text)" name="(\w+)" value="([^"]*)"', html))
    for name in ("doc_type", "urgency"):
        m = re.search(rf'<select name="{name}"[^>]*>.*?<option value="([^"]*)" selected',
                      html, re.S)
        if m:
            found[name] = m.group(1)
    m = re.search(r'<textarea name="summary"[^>]*>\s*(.*?)</textarea>', html, re.S)
    found["summary"] = m.group(1).strip() if m else ""
    return found


def test_gl_9_clerk_uploads_previews_and_receives_an_email(
        web_office: Office, browser_of: Callable[[Person], Client]) -> None:
    c = browser_of(web_office.clerk)
    page = c.get(PAGE)
    assert page.status_code == 200 and "Tiếp nhận thư điện tử công vụ" in page.content.decode()
    preview = _upload(c, eml())
    html = preview.content.decode()
    assert preview.status_code == 200, html
    assert "vpubnd@gialai.gov.vn" in html and "Thượng khẩn" in html
    fields = _fields(html)
    assert fields["urgency"] == "thuong_khan" and fields["token"]
    fields["summary"] = "UBND tỉnh mời họp ngày 10/3/2026 về triển khai chuyển đổi số tỉnh"
    done = c.post(PAGE, fields)
    assert done.status_code == 302, done.content.decode()
    doc = IncomingDocument.objects.get()
    assert done["Location"] == f"/console/eoffice/incoming/{doc.pk}/"
    assert doc.status == IncomingStatus.RECEIVED and doc.summary == fields["summary"]
    # The kept message is gone once used; a second upload of it says it was received.
    again = c.post(PAGE, fields)
    assert again.status_code == 400 and "tải lên lại" in again.content.decode()
    second = _upload(c, eml()).content.decode()
    assert f"văn bản đến #{doc.pk}" in second


def test_a_message_without_pdf_is_refused_in_vietnamese(
        web_office: Office, browser_of: Callable[[Person], Client]) -> None:
    c = browser_of(web_office.clerk)
    resp = _upload(c, eml(attachments=[("bao-cao.docx", b"PK\x03\x04xx")]))
    assert resp.status_code == 400
    assert "không có tệp PDF đính kèm" in resp.content.decode()
    broken = _upload(c, b"not a message")
    assert broken.status_code == 400 and "Không đọc được thư" in broken.content.decode()
    assert not IncomingDocument.objects.exists()


def test_only_clerks_open_the_mail_intake(web_office: Office,
                                          browser_of: Callable[[Person], Client]) -> None:
    assert browser_of(web_office.spec).get(PAGE).status_code == 403
    assert Client().get(PAGE).status_code == 302


def _webmail_token(person: Person, browser: Client, name: str = "webmail") -> str:
    client_id, secret = sso_actions.do_ensure_internal_client(
        actor=OPERATOR, name=name, redirect_uris=[REDIRECT], now=timezone.now())
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
             "scope": "openid profile email", "state": "s", "nonce": "n"}
    resp = browser.get("/sso/authorize/?" + urlencode(query))
    assert resp.status_code == 302 and resp["Location"].startswith(REDIRECT), resp
    code = parse_qs(urlsplit(resp["Location"]).query)["code"][0]
    token = Client().post("/sso/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": client_id, "client_secret": secret})
    assert token.status_code == 200, token.content
    return str(token.json()["access_token"])


def _post(raw: bytes, token: str | None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().post(API, raw, content_type="message/rfc822", **headers)


def test_gl_9_webmail_button_hands_over_with_the_users_sso_access_token(
        web_office: Office, browser_of: Callable[[Person], Client]) -> None:
    token = _webmail_token(web_office.clerk, browser_of(web_office.clerk))
    raw = eml()
    resp = _post(raw, token)
    assert resp.status_code == 201, resp.content.decode()
    body = resp.json()
    doc = IncomingDocument.objects.get(pk=body["id"])
    assert body["url"] == f"/console/eoffice/incoming/{doc.pk}/"
    assert doc.channel == "email" and doc.versions.get().created_by == web_office.clerk.account
    twice = _post(raw, token)
    assert twice.status_code == 400 and f"#{doc.pk}" in twice.json()["error"]
    assert _post(b"garbage", token).status_code == 400


def test_the_endpoint_refuses_bad_foreign_and_unprivileged_tokens(
        web_office: Office, browser_of: Callable[[Person], Client]) -> None:
    raw = eml()
    assert _post(raw, "not-a-token").status_code == 401
    other_app = _webmail_token(web_office.clerk, browser_of(web_office.clerk),
                               name="Dịch vụ công")
    assert _post(raw, other_app).status_code == 401  # only the webmail's tokens
    spec = _webmail_token(web_office.spec, browser_of(web_office.spec))
    refused = _post(raw, spec)
    assert refused.status_code == 403 and "văn thư" in refused.json()["error"]
    # Without a token: anonymous → sign-in; a signed-in browser's cookies never suffice.
    anonymous = _post(raw, None)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/sso/login/")
    cookies = browser_of(web_office.clerk).post(API, raw, content_type="message/rfc822")
    assert cookies.status_code == 403
    assert Client().get(API).status_code == 405
    assert not IncomingDocument.objects.exists()
