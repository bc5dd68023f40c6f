"""The operator's processing screen (issue 6): one request on one page, each row with its
naming suggestions and the collision rule applied; take, fulfil all or some rows (the
operator's address per row, checked before anything is written), refuse a row, or
reject the request. One-time passwords are shown once, on a page nobody caches."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.pages.accounts import account_url
from congvu.console.views import console_view, local_time
from congvu.errors import CongvuError
from congvu.profiles import Profile
from congvu.requests.actions import (
    do_fulfil,
    do_refuse_item,
    do_reject_request,
    do_take_request,
)
from congvu.requests.models import (
    OPEN_STATUSES,
    ItemAction,
    ItemStatus,
    RequestKind,
    RequestStatus,
)
from congvu.requests.processing import ProcessingScreen, check_choices, processing_screen
from congvu.requests.selectors import is_overdue

#: What carrying out a row does, in words.
ACTION_LABELS: dict[str, Any] = {
    ItemAction.CREATE_PERSON: gettext_lazy("New mailbox for a person"),
    ItemAction.CREATE_AGENCY_MAILBOX: gettext_lazy("The agency's own mailbox"),
    ItemAction.CHANGE_POSITION: gettext_lazy("Change of position (code 1)"),
    ItemAction.CHANGE_UNIT: gettext_lazy("Change of department (code 2)"),
    ItemAction.CHANGE_ADDRESS: gettext_lazy("Change of address (code 3)"),
    ItemAction.LEAVE: gettext_lazy("Leaving: lock, then delete"),
    ItemAction.RESTORE: gettext_lazy("Restore"),
    ItemAction.RESET_PASSWORD: gettext_lazy("Password re-issue"),
}


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def process_url(request_id: int) -> str:
    return f"/console/requests/{request_id}/process/"


def _rows(screen: ProcessingScreen, profile: Profile, post: Any,
          problems: dict[int, str]) -> list[dict[str, Any]]:
    """Each row as the template shows it, keeping what the operator chose or typed."""
    rows = []
    selected = set(post.getlist("rows")) if post is not None else None
    domain = profile.mail.domain
    for r in screen.rows:
        item, naming = r.item, r.naming
        n = item.number
        chosen = post.get(f"address-{n}", "") if post is not None else ""
        typed = post.get(f"other-{n}", "") if post is not None else ""
        candidates = []
        if naming and naming.suggestion:
            default = chosen or naming.suggestion.local_part
            candidates = [{"local": c, "address": f"{c}@{domain}", "checked": c == default,
                           "id": f"address-{n}-{i}"}
                          for i, c in enumerate(naming.suggestion.candidates, start=1)]
        rows.append({
            "number": n, "item": item, "naming": naming, "open": r.open,
            "action": str(ACTION_LABELS.get(item.action, item.action)),
            "is_create": item.action == ItemAction.CREATE_PERSON,
            "status_label": _label(ItemStatus, item.status),
            "selected": r.open and (selected is None or str(n) in selected),
            "candidates": candidates, "typed": typed, "problem": problems.get(n, ""),
            "account_url": account_url(item.account.address) if item.account else "",
            "domain": domain})
    return rows


def _page(request: HttpRequest, screen: ProcessingScreen, profile: Profile, *,
          post: Any = None, problems: dict[int, str] | None = None, error: str = "",
          reject_error: str = "", refuse_error: str = "", status: int = 200) -> HttpResponse:
    req, tz, now = screen.request, profile.timezone, clock.now()
    is_open = req.status in OPEN_STATUSES
    return render(request, "console/processing/screen.html", {
        "req": req, "kind": _label(RequestKind, req.kind),
        "status": _label(RequestStatus, req.status), "open": is_open,
        "filed": req.status == RequestStatus.FILED,
        "overdue": is_overdue(req, now), "deadline": local_time(req.deadline_at, tz),
        "filed_at": local_time(req.filed_at, tz), "taken_at": local_time(req.taken_at, tz),
        "closed_at": local_time(req.closed_at, tz), "timezone": tz,
        "effective_date": req.effective_date.strftime("%d/%m/%Y") if req.effective_date
        else "",
        "rows": _rows(screen, profile, post, problems or {}),
        "any_open_row": any(r.open for r in screen.rows),
        "url": process_url(req.pk), "error": error, "reject_error": reject_error,
        "refuse_error": refuse_error,
        "reason": post.get("reason", "") if post is not None else "",
        "naming_rule": profile.naming.person_rule,
        "collision_rule": profile.naming.collision_rule}, status=status)


@console_view
def process_page(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    profile = deployment.deployment_profile()
    return _page(request, processing_screen(actor, profile, request_id), profile)


def _back(request_id: int) -> HttpResponse:
    return HttpResponseRedirect(process_url(request_id))


@console_view
def take(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    profile = deployment.deployment_profile()
    screen = processing_screen(actor, profile, request_id)
    if request.method != "POST":
        return _back(request_id)
    try:
        do_take_request(actor=actor, request_id=request_id, now=clock.now())
    except CongvuError as exc:
        return _page(request, screen, profile, error=exc.message, status=400)
    messages.success(request, _("You took the request; the agency can no longer cancel it."))
    return _back(request_id)


@console_view
def fulfil(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    """Carry out the chosen rows; every address choice is checked first and nothing is
    written when one is wrong. Each row then runs in its own transaction."""
    profile = deployment.deployment_profile()
    screen = processing_screen(actor, profile, request_id)
    if request.method != "POST":
        return _back(request_id)
    post = request.POST
    numbers: list[int] = []
    for value in post.getlist("rows"):
        try:
            numbers.append(int(value))
        except ValueError:
            continue
    open_rows = {r.item.number: r for r in screen.rows if r.open}
    if not numbers:
        return _page(request, screen, profile, post=post, status=400,
                     error=_("Rows: tick at least one row to carry out."))
    unknown = [n for n in numbers if n not in open_rows]
    if unknown:
        return _page(request, screen, profile, post=post, status=400,
                     error=_("Rows: row %(n)d is not waiting to be carried out.") % {
                         "n": unknown[0]})
    choices = {}
    for n in numbers:
        if open_rows[n].naming is None:
            continue
        text = (post.get(f"other-{n}", "") or post.get(f"address-{n}", "")).strip()
        if text:
            choices[n] = text
    problems = check_choices(actor, profile, screen, choices)
    if problems:
        return _page(request, screen, profile, post=post, problems=problems, status=400,
                     error=_("Nothing was done: correct the addresses marked below."))
    try:
        done = do_fulfil(actor=actor, profile=profile, request_id=request_id,
                         now=clock.now(), numbers=numbers, addresses=choices)
    except CongvuError as exc:
        return _page(request, screen, profile, post=post, status=400, error=exc.message)
    req = done.request
    items = {r.item.number: r.item for r in screen.rows}
    outcomes: list[dict[str, Any]] = [
        {"o": o, "name": items[o.number].full_name if o.number in items else "",
                 "action": str(ACTION_LABELS.get(o.action, o.action)),
                 "status_label": _label(ItemStatus, o.status),
                 "url": account_url(o.address) if o.address else ""}
                for o in done.outcomes]
    return render(request, "console/processing/result.html", {
        "req": req, "status": _label(RequestStatus, req.status), "outcomes": outcomes,
        "sheets": [o for o in outcomes if o["o"].one_time_password],
        "failed": [o for o in outcomes if o["o"].status == ItemStatus.FAILED],
        "url": process_url(request_id), "rule": profile.password.change_first_login_rule,
        "webmail": profile.mail.webmail_url, "agency": req.agency.name})


@console_view
def refuse(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    """Refuse one row with the reason the agency is told (e.g. a name to correct)."""
    profile = deployment.deployment_profile()
    screen = processing_screen(actor, profile, request_id)
    if request.method != "POST":
        return _back(request_id)
    try:
        number = int(request.POST.get("number", ""))
    except ValueError:
        return _page(request, screen, profile, status=400,
                     refuse_error=_("Row: choose the row to refuse."))
    reason = request.POST.get("refuse_reason", "").strip()
    if not reason:
        return _page(request, screen, profile, status=400,
                     refuse_error=_("Reason for refusing: required; the agency is told why "
                                    "the row is refused."))
    try:
        do_refuse_item(actor=actor, request_id=request_id, number=number, reason=reason,
                       now=clock.now())
    except CongvuError as exc:
        return _page(request, screen, profile, status=400, refuse_error=exc.message)
    messages.success(request, _("Row %(n)d is refused.") % {"n": number})
    return _back(request_id)


@console_view
def reject(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    """Refuse every row not yet done, with the reason the agency is told."""
    profile = deployment.deployment_profile()
    screen = processing_screen(actor, profile, request_id)
    if request.method != "POST":
        return _back(request_id)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        return _page(request, screen, profile, post=request.POST, status=400,
                     reject_error=_("Reason for rejecting: required; the agency is told why "
                                    "its request is rejected."))
    try:
        do_reject_request(actor=actor, request_id=request_id, reason=reason, now=clock.now())
    except CongvuError as exc:
        return _page(request, screen, profile, post=request.POST, status=400,
                     reject_error=exc.message)
    messages.success(request, _("The request is rejected; the agency sees the reason."))
    return _back(request_id)


urlpatterns = [
    path("requests/<int:request_id>/process/", process_page, name="process"),
    path("requests/<int:request_id>/process/take/", take, name="process-take"),
    path("requests/<int:request_id>/process/fulfil/", fulfil, name="process-fulfil"),
    path("requests/<int:request_id>/process/refuse/", refuse, name="process-refuse"),
    path("requests/<int:request_id>/process/reject/", reject, name="process-reject"),
]
