"""What the office pages (calendar, messages, notices, delegations) share: the agency
the page is about (one where the person holds an eOffice seat), people's names, and
the unread badges shown on these pages."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.calendars.selectors import agencies_for
from congvu.directory.models import Agency
from congvu.errors import CongvuError, Forbidden
from congvu.messaging.selectors import unread_counts


def pick_agency(request: HttpRequest, actor: Actor, now: dt.datetime,
                field: str = "agency") -> tuple[Agency, list[Agency]]:
    """The agency named by ``?agency=`` (or the form's field), else the person's first;
    refused when the person holds no eOffice seat there."""
    mine = agencies_for(actor, now)
    if not mine:
        raise Forbidden(_("These pages are for people with an eOffice role (ask your "
                          "agency's IT contact)."))
    ref = (request.POST.get(field) if request.method == "POST" else None) \
        or request.GET.get(field, "")
    ref = (ref or "").strip().lower()
    if not ref:
        return mine[0], mine
    for agency in mine:
        if agency.account_name == ref:
            return agency, mine
    raise Forbidden(_("You hold no eOffice role in the agency %(ref)s.") % {"ref": ref[:64]})


def names(ids: set[int]) -> dict[int, str]:
    """Account id → "Full name (address)" for display."""
    out: dict[int, str] = {}
    for pk, name, address in Account.objects.filter(pk__in=ids).values_list(
            "pk", "person__full_name", "address"):
        out[pk] = f"{name} ({address})" if name else address
    return out


def badges(actor: Actor) -> dict[str, Any]:
    """Unread counts for the office pages' own sub-navigation."""
    counts = unread_counts(actor)
    return {"unread_messages": counts["messages"], "unread_notices": counts["notices"]}


def parse_local(text: str, tz: str, field: str) -> dt.datetime:
    """A ``datetime-local`` value (YYYY-MM-DDTHH:MM) in the profile's zone."""
    try:
        moment = dt.datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise CongvuError(_("%(field)s: write a date and time, e.g. 2026-11-23 08:00.") % {
            "field": field}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment
