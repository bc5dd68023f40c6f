"""Reads behind the incoming-document pages (GL-9): the worklists of each seat, the
assignment tree of a document, who may do what on it (a courtesy for the pages: every
action checks again), its history, and the choices of the distribution forms.

Every document read goes through :mod:`congvu.eoffice.selectors` (``incoming_for``,
``incoming_detail``, ``assignments_for``, ``intake_for``), so the visibility rules of
README "Authorisation" hold here too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_subtree_ids
from congvu.eoffice import selectors
from congvu.eoffice.access import Powers, Seat, powers_for
from congvu.eoffice.models import (
    LEADERS,
    Assignment,
    AssignmentStatus,
    IncomingDocument,
    IncomingStatus,
    OfficeRole,
    OfficeRoleGrant,
    WorkFile,
    WorkFileItem,
)
from congvu.eoffice.rules import AssignmentKind, is_classified
from congvu.errors import Forbidden, NotFound

R = OfficeRole


@dataclass(frozen=True)
class Desk:
    """What the person's seats put on their incoming-documents page."""

    clerk_agencies: tuple[int, ...]
    leader_agencies: tuple[int, ...]
    #: Agencies where the person holds an own seat (work files are opened there).
    own_agencies: tuple[int, ...]
    #: Whether the person holds any seat (own or delegated) at all.
    seated: bool = True

    @property
    def is_clerk(self) -> bool:
        return bool(self.clerk_agencies)

    @property
    def is_leader(self) -> bool:
        return bool(self.leader_agencies)


def desk_for(actor: Actor, now: dt.datetime) -> Desk:
    powers = powers_for(actor, now)
    return Desk(clerk_agencies=tuple(sorted(powers.agencies(R.CLERK))),
                leader_agencies=tuple(sorted(powers.agencies(*LEADERS))),
                own_agencies=tuple(sorted(powers.agencies(own=True))),
                seated=bool(powers.seats))


def seated_desk(actor: Actor, now: dt.datetime) -> Desk:
    """:func:`desk_for`, refused to someone who holds no eOffice seat at all."""
    from django.utils.translation import gettext as _

    from congvu.errors import Forbidden

    desk = desk_for(actor, now)
    if not desk.seated:
        raise Forbidden(_("These pages are for people with an eOffice role (ask your "
                          "agency's IT contact)."))
    return desk


def is_overdue(deadline: dt.date | None, today: dt.date, done: bool) -> bool:
    return deadline is not None and not done and deadline < today


def to_distribute(actor: Actor, now: dt.datetime) -> QuerySet[IncomingDocument]:
    """Registered documents waiting for a leader's distribution (GL-9.3), newest first,
    as far as the leader may read them (a deputy or a delegate: unclassified only)."""
    powers = powers_for(actor, now)
    return (selectors.incoming_for(actor, now, status=IncomingStatus.REGISTERED)
            .filter(agency_id__in=powers.agencies(*LEADERS)))


def registered_in(actor: Actor, now: dt.datetime, agency_ids: tuple[int, ...]
                  ) -> QuerySet[IncomingDocument]:
    """The agencies' registered documents a clerk reads, newest first."""
    return (selectors.incoming_for(actor, now).filter(agency_id__in=agency_ids)
            .exclude(status=IncomingStatus.RECEIVED))


def my_assignments(actor: Actor, now: dt.datetime, today: dt.date, *,
                   open_only: bool = True) -> list[Assignment]:
    """``assignments_for`` with the overdue ones first, then by deadline (none last)."""
    found = list(selectors.assignments_for(actor, now, open_only=open_only)
                 .select_related("document", "to_department", "to_account__person"))
    return sorted(found, key=lambda a: (
        not is_overdue(a.deadline, today, a.status == AssignmentStatus.DONE),
        a.deadline is None, a.deadline or dt.date.max, a.pk))


# --- one document ------------------------------------------------------------------------


def person_name(account: Account | None) -> str:
    if account is None:
        return "—"
    person = getattr(account, "person", None)
    return f"{person.full_name} ({account.address})" if person else account.address


@dataclass
class Node:
    """One assignment in the document's tree, with the ones passed on from it."""

    assignment: Assignment
    to_name: str
    overdue: bool
    children: list[Node] = field(default_factory=list)
    #: What the viewing person may do on it (the actions check again).
    may_act: bool = False
    may_pass_on: bool = False
    acting_for: str = ""


def _handler_seat(powers: Powers, a: Assignment, doc: IncomingDocument) -> Seat | None:
    """The same test as the actions' handler seat (the person named, or a head of the
    department named; a delegated seat never on a classified document)."""
    if a.to_account_id:
        seat = powers.seat(R.values, agency_id=doc.agency_id, holder_id=a.to_account_id)
    else:
        seat = powers.seat([R.DEPARTMENT_HEAD], agency_id=doc.agency_id,
                           department_id=a.to_department_id)
    if seat is None or (seat.delegated and is_classified(doc.confidentiality)):
        return None
    return seat


def assignment_tree(actor: Actor, now: dt.datetime, doc: IncomingDocument,
                    today: dt.date) -> list[Node]:
    """The document's distribution as a tree (top-level assignments, then what each
    department passed on), with what the viewer may do on each node."""
    powers = powers_for(actor, now)
    rows = list(doc.assignments.select_related("to_department", "to_account__person")
                .prefetch_related("notes").order_by("id"))
    nodes: dict[int, Node] = {}
    for a in rows:
        done = a.status == AssignmentStatus.DONE
        name = a.to_department.name if a.to_department else person_name(a.to_account)
        seat = None if done else _handler_seat(powers, a, doc)
        nodes[a.pk] = Node(a, name, is_overdue(a.deadline, today, done),
                           may_act=seat is not None,
                           may_pass_on=seat is not None and a.to_department_id is not None,
                           acting_for=seat.holder_address if seat and seat.delegated else "")
    roots: list[Node] = []
    for a in rows:
        parent = nodes.get(a.parent_id) if a.parent_id else None
        (parent.children if parent else roots).append(nodes[a.pk])
    return roots


def flatten(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for n in nodes:
        out.append(n)
        out.extend(flatten(n.children))
    return out


@dataclass(frozen=True)
class LeaderSeat:
    may: bool
    acting_for: str = ""


def distribution_seat(actor: Actor, now: dt.datetime, doc: IncomingDocument) -> LeaderSeat:
    """Whether the viewer may distribute the document (the action's own test: a
    classified one by the director in person) and on whose behalf."""
    if doc.status not in (IncomingStatus.REGISTERED, IncomingStatus.ASSIGNED):
        return LeaderSeat(False)
    powers = powers_for(actor, now)
    if is_classified(doc.confidentiality):
        seat = powers.seat([R.DIRECTOR], agency_id=doc.agency_id, own_only=True)
    else:
        seat = powers.seat(LEADERS, agency_id=doc.agency_id)
    if seat is None:
        return LeaderSeat(False)
    return LeaderSeat(True, seat.holder_address if seat.delegated else "")


def may_reply(actor: Actor, now: dt.datetime, doc: IncomingDocument) -> bool:
    """``do_start_reply``'s test: a handler (not for information) of the document, by
    name or as head of the department named (own seat)."""
    powers = powers_for(actor, now)
    for a in doc.assignments.exclude(kind=AssignmentKind.INFORM):
        if a.to_account_id == powers.account_id or (a.to_department_id and powers.seat(
                [R.DEPARTMENT_HEAD], agency_id=doc.agency_id,
                department_id=a.to_department_id, own_only=True)):
            return True
    return False


def may_register(actor: Actor, now: dt.datetime, doc: IncomingDocument) -> bool:
    powers = powers_for(actor, now)
    return doc.status == IncomingStatus.RECEIVED and powers.seat(
        [R.CLERK], agency_id=doc.agency_id) is not None


def history(doc: IncomingDocument) -> list[AuditEvent]:
    """The audit events about the document and its assignments, oldest first (call it
    only for a document the person may read)."""
    return list(AuditEvent.objects.filter(
        Q(target=doc.target) | Q(target__startswith=f"{doc.target}/assignment:"))
        .order_by("at", "id"))


# --- choices of the forms ------------------------------------------------------------------


def departments_of(agency_id: int) -> list[Agency]:
    """The agency's departments and units (the recipients a director may choose)."""
    ids = agency_subtree_ids([agency_id]) - {agency_id}
    return list(Agency.objects.filter(pk__in=ids).order_by("name"))


def people_of(agency_id: int, department_id: int | None = None) -> list[Account]:
    """People holding an eOffice role in the agency (in the department), by name."""
    grants = OfficeRoleGrant.objects.filter(agency_id=agency_id)
    if department_id is not None:
        grants = grants.filter(department_id=department_id)
    ids = set(grants.values_list("account_id", flat=True))
    people = Account.objects.filter(pk__in=ids).select_related("person")
    return sorted(people, key=lambda a: person_name(a))


def own_work_files(actor: Actor, agency_id: int) -> list[WorkFile]:
    """The person's open work files in the agency (where a document may be filed)."""
    return [w for w in selectors.work_files_for(actor)
            if w.agency_id == agency_id and w.closed_at is None]


def work_file_detail(actor: Actor, work_file_id: int) -> tuple[WorkFile, list[WorkFileItem]]:
    """One of the person's work files and its items (work files are personal)."""
    work_file = WorkFile.objects.filter(pk=work_file_id).first()
    if work_file is None:
        raise NotFound(_("There is no work file #%(id)s.") % {"id": work_file_id})
    if actor.account_id is None or work_file.owner_id != actor.account_id:
        raise Forbidden(_("This work file is someone else's."))
    items = list(work_file.items.select_related("incoming", "outgoing").order_by("id"))
    return work_file, items


def filed_in(actor: Actor, doc: IncomingDocument) -> list[WorkFile]:
    """The person's work files holding the document."""
    if actor.account_id is None:
        return []
    return list(WorkFile.objects.filter(owner_id=actor.account_id, items__incoming=doc)
                .order_by("title"))


def require_handler(actor: Actor, now: dt.datetime, a: Assignment,
                    doc: IncomingDocument) -> None:
    """Refuse at once whoever may not act on the assignment (before the page checks the
    form, so a stranger gets a 403, not a form error); the action checks again."""
    if _handler_seat(powers_for(actor, now), a, doc) is None:
        raise Forbidden(_("This assignment is not yours."))
