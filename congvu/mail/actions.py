"""Writes the mail plane asks for: sign-in results (NB-7.2a) and sending-limit
suspensions (NB-7.2b).

Called by the Dovecot auth-policy endpoint (:mod:`congvu.mail.authpolicy`) and the
Postfix policy service (:mod:`congvu.mail.policy`), later by SSO: one implementation,
so every sign-in path counts towards the same limit (spec section 4). An address no
account holds is never an error here: the mail plane reports whatever a client typed.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts import lifecycle
from congvu.accounts.actions import do_record_login
from congvu.accounts.models import Account, AccountState
from congvu.actors import Actor
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


def _peek(address: str) -> tuple[str, int, dt.datetime | None] | None:
    """A plain read first, so unknown addresses (a password-guessing run over invented
    names) and repeated sign-ins never open a write transaction."""
    return (Account.objects.filter(address=address.strip().lower())
            .values_list("state", "failed_logins", "last_login").first())


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


def do_record_auth_success(*, address: str, now: dt.datetime) -> bool:
    """A successful sign-in for ``address``: resets the NB-7.2a count and records
    ``last_login``/``last_activity_at`` (QN-7.2, NT-6.2a) through ``do_record_login``.

    Only an active account signs in: Dovecot reports success for a correct password even
    when the passdb then refuses the login, and that must not count as activity.
    Returns True for an active account's sign-in (written unless one was recorded less
    than ``LOGIN_RECORD_INTERVAL`` earlier with no failure since), False otherwise.
    """
    seen = _peek(address)
    if seen is None or seen[0] != S.ACTIVE:
        return False
    _state, failures, last = seen
    if not failures and last is not None and (
            dt.timedelta(0) <= now - last < LOGIN_RECORD_INTERVAL):
        return True
    with transaction.atomic():
        account = _locked(address)
        if account is None or account.state != S.ACTIVE:
            return False
        do_record_login(account=account, now=now)
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
