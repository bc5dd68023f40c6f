"""Reads for a form still being filled in (the console's filing pages): which agencies
an actor may file for, and every problem a form would meet, with the same authorisation
and checks as :func:`congvu.requests.actions.do_file_request` and nothing written."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_by_ref, agency_subtree_ids
from congvu.errors import CongvuError, Forbidden
from congvu.profiles import Profile
from congvu.requests.filing import Problem, RequestForm, RequestInvalid, validate
from congvu.requests.models import RequestKind

FILERS = ("operator", "agency-it", "clerk")


def require_filer(actor: Actor) -> None:
    """Only an agency's IT contact or clerk (or an operator) files requests."""
    if actor.kind not in FILERS:
        raise Forbidden(_("%(actor)s may not file requests: an agency's IT contact or clerk "
                          "files them.") % {"actor": actor.label})


def filing_agencies(actor: Actor) -> QuerySet[Agency] | None:
    """The agencies ``actor`` may file for: an IT contact's or clerk's own agencies and
    their units, by name; None for an operator (any agency, typed)."""
    require_filer(actor)
    if actor.is_operator:
        return None
    return (Agency.objects.filter(pk__in=agency_subtree_ids(actor.request_scope))
            .select_related("parent").order_by("account_name"))


def check_filing(*, actor: Actor, profile: Profile, kind: str, agency_ref: str,
                 form: RequestForm, now: dt.datetime) -> list[Problem]:
    """The problems :func:`~congvu.requests.actions.do_file_request` would refuse
    ``form`` for (an empty list: none); Forbidden for another agency, as filing is."""
    if kind not in RequestKind.values:
        raise CongvuError(_("Unknown kind of request %(kind)r. Kinds: %(valid)s.") % {
            "kind": kind, "valid": ", ".join(RequestKind.values)})
    require_filer(actor)
    agency = agency_by_ref(agency_ref)
    actor.require_request_agency([a.pk for a in agency.ancestors()])
    filer = (Account.objects.select_related("person").filter(pk=actor.account_id).first()
             if actor.account_id else None)
    try:
        validate(profile=profile, kind=kind, agency=agency, form=form, filer=filer, now=now)
    except RequestInvalid as exc:
        return exc.problems
    return []
