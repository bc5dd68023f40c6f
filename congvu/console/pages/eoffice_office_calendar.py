"""Work calendars (GL-8.1): the week view ``/console/eoffice/calendar/?week=2026-W48``
(previous/next, printable, in the layout of a "lịch công tác tuần"), adding, changing
and deleting events, the ``.ics`` download of the chosen calendars, and the person's
subscription URL (secret token shown once, revocable) served without a session at
``/console/eoffice/calendar/feed/<token>.ics`` for Thunderbird, Outlook and phones."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from congvu import clock, deployment
from congvu.accounts.roles import actor_for
from congvu.actors import Actor
from congvu.calendars import actions as cal_actions
from congvu.calendars import selectors as cal
from congvu.calendars.access import CalendarRef
from congvu.calendars.models import CalendarKind, Event
from congvu.console.pages.eoffice_office_common import badges, pick_agency
from congvu.console.views import console_view, local_time
from congvu.errors import CongvuError, Forbidden
from congvu.messaging.selectors import agency_units, people_of

K = CalendarKind
URL = "/console/eoffice/calendar/"
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$")
WEEKDAYS = (gettext_lazy("Monday"), gettext_lazy("Tuesday"), gettext_lazy("Wednesday"),
            gettext_lazy("Thursday"), gettext_lazy("Friday"), gettext_lazy("Saturday"),
            gettext_lazy("Sunday"))


def parse_week(text: str, today: dt.date) -> dt.date:
    """``2026-W48`` → that ISO week's Monday; empty → this week's."""
    text = (text or "").strip()
    if not text:
        return today - dt.timedelta(days=today.weekday())
    match = _WEEK_RE.match(text)
    try:
        if match is None:
            raise ValueError
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise CongvuError(_("Week: write it as YYYY-Www, e.g. 2026-W48 (got %(value)r).") % {
            "value": text[:20]}) from None


def week_key(monday: dt.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _today(tz: str) -> dt.date:
    return clock.now().astimezone(ZoneInfo(tz)).date()


def _event_row(e: Event, tz: str, day: dt.date, writable: set[str],
               labels: dict[str, str]) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    start, end = e.starts_at.astimezone(zone), e.ends_at.astimezone(zone)
    if e.all_day:
        when = _("All day")
    else:
        first = start.strftime("%H:%M") if start.date() == day else "…"
        last = end.strftime("%H:%M") if end.date() == day else "…"
        when = f"{first}–{last}"
    ref = CalendarRef(e.kind, e.agency_id, e.department_id, e.owner_id)
    who = [p.person.full_name if p.person is not None else p.address
           for p in e.participants.all()]
    who += [u.name for u in e.participant_units.all()]
    if e.participants_text:
        who.insert(0, e.participants_text)
    return {"id": e.pk, "when": when, "title": e.title, "place": e.place, "chair": e.chair,
            "participants": "; ".join(who), "preparing_unit": e.preparing_unit,
            "notes": e.notes, "calendar": labels.get(ref.key) or str(K(e.kind).label),
            "kind": e.kind, "edit_url": f"{URL}{e.pk}/edit/" if ref.key in writable else ""}


def _query(agency: str, keys: list[str], week: str = "") -> str:
    pairs: list[tuple[str, str]] = [("agency", agency)] + [("cal", k) for k in keys]
    if week:
        pairs.append(("week", week))
    return urlencode(pairs)


@console_view
@require_safe
def week(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    now, tz = clock.now(), profile.timezone
    agency, mine = pick_agency(request, actor, now)
    monday = parse_week(request.GET.get("week", ""), _today(tz))
    calendars = cal.calendars_for(actor, now, agency.pk)
    asked = request.GET.getlist("cal")
    keys = asked or [c.key for c in calendars]
    refs = [cal.parse_key(k, agency.pk, actor.account_id) for k in keys]
    start, end = cal.week_bounds(monday, tz)
    events = cal.events_between(actor, now, refs=refs, start=start, end=end)
    writable = {c.key for c in calendars if c.writable}
    labels = {c.key: c.label for c in calendars}
    zone = ZoneInfo(tz)
    days = []
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        rows = [_event_row(e, tz, day, writable, labels) for e in events
                if e.starts_at.astimezone(zone).date() <= day
                and (e.ends_at - dt.timedelta(microseconds=1)).astimezone(zone).date() >= day]
        days.append({"name": WEEKDAYS[offset], "date": day.strftime("%d/%m/%Y"),
                     "rows": rows, "today": day == _today(tz)})
    this = week_key(monday)
    ref = agency.account_name
    return render(request, "console/eoffice/calendar/week.html", {
        "agency": agency, "agencies": mine, "calendars": calendars, "keys": keys,
        "days": days, "week": this, "week_number": monday.isocalendar()[1],
        "first": monday.strftime("%d/%m/%Y"),
        "last": (monday + dt.timedelta(days=6)).strftime("%d/%m/%Y"),
        "previous_url": "?" + _query(ref, asked, week_key(monday - dt.timedelta(days=7))),
        "next_url": "?" + _query(ref, asked, week_key(monday + dt.timedelta(days=7))),
        "current_url": "?" + _query(ref, asked),
        "export_url": f"{URL}export.ics?" + _query(ref, keys),
        "writable": [c for c in calendars if c.writable],
        "new_url": f"{URL}new/?" + urlencode({"agency": ref, "week": this}),
        **badges(actor)})


# --- the event form ------------------------------------------------------------------------


def _required(label: Any) -> dict[str, Any]:
    return {"required": _("%(field)s: required.") % {"field": label},
            "invalid": _("%(field)s: not a valid value.") % {"field": label}}


class EventForm(forms.Form):
    calendar = forms.ChoiceField(label=gettext_lazy("Calendar"))
    title = forms.CharField(label=gettext_lazy("Content"), max_length=255)
    day = forms.DateField(label=gettext_lazy("Date"),
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    all_day = forms.BooleanField(label=gettext_lazy("All day"), required=False)
    start_time = forms.TimeField(label=gettext_lazy("Start time"), required=False,
                                 widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_time = forms.TimeField(label=gettext_lazy("End time"), required=False,
                               widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_day = forms.DateField(label=gettext_lazy("Until (date, if on several days)"),
                              required=False, widget=forms.DateInput(attrs={"type": "date"},
                                                                     format="%Y-%m-%d"))
    place = forms.CharField(label=gettext_lazy("Place"), max_length=255, required=False)
    chair = forms.CharField(label=gettext_lazy("Chair"), max_length=255, required=False)
    participants_text = forms.CharField(label=gettext_lazy("Participants (as written)"),
                                        required=False, max_length=2000,
                                        widget=forms.Textarea(attrs={"rows": 2}))
    participants = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Participating people"), required=False, coerce=int)
    units = forms.TypedMultipleChoiceField(label=gettext_lazy("Participating units"),
                                           required=False, coerce=int)
    preparing_unit = forms.CharField(label=gettext_lazy("Preparing unit"), max_length=255,
                                     required=False)
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, calendars: list[cal.CalendarInfo], agency_id: int,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.error_messages.update(_required(field.label))
            if name == "title":
                field.error_messages["max_length"] = _(
                    "Content: at most 255 characters.")
        self.fields["calendar"].error_messages["invalid_choice"] = _(
            "Calendar: you may not write this calendar; choose one of those listed.")
        self.fields["calendar"].choices = [  # type: ignore[attr-defined]
            (c.key, c.label) for c in calendars if c.writable]
        self.fields["participants"].choices = [  # type: ignore[attr-defined]
            (p.account_id, f"{p.name} — {p.unit}" if p.unit else p.name)
            for p in people_of(agency_id)]
        self.fields["units"].choices = [  # type: ignore[attr-defined]
            (u.pk, u.name) for u in agency_units(agency_id)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("all_day"):
            return data
        for name, label in (("start_time", _("Start time")), ("end_time", _("End time"))):
            if data.get(name) is None:
                self.add_error(name, _("%(field)s: required unless the event lasts all "
                                       "day.") % {"field": label})
        return data

    def period(self, tz: str) -> tuple[dt.datetime, dt.datetime]:
        data, zone = self.cleaned_data, ZoneInfo(tz)
        first = data["day"]
        last = data.get("end_day") or first
        if data.get("all_day"):
            return (dt.datetime.combine(first, dt.time(), tzinfo=zone),
                    dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone))
        return (dt.datetime.combine(first, data["start_time"], tzinfo=zone),
                dt.datetime.combine(last, data["end_time"], tzinfo=zone))

    def domain_form(self, tz: str) -> cal_actions.EventForm:
        d = self.cleaned_data
        start, end = self.period(tz)
        return cal_actions.EventForm(
            title=d["title"], starts_at=start, ends_at=end, all_day=bool(d.get("all_day")),
            place=d.get("place", ""), chair=d.get("chair", ""),
            participants_text=d.get("participants_text", ""),
            participant_ids=d.get("participants") or [], unit_ids=d.get("units") or [],
            preparing_unit=d.get("preparing_unit", ""), notes=d.get("notes", ""))


def _initial(e: Event, tz: str, key: str) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    start, end = e.starts_at.astimezone(zone), e.ends_at.astimezone(zone)
    last = (end - dt.timedelta(days=1)).date() if e.all_day else end.date()
    return {"calendar": key, "title": e.title, "day": start.date(), "all_day": e.all_day,
            "start_time": None if e.all_day else start.time(),
            "end_time": None if e.all_day else end.time(),
            "end_day": last if last != start.date() else None, "place": e.place,
            "chair": e.chair, "participants_text": e.participants_text,
            "participants": list(e.participants.values_list("pk", flat=True)),
            "units": list(e.participant_units.values_list("pk", flat=True)),
            "preparing_unit": e.preparing_unit, "notes": e.notes}


def _form_page(request: HttpRequest, form: EventForm, agency: Any, *, event: Event | None,
               error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "console/eoffice/calendar/event.html", {
        "form": form, "agency": agency, "event": event, "error": error,
        "action": f"{URL}{event.pk}/edit/" if event else f"{URL}new/",
        "back_url": URL + "?" + urlencode({"agency": agency.account_name})},
        status=status)


def _week_of(moment: dt.datetime, tz: str) -> str:
    return week_key(moment.astimezone(ZoneInfo(tz)).date())


@console_view
def new_event(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    now, tz = clock.now(), profile.timezone
    agency, _mine = pick_agency(request, actor, now)
    calendars = cal.calendars_for(actor, now, agency.pk)
    if request.method != "POST":
        monday = parse_week(request.GET.get("week", ""), _today(tz))
        first = max(monday, _today(tz)) if monday <= _today(tz) < monday + dt.timedelta(7) \
            else monday
        form = EventForm(calendars=calendars, agency_id=agency.pk,
                         initial={"calendar": request.GET.get("cal", ""), "day": first})
        return _form_page(request, form, agency, event=None)
    form = EventForm(request.POST, calendars=calendars, agency_id=agency.pk)
    if not form.is_valid():
        return _form_page(request, form, agency, event=None, status=400)
    ref = cal.parse_key(form.cleaned_data["calendar"], agency.pk, actor.account_id)
    try:
        event = cal_actions.do_create_event(actor=actor, calendar=ref,
                                            form=form.domain_form(tz), now=now)
    except Forbidden:
        raise
    except CongvuError as exc:
        return _form_page(request, form, agency, event=None, error=exc.message, status=400)
    messages.success(request, _("Event added: %(title)s.") % {"title": event.title})
    return HttpResponseRedirect(URL + "?" + urlencode(
        {"agency": agency.account_name, "week": _week_of(event.starts_at, tz)}))


@console_view
def edit_event(request: HttpRequest, actor: Actor, event_id: int) -> HttpResponse:
    profile = deployment.deployment_profile()
    now, tz = clock.now(), profile.timezone
    event = cal.event_detail(actor, now, event_id)
    if not cal.may_write(actor, now, event):
        raise Forbidden(_("You may read this event but not change it."), rule="GL-8.1")
    agency = event.agency
    calendars = cal.calendars_for(actor, now, agency.pk)
    key = CalendarRef(event.kind, event.agency_id, event.department_id, event.owner_id).key
    calendars = [c for c in calendars if c.key == key]
    if request.method != "POST":
        form = EventForm(calendars=calendars, agency_id=agency.pk,
                         initial=_initial(event, tz, key))
        return _form_page(request, form, agency, event=event)
    form = EventForm(request.POST, calendars=calendars, agency_id=agency.pk)
    if not form.is_valid():
        return _form_page(request, form, agency, event=event, status=400)
    try:
        event = cal_actions.do_update_event(actor=actor, event_id=event.pk,
                                            form=form.domain_form(tz), now=now)
    except Forbidden:
        raise
    except CongvuError as exc:
        return _form_page(request, form, agency, event=event, error=exc.message, status=400)
    messages.success(request, _("Event changed: %(title)s.") % {"title": event.title})
    return HttpResponseRedirect(URL + "?" + urlencode(
        {"agency": agency.account_name, "week": _week_of(event.starts_at, tz)}))


@console_view
@require_POST
def delete_event(request: HttpRequest, actor: Actor, event_id: int) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    event = cal.event_detail(actor, now, event_id)
    agency, when, title = event.agency.account_name, event.starts_at, event.title
    cal_actions.do_delete_event(actor=actor, event_id=event_id, now=now)
    messages.success(request, _("Event deleted: %(title)s.") % {"title": title})
    return HttpResponseRedirect(URL + "?" + urlencode(
        {"agency": agency, "week": _week_of(when, profile.timezone)}))


# --- iCalendar -----------------------------------------------------------------------------


def _ics(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@console_view
@require_safe
def export(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The chosen calendars as one ``.ics`` (a season back, a year ahead)."""
    profile = deployment.deployment_profile()
    now = clock.now()
    agency, _mine = pick_agency(request, actor, now)
    calendars = cal.calendars_for(actor, now, agency.pk)
    keys = request.GET.getlist("cal") or [c.key for c in calendars]
    refs = [cal.parse_key(k, agency.pk, actor.account_id) for k in keys]
    start, end = cal.export_window(now)
    events = cal.events_between(actor, now, refs=refs, start=start, end=end)
    labels = {c.key: c.label for c in calendars}
    name = f"{agency.name} — " + ", ".join(labels.get(k, k) for k in keys)
    body = cal.to_ics(events, name=name, tz=profile.timezone, domain=profile.mail.domain,
                      now=now)
    return _ics(body, f"lich-{agency.account_name}.ics")


@console_view
def subscription(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The person's subscription URL: made (shown once), or revoked."""
    now = clock.now()
    pick_agency(request, actor, now)  # only people with a seat subscribe
    token = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if cal_actions.do_revoke_feed(actor=actor, now=now):
                messages.success(request, _("The subscription address no longer works."))
            return HttpResponseRedirect(f"{URL}subscription/")
        _feed, token = cal_actions.do_create_feed(actor=actor, now=now)
    feed = cal.active_feed(actor)
    url = request.build_absolute_uri(f"{URL}feed/{token}.ics") if token else ""
    return render(request, "console/eoffice/calendar/subscription.html", {
        "feed": feed, "url": url, "webcal": url.replace("https://", "webcal://", 1)
        .replace("http://", "webcal://", 1) if url else "",
        "created_at": local_time(feed.created_at, deployment.deployment_profile().timezone)
        if feed else "", **badges(actor)})


@never_cache
@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A subscription (no session: calendar programs do not sign in); the secret token
    is the key. Unknown or revoked: 404."""
    now = clock.now()
    owner = cal.feed_owner(token, now)
    if owner is None:
        raise Http404("no such calendar")
    profile = deployment.deployment_profile()
    actor = actor_for(owner)
    events = cal.feed_events(actor, now)
    name = _("Work calendar of %(who)s") % {"who": owner.address}
    return _ics(cal.to_ics(events, name=name, tz=profile.timezone,
                           domain=profile.mail.domain, now=now), "lich-cong-tac.ics")


urlpatterns = [
    path("eoffice/calendar/", week, name="eoffice-calendar"),
    path("eoffice/calendar/new/", new_event, name="eoffice-calendar-new"),
    path("eoffice/calendar/<int:event_id>/edit/", edit_event, name="eoffice-calendar-edit"),
    path("eoffice/calendar/<int:event_id>/delete/", delete_event,
         name="eoffice-calendar-delete"),
    path("eoffice/calendar/export.ics", export, name="eoffice-calendar-export"),
    path("eoffice/calendar/subscription/", subscription, name="eoffice-calendar-subscription"),
    path("eoffice/calendar/feed/<str:token>.ics", feed, name="eoffice-calendar-feed"),
]
