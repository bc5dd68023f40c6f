"""The SLA clock: a request's deadline from the profile's ``[sla]`` table (pure).

Each kind of request maps to one SLA key of the profile; a profile without that key sets
no deadline (KH, GL). Working days and working minutes are counted by
:mod:`congvu.workdays` (holidays, Tết, swap days, office hours).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from congvu.profiles import Duration, Profile
from congvu.requests.models import RequestKind
from congvu.workdays import WorkCalendar, calendar_for, deadline

#: Which profile SLA clocks each kind of request. A change (Mẫu 02) has none: KH-14.4's
#: 10 days bind the agency (to file), not the operator.
SLA_KEYS: dict[str, str] = {
    RequestKind.NEW_MAILBOXES: "new_mailbox",
    RequestKind.RESTORE: "restore",
    RequestKind.PASSWORD_REISSUE: "password_reset",
    RequestKind.DELETION: "termination",
}

@dataclass(frozen=True)
class Deadline:
    """When the operator must have answered, the span and the rule that set it."""

    at: dt.datetime
    span: Duration
    rule: str


def sla_rule(profile: Profile, key: str) -> str:
    """The rule ID of the profile's SLA ``key`` (``NB-6.2b``, from its ``[sla_rules]``), or
    the profile's prefix and the key for a deployment's own SLA without a rule."""
    return profile.sla_rules.get(key) or f"{profile.rule_prefix}:sla.{key}"


def deadline_for(profile: Profile, kind: str, filed_at: dt.datetime,
                 calendar: WorkCalendar | None = None) -> Deadline | None:
    """The deadline of a request of ``kind`` filed at ``filed_at`` (NB-6.2b, QN-5.2,
    QN-6.2, QN-7.1, NB-7.3b, NT-6.3b), or None when the profile sets no SLA for it.

    ``N working days``: the end of office hours on the N-th working day after the day of
    filing; ``N working minutes``: counted in office hours only (NT-6.3b: across the
    lunch break and the night)."""
    key = SLA_KEYS.get(kind)
    span = profile.sla.get(key) if key else None
    if key is None or span is None:
        return None
    cal = calendar or calendar_for(profile)
    return Deadline(at=deadline(cal, filed_at, span), span=span, rule=sla_rule(profile, key))
