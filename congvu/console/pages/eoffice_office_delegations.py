"""Delegations (ủy quyền, GL-4.5, GL-11): a role holder asks to delegate roles to a
person of the agency for a period; a leader approves or rejects; the delegator (or a
leader or clerk) announces it to the whole agency; the delegator or a leader revokes
it. The delegate sees what they hold and whether it is in force now. Rights received by
delegation are never delegated further: the domain refuses, and the page says why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.pages.eoffice_office_common import badges, names, parse_local, pick_agency
from congvu.console.views import console_view, local_time
from congvu.eoffice import actions
from congvu.eoffice.access import powers_for
from congvu.eoffice.models import LEADERS, Delegation, DelegationStatus, OfficeRole
from congvu.eoffice.selectors import delegations_for
from congvu.errors import CongvuError, Forbidden
from congvu.messaging.selectors import people_of

URL = "/console/eoffice/delegations/"
R = OfficeRole
S = DelegationStatus
_DT = {"type": "datetime-local"}


class RequestForm(forms.Form):
    delegate = forms.TypedChoiceField(label=gettext_lazy("Delegate to"), coerce=int)
    roles = forms.MultipleChoiceField(label=gettext_lazy("Roles delegated"),
                                      widget=forms.CheckboxSelectMultiple)
    starts_at = forms.CharField(label=gettext_lazy("Starts"), max_length=32,
                                widget=forms.DateTimeInput(attrs=_DT))
    ends_at = forms.CharField(label=gettext_lazy("Until"), max_length=32,
                              widget=forms.DateTimeInput(attrs=_DT))
    reason = forms.CharField(label=gettext_lazy("Reason (e.g. on a work trip)"), required=False,
                             max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, people: list[tuple[int, str]], roles: list[str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages.update({
                "required": _("%(field)s: required.") % {"field": field.label},
                "invalid": _("%(field)s: write a date and time.") % {"field": field.label},
                "invalid_choice": _("%(field)s: choose from the list.") % {
                    "field": field.label}})
        self.fields["delegate"].choices = [("", _("Choose a person")), *people]  # type: ignore[attr-defined]
        self.fields["roles"].choices = [(r, str(R(r).label)) for r in roles]  # type: ignore[attr-defined]

    def _moment(self, name: str) -> dt.datetime:
        label = self.fields[name].label
        try:
            return parse_local(self.cleaned_data[name], deployment.deployment_profile().timezone,
                               str(label))
        except CongvuError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_starts_at(self) -> dt.datetime:
        return self._moment("starts_at")

    def clean_ends_at(self) -> dt.datetime:
        return self._moment("ends_at")


def _period(d: Delegation, tz: str) -> str:
    return f"{local_time(d.starts_at, tz)} – {local_time(d.ends_at, tz)}"


def _row(d: Delegation, tz: str, now: dt.datetime, who: dict[int, str],
         me: int | None, leader: set[int], office: set[int]) -> dict[str, Any]:
    open_ = d.status in (S.REQUESTED, S.APPROVED, S.ANNOUNCED) and d.ends_at > now
    return {
        "id": d.pk, "delegator": who.get(d.delegator_id, ""), "delegate": who.get(
            d.delegate_id, ""), "roles": ", ".join(str(R(r).label) for r in d.roles),
        "period": _period(d, tz), "reason": d.reason, "status": str(S(d.status).label),
        "in_force": d.status == S.ANNOUNCED and d.starts_at <= now < d.ends_at,
        "closed_reason": d.closed_reason,
        "may_announce": d.status == S.APPROVED and (d.delegator_id == me
                                                    or d.agency_id in office),
        "may_revoke": open_ and (d.delegator_id == me or d.agency_id in leader)}


def _page(request: HttpRequest, actor: Actor, *, form: RequestForm | None = None,
          error: str = "", status: int = 200) -> HttpResponse:
    profile = deployment.deployment_profile()
    now, tz = clock.now(), profile.timezone
    agency, mine = pick_agency(request, actor, now)
    powers = powers_for(actor, now)
    found = delegations_for(actor, now)
    ids = {i for rows in found.values() for d in rows for i in (d.delegator_id, d.delegate_id)}
    who = names(ids)
    leader = powers.agencies(*LEADERS, own=True)
    office = powers.agencies(*LEADERS, R.CLERK, own=True)
    me = powers.account_id
    sections = {key: [_row(d, tz, now, who, me, leader, office) for d in rows]
                for key, rows in found.items()}
    held = sorted({s.role for s in powers.seats if s.agency_id == agency.pk},
                  key=list(R.values).index)
    delegated_only = [str(R(r).label) for r in held if not powers.matching(
        [r], agency_id=agency.pk, own_only=True)]
    people = [(p.account_id, f"{p.name} — {p.unit}" if p.unit else p.name)
              for p in people_of(agency.pk) if p.account_id != me]
    form = form or RequestForm(people=people, roles=held)
    return render(request, "console/eoffice/delegations/list.html", {
        "agency": agency, "agencies": mine, "form": form, "error": error,
        "given": sections["given"], "received": sections["received"],
        "to_approve": sections["to_approve"], "delegated_only": delegated_only,
        "may_request": bool(held), **badges(actor)}, status=status)


@console_view
def delegations(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor)


@console_view
@require_POST
def request_delegation(request: HttpRequest, actor: Actor) -> HttpResponse:
    now = clock.now()
    agency, _mine = pick_agency(request, actor, now)
    powers = powers_for(actor, now)
    held = sorted({s.role for s in powers.seats if s.agency_id == agency.pk})
    people = [(p.account_id, p.name) for p in people_of(agency.pk)
              if p.account_id != powers.account_id]
    form = RequestForm(request.POST, people=people, roles=held)
    if not form.is_valid():
        return _page(request, actor, form=form, status=400)
    d = form.cleaned_data
    start, end = d["starts_at"], d["ends_at"]
    try:
        made = actions.do_request_delegation(
            actor=actor, agency_id=agency.pk, delegate_id=d["delegate"], roles=d["roles"],
            starts_at=start, ends_at=end, now=now, reason=d.get("reason", ""))
    except CongvuError as exc:
        # A refusal (e.g. rights held by delegation, GL-11) is explained on the page.
        return _page(request, actor, form=form, error=exc.message,
                     status=403 if isinstance(exc, Forbidden) else 400)
    messages.success(request, _("Delegation requested; a leader of the agency approves it, "
                                "then announce it to the agency."))
    return HttpResponseRedirect(f"{URL}#delegation-{made.pk}")


def _decide(request: HttpRequest, actor: Actor, delegation_id: int, step: str) -> HttpResponse:
    now = clock.now()
    reason = (request.POST.get("reason") or "")[:1000]
    try:
        if step == "approve":
            actions.do_approve_delegation(actor=actor, delegation_id=delegation_id, now=now,
                                          approve=True)
            done = _("Delegation approved; the delegator announces it to the agency.")
        elif step == "reject":
            actions.do_approve_delegation(actor=actor, delegation_id=delegation_id, now=now,
                                          approve=False, reason=reason)
            done = _("Delegation rejected.")
        elif step == "announce":
            actions.do_announce_delegation(actor=actor, delegation_id=delegation_id, now=now)
            done = _("Delegation announced to the whole agency.")
        else:
            actions.do_revoke_delegation(actor=actor, delegation_id=delegation_id, now=now,
                                         reason=reason)
            done = _("Delegation revoked.")
    except CongvuError as exc:
        if exc.__class__ is CongvuError:
            return _page(request, actor, error=exc.message, status=400)
        raise
    messages.success(request, done)
    return HttpResponseRedirect(f"{URL}#delegation-{delegation_id}")


@console_view
@require_POST
def approve(request: HttpRequest, actor: Actor, delegation_id: int) -> HttpResponse:
    step = "reject" if request.POST.get("decision") == "reject" else "approve"
    return _decide(request, actor, delegation_id, step)


@console_view
@require_POST
def announce(request: HttpRequest, actor: Actor, delegation_id: int) -> HttpResponse:
    return _decide(request, actor, delegation_id, "announce")


@console_view
@require_POST
def revoke(request: HttpRequest, actor: Actor, delegation_id: int) -> HttpResponse:
    return _decide(request, actor, delegation_id, "revoke")


urlpatterns = [
    path("eoffice/delegations/", delegations, name="eoffice-delegations"),
    path("eoffice/delegations/request/", request_delegation,
         name="eoffice-delegations-request"),
    path("eoffice/delegations/<int:delegation_id>/approve/", approve,
         name="eoffice-delegation-approve"),
    path("eoffice/delegations/<int:delegation_id>/announce/", announce,
         name="eoffice-delegation-announce"),
    path("eoffice/delegations/<int:delegation_id>/revoke/", revoke,
         name="eoffice-delegation-revoke"),
]
