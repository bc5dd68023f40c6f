"""The code exchange's writes (``tokens.write`` from ``CongvuValidator._save_code_tokens``,
issue 5): the same rows django-oauth-toolkit wrote through the ORM, in one statement on
PostgreSQL, guarded by the deletion of the code's grant. The protocol rules themselves
(PKCE, redirect URI, replay, claims) are tested in test_sso.py and the end-to-end
tests, which run this path too."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

from congvu.sso import sql, tokens
from congvu.sso.models import GrantSession, RedeemedCode, SessionClient, SsoSession, TokenSession
from congvu.sso.validator import CongvuValidator
from tests.sso.test_refresh import unverified
from tests.sso.test_sso import (  # noqa: F401 (fixtures)
    REDIRECT,
    authorize,
    claims,
    client_app,
    code_flow,
    person,
    pkce,
    ready,
)

pytestmark = pytest.mark.django_db
POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


@pytest.fixture(params=["single", "steps"] if POSTGRESQL else ["steps"])
def writing(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(tokens, "SINGLE_STATEMENT", request.param == "single")
    return str(request.param)


def checksum(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def browser(person: Any) -> Client:  # noqa: F811
    acct, otp = person
    c = Client()
    ready(c, acct, otp)
    return c


def code(c: Client, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    location = authorize(c, client_id, challenge)["Location"]
    return location.split("code=")[1].split("&")[0], verifier


def exchange(client_id: str, secret: str, the_code: str, verifier: str) -> Any:
    return Client().post("/sso/token/", {
        "grant_type": "authorization_code", "code": the_code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": client_id, "client_secret": secret})


def test_the_rows_of_a_code_exchange(writing: str, person: Any) -> None:  # noqa: F811
    acct, _otp = person
    client_id, secret = client_app()
    c = browser(person)
    the_code, verifier = code(c, client_id)
    grant = Grant.objects.get(code=the_code)
    got = exchange(client_id, secret, the_code, verifier)
    assert got.status_code == 200, got.content
    out = got.json()
    assert list(out) == ["access_token", "expires_in", "token_type", "scope",
                         "refresh_token", "id_token"]
    # The grant and its session link are gone; the redeemed code names the new tokens.
    assert not Grant.objects.filter(pk=grant.pk).exists()
    assert not GrantSession.objects.filter(grant_id=grant.pk).exists()
    access = AccessToken.objects.get(token_checksum=checksum(out["access_token"]))
    refresh = RefreshToken.objects.get(token_checksum=checksum(out["refresh_token"]))
    redeemed = RedeemedCode.objects.get(checksum=checksum(the_code))
    assert (redeemed.access_token_id, redeemed.refresh_token_id) == (access.pk, refresh.pk)
    # The tokens, as django-oauth-toolkit makes them.
    jti = json.loads(unverified(out["id_token"])[1])["jti"]
    assert access.id_token == IDToken.objects.get(jti=jti)
    assert access.id_token.scope == access.scope == out["scope"] == "openid profile email"
    assert access.user_id == refresh.user_id == access.id_token.user_id == acct.pk
    assert access.source_refresh_token is None and access.resource == []
    assert refresh.access_token_id == access.pk and refresh.revoked is None
    assert refresh.token_family is not None and refresh.resource == []
    assert access.token == out["access_token"] and refresh.token == out["refresh_token"]
    # The session: both tokens linked, the client noted.
    session = SsoSession.objects.get(sid=claims(out["id_token"])["sid"])
    assert set(TokenSession.objects.filter(session=session).values_list(
        "access_token_id", "refresh_token_id")) == {(access.pk, None), (None, refresh.pk)}
    assert SessionClient.objects.filter(session=session,
                                        application_id=access.application_id).exists()
    # The code is used: a second exchange fails and revokes what the first gave.
    again = exchange(client_id, secret, the_code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.filter(pk=access.pk).exists()
    assert RefreshToken.objects.get(pk=refresh.pk).revoked is not None


def test_a_code_exchange_is_four_statements_on_postgresql(person: Any) -> None:  # noqa: F811
    """The grant with its session and account, the client, the roles claim, one write
    (BEGIN and COMMIT aside); SQLite writes step by step."""
    client_id, secret = client_app()
    c = browser(person)
    code_flow(c, client_id, secret)  # prepared statements made on first use
    the_code, verifier = code(c, client_id)
    statements: list[str] = []

    def seen(execute: Callable[..., Any], sql_text: str, *args: Any) -> Any:
        statements.append(sql_text)
        return execute(sql_text, *args)

    with connection.execute_wrapper(seen):
        assert exchange(client_id, secret, the_code, verifier).status_code == 200
    statements = [s for s in statements if "SAVEPOINT" not in s]
    assert len(statements) == (4 if POSTGRESQL else 11), [s[:70] for s in statements]


def test_a_code_redeemed_meanwhile_gives_nothing(writing: str, person: Any,  # noqa: F811
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two exchanges of one code at once: the grant's deletion is the guard, the one
    that finds it gone writes nothing and answers invalid_grant."""
    client_id, secret = client_app()
    c = browser(person)
    the_code, verifier = code(c, client_id)
    original = CongvuValidator._save_code_tokens

    def racing(self: CongvuValidator, token: dict[str, Any], request: Any) -> bool:
        Grant.objects.filter(code=the_code).delete()  # the other request's deletion
        return original(self, token, request)

    monkeypatch.setattr(CongvuValidator, "_save_code_tokens", racing)
    before = (AccessToken.objects.count(), RefreshToken.objects.count(),
              IDToken.objects.count())
    got = exchange(client_id, secret, the_code, verifier)
    # (django-oauth-toolkit answers an error raised this late without a Content-Type.)
    assert got.status_code == 400 and json.loads(got.content)["error"] == "invalid_grant"
    assert (AccessToken.objects.count(), RefreshToken.objects.count(),
            IDToken.objects.count()) == before
    assert not RedeemedCode.objects.exists()


def test_the_orm_path_still_writes_the_same(person: Any,  # noqa: F811
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """When the grant's deletion needs the ORM (say a delete signal is listened to), the
    code exchange writes through the ORM as before, the ID token row included."""
    original = sql.dependents
    monkeypatch.setattr(sql, "dependents", lambda model, **kw: None if model is Grant
                        else original(model, **kw))
    client_id, secret = client_app()
    c = browser(person)
    out = code_flow(c, client_id, secret)
    access = AccessToken.objects.get(token_checksum=checksum(out["access_token"]))
    assert access.id_token.jti.hex == json.loads(
        unverified(out["id_token"])[1])["jti"].replace("-", "")
    assert RedeemedCode.objects.get(checksum=checksum(out["code"])).access_token == access
    assert not Grant.objects.filter(code=out["code"]).exists()
