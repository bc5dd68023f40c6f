"""The SSO provider in-process (Django test client for the browser side, a real HTTP
server on loopback for back-channel logout): sign-in rules, the code flow with PKCE,
single sign-out, second factor, clients and keys. Issue 5; rules cited per test."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.server
import json
import re
import secrets
import threading
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from jwcrypto import jwk, jwt

from congvu.accounts.actions import do_change_password, do_leave, do_suspend
from congvu.accounts.models import Account, AccountState
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError
from congvu.mail.actions import do_record_auth_failure
from congvu.sso import actions, outbox
from congvu.sso.models import LogoutDelivery, SecondFactor, SsoSession
from congvu.sso.selectors import sessions_of
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db
NEW = "Kx7#ab9Qzz!m"
REDIRECT = "http://127.0.0.1:9901/cb"
SYSTEM = Actor(kind="system", label="test:system")


@pytest.fixture
def person(nb: Any) -> tuple[Account, str]:
    agency(nb, "skhcn", "Sở Khoa học và Công nghệ")
    return account(nb, "skhcn", "Nguyễn Văn An", timezone.now())


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def sign_in(c: Client, address: str, password: str, next_url: str = "/sso/") -> Any:
    page = c.get("/sso/login/", {"next": next_url})
    return c.post("/sso/login/", {"csrfmiddlewaretoken": _csrf(page.content.decode()),
                                  "address": address, "password": password, "next": next_url})


def change(c: Client, new: str = NEW) -> Any:
    page = c.get("/sso/password/")
    return c.post("/sso/password/", {"csrfmiddlewaretoken": _csrf(page.content.decode()),
                                     "new_password1": new, "new_password2": new})


def ready(c: Client, acct: Account, otp: str) -> None:
    """Signed in with the password changed (first sign-in done)."""
    assert sign_in(c, acct.address, otp)["Location"] == "/sso/password/"
    assert change(c).status_code == 302


def client_app(**kw: Any) -> tuple[str, str]:
    return actions.do_add_client(actor=OPERATOR, name=kw.pop("name", "Dịch vụ công"),
                                 redirect_uris=[REDIRECT], now=timezone.now(), **kw)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize(c: Client, client_id: str, challenge: str, **extra: str) -> Any:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
             "scope": "openid profile email", "state": "s1", "nonce": "n1",
             "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return c.get("/sso/authorize/?" + urlencode(query))


def code_flow(c: Client, client_id: str, secret: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    resp = authorize(c, client_id, challenge)
    assert resp.status_code == 302 and resp["Location"].startswith(REDIRECT), resp
    code = parse_qs(urlsplit(resp["Location"]).query)["code"][0]
    token = Client().post("/sso/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": client_id, "client_secret": secret})
    assert token.status_code == 200, token.content
    return {**token.json(), "code": code, "verifier": verifier}


def claims(id_token: str) -> dict[str, Any]:
    keys = jwk.JWKSet.from_json(Client().get("/sso/jwks.json").content.decode())
    return dict(json.loads(jwt.JWT(jwt=id_token, key=keys).claims))


# --- the sign-in page --------------------------------------------------------------


def test_sign_in_page_is_vietnamese_by_default_and_english_on_request(nb: Any) -> None:
    c = Client()
    page = c.get("/sso/login/").content.decode()
    assert "Đăng nhập" in page and 'lang="vi"' in page
    page = c.get("/sso/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Đăng nhập" in page  # the default stays Vietnamese whatever the browser says...
    c.post("/i18n/setlang/", {"language": "en", "next": "/sso/login/"})
    assert "Sign in" in c.get("/sso/login/").content.decode()  # ...until the switch


def test_wrong_password_is_refused_without_naming_which_part_was_wrong(person: Any) -> None:
    acct, _otp = person
    resp = sign_in(Client(), acct.address, "wrong")
    assert resp.status_code == 401
    assert "Sai địa chỉ thư điện tử hoặc mật khẩu" in resp.content.decode()
    assert AuditEvent.objects.filter(action="sso.signin_failed", target=acct.address).exists()


def test_nb_6_3_first_sign_in_forces_a_password_change_under_nb_8_2b(person: Any) -> None:
    acct, otp = person
    c = Client()
    assert sign_in(c, acct.address, otp)["Location"] == "/sso/password/"
    weak = change(c, "abc")
    assert weak.status_code == 400 and "NB-8.2b" in weak.content.decode()
    done = change(c)
    assert done.status_code == 302 and done["Location"] == "/sso/"
    acct.refresh_from_db()
    assert not acct.must_change_password and acct.check_password(NEW)
    assert c.get("/sso/").status_code == 200


def test_nb_8_2a_an_expired_password_must_be_changed_at_sign_in(person: Any) -> None:
    acct, otp = person
    ready(Client(), acct, otp)
    Account.objects.filter(pk=acct.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=200))
    c = Client()
    assert sign_in(c, acct.address, NEW)["Location"] == "/sso/password/"
    assert "NB-8.2a" in c.get("/sso/password/").content.decode()
    assert change(c, "Zq8$mnbvcx12").status_code == 302


@pytest.mark.parametrize("state", ["suspended", "locked", "deleted"])
def test_an_account_that_may_not_sign_in_is_told_why_and_whom_to_contact(
        person: Any, nb: Any, state: str) -> None:
    acct, otp = person
    ready(Client(), acct, otp)
    now = timezone.now()
    if state == "suspended":
        do_suspend(actor=OPERATOR, profile=nb, account=acct, now=now, rule="NB-7.2c",
                   reason="Lộ mật khẩu.")
    else:
        do_leave(actor=OPERATOR, profile=nb, account=acct, effective=now.date(), now=now)
        if state == "deleted":
            from congvu.accounts.actions import do_delete
            do_delete(actor=OPERATOR, profile=nb, account=acct, now=now, rule="NB-7.4",
                      reason="")
    acct.refresh_from_db()
    assert acct.state == state
    resp = sign_in(Client(), acct.address, NEW)
    text = resp.content.decode()
    assert resp.status_code == 403
    assert acct.reason in text and "Trung tâm Chuyển đổi số và Truyền thông" in text


def test_nb_7_2a_sso_failures_count_together_with_imap_and_smtp(person: Any, nb: Any) -> None:
    acct, _otp = person
    for _ in range(12):  # twelve wrong passwords over IMAP and SMTP...
        do_record_auth_failure(profile=nb, address=acct.address, now=timezone.now(),
                               remote="203.0.113.9", protocol="imap")
    resp = sign_in(Client(), acct.address, "still wrong")  # ...and the 13th at SSO
    acct.refresh_from_db()
    assert acct.state == AccountState.SUSPENDED and acct.reason == "NB-7.2a"
    assert resp.status_code == 403 and "NB-7.2a" in resp.content.decode()


def test_a_success_records_the_sign_in_and_resets_the_failure_count(person: Any,
                                                                    nb: Any) -> None:
    acct, otp = person
    do_record_auth_failure(profile=nb, address=acct.address, now=timezone.now())
    ready(Client(), acct, otp)
    acct.refresh_from_db()
    assert acct.failed_logins == 0 and acct.last_login is not None


def test_throttling_per_account_stops_guessing_before_the_password_is_checked(
        person: Any) -> None:
    acct, otp = person
    c = Client()
    codes = [sign_in(c, acct.address, f"guess{i}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert sign_in(c, acct.address, otp).status_code == 429  # even the right one waits


def test_throttling_per_ip_is_shared_by_every_server_process(person: Any) -> None:
    """Failures live in the database: what one process counted, every other one sees."""
    import time

    from congvu.sso import throttle
    from congvu.sso.models import SignInFailure

    acct, otp = person
    for i in range(throttle.PER_IP[0]):
        throttle.note_failure("127.0.0.1", f"other{i}@example.vn")
    assert sign_in(Client(), acct.address, otp).status_code == 429
    assert throttle.wait_seconds("127.0.0.2", acct.address) == 0  # another IP may try
    # The worker forgets failures older than every window.
    assert throttle.forget_old(time.time() + throttle.PER_IP[1] + 1) == 2 * throttle.PER_IP[0]
    assert not SignInFailure.objects.exists()


def test_next_never_leaves_the_provider(person: Any) -> None:
    acct, otp = person
    c = Client()
    sign_in(c, acct.address, otp, next_url="https://evil.example/")
    assert change(c)["Location"] == "/sso/"


# --- the code flow -----------------------------------------------------------------


def test_code_flow_with_pkce_gives_congvu_claims_and_a_session_id(person: Any) -> None:
    acct, otp = person
    client_id, secret = client_app()
    c = Client()
    ready(c, acct, otp)
    tokens = code_flow(c, client_id, secret)
    got = claims(tokens["id_token"])
    assert got["sub"] == str(acct.subject) and got["sub"] != acct.address
    assert got["email"] == acct.address and got["name"] == "Nguyễn Văn An"
    assert got["agency"] == "Sở Khoa học và Công nghệ" and "civil-servant" in got["roles"]
    assert got["sid"] and got["iss"] == "http://127.0.0.1:8000"
    info = Client().get("/sso/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert info.json()["email"] == acct.address
    [row] = sessions_of(acct, timezone.now())
    assert row["sid"] == got["sid"] and [x["name"] for x in row["clients"]] == ["Dịch vụ công"]


def test_granted_roles_reach_the_applications_in_the_roles_claim(person: Any, nb: Any) -> None:
    """Issue 6 roles (agency IT contact, clerk) are in the SSO ``roles`` claim."""
    from tests.factories import grant

    acct, otp = person
    grant(nb, acct.address, "agency-it", "skhcn", timezone.now())
    client_id, secret = client_app()
    c = Client()
    ready(c, acct, otp)
    got = claims(code_flow(c, client_id, secret)["id_token"])
    assert got["roles"] == ["civil-servant", "agency-it"]


def test_unregistered_redirect_uri_and_unknown_client_are_refused_without_redirect(
        person: Any) -> None:
    acct, otp = person
    client_id, _secret = client_app()
    c = Client()
    ready(c, acct, otp)
    _v, challenge = pkce()
    wrong = authorize(c, client_id, challenge, redirect_uri="http://127.0.0.1:9901/other")
    assert wrong.status_code == 400 and "Location" not in wrong
    unknown = authorize(c, "nobody", challenge)
    assert unknown.status_code == 400 and "Location" not in unknown


def test_pkce_is_required_and_must_match(person: Any) -> None:
    acct, otp = person
    client_id, secret = client_app()
    c = Client()
    ready(c, acct, otp)
    without = c.get("/sso/authorize/?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid"}))
    assert "error=invalid_request" in without["Location"]
    _verifier, challenge = pkce()
    code = parse_qs(urlsplit(authorize(c, client_id, challenge)["Location"]).query)["code"][0]
    bad = Client().post("/sso/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": pkce()[0], "client_id": client_id, "client_secret": secret})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_a_replayed_code_fails_and_revokes_what_it_gave(person: Any) -> None:
    acct, otp = person
    client_id, secret = client_app()
    c = Client()
    ready(c, acct, otp)
    tokens = code_flow(c, client_id, secret)
    again = Client().post("/sso/token/", {
        "grant_type": "authorization_code", "code": tokens["code"], "redirect_uri": REDIRECT,
        "code_verifier": tokens["verifier"], "client_id": client_id, "client_secret": secret})
    assert again.status_code == 400
    info = Client().get("/sso/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert info.status_code in (401, 403)


def test_client_registration_rules(nb: Any) -> None:
    with pytest.raises(CongvuError, match="https"):
        actions.do_add_client(actor=OPERATOR, name="X", redirect_uris=["http://app.example/cb"],
                              now=timezone.now())
    with pytest.raises(CongvuError):
        actions.do_add_client(actor=Actor(kind="agency-it", label="it"), name="Y",
                              redirect_uris=["https://app.example/cb"], now=timezone.now())
    client_id, secret = actions.do_add_client(actor=OPERATOR, name="Z",
                                              redirect_uris=["https://app.example/cb"],
                                              now=timezone.now())
    assert len(secret) >= 40
    assert AuditEvent.objects.filter(action="sso.client_add", target=client_id).exists()


# --- single sign-out ---------------------------------------------------------------


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(parse_qs(body)["logout_token"][0])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/backchannel", _Receiver.received
    server.shutdown()


@pytest.mark.parametrize("how", ["logout", "suspend", "password"])
def test_qn_3_3_single_sign_out_sends_signed_logout_tokens_and_ends_tokens(
        person: Any, nb: Any, receiver: Any, how: str) -> None:
    acct, otp = person
    uri, received = receiver
    client_id, secret = client_app(backchannel_logout_uri=uri)
    c = Client()
    ready(c, acct, otp)
    tokens = code_flow(c, client_id, secret)
    sid = claims(tokens["id_token"])["sid"]
    if how == "logout":
        page = c.get("/sso/logout/", {"id_token_hint": tokens["id_token"]})
        assert page.status_code == 200 and "Đã đăng xuất" in page.content.decode()
    elif how == "suspend":
        do_suspend(actor=OPERATOR, profile=nb, account=acct, now=timezone.now(),
                   rule="NB-7.2c", reason="")
    else:
        do_change_password(profile=nb, account=acct, current=NEW, new="Zq8$mnbvcx12",
                           now=timezone.now())
    assert sessions_of(acct, timezone.now()) == []
    assert outbox.deliver_due(now=timezone.now()) == 1
    keys = jwk.JWKSet.from_json(Client().get("/sso/jwks.json").content.decode())
    token = json.loads(jwt.JWT(jwt=received[0], key=keys,
                               check_claims={"iss": "http://127.0.0.1:8000"}).claims)
    assert token["sid"] == sid and token["aud"] == client_id
    assert "http://schemas.openid.net/event/backchannel-logout" in token["events"]
    assert "nonce" not in token
    refresh = Client().post("/sso/token/", {
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": client_id, "client_secret": secret})
    assert refresh.status_code == 400
    assert c.get("/sso/").status_code == 302  # the browser is signed out too


def test_an_unreachable_client_is_retried_and_the_failure_logged(person: Any) -> None:
    acct, otp = person
    client_id, secret = client_app(backchannel_logout_uri="http://127.0.0.1:9/down")
    c = Client()
    ready(c, acct, otp)
    code_flow(c, client_id, secret)
    c.post("/sso/signout/", {})
    assert outbox.deliver_due(now=timezone.now()) == 0
    row = LogoutDelivery.objects.get()
    assert row.attempts == 1 and row.delivered_at is None and row.next_attempt_at > timezone.now()
    assert AuditEvent.objects.filter(action="sso.logout_failed").exists()


def test_an_expired_session_ends_and_its_clients_are_told(person: Any, receiver: Any) -> None:
    acct, otp = person
    uri, received = receiver
    client_id, secret = client_app(backchannel_logout_uri=uri)
    c = Client()
    ready(c, acct, otp)
    code_flow(c, client_id, secret)
    later = timezone.now() + dt.timedelta(hours=11)
    assert outbox.run_once(later) == (1, 1)
    assert SsoSession.objects.get(ended_at__isnull=False).end_reason == "expired"
    assert len(received) == 1


def test_front_channel_logout_iframes_carry_iss_and_sid(person: Any) -> None:
    acct, otp = person
    client_id, secret = client_app(frontchannel_logout_uri="http://127.0.0.1:9902/fc")
    c = Client()
    ready(c, acct, otp)
    tokens = code_flow(c, client_id, secret)
    sid = claims(tokens["id_token"])["sid"]
    page = c.get("/sso/logout/", {"id_token_hint": tokens["id_token"]})
    html = page.content.decode()
    assert f"http://127.0.0.1:9902/fc?iss=http%3A%2F%2F127.0.0.1%3A8000&amp;sid={sid}" in html
    assert "frame-src http://127.0.0.1:9902" in page["Content-Security-Policy"]


# --- second factor and keys --------------------------------------------------------


def test_totp_is_required_for_operators_and_a_code_is_accepted_once(nb: Any) -> None:
    from congvu.accounts.actions import do_create_operator

    op, otp = do_create_operator(actor=OPERATOR, profile=nb, local_part="quantri",
                                 now=timezone.now())
    c = Client()
    sign_in(c, op.address, otp)
    assert change(c)["Location"] == "/sso/totp/enrol/"
    page = c.get("/sso/totp/enrol/")
    secret = SecondFactor.objects.get(account=op).secret
    assert secret in page.content.decode() and "data:image/svg+xml" in page.content.decode()
    code = pyotp.TOTP(secret).now()
    assert c.post("/sso/totp/enrol/", {"csrfmiddlewaretoken": _csrf(page.content.decode()),
                                       "code": code}).status_code == 302
    c2 = Client()
    assert sign_in(c2, op.address, NEW)["Location"] == "/sso/totp/"
    page = c2.get("/sso/totp/")
    replay = c2.post("/sso/totp/", {"csrfmiddlewaretoken": _csrf(page.content.decode()),
                                    "code": code})
    assert replay.status_code == 401  # the enrolment already used this time step
    assert SsoSession.objects.filter(account=op, ended_at__isnull=True).count() == 1


def test_an_agency_can_require_a_second_factor(person: Any, cli: Any) -> None:
    acct, otp = person
    agency = acct.agency.account_name
    made = cli("org", "set", agency, "--require-second-factor", "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json() == {"account_name": agency, "require_second_factor": True}
    assert AuditEvent.objects.filter(action="agency.require_second_factor",
                                     target=agency).exists()
    c = Client()
    sign_in(c, acct.address, otp)
    assert change(c)["Location"] == "/sso/totp/enrol/"
    assert cli("org", "set", agency).exit_code == 2  # nothing to change is an error


def test_only_an_operator_changes_the_second_factor_requirement(person: Any) -> None:
    from congvu.directory.actions import do_set_second_factor_requirement

    acct, _otp = person
    contact = Actor(kind="agency-it", label="it@x", agency_ids=frozenset({acct.agency_id}))
    with pytest.raises(CongvuError):
        do_set_second_factor_requirement(actor=contact, ref=acct.agency.account_name,
                                         required=False, now=timezone.now())


def test_rotate_keys_keeps_old_tokens_verifiable_and_signs_with_the_new_key(
        person: Any) -> None:
    from congvu.sso import keys

    acct, otp = person
    client_id, secret = client_app()
    c = Client()
    ready(c, acct, otp)
    old = code_flow(c, client_id, secret)["id_token"]
    rotated = actions.do_rotate_keys(actor=OPERATOR, now=timezone.now())
    keys.forget()
    new = code_flow(c, client_id, secret)["id_token"]
    assert claims(old)["sub"] == claims(new)["sub"]
    header = json.loads(base64.urlsafe_b64decode(new.split(".")[0] + "=="))
    assert header["kid"] == rotated["kid"] != json.loads(
        base64.urlsafe_b64decode(old.split(".")[0] + "=="))["kid"]


def test_cli_registers_lists_and_removes_a_client_with_one_command(nb: Any, cli: Any) -> None:
    made = cli("sso", "client", "add", "--name", "Một cửa", "--redirect-uri",
               "https://motcua.ninhbinh.gov.vn/cb", "--backchannel-logout-uri",
               "https://motcua.ninhbinh.gov.vn/bc", "--json")
    assert made.exit_code == 0, made.stderr
    data = made.json()
    assert data["client_secret"] and data["require_pkce"] is True
    listed = cli("sso", "client", "list", "--json").json()
    assert [c["name"] for c in listed] == ["Một cửa"] and "client_secret" not in listed[0]
    bad = cli("sso", "client", "add", "--name", "X", "--redirect-uri", "http://x.example/cb")
    assert bad.exit_code == 2 and "https" in bad.stderr
    assert cli("sso", "client", "remove", data["client_id"]).exit_code == 0
    assert cli("sso", "client", "list", "--json").json() == []
    assert cli("sso", "client", "add", "--name", "Y").exit_code == 2  # no redirect URI
    imap = cli("sso", "client", "add", "--name", "IMAP", "--resource-server", "--json").json()
    assert imap["resource_server"] is True and imap["redirect_uris"] == []


def test_sign_in_form_may_end_in_a_redirect_to_a_registered_client(person: Any) -> None:
    """CSP form-action covers the redirect chain after the sign-in POST (seen in Chromium)."""
    client_app()
    page = Client().get("/sso/login/")
    assert "form-action 'self' http://127.0.0.1:9901" in page["Content-Security-Policy"]


def test_plain_pkce_is_refused(person: Any) -> None:
    acct, otp = person
    client_id, _secret = client_app()
    c = Client()
    ready(c, acct, otp)
    verifier, _challenge = pkce()
    resp = authorize(c, client_id, verifier, code_challenge_method="plain")
    assert "code=" not in resp.get("Location", "")
