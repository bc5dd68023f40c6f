"""What every console page shares: :func:`console_view` (signed in through the SSO,
acting as the account's :class:`Actor`, domain errors as pages), the navigation, and
formatting helpers. The pages themselves live in ``congvu/console/pages/<area>.py``, one
module per area, each with its own ``urlpatterns``."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec
from zoneinfo import ZoneInfo

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from congvu.accounts.models import Account
from congvu.accounts.roles import actor_for
from congvu.actors import Actor
from congvu.eoffice.access import reading
from congvu.errors import CongvuError, Forbidden, NotFound

P = ParamSpec("P")

#: Who sees the request pages (the selectors check it again).
REQUEST_ROLES = ("operator", "agency-it", "clerk")
ConsoleView = Callable[Concatenate[HttpRequest, Actor, P], HttpResponse]

ROLE_LABELS = {
    "operator": gettext_lazy("Operator"),
    "agency-it": gettext_lazy("Agency IT contact"),
    "clerk": gettext_lazy("Clerk"),
    "civil-servant": gettext_lazy("Civil servant"),
    "leader": gettext_lazy("Leader"),
    "agency-mailbox": gettext_lazy("Agency mailbox"),
}


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    titles = {400: _("The request cannot be shown"), 403: _("Access denied"),
              404: _("Not found")}
    return render(request, "console/error.html",
                  {"title": titles[status], "message": message, "status": status},
                  status=status)


def console_view(view: ConsoleView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Signed in through the SSO (else to the sign-in page and back), acting as the
    :class:`Actor` of the account's grants; Forbidden → 403, NotFound → 404, other domain
    errors (a bad filter) → 400, each a page in the user's language. The actor is also
    left on ``request.actor`` for the navigation."""

    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated or not isinstance(request.user, Account):
            return redirect_to_login(request.get_full_path(), "/sso/login/")
        actor = actor_for(request.user)
        request.actor = actor  # type: ignore[attr-defined]
        # A GET changes nothing, so what the actor may do holds for the whole request.
        scope = reading() if request.method in ("GET", "HEAD") else contextlib.nullcontext()
        try:
            with scope:
                return view(request, actor, *args, **kwargs)
        except Forbidden as exc:
            return error_page(request, 403, exc.message)
        except NotFound as exc:
            return error_page(request, 404, exc.message)
        except CongvuError as exc:
            return error_page(request, 400, exc.message)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return never_cache(wrapper)


def local_time(moment: dt.datetime | None, tz: str) -> str:
    """dd/mm/yyyy HH:MM in the profile's time zone (Vietnamese usage), or an em dash."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


def pager_urls(page: Page[Any], page_url: Callable[[int], str]) -> dict[str, str]:
    """The previous and next page links of a paginated list (empty at either end)."""
    return {"previous_url": page_url(page.previous_page_number()) if page.has_previous() else "",
            "next_url": page_url(page.next_page_number()) if page.has_next() else ""}


def local_date(day: dt.date | None) -> str:
    """dd/mm/yyyy, or an em dash."""
    return day.strftime("%d/%m/%Y") if day else "—"


#: The navigation: (path, label, who sees it). "all" is every signed-in person.
NAV: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("/console/", gettext_lazy("Console"), ("all",)),
    ("/console/me/", gettext_lazy("My profile"), ("all",)),
    ("/console/directory/", gettext_lazy("Directory"), ("all",)),
    ("/console/requests/", gettext_lazy("Requests"), ("operator", "agency-it", "clerk")),
    ("/console/accounts/", gettext_lazy("Accounts"), ("operator", "agency-it")),
    ("/console/monitoring/", gettext_lazy("Mailbox checks"), ("operator", "agency-it", "clerk")),
    ("/console/imports/", gettext_lazy("Import"), ("operator",)),
    ("/console/roles/", gettext_lazy("Roles"), ("operator",)),
    ("/console/audit/", gettext_lazy("Audit log"), ("operator",)),
    ("/console/reports/", gettext_lazy("Reports"), ("operator", "agency-it")),
    ("/console/eoffice/settings/", gettext_lazy("eOffice settings"), ("operator", "agency-it")),
)


#: The eOffice's links (issue 7), shown to whoever holds an eOffice seat: an office
#: role in some agency or a delegation in force. (path, label).
EOFFICE_NAV: tuple[tuple[str, Any], ...] = (
    ("/console/eoffice/incoming/", gettext_lazy("Incoming documents")),
    ("/console/eoffice/outgoing/", gettext_lazy("Outgoing documents")),
    ("/console/eoffice/registers/", gettext_lazy("Document registers")),
    ("/console/eoffice/search/", gettext_lazy("Document search")),
    ("/console/eoffice/statistics/", gettext_lazy("Statistics")),
    ("/console/eoffice/calendar/", gettext_lazy("Work calendar")),
    ("/console/eoffice/messages/", gettext_lazy("Messages")),
    ("/console/eoffice/notices/", gettext_lazy("Notifications")),
    ("/console/eoffice/delegations/", gettext_lazy("Delegations")),
)


def _has_office_seat(actor: Actor) -> bool:
    """One query: an office role anywhere, or a delegation in force."""
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from congvu.eoffice.access import effective_delegations
    from congvu.eoffice.models import Delegation, OfficeRoleGrant

    if actor.account_id is None:
        return False
    grants = OfficeRoleGrant.objects.filter(account_id=OuterRef("pk"))
    delegations = Delegation.objects.filter(effective_delegations(timezone.now()),
                                            delegate_id=OuterRef("pk"))
    return Account.objects.filter(pk=actor.account_id).filter(
        Exists(grants) | Exists(delegations)).exists()


def _links(current: str, entries: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"href": href, "label": label,
             "current": current == href if href == "/console/" else current.startswith(href)}
            for href, label in entries]


def nav(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: the console links this person may follow (hiding a
    link is a courtesy; the selectors and actions are what refuse)."""
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        return {}
    links = _links(request.path, [(href, label) for href, label, who in NAV
                                  if "all" in who or actor.kind in who])
    office = _links(request.path, list(EOFFICE_NAV)) if _has_office_seat(actor) else []
    return {"console_nav": links, "eoffice_nav": office}
