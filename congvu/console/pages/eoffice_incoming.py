"""eOffice pages (issue 7): incoming documents (GL-9). Paths under ``/console/eoffice/``.

This module holds the worklist (``incoming/``): the clerk's intake (ND30-23: what is
late) and the agency's registered documents, the leaders' documents to distribute, and
everyone's assignments (overdue first). Registration, one document with its actions, and
the work files are in ``eoffice_incoming_*.py``; their URLs are included here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from congvu import deployment
from congvu.actors import Actor
from congvu.console.pages import (
    eoffice_incoming_detail,
    eoffice_incoming_register,
    eoffice_incoming_workfiles,
)
from congvu.console.pages.eoffice_incoming_common import (
    BASE,
    PAGE_SIZE,
    assignment_row,
    document_row,
    now,
    today,
)
from congvu.console.pages.eoffice_incoming_forms import urgency_choices
from congvu.console.views import console_view, pager_urls
from congvu.directory.models import Agency
from congvu.eoffice import selectors, worklists
from congvu.eoffice.models import AssignmentStatus, IncomingStatus

TABS: dict[str, Any] = {
    "intake": gettext_lazy("Intake (to register)"),
    "registered": gettext_lazy("Registered documents"),
    "distribute": gettext_lazy("To distribute"),
    "mine": gettext_lazy("Assigned to me / my department"),
}


def _tabs(desk: worklists.Desk) -> list[str]:
    shown = []
    if desk.is_clerk:
        shown += ["intake", "registered"]
    if desk.is_leader:
        shown.append("distribute")
    return [*shown, "mine"]


def _filters(request: HttpRequest, tab: str) -> dict[str, str]:
    wanted = {"tab": tab,
              "status": request.GET.get("status", "").strip(),
              "urgency": request.GET.get("urgency", "").strip(),
              "overdue": "1" if request.GET.get("overdue", "") in ("1", "on") else ""}
    return {k: v for k, v in wanted.items() if v}


@console_view
@require_GET
def incoming_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    moment = now()
    day = today(profile, moment)
    tz = profile.timezone
    desk = worklists.seated_desk(actor, moment)
    tabs = _tabs(desk)
    tab = request.GET.get("tab", "")
    if tab not in tabs:
        tab = tabs[0]
    filters = _filters(request, tab)
    status, urgency = filters.get("status", ""), filters.get("urgency", "")
    overdue = bool(filters.get("overdue"))
    context: dict[str, Any] = {"tab": tab, "filters": filters, "timezone": tz,
                               "may_register": desk.is_clerk,
                               "tabs": [{"key": t, "label": TABS[t], "current": t == tab,
                                         "url": f"{BASE}?tab={t}"} for t in tabs]}
    rows: list[dict[str, Any]]
    if tab == "intake":
        rows = []
        late: list[dict[str, Any]] = []
        for agency_id in desk.clerk_agencies:
            for item in selectors.intake_for(actor, moment, agency_id=agency_id):
                rows.append({**document_row(item.document, tz, day), "late": item.waiting})
            late += [{**document_row(item.document, tz, day), "waiting": item.waiting}
                     for item in selectors.late_registrations(actor, moment,
                                                              agency_id=agency_id)
                     if not item.waiting]
        if urgency:
            rows = [r for r in rows if r["urgency_key"] == urgency]
        if overdue:
            rows = [r for r in rows if r["late"]]
        context["registered_late"] = late
    elif tab in ("registered", "distribute"):
        qs = (worklists.registered_in(actor, moment, desk.clerk_agencies)
              if tab == "registered" else worklists.to_distribute(actor, moment))
        if status and tab == "registered":
            qs = qs.filter(status=status)
        if urgency:
            qs = qs.filter(urgency=urgency)
        if overdue:
            qs = qs.filter(deadline__lt=day).exclude(status=IncomingStatus.DONE)
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [document_row(d, tz, day) for d in page.object_list]
        context["page"] = page
    else:
        found = worklists.my_assignments(actor, moment, day, open_only=status != "done")
        if status:
            found = [a for a in found if a.status == status]
        if urgency:
            found = [a for a in found if a.document.urgency == urgency]
        if overdue:
            found = [a for a in found if worklists.is_overdue(
                a.deadline, day, a.status == AssignmentStatus.DONE)]
        mine = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [assignment_row(a, tz, day) for a in mine.object_list]
        context["page"] = mine
    if "page" in context:
        def page_url(number: int) -> str:
            return "?" + urlencode({**filters, "page": number})

        context.update(pager_urls(context["page"], page_url))
    statuses = (AssignmentStatus.choices if tab == "mine"
                else IncomingStatus.choices[1:] if tab == "registered" else [])
    agencies = Agency.objects.filter(pk__in=desk.clerk_agencies + desk.leader_agencies)
    context.update({"rows": rows, "statuses": statuses, "status": status,
                    "urgency": urgency, "overdue": overdue,
                    "urgencies": urgency_choices()[1:],
                    "agencies": ", ".join(a.name for a in agencies),
                    "caption": _caption(tab)})
    return render(request, "console/eoffice/incoming/list.html", context)


def _caption(tab: str) -> str:
    return {
        "intake": _("Received electronically, waiting to be registered, oldest first "
                    "(registration is due the same or the next working day, ND30-23)"),
        "registered": _("The agency's registered incoming documents, newest first"),
        "distribute": _("Registered documents waiting for a leader's distribution "
                        "(GL-9.3)"),
        "mine": _("Assignments to you or your department, overdue first, then by deadline"),
    }[tab]


urlpatterns: list[URLPattern | URLResolver] = [
    path("eoffice/incoming/", incoming_list, name="eoffice-incoming"),
    *eoffice_incoming_register.urlpatterns,
    *eoffice_incoming_detail.urlpatterns,
    *eoffice_incoming_workfiles.urlpatterns,
]
