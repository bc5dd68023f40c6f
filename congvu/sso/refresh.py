"""The refresh-token grant, hand-written (issue 5: 240 refreshes/s on two cores).

Through django-oauth-toolkit and oauthlib a refresh was 25 statements through the ORM
(11 of them the rotation: lock the token, look for a successor, savepoints, read and
delete the old access token row by row, rewrite the whole refresh token row) and about
18 ms of server and PostgreSQL CPU; the target leaves about 8 ms for everything. Here the
same grant is one read (the client, the refresh token with its access token, session
link, session, account, person and agency in one prepared join), the ``roles`` claim's
read (``accounts.selectors.roles_of``, kept as the one source of that claim), and one
write: on PostgreSQL a single statement revokes the old pair and inserts the new ID,
access and refresh tokens with their session links; on SQLite the same in a few
statements. The ID token is signed once with the cached RSA key (``keys.sign_rs256``).

The rules are django-oauth-toolkit 3.4's and congvu's, in the same order:

1. client authentication (``client_secret_basic`` or ``client_secret_post``, the same
   hasher check), else ``invalid_client`` (401);
2. the client may use the grant, else ``unauthorized_client``;
3. the refresh token exists, else ``invalid_grant``;
4. a revoked refresh token presented again is reuse: with reuse protection the whole
   family is revoked (``RefreshToken.revoke_family``), and ``invalid_grant``;
5. a live token without an access token (orphaned) or past REFRESH_TOKEN_EXPIRE_SECONDS
   after its access token's expiry: ``invalid_grant``;
6. issued to another client: ``invalid_grant`` (after 4, as django-oauth-toolkit does);
7. congvu: the SSO session is open and the account may sign in, else ``invalid_grant``;
8. ``scope`` may only narrow the original scopes, else ``invalid_scope``;
9. rotation: the old refresh token revoked, its access token deleted (with the rows
   that depend on it, as the ORM's cascade would), a new pair in the same family and
   the same SSO session, the client noted in the session (single sign-out).

The old token is revoked only if it is still live and its session still open, checked
in the writing statement itself (on PostgreSQL with a share lock on the session row,
which ``actions.do_end_sessions`` locks for update): a token rotated concurrently is
reuse (rule 4), and a session ended meanwhile gets no new tokens.

Anything else (another grant type, a public client, extra parameters such as
``resource`` or ``state``, CORS, a grace period, settings this path does not mirror)
is answered by django-oauth-toolkit as before: :func:`token_response` returns None.
The response has the same form: the same JSON keys in the same order, the same headers,
an ID token with the same header and claims in the same order (built by the validator's
own methods); only the new token values and times differ, as between any two refreshes."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote_plus

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import oauth2_backends
from oauth2_provider.models import (
    AccessToken,
    Application,
    RefreshToken,
    refresh_token_expire_timedelta,
)
from oauth2_provider.oauth2_validators import GRANT_TYPE_MAPPING
from oauth2_provider.settings import oauth2_settings
from oauthlib import common
from oauthlib import openid as oauthlib_openid
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from congvu.accounts.models import Account
from congvu.directory.models import Agency, Person
from congvu.sso import keys, sql, tokens
from congvu.sso.models import SsoSession, TokenSession
from congvu.sso.validator import CongvuValidator

#: Tests turn it off to compare with django-oauth-toolkit's answers.
ENABLED = True

GRANT = "refresh_token"
#: The parameters this path understands; any other goes to django-oauth-toolkit.
PARAMETERS = frozenset({"grant_type", "refresh_token", "scope", "client_id", "client_secret"})
HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store",
           "Pragma": "no-cache"}


def _applies() -> bool:
    """The settings this path mirrors (congvu's): anything else, django-oauth-toolkit."""
    s = oauth2_settings
    return (s.OIDC_ENABLED and s.ROTATE_REFRESH_TOKEN
            and s.OAUTH2_VALIDATOR_CLASS is CongvuValidator
            and s.OAUTH2_SERVER_CLASS is oauthlib_openid.Server
            and s.OAUTH2_BACKEND_CLASS is oauth2_backends.OAuthLibCore
            and s.ACCESS_TOKEN_GENERATOR is None and s.REFRESH_TOKEN_GENERATOR is None
            and not s.EXTRA_SERVER_KWARGS and not s.CIMD_ENABLED
            and type(s.ACCESS_TOKEN_EXPIRE_SECONDS) is int
            and type(s.ID_TOKEN_EXPIRE_SECONDS) is int)


@dataclass(frozen=True)
class Credentials:
    client_id: str | None  # None: the Authorization header could not be read
    secret: str


def _credentials(request: HttpRequest) -> Credentials | None:
    """The client's credentials as django-oauth-toolkit reads them, or None when the
    request is not one of the two plain forms (then django-oauth-toolkit answers)."""
    post = request.POST
    auth = request.META.get("HTTP_AUTHORIZATION")
    if auth:
        kind, sep, encoded = auth.partition(" ")
        if not sep or kind != "Basic" or "client_secret" in post:
            return None
        try:
            client_id, secret = map(unquote_plus,
                                    base64.b64decode(encoded).decode("utf-8").split(":", 1))
        except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
            # Unreadable: django-oauth-toolkit then tries the body, which has no secret.
            return None if "client_id" in post else Credentials(None, "")
        if "client_id" in post and post["client_id"] != client_id:
            return None  # oauthlib's "discrepancy" error: not this path's to answer
        return Credentials(client_id, secret)
    body_id, body_secret = post.get("client_id"), post.get("client_secret")
    if not body_id or not body_secret:
        return None  # a public client, or no secret: oauthlib decides
    return Credentials(body_id, body_secret)


def _error(error: errors.OAuth2Error) -> HttpResponse:
    return _respond(error.json, error.status_code, error.headers)


def _respond(body: str, status: int, extra: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(content=body, status=status)
    for key, value in {**HEADERS, **(extra or {})}.items():
        response[key] = value
    return response


@sensitive_post_parameters("refresh_token", "client_secret")
def token_response(request: HttpRequest) -> HttpResponse | None:
    """The token endpoint's answer to a refresh-token grant, or None for django-oauth-
    toolkit to answer. Runs inside the token view's transaction."""
    if not ENABLED or request.method != "POST" or request.META.get("QUERY_STRING") \
            or request.META.get("HTTP_ORIGIN"):
        return None
    post = request.POST
    if post.get("grant_type") != GRANT or not post.get("refresh_token") \
            or any(k not in PARAMETERS or len(v) != 1 for k, v in post.lists()):
        return None
    creds = _credentials(request)
    if creds is None or not _applies():
        return None
    return RefreshGrant(request, creds).answer()


# --- the statements -------------------------------------------------------------------

APP = sql.Loader(Application, "app")
RT = sql.Loader(RefreshToken, "rt")
AT = sql.Loader(AccessToken, "at")
SS = sql.Loader(SsoSession, "ss")
ACCOUNT = sql.Loader(Account, "acc")
PERSON = sql.Loader(Person, "per")
AGENCY = sql.Loader(Agency, "agy")
_LOADERS = (APP, RT, AT, SS, ACCOUNT, PERSON, AGENCY)
_statements: dict[tuple[Any, ...], str] = {}


_t = tokens.table
_c = tokens.column


def _read_sql() -> str:
    """The client by its id, with (outer-joined, so a missing token still names the
    client) the refresh token of that checksum and everything the checks and the ID
    token read. The live row first when several share a checksum, as in
    django-oauth-toolkit (its uniqueness is checksum and revocation time)."""
    key = ("read", connection.vendor)
    found = _statements.get(key)
    if found is None:
        c = _c
        select = ", ".join(loader.select() for loader in _LOADERS)
        found = (
            f"SELECT {select} FROM {_t(Application)} app "  # noqa: S608 (names from _meta)
            f"LEFT JOIN {_t(RefreshToken)} rt ON rt.{c(RefreshToken, 'token_checksum')} = %s "
            f"LEFT JOIN {_t(AccessToken)} at ON at.{c(AccessToken, 'id')} "
            f"= rt.{c(RefreshToken, 'access_token')} "
            f"LEFT JOIN {_t(TokenSession)} ts ON ts.{c(TokenSession, 'refresh_token')} "
            f"= rt.{c(RefreshToken, 'id')} "
            f"LEFT JOIN {_t(SsoSession)} ss ON ss.{c(SsoSession, 'id')} "
            f"= ts.{c(TokenSession, 'session')} "
            f"LEFT JOIN {_t(Account)} acc ON acc.{c(Account, 'id')} = rt.{c(RefreshToken, 'user')} "
            f"LEFT JOIN {_t(Person)} per ON per.{c(Person, 'id')} = acc.{c(Account, 'person')} "
            f"LEFT JOIN {_t(Agency)} agy ON agy.{c(Agency, 'id')} = acc.{c(Account, 'agency')} "
            f"WHERE app.{c(Application, 'client_id')} = %s "
            f"ORDER BY rt.{c(RefreshToken, 'revoked')} DESC NULLS FIRST "
            f"LIMIT 1")
        _statements[key] = found
    return found


#: The revoke itself clears the refresh token's link to its access token.
_RT_LINK = ("oauth2_provider.refreshtoken.access_token",)


def _revoke_sql() -> str:
    """Revoke the presented token if it is still live and its session still open; on
    PostgreSQL the session row is share-locked, so a concurrent ``do_end_sessions``
    (which locks it for update) either waits for this transaction and then revokes the
    new tokens too, or has ended the session and this revokes nothing."""
    lock = " FOR SHARE" if sql.is_postgresql() else ""
    return (
        f"UPDATE {_t(RefreshToken)} SET {_c(RefreshToken, 'revoked')} = %s, "  # noqa: S608
        f"{_c(RefreshToken, 'updated')} = %s, {_c(RefreshToken, 'access_token')} = NULL "
        f"WHERE {_c(RefreshToken, 'id')} = %s AND {_c(RefreshToken, 'revoked')} IS NULL "
        f"AND EXISTS (SELECT 1 FROM {_t(SsoSession)} WHERE {_c(SsoSession, 'id')} = %s "
        f"AND {_c(SsoSession, 'ended_at')} IS NULL{lock})")


# --- the grant ------------------------------------------------------------------------


class RefreshGrant:
    """One refresh-token request, answered by the rules above."""

    def __init__(self, request: HttpRequest, creds: Credentials) -> None:
        self.request = request
        self.creds = creds
        self.validator = CongvuValidator()

    def answer(self) -> HttpResponse | None:
        creds = self.creds
        if creds.client_id is None or "\x00" in creds.client_id:
            return _error(errors.InvalidClientError())
        presented = self.request.POST["refresh_token"]
        checksum = hashlib.sha256(presented.encode("utf-8")).hexdigest()
        with sql.cursor() as cur:
            cur.execute(_read_sql(), [checksum, creds.client_id])
            row = cur.fetchone()
        if row is None:
            return _error(errors.InvalidClientError())  # no such client
        loaded = []
        start = 0
        for loader in _LOADERS:
            loaded.append(loader.load(row, start))
            start += loader.width
        app, rt, at, session, account, person, agency = loaded
        # 1-2: the client (DOT's _check_secret: the configured hasher, or a plain secret).
        if not app.is_usable(None) or not self.validator._check_secret(creds.secret,
                                                                       app.client_secret):
            return _error(errors.InvalidClientError())
        if not app.allows_grant_type(*GRANT_TYPE_MAPPING[GRANT]):
            return _error(errors.UnauthorizedClientError())
        if app.algorithm != Application.RS256_ALGORITHM:
            return None
        # 3-6: the refresh token, as django-oauth-toolkit's validate_refresh_token.
        if rt is None:
            return _error(errors.InvalidGrantError())
        now = timezone.now()
        if rt.revoked is not None:
            grace = oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS
            if grace and rt.revoked > now - dt.timedelta(seconds=grace):
                return None  # a retry within the grace period: django-oauth-toolkit's rule
            return self._reuse(rt)
        if at is None:
            return _error(errors.InvalidGrantError())
        expire_delta = refresh_token_expire_timedelta()
        if expire_delta and at.expires + expire_delta <= now:
            return _error(errors.InvalidGrantError())
        if rt.application_id != app.pk:
            return _error(errors.InvalidGrantError())
        # 7: congvu's session and account checks (validator._open_link).
        if account is None or session is None or session.ended_at is not None \
                or session.expires_at <= now:
            return _error(errors.InvalidGrantError())
        if session.account_id != account.pk:
            return None  # not a state congvu makes; the validator's slower check decides
        if not account.is_active:
            return _error(errors.InvalidGrantError())
        if rt.resource:
            return None  # RFC 8707 resources: django-oauth-toolkit's rules
        account.person = person
        account.agency = agency
        # 8: scopes may only narrow.
        original = scope_to_list(at.scope)
        asked = self.request.POST.get("scope")
        if asked:
            scopes = scope_to_list(asked)
            if not all(s in original for s in scopes):
                return _error(errors.InvalidScopeError())
        else:
            scopes = original
        return self._rotate(app, rt, at, session, account, scopes, asked or "", now)

    def _reuse(self, rt: RefreshToken) -> HttpResponse:
        """A revoked token presented again (or rotated concurrently): with reuse
        protection its whole family goes (django-oauth-toolkit's own method)."""
        if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION and rt.token_family:
            RefreshToken.revoke_family(rt.token_family)
        return _error(errors.InvalidGrantError())

    def _rotate(self, app: Application, rt: RefreshToken, at: AccessToken,
                session: SsoSession, account: Account, scopes: list[str], asked: str,
                now: dt.datetime) -> HttpResponse:
        expires_in = int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        token: dict[str, Any] = {
            "access_token": common.generate_token(), "expires_in": expires_in,
            "token_type": "Bearer", "scope": " ".join(scopes),
            "refresh_token": common.generate_token()}
        id_row: dict[str, Any] | None = None
        if "openid" in scopes:
            token["id_token"], id_row = self._id_token(token, app, str(app.client_id),
                                                       session, account, scopes, asked, now)
        access, refresh = tokens.rows(
            now=now, user_id=account.pk, application_id=app.pk,
            access_token=token["access_token"], refresh_token=token["refresh_token"],
            scope=token["scope"], expires=timezone.now() + dt.timedelta(seconds=expires_in),
            token_family=rt.token_family, source_refresh_token_id=rt.pk)
        client = {"session_id": session.pk, "application_id": app.pk, "first_at": now,
                  "last_at": now}
        # The old access token goes with the rows depending on it, as the ORM deletes it.
        plan = sql.dependents(AccessToken, skip=_RT_LINK)
        then: list[Any] = [lambda: AccessToken.objects.filter(pk=at.pk).delete()]
        if plan is not None:
            then = [(dep.sql(), [at.pk]) for dep in plan]
            then.append((f"DELETE FROM {_t(AccessToken)} "  # noqa: S608 (names from _meta)
                         f"WHERE {_c(AccessToken, 'id')} = %s", [at.pk]))
        guard = tokens.Guard(f"{_revoke_sql()} RETURNING {_c(RefreshToken, 'id')}",
                             [now, now, rt.pk, session.pk], then)
        written = tokens.write(guard, tokens.Issued(
            id_token=id_row, access=access, refresh=refresh, session_id=session.pk,
            client=client))
        if written is None:
            return self._reuse(rt)  # rotated (or its session ended) meanwhile
        return _respond(json.dumps(token), 200)

    def _id_token(self, token: dict[str, Any], app: Application, client_id: str,
                  session: SsoSession, account: Account, scopes: list[str],
                  asked: str, now: dt.datetime) -> tuple[str, dict[str, Any]]:
        """oauthlib's add_id_token and django-oauth-toolkit's finalize_id_token: aud, iat
        and at_hash first, then the validator's claims (congvu's, sid, auth_time)."""
        at_hash = hashlib.sha256(token["access_token"].encode()).digest()
        claims: dict[str, Any] = {
            "aud": client_id, "iat": int(time.time()),
            "at_hash": base64.urlsafe_b64encode(at_hash[:16]).decode().rstrip("=")}
        oauth_request: Any = SimpleNamespace(user=account, scopes=scopes, sso_session=session,
                                             client=app, client_id=client_id, nonce=None)
        more, expiration = self.validator.get_id_token_dictionary(token, None, oauth_request)
        claims.update(**more)
        _key, kid = keys.signer()
        jwt_text = keys.sign_rs256({"typ": "JWT", "alg": app.algorithm, "kid": kid}, claims)
        row = {"user_id": account.pk, "jti": uuid.UUID(claims["jti"]),
               "application_id": app.pk, "expires": expiration,
               "scope": asked or " ".join(scopes), "created": now, "updated": now}
        return jwt_text, row
