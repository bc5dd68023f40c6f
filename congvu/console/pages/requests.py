"""The request pages: the list (the operator's queue, or an agency's own requests) and
one request. Thin: the selectors decide who sees what and raise Forbidden/NotFound;
:func:`console_view` turns those into pages."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.views import console_view, local_date, local_time
from congvu.requests.models import ItemStatus, RequestKind, RequestStatus, ServiceRequest
from congvu.requests.selectors import (
    is_overdue,
    queue_for,
    request_detail,
    request_json,
    requests_for,
)

#: Requests per page of the list.
PAGE_SIZE = 50


def _label(choices: type[RequestKind] | type[RequestStatus] | type[ItemStatus],
           value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _row(req: ServiceRequest, tz: str, now: dt.datetime) -> dict[str, Any]:
    return {"id": req.pk, "kind": _label(RequestKind, req.kind),
            "agency": req.agency.name, "agency_ref": req.agency.account_name,
            "filed_at": local_time(req.filed_at, tz), "deadline": local_time(req.deadline_at, tz),
            "rule": req.deadline_rule or "—",
            "status": _label(RequestStatus, req.status),
            "overdue": is_overdue(req, now)}


@console_view
def request_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    status = request.GET.get("status", "").strip()
    overdue = request.GET.get("overdue", "") in ("1", "on", "true")
    queue = actor.is_operator and not status and not overdue
    qs = (queue_for(actor, now) if queue
          else requests_for(actor, now, status=status, overdue=overdue))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_row(r, profile.timezone, now) for r in page.object_list]
    filters = {k: v for k, v in (("status", status), ("overdue", "1" if overdue else "")) if v}

    def page_url(number: int) -> str:
        return "?" + urlencode({**filters, "page": number})

    return render(request, "console/requests.html", {
        "rows": rows, "page": page, "queue": queue, "is_operator": actor.is_operator,
        "status": status, "overdue": overdue, "statuses": RequestStatus.choices,
        "timezone": profile.timezone,
        "previous_url": page_url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": page_url(page.next_page_number()) if page.has_next() else ""})


@console_view
def request_page(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    req = request_detail(actor, request_id)
    data = request_json(req, profile, now)
    tz = profile.timezone
    items = [{**item, "status_label": _label(ItemStatus, item["status"])}
             for item in data["items"]]
    return render(request, "console/request.html", {
        "req": req, "data": data, "items": items,
        "kind": _label(RequestKind, req.kind), "status": _label(RequestStatus, req.status),
        "filed_at": local_time(req.filed_at, tz), "deadline": local_time(req.deadline_at, tz),
        "taken_at": local_time(req.taken_at, tz), "closed_at": local_time(req.closed_at, tz),
        "effective_date": local_date(req.effective_date), "timezone": tz})


urlpatterns = [
    path("requests/", request_list, name="requests"),
    path("requests/<int:request_id>/", request_page, name="request"),
]
