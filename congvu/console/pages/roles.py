"""The roles pages (issue 6, operators only): who holds which role, granting operator,
agency-it or clerk to an account, revoking; through ``accounts.roles`` (audited; the last
active operator cannot be revoked, and the page says so)."""

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

from congvu import clock, deployment
from congvu.accounts.models import AGENCY_ROLES, Role
from congvu.accounts.roles import do_grant_role, do_revoke_role
from congvu.accounts.selectors import account_by_address, role_list, visible_agencies
from congvu.actors import Actor
from congvu.console.pages.account_forms import required
from congvu.console.pages.accounts import account_url, agency_options
from congvu.console.views import ROLE_LABELS, console_view, local_time, pager_urls
from congvu.directory.selectors import agency_by_ref
from congvu.errors import CongvuError

PAGE_SIZE = 50
URL = "/console/roles/"


def role_choices() -> list[tuple[str, str]]:
    return [(r.value, str(ROLE_LABELS.get(r.value, r.value))) for r in Role]


class GrantForm(forms.Form):
    address = forms.CharField(
        label=gettext_lazy("Account address"), max_length=320,
        error_messages=required(gettext_lazy("Account address"),
                                gettext_lazy("write the person's address, e.g. "
                                             "namnv@quangnam.gov.vn.")))
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        error_messages={**required(gettext_lazy("Role"), gettext_lazy("choose a role.")),
                        "invalid_choice": gettext_lazy(
                            "Role: choose operator, agency IT contact or clerk.")})
    agency = forms.CharField(label=gettext_lazy("Agency"), required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("Choose a role")), *role_choices()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role, agency = data.get("role"), (data.get("agency") or "").strip()
        if role in AGENCY_ROLES and not agency:
            self.add_error("agency", _("Agency: required for the role %(role)s, which acts "
                                       "for one agency and its units only.") % {
                "role": ROLE_LABELS[str(role)]})
        if role == Role.OPERATOR and agency:
            self.add_error("agency", _("Agency: leave it empty; the operator role is "
                                       "province-wide."))
        return data


def _entries(actor: Actor, role: str, agency: str, tz: str) -> list[dict[str, Any]]:
    return [{"address": e.address, "url": account_url(e.address), "role": e.role,
             "role_label": str(ROLE_LABELS.get(e.role, e.role)), "agency": e.agency or "",
             "granted_at": local_time(e.granted_at, tz), "granted_by": e.granted_by or "—",
             "key": f"{e.address}|{e.role}|{e.agency or ''}"}
            for e in role_list(actor, role=role, agency_ref=agency or None)]


def _page(request: HttpRequest, actor: Actor, *, form: GrantForm | None = None,
          error: str = "", status: int = 200) -> HttpResponse:
    profile = deployment.deployment_profile()
    role = request.GET.get("role", "").strip()
    agency = request.GET.get("agency", "").strip()
    entries = _entries(actor, role, agency, profile.timezone)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {k: v for k, v in (("role", role), ("agency", agency)) if v}

    def page_url(number: int) -> str:
        return "?" + urlencode({**filters, "page": number})

    options = agency_options(visible_agencies(actor))
    return render(request, "console/roles/list.html", {
        "page": page, "entries": page.object_list, "role": role, "agency": agency,
        "roles": role_choices(), "agency_options": options,
        "form": form or GrantForm(), "error": error,
        **pager_urls(page, page_url)},
        status=status)


@console_view
def roles_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor)


@console_view
def grant(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require_operator()
    if request.method != "POST":
        return HttpResponseRedirect(URL)
    profile = deployment.deployment_profile()
    form = GrantForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            account_by_address(profile, data["address"])
        except CongvuError as exc:
            form.add_error("address", _("Account address: %(message)s") % {
                "message": exc.message})
        if data.get("agency"):
            try:
                agency_by_ref(data["agency"])
            except CongvuError as exc:
                form.add_error("agency", _("Agency: %(message)s") % {"message": exc.message})
    if not form.is_valid():
        return _page(request, actor, form=form, status=400)
    data = form.cleaned_data
    try:
        made = do_grant_role(actor=actor, profile=profile, address=data["address"],
                             role=data["role"], agency_ref=data.get("agency") or None,
                             now=clock.now())
    except CongvuError as exc:
        return _page(request, actor, form=form, error=exc.message, status=400)
    messages.success(request, _("%(address)s now holds the role %(role)s.") % {
        "address": made.account.address, "role": ROLE_LABELS[made.role]})
    return HttpResponseRedirect(URL)


@console_view
def revoke(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require_operator()
    if request.method != "POST":
        return HttpResponseRedirect(URL)
    profile = deployment.deployment_profile()
    address, role = request.POST.get("address", ""), request.POST.get("role", "")
    agency = request.POST.get("agency", "") or None
    try:
        do_revoke_role(actor=actor, profile=profile, address=address, role=role,
                       agency_ref=agency, now=clock.now())
    except CongvuError as exc:
        return _page(request, actor, error=exc.message, status=400)
    messages.success(request, _("%(address)s no longer holds the role %(role)s.") % {
        "address": address, "role": ROLE_LABELS.get(role, role)})
    return HttpResponseRedirect(URL)


urlpatterns = [
    path("roles/", roles_page, name="roles"),
    path("roles/grant/", grant, name="roles-grant"),
    path("roles/revoke/", revoke, name="roles-revoke"),
]
