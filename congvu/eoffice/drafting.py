"""Reads behind the outgoing-document pages (GL-10): what a person may do on a draft right
now (which buttons to show: a courtesy, the actions check again with the very same seat
checks), the reviewer's deadline in working days (GL-10.7), and the choices offered by
the draft and issue forms. Documents themselves are always read through
:mod:`congvu.eoffice.selectors` (its visibility rules); nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_subtree_ids
from congvu.eoffice.access import Powers, incoming_q, outgoing_q, powers_for
from congvu.eoffice.actions import (
    _department_heads_exist,
    _drafter_seat,
    _no_delegates_for_classified,
    _reviewer_seat,
)
from congvu.eoffice.models import (
    LEADERS,
    DocumentLink,
    IncomingDocument,
    OfficeRole,
    OfficeRoleGrant,
    OutgoingDocument,
    OutgoingStatus,
    ReviewRound,
    ReviewStage,
)
from congvu.eoffice.rules import is_classified
from congvu.eoffice.selectors import outgoing_for
from congvu.errors import CongvuError, Forbidden
from congvu.workdays import WorkCalendar

R = OfficeRole
S = OutgoingStatus


def office_powers(actor: Actor, now: dt.datetime) -> Powers:
    """The actor's eOffice seats, or :class:`Forbidden` for someone who holds none (the
    document pages are for the agencies' specialists, heads, clerks and leaders)."""
    powers = powers_for(actor, now)
    if not powers.seats:
        raise Forbidden(_("The document pages are for people with an eOffice role "
                          "(specialist, head of department, clerk, leader); ask your "
                          "agency's IT contact to grant you one."))
    return powers


# --- drafting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftingPlace:
    """An agency where the person drafts (own specialist or head seat), with the
    departments they may submit for."""

    agency: Agency
    departments: list[Agency]


def drafting_places(actor: Actor, now: dt.datetime) -> list[DraftingPlace]:
    seats = powers_for(actor, now).matching([R.SPECIALIST, R.DEPARTMENT_HEAD], own_only=True)
    wanted: dict[int, set[int]] = {}
    for seat in seats:
        units = wanted.setdefault(seat.agency_id, set())
        if seat.department_id is not None:
            units.add(seat.department_id)
    agencies = Agency.objects.in_bulk(list(wanted))
    found = Agency.objects.in_bulk([d for ds in wanted.values() for d in ds])
    return [DraftingPlace(agencies[a], sorted((found[d] for d in wanted[a]),
                                              key=lambda u: u.name))
            for a in sorted(wanted, key=lambda a: agencies[a].name)]


def signers(agency_id: int) -> list[str]:
    """Suggestions for the signer (người ký): the agency's director and deputies."""
    names = (OfficeRoleGrant.objects.filter(agency_id=agency_id, role__in=list(LEADERS))
             .select_related("account__person").order_by("role", "account_id"))
    found: list[str] = []
    for grant in names:
        person = grant.account.person
        name = person.full_name if person else grant.account.address
        if name not in found:
            found.append(name)
    return found


def recent_incoming(actor: Actor, now: dt.datetime, limit: int = 30) -> list[IncomingDocument]:
    """Incoming documents the person may read and link as related, newest first."""
    return list(IncomingDocument.objects.filter(incoming_q(powers_for(actor, now)))
                .exclude(number__isnull=True).order_by("-received_at", "-id")[:limit])


def recent_outgoing(actor: Actor, now: dt.datetime, limit: int = 30) -> list[OutgoingDocument]:
    return list(outgoing_for(actor, now)[:limit])


# --- what the actor may do on one document --------------------------------------------------


@dataclass(frozen=True)
class Permitted:
    add_version: bool = False
    submit: bool = False
    #: Where a submission goes: ``department`` (the head) or ``director``.
    submit_to: str = ""
    #: A returned draft goes back only as a new version (GL-10.8).
    needs_new_version: bool = False
    review: bool = False
    return_to_head: bool = False
    forward: bool = False
    approve: bool = False
    number: bool = False
    issue: bool = False

    @property
    def anything(self) -> bool:
        return any((self.add_version, self.submit, self.review, self.number, self.issue))


def _ok(check: Callable[[], object]) -> bool:
    try:
        check()
    except CongvuError:  # Forbidden included
        return False
    return True


def open_round(doc: OutgoingDocument) -> ReviewRound | None:
    if doc.status != S.UNDER_REVIEW:
        return None
    return doc.rounds.filter(decided_at__isnull=True).order_by("-number").first()


def _submit_stage(doc: OutgoingDocument) -> str:
    """Where :func:`~congvu.eoffice.actions.do_submit_outgoing` sends the draft."""
    heads_it = OfficeRoleGrant.objects.filter(
        account_id=doc.drafter_id, agency_id=doc.agency_id, role=R.DEPARTMENT_HEAD,
        department_id=doc.department_id).exists()
    if doc.department_id and not heads_it:
        return ReviewStage.DEPARTMENT
    return ReviewStage.DIRECTOR


def permitted(actor: Actor, now: dt.datetime, doc: OutgoingDocument) -> Permitted:
    """Which of the draft's actions the actor may take now (GL-10 workflow), through the
    seat checks the actions themselves run (so a button shown is an action allowed)."""
    powers = powers_for(actor, now)
    drafter = _ok(partial(_drafter_seat, powers, doc))
    current = open_round(doc)
    reviewer = current is not None and _ok(partial(_reviewer_seat, powers, doc, current))
    seat = powers.seat([R.CLERK], agency_id=doc.agency_id)
    clerk = seat is not None and _ok(partial(_no_delegates_for_classified, seat,
                                             doc.confidentiality))
    # The same seats do_add_version asks for in each status.
    editable: dict[str, bool] = {S.DRAFT: drafter, S.RETURNED: drafter, S.APPROVED: drafter,
                                 S.UNDER_REVIEW: reviewer, S.NUMBERED: clerk}
    submit = drafter and doc.status in (S.DRAFT, S.RETURNED)
    needs_new = False
    if submit:
        last = doc.rounds.order_by("-number").first()
        latest = doc.versions.order_by("-number").values_list("pk", flat=True).first()
        needs_new = last is not None and last.version_id == latest
    stage = current.stage if current is not None else ""
    return Permitted(
        add_version=editable.get(doc.status, False), submit=submit,
        submit_to=_submit_stage(doc) if submit else "", needs_new_version=needs_new,
        review=reviewer,
        return_to_head=reviewer and stage == ReviewStage.DIRECTOR
        and bool(doc.department_id) and _department_heads_exist(doc),
        forward=reviewer and stage == ReviewStage.DEPARTMENT,
        approve=reviewer and stage == ReviewStage.DIRECTOR,
        number=clerk and doc.status == S.APPROVED,
        issue=clerk and doc.status == S.NUMBERED)


# --- deadlines in working days (GL-10.7) -----------------------------------------------------


@dataclass(frozen=True)
class Due:
    at: dt.datetime
    overdue: bool
    #: Working days left until the due day (0: due today), or, overdue, working days
    #: since the due day (at least 1).
    days: int


def due_state(calendar: WorkCalendar, now: dt.datetime, due_at: dt.datetime) -> Due:
    today = calendar.to_local(now).date()
    due_day = calendar.to_local(due_at).date()
    if now > due_at:
        return Due(due_at, True, max(1, calendar.working_days_between(due_day, today)))
    return Due(due_at, False, max(0, calendar.working_days_between(today, due_day)))


# --- links and issue choices -------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    kind: str
    incoming: IncomingDocument | None
    outgoing: OutgoingDocument | None
    #: False: the link exists but the actor may not read the other document.
    readable: bool


def links(actor: Actor, now: dt.datetime, doc: OutgoingDocument) -> list[LinkRow]:
    """The draft's reply-to and related documents; one the actor may not read is listed
    without any of its details."""
    powers = powers_for(actor, now)
    rows = list(DocumentLink.objects.filter(outgoing=doc).order_by("id"))
    incoming = IncomingDocument.objects.filter(
        incoming_q(powers), pk__in=[r.to_incoming_id for r in rows if r.to_incoming_id])
    outgoing = OutgoingDocument.objects.filter(
        outgoing_q(powers), pk__in=[r.to_outgoing_id for r in rows if r.to_outgoing_id])
    seen_in = {d.pk: d for d in incoming}
    seen_out = {d.pk: d for d in outgoing}
    found = []
    for r in rows:
        i = seen_in.get(r.to_incoming_id or 0)
        o = seen_out.get(r.to_outgoing_id or 0)
        found.append(LinkRow(r.kind, i, o, i is not None or o is not None))
    return found


@dataclass(frozen=True)
class IssueChoices:
    people: list[tuple[int, str]]
    units: list[Agency]
    agencies: list[Agency]


def issue_choices(doc: OutgoingDocument) -> IssueChoices:
    """Whom the clerk may issue to (GL-10.5): the agency's people with an eOffice role,
    the agency itself (everyone) and its units, and the other agencies of the province
    (their intake; none for a classified document: KH-8.3)."""
    members = (Account.objects.filter(office_roles__agency_id=doc.agency_id)
               .select_related("person").distinct().order_by("address"))
    people = [(a.pk, f"{a.person.full_name} ({a.address})" if a.person else a.address)
              for a in members]
    inside = agency_subtree_ids([doc.agency_id])
    units = sorted(Agency.objects.filter(pk__in=inside),
                   key=lambda u: (u.pk != doc.agency_id, u.name))
    others: list[Agency] = []
    if not is_classified(doc.confidentiality):
        others = list(Agency.objects.filter(parent__isnull=True).exclude(pk__in=inside)
                      .order_by("name"))
    return IssueChoices(people, units, others)


def clerk_queue(actor: Actor, now: dt.datetime, status: str) -> QuerySet[OutgoingDocument]:
    """For the clerks: their agencies' documents approved and waiting for a number, or
    numbered and waiting to be issued (GL-10.5), oldest first."""
    agencies = powers_for(actor, now).agencies(R.CLERK)
    return (outgoing_for(actor, now, status=status).filter(agency_id__in=agencies)
            .order_by("approved_at", "numbered_at", "id"))
