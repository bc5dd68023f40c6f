"""Reading the audit log.

:func:`events` is the CLI's plain reader. :func:`search` and :func:`page_of` serve the
console (issue 6): operators only. Reading: an agency's IT contact does not see the
log, not even about their own agency's accounts: events carry other agencies' data
(a transfer names both agencies, a request its filer, an operator's label), and targets
are free text (addresses, ``request:12``, ``job:3``) that cannot be scoped to an agency
without leaking; an account's own history belongs on that account's page.

Every filter is an equality or a range on an indexed column (``(column, at, id)``
indexes, migration 0003), and pages go by keyset (the last event shown), never by
OFFSET or COUNT, so a page of a log of millions of events costs one index range scan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from congvu.actors import Actor
from congvu.audit.models import AuditEvent


def events(
    *, target: str = "", rule: str = "", action: str = "", limit: int | None = None
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if target:
        qs = qs.filter(target__iexact=target)
    if rule:
        qs = qs.filter(rule=rule)
    if action:
        qs = qs.filter(action=action)
    if limit:
        # The newest N, still listed oldest first.
        ids = list(qs.order_by("-id").values_list("id", flat=True)[:limit])
        qs = AuditEvent.objects.filter(id__in=ids)
    return qs.order_by("id")


#: The kinds an account's label carries in the log (``operator:quantri@…``).
ACTOR_KINDS = ("operator", "agency-it", "clerk", "self")
_RULE_PREFIX = re.compile(r"^([a-z]{2})-")


@dataclass(frozen=True)
class EventFilter:
    """What the console's filter form asks for; empty means any. ``since`` is inclusive,
    ``until`` exclusive (the day after the last day asked for, in the profile's zone)."""

    actor: str = ""
    action: str = ""
    target: str = ""
    rule: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def actor_labels(text: str, domain: str) -> list[str]:
    """``quantri`` or ``quantri@domain`` → every label that account acts under; a full
    label (``cli:root``, ``system:lifecycle``) as written."""
    value = text.strip()
    if not value:
        return []
    if ":" in value:
        return [value]
    address = value.lower() if "@" in value else f"{value.lower()}@{domain}"
    return [value, *(f"{kind}:{address}" for kind in ACTOR_KINDS)]


def target_value(text: str, domain: str) -> str:
    """An address (``namnv`` → ``namnv@domain``), or a target such as ``import:3`` as is."""
    value = text.strip()
    if not value or ":" in value:
        return value
    return value.lower() if "@" in value else f"{value.lower()}@{domain}"


def rule_value(text: str) -> str:
    """``nb-7.2đ`` → ``NB-7.2đ``: the province prefix is upper case, the point letter kept."""
    value = text.strip()
    return _RULE_PREFIX.sub(lambda m: m.group(1).upper() + "-", value)


@dataclass(frozen=True)
class EventSearch:
    """Matching events, newest first. ``actions`` is set for an action family
    (``account.``): each of its actions is then read through its own index range and the
    pages merged, since one range over several actions would have to sort them all."""

    base: QuerySet[AuditEvent]
    actions: tuple[str, ...] | None = None

    def queryset(self) -> QuerySet[AuditEvent]:
        """Every matching event in one query, newest first (the CSV export)."""
        if self.actions is None:
            return self.base
        return self.base.filter(action__in=self.actions)

    def parts(self) -> list[QuerySet[AuditEvent]]:
        if self.actions is None:
            return [self.base]
        return [self.base.filter(action=a) for a in self.actions]


def family_actions(stem: str) -> tuple[str, ...]:
    """The actions recorded under ``stem`` (``account.``): a loose index scan, one seek
    per distinct action, instead of reading every event of the family."""
    upper = stem[:-1] + chr(ord(stem[-1]) + 1) if stem else "\uffff"
    found: list[str] = []
    last = stem
    while True:
        qs = AuditEvent.objects.filter(action__lt=upper)
        qs = qs.filter(action__gt=last) if found else qs.filter(action__gte=last)
        nxt = qs.order_by("action").values_list("action", flat=True).first()
        if nxt is None:
            return tuple(found)
        found.append(nxt)
        last = nxt


def search(actor: Actor, wanted: EventFilter, domain: str) -> EventSearch:
    """The events matching ``wanted``, newest first (by the time they happened, then by
    the order they were recorded). Operators only."""
    actor.require_operator()
    qs = AuditEvent.objects.all()
    labels = actor_labels(wanted.actor, domain)
    if labels:
        qs = qs.filter(actor__in=labels)
    target = target_value(wanted.target, domain)
    if target:
        qs = qs.filter(target=target)
    rule = rule_value(wanted.rule)
    if rule:
        qs = qs.filter(rule=rule)
    if wanted.since is not None:
        qs = qs.filter(at__gte=wanted.since)
    if wanted.until is not None:
        qs = qs.filter(at__lt=wanted.until)
    qs = qs.order_by("-at", "-id")
    action = wanted.action.strip()
    if action.endswith((".", "*")):
        return EventSearch(qs, family_actions(action.rstrip("*")))
    if action:
        qs = qs.filter(action=action)
    return EventSearch(qs)


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    #: Cursors: the id to pass as ``before`` (older page) / ``after`` (newer page).
    older: int | None
    newer: int | None


def _anchor(event_id: int | None) -> AuditEvent | None:
    if event_id is None:
        return None
    return AuditEvent.objects.filter(pk=event_id).only("id", "at").first()


def _newest(parts: list[QuerySet[AuditEvent]], limit: int) -> list[AuditEvent]:
    rows = [e for qs in parts for e in qs[:limit]]
    return sorted(rows, key=lambda e: (e.at, e.pk), reverse=True)[:limit]


def page_of(found: EventSearch, *, before: int | None = None, after: int | None = None,
            size: int = 50) -> EventPage:
    """One page (newest first): the newest events, or the ``size`` events older than
    event ``before``, or newer than event ``after``."""
    anchor = _anchor(before) or _anchor(after)
    parts = found.parts()
    if anchor is not None and before is not None and anchor.pk == before:
        older_q = Q(at__lt=anchor.at) | Q(at=anchor.at, id__lt=anchor.pk)
        rows = _newest([qs.filter(older_q) for qs in parts], size + 1)
        has_older, has_newer = len(rows) > size, True
        rows = rows[:size]
    elif anchor is not None:
        newer_q = Q(at__gt=anchor.at) | Q(at=anchor.at, id__gt=anchor.pk)
        oldest = [e for qs in parts for e in qs.filter(newer_q).order_by("at", "id")[: size + 1]]
        oldest = sorted(oldest, key=lambda e: (e.at, e.pk))[: size + 1]
        has_newer, has_older = len(oldest) > size, True
        rows = list(reversed(oldest[:size]))
    else:
        rows = _newest(parts, size + 1)
        has_older, has_newer = len(rows) > size, False
        rows = rows[:size]
    if not rows:
        return EventPage([], None, None)
    return EventPage(rows, rows[-1].pk if has_older else None,
                     rows[0].pk if has_newer else None)
