"""Processing statistics (GL-13, GL-15; GL-14: the clerk reports the processing status):
per department and per person, for the incoming documents' assignments made in a
period: received, processed on time, processed late, overdue (still open past the
deadline) and pending (open, within the deadline). Assignments "for information" need
no processing and are not counted. Every count is one assignment, so the columns add up
to "received".

Who reads them: the agency's leaders and clerks (all departments and people), a head of
department (their own department and its people).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.eoffice.access import powers_for
from congvu.eoffice.models import (
    LEADERS,
    Assignment,
    AssignmentStatus,
    OfficeRole,
    OfficeRoleGrant,
)
from congvu.eoffice.rules import AssignmentKind
from congvu.errors import CongvuError, Forbidden

R = OfficeRole
RULE = "GL-13, GL-15"
#: A longer period is refused (the figures are computed from every assignment in it).
MAX_DAYS = 366


@dataclass
class Counts:
    received: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    def add(self, outcome: str) -> None:
        self.received += 1
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.received, self.on_time, self.late, self.overdue, self.pending)


@dataclass(frozen=True)
class Row:
    key: int
    label: str
    #: A person's department(s), for the people table.
    unit: str
    counts: Counts


@dataclass
class Statistics:
    agency: Agency
    start: dt.date
    end: dt.date
    #: The departments the reader may see (``None``: the whole agency).
    departments_scope: frozenset[int] | None
    departments: list[Row] = field(default_factory=list)
    people: list[Row] = field(default_factory=list)
    #: The assignments made by the leaders (passed-on ones are counted at the top only).
    total: Counts = field(default_factory=Counts)


def outcome(status: str, deadline: dt.date | None, done_on: dt.date | None,
            today: dt.date) -> str:
    """One assignment's column: ``on_time``, ``late``, ``overdue`` or ``pending``."""
    if status == AssignmentStatus.DONE:
        return "late" if deadline and done_on and done_on > deadline else "on_time"
    return "overdue" if deadline and deadline < today else "pending"


def _scope(actor: Actor, now: dt.datetime, agency_id: int,
           department_id: int | None) -> frozenset[int] | None:
    powers = powers_for(actor, now)
    if powers.seat([R.CLERK, *LEADERS], agency_id=agency_id) is not None:
        return frozenset({department_id}) if department_id else None
    heads = {s.department_id for s in powers.matching([R.DEPARTMENT_HEAD], agency_id=agency_id)
             if s.department_id}
    if not heads:
        raise Forbidden(_("Only the agency's leaders and clerks, and heads of department for "
                          "their department, read the processing statistics."))
    if department_id is not None:
        if department_id not in heads:
            raise Forbidden(_("You may read the statistics of your own department only."))
        return frozenset({department_id})
    return frozenset(heads)


def processing_statistics(actor: Actor, now: dt.datetime, *, agency_id: int,
                          start: dt.date, end: dt.date, department_id: int | None = None,
                          tz: str = "Asia/Ho_Chi_Minh") -> Statistics:
    """The figures of assignments made from ``start`` to ``end`` (local days, both
    included), as they stand at ``now``."""
    if end < start:
        raise CongvuError(_("The period ends before it starts."))
    if (end - start).days >= MAX_DAYS:
        raise CongvuError(_("The period is longer than a year; choose a shorter one."))
    scope = _scope(actor, now, agency_id, department_id)
    agency = Agency.objects.get(pk=agency_id)
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    found = Assignment.objects.filter(
        document__agency_id=agency_id,
        assigned_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=zone),
        assigned_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    ).exclude(kind=AssignmentKind.INFORM)
    members: dict[int, set[int]] = defaultdict(set)
    for account_id, dept in OfficeRoleGrant.objects.filter(
            agency_id=agency_id, department__isnull=False).values_list("account_id",
                                                                      "department_id"):
        members[account_id].add(dept)
    if scope is not None:
        found = found.filter(Q(to_department_id__in=scope)
                             | Q(to_account_id__in=[a for a, d in members.items() if d & scope])
                             | Q(parent__to_department_id__in=scope))
    stats = Statistics(agency, start, end, scope)
    by_dept: dict[int, Counts] = defaultdict(Counts)
    by_person: dict[int, Counts] = defaultdict(Counts)
    names: dict[int, str] = {}
    for a in found.values("to_department_id", "to_department__name", "to_account_id",
                          "to_account__person__full_name", "to_account__address", "status",
                          "deadline", "done_at", "parent_id"):
        done_on = a["done_at"].astimezone(zone).date() if a["done_at"] else None
        result = outcome(a["status"], a["deadline"], done_on, today)
        if a["to_department_id"] is not None:
            by_dept[a["to_department_id"]].add(result)
            names[-a["to_department_id"]] = a["to_department__name"]
        else:
            by_person[a["to_account_id"]].add(result)
            names[a["to_account_id"]] = (a["to_account__person__full_name"]
                                         or a["to_account__address"])
        if a["parent_id"] is None:  # passed on: counted once in the total, at the top
            stats.total.add(result)
    units = dict(Agency.objects.filter(parent_id=agency_id).values_list("pk", "name"))
    stats.departments = sorted(
        (Row(k, names[-k], "", c) for k, c in by_dept.items()), key=lambda r: r.label)
    stats.people = sorted(
        (Row(k, names[k], ", ".join(sorted(units.get(d, "") for d in members.get(k, ()))), c)
         for k, c in by_person.items()), key=lambda r: (r.unit, r.label))
    return stats


def agencies_for(actor: Actor, now: dt.datetime) -> list[Agency]:
    """The agencies whose statistics the actor may read (any seat that allows it)."""
    powers = powers_for(actor, now)
    ids = powers.agencies(R.CLERK, *LEADERS, R.DEPARTMENT_HEAD)
    return list(Agency.objects.filter(pk__in=ids).order_by("name"))
