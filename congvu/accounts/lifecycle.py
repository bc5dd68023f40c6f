"""Account states, their transitions, and the time-based rules of each profile.

``run`` applies every time-based rule at ``now``, idempotently, with set-based queries
(100,000 accounts in seconds). The single-account actions in ``actions.py`` use the same
``apply_transition`` so there is one implementation of each state change.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountState, Alias, Mailbox, ReservedName
from congvu.accounts.notices import enqueue_suspension_notices
from congvu.accounts.signals import access_revoked
from congvu.actors import SYSTEM, Actor
from congvu.audit.actions import record_many
from congvu.audit.models import AuditEvent
from congvu.errors import Forbidden
from congvu.profiles import Duration, Profile

S = AccountState

#: The state machine (spec section 3). ``locked -> active`` undoes a leave recorded in error.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.ACTIVE, S.DELETED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.LOCKED, S.DELETED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.LOCKED, S.DELETED}),
    S.LOCKED: frozenset({S.ACTIVE, S.DELETED}),
    S.DELETED: frozenset(),
}

UNUSABLE_PASSWORD = "!deleted"  # noqa: S105 - "!" prefix: Django never matches it
_CHUNK = 900  # stays under SQLite's bound-parameter limit on old versions


def ensure_transition(account: Account, target: str) -> None:
    """Raise a clear error when the state machine forbids ``account.state -> target``."""
    if target not in TRANSITIONS[account.state]:
        allowed = ", ".join(sorted(TRANSITIONS[account.state])) or "—"
        raise Forbidden(
            _("Account %(address)s is %(state)s; it cannot become %(target)s "
              "(allowed from %(state)s: %(allowed)s).")
            % {"address": account.address, "state": account.state, "target": target,
               "allowed": allowed}
        )


def _chunks(rows: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _purge(ids: Sequence[int], now: dt.datetime) -> None:
    """Deletion (NB-7.4): remove the mailbox and aliases, keep every name as a tombstone."""
    ReservedName.objects.filter(account_id__in=ids, tombstoned_at__isnull=True).update(
        tombstoned_at=now)
    alias_names = list(Alias.objects.filter(account_id__in=ids).values_list("domain", "local_part"))
    for domain, local in alias_names:
        ReservedName.objects.filter(domain=domain, local_part=local,
                                    tombstoned_at__isnull=True).update(tombstoned_at=now)
    Alias.objects.filter(account_id__in=ids).delete()
    Mailbox.objects.filter(account_id__in=ids).delete()
    addresses = list(Account.objects.filter(id__in=ids).values_list("address", flat=True))
    transaction.on_commit(lambda: _remove_mail_data(addresses))


def _remove_mail_data(addresses: list[str]) -> None:
    """The stored mail goes with the account (NB-7.4), once the deletion is committed."""
    from congvu.deployment import home
    from congvu.mail.config import MailPaths

    vmail = MailPaths(home()).vmail_dir
    if not vmail.is_dir():
        return
    for address in addresses:
        local, _sep, domain = address.partition("@")
        target = vmail / domain / local
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)


def apply_transition(
    qs: QuerySet[Account],
    *,
    to: str,
    rule: str,
    reason: str,
    now: dt.datetime,
    actor: Actor,
    action: str,
    extra: dict[str, Any] | None = None,
    profile: Profile | None = None,
) -> list[str]:
    """Move every account in ``qs`` to ``to``; audit each one; a suspension queues the
    QN-7.2 notices (naming the profile's operator). Returns the addresses."""
    rows = list(qs.order_by().values_list("id", "address", "state"))
    updates: dict[str, Any] = {
        "state": to, "reason": rule, "reason_text": reason, "state_changed_at": now,
        **(extra or {}),
    }
    if to == S.LOCKED:
        updates["locked_at"] = now
    if to == S.DELETED:
        updates.update(deleted_at=now, password=UNUSABLE_PASSWORD, must_change_password=False,
                       one_time_password_issued_at=None, leave_lock_at=None,
                       leave_delete_at=None)
    if to == S.ACTIVE:
        updates.update(activated_at=now, failed_logins=0)
    for chunk in _chunks(rows):
        ids = [r[0] for r in chunk]
        Account.objects.filter(id__in=ids).update(**updates)
        if to == S.DELETED:
            _purge(ids, now)
        elif to == S.SUSPENDED:
            enqueue_suspension_notices(ids, rule=rule, reason=reason, now=now,
                                       operator=profile.operator.get("agency", "")
                                       if profile else "")
    record_many(
        AuditEvent(at=now, actor=actor.label, action=action, target=address, rule=rule,
                   reason=reason, data={"from": old, "to": to})
        for _id, address, old in rows
    )
    if to in (S.SUSPENDED, S.LOCKED, S.DELETED) and rows:
        # QN-3.3: single sign-out when an account may no longer sign in.
        access_revoked.send(sender=Account, account_ids=[r[0] for r in rows], reason="account",
                            now=now, keep_sid="")
    return [r[1] for r in rows]


@dataclass
class RuleResult:
    rule: str
    action: str
    addresses: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "action": self.action, "count": len(self.addresses),
                "addresses": self.addresses}


def cutoff(span: Duration, now: dt.datetime) -> dt.datetime:
    return span.before(now)


def _quiet_since(cutoff: dt.datetime, *fields: str) -> Q:
    """No event in any of ``fields`` after ``cutoff`` (a missing date counts as none)."""
    q = Q(activated_at__lte=cutoff)
    for name in fields:
        q &= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__lte": cutoff})
    return q


def apply_due_leave(qs: QuerySet[Account], *, now: dt.datetime,
                    actor: Actor) -> list[RuleResult]:
    """Carry out the leave schedules in ``qs`` that are due at ``now`` (NB-7.4, NT-5.2c,
    KH-4.4): lock, then delete once the retention period has passed."""
    steps = (
        ("lock", S.LOCKED, "account.lock",
         qs.filter(leave_lock_at__lte=now, state__in=[S.ACTIVE, S.SUSPENDED]),
         _("Left the agency: sign-in, sending and receiving locked.")),
        ("delete", S.DELETED, "account.delete",
         qs.filter(leave_delete_at__lte=now).exclude(state=S.DELETED),
         _("Retention period after leaving ended: address and data deleted.")),
    )
    results: list[RuleResult] = []
    for name, to, event, due, reason in steps:
        rules = due.order_by().values_list("leave_rule", flat=True).distinct()
        for rule in sorted(rules):
            results.append(RuleResult(rule, name, apply_transition(
                due.filter(leave_rule=rule), to=to, rule=rule, reason=reason, now=now,
                actor=actor, action=event)))
    return results


def run(*, profile: Profile, now: dt.datetime, actor: Actor = SYSTEM) -> list[RuleResult]:
    """Apply every time-based rule of the profile at ``now``. Running it twice changes
    nothing the second time. Order matters: leaving first, then suspensions, then expiry."""
    life = profile.lifecycle
    results: list[RuleResult] = []
    with transaction.atomic():
        # NB-7.4, NT-5.2c, KH-4.4: scheduled leave — lock, then delete after retention.
        results += apply_due_leave(Account.objects.all(), now=now, actor=actor)

        active = Account.objects.filter(state=S.ACTIVE)
        suspensions: list[tuple[str, Duration | None, Q, str]] = []
        if life.default_password_suspend_after:
            since = cutoff(life.default_password_suspend_after, now)
            suspensions.append((
                life.default_password_rule, life.default_password_suspend_after,
                Q(one_time_password_issued_at__lte=since),
                _("The one-time password was not changed within %(span)s of issue."),
            ))
        if life.inactivity_login_after:
            since = cutoff(life.inactivity_login_after, now)
            suspensions.append((
                life.inactivity_login_rule, life.inactivity_login_after,
                _quiet_since(since, "last_login"),
                _("No sign-in for %(span)s."),
            ))
        if life.inactivity_activity_after:
            since = cutoff(life.inactivity_activity_after, now)
            suspensions.append((
                life.inactivity_activity_rule, life.inactivity_activity_after,
                _quiet_since(since, "last_login", "last_activity_at"),
                _("No transaction (sign-in, sending, receiving, processing) for %(span)s."),
            ))
        for rule, span, condition, text in suspensions:
            res = RuleResult(rule, "suspend")
            res.addresses = apply_transition(
                active.filter(condition), to=S.SUSPENDED, rule=rule,
                reason=text % {"span": span}, now=now, actor=actor, action="account.suspend",
                profile=profile)
            results.append(res)

        # NB-8.2a: an expired password must be changed at the next sign-in.
        policy = profile.password
        if policy.max_age:
            since = cutoff(policy.max_age, now)
            expired = active.filter(must_change_password=False, password_changed_at__lte=since)
            res = RuleResult(policy.max_age_rule, "expire-password")
            rows = list(expired.order_by().values_list("id", "address"))
            for chunk in _chunks(rows):
                Account.objects.filter(id__in=[r[0] for r in chunk]).update(
                    must_change_password=True, must_change_reason=policy.max_age_rule)
            reason = _("The password is older than %(span)s.") % {"span": policy.max_age}
            record_many(
                AuditEvent(at=now, actor=actor.label, action="account.password_expired",
                           target=address, rule=policy.max_age_rule, reason=reason, data={})
                for _id, address in rows
            )
            res.addresses = [r[1] for r in rows]
            results.append(res)
    return results
