"""The figures of the reports, read with the same per-agency authorisation as every other
selector: operators see the province; an agency's IT contact sees their agency's subtree
only (naming another agency is Forbidden); nobody else sees reports.

Each function returns plain counts keyed by the *unit* an account or request belongs to
(a person's department when set, else their agency); :mod:`congvu.reports.build` rolls
them up the agency tree and turns them into tables.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountKind, AccountState
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_by_ref, agency_subtree_ids
from congvu.errors import Forbidden
from congvu.profiles import Profile
from congvu.requests.models import OPEN_STATUSES, RequestStatus, ServiceRequest
from congvu.text import fold

#: Who may read reports (the console's navigation shows the link to the same people).
REPORT_ROLES = ("operator", "agency-it")

#: Requests the operator answered: their closing time is compared with the deadline.
ANSWERED = (RequestStatus.DONE, RequestStatus.PARTLY_DONE, RequestStatus.REJECTED)


@dataclass(frozen=True)
class AgencyRow:
    id: int
    name: str
    account_name: str
    parent_id: int | None
    depth: int


@dataclass(frozen=True)
class Scope:
    """What a report covers: the whole province (``agency_ids`` None) or agency subtrees
    (``roots`` and every unit and department below them)."""

    agency_ids: frozenset[int] | None
    roots: tuple[Agency, ...]
    label: str

    @property
    def province(self) -> bool:
        return self.agency_ids is None

    def accounts(self) -> QuerySet[Account]:
        """The accounts in scope: an agency's staff by their agency or department."""
        qs = Account.objects.all()
        if self.agency_ids is not None:
            ids = list(self.agency_ids)
            qs = qs.filter(Q(agency_id__in=ids) | Q(person__department_id__in=ids))
        return qs

    def requests(self) -> QuerySet[ServiceRequest]:
        qs = ServiceRequest.objects.all()
        if self.agency_ids is not None:
            qs = qs.filter(agency_id__in=list(self.agency_ids))
        return qs


def require_reports(actor: Actor) -> None:
    """Only operators and agencies' IT contacts read reports (clerks follow requests)."""
    if actor.kind not in REPORT_ROLES:
        raise Forbidden(_("%(actor)s may not see reports: they are for the operators and "
                          "for each agency's IT contact.") % {"actor": actor.label})


def report_scope(actor: Actor, profile: Profile, agency_ref: str | None = None) -> Scope:
    """The scope ``actor`` asks for: the province or one agency for an operator; an IT
    contact's own agencies, or one agency inside them (another agency is Forbidden)."""
    require_reports(actor)
    province = _("%(province)s province") % {"province": profile.province}
    if agency_ref:
        agency = agency_by_ref(agency_ref)
        # The management scope, not requests only: a report shows the accounts.
        if not actor.can_manage_agency(agency.pk, [a.pk for a in agency.ancestors()]):
            raise Forbidden(_("%(actor)s may not see the reports of %(agency)s: only those "
                              "of their own agency and its units.") % {
                "actor": actor.label, "agency": agency.account_name})
        return Scope(frozenset(agency_subtree_ids([agency.pk])), (agency,), agency.name)
    if actor.is_operator:
        return Scope(None, tuple(Agency.objects.filter(parent=None).order_by("name")), province)
    ids = frozenset(agency_subtree_ids(actor.agency_ids))
    roots = tuple(a for a in Agency.objects.filter(pk__in=actor.agency_ids).order_by("name")
                  if a.parent_id not in ids)
    return Scope(ids, roots, ", ".join(a.name for a in roots))


def visible_agencies(actor: Actor, profile: Profile) -> list[AgencyRow]:
    """The agencies ``actor`` may narrow a report to, in tree order."""
    return agency_tree(report_scope(actor, profile))


def agency_tree(scope: Scope) -> list[AgencyRow]:
    """Every agency in scope, parents before their units, siblings by name."""
    qs = Agency.objects.all()
    if scope.agency_ids is not None:
        qs = qs.filter(pk__in=list(scope.agency_ids))
    items = list(qs.values_list("id", "name", "account_name", "parent_id"))
    present = {i[0] for i in items}
    children: dict[int | None, list[tuple[int, str, str, int | None]]] = defaultdict(list)
    for item in items:
        parent = item[3] if item[3] in present else None  # a scope root
        children[parent].append(item)
    out: list[AgencyRow] = []
    stack = [(item, 0) for item in sorted(children[None], key=_order, reverse=True)]
    while stack:
        (pk, name, account_name, parent_id), depth = stack.pop()
        out.append(AgencyRow(pk, name, account_name, parent_id, depth))
        stack.extend((c, depth + 1) for c in sorted(children[pk], key=_order, reverse=True))
    return out


def _order(item: tuple[int, str, str, int | None]) -> tuple[str, str]:
    """Vietnamese alphabetical order, near enough: "Sở Tài chính" before "Sở Thông tin"."""
    return (fold(item[1]), item[2])


# ------------------------------------------------------------------ accounts

#: An account's unit: the department on its person, else its agency.
UNIT = Coalesce(F("person__department_id"), F("agency_id"))


def _unit(by_unit: bool) -> Coalesce | F:
    """Group by the unit (department or agency), or by the account's agency only: enough
    when the figures are rolled up to the top-level agencies, and cheaper (no join)."""
    return UNIT if by_unit else F("agency_id")


def state_counts(scope: Scope) -> Counter[tuple[str, str]]:
    """(kind, state) → accounts, now."""
    rows = scope.accounts().values("kind", "state").annotate(n=Count("id")).order_by()
    return Counter({(r["kind"], r["state"]): r["n"] for r in rows})


def unit_state_counts(scope: Scope) -> dict[int | None, Counter[str]]:
    """unit → state → accounts, now (operators' own accounts have no unit)."""
    out: dict[int | None, Counter[str]] = defaultdict(Counter)
    rows = (scope.accounts().annotate(unit=UNIT).values("unit", "state")
            .annotate(n=Count("id")).order_by())
    for r in rows:
        out[r["unit"]][r["state"]] += r["n"]
    return out


#: The movements counted in a period, in the order they are shown.
MOVEMENTS = ("created", "suspended", "restored", "locked", "deleted")


def unit_movements(scope: Scope, start: dt.datetime, end: dt.datetime, *,
                   by_unit: bool = True) -> dict[int | None, Counter[str]]:
    """unit → movement → accounts, for ``start`` <= moment < ``end``: created, locked and
    deleted from the account's own dates; suspensions and restores from the audit log (an
    account may be suspended more than once)."""
    out: dict[int | None, Counter[str]] = defaultdict(Counter)
    accounts = scope.accounts().annotate(unit=_unit(by_unit))
    for movement, column in (("created", "created_at"), ("locked", "locked_at"),
                             ("deleted", "deleted_at")):
        rows = (accounts.filter(**{f"{column}__gte": start, f"{column}__lt": end})
                .values("unit").annotate(n=Count("id")).order_by())
        for r in rows:
            out[r["unit"]][movement] += r["n"]
    events = _events(scope, ("account.suspend", "account.restore"), start, end)
    units = dict(accounts.filter(address__in=events.values("target"))
                 .values_list("address", "unit"))
    for target, action, n in (events.values_list("target", "action")
                              .annotate(n=Count("id")).order_by()):
        if target in units or scope.province:
            key = "suspended" if action == "account.suspend" else "restored"
            out[units.get(target)][key] += n
    return out


def suspensions_by_rule(scope: Scope, start: dt.datetime, end: dt.datetime) -> Counter[str]:
    """rule → suspensions in the period (NB-7.2a failed sign-ins, QN-7.2 inactivity...)."""
    rows = (_events(scope, ("account.suspend",), start, end).values("rule")
            .annotate(n=Count("id")).order_by())
    return Counter({r["rule"] or "": r["n"] for r in rows})


def _events(scope: Scope, actions: tuple[str, ...], start: dt.datetime,
            end: dt.datetime) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.filter(action__in=actions, at__gte=start, at__lt=end)
    if not scope.province:
        qs = qs.filter(target__in=scope.accounts().values("address"))
    return qs


# ------------------------------------------------------------------ requests


def request_counts(scope: Scope, start: dt.datetime,
                   end: dt.datetime) -> Counter[tuple[str, str]]:
    """(kind, status) → requests filed in the period."""
    rows = (scope.requests().filter(filed_at__gte=start, filed_at__lt=end)
            .values("kind", "status").annotate(n=Count("id")).order_by())
    return Counter({(r["kind"], r["status"]): r["n"] for r in rows})


#: SLA outcomes, in the order they are shown.
SLA_OUTCOMES = ("on_time", "late", "overdue", "pending")


def sla_counts(scope: Scope, start: dt.datetime, end: dt.datetime,
               now: dt.datetime) -> dict[tuple[str, int], Counter[str]]:
    """(kind, agency id) → outcome → requests whose deadline falls in the period:
    answered on time, answered late, still open past the deadline (overdue), still open
    and not yet due (pending). Cancelled requests have no outcome (the filer withdrew)."""
    answered = Q(status__in=ANSWERED)
    still_open = Q(status__in=OPEN_STATUSES)
    rows = (scope.requests().filter(deadline_at__gte=start, deadline_at__lt=end)
            .exclude(status=RequestStatus.CANCELLED).values("kind", "agency_id")
            .annotate(on_time=Count("id", filter=answered & Q(closed_at__lte=F("deadline_at"))),
                      late=Count("id", filter=answered & Q(closed_at__gt=F("deadline_at"))),
                      overdue=Count("id", filter=still_open & Q(deadline_at__lt=now)),
                      pending=Count("id", filter=still_open & Q(deadline_at__gte=now)))
            .order_by())
    return {(r["kind"], r["agency_id"]): Counter({k: r[k] for k in SLA_OUTCOMES})
            for r in rows}


# ------------------------------------------------------------------ usage


def _activity_buckets(now: dt.datetime, cutoffs: tuple[int, ...]) -> dict[str, Q]:
    """``within:N`` days for each cutoff (since the previous one), ``older``, ``never``."""
    buckets: dict[str, Q] = {"never": Q(last_login__isnull=True)}
    lower: dt.datetime | None = None
    for days in sorted(cutoffs):
        since = now - dt.timedelta(days=days)
        q = Q(last_login__gte=since)
        buckets[f"within_{days}"] = q if lower is None else q & Q(last_login__lt=lower)
        lower = since
    buckets["older"] = Q(last_login__lt=lower)
    return buckets


def _active_people(scope: Scope) -> QuerySet[Account]:
    return scope.accounts().filter(state=AccountState.ACTIVE).exclude(kind=AccountKind.OPERATOR)


def activity(scope: Scope, now: dt.datetime, cutoffs: tuple[int, ...]) -> Counter[str]:
    """Active accounts by their last sign-in (any path: SSO, webmail, IMAP, SMTP):
    ``within_N`` days for each cutoff, ``older`` and ``never``."""
    buckets = _activity_buckets(now, cutoffs)
    row = _active_people(scope).aggregate(**{k: Count("id", filter=q)
                                             for k, q in buckets.items()})
    return Counter({k: row[k] or 0 for k in buckets})


def unit_activity(scope: Scope, now: dt.datetime, cutoffs: tuple[int, ...], *,
                  by_unit: bool = True) -> dict[int | None, Counter[str]]:
    """:func:`activity` per unit (or per agency)."""
    buckets = _activity_buckets(now, cutoffs)
    out: dict[int | None, Counter[str]] = defaultdict(Counter)
    rows = (_active_people(scope).annotate(unit=_unit(by_unit)).values("unit")
            .annotate(**{k: Count("id", filter=q) for k, q in buckets.items()}).order_by())
    for r in rows:
        for key in buckets:
            out[r["unit"]][key] += r[key]
    return out


def signins_by_month(scope: Scope, start: dt.datetime, end: dt.datetime,
                     tz: str) -> list[tuple[dt.date, int, int]]:
    """(first day of the month, SSO sign-ins, distinct accounts) in the period. Mail
    clients' sign-ins update the last sign-in date but are not logged one by one."""
    rows = (_events(scope, ("sso.signin",), start, end)
            .annotate(month=TruncMonth("at", tzinfo=ZoneInfo(tz))).values("month")
            .annotate(n=Count("id"), people=Count("target", distinct=True)).order_by("month"))
    return [(_as_date(r["month"]), r["n"], r["people"]) for r in rows]


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _kept_mailboxes(scope: Scope) -> QuerySet[Account]:
    return scope.accounts().exclude(state=AccountState.DELETED).filter(mailbox__isnull=False)


def unit_quotas(scope: Scope, *, by_unit: bool = True) -> dict[int | None, Counter[str]]:
    """unit → ``mailboxes`` and ``quota`` (bytes) of the mailboxes still kept."""
    rows = (_kept_mailboxes(scope).annotate(unit=_unit(by_unit)).values("unit")
            .annotate(n=Count("id"), quota=Sum("mailbox__quota_bytes")).order_by())
    return {r["unit"]: Counter(mailboxes=r["n"], quota=r["quota"] or 0) for r in rows}


def unit_mailboxes(scope: Scope, *,
                   by_unit: bool = True) -> dict[int | None, list[tuple[str, int]]]:
    """unit → (address, quota in bytes) of the mailboxes still kept (not deleted)."""
    out: dict[int | None, list[tuple[str, int]]] = defaultdict(list)
    rows = (_kept_mailboxes(scope).annotate(unit=_unit(by_unit))
            .values_list("unit", "address", "mailbox__quota_bytes"))
    for unit, address, quota in rows:
        out[unit].append((address, quota))
    return out
