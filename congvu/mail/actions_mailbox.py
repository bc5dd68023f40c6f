"""Mailbox-level writes and reads: forwarding (NB-4.5), delegation (KH-15.1), aliases,
usage. Every write is audited in its transaction."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts.actions import _free_reservation, _require_manage, _reserve
from congvu.accounts.models import Alias, Delegation, Forward, ReservedName
from congvu.accounts.selectors import account_by_address, full_address
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.errors import CongvuError
from congvu.profiles import Profile

_ADDRESS_RE = re.compile(r"^[a-z0-9]([a-z0-9._+-]*[a-z0-9])?@([a-z0-9-]+\.)+[a-z]{2,}$")


def forward_allowed(profile: Profile, target: str) -> bool:
    """NB-4.5: automatic forwarding only to government mailboxes (Reading: the profile's
    allow-list of domain patterns, default ``*.gov.vn``)."""
    domain = target.rpartition("@")[2].lower()
    return any(fnmatch.fnmatchcase(domain, pattern.lower())
               for pattern in profile.mail.forward_allow)


def do_add_forward(*, actor: Actor, profile: Profile, address: str, target: str,
                   keep_copy: bool, now: dt.datetime) -> Forward:
    """Forward a mailbox to ``target`` (NB-4.5: government domains only)."""
    goal = target.strip().lower()
    if not _ADDRESS_RE.match(goal):
        raise CongvuError(_("Invalid forwarding address %(target)r.") % {"target": target})
    if not forward_allowed(profile, goal):
        raise CongvuError(_("Forwarding to %(target)s is not allowed: official mail may only "
                            "be forwarded automatically to government mailboxes (%(allowed)s)."
                            ) % {"target": goal, "allowed": ", ".join(profile.mail.forward_allow)},
                          rule="NB-4.5")
    with transaction.atomic():
        account = account_by_address(profile, address)
        _require_manage(actor, account.agency)
        if goal == account.address:
            raise CongvuError(_("A mailbox cannot forward to itself."))
        fwd, _created = Forward.objects.update_or_create(
            account=account, target=goal, defaults={"keep_copy": keep_copy, "created_at": now})
        record(actor=actor, action="mailbox.forward", at=now, target=account.address,
               rule="NB-4.5", data={"to": goal, "keep_copy": keep_copy})
    return fwd


def do_delegate(*, actor: Actor, profile: Profile, address: str, delegate: str,
                now: dt.datetime) -> Delegation:
    """KH-15.1: a clerk may manage (and send as) the agency mailbox on the head's written
    delegation."""
    with transaction.atomic():
        mailbox = account_by_address(profile, address)
        holder = account_by_address(profile, delegate)
        _require_manage(actor, mailbox.agency)
        if mailbox.pk == holder.pk:
            raise CongvuError(_("An account cannot be delegated to itself."))
        d, _created = Delegation.objects.get_or_create(mailbox=mailbox, delegate=holder,
                                                       defaults={"created_at": now})
        record(actor=actor, action="mailbox.delegate", at=now, target=mailbox.address,
               rule="KH-15.1", data={"delegate": holder.address})
    return d


def do_add_alias(*, actor: Actor, profile: Profile, alias: str, target: str,
                 now: dt.datetime) -> Alias:
    """An extra address for an account, reserved in the namespace like any address."""
    address = full_address(profile, alias)
    local, _sep, domain = address.partition("@")
    if domain != profile.mail.domain:
        raise CongvuError(_("An alias must be in the domain %(domain)s.") % {
            "domain": profile.mail.domain})
    if not re.fullmatch(r"[a-z0-9]+([._-][a-z0-9]+)*", local) or len(local) > 64:
        raise CongvuError(_("Invalid alias %(alias)r: use a–z, 0–9 and . _ - between them.")
                          % {"alias": alias})
    with transaction.atomic():
        account = account_by_address(profile, target)
        _require_manage(actor, account.agency)
        _free_reservation(profile, local)
        made = Alias.objects.create(address=address, local_part=local, domain=domain,
                                    account=account, created_at=now)
        _reserve(profile, local, ReservedName.Kind.ALIAS, now, account=account)
        record(actor=actor, action="alias.add", at=now, target=address,
               data={"to": account.address})
    return made


def mailbox_json(profile: Profile, home: Path, address: str) -> dict[str, Any]:
    """``mailbox show``: messages, bytes and quota (from Dovecot when it runs)."""
    from congvu.mail.services import mailbox_usage

    account = account_by_address(profile, address)
    box = getattr(account, "mailbox", None)
    if box is None:
        raise CongvuError(_("%(address)s has no mailbox.") % {"address": account.address})
    messages, size = mailbox_usage(home, account.address)
    return {"address": account.address, "state": account.state, "messages": messages,
            "bytes": size, "quota_bytes": box.quota_bytes,
            "forwards": list(account.forwards.values_list("target", flat=True)),
            "delegates": list(account.delegations.values_list("delegate__address", flat=True))}
