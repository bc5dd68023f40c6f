"""Reading the work calendars (GL-8.1): which calendars a person has, a week of
events through the visibility rules, one event, the iCalendar of a selection and of a
subscription feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountState
from congvu.actors import Actor
from congvu.calendars import ical
from congvu.calendars.access import (
    CalendarRef,
    invited_q,
    may_read,
    office_seat,
    readable_q,
    write_seat,
)
from congvu.calendars.actions import token_hash
from congvu.calendars.models import CalendarFeed, CalendarKind, Event
from congvu.directory.models import Agency
from congvu.eoffice.access import Powers, powers_for
from congvu.errors import CongvuError, Forbidden, NotFound

K = CalendarKind
#: What a download or a subscription carries: a season back, a year ahead.
EXPORT_BACK = dt.timedelta(days=92)
EXPORT_AHEAD = dt.timedelta(days=366)


@dataclass(frozen=True)
class CalendarInfo:
    ref: CalendarRef
    label: str
    writable: bool

    @property
    def key(self) -> str:
        return self.ref.key


def agencies_for(actor: Actor, now: dt.datetime) -> list[Agency]:
    """Agencies where the person holds an eOffice seat, by name."""
    ids = powers_for(actor, now).agencies()
    return list(Agency.objects.filter(pk__in=ids).order_by("name"))


def _calendars(powers: Powers, agency_id: int) -> list[CalendarInfo]:
    refs = [CalendarRef(K.LEADERS, agency_id), CalendarRef(K.AGENCY, agency_id)]
    departments = {s.department_id for s in powers.seats
                   if s.agency_id == agency_id and s.department_id is not None}
    if office_seat(powers, agency_id) is not None:
        departments |= set(Agency.objects.filter(parent_id=agency_id).values_list("pk",
                                                                                    flat=True))
    names = dict(Agency.objects.filter(pk__in=departments).values_list("pk", "name"))
    refs += [CalendarRef(K.DEPARTMENT, agency_id, d)
             for d in sorted(departments, key=lambda d: names.get(d, ""))]
    refs.append(CalendarRef(K.PERSONAL, agency_id, None, powers.account_id))
    out = []
    for ref in refs:
        label = (names.get(ref.department_id or 0, "") if ref.kind == K.DEPARTMENT
                 else str(K(ref.kind).label))
        out.append(CalendarInfo(ref, label, write_seat(powers, ref) is not None))
    return out


def calendars_for(actor: Actor, now: dt.datetime, agency_id: int) -> list[CalendarInfo]:
    """The calendars of the agency the person reads (leaders', agency, their
    departments (every department for the office), their own), and which they write."""
    powers = powers_for(actor, now)
    if agency_id not in powers.agencies():
        raise Forbidden(_("You hold no eOffice role in this agency, so its calendars are "
                          "not yours to read."), rule="GL-8.1")
    return _calendars(powers, agency_id)


def parse_key(key: str, agency_id: int, account_id: int | None) -> CalendarRef:
    """``leaders``, ``agency``, ``dept-<id>``, ``me`` → the calendar, or a clear error."""
    if key in (K.LEADERS, K.AGENCY):
        return CalendarRef(key, agency_id)
    if key == "me":
        return CalendarRef(K.PERSONAL, agency_id, None, account_id)
    if key.startswith("dept-") and key[5:].isdigit():
        return CalendarRef(K.DEPARTMENT, agency_id, int(key[5:]))
    raise CongvuError(_("Unknown calendar %(key)r.") % {"key": key[:40]})


def _of(refs: Sequence[CalendarRef]) -> QuerySet[Event]:
    """Events belonging to one of ``refs`` (the participants' view is added by the
    caller)."""
    from django.db.models import Q

    q = Q(pk__in=[])
    for ref in refs:
        if ref.kind == K.DEPARTMENT:
            q |= Q(kind=K.DEPARTMENT, agency_id=ref.agency_id, department_id=ref.department_id)
        elif ref.kind == K.PERSONAL:
            q |= Q(kind=K.PERSONAL, agency_id=ref.agency_id, owner_id=ref.owner_id)
        else:
            q |= Q(kind=ref.kind, agency_id=ref.agency_id)
    return Event.objects.filter(q)


def events_between(actor: Actor, now: dt.datetime, *, refs: Sequence[CalendarRef],
                   start: dt.datetime, end: dt.datetime,
                   invitations: bool = True) -> list[Event]:
    """Events of the chosen calendars overlapping [start, end), plus (``invitations``)
    those naming the person or their units, all through the visibility rule."""
    powers = powers_for(actor, now)
    for ref in refs:
        if not may_read(powers, ref):
            raise Forbidden(_("You may not read this calendar."), rule="GL-8.1")
    visible = Event.objects.filter(readable_q(powers))
    chosen = _of(refs)
    if invitations and refs:
        chosen = chosen | Event.objects.filter(
            invited_q(powers), agency_id__in={r.agency_id for r in refs})
    return list(visible.filter(pk__in=chosen.values("pk"), starts_at__lt=end,
                               ends_at__gt=start)
                .select_related("department", "owner")
                .prefetch_related("participants__person", "participant_units")
                .order_by("starts_at", "id"))


def event_detail(actor: Actor, now: dt.datetime, event_id: int) -> Event:
    powers = powers_for(actor, now)
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("There is no event #%(id)s.") % {"id": event_id})
    if not Event.objects.filter(readable_q(powers), pk=event_id).exists():
        raise Forbidden(_("You may not read this event."), rule="GL-8.1")
    return event


def may_write(actor: Actor, now: dt.datetime, event: Event) -> bool:
    ref = CalendarRef(event.kind, event.agency_id, event.department_id, event.owner_id)
    return write_seat(powers_for(actor, now), ref) is not None


# --- iCalendar -----------------------------------------------------------------------------


def _person_name(account: Account) -> str:
    person = getattr(account, "person", None)
    return person.full_name if person is not None else account.address


def _description(event: Event) -> str:
    parts = []
    if event.chair:
        parts.append(_("Chair: %(v)s") % {"v": event.chair})
    names = [_person_name(a) for a in event.participants.all()]
    names += [u.name for u in event.participant_units.all()]
    if event.participants_text:
        names.insert(0, event.participants_text)
    if names:
        parts.append(_("Participants: %(v)s") % {"v": "; ".join(names)})
    if event.preparing_unit:
        parts.append(_("Preparing unit: %(v)s") % {"v": event.preparing_unit})
    if event.notes:
        parts.append(event.notes)
    return "\n".join(parts)


def to_ics(events: Iterable[Event], *, name: str, tz: str, domain: str,
           now: dt.datetime) -> str:
    return ical.render(
        [ical.IcsEvent(uid=f"{e.uid}@{domain}", start=e.starts_at, end=e.ends_at,
                       all_day=e.all_day, summary=e.title, location=e.place,
                       description=_description(e), categories=str(K(e.kind).label),
                       sequence=e.sequence, created=e.created_at, last_modified=e.updated_at)
         for e in events], name=name, tz=tz, now=now)


def export_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - EXPORT_BACK, now + EXPORT_AHEAD


def feed_owner(token: str, now: dt.datetime) -> Account | None:
    """The active account a subscription token belongs to, or None (unknown, revoked,
    or the account is no longer active)."""
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.filter(token_hash=token_hash(token), revoked_at__isnull=True
                                       ).select_related("account").first()
    if feed is None or feed.account.state != AccountState.ACTIVE:
        return None
    return feed.account


def feed_events(actor: Actor, now: dt.datetime) -> list[Event]:
    """Everything the person reads, for their subscription: every calendar of every
    agency where they hold a seat, and their invitations."""
    start, end = export_window(now)
    powers = powers_for(actor, now)
    return list(Event.objects.filter(readable_q(powers), starts_at__lt=end, ends_at__gt=start)
                .prefetch_related("participants__person", "participant_units")
                .order_by("starts_at", "id"))


def active_feed(actor: Actor) -> CalendarFeed | None:
    if actor.account_id is None:
        return None
    return CalendarFeed.objects.filter(account_id=actor.account_id,
                                       revoked_at__isnull=True).first()


def week_bounds(monday: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone)
