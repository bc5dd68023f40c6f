"""The console's pages (issue 6, first slice): home, the request list (the operator's
queue, or an agency's own requests) and one request. Thin: the selectors decide who sees
what and raise Forbidden/NotFound; :func:`console_view` turns those into pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from congvu import clock, deployment
from congvu.accounts.models import Account
from congvu.accounts.roles import actor_for
from congvu.accounts.selectors import roles_of
from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.requests.models import ItemStatus, RequestKind, RequestStatus, ServiceRequest
from congvu.requests.selectors import (
    is_overdue,
    queue_for,
    request_detail,
    request_json,
    requests_for,
)

P = ParamSpec("P")
ConsoleView = Callable[Concatenate[HttpRequest, Actor, P], HttpResponse]

#: Requests per page of the list.
PAGE_SIZE = 50

#: Who sees the request pages (the selectors check it again).
REQUEST_ROLES = ("operator", "agency-it", "clerk")

ROLE_LABELS = {
    "operator": gettext_lazy("Operator"),
    "agency-it": gettext_lazy("Agency IT contact"),
    "clerk": gettext_lazy("Clerk"),
    "civil-servant": gettext_lazy("Civil servant"),
    "leader": gettext_lazy("Leader"),
    "agency-mailbox": gettext_lazy("Agency mailbox"),
}


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    titles = {400: _("The request cannot be shown"), 403: _("Access denied"),
              404: _("Not found")}
    return render(request, "console/error.html",
                  {"title": titles[status], "message": message, "status": status},
                  status=status)


def console_view(view: ConsoleView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Signed in through the SSO (else to the sign-in page and back), acting as the
    :class:`Actor` of the account's grants; Forbidden → 403, NotFound → 404, other domain
    errors (a bad filter) → 400, each a page in the user's language."""

    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated or not isinstance(request.user, Account):
            return redirect_to_login(request.get_full_path(), "/sso/login/")
        actor = actor_for(request.user)
        try:
            return view(request, actor, *args, **kwargs)
        except Forbidden as exc:
            return _error(request, 403, exc.message)
        except NotFound as exc:
            return _error(request, 404, exc.message)
        except CongvuError as exc:
            return _error(request, 400, exc.message)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return never_cache(wrapper)


def _local(moment: dt.datetime | None, tz: str) -> str:
    """dd/mm/yyyy HH:MM in the profile's time zone (Vietnamese usage), or an em dash."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


@console_view
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)
    roles = [str(ROLE_LABELS.get(r, r)) for r in roles_of(account)]
    agencies = list(Agency.objects.filter(pk__in=actor.request_scope).order_by("name"))
    return render(request, "console/home.html", {
        "account": account, "roles": roles, "agencies": agencies,
        "sees_requests": actor.kind in REQUEST_ROLES, "is_operator": actor.is_operator})


def _label(choices: type[RequestKind] | type[RequestStatus] | type[ItemStatus],
           value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _row(req: ServiceRequest, tz: str, now: dt.datetime) -> dict[str, Any]:
    return {"id": req.pk, "kind": _label(RequestKind, req.kind),
            "agency": req.agency.name, "agency_ref": req.agency.account_name,
            "filed_at": _local(req.filed_at, tz), "deadline": _local(req.deadline_at, tz),
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
        "filed_at": _local(req.filed_at, tz), "deadline": _local(req.deadline_at, tz),
        "taken_at": _local(req.taken_at, tz), "closed_at": _local(req.closed_at, tz),
        "effective_date": req.effective_date.strftime("%d/%m/%Y") if req.effective_date
        else "—", "timezone": tz})
