"""django-oauth-toolkit customised in one place (its own advice): congvu's claims,
per-client PKCE, sessions carried from the authorization code to every token, and
refusal of tokens whose account or session has ended.

Performance (issue 5: 240 refreshes/s): django-oauth-toolkit asks the database for the
same rows several times per token request (the grant up to seven times per code
exchange; the refresh token's user and client lazily; the ID token it has just written,
by verifying its own JWT again). Each query costs ~0.3 ms of Python in the ORM, which is
most of a token request's CPU, so the methods below fetch each row once per request and
keep it on the oauthlib request. The hot reads are prepared statements (``sql.py``), and
a code exchange writes its rows in one guarded write (``tokens.py``); refreshes are
answered by ``refresh.py``. Behaviour is django-oauth-toolkit 3.x's."""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.db import connection
from django.db.models import F
from django.utils import timezone
from oauth2_provider.models import (
    AccessToken,
    Application,
    Grant,
    IDToken,
    RefreshToken,
    refresh_token_expire_timedelta,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from congvu.accounts.models import Account, AccountState
from congvu.accounts.selectors import roles_of
from congvu.directory.models import Agency, Person
from congvu.sso import actions, issuer, keys, sql, tokens
from congvu.sso.models import (
    ClientSettings,
    GrantSession,
    RedeemedCode,
    SsoSession,
    TokenSession,
)


def claims_of(account: Account) -> dict[str, Any]:
    """The claims every shared application receives (issue 5)."""
    person = account.person
    agency = account.agency
    return {
        "sub": str(account.subject),
        "email": account.address,
        "email_verified": True,
        "name": person.full_name if person else (agency.name if agency else account.address),
        "preferred_username": account.local_part,
        "agency": agency.name if agency else "",
        "position": person.position if person else "",
        "roles": roles_of(account),
    }


def _account(pk: int) -> Account:
    """The token's account with the rows ``claims_of`` reads (one query, not three)."""
    return Account.objects.select_related("person", "agency").get(pk=pk)


def _open_link(links: Any, account: Account) -> SsoSession | None:
    """The session of a GrantSession/TokenSession query if it has not ended or expired
    and its account is active. ``account`` is the token's, just read: a session's
    tokens are its account's, so its state need not be read again (joining it costs
    PostgreSQL more planning than the read)."""
    link = (links.filter(session__ended_at__isnull=True, session__expires_at__gt=timezone.now())
            .select_related("session").first())
    return None if link is None else _usable(link.session, account)


def _usable(session: SsoSession | None, account: Account) -> SsoSession | None:
    """``session`` if it is open and its account active (``account``, the token's)."""
    if session is None or session.ended_at is not None or session.expires_at <= timezone.now():
        return None
    if session.account_id == account.pk:
        active = account.state == AccountState.ACTIVE
    else:
        active = Account.objects.filter(pk=session.account_id, state=AccountState.ACTIVE).exists()
    return session if active else None


# The code exchange reads the grant with its session link, session, account, person and
# agency (the claims) in one prepared statement (sql.py): three ORM reads before.
_GRANT_LOADERS = (sql.Loader(Grant, "g"), sql.Loader(SsoSession, "ss"),
                  sql.Loader(Account, "acc"), sql.Loader(Person, "per"),
                  sql.Loader(Agency, "agy"))
_grant_statement: dict[str, str] = {}


def _grant_sql() -> str:
    found = _grant_statement.get(connection.vendor)
    if found is None:
        t, c = tokens.table, tokens.column
        select = ", ".join(loader.select() for loader in _GRANT_LOADERS)
        found = (
            f"SELECT {select} FROM {t(Grant)} g "  # noqa: S608 (names from _meta)
            f"LEFT JOIN {t(GrantSession)} gs ON gs.{c(GrantSession, 'grant')} "
            f"= g.{c(Grant, 'id')} "
            f"LEFT JOIN {t(SsoSession)} ss ON ss.{c(SsoSession, 'id')} "
            f"= gs.{c(GrantSession, 'session')} "
            f"LEFT JOIN {t(Account)} acc ON acc.{c(Account, 'id')} = g.{c(Grant, 'user')} "
            f"LEFT JOIN {t(Person)} per ON per.{c(Person, 'id')} = acc.{c(Account, 'person')} "
            f"LEFT JOIN {t(Agency)} agy ON agy.{c(Agency, 'id')} = acc.{c(Account, 'agency')} "
            f"WHERE g.{c(Grant, 'code')} = %s")
        _grant_statement[connection.vendor] = found
    return found


_CLIENT_LOADERS = (sql.Loader(Application, "app"), sql.Loader(ClientSettings, "cs"))
_client_statement: dict[str, str] = {}


def _application(client_id: str | None) -> Application | None:
    """The client with its ClientSettings (read for PKCE right after), as
    ``Application.objects.select_related("congvu").filter(client_id=...).first()`` in
    one prepared statement."""
    if not client_id or "\x00" in client_id:  # as DOT: no client (NUL: PostgreSQL refuses)
        return None
    found = _client_statement.get(connection.vendor)
    if found is None:
        t, c = tokens.table, tokens.column
        select = ", ".join(loader.select() for loader in _CLIENT_LOADERS)
        found = (f"SELECT {select} FROM {t(Application)} app "  # noqa: S608 (names from _meta)
                 f"LEFT JOIN {t(ClientSettings)} cs ON cs.{c(ClientSettings, 'application')} "
                 f"= app.{c(Application, 'id')} "
                 f"WHERE app.{c(Application, 'client_id')} = %s")
        _client_statement[connection.vendor] = found
    with sql.cursor() as cur:
        cur.execute(found, [client_id])
        row = cur.fetchone()
    if row is None:
        return None
    app: Application = _CLIENT_LOADERS[0].load(row, 0)
    settings = _CLIENT_LOADERS[1].load(row, _CLIENT_LOADERS[0].width)
    # What select_related("congvu") caches: the settings (or their absence) on the client.
    Application.congvu.related.set_cached_value(app, settings)
    if settings is not None:
        ClientSettings.application.field.set_cached_value(settings, app)
    return app


# Per HTTP request: oauthlib builds a new Request for each phase of one HTTP request
# (the authorize endpoint validates, then creates the response), so what one phase read
# is kept here for the next (the views open it around each request).
_HTTP_REQUEST: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar(
    "congvu_sso_http_request", default=None)


@contextmanager
def request_memo() -> Iterator[None]:
    token = _HTTP_REQUEST.set({})
    try:
        yield
    finally:
        _HTTP_REQUEST.reset(token)


def _memo(request: Request, name: str) -> Any:
    return getattr(request, "_congvu", {}).get(name)


def _remember(request: Request, name: str, value: Any) -> None:
    if not hasattr(request, "_congvu"):
        request._congvu = {}
    request._congvu[name] = value


class CongvuValidator(OAuth2Validator):
    oidc_claim_scope: ClassVar[dict[str, str]] = {
        **OAuth2Validator.oidc_claim_scope, "agency": "profile", "position": "profile",
        "roles": "profile"}

    def get_additional_claims(self, request: Request) -> dict[str, Any]:
        return claims_of(request.user)

    @classmethod
    def _get_additional_claims_is_request_agnostic(cls) -> bool:
        # django-oauth-toolkit inspects the signature above on every call (twice per ID
        # token); it takes the request.
        return False

    def get_oidc_issuer_endpoint(self, request: Request) -> str:
        return issuer.public_url()

    def _load_application(self, client_id: str, request: Request) -> Application | None:
        """django-oauth-toolkit's, reading the client with its ClientSettings (PKCE, just
        after) in one query and once per HTTP request (it was read three times, its
        settings twice, per authorization)."""
        if oauth2_settings.CIMD_ENABLED:
            return super()._load_application(client_id, request)
        client = request.client
        if isinstance(client, Application) and client.client_id == client_id \
                and client.is_usable(request):
            return client
        request.client = None
        memo = _HTTP_REQUEST.get()
        key = ("application", client_id)
        if memo is not None and key in memo:
            app = memo[key]
        else:
            app = _application(client_id)
            if memo is not None:
                memo[key] = app
        if app is None or not app.is_usable(request):
            return None
        request.client = app
        return app

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        client = getattr(request, "client", None)
        if isinstance(client, Application) and client.client_id == client_id:
            try:
                cs = client.congvu  # read with the client (above)
            except ClientSettings.DoesNotExist:
                cs = None
        else:
            cs = ClientSettings.objects.filter(application__client_id=client_id).first()
        return cs is None or cs.require_pkce

    # The session travels: authorize (browser) -> code -> tokens -> refreshed tokens.

    def save_authorization_code(self, client_id: str, code: dict[str, Any], request: Request,
                                *args: Any, **kwargs: Any) -> None:
        grant = self._create_authorization_code(request, code)
        session_id = getattr(request, "sso_session_id", None)
        if session_id is not None:
            GrantSession.objects.create(grant=grant, session_id=session_id)

    # The grant, read once per token request (Grant.code is unique, so filtering by code
    # and then comparing the client is the same as django-oauth-toolkit's queries).

    def _grant(self, code: str, request: Request | None) -> Grant | None:
        memo = _memo(request, "grant") if request is not None else None
        if memo is not None and memo[0] == code:
            return memo[1]
        with sql.cursor() as cur:
            cur.execute(_grant_sql(), [code])
            row = cur.fetchone()
        grant = None
        if row is not None:
            loaded, start = [], 0
            for loader in _GRANT_LOADERS:
                loaded.append(loader.load(row, start))
                start += loader.width
            grant, session, account, person, agency = loaded
            if account is not None:
                account.person, account.agency = person, agency
        if request is not None:
            _remember(request, "grant", (code, grant))
            if grant is not None:
                _remember(request, "grant_rows", (grant.pk, account, session))
        return grant

    def _client_grant(self, code: str, client: Any, request: Request | None) -> Grant:
        grant = self._grant(code, request)
        if grant is None or client is None or grant.application_id != client.pk:
            raise Grant.DoesNotExist
        return grant

    def get_authorization_code_scopes(self, client_id: str, code: str, redirect_uri: str,
                                      request: Request) -> list[str]:
        grant = self._grant(code, request)
        return scope_to_list(grant.scope) if grant is not None and grant.scope else []

    def get_authorization_code_nonce(self, client_id: str, code: str, redirect_uri: str,
                                     request: Request) -> str | None:
        grant = self._grant(code, request)
        return grant.nonce if grant is not None and grant.nonce else None

    def get_code_challenge(self, code: str, request: Request) -> str | None:
        return self._client_grant(code, request.client, request).code_challenge or None

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:
        return self._client_grant(code, request.client, request).code_challenge_method or None

    def confirm_redirect_uri(self, client_id: str, code: str, redirect_uri: str, client: Any,
                             *args: Any, **kwargs: Any) -> bool:
        request = args[0] if args and isinstance(args[0], Request) else kwargs.get("request")
        grant = self._client_grant(code, client, request)
        return bool(grant.redirect_uri_allowed(redirect_uri))

    def validate_code(self, client_id: str, code: str, client: Any, request: Request,
                      *args: Any, **kwargs: Any) -> bool:
        try:
            grant = self._client_grant(code, client, request)
        except Grant.DoesNotExist:
            grant = None
        if grant is None or grant.is_expired():
            self._revoke_replayed(code)
            return False
        # As django-oauth-toolkit's validate_code.
        request.scopes = grant.scope.split(" ")
        rows = _memo(request, "grant_rows")
        if rows is not None and rows[0] == grant.pk and rows[1] is not None:
            request.user = rows[1]  # read with the grant
            session = _usable(rows[2], request.user)
        else:
            request.user = _account(grant.user_id)
            session = _open_link(GrantSession.objects.filter(grant_id=grant.pk), request.user)
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        if session is None or not request.user.is_active:
            return False  # signed out (or suspended) between authorize and token
        request.sso_session = session
        return True

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Request,
                               *args: Any, **kwargs: Any) -> bool:
        if not self._validate_refresh_token(refresh_token, client, request):
            return False
        rt = request.refresh_token_instance
        session = _open_link(TokenSession.objects.filter(refresh_token=rt), request.user)
        if session is None or not request.user.is_active:
            return False
        request.sso_session = session
        return True

    @staticmethod
    def _validate_refresh_token(refresh_token: str, client: Any, request: Request) -> bool:
        """django-oauth-toolkit 3.4's ``validate_refresh_token`` (grace period, reuse
        protection, expiry), reading the user with the rows the claims need in one query
        and comparing the client by id instead of reading it again."""
        checksum = token_checksum(refresh_token)
        rt = (RefreshToken.objects.filter(token_checksum=checksum)
              .select_related("access_token")
              .order_by(F("revoked").desc(nulls_first=True)).first())
        if not rt:
            return False
        now = timezone.now()
        if rt.revoked is not None:
            grace_expired = rt.revoked <= now - dt.timedelta(
                seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS)
            superseded = AccessToken.objects.filter(source_refresh_token=rt).exists()
            if grace_expired or not superseded:
                if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION and rt.token_family:
                    RefreshToken.revoke_family(rt.token_family)
                return False
        if rt.revoked is None:
            if rt.access_token is None:
                return False
            expire_delta = refresh_token_expire_timedelta()
            if expire_delta and rt.access_token.expires + expire_delta <= now:
                return False
        request.user = rt.user = _account(rt.user_id)
        request.refresh_token = refresh_token
        request.refresh_token_instance = rt
        if client is None or rt.application_id != client.pk:
            return False
        rt.application = client  # the same row (Model equality is by primary key)
        return True

    def validate_bearer_token(self, token: str, scopes: list[str], request: Request) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        user = request.user
        return user is None or bool(user.is_active)

    # Tokens: django-oauth-toolkit's _save_bearer_token creates them through these two
    # methods; keeping what they made spares reading the new rows back.

    def finalize_id_token(self, id_token: dict[str, Any], token: dict[str, Any],
                          token_handler: Any, request: Request) -> str:
        """django-oauth-toolkit's, signing with the cached RSA key directly (the same
        bytes, ``keys.sign_rs256``) and without a savepoint around the ID token row
        (the token view's transaction holds every write of the request)."""
        if request.client.algorithm != Application.RS256_ALGORITHM:
            jwt_text = str(super().finalize_id_token(id_token, token, token_handler, request))
        else:
            claims, expiration_time = self.get_id_token_dictionary(token, token_handler,
                                                                   request)
            id_token.update(**claims)
            if "nonce" not in id_token and request.nonce:  # oauthlib issue 746, as DOT
                id_token["nonce"] = request.nonce
            _key, kid = keys.signer()
            jwt_text = keys.sign_rs256(
                {"typ": "JWT", "alg": request.client.algorithm, "kid": kid}, id_token)
            # As django-oauth-toolkit's _save_id_token; a code exchange writes the row
            # with the tokens (_save_code_tokens), anything else now.
            row = IDToken(user=request.user, scope=request.scope or " ".join(request.scopes),
                          expires=expiration_time, jti=id_token["jti"],
                          application=request.client)
            if request.grant_type != "authorization_code":
                row.save()
            request.access_token = row
            request.id_token = row
        _remember(request, "id_token", (jwt_text, request.id_token))
        return jwt_text

    def save_bearer_token(self, token: dict[str, Any], request: Request, *args: Any,
                          **kwargs: Any) -> None:
        if connection.in_atomic_block:  # the token view's transaction: no savepoint
            self._save_bearer_token(token, request, *args, **kwargs)
            return
        super().save_bearer_token(token, request, *args, **kwargs)

    def invalidate_authorization_code(self, client_id: str, code: str, request: Request,
                                      *args: Any, **kwargs: Any) -> None:
        """As django-oauth-toolkit's (the grant of this code and client goes, else
        invalid_grant), deleting the grant read earlier in this request by its key (it
        read the grant again to delete it)."""
        deleted = _memo(request, "grant_deleted")
        if deleted is not None and deleted[0] == code:  # with the tokens (_save_code_tokens)
            if not deleted[1]:
                raise errors.InvalidGrantError(request=request)
            return
        memo = _memo(request, "grant")
        client = request.client
        if memo is None or memo[0] != code or memo[1] is None or client is None \
                or memo[1].application_id != client.pk:
            super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
            return
        if not sql.delete(Grant, memo[1].pk, application_id=client.pk):
            raise errors.InvalidGrantError(request=request)

    def _create_access_token(self, expires: dt.datetime, request: Request,
                             token: dict[str, Any],
                             source_refresh_token: RefreshToken | None = None) -> AccessToken:
        id_token: Any = token.get("id_token")
        signed = _memo(request, "id_token")
        if id_token and signed is not None and signed[0] == id_token:
            id_token = signed[1]  # the IDToken row just written for this very JWT
        elif id_token:
            id_token = self._load_id_token(id_token)
        # As django-oauth-toolkit's _create_access_token.
        access_token = AccessToken(
            user=request.user, scope=token["scope"], expires=expires, id_token=id_token,
            application=request.client, source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []))
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        _remember(request, "access_token", access_token)
        return access_token

    def _create_refresh_token(self, request: Request, refresh_token_code: str,
                              access_token: AccessToken,
                              previous_refresh_token: RefreshToken | None) -> RefreshToken:
        refresh = super()._create_refresh_token(request, refresh_token_code, access_token,
                                                previous_refresh_token)
        _remember(request, "refresh_token", refresh)
        return refresh

    def _check_and_set_request_resource(self, request: Request) -> None:
        """RFC 8707 resources: with none asked for and none on the grant (congvu's
        clients use none), the result is [] without reading the grant a last time."""
        memo = _memo(request, "grant")
        if (request.grant_type == "authorization_code" and not getattr(request, "resource", None)
                and memo is not None and memo[0] == request.code and memo[1] is not None
                and request.client is not None and memo[1].application_id == request.client.pk
                and not memo[1].resource):
            request.resource = []
            return
        super()._check_and_set_request_resource(request)

    def _save_bearer_token(self, token: dict[str, Any], request: Request, *args: Any,
                           **kwargs: Any) -> None:
        if request.grant_type == "authorization_code" and self._save_code_tokens(token,
                                                                                 request):
            return
        signed = _memo(request, "id_token")
        if signed is not None and signed[1] is not None and signed[1].pk is None:
            signed[1].save()  # the ID token row finalize_id_token left for later
        super()._save_bearer_token(token, request, *args, **kwargs)
        session = getattr(request, "sso_session", None)
        if session is None:
            return
        access: AccessToken | None = _memo(request, "access_token")
        refresh: RefreshToken | None = _memo(request, "refresh_token")
        if access is not None and (refresh is not None or not token.get("refresh_token")):
            # Both rows are new (created above), so neither has a link yet.
            TokenSession.objects.bulk_create(
                [TokenSession(session=session, access_token=access)]
                + ([TokenSession(session=session, refresh_token=refresh)] if refresh else []))
        else:
            # django-oauth-toolkit handed back tokens issued earlier (its grace period).
            access = AccessToken.objects.filter(
                token_checksum=token_checksum(token["access_token"])).first()
            refresh = (RefreshToken.objects.filter(
                token_checksum=token_checksum(token["refresh_token"]),
                revoked__isnull=True).first() if token.get("refresh_token") else None)
            if access is not None and not TokenSession.objects.filter(
                    access_token=access).exists():
                TokenSession.objects.create(session=session, access_token=access)
            if refresh is not None and not TokenSession.objects.filter(
                    refresh_token=refresh).exists():
                TokenSession.objects.create(session=session, refresh_token=refresh)
        now = timezone.now()
        actions.note_client(session.pk, request.client, now)
        if request.grant_type == "authorization_code" and getattr(request, "code", None):
            RedeemedCode.objects.create(checksum=token_checksum(request.code), access_token=access,
                                        refresh_token=refresh, created_at=now)

    def _save_code_tokens(self, token: dict[str, Any], request: Request) -> bool:
        """A code exchange's writes as one guarded write (``tokens.write``: one statement
        on PostgreSQL, eight through the ORM): the code's grant deleted (the guard: if
        another request redeemed it meanwhile nothing is written and
        invalidate_authorization_code answers invalid_grant), the ID token row, the
        access and refresh tokens as django-oauth-toolkit makes them (a new family, no
        resources), their session links, the client noted in the session and the
        redeemed code. False: the ORM path (resources, no session, ...)."""
        session: SsoSession | None = getattr(request, "sso_session", None)
        code = getattr(request, "code", None)
        memo = _memo(request, "grant")
        client = request.client
        if (session is None or not code or memo is None or memo[0] != code or memo[1] is None
                or client is None or memo[1].application_id != client.pk
                or "scope" not in token or not token.get("refresh_token")):
            return False
        self._check_and_set_request_resource(request)
        signed = _memo(request, "id_token")
        id_row = signed[1] if signed is not None and signed[0] == token.get("id_token") \
            else None
        plan = sql.dependents(Grant)
        if request.resource or plan is None or (token.get("id_token") and id_row is None):
            return False
        grant: Grant = memo[1]
        now = timezone.now()
        expires = now + dt.timedelta(seconds=token.get(
            "expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS))
        access, refresh = tokens.rows(
            now=now, user_id=request.user.pk, application_id=client.pk,
            access_token=token["access_token"], refresh_token=token["refresh_token"],
            scope=token["scope"], expires=expires, token_family=uuid.uuid4(),
            source_refresh_token_id=None)
        id_token = None if id_row is None else {
            "user_id": id_row.user_id, "jti": id_row.jti, "application_id": client.pk,
            "expires": id_row.expires, "scope": id_row.scope, "created": now, "updated": now}
        guard = tokens.Guard(
            f"DELETE FROM {tokens.table(Grant)} WHERE {tokens.column(Grant, 'id')} = %s "  # noqa: S608
            f"AND {tokens.column(Grant, 'application')} = %s "
            f"RETURNING {tokens.column(Grant, 'id')}",
            [grant.pk, client.pk], [(dep.sql(), [grant.pk]) for dep in plan])
        written = tokens.write(guard, tokens.Issued(
            id_token=id_token, access=access, refresh=refresh, session_id=session.pk,
            client={"session_id": session.pk, "application_id": client.pk,
                    "first_at": now, "last_at": now},
            redeemed={"checksum": token_checksum(code), "access_token_id": None,
                      "refresh_token_id": None, "created_at": now}))
        _remember(request, "grant_deleted", (code, written is not None))
        return True

    @staticmethod
    def _revoke_replayed(code: str) -> None:
        """RFC 6749 §4.1.2: a code used twice revokes the tokens it was exchanged for."""
        used = RedeemedCode.objects.filter(checksum=token_checksum(code)).first()
        if used is None:
            return
        if used.refresh_token_id:
            RefreshToken.objects.filter(pk=used.refresh_token_id, revoked__isnull=True).update(
                revoked=timezone.now())
        if used.access_token_id:
            AccessToken.objects.filter(pk=used.access_token_id).delete()

    def get_id_token_dictionary(self, token: dict[str, Any], token_handler: Any,
                                request: Request) -> tuple[dict[str, Any], Any]:
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        session = getattr(request, "sso_session", None)
        if session is not None:
            claims["sid"] = session.sid
            claims["auth_time"] = int(session.started_at.timestamp())
        return claims, expires


def token_checksum(value: str) -> str:
    """How django-oauth-toolkit finds a token (its ``token_checksum`` column)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


__all__ = ["CongvuValidator", "Grant", "claims_of", "token_checksum"]
