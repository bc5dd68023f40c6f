"""Writes the mail plane asks for: sign-in results (NB-7.2a) and sending-limit
suspensions (NB-7.2b).

Called by the Dovecot auth-policy endpoint (:mod:`congvu.mail.authpolicy`) and the
Postfix policy service (:mod:`congvu.mail.policy`), later by SSO: one implementation,
so every sign-in path counts towards the same limit (spec section 4). An address no
account holds is never an error here: the mail plane reports whatever a client typed.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts import lifecycle
from congvu.accounts.actions import (
    do_record_login,
    ensure_name_free,
    require_manage,
    reserve_name,
)
from congvu.accounts.models import Account, AccountState, Alias, Delegation, Forward, ReservedName
from congvu.accounts.selectors import account_by_address, full_address
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.deployment import deployment_profile
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.mail import checks
from congvu.mail.policy import external_limit_rule
from congvu.profiles import Profile

S = AccountState

#: Who suspends after too many failed sign-ins (NB-7.2a).
AUTH_POLICY = Actor(kind="system", label="system:auth-policy")
#: Who suspends after too many external recipients (NB-7.2b).
SEND_POLICY = Actor(kind="system", label="system:policy")


#: A successful sign-in within this time of the recorded one (with no failures since) is
#: not written again: mail clients authenticate for every connection they open.
LOGIN_RECORD_INTERVAL = dt.timedelta(minutes=5)


def _peek(address: str) -> tuple[str, int, dt.datetime | None, dt.datetime | None] | None:
    """A plain read first, so unknown addresses (a password-guessing run over invented
    names) and repeated sign-ins never open a write transaction."""
    return (Account.objects.filter(address=address.strip().lower())
            .values_list("state", "failed_logins", "last_login", "last_mailbox_check").first())


def _locked(address: str) -> Account | None:
    """The account holding ``address``, locked for this transaction, or None."""
    return (Account.objects.select_for_update(of=("self",))
            .filter(address=address.strip().lower()).first())


def do_record_auth_failure(*, profile: Profile, address: str, now: dt.datetime,
                           remote: str = "", protocol: str = "") -> bool:
    """A wrong password for ``address`` (any path: IMAP, SMTP submission, SSO).

    NB-7.2a: more than ``profile.lifecycle.failed_login_limit`` consecutive wrong
    passwords suspend the account (a limit of 0: not regulated, only counted). The count
    lives on the account (``failed_logins``); a success or a restore resets it. Returns
    True when this failure suspended the account. Unknown or deleted addresses: nothing.
    """
    life = profile.lifecycle
    seen = _peek(address)
    if seen is None or seen[0] == S.DELETED:
        return False
    with transaction.atomic():
        account = _locked(address)
        if account is None or account.state == S.DELETED:
            return False
        count = account.failed_logins + 1
        Account.objects.filter(pk=account.pk).update(failed_logins=count)
        limit = life.failed_login_limit
        if limit <= 0 or count <= limit or account.state != S.ACTIVE:
            return False
        values = {"limit": limit, "count": count, "remote": remote or "?",
                  "protocol": protocol or "?"}
        if remote or protocol:
            reason = _("More than %(limit)d consecutive failed sign-ins (%(count)d); the "
                       "last one from %(remote)s over %(protocol)s.") % values
        else:
            reason = _("More than %(limit)d consecutive failed sign-ins (%(count)d).") % values
        lifecycle.apply_transition(
            Account.objects.filter(pk=account.pk), to=S.SUSPENDED,
            rule=life.failed_login_rule, reason=reason, now=now, actor=AUTH_POLICY,
            action="account.suspend", profile=profile)
    return True


def do_record_auth_success(*, address: str, now: dt.datetime, protocol: str = "",
                           profile: Profile | None = None) -> bool:
    """A successful sign-in for ``address``: resets the NB-7.2a count and records
    ``last_login``/``last_activity_at`` (QN-7.2, NT-6.2a) through ``do_record_login``;
    an IMAP/POP3 sign-in (``protocol``, Dovecot's service name) is also counted as a
    mailbox check (NB-9.2, KH-10: :mod:`congvu.mail.checks`).

    Only an active account signs in: Dovecot reports success for a correct password even
    when the passdb then refuses the login, and that must not count as activity.
    Returns True for an active account's sign-in (written unless one was recorded less
    than ``LOGIN_RECORD_INTERVAL`` earlier with no failure since and it continues the
    last mailbox check), False otherwise.
    """
    seen = _peek(address)
    if seen is None or seen[0] != S.ACTIVE:
        return False
    _state, failures, last, last_check = seen
    login_due = bool(failures) or last is None or not (
        dt.timedelta(0) <= now - last < LOGIN_RECORD_INTERVAL)
    check_profile: Profile | None = None
    if checks.is_mailbox_protocol(protocol):
        check_profile = profile or deployment_profile()
        if not checks.is_new_check(check_profile, last_check, now):
            check_profile = None
    if not login_due and check_profile is None:
        return True
    with transaction.atomic():
        account = _locked(address)
        if account is None or account.state != S.ACTIVE:
            return False
        if login_due:
            do_record_login(account=account, now=now)
        if check_profile is not None:
            checks.record_check(profile=check_profile, account=account, now=now)
    return True


def do_suspend_for_sending(*, profile: Profile, address: str, now: dt.datetime,
                           count: int) -> bool:
    """NB-7.2b: the account tried to send to more than ``profile.mail.external_limit``
    recipients outside the province's domain within ``external_window_minutes`` (each
    external recipient counts as one mail: Reading). ``count`` is the number of external
    recipients in the window including the refused one. Suspends an active account
    (it still receives, NB-7.1); returns True if it did. Unknown addresses: nothing."""
    mail = profile.mail
    rule = external_limit_rule(profile)
    with transaction.atomic():
        account = _locked(address)
        if account is None or account.state != S.ACTIVE:
            return False
        reason = _("Tried to send to %(count)d recipients outside %(domain)s within "
                   "%(window)d minutes (limit %(limit)d).") % {
            "count": count, "domain": mail.domain, "window": mail.external_window_minutes,
            "limit": mail.external_limit}
        lifecycle.apply_transition(
            Account.objects.filter(pk=account.pk), to=S.SUSPENDED, rule=rule, reason=reason,
            now=now, actor=SEND_POLICY, action="account.suspend", profile=profile)
    return True


# --- mailbox settings: forwarding (NB-4.5), delegation (KH-15.1), aliases ---

_ADDRESS_RE = re.compile(r"^[a-z0-9]([a-z0-9._+-]*[a-z0-9])?@([a-z0-9-]+\.)+[a-z]{2,}$")


def forward_allowed(profile: Profile, target: str) -> bool:
    """NB-4.5: automatic forwarding only to government mailboxes (Reading: the profile's
    allow-list of domain patterns, default ``*.gov.vn``)."""
    domain = target.rpartition("@")[2].lower()
    return any(fnmatch.fnmatchcase(domain, pattern.lower())
               for pattern in profile.mail.forward_allow)


def require_holder_or_manager(actor: Actor, account: Account) -> None:
    """The holder of an active account sets their own mailbox's forwarding (issue 6: the
    console's own pages); anyone else must manage the account's agency."""
    if actor.account_id is not None and actor.account_id == account.pk:
        if account.state != S.ACTIVE:
            raise Forbidden(_("Account %(address)s is %(state)s; only an active account "
                              "changes its own settings.") % {
                "address": account.address, "state": account.state})
        return
    require_manage(actor, account.agency)


def do_add_forward(*, actor: Actor, profile: Profile, address: str, target: str,
                   keep_copy: bool, now: dt.datetime) -> Forward:
    """Forward a mailbox to ``target`` (NB-4.5: government domains only); by its holder
    or by whoever manages its agency."""
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
        require_holder_or_manager(actor, account)
        if goal == account.address:
            raise CongvuError(_("A mailbox cannot forward to itself."))
        fwd, _created = Forward.objects.update_or_create(
            account=account, target=goal, defaults={"keep_copy": keep_copy, "created_at": now})
        record(actor=actor, action="mailbox.forward", at=now, target=account.address,
               rule="NB-4.5", data={"to": goal, "keep_copy": keep_copy})
    return fwd


def do_remove_forward(*, actor: Actor, profile: Profile, address: str, target: str,
                      now: dt.datetime) -> None:
    """Stop forwarding a mailbox to ``target``; by its holder or by whoever manages its
    agency. Audited with NB-4.5 like the forwarding it ends."""
    goal = target.strip().lower()
    with transaction.atomic():
        account = account_by_address(profile, address)
        require_holder_or_manager(actor, account)
        deleted, _rows = Forward.objects.filter(account=account, target=goal).delete()
        if not deleted:
            raise NotFound(_("%(address)s does not forward to %(target)s.") % {
                "address": account.address, "target": goal or "—"})
        record(actor=actor, action="mailbox.unforward", at=now, target=account.address,
               rule="NB-4.5", data={"to": goal})


def do_delegate(*, actor: Actor, profile: Profile, address: str, delegate: str,
                now: dt.datetime) -> Delegation:
    """KH-15.1: a clerk may manage (and send as) the agency mailbox on the head's written
    delegation."""
    with transaction.atomic():
        mailbox = account_by_address(profile, address)
        holder = account_by_address(profile, delegate)
        require_manage(actor, mailbox.agency)
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
        require_manage(actor, account.agency)
        ensure_name_free(profile, local)
        made = Alias.objects.create(address=address, local_part=local, domain=domain,
                                    account=account, created_at=now)
        reserve_name(profile, local, ReservedName.Kind.ALIAS, now, account=account)
        record(actor=actor, action="alias.add", at=now, target=address,
               data={"to": account.address})
    return made
