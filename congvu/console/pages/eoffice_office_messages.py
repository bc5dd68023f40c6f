"""Internal messages and notices (GL-8.2): the inbox (sortable, unread first if asked),
sent messages, the agency's notices (thông báo), writing a message to people,
departments or the whole agency (the office may post it as an agency notice), one
message (opening it marks it read) with reply, mark unread and delete (one's own copy);
and the eOffice's in-app notifications (``eoffice.Notice``: assignments, reviews,
urgent documents, delegations) at ``/console/eoffice/notices/`` with links to the
documents, marked read one by one or all at once."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.calendars.access import office_seat
from congvu.console.pages.eoffice_office_common import badges, pick_agency
from congvu.console.views import console_view, local_time, pager_urls
from congvu.eoffice.access import powers_for
from congvu.eoffice.actions import do_mark_notices_read
from congvu.eoffice.models import Notice
from congvu.errors import CongvuError
from congvu.messaging import actions as msg_actions
from congvu.messaging import selectors as msg
from congvu.messaging.models import MessageKind

URL = "/console/eoffice/messages/"
NOTICES_URL = "/console/eoffice/notices/"
PAGE_SIZE = 30
SORT_LABELS = {"new": gettext_lazy("Newest first"), "old": gettext_lazy("Oldest first"),
               "sender": gettext_lazy("By sender"), "unread": gettext_lazy("Unread first")}


@console_view
@require_safe
def box(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    now, tz = clock.now(), profile.timezone
    agency, _mine = pick_agency(request, actor, now)
    which = request.GET.get("box", "inbox")
    sort = request.GET.get("sort", "new")
    if sort not in msg.SORTS:
        sort = "new"
    rows: list[dict[str, Any]] = []
    if which == "sent":
        page = Paginator(msg.sent(actor), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [{"id": m.pk, "subject": m.subject,
                 "who": _("Everyone in the agency") if m.to_all else _(
                     "%(n)d recipient(s)") % {"n": m.reached},
                 "at": local_time(m.sent_at, tz), "unread": False,
                 "notice": m.kind == MessageKind.NOTICE} for m in page.object_list]
    elif which == "notices":
        page = Paginator(msg.agency_notices(actor, now, agency.pk), PAGE_SIZE).get_page(
            request.GET.get("page"))
        rows = [{"id": m.pk, "subject": m.subject, "who": m.sender_label,
                 "at": local_time(m.sent_at, tz), "unread": False, "notice": True}
                for m in page.object_list]
    else:
        which = "inbox"
        inbox = Paginator(msg.inbox(actor, sort=sort), PAGE_SIZE).get_page(
            request.GET.get("page"))
        page = inbox  # type: ignore[assignment]
        rows = [{"id": d.message_id, "subject": d.message.subject,
                 "who": d.message.sender_label, "at": local_time(d.message.sent_at, tz),
                 "unread": d.read_at is None,
                 "notice": d.message.kind == MessageKind.NOTICE} for d in inbox.object_list]

    def page_url(number: int) -> str:
        return "?" + urlencode({"box": which, "sort": sort, "page": number})

    return render(request, "console/eoffice/messages/box.html", {
        "rows": rows, "page": page, "box": which, "sort": sort,
        "sorts": list(SORT_LABELS.items()), **pager_urls(page, page_url), **badges(actor)})


class ComposeForm(forms.Form):
    to_all = forms.BooleanField(label=gettext_lazy("Everyone in the agency"), required=False)
    people = forms.TypedMultipleChoiceField(label=gettext_lazy("People"), required=False,
                                            coerce=int)
    units = forms.TypedMultipleChoiceField(label=gettext_lazy("Departments"), required=False,
                                           coerce=int)
    notice = forms.BooleanField(label=gettext_lazy("Post as an agency notice (to everyone)"),
                                required=False)
    subject = forms.CharField(label=gettext_lazy("Subject line"), max_length=255, error_messages={
        "required": gettext_lazy("Subject: required."),
        "max_length": gettext_lazy("Subject: at most 255 characters.")})
    body = forms.CharField(label=gettext_lazy("Content"), widget=forms.Textarea(
        attrs={"rows": 8}), max_length=msg_actions.MAX_BODY, error_messages={
        "required": gettext_lazy("Content: required."),
        "max_length": gettext_lazy("Content: too long.")})

    def __init__(self, *args: Any, agency_id: int, may_post_notice: bool,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        invalid = gettext_lazy("Recipients: choose from the list.")
        for name in ("people", "units"):
            self.fields[name].error_messages["invalid_choice"] = invalid
        self.fields["people"].choices = [  # type: ignore[attr-defined]
            (p.account_id, f"{p.name} — {p.unit}" if p.unit else p.name)
            for p in msg.people_of(agency_id)]
        self.fields["units"].choices = [  # type: ignore[attr-defined]
            (u.pk, u.name) for u in msg.agency_units(agency_id)]
        # Shown to the office only; anyone else ticking it is refused by the domain.
        self.may_post_notice = may_post_notice


def _compose_page(request: HttpRequest, actor: Actor, form: ComposeForm, agency: Any,
                  *, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "console/eoffice/messages/compose.html", {
        "form": form, "agency": agency, "error": error, **badges(actor)}, status=status)


@console_view
def compose(request: HttpRequest, actor: Actor) -> HttpResponse:
    now = clock.now()
    agency, _mine = pick_agency(request, actor, now)
    may_post = office_seat(powers_for(actor, now), agency.pk) is not None
    if request.method != "POST":
        return _compose_page(request, actor, ComposeForm(agency_id=agency.pk,
                                                         may_post_notice=may_post), agency)
    form = ComposeForm(request.POST, agency_id=agency.pk, may_post_notice=may_post)
    if not form.is_valid():
        return _compose_page(request, actor, form, agency, status=400)
    d = form.cleaned_data
    try:
        sent = msg_actions.do_send_message(
            actor=actor, agency_id=agency.pk, subject=d["subject"], body=d["body"], now=now,
            people_ids=d.get("people") or [], unit_ids=d.get("units") or [],
            to_all=bool(d.get("to_all")),
            kind=MessageKind.NOTICE if d.get("notice") else MessageKind.MESSAGE)
    except CongvuError as exc:
        return _compose_page(request, actor, form, agency, error=exc.message, status=400)
    messages.success(request, _("Sent: %(subject)s.") % {"subject": sent.subject})
    return HttpResponseRedirect(f"{URL}?box=sent")


class ReplyForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Your reply"), widget=forms.Textarea(
        attrs={"rows": 5}), max_length=msg_actions.MAX_BODY, error_messages={
        "required": gettext_lazy("Content: required."),
        "max_length": gettext_lazy("Content: too long.")})
    reply_all = forms.BooleanField(label=gettext_lazy("Reply to everyone it was sent to"),
                                   required=False)


def _message_page(request: HttpRequest, actor: Actor, message_id: int, *,
                  form: ReplyForm | None = None, error: str = "",
                  status: int = 200) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    opened = msg.message_detail(actor, now, message_id)
    if opened.delivery is not None and opened.delivery.read_at is None:
        msg_actions.do_mark_read(actor=actor, message_id=message_id, now=now)
    m = opened.message
    return render(request, "console/eoffice/messages/message.html", {
        "m": m, "recipients": opened.recipients, "at": local_time(m.sent_at, profile.timezone),
        "received": opened.delivery is not None, "mine": m.sender_id == actor.account_id,
        "notice": m.kind == MessageKind.NOTICE, "form": form or ReplyForm(),
        "error": error, **badges(actor)}, status=status)


@console_view
@require_safe
def message_page(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponse:
    return _message_page(request, actor, message_id)


@console_view
@require_POST
def reply(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponse:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _message_page(request, actor, message_id, form=form, status=400)
    try:
        msg_actions.do_reply(actor=actor, message_id=message_id, body=form.cleaned_data["body"],
                             reply_all=bool(form.cleaned_data.get("reply_all")),
                             now=clock.now())
    except CongvuError as exc:
        if exc.__class__ is not CongvuError:
            raise
        return _message_page(request, actor, message_id, form=form, error=exc.message,
                             status=400)
    messages.success(request, _("Your reply was sent."))
    return HttpResponseRedirect(f"{URL}{message_id}/")


@console_view
@require_POST
def mark_unread(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponse:
    msg.message_detail(actor, clock.now(), message_id)
    msg_actions.do_mark_read(actor=actor, message_id=message_id, now=clock.now(), read=False)
    messages.success(request, _("Marked unread."))
    return HttpResponseRedirect(URL)


@console_view
@require_POST
def delete(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponse:
    msg_actions.do_delete_message(actor=actor, message_id=message_id, now=clock.now())
    messages.success(request, _("The message was removed from your boxes."))
    return HttpResponseRedirect(URL)


# --- the eOffice's notifications -----------------------------------------------------------


def notice_link(n: Notice) -> str:
    """Where a notification leads: its document, or the delegations page."""
    if n.incoming_id:
        return f"/console/eoffice/incoming/{n.incoming_id}/"
    if n.outgoing_id:
        return f"/console/eoffice/outgoing/{n.outgoing_id}/"
    if n.delegation_id:
        return f"/console/eoffice/delegations/#delegation-{n.delegation_id}"
    return ""


@console_view
@require_safe
def notices(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    pick_agency(request, actor, now)  # people with an eOffice seat only
    unread_only = request.GET.get("unread") in ("1", "on")
    page = Paginator(msg.office_notices(actor, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [{"id": n.pk, "text": n.text, "at": local_time(n.created_at, profile.timezone),
             "unread": n.read_at is None, "urgent": n.urgent, "rule": n.rule,
             "url": notice_link(n)} for n in page.object_list]

    def page_url(number: int) -> str:
        return "?" + urlencode({**({"unread": "1"} if unread_only else {}), "page": number})

    return render(request, "console/eoffice/notices/list.html", {
        "rows": rows, "page": page, "unread_only": unread_only,
        **pager_urls(page, page_url), **badges(actor)})


@console_view
@require_POST
def notices_read(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Mark the ticked notifications read, or all of them (``all``)."""
    if request.POST.get("all"):
        ids = list(msg.office_notices(actor, unread_only=True).values_list("pk", flat=True))
    else:
        ids = [int(v) for v in request.POST.getlist("notice") if v.isdigit()]
    count = do_mark_notices_read(actor=actor, notice_ids=ids, now=clock.now())
    messages.success(request, _("%(n)d notification(s) marked read.") % {"n": count})
    return HttpResponseRedirect(NOTICES_URL)


urlpatterns = [
    path("eoffice/messages/", box, name="eoffice-messages"),
    path("eoffice/messages/new/", compose, name="eoffice-messages-new"),
    path("eoffice/messages/<int:message_id>/", message_page, name="eoffice-message"),
    path("eoffice/messages/<int:message_id>/reply/", reply, name="eoffice-message-reply"),
    path("eoffice/messages/<int:message_id>/unread/", mark_unread,
         name="eoffice-message-unread"),
    path("eoffice/messages/<int:message_id>/delete/", delete, name="eoffice-message-delete"),
    path("eoffice/notices/", notices, name="eoffice-notices"),
    path("eoffice/notices/read/", notices_read, name="eoffice-notices-read"),
]
