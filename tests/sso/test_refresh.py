"""The hand-written refresh-token grant (``congvu/sso/refresh.py``, issue 5: 240
refreshes/s): every rule of django-oauth-toolkit's path and congvu's is kept, and what a
relying party receives is the same. Most tests run both paths ("congvu", "dot": the
hand-written grant switched off) and expect the same answers; on PostgreSQL the
step-by-step writing ("steps") runs too."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from jwcrypto import jwk, jws, jwt
from oauth2_provider.models import AccessToken, IDToken, RefreshToken
from oauth2_provider.settings import oauth2_settings

from congvu.accounts.actions import do_delete, do_leave, do_suspend
from congvu.accounts.models import Account, AccountState
from congvu.sso import actions, keys, refresh, tokens
from congvu.sso.models import SessionClient, SsoSession, TokenSession
from congvu.sso.selectors import sessions_of
from tests.factories import OPERATOR, grant
from tests.sso.test_sso import claims, client_app, code_flow, person, ready  # noqa: F401

pytestmark = pytest.mark.django_db
POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]
#: On SQLite the hand-written grant always writes step by step.
PATHS = ["congvu", "dot", "steps"] if POSTGRESQL else ["congvu", "dot"]
RACES = ["congvu", "steps"] if POSTGRESQL else ["congvu"]


@pytest.fixture(params=PATHS)
def path(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which implementation answers: the hand-written grant (in one statement on
    PostgreSQL), django-oauth-toolkit's, or the hand-written one step by step."""
    name = str(request.param)
    monkeypatch.setattr(refresh, "ENABLED", name != "dot")
    monkeypatch.setattr(tokens, "SINGLE_STATEMENT", name != "steps")
    return name


@pytest.fixture
def app() -> tuple[str, str]:
    return client_app()


@pytest.fixture
def signed_in(person: Any, app: tuple[str, str]) -> dict[str, Any]:  # noqa: F811
    """A session with tokens: the code flow's answer, plus who and which client."""
    acct, otp = person
    c = Client()
    ready(c, acct, otp)
    return {**code_flow(c, *app), "account": acct, "browser": c}


def post(client_id: str, secret: str, token: str, *, basic: bool = True,
         **extra: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    if basic:
        auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return Client().post("/sso/token/", data, HTTP_AUTHORIZATION=f"Basic {auth}")
    return Client().post("/sso/token/", {**data, "client_id": client_id,
                                         "client_secret": secret})


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    return dict(response.json())


def refused(response: Any, error: str = "invalid_grant", status: int = 400) -> None:
    assert response.status_code == status, response.content
    assert response.json() == {"error": error}
    assert response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live(token: str) -> bool:
    return RefreshToken.objects.filter(token_checksum=checksum(token),
                                       revoked__isnull=True).exists()


def unverified(id_token: str) -> tuple[str, str]:
    """The raw JSON of an ID token's header and payload."""
    header, payload, _sig = id_token.split(".")
    return tuple(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode()  # type: ignore[return-value]
                 for p in (header, payload))


# --- the answer is the same -------------------------------------------------------------


def test_the_answer_is_what_django_oauth_toolkit_gives(
        signed_in: dict[str, Any], app: tuple[str, str], nb: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Same JSON keys in the same order, same headers, an ID token with the same header
    and the same claims in the same order (only iat, exp, jti and at_hash, which depend
    on the moment and the new access token, differ), and the same rows written."""
    acct: Account = signed_in["account"]
    grant(nb, acct.address, "clerk", "skhcn", timezone.now())  # roles are read each time
    answers = {}
    token = signed_in["refresh_token"]
    family = RefreshToken.objects.get(token_checksum=checksum(token)).token_family
    for name in ("dot", "congvu"):
        monkeypatch.setattr(refresh, "ENABLED", name == "congvu")
        response = post(*app, token)
        answers[name] = (response, ok(response))
        # The rows: the access token points at the JWT's ID token row and came from the
        # refresh token presented (now revoked); the new refresh token stays in the family.
        got = answers[name][1]
        access = AccessToken.objects.get(token_checksum=checksum(got["access_token"]))
        jti = json.loads(unverified(got["id_token"])[1])["jti"]
        assert access.id_token == IDToken.objects.get(jti=jti)
        assert access.id_token.scope == access.scope == got["scope"]
        assert access.user_id == access.id_token.user_id == acct.pk
        assert access.application_id == access.id_token.application_id
        assert access.source_refresh_token is not None
        assert access.source_refresh_token.token_checksum == checksum(token)
        assert access.source_refresh_token.revoked is not None
        assert access.source_refresh_token.access_token is None
        assert abs((access.expires - access.created).total_seconds()
                   - oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS) < 5
        assert access.resource == access.refresh_token.resource == []
        assert access.refresh_token.token_family == family
        assert access.refresh_token.token_checksum == checksum(got["refresh_token"])
        assert access.refresh_token.application_id == access.application_id
        token = got["refresh_token"]
    (r_dot, dot), (r_new, new) = answers["dot"], answers["congvu"]
    assert list(new) == list(dot) == ["access_token", "expires_in", "token_type", "scope",
                                      "refresh_token", "id_token"]
    assert {k: new[k] for k in ("expires_in", "token_type", "scope")} == \
        {k: dot[k] for k in ("expires_in", "token_type", "scope")}
    for value in (new["access_token"], new["refresh_token"]):
        assert len(value) == 30 and value.isalnum()
    assert [(k, v) for k, v in r_new.items() if k != "Content-Length"] == \
        [(k, v) for k, v in r_dot.items() if k != "Content-Length"]
    (h_dot, p_dot), (h_new, p_new) = unverified(dot["id_token"]), unverified(new["id_token"])
    assert h_new == h_dot  # the same bytes: {"typ": "JWT", "alg": "RS256", "kid": ...}
    c_dot, c_new = json.loads(p_dot), json.loads(p_new)
    assert list(c_new) == list(c_dot)
    moment = {"iat", "exp", "jti", "at_hash"}
    assert {k: v for k, v in c_new.items() if k not in moment} == \
        {k: v for k, v in c_dot.items() if k not in moment}
    assert c_new["roles"] == ["civil-servant", "clerk"]
    assert c_new["exp"] - c_new["iat"] == c_dot["exp"] - c_dot["iat"]
    at_hash = hashlib.sha256(new["access_token"].encode()).digest()[:16]
    assert c_new["at_hash"] == base64.urlsafe_b64encode(at_hash).decode().rstrip("=")
    assert claims(new["id_token"])["sid"] == claims(signed_in["id_token"])["sid"]


def test_the_id_token_is_signed_as_jwcrypto_signs_it(nb: Any) -> None:
    """RS256 with the cached key gives the very bytes jwcrypto gives (PKCS#1 v1.5 is
    deterministic), and verifies against the published keys."""
    keys.install(timezone.now())
    header = {"typ": "JWT", "alg": "RS256", "kid": keys.signer()[1]}
    body = {"sub": "x", "name": "Nguyễn Văn An", "roles": ["civil-servant"], "iat": 1}
    reference = jwt.JWT(header=json.dumps(header), claims=json.dumps(body))
    reference.make_signed_token(keys.signing_jwk(timezone.now()))
    assert keys.sign_rs256(header, body) == reference.serialize()
    published = jwk.JWKSet.from_json(Client().get("/sso/jwks.json").content.decode())
    checked = jws.JWS()
    checked.deserialize(keys.sign_rs256(header, body))
    checked.verify(published.get_key(header["kid"]))


def test_a_refresh_is_three_statements_on_postgresql(signed_in: dict[str, Any],
                                                     app: tuple[str, str]) -> None:
    """One read, the roles claim's read, one write (BEGIN and COMMIT aside); SQLite
    writes step by step."""
    first = ok(post(*app, signed_in["refresh_token"]))
    statements: list[str] = []

    def seen(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper, not CaptureQueriesContext: capturing makes the statements run
    # unprepared (Django's query log reads them back from client-side cursors only).
    with connection.execute_wrapper(seen):
        ok(post(*app, first["refresh_token"]))
    statements = [q for q in statements if "SAVEPOINT" not in q]  # the test's transaction
    expected = 3 if connection.vendor == "postgresql" else 11
    assert len(statements) == expected, [q[:80] for q in statements]
    latest = RefreshToken.objects.get(revoked__isnull=True).token
    with CaptureQueriesContext(connection) as captured:  # the same, logged
        ok(post(*app, latest))
    assert len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]) \
        == expected


# --- the rules ---------------------------------------------------------------------------


def test_rotation_keeps_the_session_and_its_single_sign_out(
        path: str, signed_in: dict[str, Any], app: tuple[str, str]) -> None:
    """The new pair belongs to the same SSO session (a logout ends it), the old pair is
    gone, the client is noted in the session (last_at moves)."""
    sid = claims(signed_in["id_token"])["sid"]
    session = SsoSession.objects.get(sid=sid)
    before = SessionClient.objects.get(session=session).last_at
    new = ok(post(*app, signed_in["refresh_token"]))
    assert not live(signed_in["refresh_token"]) and live(new["refresh_token"])
    assert not AccessToken.objects.filter(
        token_checksum=checksum(signed_in["access_token"])).exists()
    links = TokenSession.objects.filter(session=session)
    assert links.filter(access_token__token_checksum=checksum(new["access_token"])).exists()
    assert links.filter(refresh_token__token_checksum=checksum(new["refresh_token"])).exists()
    assert not links.filter(access_token__token_checksum=checksum(
        signed_in["access_token"])).exists()
    assert SessionClient.objects.get(session=session).last_at >= before
    info = Client().get("/sso/userinfo/", HTTP_AUTHORIZATION=f"Bearer {new['access_token']}")
    assert info.status_code == 200 and info.json()["email"] == signed_in["account"].address
    actions.do_end_sessions(SsoSession.objects.filter(sid=sid), reason="logout",
                            now=timezone.now(), actor=actions.SSO_ACTOR)
    assert not live(new["refresh_token"])
    assert not AccessToken.objects.filter(token_checksum=checksum(new["access_token"])).exists()


def test_a_used_refresh_token_presented_again_revokes_the_whole_family(
        path: str, signed_in: dict[str, Any], app: tuple[str, str]) -> None:
    first = signed_in["refresh_token"]
    second = ok(post(*app, first))
    third = ok(post(*app, second["refresh_token"]))
    refused(post(*app, first))  # reuse: the family goes...
    assert not live(third["refresh_token"])
    assert not AccessToken.objects.filter(token_checksum=checksum(third["access_token"])).exists()
    refused(post(*app, third["refresh_token"]))  # ...so the latest one is refused too
    refused(post(*app, second["refresh_token"]))


def test_a_revoked_refresh_token_is_refused(path: str, signed_in: dict[str, Any],
                                            app: tuple[str, str]) -> None:
    """RFC 7009 revocation: refused at once (and, never used, it counts as reuse)."""
    client_id, secret = app
    auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    revoked = Client().post("/sso/revoke/", {"token": signed_in["refresh_token"],
                                             "token_type_hint": "refresh_token"},
                            HTTP_AUTHORIZATION=f"Basic {auth}")
    assert revoked.status_code == 200
    refused(post(*app, signed_in["refresh_token"]))
    refused(post(*app, "no-such-token"))


def test_another_client_may_not_use_the_token(path: str, signed_in: dict[str, Any],
                                              app: tuple[str, str]) -> None:
    other = client_app(name="Ứng dụng khác")
    refused(post(*other, signed_in["refresh_token"]))
    assert live(signed_in["refresh_token"])  # still its own client's
    ok(post(*app, signed_in["refresh_token"]))


def test_client_authentication(path: str, signed_in: dict[str, Any],
                               app: tuple[str, str]) -> None:
    client_id, _secret = app
    for answer in (post(client_id, "sai-bi-mat", signed_in["refresh_token"]),
                   post("khong-co", "sai", signed_in["refresh_token"]),
                   post(client_id, "sai-bi-mat", signed_in["refresh_token"], basic=False)):
        refused(answer, "invalid_client", 401)
        assert answer["WWW-Authenticate"] == 'Bearer error="invalid_client"'
    broken = Client().post("/sso/token/", {"grant_type": "refresh_token",
                                           "refresh_token": signed_in["refresh_token"]},
                           HTTP_AUTHORIZATION="Basic !!!")
    refused(broken, "invalid_client", 401)
    assert live(signed_in["refresh_token"])
    ok(post(*app, signed_in["refresh_token"], basic=False))  # client_secret_post


def test_an_expired_refresh_token_is_refused(path: str, signed_in: dict[str, Any],
                                             app: tuple[str, str]) -> None:
    """REFRESH_TOKEN_EXPIRE_SECONDS after its access token's expiry (the session's
    lifetime here); an expired access token alone does not stop a refresh."""
    access = AccessToken.objects.filter(token_checksum=checksum(signed_in["access_token"]))
    access.update(expires=timezone.now() - dt.timedelta(minutes=5))
    fresh = ok(post(*app, signed_in["refresh_token"]))
    lifetime = dt.timedelta(seconds=int(oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS))
    AccessToken.objects.filter(token_checksum=checksum(fresh["access_token"])).update(
        expires=timezone.now() - lifetime - dt.timedelta(seconds=1))
    refused(post(*app, fresh["refresh_token"]))


def test_scopes_may_only_narrow(path: str, signed_in: dict[str, Any],
                                app: tuple[str, str]) -> None:
    refused(post(*app, signed_in["refresh_token"], scope="openid email phone"),
            "invalid_scope")
    assert live(signed_in["refresh_token"])
    narrow = ok(post(*app, signed_in["refresh_token"], scope="openid email"))
    assert narrow["scope"] == "openid email"
    got = claims(narrow["id_token"])
    assert got["email"] == signed_in["account"].address and "name" not in got
    assert "roles" not in got and "sid" in got
    access = AccessToken.objects.get(token_checksum=checksum(narrow["access_token"]))
    assert access.scope == access.id_token.scope == "openid email"
    # Without openid: no ID token (OAuth 2 only), and the narrowed scope stays.
    plain = ok(post(*app, narrow["refresh_token"], scope="email"))
    assert "id_token" not in plain and plain["scope"] == "email"
    assert AccessToken.objects.get(token_checksum=checksum(plain["access_token"])).id_token \
        is None
    refused(post(*app, plain["refresh_token"], scope="openid"), "invalid_scope")


@pytest.mark.parametrize("how", ["suspended", "locked", "deleted"])
def test_an_account_that_may_no_longer_sign_in_is_refused_and_its_sessions_end(
        path: str, signed_in: dict[str, Any], app: tuple[str, str], nb: Any,
        how: str) -> None:
    acct: Account = signed_in["account"]
    now = timezone.now()
    if how == "suspended":
        do_suspend(actor=OPERATOR, profile=nb, account=acct, now=now, rule="NB-7.2c",
                   reason="Lộ mật khẩu.")
    else:
        do_leave(actor=OPERATOR, profile=nb, account=acct, effective=now.date(), now=now)
        if how == "deleted":
            do_delete(actor=OPERATOR, profile=nb, account=acct, now=now, rule="NB-7.4",
                      reason="")
    assert Account.objects.get(pk=acct.pk).state == how
    refused(post(*app, signed_in["refresh_token"]))
    assert sessions_of(acct, timezone.now()) == []
    assert not AccessToken.objects.filter(user=acct).exists()


def test_an_inactive_account_is_refused_even_with_its_session_open(
        path: str, signed_in: dict[str, Any], app: tuple[str, str]) -> None:
    """The account's own state is checked at every refresh, not only through the
    session's end (a state written without the domain layer's signal)."""
    acct: Account = signed_in["account"]
    Account.objects.filter(pk=acct.pk).update(state=AccountState.SUSPENDED)
    assert sessions_of(acct, timezone.now())
    refused(post(*app, signed_in["refresh_token"]))
    Account.objects.filter(pk=acct.pk).update(state=AccountState.ACTIVE)
    ok(post(*app, signed_in["refresh_token"]))


def test_an_ended_or_expired_session_is_refused(path: str, signed_in: dict[str, Any],
                                                app: tuple[str, str]) -> None:
    sid = claims(signed_in["id_token"])["sid"]
    SsoSession.objects.filter(sid=sid).update(expires_at=timezone.now())
    refused(post(*app, signed_in["refresh_token"]))
    SsoSession.objects.filter(sid=sid).update(
        expires_at=timezone.now() + dt.timedelta(hours=1))
    fresh = ok(post(*app, signed_in["refresh_token"]))
    signed_in["browser"].post("/sso/signout/", {})
    refused(post(*app, fresh["refresh_token"]))


def test_a_token_without_a_session_is_refused(path: str, signed_in: dict[str, Any],
                                              app: tuple[str, str]) -> None:
    TokenSession.objects.filter(
        refresh_token__token_checksum=checksum(signed_in["refresh_token"])).delete()
    refused(post(*app, signed_in["refresh_token"]))


# --- races: what the writing statement checks again ----------------------------------------


@pytest.fixture
def meanwhile(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Run something between the hand-written grant's checks and its write (where
    another request's commit would land)."""
    todo: list[Any] = []
    original = refresh.RefreshGrant._rotate

    def rotate(self: refresh.RefreshGrant, *args: Any, **kwargs: Any) -> Any:
        for step in todo:
            step()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(refresh.RefreshGrant, "_rotate", rotate)
    yield todo


@pytest.mark.parametrize("path", RACES, indirect=True)
def test_a_session_ended_meanwhile_gets_no_new_tokens(
        path: str, signed_in: dict[str, Any], app: tuple[str, str],
        meanwhile: list[Any]) -> None:
    sid = claims(signed_in["id_token"])["sid"]
    before = AccessToken.objects.count()
    meanwhile.append(lambda: actions.do_end_sessions(
        SsoSession.objects.filter(sid=sid), reason="logout", now=timezone.now(),
        actor=actions.SSO_ACTOR))
    refused(post(*app, signed_in["refresh_token"]))
    assert AccessToken.objects.count() == before - 1  # the session's token, none new
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


@pytest.mark.parametrize("path", RACES, indirect=True)
def test_a_token_rotated_meanwhile_is_reuse(path: str, signed_in: dict[str, Any],
                                            app: tuple[str, str],
                                            meanwhile: list[Any]) -> None:
    """Two requests with the same refresh token at once: one wins, the other is reuse
    and revokes the family (with no grace period a retry is indistinguishable from a
    replay by someone else)."""
    won: list[dict[str, Any]] = []

    def concurrent() -> None:
        meanwhile.clear()
        won.append(ok(post(*app, signed_in["refresh_token"])))

    meanwhile.append(concurrent)
    refused(post(*app, signed_in["refresh_token"]))
    assert won and not live(won[0]["refresh_token"])


# --- what is left to django-oauth-toolkit ------------------------------------------------


def test_requests_this_path_does_not_handle_still_work(signed_in: dict[str, Any],
                                                       app: tuple[str, str]) -> None:
    """Extra parameters, CORS, another grant type: django-oauth-toolkit answers."""
    with_state = post(*app, signed_in["refresh_token"], state="s1")
    assert with_state.status_code == 200, with_state.content
    client_id, secret = app
    auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    cors = Client().post("/sso/token/", {"grant_type": "refresh_token",
                                         "refresh_token": with_state.json()["refresh_token"]},
                         HTTP_AUTHORIZATION=f"Basic {auth}",
                         HTTP_ORIGIN="https://app.example")
    assert cors.status_code == 200 and "Access-Control-Allow-Origin" not in cors
    wrong = Client().post("/sso/token/", {"grant_type": "password", "username": "x",
                                          "password": "y"}, HTTP_AUTHORIZATION=f"Basic {auth}")
    assert wrong.status_code in (400, 401)


def test_receivers_of_delete_signals_still_hear_of_the_rows_deleted(
        signed_in: dict[str, Any], app: tuple[str, str]) -> None:
    """The old access token and its session link are deleted by plain statements only
    while nobody listens to their delete signals; then the ORM deletes them, signals
    sent (and the rotation is otherwise the same)."""
    from django.db.models.signals import pre_delete

    heard: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        heard.append(instance)

    old_access = AccessToken.objects.get(token_checksum=checksum(signed_in["access_token"]))
    pre_delete.connect(receiver, sender=TokenSession)
    try:
        new = ok(post(*app, signed_in["refresh_token"]))
    finally:
        pre_delete.disconnect(receiver, sender=TokenSession)
    assert [link.access_token_id for link in heard] == [old_access.pk]
    assert not AccessToken.objects.filter(pk=old_access.pk).exists()
    assert live(new["refresh_token"]) and not live(signed_in["refresh_token"])
