"""The OpenID Connect provider over real HTTP, as a relying party sees it: a real
``congvu serve`` on a loopback port, clients registered with the CLI, the authorization
step driven by ``requests`` (sign-in form with its CSRF token), then the token, userinfo,
introspection, revocation and logout endpoints. Each test states one protocol rule."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from jwcrypto import jwk, jwt

from tests.e2e.conftest import Account, LiveProvider, eventually, free_port, new_password
from tests.e2e.oidc_client import Client, Provider, forms, meta_refresh, pkce_pair

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("sso-e2e"),
    pytest.mark.skipif(os.geteuid() != 0, reason="end-to-end tests run as root (CI)"),
]

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class LogoutSink:
    """A relying party's back-channel logout endpoint: records every POST body."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, list[str]]] = []
        self._got = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                with sink._got:
                    sink.received.append(parse_qs(body) | {
                        "_content_type": [self.headers.get("Content-Type", "")]})
                    sink._got.notify_all()
                self.send_response(200)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/backchannel"

    def wait(self, count: int, seconds: float = 30) -> list[dict[str, list[str]]]:
        with self._got:
            self._got.wait_for(lambda: len(self.received) >= count, timeout=seconds)
            return list(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def op(provider: LiveProvider) -> Provider:
    return provider.oidc


@pytest.fixture(scope="module")
def sink() -> Iterator[LogoutSink]:
    s = LogoutSink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def app(provider: LiveProvider, sink: LogoutSink) -> Client:
    """A confidential client with PKCE required (the default), back-channel logout into
    ``sink``; its redirect URI is not served (the test reads Location)."""
    cb = f"http://127.0.0.1:{free_port()}/cb"
    return provider.add_client("Cổng dịch vụ công", cb, "--post-logout-uri",
                               f"http://127.0.0.1:{free_port()}/bye",
                               "--backchannel-logout-uri", sink.uri)


@pytest.fixture(scope="module")
def legacy_app(provider: LiveProvider) -> Client:
    return provider.add_client("Ứng dụng cũ", f"http://127.0.0.1:{free_port()}/cb",
                               "--no-pkce")


@pytest.fixture(scope="module")
def resource_server(provider: LiveProvider) -> Client:
    """A client allowed to introspect (like the mail plane's Dovecot)."""
    made = provider.cli_json("sso", "client", "add", "--name", "Máy chủ tài nguyên",
                             "--resource-server", "--json")
    assert made["resource_server"] is True
    return Client(made["client_id"], made["client_secret"], "")


@pytest.fixture
def person(provider: LiveProvider) -> Account:
    return provider.ready_account()


def signed_in(op: Provider, client: Client, who: Account,
              scope: str = "openid email profile offline_access") -> dict[str, Any]:
    return op.sign_in(client, requests.Session(), address=who.address, password=who.password,
                      scope=scope)


def verify(op: Provider, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a JWT whose RS256 signature verifies against jwks.json."""
    keys = jwk.JWKSet.from_json(json.dumps(op.jwks()))
    parsed = jwt.JWT(jwt=token, key=keys, algs=["RS256"], check_claims=False)
    return json.loads(parsed.header), json.loads(parsed.claims)


def active(op: Provider, rs: Client, token: str) -> dict[str, Any]:
    r = op.introspect(rs, token)
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- discovery and keys ---------------------------------------------------------------


def test_discovery_document_describes_the_provider(op: Provider, provider: LiveProvider
                                                  ) -> None:
    d = op.discovery
    iss = provider.issuer
    assert d["issuer"] == iss
    assert d["authorization_endpoint"] == f"{iss}/sso/authorize/"
    assert d["token_endpoint"] == f"{iss}/sso/token/"
    assert d["userinfo_endpoint"] == f"{iss}/sso/userinfo/"
    assert d["jwks_uri"] == f"{iss}/sso/jwks.json"
    assert d["end_session_endpoint"] == f"{iss}/sso/logout/"
    assert d.get("introspection_endpoint") == f"{iss}/sso/introspect/"
    assert d.get("revocation_endpoint") == f"{iss}/sso/revoke/"
    assert "code" in d["response_types_supported"]
    assert "S256" in d["code_challenge_methods_supported"]
    assert "plain" not in d["code_challenge_methods_supported"]
    assert {"openid", "profile", "email", "offline_access"} <= set(d["scopes_supported"])
    assert "RS256" in d["id_token_signing_alg_values_supported"]
    assert {"authorization_code", "refresh_token"} <= set(d["grant_types_supported"])
    assert "client_secret_basic" in d["token_endpoint_auth_methods_supported"]
    assert d.get("backchannel_logout_supported") is True
    assert d.get("backchannel_logout_session_supported") is True
    assert d.get("frontchannel_logout_supported") is True
    assert d.get("frontchannel_logout_session_supported") is True
    assert {"sub", "email", "name", "agency"} <= set(d.get("claims_supported", []))


def test_id_token_is_signed_and_names_the_person_without_exposing_the_address(
        op: Provider, app: Client, person: Account) -> None:
    tokens = signed_in(op, app, person)
    header, claims = verify(op, tokens["id_token"])
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in op.jwks()["keys"]}
    assert claims["iss"] == op.issuer
    assert claims["aud"] == app.client_id or app.client_id in claims["aud"]
    assert claims["sub"] and claims["sub"] != person.address
    assert person.address.split("@")[0] not in claims["sub"]
    assert claims["sid"]
    assert claims["email"] == person.address
    assert claims["name"] == person.full_name
    assert claims["exp"] > claims["iat"]
    # userinfo agrees with the ID token.
    info = op.userinfo(tokens["access_token"])
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["email"] == person.address
    assert info.json()["agency"] == "Sở Khoa học và Công nghệ"


def test_nonce_comes_back_in_the_id_token(op: Provider, app: Client, person: Account) -> None:
    verifier, challenge = pkce_pair()
    url = op.authorize_url(app, challenge=challenge, nonce="n-0S6_WzA2Mj", state="xyz")
    out = op.drive(requests.Session(), url, address=person.address, password=person.password,
                   stop_at=app.redirect_uri)
    assert out.params.get("state") == "xyz"
    r = op.exchange(app, out.code, verifier)
    assert r.status_code == 200, r.text
    assert verify(op, r.json()["id_token"])[1]["nonce"] == "n-0S6_WzA2Mj"


def test_rotated_keys_old_id_tokens_still_verify_new_ones_use_the_new_key(
        op: Provider, app: Client, provider: LiveProvider, person: Account) -> None:
    old_token = signed_in(op, app, person)["id_token"]
    old_kid = verify(op, old_token)[0]["kid"]

    new_kid = provider.cli_json("sso", "rotate-keys", "--json")["kid"]

    # Serving processes pick the rotation up within seconds (keys cached briefly).
    assert eventually(lambda: new_kid in {k["kid"] for k in op.jwks()["keys"]})
    published = {k["kid"] for k in op.jwks()["keys"]}
    assert old_kid in published
    assert verify(op, old_token)[1]["email"] == person.address
    new_token = signed_in(op, app, person)["id_token"]
    assert verify(op, new_token)[0]["kid"] == new_kid != old_kid


# --- the authorization request --------------------------------------------------------


def _never_redirects_to(op: Provider, url: str, target: str, who: Account) -> requests.Response:
    """Follow ``url`` (signed in as ``who``): the provider must show an error page and
    never send the browser to ``target`` (RFC 6749 §4.1.2.1)."""
    out = op.drive(requests.Session(), url, address=who.address, password=who.password,
                   stop_at=target)
    assert out.redirect is None, f"redirected to {out.redirect}"
    assert out.response is not None
    assert out.response.status_code >= 400, (out.response.status_code, out.visited)
    return out.response


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
        op: Provider, app: Client, person: Account) -> None:
    _verifier, challenge = pkce_pair()
    for wrong in ("http://127.0.0.1:9/steal", app.redirect_uri + "/more",
                  app.redirect_uri + "?x=1", app.redirect_uri.replace("127.0.0.1", "localhost")):
        url = op.authorize_url(app, challenge=challenge, redirect_uri=wrong)
        _never_redirects_to(op, url, wrong, person)


def test_unknown_client_gets_an_error_page(op: Provider, app: Client, person: Account
                                          ) -> None:
    _verifier, challenge = pkce_pair()
    ghost = Client("khong-ton-tai", "x", app.redirect_uri)
    _never_redirects_to(op, op.authorize_url(ghost, challenge=challenge), app.redirect_uri,
                        person)


def test_code_without_pkce_is_refused_when_the_client_requires_it(
        op: Provider, app: Client, person: Account) -> None:
    out = op.drive(requests.Session(), op.authorize_url(app, challenge=None),
                   address=person.address, password=person.password, stop_at=app.redirect_uri)
    # RFC 7636 §4.4.1: an error to the client, and no code.
    assert "code" not in out.params
    assert out.params.get("error") == "invalid_request", (out.redirect, out.visited)


def test_plain_pkce_is_refused(op: Provider, app: Client, person: Account) -> None:
    """Discovery advertises S256 only (RFC 9700 §2.1.1: plain gives no protection when the
    authorization request leaks): a plain challenge must not lead to tokens."""
    verifier, _challenge = pkce_pair()
    out = op.drive(requests.Session(), op.authorize_url(app, challenge=verifier,
                                                        method="plain"),
                   address=person.address, password=person.password, stop_at=app.redirect_uri)
    if "code" in out.params:
        r = op.exchange(app, out.code, verifier)
        assert r.status_code == 400, f"plain PKCE accepted: code issued, then {r.status_code} " \
                                     f"{r.text[:80]}"


def test_client_registered_without_pkce_signs_in_without_it(
        op: Provider, legacy_app: Client, person: Account) -> None:
    out = op.drive(requests.Session(), op.authorize_url(legacy_app, challenge=None),
                   address=person.address, password=person.password,
                   stop_at=legacy_app.redirect_uri)
    r = op.exchange(legacy_app, out.code, None)
    assert r.status_code == 200, r.text


def test_first_sign_in_with_a_one_time_password_forces_a_change(
        op: Provider, app: Client, provider: LiveProvider) -> None:
    newcomer = provider.account()
    browser = requests.Session()
    verifier, challenge = pkce_pair()
    url = op.authorize_url(app, challenge=challenge)
    # Without choosing a new password, the client gets nothing.
    out = op.drive(browser, url, address=newcomer.address, password=newcomer.password,
                   stop_at=app.redirect_uri)
    assert out.redirect is None and out.signed_in
    assert out.response is not None and "/sso/password/" in out.response.url
    chosen = new_password()
    out = op.drive(browser, url, address=newcomer.address, password=newcomer.password,
                   new_password=chosen, stop_at=app.redirect_uri)
    assert out.changed_password
    r = op.exchange(app, out.code, verifier)
    assert r.status_code == 200, r.text
    assert verify(op, r.json()["id_token"])[1]["email"] == newcomer.address
    # The one-time password no longer works; the new one does.
    again = op.drive(requests.Session(), url, address=newcomer.address,
                     password=newcomer.password, stop_at=app.redirect_uri)
    assert again.redirect is None
    assert op.sign_in(app, requests.Session(), address=newcomer.address, password=chosen)


def test_wrong_password_gets_no_code(op: Provider, app: Client, person: Account) -> None:
    _verifier, challenge = pkce_pair()
    out = op.drive(requests.Session(), op.authorize_url(app, challenge=challenge),
                   address=person.address, password="Sai#mat-khau-9", stop_at=app.redirect_uri)
    assert out.redirect is None
    assert out.response is not None and out.response.url.startswith(f"{op.issuer}/sso/login/")


def test_signed_in_browser_gets_a_code_without_the_sign_in_page(
        op: Provider, app: Client, legacy_app: Client, person: Account) -> None:
    browser = requests.Session()
    op.sign_in(app, browser, address=person.address, password=person.password)
    out = op.drive(browser, op.authorize_url(legacy_app, challenge=None),
                   stop_at=legacy_app.redirect_uri)
    assert out.code and not any("/sso/login/" in u for u in out.visited), out.visited


# --- the token endpoint ---------------------------------------------------------------


def test_replayed_code_fails_and_revokes_what_it_gave(
        op: Provider, app: Client, resource_server: Client, person: Account) -> None:
    verifier, challenge = pkce_pair()
    out = op.drive(requests.Session(), op.authorize_url(app, challenge=challenge),
                   address=person.address, password=person.password, stop_at=app.redirect_uri)
    first = op.exchange(app, out.code, verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()

    second = op.exchange(app, out.code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: the tokens issued with the code are revoked.
    assert op.userinfo(tokens["access_token"]).status_code == 401
    assert active(op, resource_server, tokens["access_token"])["active"] is False
    if "refresh_token" in tokens:
        assert op.refresh(app, tokens["refresh_token"]).status_code == 400


def test_pkce_verifier_mismatch_fails(op: Provider, app: Client, person: Account) -> None:
    _verifier, challenge = pkce_pair()
    out = op.drive(requests.Session(), op.authorize_url(app, challenge=challenge),
                   address=person.address, password=person.password, stop_at=app.redirect_uri)
    wrong, _ = pkce_pair()
    r = op.exchange(app, out.code, wrong)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    missing = op.exchange(app, out.code, None)
    assert missing.status_code == 400, missing.text


def test_code_is_bound_to_its_client_and_redirect_uri(
        op: Provider, app: Client, legacy_app: Client, person: Account) -> None:
    verifier, challenge = pkce_pair()
    out = op.drive(requests.Session(), op.authorize_url(app, challenge=challenge),
                   address=person.address, password=person.password, stop_at=app.redirect_uri)
    assert op.exchange(legacy_app, out.code, verifier,
                       redirect_uri=app.redirect_uri).status_code == 400
    assert op.exchange(app, out.code, verifier,
                       redirect_uri=legacy_app.redirect_uri).status_code == 400


def test_wrong_client_secret_is_refused(op: Provider, app: Client, person: Account) -> None:
    verifier, challenge = pkce_pair()
    out = op.drive(requests.Session(), op.authorize_url(app, challenge=challenge),
                   address=person.address, password=person.password, stop_at=app.redirect_uri)
    impostor = Client(app.client_id, "sai-bi-mat", app.redirect_uri)
    r = op.exchange(impostor, out.code, verifier)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text


def test_refresh_token_works_and_rotates(op: Provider, app: Client, person: Account) -> None:
    tokens = signed_in(op, app, person)
    assert "refresh_token" in tokens
    r = op.refresh(app, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]
    assert op.userinfo(fresh["access_token"]).json()["email"] == person.address
    # The old refresh token was used up.
    reused = op.refresh(app, tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_reused_refresh_token_revokes_the_whole_family(
        op: Provider, app: Client, resource_server: Client, person: Account) -> None:
    """Refresh token reuse protection (RFC 9700 §4.14.2): presenting a rotated token
    again ends every token of its family, the newest included."""
    tokens = signed_in(op, app, person)
    second = op.refresh(app, tokens["refresh_token"]).json()
    third = op.refresh(app, second["refresh_token"]).json()
    assert active(op, resource_server, third["access_token"])["active"] is True
    replay = op.refresh(app, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.json() == {"error": "invalid_grant"}
    assert active(op, resource_server, third["access_token"])["active"] is False
    latest = op.refresh(app, third["refresh_token"])
    assert latest.status_code == 400 and latest.json()["error"] == "invalid_grant"


def test_refresh_client_authentication_scopes_and_claims(
        op: Provider, app: Client, legacy_app: Client, person: Account) -> None:
    """client_secret_post works like client_secret_basic; another client's, a wrong
    secret and a wider scope are refused without using the token up; a narrower scope
    is granted; the new ID token names the same person and session."""
    tokens = signed_in(op, app, person)
    _header, first = verify(op, tokens["id_token"])
    other = op.refresh(legacy_app, tokens["refresh_token"])
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    wrong = op.refresh(Client(app.client_id, "sai-bi-mat", app.redirect_uri),
                       tokens["refresh_token"])
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    wider = op.token(app, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                     scope="openid email phone")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    posted = requests.post(op.endpoint("token_endpoint"), timeout=30, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "scope": "openid email", "client_id": app.client_id,
        "client_secret": app.client_secret})
    assert posted.status_code == 200, posted.text
    fresh = posted.json()
    assert fresh["scope"] == "openid email" and fresh["token_type"] == "Bearer"
    header, claims = verify(op, fresh["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["sub"] == first["sub"] and claims["sid"] == first["sid"]
    assert claims["email"] == person.address and "name" not in claims
    assert claims["aud"] == app.client_id and claims["iss"] == op.issuer


def test_expired_access_token_is_refused(op: Provider, app: Client, resource_server: Client,
                                         provider: LiveProvider, person: Account) -> None:
    tokens = signed_in(op, app, person)
    assert op.userinfo(tokens["access_token"]).status_code == 200
    # The token as it is an hour later: its expiry moved into the past (no waiting).
    checksum = hashlib.sha256(tokens["access_token"].encode()).hexdigest()
    provider.django(
        "import datetime as dt; from django.utils import timezone\n"
        "from oauth2_provider.models import AccessToken\n"
        f"n = AccessToken.objects.filter(token_checksum={checksum!r}).update("
        "expires=timezone.now() - dt.timedelta(seconds=1))\n"
        "assert n == 1, n")
    assert op.userinfo(tokens["access_token"]).status_code == 401
    assert active(op, resource_server, tokens["access_token"])["active"] is False
    # The refresh token still gets a new one.
    r = op.refresh(app, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    assert op.userinfo(r.json()["access_token"]).status_code == 200


def test_introspection_answers_resource_servers_only(
        op: Provider, app: Client, resource_server: Client, person: Account) -> None:
    tokens = signed_in(op, app, person)
    answer = active(op, resource_server, tokens["access_token"])
    assert answer["active"] is True
    assert answer["username"] == person.address
    assert answer["client_id"] == app.client_id
    assert "openid" in answer["scope"].split()
    assert answer["exp"] > 0
    assert op.introspect(app, tokens["access_token"]).status_code in (401, 403)
    nobody = Client(resource_server.client_id, "sai-bi-mat", "")
    assert op.introspect(nobody, tokens["access_token"]).status_code == 401


def test_revoked_access_token_is_inactive(op: Provider, app: Client, resource_server: Client,
                                          person: Account) -> None:
    tokens = signed_in(op, app, person)
    assert op.revoke(app, tokens["access_token"]).status_code == 200
    assert active(op, resource_server, tokens["access_token"])["active"] is False
    assert op.userinfo(tokens["access_token"]).status_code == 401


# --- sessions ending --------------------------------------------------------------------


def test_suspended_account_loses_its_tokens_mid_session(
        op: Provider, app: Client, resource_server: Client, provider: LiveProvider,
        person: Account) -> None:
    tokens = signed_in(op, app, person)
    assert active(op, resource_server, tokens["access_token"])["active"] is True
    assert provider.sessions(person.address)

    provider.cli("account", "suspend", person.address, "--rule", "NB-7.2c",
                 "--reason", "lộ mật khẩu")

    r = op.refresh(app, tokens["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert active(op, resource_server, tokens["access_token"])["active"] is False
    assert op.userinfo(tokens["access_token"]).status_code == 401
    assert provider.sessions(person.address) == []


def test_rp_initiated_logout_ends_the_session_and_tells_the_client(
        op: Provider, app: Client, resource_server: Client, sink: LogoutSink,
        provider: LiveProvider, person: Account) -> None:
    browser = requests.Session()
    tokens = op.sign_in(app, browser, address=person.address, password=person.password,
                        scope="openid email profile offline_access")
    _header, id_claims = verify(op, tokens["id_token"])
    before = len(sink.received)
    bye = f"http://127.0.0.1:{urlsplit(app.redirect_uri).port}/nowhere"
    r = browser.get(op.endpoint("end_session_endpoint"), allow_redirects=False, timeout=30,
                    params={"id_token_hint": tokens["id_token"], "client_id": app.client_id,
                            "post_logout_redirect_uri": bye, "state": "s1"})
    # An unregistered post-logout URI is never redirected to.
    assert not r.headers.get("Location", "").startswith(bye)
    registered = provider.cli_json("sso", "client", "list", "--json")
    post_logout = next(c for c in registered if c["client_id"] == app.client_id)[
        "post_logout_uris"][0]
    r = browser.get(op.endpoint("end_session_endpoint"), allow_redirects=False, timeout=30,
                    params={"id_token_hint": tokens["id_token"], "client_id": app.client_id,
                            "post_logout_redirect_uri": post_logout, "state": "s1"})
    confirm = next((f for f in forms(r.text) if "/sso/logout/" in f.action), None)
    if confirm is not None:  # the provider asks to confirm
        r = browser.post(urljoin(r.url, confirm.action), data=confirm.fields,
                         allow_redirects=False, timeout=30)
    # Back to the client, with its state: a redirect, or the signed-out page's refresh.
    target = r.headers.get("Location") or meta_refresh(r.text)
    assert target == f"{post_logout}?state=s1", (r.status_code, target)

    assert active(op, resource_server, tokens["access_token"])["active"] is False
    assert op.refresh(app, tokens["refresh_token"]).status_code == 400
    assert provider.sessions(person.address) == []

    # Back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6).
    posts = sink.wait(before + 1)
    assert len(posts) > before, "no back-channel logout arrived"
    post = posts[before]
    assert post["_content_type"][0].startswith("application/x-www-form-urlencoded")
    header, claims = verify(op, post["logout_token"][0])
    assert header["alg"] == "RS256"
    assert claims["iss"] == op.issuer
    assert claims["aud"] == app.client_id or app.client_id in claims["aud"]
    assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert claims["jti"] and claims["iat"] and "nonce" not in claims
