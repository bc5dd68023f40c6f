"""Second factor: WebAuthn passkeys (security keys, phones, built-in authenticators).

Reads and writes of :class:`~congvu.sso.models.Passkey`. The relying party is the
issuer: RP ID = its host, origin = its scheme://host[:port]. WebAuthn refuses an IP
address as RP ID, so a deployment whose public URL is an IP address offers no passkeys.
Challenges live in the browser's server-side session, are single-use and expire after
five minutes. The WebAuthn user handle is the account's ``subject``, never its address.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from congvu import deployment
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.sso import issuer, totp
from congvu.sso.models import Passkey

log = logging.getLogger(__name__)

CHALLENGE_KEY = "sso_passkey_challenge"
CHALLENGE_SECONDS = 300
#: How long the browser waits for the authenticator (a hint; the challenge lasts longer).
TIMEOUT_MS = 120_000
NAME_MAX = 64
#: A credential's JSON is small (a few hundred bytes to a few KB with attestation).
CREDENTIAL_MAX = 64 * 1024
REGISTER = "register"
AUTHENTICATE = "authenticate"


class PasskeyRefused(CongvuError):
    """A ceremony that failed. ``counts`` says whether it is a failed sign-in attempt
    (throttled and counted like a wrong code) or only a stale page."""

    def __init__(self, message: str, *, counts: bool = True) -> None:
        super().__init__(message)
        self.counts = counts


# --- the relying party ---------------------------------------------------------------


def _issuer_parts() -> tuple[str, str, int | None]:
    parts = urlsplit(issuer.public_url())
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def rp_id() -> str | None:
    """The issuer's host, or None where passkeys cannot be used (an IP address)."""
    _scheme, host, _port = _issuer_parts()
    return None if not host or _is_ip(host) else host


def available() -> bool:
    return rp_id() is not None


def public_host() -> str:
    return _issuer_parts()[1]


def origin() -> str:
    """The origin browsers put in clientDataJSON: no default port."""
    scheme, host, port = _issuer_parts()
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def _require_rp_id() -> str:
    rp = rp_id()
    if rp is None:
        raise PasskeyRefused(unavailable_message(), counts=False)
    return rp


def unavailable_message() -> str:
    return _("Passkeys cannot be used here: this provider's public address (%(host)s) is an "
             "IP address, and passkeys need a domain name. Use the code from an "
             "authenticator app instead.") % {"host": public_host()}


# --- reads ---------------------------------------------------------------------------


def passkeys_of(account: Account) -> QuerySet[Passkey]:
    return Passkey.objects.filter(account=account)


def has_passkey(account: Account) -> bool:
    return passkeys_of(account).exists()


def has_second_factor(account: Account) -> bool:
    """A confirmed authenticator app or at least one passkey."""
    return totp.enrolled(account) is not None or has_passkey(account)


def passkey_json(p: Passkey) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "created_at": p.created_at,
            "last_used_at": p.last_used_at, "aaguid": p.aaguid, "backed_up": p.backed_up}


def _descriptors(account: Account) -> list[PublicKeyCredentialDescriptor]:
    out = []
    for p in passkeys_of(account):
        transports = []
        for t in p.transports or []:
            try:
                transports.append(AuthenticatorTransport(t))
            except ValueError:
                continue
        out.append(PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id),
                                                 transports=transports or None))
    return out


# --- challenges ----------------------------------------------------------------------


def _keep_challenge(session: SessionBase, *, purpose: str, account: Account,
                    challenge: bytes, now: dt.datetime) -> None:
    # One ceremony at a time per browser: a new one replaces the previous challenge.
    session[CHALLENGE_KEY] = {"purpose": purpose, "account": account.pk,
                              "challenge": bytes_to_base64url(challenge),
                              "expires": now.timestamp() + CHALLENGE_SECONDS}


def take_challenge(session: SessionBase, *, purpose: str, account: Account,
                   now: dt.datetime) -> bytes:
    """The challenge this browser was given, removed so that it is never used twice."""
    data = session.pop(CHALLENGE_KEY, None)
    if (not isinstance(data, dict) or data.get("purpose") != purpose
            or data.get("account") != account.pk):
        raise PasskeyRefused(_("This passkey request was already used or does not belong to "
                               "this page. Try again."), counts=False)
    if float(data.get("expires", 0)) < now.timestamp():
        raise PasskeyRefused(_("This passkey request has expired (after 5 minutes). Try "
                               "again."), counts=False)
    return base64url_to_bytes(str(data["challenge"]))


def registration_options(session: SessionBase, account: Account,
                         now: dt.datetime) -> dict[str, Any]:
    """Options for ``navigator.credentials.create()`` (JSON, base64url fields)."""
    rp = _require_rp_id()
    profile = deployment.deployment_profile()
    person = getattr(account, "person", None)
    options = generate_registration_options(
        rp_id=rp, rp_name=f"congvu {profile.province}", user_name=account.address,
        user_id=account.subject.bytes,
        user_display_name=person.full_name if person is not None else account.address,
        timeout=TIMEOUT_MS, attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(account))
    _keep_challenge(session, purpose=REGISTER, account=account, challenge=options.challenge,
                    now=now)
    return dict(options_to_json_dict(options))


def authentication_options(session: SessionBase, account: Account,
                           now: dt.datetime) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()``, limited to the account's passkeys."""
    rp = _require_rp_id()
    allowed = _descriptors(account)
    if not allowed:
        raise PasskeyRefused(_("You have no passkey registered."), counts=False)
    options = generate_authentication_options(
        rp_id=rp, timeout=TIMEOUT_MS, allow_credentials=allowed,
        user_verification=UserVerificationRequirement.PREFERRED)
    _keep_challenge(session, purpose=AUTHENTICATE, account=account,
                    challenge=options.challenge, now=now)
    return dict(options_to_json_dict(options))


# --- checks common to both ceremonies ------------------------------------------------


def _load(credential: str) -> dict[str, Any]:
    if not credential or len(credential) > CREDENTIAL_MAX:
        raise PasskeyRefused(_("The browser sent no passkey answer. Try again."), counts=False)
    try:
        data = json.loads(credential)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise PasskeyRefused(_("The browser's passkey answer is malformed."))
    return data


def _check_client_data(raw: bytes, *, kind: str, challenge: bytes) -> None:
    """Clear messages for the usual failures before the library's full verification."""
    try:
        client = parse_client_data_json(raw)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise PasskeyRefused(_("The browser's passkey answer is malformed.")) from None
    if client.type != kind:
        raise PasskeyRefused(_("The browser's passkey answer is of the wrong kind."))
    if client.challenge != challenge:
        raise PasskeyRefused(_("The passkey answered an older request. Try again."))
    if client.origin != origin():
        raise PasskeyRefused(_("The passkey answered for another web address (%(got)s); "
                               "sign in at %(expected)s.") % {"got": client.origin,
                                                               "expected": origin()})


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise CongvuError(_("Give the passkey a name, for example “USB key” or “Phone”."))
    if len(name) > NAME_MAX:
        raise CongvuError(_("A passkey's name has at most %(n)d characters.") % {"n": NAME_MAX})
    return name


# --- writes --------------------------------------------------------------------------


def do_register(*, actor: Actor, account: Account, name: str, credential: str,
                challenge: bytes, now: dt.datetime) -> Passkey:
    """Register the browser's new credential for ``account`` (its holder only)."""
    if actor.kind != "self" or actor.account_id != account.pk:
        raise Forbidden(_("Only the account holder registers a passkey."))
    name = _clean_name(name)
    rp = _require_rp_id()
    data = _load(credential)
    try:
        parsed = parse_registration_credential_json(data)
    except WebAuthnException:
        raise PasskeyRefused(_("The browser's passkey answer is malformed.")) from None
    _check_client_data(parsed.response.client_data_json, kind="webauthn.create",
                       challenge=challenge)
    try:
        verified = verify_registration_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=rp,
            expected_origin=origin(), require_user_verification=False)
    except WebAuthnException as exc:
        log.warning("passkey registration for %s refused: %s", account.address, exc)
        raise PasskeyRefused(_("The passkey's answer could not be verified.")) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    transports = [str(t.value) for t in parsed.response.transports or []]
    try:
        with transaction.atomic():
            owner = (Passkey.objects.filter(credential_id=credential_id)
                     .values_list("account_id", flat=True).first())
            if owner is not None:
                raise CongvuError(_("This passkey is already registered for your account.")
                                  if owner == account.pk else
                                  _("This passkey is already registered for another account."))
            if passkeys_of(account).filter(name=name).exists():
                raise CongvuError(_("You already have a passkey named “%(name)s”.") % {
                    "name": name})
            passkey = Passkey.objects.create(
                account=account, name=name, credential_id=credential_id,
                public_key=verified.credential_public_key, sign_count=verified.sign_count,
                aaguid=verified.aaguid, transports=transports,
                backed_up=verified.credential_backed_up, created_at=now)
            record(actor=actor, action="sso.passkey_add", at=now, target=account.address,
                   data={"name": name, "aaguid": verified.aaguid,
                         "user_verified": verified.user_verified})
    except IntegrityError:  # the same credential or name registered at the same moment
        raise CongvuError(_("This passkey is already registered.")) from None
    return passkey


def do_authenticate(*, account: Account, credential: str, challenge: bytes,
                    now: dt.datetime) -> Passkey:
    """Check the browser's assertion against one of ``account``'s passkeys. A counter
    that does not move forward (a possibly copied authenticator) is refused and audited."""
    from congvu.sso.actions import self_actor

    rp = _require_rp_id()
    data = _load(credential)
    try:
        parsed = parse_authentication_credential_json(data)
    except WebAuthnException:
        raise PasskeyRefused(_("The browser's passkey answer is malformed.")) from None
    credential_id = bytes_to_base64url(parsed.raw_id)
    not_yours = _("This passkey is not registered for your account.")
    handle = parsed.response.user_handle
    if handle and handle != account.subject.bytes:
        raise PasskeyRefused(not_yours)
    _check_client_data(parsed.response.client_data_json, kind="webauthn.get",
                       challenge=challenge)
    regressed: dict[str, Any] | None = None
    with transaction.atomic():
        passkey = (Passkey.objects.select_for_update()
                   .filter(account=account, credential_id=credential_id).first())
        if passkey is None:
            raise PasskeyRefused(not_yours)
        try:
            # The library's own counter check is off (0): ours runs only once the
            # signature is known good, so that a regression is worth auditing.
            verified = verify_authentication_response(
                credential=parsed, expected_challenge=challenge, expected_rp_id=rp,
                expected_origin=origin(), credential_public_key=bytes(passkey.public_key),
                credential_current_sign_count=0, require_user_verification=False)
        except WebAuthnException as exc:
            log.warning("passkey sign-in of %s refused: %s", account.address, exc)
            raise PasskeyRefused(_("The passkey's signature could not be verified.")) from None
        new, old = verified.new_sign_count, passkey.sign_count
        if (new or old) and new <= old:
            regressed = {"name": passkey.name, "stored": old, "received": new}
        else:
            Passkey.objects.filter(pk=passkey.pk).update(
                sign_count=new, last_used_at=now, backed_up=verified.credential_backed_up)
    if regressed is not None:
        with transaction.atomic():
            record(actor=self_actor(account), action="sso.passkey_counter_regressed", at=now,
                   target=account.address, data=regressed)
        raise PasskeyRefused(_("Passkey “%(name)s” was refused: its signature counter went "
                               "backwards, so it may have been copied. Contact the "
                               "operator.") % {"name": regressed["name"]})
    return passkey


def do_remove(*, actor: Actor, account: Account, passkey_id: int, now: dt.datetime) -> str:
    """The holder removes one of their passkeys; returns its name. Where a second factor
    is required, the last one cannot be removed this way (an operator resets it)."""
    if not (actor.kind in ("operator", "system")
            or (actor.kind == "self" and actor.account_id == account.pk)):
        raise Forbidden(_("Only the account holder or an operator removes a passkey."))
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()  # one at a time
        passkey = passkeys_of(account).filter(pk=passkey_id).first()
        if passkey is None:
            raise NotFound(_("This passkey is not registered for your account."))
        others = passkeys_of(account).exclude(pk=passkey.pk).exists()
        if (actor.kind == "self" and not others and totp.enrolled(account) is None
                and totp.required_for(account)):
            raise CongvuError(_("Your account must keep a second factor: register another "
                                "passkey or an authenticator app before removing this one."))
        name = passkey.name
        passkey.delete()
        record(actor=actor, action="sso.passkey_remove", at=now, target=account.address,
               data={"name": name})
    return name


def do_reset(*, actor: Actor, account: Account, now: dt.datetime) -> list[str]:
    """An operator removes every passkey of an account (a lost device); returns their
    names. The holder registers again after signing in (or enrols where required)."""
    if actor.kind not in ("operator", "system"):
        raise Forbidden(_("Only an operator resets a person's passkeys."))
    with transaction.atomic():
        names = list(passkeys_of(account).values_list("name", flat=True))
        if not names:
            raise NotFound(_("%(address)s has no passkey.") % {"address": account.address})
        passkeys_of(account).delete()
        record(actor=actor, action="sso.passkey_reset", at=now, target=account.address,
               data={"removed": names})
    return names
