"""Who may do and see what in the eOffice (GL-12..15, GL-11): seats and visibility.

A person's **seats** are their eOffice roles (own seats) plus, while a delegation to
them is in force, the delegator's roles it names (delegated seats: the delegator is the
seat's holder). Actions find the seat that allows them and record who acted, and on
whose behalf. Visibility is a query filter (:func:`incoming_q`, :func:`outgoing_q`) so
lists, search, registers and single documents all give the same answer; the rules are in
README.md ("Authorisation").
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from congvu.accounts.models import Account, AccountState
from congvu.actors import Actor
from congvu.eoffice.models import (
    LEADERS,
    Assignment,
    Delegation,
    DelegationStatus,
    Distribution,
    IncomingStatus,
    OfficeRole,
    OfficeRoleGrant,
    OutgoingStatus,
    ReviewRound,
    ReviewStage,
    WorkFileItem,
)
from congvu.eoffice.rules import Confidentiality
from congvu.errors import Forbidden

R = OfficeRole


@dataclass(frozen=True)
class Seat:
    role: str
    agency_id: int
    department_id: int | None
    #: Whose role it is: the person themselves, or the delegator.
    holder_id: int
    holder_address: str
    delegation_id: int | None = None

    @property
    def delegated(self) -> bool:
        return self.delegation_id is not None


@dataclass(frozen=True)
class Powers:
    """An actor's seats at ``now``."""

    actor: Actor
    account_id: int | None
    seats: tuple[Seat, ...]

    def matching(self, roles: Iterable[str], *, agency_id: int | None = None,
                 department_id: int | None = None, holder_id: int | None = None,
                 own_only: bool = False) -> list[Seat]:
        wanted = set(roles)
        found = [s for s in self.seats
                 if s.role in wanted
                 and (agency_id is None or s.agency_id == agency_id)
                 and (department_id is None or s.department_id == department_id)
                 and (holder_id is None or s.holder_id == holder_id)
                 and not (own_only and s.delegated)]
        return sorted(found, key=lambda s: s.delegated)  # own seats first

    def seat(self, roles: Iterable[str], **kwargs: int | None) -> Seat | None:
        found = self.matching(roles, **kwargs)  # type: ignore[arg-type]
        return found[0] if found else None

    def agencies(self, *roles: str, own: bool | None = None) -> set[int]:
        """Agencies where the person holds ``roles`` (any role if none): own seats only
        (``own=True``), delegated only (``False``) or both (``None``)."""
        return {s.agency_id for s in self.seats
                if (not roles or s.role in roles) and (own is None or own != s.delegated)}

    def departments(self, *roles: str, own: bool | None = None) -> set[int]:
        return {s.department_id for s in self.seats
                if s.department_id is not None and (not roles or s.role in roles)
                and (own is None or own != s.delegated)}

    def delegated_holders(self) -> set[int]:
        return {s.holder_id for s in self.seats if s.delegated}

    def acting_as(self, seat: Seat) -> Actor:
        """The actor the audit log records: "X on behalf of Y" for a delegated seat
        (GL-11: the delegate answers for what they did in the delegator's name)."""
        if not seat.delegated:
            return self.actor
        # The audit log's actor labels are identifiers, the same in every language.
        label = f"{self.actor.label} on behalf of {seat.holder_address}"
        return dataclasses.replace(self.actor, label=label[:200])


def effective_delegations(now: dt.datetime) -> Q:
    """Delegations in force at ``now``: approved, announced, begun, not ended."""
    return Q(status=DelegationStatus.ANNOUNCED, starts_at__lte=now, ends_at__gt=now)


_read_memo: ContextVar[dict[tuple[Actor, dt.datetime], Powers] | None] = ContextVar(
    "eoffice_read_memo", default=None)


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """A read-only request: within it, an actor's powers at one moment are looked up
    once, however many of the page's selectors ask (a register page asks twice)."""
    token = _read_memo.set({})
    try:
        yield
    finally:
        _read_memo.reset(token)


def powers_for(actor: Actor, now: dt.datetime) -> Powers:
    """The actor's seats: their own eOffice roles, then the delegated ones. An actor
    without an account (the command-line operator, the system), or whose account is not
    active, holds none."""
    memo = _read_memo.get()
    if memo is None:
        return _powers_for(actor, now)
    found = memo.get((actor, now))
    if found is None:
        found = memo[(actor, now)] = _powers_for(actor, now)
    return found


def _powers_for(actor: Actor, now: dt.datetime) -> Powers:
    me = actor.account_id
    if me is None:
        return Powers(actor, None, ())
    row = Account.objects.filter(pk=me).values_list("address", "state").first()
    if row is None or row[1] != AccountState.ACTIVE:
        return Powers(actor, None, ())  # a suspended or leaving holder keeps no powers
    address = row[0]
    seats = [Seat(r, a, d, me, address)
             for r, a, d in OfficeRoleGrant.objects.filter(account_id=me)
             .values_list("role", "agency_id", "department_id")]
    delegations = list(Delegation.objects.filter(effective_delegations(now), delegate_id=me)
                       .select_related("delegator"))
    for delegation in delegations:
        for r, a, d in OfficeRoleGrant.objects.filter(
                account_id=delegation.delegator_id, agency_id=delegation.agency_id,
                role__in=list(delegation.roles)).values_list("role", "agency_id",
                                                             "department_id"):
            seats.append(Seat(r, a, d, delegation.delegator_id, delegation.delegator.address,
                              delegation.pk))
    return Powers(actor, me, tuple(seats))


def require(powers: Powers, roles: Iterable[str], message: str, **kwargs: int | None) -> Seat:
    seat = powers.seat(roles, **kwargs)
    if seat is None:
        raise Forbidden(message)
    return seat


# --- visibility ----------------------------------------------------------------------------

_OPEN = Q(confidentiality=Confidentiality.NONE)


def _exists(rows: QuerySet[Any]) -> Q:
    return Q(Exists(rows))

_NOTHING = Q(pk__in=[])


def incoming_q(powers: Powers) -> Q:
    """Incoming documents the person may read (README "Authorisation"):

    - registered by them;
    - their agency's, as its director or clerk (own seat: every level; a deputy director
      or a delegated leader or clerk seat: unclassified only); a received document not
      yet registered only for the clerks;
    - assigned to them; to a department they head (every level) or belong to
      (unclassified only); to a delegator whose seat they hold (unclassified only);
    - filed in one of their work files;

    and always only of agencies where they hold a seat.
    """
    me = powers.account_id
    if me is None or not powers.seats:
        return _NOTHING
    registered = ~Q(status=IncomingStatus.RECEIVED)
    q = Q(registered_by_id=me)
    q |= Q(agency_id__in=powers.agencies(R.DIRECTOR, own=True)) & registered
    q |= Q(agency_id__in=powers.agencies(R.CLERK, own=True))
    q |= Q(agency_id__in=powers.agencies(R.DEPUTY_DIRECTOR, own=True)) & registered & _OPEN
    q |= Q(agency_id__in=powers.agencies(*LEADERS, own=False)) & registered & _OPEN
    q |= Q(agency_id__in=powers.agencies(R.CLERK, own=False)) & _OPEN
    assignments = Assignment.objects.filter(document_id=OuterRef("pk"))
    q |= _exists(assignments.filter(to_account_id=me))
    heads = powers.departments(R.DEPARTMENT_HEAD, own=True)
    if heads:
        q |= _exists(assignments.filter(to_department_id__in=heads))
    members = powers.departments() - heads
    if members:
        q |= _exists(assignments.filter(to_department_id__in=members)) & _OPEN
    holders = powers.delegated_holders()
    if holders:
        q |= _exists(assignments.filter(to_account_id__in=holders)) & _OPEN
    q |= _exists(WorkFileItem.objects.filter(incoming_id=OuterRef("pk"), work_file__owner_id=me))
    return q & Q(agency_id__in=powers.agencies())


def outgoing_q(powers: Powers) -> Q:
    """Outgoing documents the person may read (README "Authorisation"):

    - drafted by them (or by a delegator whose seat they hold: unclassified only);
    - submitted to a department they head; decided by them;
    - their agency's once it reached the director, as director (every level) or deputy
      or delegated leader (unclassified only);
    - their agency's once approved, as clerk (own seat: every level; delegated:
      unclassified only);
    - issued to them, or to a unit they belong to (heads: every level; members:
      unclassified only), or to their whole agency (unclassified only);
    - filed in one of their work files.
    """
    me = powers.account_id
    if me is None or not powers.seats:
        return _NOTHING
    rounds = ReviewRound.objects.filter(outgoing_id=OuterRef("pk"))
    reached_director = _exists(rounds.filter(stage=ReviewStage.DIRECTOR)) | Q(
        status__in=(OutgoingStatus.APPROVED, OutgoingStatus.NUMBERED, OutgoingStatus.ISSUED))
    approved = Q(status__in=(OutgoingStatus.APPROVED, OutgoingStatus.NUMBERED,
                             OutgoingStatus.ISSUED))
    q = Q(drafter_id=me)
    holders = powers.delegated_holders()
    if holders:
        q |= Q(drafter_id__in=holders) & _OPEN
    q |= _exists(rounds.filter(decided_by_id=me))
    heads = powers.departments(R.DEPARTMENT_HEAD, own=True)
    if heads:
        q |= _exists(rounds.filter(department_id__in=heads))
    delegated_heads = powers.departments(R.DEPARTMENT_HEAD, own=False) - heads
    if delegated_heads:
        q |= _exists(rounds.filter(department_id__in=delegated_heads)) & _OPEN
    q |= Q(agency_id__in=powers.agencies(R.DIRECTOR, own=True)) & reached_director
    q |= (Q(agency_id__in=powers.agencies(R.DEPUTY_DIRECTOR, own=True)
            | powers.agencies(*LEADERS, own=False)) & reached_director & _OPEN)
    q |= Q(agency_id__in=powers.agencies(R.CLERK, own=True)) & approved
    q |= Q(agency_id__in=powers.agencies(R.CLERK, own=False)) & approved & _OPEN
    sent = Distribution.objects.filter(outgoing_id=OuterRef("pk"))
    q |= _exists(sent.filter(to_account_id=me))
    if heads:
        q |= _exists(sent.filter(to_agency_id__in=heads))
    members = powers.departments() - heads
    if members:
        q |= _exists(sent.filter(to_agency_id__in=members)) & _OPEN
    q |= _exists(sent.filter(to_agency_id__in=powers.agencies())) & _OPEN
    q |= _exists(WorkFileItem.objects.filter(outgoing_id=OuterRef("pk"), work_file__owner_id=me))
    return q & Q(agency_id__in=powers.agencies())
