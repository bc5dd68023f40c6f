"""eOffice pages (issue 7): outgoing documents (văn bản đi, GL-10). Paths under
``/console/eoffice/``:

- ``outgoing/``: the person's drafts and documents (filters, 50 a page) and, for the
  clerks, what waits for a number and what waits to be issued;
- ``reviews/``: the reviewer's queue, overdue first, with the GL-10.7 deadline in
  working days (and, for leaders and clerks, the agency's overdue reviews);
- ``outgoing/new/`` (``?reply_to=<incoming id>``): a new draft;
- ``outgoing/<id>/`` and its actions: :mod:`congvu.console.pages.eoffice_outgoing_detail`.

Thin: the selectors and actions decide who sees and does what.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.pages import eoffice_outgoing_detail as detail
from congvu.console.pages.eoffice_outgoing_common import due_text, row, who
from congvu.console.pages.eoffice_outgoing_forms import DraftForm
from congvu.console.views import console_view, local_time, pager_urls
from congvu.eoffice import actions, drafting, rules
from congvu.eoffice.models import LEADERS, OfficeRole, OutgoingDocument, OutgoingStatus
from congvu.eoffice.params import deployment_params
from congvu.eoffice.selectors import incoming_detail, outgoing_for, overdue_reviews, reviews_for
from congvu.errors import CongvuError, Forbidden
from congvu.workdays import calendar_for

#: Documents per page of the list.
PAGE_SIZE = 50
#: The "mine" filter: only the drafts the person wrote.
MINE = "mine"


@console_view
@require_GET
def outgoing_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    now = clock.now()
    powers = drafting.office_powers(actor, now)
    tz = deployment.deployment_profile().timezone
    status = request.GET.get("status", "").strip()
    if status and status not in OutgoingStatus.values:
        status = ""
    text = request.GET.get("q", "").strip()[:200]
    mine = request.GET.get("mine", "") == MINE
    qs = outgoing_for(actor, now, status=status or None, text=text)
    if mine:
        qs = qs.filter(drafter_id=actor.account_id)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {k: v for k, v in (("status", status), ("q", text),
                                 ("mine", MINE if mine else "")) if v}

    def page_url(number: int) -> str:
        return "?" + urlencode({**filters, "page": number})

    clerk = bool(powers.agencies(OfficeRole.CLERK))
    context = {
        "rows": [row(d, tz) for d in page.object_list], "page": page, "status": status,
        "q": text, "mine": mine, "statuses": OutgoingStatus.choices, "timezone": tz,
        "may_draft": bool(drafting.drafting_places(actor, now)), "clerk": clerk,
        "to_number": [row(d, tz) for d in drafting.clerk_queue(
            actor, now, OutgoingStatus.APPROVED)[:100]] if clerk else [],
        "to_issue": [row(d, tz) for d in drafting.clerk_queue(
            actor, now, OutgoingStatus.NUMBERED)[:100]] if clerk else [],
        **pager_urls(page, page_url)}
    if request.headers.get("HX-Request") and request.GET.get("partial") == "table":
        return render(request, "console/eoffice/outgoing/_table.html", context)
    return render(request, "console/eoffice/outgoing/list.html", context)


@console_view
@require_GET
def review_queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    now = clock.now()
    powers = drafting.office_powers(actor, now)
    profile = deployment.deployment_profile()
    cal = calendar_for(profile)
    items = sorted(reviews_for(actor, now), key=lambda i: (not i.overdue, i.review_round.due_at))

    def review_row(item: Any) -> dict[str, Any]:
        r, doc = item.review_round, item.outgoing
        due = drafting.due_state(cal, now, r.due_at)
        return {**row(doc, profile.timezone), "round": r.number,
                "stage": str(r.get_stage_display()), "submitted": local_time(
                    r.submitted_at, profile.timezone), "submitted_by": who(r.submitted_by_label),
                "due": local_time(r.due_at, profile.timezone), "due_text": due_text(due),
                "overdue": due.overdue, "rule": r.due_rule or rules.RULE_REVIEW_DAYS}

    watched = []
    for agency_id in sorted(powers.agencies(OfficeRole.CLERK, *LEADERS)):
        watched += overdue_reviews(actor, now, agency_id=agency_id)
    mine = {i.review_round.pk for i in items}
    return render(request, "console/eoffice/outgoing/reviews.html", {
        "rows": [review_row(i) for i in items], "timezone": profile.timezone,
        "watched": [review_row(i) for i in watched if i.review_round.pk not in mine],
        "watching": bool(powers.agencies(OfficeRole.CLERK, *LEADERS)),
        "overdue_count": sum(1 for i in items if i.overdue)})


# --- a new draft -------------------------------------------------------------------------


def _incoming_label(doc: Any) -> str:
    number = _("No. %(n)s") % {"n": doc.number} if doc.number else ""
    parts = [p for p in (number, doc.number_symbol, doc.issuer) if p]
    return f"{' · '.join(parts)} — {doc.summary[:90]}"


def _outgoing_label(doc: OutgoingDocument) -> str:
    head = doc.number_text.removeprefix("Số: ") or f"#{doc.pk}"
    return f"{head} — {doc.summary[:90]}"


def _draft_form(request: HttpRequest, actor: Actor, now: dt.datetime,
                data: Any = None, files: Any = None) -> tuple[DraftForm, list[Any]]:
    places = drafting.drafting_places(actor, now)
    if not places:
        raise Forbidden(_("Only the agency's specialists and heads of department draft "
                          "outgoing documents."), rule=rules.RULE_SUBMIT)
    departments = [(d.pk, d.name) for p in places for d in p.departments]
    form = DraftForm(
        data, files, params=deployment_params(deployment.deployment_profile()),
        agencies=[(p.agency.pk, p.agency.name) for p in places], departments=departments,
        related_incoming=[(d.pk, _incoming_label(d))
                          for d in drafting.recent_incoming(actor, now)],
        related_outgoing=[(d.pk, _outgoing_label(d))
                          for d in drafting.recent_outgoing(actor, now)],
        initial={"department": departments[0][0] if len(departments) == 1 else None})
    return form, places


def _render_new(request: HttpRequest, form: DraftForm, places: list[Any], reply_to: Any,
                error: str = "", status: int = 200) -> HttpResponse:
    names = sorted({n for p in places for n in drafting.signers(p.agency.pk)})
    return render(request, "console/eoffice/outgoing/new.html", {
        "form": form, "reply_to": reply_to,
        "reply_label": _incoming_label(reply_to) if reply_to else "",
        "signers": names, "error": error,
        "field_errors": [(f.auto_id, e) for f in form for e in f.errors],
        "general_errors": list(form.non_field_errors())}, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def new_draft(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A specialist's new draft (GL-10.1), or the reply to an incoming document they
    handle (``?reply_to=``, GL-9.6): the action links the two."""
    now = clock.now()
    raw = (request.POST if request.method == "POST" else request.GET).get("reply_to", "")
    reply_to = incoming_detail(actor, now, int(raw)) if raw.isdigit() else None
    if request.method == "GET":
        form, places = _draft_form(request, actor, now)
        if reply_to is not None:
            form.initial.update({"doc_type": "cong-van", "agency": reply_to.agency_id})
        return _render_new(request, form, places, reply_to)
    form, places = _draft_form(request, actor, now, request.POST, request.FILES)
    if not form.is_valid():
        return _render_new(request, form, places, reply_to, status=400)
    d = form.cleaned_data
    draft = actions.DraftForm(
        doc_type=d["doc_type"], summary=d["summary"], field=d["field"],
        department_id=d["department"], deadline=d["deadline"], urgency=d["urgency"],
        confidentiality=d["confidentiality"], normative=d["normative"], signer=d["signer"],
        recipients_text=d["recipients_text"], copies=d["copies"],
        page_count=d["page_count"], related_incoming=tuple(d["related_incoming"]),
        related_outgoing=tuple(d["related_outgoing"]))
    profile = deployment.deployment_profile()
    try:
        if reply_to is not None:
            doc = actions.do_start_reply(actor=actor, profile=profile,
                                         incoming_id=reply_to.pk, form=draft,
                                         upload=form.upload(), now=now)
        else:
            doc = actions.do_draft_outgoing(actor=actor, profile=profile,
                                            agency_id=d["agency"], form=draft,
                                            upload=form.upload(), now=now)
    except CongvuError as exc:
        return _render_new(request, form, places, reply_to, error=exc.message,
                           status=403 if isinstance(exc, Forbidden) else 400)
    messages.success(request, _("Draft #%(id)s is saved (version 1). Submit it when it is "
                                "ready.") % {"id": doc.pk})
    return HttpResponseRedirect(f"/console/eoffice/outgoing/{doc.pk}/")


urlpatterns: list[URLPattern] = [
    path("eoffice/outgoing/", outgoing_list, name="eoffice-outgoing"),
    path("eoffice/outgoing/new/", new_draft, name="eoffice-outgoing-new"),
    path("eoffice/reviews/", review_queue, name="eoffice-reviews"),
    *detail.urlpatterns,
]
