"""An OpenID Connect relying party in a few lines of ``requests``: drives congvu's
authorization code flow (sign-in page, forced password change, SSO) without a browser,
then talks to the token, userinfo, introspection and revocation endpoints as a real
client would. Reused by the browser tests and by benchmarks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

TIMEOUT = 30


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str
    name: str = ""


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) as in RFC 7636."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]
    ids: set[str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.refresh = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.refresh = a.get("content", "").partition("url=")[2].strip()
        elif tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower(), {},
                                   set()))
        elif self.forms and tag in ("input", "button", "select", "textarea"):
            form = self.forms[-1]
            if a.get("id"):
                form.ids.add(a["id"])
            if a.get("name") and tag != "button":
                form.fields[a["name"]] = a.get("value", "")


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def meta_refresh(html: str) -> str:
    """Where a ``<meta http-equiv="refresh">`` page sends the browser ("" if nowhere)."""
    parser = _FormParser()
    parser.feed(html)
    return unescape(parser.refresh)


def form_with(html: str, element_id: str) -> Form | None:
    """The page's form holding the element ``element_id`` (e.g. ``id_address``)."""
    return next((f for f in forms(html) if element_id in f.ids), None)


@dataclass
class Outcome:
    """Where the authorization request ended."""

    redirect: str | None = None  # the Location sent to the client's redirect URI
    response: requests.Response | None = None  # the last page when it never got there
    visited: list[str] = field(default_factory=list)
    signed_in: bool = False  # the sign-in form was submitted
    changed_password: bool = False  # the forced password change page was submitted

    @property
    def params(self) -> dict[str, str]:
        if self.redirect is None:
            return {}
        return {k: v[0] for k, v in parse_qs(urlsplit(self.redirect).query).items()}

    @property
    def code(self) -> str:
        assert self.redirect is not None, f"no redirect to the client; visited {self.visited}"
        assert "code" in self.params, f"no code in {self.redirect}"
        return self.params["code"]


class Provider:
    """The provider as seen from a relying party."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer.rstrip("/")
        self._discovery: dict[str, Any] | None = None

    @property
    def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            r = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
            r.raise_for_status()
            self._discovery = r.json()
        return self._discovery

    def endpoint(self, name: str) -> str:
        return str(self.discovery[name])

    def authorize_url(self, client: Client, *, challenge: str | None, state: str = "",
                      nonce: str = "", scope: str = "openid email profile",
                      redirect_uri: str | None = None, method: str = "S256",
                      extra: dict[str, str] | None = None) -> str:
        params = {"response_type": "code", "client_id": client.client_id,
                  "redirect_uri": redirect_uri or client.redirect_uri, "scope": scope,
                  "state": state or secrets.token_urlsafe(12),
                  "nonce": nonce or secrets.token_urlsafe(12)}
        if challenge is not None:
            params |= {"code_challenge": challenge, "code_challenge_method": method}
        params |= extra or {}
        return requests.Request("GET", self.endpoint("authorization_endpoint"),
                                params=params).prepare().url or ""

    def drive(self, browser: requests.Session, url: str, *, address: str = "",
              password: str = "", new_password: str = "", stop_at: str,
              max_steps: int = 15) -> Outcome:
        """Follow ``url`` like a browser: redirects, the sign-in form (with its CSRF token),
        the forced password change, until a redirect to ``stop_at`` (not followed: the
        client's redirect URI is not served) or a page with nothing left to do."""
        out = Outcome()
        method, data = "GET", None
        for _ in range(max_steps):
            out.visited.append(url)
            r = browser.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
            method, data = "GET", None
            if r.is_redirect:
                target = urljoin(url, r.headers["Location"])
                if target.startswith(stop_at):
                    out.redirect = target
                    return out
                url = target
                continue
            out.response = r
            html = r.text if "html" in r.headers.get("Content-Type", "") else ""
            signin = form_with(html, "id_address")
            change = form_with(html, "id_new_password1")
            if signin is not None and address and not out.signed_in:
                fields = dict(signin.fields) | {"address": address, "password": password}
                url, method, data = urljoin(r.url, signin.action or r.url), "POST", fields
                out.signed_in = True
                continue
            if change is not None and new_password and not out.changed_password:
                fields = dict(change.fields) | {"new_password1": new_password,
                                                "new_password2": new_password}
                url, method, data = urljoin(r.url, change.action or r.url), "POST", fields
                out.changed_password = True
                continue
            return out
        raise AssertionError(f"too many steps: {out.visited}")

    def token(self, client: Client, **data: str) -> requests.Response:
        return requests.post(self.endpoint("token_endpoint"), data=data,
                             auth=(client.client_id, client.client_secret), timeout=TIMEOUT)

    def exchange(self, client: Client, code: str, verifier: str | None,
                 redirect_uri: str | None = None) -> requests.Response:
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri or client.redirect_uri}
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.token(client, **data)

    def refresh(self, client: Client, refresh_token: str) -> requests.Response:
        return self.token(client, grant_type="refresh_token", refresh_token=refresh_token)

    def userinfo(self, access_token: str) -> requests.Response:
        return requests.get(self.endpoint("userinfo_endpoint"), timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {access_token}"})

    def introspect(self, resource_server: Client, token: str) -> requests.Response:
        url = self.discovery.get("introspection_endpoint") or f"{self.issuer}/sso/introspect/"
        return requests.post(url, data={"token": token}, timeout=TIMEOUT,
                             auth=(resource_server.client_id, resource_server.client_secret))

    def revoke(self, client: Client, token: str) -> requests.Response:
        url = self.discovery.get("revocation_endpoint") or f"{self.issuer}/sso/revoke/"
        return requests.post(url, data={"token": token}, timeout=TIMEOUT,
                             auth=(client.client_id, client.client_secret))

    def jwks(self) -> dict[str, Any]:
        r = requests.get(self.endpoint("jwks_uri"), timeout=TIMEOUT)
        r.raise_for_status()
        return dict(r.json())

    def sign_in(self, client: Client, browser: requests.Session, *, address: str = "",
                password: str = "", new_password: str = "",
                scope: str = "openid email profile") -> dict[str, Any]:
        """The whole code flow with PKCE: the token response (``id_token``,
        ``access_token``, maybe ``refresh_token``)."""
        verifier, challenge = pkce_pair()
        out = self.drive(browser, self.authorize_url(client, challenge=challenge, scope=scope),
                         address=address, password=password, new_password=new_password,
                         stop_at=client.redirect_uri)
        r = self.exchange(client, out.code, verifier)
        assert r.status_code == 200, r.text
        return dict(r.json())
