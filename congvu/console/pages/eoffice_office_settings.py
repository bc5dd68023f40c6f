"""An agency's eOffice settings (GL-3.4, GL-12..15), for the province's operator and
the agency's IT contact (as ``do_grant_office_role`` allows): who holds which eOffice
role (grant with a person picker that searches the directory, revoke), the symbols of
the agency and its departments used in document numbers (Decree 30), and the GL-3.4
system parameters in force (read-only: they are set in ``congvu.toml`` ``[eoffice]``).

The reads here (grants, symbols, the picker) check the same right as the actions
(``Actor.require_agency``); they would sit better in ``congvu/eoffice/selectors.py``."""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from congvu import clock, deployment
from congvu.accounts.models import Account, AccountKind
from congvu.actors import Actor
from congvu.console.views import console_view, local_time
from congvu.directory.models import Agency, AgencyKind
from congvu.directory.search import directory_rows, matching_ids, parse_query
from congvu.directory.selectors import agency_subtree_ids
from congvu.eoffice import actions, selectors
from congvu.eoffice.models import AgencySymbol, OfficeRole, OfficeRoleGrant
from congvu.eoffice.params import EofficeParams, deployment_params
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.profiles import Duration

URL = "/console/eoffice/settings/"
R = OfficeRole
PICKER_LIMIT = 20

#: What each GL-3.4 parameter means (shown beside its value).
PARAM_LABELS = {
    "review_span": gettext_lazy("Time for each reviewer of a draft (GL-10.7)"),
    "review_rule": gettext_lazy("Rule cited for the review time"),
    "urgent_review_span": gettext_lazy("Time for each reviewer of an urgent draft"),
    "registration_span": gettext_lazy("Time to register an incoming document (Decree 30, "
                                      "Art. 23)"),
    "summary_min_words": gettext_lazy("Fewest words in a summary (GL-9.1 guidance)"),
    "max_file_mb": gettext_lazy("Largest file (MB)"),
    "incoming_pdf_only": gettext_lazy("Incoming documents as PDF only"),
    "accepted_types": gettext_lazy("File types accepted"),
    "mail_notices": gettext_lazy("Urgent documents also notify by mail"),
    "escalate_assignments": gettext_lazy("Missed assignment deadlines are escalated"),
}


def _ids(agency: Agency) -> list[int]:
    return [a.pk for a in agency.ancestors()]


def _managed(actor: Actor) -> list[Agency]:
    """Agencies (not departments) whose eOffice this actor sets up."""
    qs = Agency.objects.exclude(kind=AgencyKind.DEPARTMENT).order_by("name")
    if actor.is_operator:
        return list(qs[:500])
    if actor.kind != "agency-it":
        raise Forbidden(_("The eOffice settings are for the operator and the agency's IT "
                          "contact."))
    return list(qs.filter(pk__in=agency_subtree_ids(actor.agency_ids)))


def _agency(request: HttpRequest, actor: Actor) -> tuple[Agency | None, list[Agency]]:
    choices = _managed(actor)
    ref = ((request.POST.get("agency") if request.method == "POST" else None)
           or request.GET.get("agency", "")).strip().lower()
    if not ref:
        return (choices[0] if choices and not actor.is_operator else None), choices
    agency = Agency.objects.filter(account_name=ref).first()
    if agency is None:
        raise NotFound(_("There is no agency %(ref)s.") % {"ref": ref[:64]})
    actor.require_agency(agency.pk, _ids(agency))
    return agency, choices


def _units(agency: Agency) -> list[Agency]:
    ids = agency_subtree_ids([agency.pk]) - {agency.pk}
    return list(Agency.objects.filter(pk__in=ids).order_by("name"))


def _grants(actor: Actor, agency: Agency, tz: str) -> list[dict[str, Any]]:
    rows = selectors.office_role_grants(actor, agency)
    return [{"id": g.pk, "name": g.account.person.full_name if g.account.person else "",
             "address": g.account.address, "role": str(R(g.role).label),
             "department": g.department.name if g.department else "",
             "granted": local_time(g.granted_at, tz), "by": g.granted_by} for g in rows]


def _symbols(agency: Agency, units: list[Agency]) -> list[dict[str, Any]]:
    own = dict(AgencySymbol.objects.filter(agency__in=[agency, *units])
               .values_list("agency_id", "symbol"))
    return [{"id": a.pk, "name": a.name, "symbol": own.get(a.pk, ""),
             "default": a.abbr.upper(), "agency": a.pk == agency.pk} for a in [agency, *units]]


def _span(span: Duration) -> str:
    """A span as people say it ("3 ngày làm việc")."""
    if span.working and span.unit == "days":
        return _("1 working day") if span.amount == 1 else _("%(n)d working days") % {
            "n": span.amount}
    return f"{span.amount} {span.unit}"


def _param_rows(p: EofficeParams) -> list[dict[str, str]]:
    out = []
    for f in fields(p):
        value = getattr(p, f.name)
        if isinstance(value, bool):
            shown = _("yes") if value else _("no")
        elif isinstance(value, tuple):
            shown = ", ".join(value)
        elif isinstance(value, Duration):
            shown = _span(value)
        else:
            shown = str(value)
        out.append({"key": f.name, "label": str(PARAM_LABELS.get(f.name, f.name)),
                    "value": shown})
    return out


def picker(actor: Actor, agency: Agency, q: str) -> list[dict[str, Any]]:
    """People of the agency (and its units) matching ``q`` in the directory, with an
    account to grant a role to."""
    query = parse_query(q)
    if not query.words:
        return []
    ids = matching_ids(actor, query, agency_subtree_ids([agency.pk]), cap=PICKER_LIMIT)
    rows = directory_rows(actor, ids[:PICKER_LIMIT])
    accounts = dict(Account.objects.filter(
        kind=AccountKind.PERSON, address__in=[r["address"] for r in rows])
        .values_list("address", "pk"))
    return [{"account_id": accounts[r["address"]], "name": r["full_name"],
             "address": r["address"], "unit": r["department__name"] or r["agency__name"],
             "position": r["position"]} for r in rows if r["address"] in accounts]


class GrantForm(forms.Form):
    account = forms.TypedChoiceField(label=gettext_lazy("Person"), coerce=int, error_messages={
        "required": gettext_lazy("Person: search the directory and choose one."),
        "invalid_choice": gettext_lazy("Person: search the directory and choose one.")})
    role = forms.ChoiceField(label=gettext_lazy("eOffice role"), error_messages={
        "required": gettext_lazy("eOffice role: choose one."),
        "invalid_choice": gettext_lazy("eOffice role: choose one.")})
    department = forms.TypedChoiceField(
        label=gettext_lazy("Department"), coerce=int, required=False, empty_value=None,
        error_messages={"invalid_choice": gettext_lazy("Department: choose one of the "
                                                       "agency's departments.")})

    def __init__(self, *args: Any, agency: Agency, account_ids: list[int],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(i, str(i)) for i in account_ids]  # type: ignore[attr-defined]
        self.fields["role"].choices = [("", _("Choose a role")), *R.choices]  # type: ignore[attr-defined]
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", _("No department")), *((u.pk, u.name) for u in _units(agency))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") == R.DEPARTMENT_HEAD and not data.get("department"):
            self.add_error("department", _("Department: required for a head of department."))
        return data


def _page(request: HttpRequest, actor: Actor, *, form: GrantForm | None = None,
          error: str = "", status: int = 200) -> HttpResponse:
    profile = deployment.deployment_profile()
    agency, choices = _agency(request, actor)
    ctx: dict[str, Any] = {"agency": agency, "agencies": choices, "error": error}
    if agency is not None:
        q = (request.POST.get("q") if request.method == "POST" else None) \
            or request.GET.get("q", "")
        found = picker(actor, agency, q.strip()[:200]) if q.strip() else []
        units = _units(agency)
        try:
            params = _param_rows(deployment_params(profile))
            params_error = ""
        except CongvuError as exc:
            params, params_error = [], exc.message
        ctx.update({
            "q": q, "found": found, "searched": bool(q.strip()),
            "grants": _grants(actor, agency, profile.timezone), "symbols": _symbols(agency, units),
            "params": params, "params_error": params_error,
            "roles": R.choices, "units": units,
            "form": form or GrantForm(agency=agency, account_ids=[]),
            "picker_url": f"{URL}people/?" + urlencode({"agency": agency.account_name})})
    return render(request, "console/eoffice/settings/index.html", ctx, status=status)


@console_view
@require_safe
def settings_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor)


@console_view
@require_safe
def people(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The picker's results (htmx partial; without JavaScript the page's search form
    reloads the whole page)."""
    agency, _choices = _agency(request, actor)
    if agency is None:
        raise CongvuError(_("Choose an agency first."))
    q = request.GET.get("q", "").strip()[:200]
    return render(request, "console/eoffice/settings/_people.html", {
        "found": picker(actor, agency, q) if q else [], "searched": bool(q), "q": q})


def _back(agency: Agency) -> HttpResponseRedirect:
    return HttpResponseRedirect(URL + "?" + urlencode({"agency": agency.account_name}))


@console_view
@require_POST
def grant(request: HttpRequest, actor: Actor) -> HttpResponse:
    agency, _choices = _agency(request, actor)
    if agency is None:
        raise CongvuError(_("Choose an agency first."))
    raw = request.POST.get("account", "")
    form = GrantForm(request.POST, agency=agency,
                     account_ids=[int(raw)] if raw.isdigit() else [])
    if not form.is_valid():
        return _page(request, actor, form=form, status=400)
    d = form.cleaned_data
    try:
        made = actions.do_grant_office_role(
            actor=actor, account_id=d["account"], agency_id=agency.pk, role=d["role"],
            department_id=d.get("department"), now=clock.now())
    except Forbidden:
        raise
    except CongvuError as exc:
        return _page(request, actor, form=form, error=exc.message, status=400)
    messages.success(request, _("%(address)s now holds the eOffice role %(role)s.") % {
        "address": made.account.address, "role": R(made.role).label})
    return _back(agency)


@console_view
@require_POST
def revoke(request: HttpRequest, actor: Actor, grant_id: int) -> HttpResponse:
    found = OfficeRoleGrant.objects.select_related("agency", "account").filter(
        pk=grant_id).first()
    if found is None:
        raise NotFound(_("There is no such eOffice role."))
    actions.do_revoke_office_role(actor=actor, grant_id=grant_id, now=clock.now())
    messages.success(request, _("%(address)s no longer holds the eOffice role %(role)s.") % {
        "address": found.account.address, "role": R(found.role).label})
    return _back(found.agency)


@console_view
@require_POST
def symbol(request: HttpRequest, actor: Actor) -> HttpResponse:
    agency, _choices = _agency(request, actor)
    if agency is None:
        raise CongvuError(_("Choose an agency first."))
    raw = request.POST.get("unit", "")
    target = agency
    if raw.isdigit() and int(raw) != agency.pk:
        unit = Agency.objects.filter(pk=int(raw)).first()
        if unit is None or unit.pk not in agency_subtree_ids([agency.pk]):
            raise NotFound(_("There is no such department in this agency."))
        target = unit
    try:
        row = actions.do_set_agency_symbol(actor=actor, agency_id=target.pk,
                                           symbol=request.POST.get("symbol", ""),
                                           now=clock.now())
    except Forbidden:
        raise
    except CongvuError as exc:
        return _page(request, actor, error=_("Symbol of %(unit)s: %(message)s") % {
            "unit": target.name, "message": exc.message}, status=400)
    messages.success(request, _("The symbol of %(unit)s is now %(symbol)s.") % {
        "unit": target.name, "symbol": row.symbol})
    return _back(agency)


urlpatterns = [
    path("eoffice/settings/", settings_page, name="eoffice-settings"),
    path("eoffice/settings/people/", people, name="eoffice-settings-people"),
    path("eoffice/settings/roles/grant/", grant, name="eoffice-settings-grant"),
    path("eoffice/settings/roles/<int:grant_id>/revoke/", revoke,
         name="eoffice-settings-revoke"),
    path("eoffice/settings/symbol/", symbol, name="eoffice-settings-symbol"),
]
