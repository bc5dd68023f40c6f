"""The request pages: the list (the operator's queue, or an agency's own requests), one
request (with the filer's cancel and the operator's link to processing), and filing a
request in the browser (KH Mẫu 01/02/03, restore, password re-issue; the forms are in
:mod:`congvu.console.pages.request_forms`). Thin: the selectors and actions decide who
sees and does what and raise Forbidden/NotFound; :func:`console_view` turns those into
pages."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.pages.processing import ACTION_LABELS
from congvu.console.pages.request_forms import MAX_ROWS, FilingForms, row_form
from congvu.console.views import console_view, local_date, local_time, pager_urls
from congvu.directory.models import Agency
from congvu.errors import CongvuError, NotFound
from congvu.profiles import Duration, Profile
from congvu.requests.actions import do_cancel_request, do_file_request
from congvu.requests.drafts import FILERS, check_filing, filing_agencies, require_filer
from congvu.requests.filing import RequestInvalid
from congvu.requests.models import (
    OPEN_STATUSES,
    ItemStatus,
    RequestKind,
    RequestStatus,
    ServiceRequest,
)
from congvu.requests.selectors import (
    is_overdue,
    queue_for,
    request_detail,
    request_json,
    requests_for,
)
from congvu.requests.sla import SLA_KEYS, sla_rule

#: The "status" filter value for the requests still open (filed or in progress).
OPEN = "open"

#: Requests per page of the list.
PAGE_SIZE = 50


def _label(choices: type[RequestKind] | type[RequestStatus] | type[ItemStatus],
           value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _row(req: ServiceRequest, tz: str, now: dt.datetime, flag: str) -> dict[str, Any]:
    """One row of the list, its HTML built here rather than in the template: a page has
    fifty, and the template engine's per-tag cost was over half of the queue's time.
    ``flag`` is the (translated) overdue mark, looked up once per page."""
    row = {"id": req.pk, "kind": _label(RequestKind, req.kind),
           "agency": req.agency.name, "agency_ref": req.agency.account_name,
           "filed_at": local_time(req.filed_at, tz), "deadline": local_time(req.deadline_at, tz),
           "rule": req.deadline_rule or "—",
           "status": _label(RequestStatus, req.status),
           "overdue": is_overdue(req, now)}
    row["html"] = format_html(
        '<tr id="request-{}"{}>\n<th scope="row"><a href="/console/requests/{}/">#{}</a></th>\n'
        '<td>{}</td>\n<td>{} <span class="note">({})</span></td>\n<td>{}</td>\n<td>{}</td>\n'
        '<td>{}</td>\n<td>{}</td>\n<td>{}</td>\n</tr>',
        row["id"], mark_safe(' class="overdue"') if row["overdue"] else "",
        row["id"], row["id"], row["kind"], row["agency"], row["agency_ref"], row["filed_at"],
        row["deadline"], row["rule"], row["status"],
        format_html('<strong class="flag">{}</strong>', flag) if row["overdue"] else "—")
    return row


@console_view
def request_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    status = request.GET.get("status", "").strip()
    overdue = request.GET.get("overdue", "") in ("1", "on", "true")
    queue = actor.is_operator and status in ("", OPEN) and not overdue
    if queue:
        qs = queue_for(actor, now)
    elif status == OPEN:
        qs = requests_for(actor, now, overdue=overdue).filter(status__in=OPEN_STATUSES)
    else:
        qs = requests_for(actor, now, status=status, overdue=overdue)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    flag = _("Overdue")
    rows = [_row(r, profile.timezone, now, flag) for r in page.object_list]
    filters = {k: v for k, v in (("status", status), ("overdue", "1" if overdue else "")) if v}

    def page_url(number: int) -> str:
        return "?" + urlencode({**filters, "page": number})

    return render(request, "console/requests.html", {
        "rows": rows, "page": page, "queue": queue, "is_operator": actor.is_operator,
        "status": status, "overdue": overdue, "statuses": RequestStatus.choices,
        "timezone": profile.timezone, "may_file": actor.kind in FILERS,
        **pager_urls(page, page_url)})


@console_view
def request_page(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    req = request_detail(actor, request_id)
    data = request_json(req, profile, now)
    tz = profile.timezone
    items = [{**item, "status_label": _label(ItemStatus, item["status"]),
              "action_label": str(ACTION_LABELS.get(item["action"], item["action"]))}
             for item in data["items"]]
    is_open = req.status in OPEN_STATUSES
    return render(request, "console/request.html", {
        "req": req, "data": data, "items": items,
        "kind": _label(RequestKind, req.kind), "status": _label(RequestStatus, req.status),
        "filed_at": local_time(req.filed_at, tz), "deadline": local_time(req.deadline_at, tz),
        "sla": span_label(req.sla),
        "taken_at": local_time(req.taken_at, tz), "closed_at": local_time(req.closed_at, tz),
        "effective_date": local_date(req.effective_date), "timezone": tz,
        # The filing agency may withdraw it until an operator takes it (the action
        # checks again); an operator processes it on its own screen.
        "may_cancel": req.status == RequestStatus.FILED and actor.kind in ("agency-it", "clerk"),
        "cancel_form": CancelForm(),
        "process_url": f"/console/requests/{req.pk}/process/"
        if actor.is_operator and is_open else ""})


def span_label(text: str) -> str:
    """An SLA as people say it ("3 ngày làm việc"), or an em dash."""
    try:
        span = Duration.parse(text)
    except CongvuError:  # a value written by an older version: shown as stored
        return text
    if span is None:
        return "—"
    n = span.amount
    if span.working and span.unit == "days":
        return _("1 working day") if n == 1 else _("%(n)d working days") % {"n": n}
    if span.working and span.unit == "minutes":
        return _("%(n)d minutes of working time") % {"n": n}
    if span.unit == "days":
        return _("%(n)d day(s)") % {"n": n}
    if span.unit == "minutes":
        return _("%(n)d minute(s)") % {"n": n}
    return _("%(n)d month(s)") % {"n": n}


class CancelForm(forms.Form):
    reason = forms.CharField(
        required=False, max_length=2000, label=gettext_lazy("Why (optional)"),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
        error_messages={"max_length": gettext_lazy(
            "Why: at most %(limit_value)d characters (you wrote %(show_value)d).")})


@console_view
@require_POST
def cancel_request(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    """The filing agency withdraws a request no operator has taken yet (the action
    checks the agency and the status: another agency's request is a 403)."""
    form = CancelForm(request.POST)
    if not form.is_valid():
        req = request_detail(actor, request_id)  # 403/404 before anything is shown
        messages.error(request, "; ".join(str(e) for e in form.errors["reason"]))
        return HttpResponseRedirect(f"/console/requests/{req.pk}/")
    req = do_cancel_request(actor=actor, request_id=request_id, now=clock.now(),
                            reason=form.cleaned_data["reason"])
    messages.success(request, _("Request #%(id)s is cancelled.") % {"id": req.pk})
    return HttpResponseRedirect(f"/console/requests/{req.pk}/")


# --- filing -------------------------------------------------------------------------------

#: What each kind of form is for, in a clerk's words, and the rules of each province
#: behind it (a deployment shows its own province's only).
KIND_HELP: dict[str, tuple[Any, tuple[str, ...]]] = {
    RequestKind.NEW_MAILBOXES: (gettext_lazy(
        "Mailboxes for newly recruited or transferred staff, and the agency's own mailbox."),
        ("NB-6.2", "KH-4.1", "QN-5", "NT-5.2a")),
    RequestKind.CHANGE: (gettext_lazy(
        "A holder's new position (code 1), department (code 2) or mailbox address "
        "(code 3), or a person transferred in from another agency of the province."),
        ("KH-4.3",)),
    RequestKind.DELETION: (gettext_lazy(
        "Mailboxes of staff who retire, leave or move out of the province: locked, then "
        "deleted after the delay the regulation sets."),
        ("NB-7.4", "KH-4.4", "QN-7.1", "NT-5.2c")),
    RequestKind.RESTORE: (gettext_lazy(
        "A suspended or locked account put back in use, with a new one-time password."),
        ("NB-7.3", "NT-6.3")),
    RequestKind.PASSWORD_REISSUE: (gettext_lazy(
        "A new one-time password for a holder who lost theirs; they change it at first "
        "sign-in."), ("KH-4.2", "QN-6")),
}


def _kind_help(profile: Profile, kind: str) -> str:
    text, rules = KIND_HELP[kind]
    own = [r for r in rules if r.startswith(f"{profile.rule_prefix}-")]
    return f"{text} ({', '.join(own)})" if own else str(text)


def _kind(kind: str) -> str:
    if kind not in RequestKind.values:
        raise Http404
    return kind


def _deadline_text(profile: Profile, kind: str) -> str:
    key = SLA_KEYS.get(kind)
    span = profile.sla.get(key) if key else None
    if key is None or span is None:
        return _("The profile of %(province)s sets no deadline for this kind of request.") % {
            "province": profile.province}
    return _("The operator answers within %(span)s (%(rule)s).") % {
        "span": span_label(str(span)), "rule": sla_rule(profile, key)}


@console_view
@require_GET
def new_request(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Choose the kind of request to file."""
    require_filer(actor)
    profile = deployment.deployment_profile()
    kinds = [{"value": value, "label": label, "help": _kind_help(profile, value),
              "deadline": _deadline_text(profile, value)}
             for value, label in RequestKind.choices]
    return render(request, "console/requests/new.html", {"kinds": kinds})


def _units(agencies: list[Agency] | None) -> list[tuple[str, str]]:
    """Suggestions for the department column: (what to type, what it is)."""
    if agencies is None:
        return []
    names = [a.name for a in agencies]
    return [(a.name if names.count(a.name) == 1 else a.account_name, a.account_name)
            for a in agencies if a.parent_id is not None]


def _initial(request: HttpRequest, agencies: list[Agency] | None) -> dict[str, Any]:
    person = getattr(request.user, "person", None)
    initial: dict[str, Any] = {"requester_name": person.full_name if person else "",
                               "requester_position": person.position if person else ""}
    if agencies is not None and len(agencies) == 1:
        initial["agency"] = agencies[0].account_name
    return initial


def _render_form(request: HttpRequest, kind: str, forms_: FilingForms,
                 agencies: list[Agency] | None, profile: Profile,
                 status: int = 200) -> HttpResponse:
    return render(request, "console/requests/file.html", {
        "kind": kind, "kind_label": _label(RequestKind, kind), "help": _kind_help(profile, kind),
        "deadline": _deadline_text(profile, kind), "forms": forms_,
        "header": forms_.header, "rows": list(enumerate(forms_.rows, start=1)),
        "columns": forms_.blank_row(), "units": _units(agencies), "max_rows": MAX_ROWS,
        "errors": forms_.errors()}, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def file_request(request: HttpRequest, actor: Actor, kind: str) -> HttpResponse:
    """One form of ``kind``: the header and a table of rows. "Add more rows" re-renders
    it with what was typed; "File the request" checks everything through the domain
    (every problem beside its field, nothing written) and, once it is right, files it
    and goes to the request's page with its deadline and rule."""
    kind = _kind(kind)
    profile = deployment.deployment_profile()
    qs = filing_agencies(actor)
    agencies = list(qs) if qs is not None else None
    if request.method == "GET":
        return _render_form(request, kind, FilingForms(kind, agencies,
                                                       initial=_initial(request, agencies)),
                            agencies, profile)
    if "more" in request.POST:  # no JavaScript: more blank rows, nothing checked yet
        forms_ = FilingForms(kind, agencies, data=request.POST, extra_rows=3)
        return _render_form(request, kind, forms_, agencies, profile)
    forms_ = FilingForms(kind, agencies, data=request.POST)
    readable = forms_.parse()
    agency_ref = forms_.agency_ref()
    now = clock.now()
    if not agency_ref:
        forms_.field_error("agency", _("Agency: required: choose the agency the request "
                                       "is for."))
        return _render_form(request, kind, forms_, agencies, profile, status=400)
    try:
        if not readable:  # the rest is still checked, so every problem shows at once
            forms_.attach(check_filing(actor=actor, profile=profile, kind=kind,
                                       agency_ref=agency_ref, form=forms_.request_form(),
                                       now=now))
            return _render_form(request, kind, forms_, agencies, profile, status=400)
        req = do_file_request(actor=actor, profile=profile, kind=kind, agency_ref=agency_ref,
                              form=forms_.request_form(), now=now)
    except RequestInvalid as exc:
        forms_.attach(exc.problems)
        return _render_form(request, kind, forms_, agencies, profile, status=400)
    except NotFound as exc:  # the agency typed does not exist (Forbidden is a 403 page)
        forms_.field_error("agency", f"{forms_.header.fields['agency'].label}: {exc.message}")
        return _render_form(request, kind, forms_, agencies, profile, status=400)
    messages.success(request, _(
        "Request #%(id)s is filed. The operator must answer by %(deadline)s (%(sla)s, "
        "%(rule)s).") % {"id": req.pk, "deadline": local_time(req.deadline_at,
                                                              profile.timezone),
                         "sla": span_label(req.sla), "rule": req.deadline_rule}
        if req.deadline_at else _("Request #%(id)s is filed; the profile sets no deadline "
                                  "for it.") % {"id": req.pk})
    return HttpResponseRedirect(f"/console/requests/{req.pk}/")


@console_view
@require_GET
def new_row(request: HttpRequest, actor: Actor, kind: str) -> HttpResponse:
    """htmx: one more blank row (after ``rows``), and the row count updated."""
    kind = _kind(kind)
    require_filer(actor)
    try:
        count = max(0, int(request.GET.get("rows", "0")))
    except ValueError:
        count = 0
    if count >= MAX_ROWS:
        return HttpResponse("")
    n = count + 1
    return render(request, "console/requests/_row_added.html",
                  {"n": n, "row": row_form(kind, n), "kind": kind})


urlpatterns = [
    path("requests/", request_list, name="requests"),
    path("requests/new/", new_request, name="request-new"),
    path("requests/new/<str:kind>/", file_request, name="request-file"),
    path("requests/new/<str:kind>/row/", new_row, name="request-row"),
    path("requests/<int:request_id>/", request_page, name="request"),
    path("requests/<int:request_id>/cancel/", cancel_request, name="request-cancel"),
]
