"""Who writes and reads which work calendar (GL-8.1), from the eOffice seats
(:func:`congvu.eoffice.access.powers_for`: own roles and delegations in force).

- the leaders' weekly calendar and the agency calendar: written by "the office": the
  agency's leaders (director, deputies), its clerks, and the heads of the department
  the clerks belong to (the Văn phòng, found from the clerks' grants, not from a name);
  read by everyone with a seat in the agency;
- a department's calendar: written by its head; read by its members and the office;
- a personal calendar: written and read by its owner only.

An event also shows to the people and units it names as participants (their own
agency's only).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from congvu.calendars.models import CalendarKind, Event
from congvu.eoffice.access import Powers, Seat
from congvu.eoffice.models import LEADERS, OfficeRole, OfficeRoleGrant

K = CalendarKind
R = OfficeRole


@dataclass(frozen=True)
class CalendarRef:
    """One calendar: its kind and agency, and the department or owner it belongs to."""

    kind: str
    agency_id: int
    department_id: int | None = None
    owner_id: int | None = None

    @property
    def key(self) -> str:
        """How a page names it: ``leaders``, ``agency``, ``dept-7``, ``me``."""
        if self.kind == K.DEPARTMENT:
            return f"dept-{self.department_id}"
        if self.kind == K.PERSONAL:
            return "me"
        return str(self.kind)


def office_departments(agency_id: int) -> set[int]:
    """The departments the agency's clerks sit in (its Văn phòng)."""
    return set(OfficeRoleGrant.objects.filter(
        agency_id=agency_id, role=R.CLERK, department__isnull=False)
        .values_list("department_id", flat=True))


def office_seat(powers: Powers, agency_id: int) -> Seat | None:
    """A seat of "the office" in the agency: a leader, a clerk, or the head of the
    clerks' department. Own seats come first; a delegated one acts on behalf."""
    seat = powers.seat([*LEADERS, R.CLERK], agency_id=agency_id)
    if seat is not None:
        return seat
    office = office_departments(agency_id)
    heads = [s for s in powers.matching([R.DEPARTMENT_HEAD], agency_id=agency_id)
             if s.department_id in office]
    return heads[0] if heads else None


def write_seat(powers: Powers, ref: CalendarRef) -> Seat | None:
    """The seat that lets the person write ``ref``, or None."""
    if ref.kind in (K.LEADERS, K.AGENCY):
        return office_seat(powers, ref.agency_id)
    if ref.kind == K.DEPARTMENT:
        return powers.seat([R.DEPARTMENT_HEAD], agency_id=ref.agency_id,
                           department_id=ref.department_id)
    if ref.kind == K.PERSONAL and ref.owner_id == powers.account_id:
        return powers.seat(list(R.values), agency_id=ref.agency_id, own_only=True)
    return None


def may_read(powers: Powers, ref: CalendarRef) -> bool:
    if ref.agency_id not in powers.agencies():
        return False
    if ref.kind in (K.LEADERS, K.AGENCY):
        return True
    if ref.kind == K.DEPARTMENT:
        return (ref.department_id in {s.department_id for s in powers.seats
                                      if s.agency_id == ref.agency_id}
                or office_seat(powers, ref.agency_id) is not None)
    return ref.owner_id == powers.account_id


def readable_q(powers: Powers) -> Q:
    """Events the person may read, as a filter (lists, week view and feeds agree)."""
    me = powers.account_id
    agencies = powers.agencies()
    if me is None or not agencies:
        return Q(pk__in=[])
    office = {a for a in agencies if office_seat(powers, a) is not None}
    departments = {s.department_id for s in powers.seats if s.department_id is not None}
    q = Q(kind__in=(K.LEADERS, K.AGENCY))
    q |= Q(kind=K.DEPARTMENT, department_id__in=departments)
    q |= Q(kind=K.DEPARTMENT, agency_id__in=office)
    q |= Q(kind=K.PERSONAL, owner_id=me)
    q |= invited_q(powers)
    return q & Q(agency_id__in=agencies)


def invited_q(powers: Powers) -> Q:
    """Events naming the person, or a department they belong to, as participants."""
    me = powers.account_id
    if me is None:
        return Q(pk__in=[])
    people = Event.participants.through.objects.filter(event_id=OuterRef("pk"))
    q = Q(Exists(people.filter(account_id=me)))
    departments = {s.department_id for s in powers.seats if s.department_id is not None}
    if departments:
        units = Event.participant_units.through.objects.filter(event_id=OuterRef("pk"))
        q |= Q(Exists(units.filter(agency_id__in=departments)))
    return q
