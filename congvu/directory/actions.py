"""Writing the directory: agencies and units."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts.models import ReservedName
from congvu.accounts.naming import agency_local_part, normalise_abbr
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.directory.models import Agency, AgencyKind
from congvu.directory.selectors import agency_by_ref, node_of
from congvu.errors import CongvuError
from congvu.profiles import Profile

_NEEDS_PARENT = {AgencyKind.UNIT, AgencyKind.DEPARTMENT}


def do_add_agency(
    *,
    actor: Actor,
    profile: Profile,
    abbr: str,
    name: str,
    kind: str | None,
    parent: str | None,
    now: dt.datetime,
) -> Agency:
    """Add an agency or unit; its account name follows the profile (NB-5.1/5.2, KH-3.2,
    NT-4.1 a–f) and is reserved in the address namespace."""
    clean_name = " ".join((name or "").split())
    if not clean_name:
        raise CongvuError(_("The agency's full name (--name) is required."))
    short = normalise_abbr(abbr)
    with transaction.atomic():
        parent_agency = agency_by_ref(parent) if parent else None
        if parent_agency is not None:
            actor.require_agency(parent_agency.pk, [a.pk for a in parent_agency.ancestors()])
        elif actor.kind != "operator":
            actor.require_agency(None, [])
        chosen = kind or (AgencyKind.UNIT if parent_agency else AgencyKind.PROVINCE_DEPT)
        if chosen not in AgencyKind.values:
            raise CongvuError(_("Unknown agency kind %(kind)r. Valid kinds: %(valid)s.") % {
                "kind": kind, "valid": ", ".join(AgencyKind.values)})
        if chosen in _NEEDS_PARENT and parent_agency is None:
            raise CongvuError(_("A %(kind)s needs its parent agency (--parent).") % {
                "kind": chosen})
        if parent_agency and Agency.objects.filter(parent=parent_agency, abbr=short).exists():
            raise CongvuError(_("%(parent)s already has a unit abbreviated %(abbr)r.") % {
                "parent": parent_agency.account_name, "abbr": short})
        local, rule = agency_local_part(
            profile, short, chosen, node_of(parent_agency) if parent_agency else None
        )
        domain = profile.mail.domain
        if ReservedName.objects.filter(domain=domain, local_part=local).exists():
            raise CongvuError(
                _("The address %(address)s is already in use or reserved; choose another "
                  "abbreviation.") % {"address": f"{local}@{domain}"}, rule=rule)
        agency = Agency.objects.create(
            abbr=short, name=clean_name, kind=chosen, parent=parent_agency,
            account_name=local, naming_rule=rule, created_at=now,
        )
        ReservedName.objects.create(
            local_part=local, domain=domain, kind=ReservedName.Kind.AGENCY, agency=agency,
            created_at=now,
        )
        record(actor=actor, action="agency.add", at=now, target=f"{local}@{domain}", rule=rule,
               data={"abbr": short, "name": clean_name, "kind": chosen,
                     "parent": parent_agency.account_name if parent_agency else None})
    return agency


def do_set_second_factor_requirement(*, actor: Actor, ref: str, required: bool,
                                     now: dt.datetime) -> Agency:
    """Require (or stop requiring) a second factor at SSO sign-in for every account of an
    agency and of its units (issue 5). Operators only: it changes how people sign in."""
    if actor.kind != "operator":
        raise CongvuError(_("Only an operator changes an agency's sign-in requirements."))
    with transaction.atomic():
        agency = agency_by_ref(ref)
        if agency.require_second_factor != required:
            agency.require_second_factor = required
            agency.save(update_fields=["require_second_factor"])
            record(actor=actor, action="agency.require_second_factor", at=now,
                   target=agency.account_name, data={"required": required})
    return agency
