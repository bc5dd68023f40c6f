"""Writing the work calendars (GL-8.1) and the subscription feeds. Every ``do_*`` takes
an explicit actor, checks the eOffice seat (:mod:`congvu.calendars.access`), runs in
one transaction and records its audit event there; a delegate's change is recorded as
"X on behalf of Y" (GL-11)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.calendars.access import CalendarRef, write_seat
from congvu.calendars.models import CalendarFeed, CalendarKind, Event
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_subtree_ids
from congvu.eoffice.access import powers_for
from congvu.eoffice.models import OfficeRoleGrant
from congvu.errors import CongvuError, Forbidden, NotFound

K = CalendarKind
RULE = "GL-8.1"
#: An event spans at most this long (a conference week, a month-long campaign).
MAX_SPAN = dt.timedelta(days=62)


@dataclass(frozen=True)
class EventForm:
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    all_day: bool = False
    place: str = ""
    chair: str = ""
    participants_text: str = ""
    participant_ids: Sequence[int] = ()
    unit_ids: Sequence[int] = ()
    preparing_unit: str = ""
    notes: str = ""


def _line(text: str, limit: int) -> str:
    return " ".join((text or "").split())[:limit]


def _check(form: EventForm, agency_id: int) -> tuple[str, list[int], list[int]]:
    """The title, participants and units, or the first problem, named."""
    title = _line(form.title, 255)
    if not title:
        raise CongvuError(_("Title: required (what the event is about)."))
    if form.ends_at <= form.starts_at:
        raise CongvuError(_("End: must be after the start."))
    if form.ends_at - form.starts_at > MAX_SPAN:
        raise CongvuError(_("End: an event lasts at most %(days)d days.") % {
            "days": MAX_SPAN.days})
    people = sorted(set(form.participant_ids))
    members = set(OfficeRoleGrant.objects.filter(agency_id=agency_id, account_id__in=people)
                  .values_list("account_id", flat=True))
    if set(people) - members:
        raise CongvuError(_("Participants: only people of the agency may be invited."))
    units = sorted(set(form.unit_ids))
    inside = set(agency_subtree_ids([agency_id])) - {agency_id}
    if set(units) - inside:
        raise CongvuError(_("Participating units: only departments of the agency."))
    return title, people, units


def _fields(form: EventForm, title: str) -> dict[str, object]:
    return {"title": title, "starts_at": form.starts_at, "ends_at": form.ends_at,
            "all_day": form.all_day, "place": _line(form.place, 255),
            "chair": _line(form.chair, 255),
            "participants_text": (form.participants_text or "").strip()[:2000],
            "preparing_unit": _line(form.preparing_unit, 255),
            "notes": (form.notes or "").strip()[:4000]}


def _refuse(ref: CalendarRef) -> Forbidden:
    if ref.kind in (K.LEADERS, K.AGENCY):
        return Forbidden(_("Only the office (leaders, clerks and the head of the clerks' "
                           "department) writes the agency's and the leaders' calendars."),
                         rule=RULE)
    if ref.kind == K.DEPARTMENT:
        return Forbidden(_("Only the head of the department writes its calendar."), rule=RULE)
    return Forbidden(_("Only its owner writes a personal calendar."), rule=RULE)


def _ref(event: Event) -> CalendarRef:
    return CalendarRef(event.kind, event.agency_id, event.department_id, event.owner_id)


def do_create_event(*, actor: Actor, calendar: CalendarRef, form: EventForm,
                    now: dt.datetime) -> Event:
    """Add an event to a calendar the actor may write."""
    if calendar.kind not in K.values:
        raise CongvuError(_("Unknown calendar."))
    powers = powers_for(actor, now)
    if calendar.kind == K.PERSONAL:
        calendar = CalendarRef(K.PERSONAL, calendar.agency_id, None, powers.account_id)
    seat = write_seat(powers, calendar)
    if seat is None:
        raise _refuse(calendar)
    if calendar.kind == K.DEPARTMENT and not Agency.objects.filter(
            pk=calendar.department_id or 0).exists():
        raise NotFound(_("There is no such department."))
    title, people, units = _check(form, calendar.agency_id)
    label = powers.acting_as(seat).label[:200]
    with transaction.atomic():
        event = Event.objects.create(
            agency_id=calendar.agency_id, kind=calendar.kind,
            department_id=calendar.department_id if calendar.kind == K.DEPARTMENT else None,
            owner_id=calendar.owner_id if calendar.kind == K.PERSONAL else None,
            created_at=now, updated_at=now, created_by_label=label, updated_by_label=label,
            **_fields(form, title))
        event.participants.set(people)
        event.participant_units.set(units)
        record(actor=powers.acting_as(seat), action="calendar.event.create", at=now,
               target=f"event:{event.pk}", rule=RULE,
               data={"calendar": calendar.key, "agency": calendar.agency_id, "title": title,
                     "start": form.starts_at.isoformat()})
    return event


def _locked(event_id: int) -> Event:
    event = Event.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("There is no event #%(id)s.") % {"id": event_id})
    return event


def do_update_event(*, actor: Actor, event_id: int, form: EventForm,
                    now: dt.datetime) -> Event:
    powers = powers_for(actor, now)
    with transaction.atomic():
        event = _locked(event_id)
        seat = write_seat(powers, _ref(event))
        if seat is None:
            raise _refuse(_ref(event))
        title, people, units = _check(form, event.agency_id)
        for name, value in _fields(form, title).items():
            setattr(event, name, value)
        event.updated_at, event.updated_by_label = now, powers.acting_as(seat).label[:200]
        event.sequence += 1
        event.save()
        event.participants.set(people)
        event.participant_units.set(units)
        record(actor=powers.acting_as(seat), action="calendar.event.update", at=now,
               target=f"event:{event.pk}", rule=RULE, data={"title": title})
    return event


def do_delete_event(*, actor: Actor, event_id: int, now: dt.datetime) -> None:
    powers = powers_for(actor, now)
    with transaction.atomic():
        event = _locked(event_id)
        seat = write_seat(powers, _ref(event))
        if seat is None:
            raise _refuse(_ref(event))
        record(actor=powers.acting_as(seat), action="calendar.event.delete", at=now,
               target=f"event:{event.pk}", rule=RULE,
               data={"title": event.title, "calendar": _ref(event).key,
                     "start": event.starts_at.isoformat()})
        event.delete()


# --- subscription feeds --------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def do_create_feed(*, actor: Actor, now: dt.datetime) -> tuple[CalendarFeed, str]:
    """A new subscription token for the actor (returned once, only its hash kept); any
    earlier one stops working."""
    me = actor.account_id
    if me is None or not powers_for(actor, now).seats:
        raise Forbidden(_("Calendar subscriptions are for people with an eOffice role."))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        revoked = CalendarFeed.objects.filter(account_id=me, revoked_at__isnull=True).update(
            revoked_at=now)
        feed = CalendarFeed.objects.create(account_id=me, token_hash=token_hash(token),
                                           created_at=now)
        record(actor=actor, action="calendar.feed.create", at=now, target=f"feed:{feed.pk}",
               rule=RULE, data={"revoked": revoked})
    return feed, token


def do_revoke_feed(*, actor: Actor, now: dt.datetime) -> int:
    """Stop the actor's subscription URL; returns how many were in use."""
    me = actor.account_id
    if me is None:
        return 0
    with transaction.atomic():
        revoked = CalendarFeed.objects.filter(account_id=me, revoked_at__isnull=True).update(
            revoked_at=now)
        if revoked:
            record(actor=actor, action="calendar.feed.revoke", at=now,
                   target=f"account:{me}", rule=RULE, data={"revoked": revoked})
    return revoked
