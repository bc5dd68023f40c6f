"""The accounts pages (issue 6): the list (an operator's whole province, an agency
contact's own subtree), one account, and its actions through the existing ``do_*``
actions with the signed-in actor. Thin: the selectors decide who sees what, the actions
who changes what; a one-time password is shown once, on a page nobody caches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu import clock, deployment
from congvu.accounts import actions
from congvu.accounts.models import Account, AccountKind, AccountState
from congvu.accounts.naming import NamingError
from congvu.accounts.selectors import (
    account_for,
    account_list,
    account_page,
    check_address_choice,
    department_of,
    manageable_account,
    manageable_agencies,
    manageable_agency,
    person_naming,
    state_counts,
    visible_agencies,
)
from congvu.actors import Actor
from congvu.console.pages.account_forms import (
    AddressForm,
    CreateForm,
    DeleteForm,
    LeaveForm,
    PositionForm,
    SuspendForm,
    TransferForm,
)
from congvu.console.views import ROLE_LABELS, console_view, local_time
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.profiles import Profile

#: Accounts per page of the list.
PAGE_SIZE = 50
#: Up to this many agencies a list to choose from; beyond it the agency is typed.
SELECT_LIMIT = 300

S = AccountState
STATE_LABELS: dict[str, Any] = {
    S.REQUESTED: gettext_lazy("Requested"),
    S.ACTIVE: gettext_lazy("Active"),
    S.SUSPENDED: gettext_lazy("Suspended"),
    S.LOCKED: gettext_lazy("Locked"),
    S.DELETED: gettext_lazy("Deleted"),
}
KIND_LABELS: dict[str, Any] = {
    AccountKind.PERSON: gettext_lazy("Person"),
    AccountKind.AGENCY: gettext_lazy("Agency mailbox"),
    AccountKind.OPERATOR: gettext_lazy("Operator"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def account_url(address: str) -> str:
    return f"/console/accounts/{quote(address, safe='@')}/"


def is_htmx(request: HttpRequest) -> bool:
    """A fragment for htmx; the whole page for a browser without JavaScript (and for
    htmx's own history restore)."""
    return bool(request.headers.get("HX-Request")
                and not request.headers.get("HX-History-Restore-Request"))


def agency_options(qs: Any) -> list[tuple[str, str]] | None:
    """(account name, label) for a select, or None when there are too many to list."""
    rows = list(qs.values_list("account_name", "name")[: SELECT_LIMIT + 1])
    if len(rows) > SELECT_LIMIT:
        return None
    return [(ref, f"{name} ({ref})") for ref, name in rows]


# ------------------------------------------------------------------------- the list


def _row(a: Account) -> dict[str, Any]:
    person = a.person
    return {"address": a.address, "url": account_url(a.address),
            "name": person.full_name if person else "",
            "position": person.position if person else "",
            "agency": a.agency.name if a.agency else "",
            "department": person.department.name if person and person.department else "",
            "kind": str(KIND_LABELS.get(a.kind, a.kind)), "state": a.state,
            "state_label": state_label(a.state), "reason": a.reason}


@console_view
def accounts_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    state = request.GET.get("state", "").strip()
    agency = request.GET.get("agency", "").strip()
    qs = account_list(actor, agency_ref=agency, state=state, query=query)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = state_counts(actor, agency_ref=agency, query=query)
    filters = {k: v for k, v in (("q", query), ("state", state), ("agency", agency)) if v}

    def url(**changes: Any) -> str:
        params = {**filters, **changes}
        return "?" + urlencode({k: v for k, v in params.items() if v})

    by_state = [{"state": s, "label": state_label(s), "count": counts.get(s, 0),
                 "url": url(state=s, page=""), "current": s == state} for s in S.values]
    context = {
        "rows": [_row(a) for a in page.object_list], "page": page, "query": query,
        "state": state, "agency": agency, "states": [(s, state_label(s)) for s in S.values],
        "by_state": by_state, "total": sum(counts.values()), "all_url": url(state="", page=""),
        "agency_options": agency_options(visible_agencies(actor)),
        "is_operator": actor.is_operator,
        "previous_url": url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page=page.next_page_number()) if page.has_next() else ""}
    template = ("console/accounts/_results.html" if is_htmx(request)
                else "console/accounts/list.html")
    return render(request, template, context)


# ----------------------------------------------------------------------- one account


@dataclass(frozen=True)
class Action:
    """One thing an operator or IT contact can do to an account from its page."""

    slug: str
    label: Any
    states: tuple[str, ...]
    person_only: bool = False
    #: Issues a one-time password: a button that posts at once, then the password page.
    issues_password: bool = False
    danger: bool = False


ACTIONS: tuple[Action, ...] = (
    Action("activate", gettext_lazy("Activate"), (S.REQUESTED,), issues_password=True),
    Action("reset-password", gettext_lazy("Reset the password"), (S.ACTIVE,),
           issues_password=True),
    Action("restore", gettext_lazy("Restore"), (S.SUSPENDED, S.LOCKED), issues_password=True),
    Action("suspend", gettext_lazy("Suspend"), (S.ACTIVE,)),
    Action("transfer", gettext_lazy("Transfer to another agency"),
           (S.REQUESTED, S.ACTIVE, S.SUSPENDED), person_only=True),
    Action("position", gettext_lazy("Change the position"),
           (S.REQUESTED, S.ACTIVE, S.SUSPENDED), person_only=True),
    Action("address", gettext_lazy("Change the address"),
           (S.REQUESTED, S.ACTIVE, S.SUSPENDED), person_only=True),
    Action("leave", gettext_lazy("Record leaving (lock, then delete)"),
           (S.ACTIVE, S.SUSPENDED), danger=True),
    Action("delete", gettext_lazy("Delete"), (S.REQUESTED, S.ACTIVE, S.SUSPENDED, S.LOCKED),
           danger=True),
)


#: Not offered on one's own account: nobody locks themselves out by a misplaced click.
SELF_EXCLUDED = frozenset({"suspend", "leave", "delete"})


def actions_for(account: Account, actor: Actor) -> list[Action]:
    """The actions the state machine allows for ``account`` (the actions check again)."""
    own = account.pk == actor.account_id
    return [a for a in ACTIONS if account.state in a.states
            and not (a.person_only and account.person_id is None)
            and not (own and a.slug in SELF_EXCLUDED)]


def _detail_context(actor: Actor, profile: Profile, address: str) -> dict[str, Any]:
    data = account_page(actor, profile, address)
    account, tz = data.account, profile.timezone
    person = account.person
    mailbox = getattr(account, "mailbox", None)
    max_age = profile.password.max_age
    expires = (max_age.after(account.password_changed_at)
               if max_age and account.password_changed_at else None)
    actions = actions_for(account, actor) if data.can_manage else []
    return {
        "account": account, "person": person, "data": data, "tz": tz,
        "url": account_url(account.address),
        "kind": str(KIND_LABELS.get(account.kind, account.kind)),
        "state_label": state_label(account.state),
        "state_changed_at": local_time(account.state_changed_at, tz),
        "created_at": local_time(account.created_at, tz),
        "last_login": local_time(account.last_login, tz),
        "password_changed_at": local_time(account.password_changed_at, tz),
        "password_expires": local_time(expires, tz) if expires else "",
        "max_age_rule": profile.password.max_age_rule,
        "otp_issued_at": local_time(account.one_time_password_issued_at, tz),
        "leave": {"effective": local_time(account.leave_effective_at, tz),
                  "lock": local_time(account.leave_lock_at, tz),
                  "delete": local_time(account.leave_delete_at, tz),
                  "rule": account.leave_rule} if account.leave_effective_at else None,
        "quota_mb": mailbox.quota_bytes // (1024 * 1024) if mailbox else None,
        "aliases": [{"address": a.address, "rule": a.rule,
                     "expires": local_time(a.expires_at, tz) if a.expires_at else ""}
                    for a in data.aliases],
        "forwards": data.forwards, "delegates": data.delegates,
        "grants": [{"role": str(ROLE_LABELS.get(g.role, g.role)),
                    "agency": g.agency.name if g.agency else "",
                    "granted_at": local_time(g.granted_at, tz), "granted_by": g.granted_by}
                   for g in data.grants],
        "is_operator_account": account.is_operator,
        "events": [{"at": local_time(e.at, tz), "actor": e.actor, "action": e.action,
                    "rule": e.rule, "reason": e.reason, "target": e.target}
                   for e in data.events],
        "actions": actions,
        "issues_password": any(a.issues_password for a in actions),
        "can_manage": data.can_manage,
    }


@console_view
def account_detail(request: HttpRequest, actor: Actor, address: str) -> HttpResponse:
    profile = deployment.deployment_profile()
    context = _detail_context(actor, profile, address)
    if context["account"].address != address:  # an alias or another spelling
        return HttpResponseRedirect(context["url"])
    return render(request, "console/accounts/detail.html", context)


def _detail_with_error(request: HttpRequest, actor: Actor, profile: Profile, address: str,
                       error: str) -> HttpResponse:
    context = {**_detail_context(actor, profile, address), "error": error}
    return render(request, "console/accounts/detail.html", context, status=400)


def one_time_password_page(request: HttpRequest, profile: Profile, account: Account,
                           otp: str, what: str) -> HttpResponse:
    """The one-time password, once: never stored, never in the audit log, never cached
    (``console_view`` marks the response no-store), with a printable hand-over."""
    account.refresh_from_db()
    person = account.person
    return render(request, "console/accounts/one_time_password.html", {
        "account": account, "otp": otp, "what": what,
        "name": person.full_name if person else "",
        "agency": account.agency.name if account.agency else "",
        "rule": profile.password.change_first_login_rule,
        "webmail": profile.mail.webmail_url, "url": account_url(account.address)})


ISSUERS: dict[str, tuple[Callable[..., str], Any]] = {
    "activate": (actions.do_activate, gettext_lazy("The account is active.")),
    "reset-password": (actions.do_reset_password, gettext_lazy("The password was reset.")),
    "restore": (actions.do_restore, gettext_lazy("The account is restored.")),
}


def _issue(request: HttpRequest, actor: Actor, address: str, slug: str) -> HttpResponse:
    """Activate, reset or restore: a one-time password the holder changes at first
    sign-in (NB-6.3, KH-4.2, QN-5.3, NT-6.3c; restore NB-7.3, NT-6.3)."""
    profile = deployment.deployment_profile()
    account = manageable_account(actor, profile, address)
    if request.method != "POST":
        return HttpResponseRedirect(account_url(account.address))
    action, done = ISSUERS[slug]
    try:
        otp = action(actor=actor, profile=profile, account=account, now=clock.now())
    except CongvuError as exc:
        return _detail_with_error(request, actor, profile, account.address, exc.message)
    return one_time_password_page(request, profile, account, otp, str(done))


# ------------------------------------------------------------- actions with a form


class FieldProblem(Exception):
    """A value the user can correct, shown next to its field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name, self.message = field_name, message


@dataclass(frozen=True)
class FormAction:
    form: Callable[..., forms.Form]
    title: Any
    intro: Any
    button: Any
    done: Any
    #: Authorisation and look-ups before anything is written: Forbidden here is a 403
    #: page (another agency's data), FieldProblem an error next to the field.
    check: Callable[[Actor, Profile, Account, dict[str, Any]], dict[str, Any]] = (
        lambda actor, profile, account, data: {})
    consequences: tuple[Any, ...] = field(default_factory=tuple)


def _suspend(actor: Actor, profile: Profile, account: Account, data: dict[str, Any],
             now: dt.datetime) -> Account:
    actions.do_suspend(actor=actor, profile=profile, account=account, now=now,
                       rule=data["rule"], reason=data["reason"].strip())
    return account


def _leave(actor: Actor, profile: Profile, account: Account, data: dict[str, Any],
           now: dt.datetime) -> Account:
    actions.do_leave(actor=actor, profile=profile, account=account,
                     effective=data["effective"], now=now)
    return account


def _transfer_check(actor: Actor, profile: Profile, account: Account,
                    data: dict[str, Any]) -> dict[str, Any]:
    try:
        agency = manageable_agency(actor, data["to_agency"])
    except Forbidden:
        raise  # another agency's: a 403 page, nothing written
    except CongvuError as exc:
        raise FieldProblem("to_agency", _("New agency: %(message)s") % {
            "message": exc.message}) from None
    person = account.person
    if agency.pk == account.agency_id and person is not None and not person.department_id:
        raise FieldProblem("to_agency", _("New agency: the person already works there."))
    return {"agency": agency}


def _transfer(actor: Actor, profile: Profile, account: Account, data: dict[str, Any],
              now: dt.datetime) -> Account:
    return actions.do_transfer(actor=actor, profile=profile, account=account,
                               to_agency_ref=data["agency"].account_name, now=now)


def _position(actor: Actor, profile: Profile, account: Account, data: dict[str, Any],
              now: dt.datetime) -> Account:
    return actions.do_change_position(actor=actor, profile=profile, account=account,
                                      position=data["position"], now=now)


def _address_check(actor: Actor, profile: Profile, account: Account,
                   data: dict[str, Any]) -> dict[str, Any]:
    try:
        local = check_address_choice(profile, data["local_part"])
    except CongvuError as exc:
        raise FieldProblem("local_part", _("New address: %(message)s") % {
            "message": exc.message}) from None
    return {"local": local}


def _address(actor: Actor, profile: Profile, account: Account, data: dict[str, Any],
             now: dt.datetime) -> Account:
    return actions.do_change_address(actor=actor, profile=profile, account=account,
                                     local_part=data["local"], now=now)


def _delete(actor: Actor, profile: Profile, account: Account, data: dict[str, Any],
            now: dt.datetime) -> Account:
    actions.do_delete(actor=actor, profile=profile, account=account, now=now,
                      rule=data["rule"], reason=data["reason"].strip())
    return account


FORM_ACTIONS: dict[str, tuple[FormAction, Callable[..., Account]]] = {
    "suspend": (FormAction(
        form=SuspendForm, title=gettext_lazy("Suspend the account"),
        intro=gettext_lazy("The holder can no longer sign in, but the mailbox still receives "
                           "mail and documents (NB-7.1, NT-6.1). The holder and the agency are "
                           "told why. Restore it later from this page."),
        button=gettext_lazy("Suspend"), done=gettext_lazy("The account is suspended.")),
        _suspend),
    "leave": (FormAction(
        form=LeaveForm, title=gettext_lazy("Record that the holder leaves"),
        intro=gettext_lazy("The profile's leaving rule then locks the account (no mail in or "
                           "out) and later deletes it (NB-7.4, NT-5.2c, KH-4.4, QN-7.1); what "
                           "is already due happens at once."),
        button=gettext_lazy("Record leaving"), done=gettext_lazy("The leaving is recorded.")),
        _leave),
    "transfer": (FormAction(
        form=TransferForm, title=gettext_lazy("Transfer to another agency"),
        intro=gettext_lazy("The person moves to another agency of the province. Where the "
                           "address carries the agency (NB-5.3) a new one is given and the "
                           "old one stays as an alias; elsewhere the address is kept (KH-2.4, "
                           "NT-5.2b)."),
        button=gettext_lazy("Transfer"), done=gettext_lazy("The person is transferred."),
        check=_transfer_check), _transfer),
    "position": (FormAction(
        form=PositionForm, title=gettext_lazy("Change the position"),
        intro=gettext_lazy("The new position in the province directory (form 02, code 1, "
                           "KH-4.3)."),
        button=gettext_lazy("Save"), done=gettext_lazy("The position is changed.")),
        _position),
    "address": (FormAction(
        form=AddressForm, title=gettext_lazy("Change the address"),
        intro=gettext_lazy("A new address (form 02, code 3, KH-4.3); the old one stays an "
                           "alias, so mail sent to it still arrives, and it is never given to "
                           "anyone else."),
        button=gettext_lazy("Change the address"),
        done=gettext_lazy("The address is changed."), check=_address_check), _address),
    "delete": (FormAction(
        form=DeleteForm, title=gettext_lazy("Delete the account"),
        intro=gettext_lazy("Deleting cannot be undone. Read what happens:"),
        button=gettext_lazy("Delete for good"), done=gettext_lazy("The account is deleted."),
        consequences=(
            gettext_lazy("The mailbox and all its mail are purged (NB-7.4)."),
            gettext_lazy("Aliases and forwards are removed; every sign-in session ends at "
                         "once."),
            gettext_lazy("The address stays reserved as a tombstone: it is never given to "
                         "anyone else, so mail for the former holder cannot reach a new one."),
            gettext_lazy("The account stays in the audit log and the lists, as deleted."),
        )), _delete),
}


def _make_form(spec: FormAction, profile: Profile, data: Any = None) -> forms.Form:
    if spec.form in (SuspendForm, DeleteForm):
        return spec.form(data, profile=profile)
    return spec.form(data)


def _form_page(request: HttpRequest, actor: Actor, profile: Profile, account: Account,
               slug: str, form: forms.Form, status: int = 200,
               error: str = "") -> HttpResponse:
    spec = FORM_ACTIONS[slug][0]
    options = None
    if slug == "transfer":
        targets = manageable_agencies(actor)
        person = account.person
        if account.agency_id is not None and person is not None and not person.department_id:
            targets = targets.exclude(pk=account.agency_id)
        options = agency_options(targets)
    return render(request, "console/accounts/action.html", {
        "account": account, "url": account_url(account.address), "slug": slug, "spec": spec,
        "form": form, "error": error, "agency_options": options,
        "danger": slug in ("delete", "leave"),
        "state_label": state_label(account.state)}, status=status)


def _form_action(request: HttpRequest, actor: Actor, address: str, slug: str) -> HttpResponse:
    profile = deployment.deployment_profile()
    account = manageable_account(actor, profile, address)
    spec, run = FORM_ACTIONS[slug]
    if request.method != "POST":
        return _form_page(request, actor, profile, account, slug, _make_form(spec, profile))
    form = _make_form(spec, profile, request.POST)
    if not form.is_valid():
        return _form_page(request, actor, profile, account, slug, form, 400)
    try:
        extra = spec.check(actor, profile, account, form.cleaned_data)
    except FieldProblem as problem:
        form.add_error(problem.field_name, problem.message)
        return _form_page(request, actor, profile, account, slug, form, 400)
    try:
        changed = run(actor, profile, account, {**form.cleaned_data, **extra}, clock.now())
    except CongvuError as exc:
        return _form_page(request, actor, profile, account, slug, form, 400, exc.message)
    changed.refresh_from_db()
    messages.success(request, str(spec.done))
    return HttpResponseRedirect(account_url(changed.address))


@console_view
def account_action(request: HttpRequest, actor: Actor, address: str,
                   action: str) -> HttpResponse:
    if action in ISSUERS:
        return _issue(request, actor, address, action)
    if action in FORM_ACTIONS:
        return _form_action(request, actor, address, action)
    account_for(actor, deployment.deployment_profile(), address)  # another agency's: 403
    raise NotFound(_("There is no such action on an account."))


# ------------------------------------------------------------------- a new account


def _create_context(actor: Actor, form: CreateForm, naming: Any = None,
                    error: str = "") -> dict[str, Any]:
    return {"form": form, "naming": naming, "error": error,
            "domain": deployment.deployment_profile().mail.domain,
            "agency_options": agency_options(manageable_agencies(actor))}


def _naming_for(actor: Actor, profile: Profile, form: CreateForm) -> Any:
    """The suggestion for the form's person, or None with the errors on their fields."""
    data = form.cleaned_data
    try:
        node = manageable_agency(actor, data["agency"])
    except CongvuError as exc:
        form.add_error("agency", _("Agency: %(message)s") % {"message": exc.message})
        return None
    if data.get("department"):
        try:
            node = department_of(node, data["department"])
        except CongvuError as exc:
            form.add_error("department", _("Department: %(message)s") % {
                "message": exc.message})
            return None
    try:
        return person_naming(actor, profile, node, data["full_name"])
    except NamingError as exc:
        form.add_error("full_name", _("Full name: %(message)s") % {"message": exc.message})
        return None


@console_view
def account_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Operators: a person's account with the profile's address or one of the ranked
    candidates (naming suggestions first, then create)."""
    actor.require_operator()
    profile = deployment.deployment_profile()
    if request.method != "POST":
        initial = {"agency": request.GET.get("agency", "")}
        return render(request, "console/accounts/create.html",
                      _create_context(actor, CreateForm(initial=initial)))
    form = CreateForm(request.POST)
    naming = _naming_for(actor, profile, form) if form.is_valid() else None
    if naming is None or "create" not in request.POST:
        status = 400 if form.errors else 200
        return render(request, "console/accounts/create.html",
                      _create_context(actor, form, naming), status=status)
    data = form.cleaned_data
    chosen = form.chosen() or naming.suggestion.local_part
    try:
        local = check_address_choice(profile, chosen)
    except CongvuError as exc:
        field_name = "other" if data.get("other") else "local_part"
        form.add_error(field_name, _("Address: %(message)s") % {"message": exc.message})
        return render(request, "console/accounts/create.html",
                      _create_context(actor, form, naming), status=400)
    try:
        account, otp = actions.do_create_account(
            actor=actor, profile=profile, agency_ref=data["agency"],
            department_ref=data.get("department") or None, full_name=data["full_name"],
            position=data.get("position") or "", leader=bool(data.get("leader")),
            birth_date=data.get("birth_date"), now=clock.now(),
            local_part=None if local == naming.base else local)
    except CongvuError as exc:
        return render(request, "console/accounts/create.html",
                      _create_context(actor, form, naming, exc.message), status=400)
    assert otp is not None
    return one_time_password_page(request, profile, account, otp,
                                  _("The account is created."))


urlpatterns = [
    path("accounts/", accounts_page, name="accounts"),
    path("accounts/new/", account_create, name="account-create"),
    path("accounts/<str:address>/", account_detail, name="account"),
    path("accounts/<str:address>/<slug:action>/", account_action, name="account-action"),
]
