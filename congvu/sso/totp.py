"""Second factor: TOTP (RFC 6238) for every account that enrols; required for operators
and for the accounts of an agency whose ``require_second_factor`` is set (issue 5)."""

from __future__ import annotations

import datetime as dt

import pyotp
import segno
from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.errors import CongvuError, NotFound
from congvu.sso.models import SecondFactor

STEP = 30


def required_for(account: Account) -> bool:
    if account.is_operator:
        return True
    agency = account.agency
    return agency is not None and any(a.require_second_factor for a in agency.ancestors())


def enrolled(account: Account) -> SecondFactor | None:
    return SecondFactor.objects.filter(account=account, confirmed_at__isnull=False).first()


def start_enrolment(account: Account, now: dt.datetime) -> SecondFactor:
    """The holder's authenticator secret, made on first use (shown until confirmed)."""
    sf, _created = SecondFactor.objects.get_or_create(
        account=account, defaults={"secret": pyotp.random_base32(), "created_at": now})
    return sf


def provisioning_uri(sf: SecondFactor, issuer_name: str) -> str:
    return str(pyotp.TOTP(sf.secret, interval=STEP).provisioning_uri(
        name=sf.account.address, issuer_name=issuer_name))


def qr_svg_data_uri(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_data_uri(scale=5))


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    base = int(now.timestamp()) // STEP
    for step in (base, base - 1, base + 1):  # one step of clock drift either way
        if totp.at(step * STEP) == code:
            return step
    return None


def do_verify(*, account: Account, code: str, now: dt.datetime) -> bool:
    """A code from the enrolled authenticator; each time step is accepted once."""
    with transaction.atomic():
        sf = (SecondFactor.objects.select_for_update()
              .filter(account=account, confirmed_at__isnull=False).first())
        if sf is None:
            return False
        step = _matching_step(sf.secret, code, now)
        if step is None or step <= sf.last_step:
            return False
        SecondFactor.objects.filter(pk=sf.pk).update(last_step=step)
    return True


def do_confirm_enrolment(*, account: Account, code: str, now: dt.datetime) -> None:
    """The holder proves the authenticator works; from now on it is asked at sign-in."""
    actor = Actor(kind="self", label=f"self:{account.address}", account_id=account.pk)
    with transaction.atomic():
        sf = SecondFactor.objects.select_for_update().filter(account=account).first()
        if sf is None:
            raise CongvuError(_("Start the enrolment first."))
        step = _matching_step(sf.secret, code, now)
        if step is None:
            raise CongvuError(_("The code is wrong or has expired: type the 6 digits your "
                                "authenticator app shows now."))
        SecondFactor.objects.filter(pk=sf.pk).update(confirmed_at=now, last_step=step)
        record(actor=actor, action="sso.totp_enrol", at=now, target=account.address)


def do_reset(*, actor: Actor, account: Account, now: dt.datetime) -> None:
    """An operator removes a lost authenticator; the holder enrols again at sign-in."""
    if actor.kind not in ("operator", "system"):
        raise CongvuError(_("Only an operator resets a second factor."))
    with transaction.atomic():
        deleted, _rows = SecondFactor.objects.filter(account=account).delete()
        if not deleted:
            raise NotFound(_("%(address)s has no second factor.") % {"address": account.address})
        record(actor=actor, action="sso.totp_reset", at=now, target=account.address)
