"""Writes of the SSO provider: registered clients (NT-10.6), signing keys, SSO sessions
and single sign-out (QN-3.3). Each ``do_*`` runs in one transaction and is audited."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from jwcrypto import jwt
from oauth2_provider.models import AccessToken, Application, RefreshToken

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.errors import CongvuError, NotFound
from congvu.sso import issuer, keys
from congvu.sso.models import (
    ClientSettings,
    LogoutDelivery,
    SessionClient,
    SsoSession,
    TokenSession,
)

End = SsoSession.End
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: Logout tokens are short-lived; the outbox signs a fresh one at each attempt.
LOGOUT_TOKEN_SECONDS = 120


# --- clients ------------------------------------------------------------------------


def _check_uris(uris: Iterable[str], what: str) -> list[str]:
    out = [issuer.check_url(u, what=what) for u in uris if u.strip()]
    for u in out:
        if any(c.isspace() for c in u):
            raise CongvuError(_("%(what)s %(url)r contains spaces.") % {"what": what, "url": u})
    return list(dict.fromkeys(out))


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, make_password(secret, hasher="congvu_client_sha256")


def _apply_uris(app: Application, cs: ClientSettings, *, redirect_uris: Sequence[str],
                post_logout_uris: Sequence[str], backchannel_logout_uri: str,
                frontchannel_logout_uri: str) -> None:
    app.redirect_uris = " ".join(_check_uris(redirect_uris, _("Redirect URI")))
    app.post_logout_redirect_uris = " ".join(
        _check_uris(post_logout_uris, _("Post-logout URI")))
    cs.backchannel_logout_uri = (_check_uris([backchannel_logout_uri],
                                             _("Back-channel logout URI")) or [""])[0]
    cs.frontchannel_logout_uri = (_check_uris([frontchannel_logout_uri],
                                              _("Front-channel logout URI")) or [""])[0]


def do_add_client(*, actor: Actor, name: str, redirect_uris: Sequence[str],
                  post_logout_uris: Sequence[str] = (), backchannel_logout_uri: str = "",
                  frontchannel_logout_uri: str = "", consent: bool = False,
                  require_pkce: bool = True, resource_server: bool = False,
                  now: dt.datetime, internal: bool = False) -> tuple[str, str]:
    """Register a shared application (NT-1.2). Only registered clients may use the
    province's accounts (NT-10.6); redirect URIs match exactly, ``http://`` only for
    loopback. Returns ``(client_id, client_secret)``; the secret is stored hashed and
    shown only now. No consent screen unless ``consent``: the province's own apps."""
    if actor.kind != "operator" and actor.kind != "system":
        raise CongvuError(_("Only an operator registers shared applications."))
    name = " ".join(name.split())
    if not name:
        raise CongvuError(_("Give the application a name (--name)."))
    if not redirect_uris and not resource_server:
        raise CongvuError(_("Give at least one redirect URI (--redirect-uri)."))
    with transaction.atomic():
        if Application.objects.filter(name=name).exists():
            raise CongvuError(_("An application named %(name)r is already registered.") % {
                "name": name})
        secret, hashed = _new_secret()
        app = Application(
            name=name, client_id=uuid.uuid4().hex, client_secret=hashed,
            hash_client_secret=True,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            algorithm=Application.RS256_ALGORITHM, skip_authorization=not consent)
        cs = ClientSettings(require_pkce=require_pkce, consent=consent,
                            resource_server=resource_server, internal=internal, created_at=now)
        _apply_uris(app, cs, redirect_uris=redirect_uris, post_logout_uris=post_logout_uris,
                    backchannel_logout_uri=backchannel_logout_uri,
                    frontchannel_logout_uri=frontchannel_logout_uri)
        app.save()
        cs.application = app
        cs.save()
        record(actor=actor, action="sso.client_add", at=now, target=app.client_id,
               rule="NT-10.6", data=client_json(app))
    return app.client_id, secret


def do_ensure_internal_client(*, actor: Actor, name: str, redirect_uris: Sequence[str] = (),
                              post_logout_uris: Sequence[str] = (),
                              backchannel_logout_uri: str = "",
                              frontchannel_logout_uri: str = "", require_pkce: bool = False,
                              resource_server: bool = False,
                              now: dt.datetime) -> tuple[str, str]:
    """A client congvu registers for itself (webmail, the mail plane's introspection):
    created if missing, else its URIs updated; a new secret either way, since a service
    that renders its configuration at start cannot read back a hashed one."""
    with transaction.atomic():
        app = Application.objects.filter(name=name).select_for_update().first()
        if app is None:
            return do_add_client(actor=actor, name=name, redirect_uris=redirect_uris,
                                 post_logout_uris=post_logout_uris,
                                 backchannel_logout_uri=backchannel_logout_uri,
                                 frontchannel_logout_uri=frontchannel_logout_uri,
                                 require_pkce=require_pkce, resource_server=resource_server,
                                 now=now, internal=True)
        cs, _created = ClientSettings.objects.get_or_create(
            application=app, defaults={"created_at": now, "internal": True})
        _apply_uris(app, cs, redirect_uris=redirect_uris, post_logout_uris=post_logout_uris,
                    backchannel_logout_uri=backchannel_logout_uri,
                    frontchannel_logout_uri=frontchannel_logout_uri)
        secret, app.client_secret = _new_secret()
        cs.require_pkce, cs.resource_server, cs.internal = require_pkce, resource_server, True
        app.save()
        cs.save()
        record(actor=actor, action="sso.client_secret", at=now, target=app.client_id,
               data=client_json(app))
    return app.client_id, secret


def client_by_ref(ref: str) -> Application:
    app = (Application.objects.filter(client_id=ref).first()
           or Application.objects.filter(name=ref).first())
    if app is None:
        raise NotFound(_("No registered application %(ref)r (give its client_id or name).")
                       % {"ref": ref})
    return app


def do_remove_client(*, actor: Actor, ref: str, now: dt.datetime) -> str:
    """Unregister: its tokens die with it (cascade), its sessions stop listing it."""
    with transaction.atomic():
        app = client_by_ref(ref)
        data = client_json(app)
        client_id = app.client_id
        app.delete()
        record(actor=actor, action="sso.client_remove", at=now, target=client_id,
               rule="NT-10.6", data=data)
    return client_id


def client_json(app: Application) -> dict[str, object]:
    cs = ClientSettings.objects.filter(application=app).first()
    return {
        "client_id": app.client_id,
        "name": app.name,
        "redirect_uris": app.redirect_uris.split(),
        "post_logout_uris": app.post_logout_redirect_uris.split(),
        "backchannel_logout_uri": cs.backchannel_logout_uri if cs else "",
        "frontchannel_logout_uri": cs.frontchannel_logout_uri if cs else "",
        "consent": bool(cs and cs.consent),
        "require_pkce": bool(cs is None or cs.require_pkce),
        "resource_server": bool(cs and cs.resource_server),
        "internal": bool(cs and cs.internal),
    }


# --- keys ---------------------------------------------------------------------------


def do_rotate_keys(*, actor: Actor, now: dt.datetime) -> dict[str, object]:
    """A new signing key; retired ones stay published until their tokens expire."""
    key, retired = keys.rotate(now)
    record(actor=actor, action="sso.rotate_keys", at=now, target=key.kid,
           data={"retired": retired})
    return {"kid": key.kid, "retired": retired}


# --- sessions -----------------------------------------------------------------------


def do_start_session(*, account: Account, session_key: str, now: dt.datetime,
                     remote_addr: str = "", user_agent: str = "",
                     second_factor: bool = False) -> SsoSession:
    """A successful sign-in at the provider (audited with the caller's details)."""
    with transaction.atomic():
        session = SsoSession.objects.create(
            sid=secrets.token_urlsafe(24), account=account, session_key=session_key,
            started_at=now, expires_at=now + dt.timedelta(seconds=settings.SSO_SESSION_SECONDS),
            remote_addr=remote_addr[:64], user_agent=user_agent[:300],
            second_factor=second_factor)
        record(actor=self_actor(account), action="sso.signin", at=now,
               target=account.address,
               data={"sid": session.sid, "remote": remote_addr, "second_factor": second_factor})
    return session


SSO_ACTOR = Actor(kind="system", label="system:sso")


def self_actor(account: Account) -> Actor:
    return Actor(kind="self", label=f"self:{account.address}", account_id=account.pk)


def open_sessions(now: dt.datetime) -> QuerySet[SsoSession]:
    return SsoSession.objects.filter(ended_at__isnull=True, expires_at__gt=now)


def note_client(session_id: int, application: Application, now: dt.datetime) -> None:
    """The client received tokens in this session: it must hear of its end. One statement
    (an upsert on the unique constraint): this runs on every token request."""
    SessionClient.objects.bulk_create(
        [SessionClient(session_id=session_id, application=application, first_at=now,
                       last_at=now)],
        update_conflicts=True, unique_fields=["session", "application"],
        update_fields=["last_at"])


def do_end_sessions(sessions: QuerySet[SsoSession], *, reason: str, now: dt.datetime,
                    actor: Actor) -> list[SsoSession]:
    """End SSO sessions (QN-3.3 single sign-out): revoke every token issued in them,
    drop the browser session, and queue a back-channel logout token for every client
    that joined them, all in this transaction (the outbox then delivers, with retries).
    Returns the sessions ended, with their clients, for front-channel rendering."""
    with transaction.atomic():
        ended = list(sessions.filter(ended_at__isnull=True).select_related("account")
                     .select_for_update(of=("self",)))
        if not ended:
            return []
        ids = [s.id for s in ended]
        SsoSession.objects.filter(id__in=ids).update(ended_at=now, end_reason=reason)
        links = TokenSession.objects.filter(session_id__in=ids)
        AccessToken.objects.filter(
            id__in=links.exclude(access_token=None).values("access_token_id")).delete()
        RefreshToken.objects.filter(
            id__in=links.exclude(refresh_token=None).values("refresh_token_id"),
            revoked__isnull=True).update(revoked=now)
        Session.objects.filter(
            session_key__in=[s.session_key for s in ended if s.session_key]).delete()
        joined = (SessionClient.objects.filter(session_id__in=ids)
                  .select_related("application__congvu"))
        deliveries = []
        for sc in joined:
            cs = getattr(sc.application, "congvu", None)
            if cs is not None and cs.backchannel_logout_uri:
                deliveries.append(LogoutDelivery(
                    session_id=sc.session_id, application=sc.application,
                    client_name=sc.application.name, uri=cs.backchannel_logout_uri,
                    logout_token="", created_at=now, next_attempt_at=now))
        LogoutDelivery.objects.bulk_create(deliveries)
        for s in ended:
            s.ended_at, s.end_reason = now, reason
            record(actor=actor, action="sso.signout", at=now, target=s.account.address,
                   data={"sid": s.sid, "reason": reason})
    return ended


def do_end_account_sessions(*, account_ids: Sequence[int], reason: str, now: dt.datetime,
                            actor: Actor, keep_sid: str = "") -> int:
    qs = SsoSession.objects.filter(account_id__in=list(account_ids), ended_at__isnull=True)
    if keep_sid:
        qs = qs.exclude(sid=keep_sid)
    return len(do_end_sessions(qs, reason=reason, now=now, actor=actor))


def do_expire_sessions(*, now: dt.datetime) -> int:
    """Sessions past their lifetime end like a sign-out: clients are told."""
    qs = SsoSession.objects.filter(ended_at__isnull=True, expires_at__lte=now)
    return len(do_end_sessions(qs, reason=End.EXPIRED, now=now,
                               actor=SSO_ACTOR))


def logout_token(delivery: LogoutDelivery, now: dt.datetime) -> str:
    """OpenID Connect Back-Channel Logout 1.0 §2.4: a signed JWT naming the session."""
    session = delivery.session
    key = keys.signing_jwk(now)
    iat = int(now.timestamp())
    claims: dict[str, object] = {
        "iss": issuer.public_url(),
        "aud": delivery.application.client_id if delivery.application else "",
        "iat": iat,
        "exp": iat + LOGOUT_TOKEN_SECONDS,
        "jti": uuid.uuid4().hex,
        "sub": str(session.account.subject),
        "sid": session.sid,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    token = jwt.JWT(header=json.dumps({"alg": "RS256", "typ": "logout+jwt",
                                       "kid": key.thumbprint()}),
                    claims=json.dumps(claims))
    token.make_signed_token(key)
    return str(token.serialize())


def record_failure(*, account: Account, now: dt.datetime, remote: str,
                   second_factor: bool = False) -> None:
    """Every failed SSO sign-in is in the audit log (issue 5); the NB-7.2a count itself
    is kept by ``congvu.mail.actions.do_record_auth_failure`` for every path."""
    record(actor=self_actor(account), action="sso.signin_failed", at=now,
           target=account.address, data={"remote": remote, "second_factor": second_factor})


def frontchannel_uris(ended: Sequence[SsoSession]) -> list[str]:
    """Front-Channel Logout 1.0: each joined client's URI with ``iss`` and ``sid``."""
    from urllib.parse import urlencode, urlsplit

    out = []
    joined = (SessionClient.objects.filter(session__in=list(ended))
              .select_related("application__congvu", "session"))
    for sc in joined:
        cs = getattr(sc.application, "congvu", None)
        if cs is None or not cs.frontchannel_logout_uri:
            continue
        uri = cs.frontchannel_logout_uri
        sep = "&" if urlsplit(uri).query else "?"
        out.append(f"{uri}{sep}{urlencode({'iss': issuer.public_url(), 'sid': sc.session.sid})}")
    return out
