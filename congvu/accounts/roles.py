"""Roles (issue 6): operators grant and revoke them; ``actor_for`` turns a signed-in
account's grants into the :class:`~congvu.actors.Actor` every action checks.

- ``operator``: the province's operator, everything. Mirrored in ``Account.is_operator``
  (SSO and the second-factor rule read the flag); the first operator is the account
  ``congvu init`` creates. The last active operator cannot be revoked.
- ``agency-it``: an agency's IT contact (KH-4.2, QN-6: "cán bộ chuyên trách CNTT"):
  files and follows requests for the agency and its units, sees and manages its
  accounts (``Actor.require_agency``).
- ``clerk`` (văn thư): files and follows requests for the agency and its units and sees
  its accounts, but manages no account directly: every change goes through a request
  the operator carries out.
- ``civil-servant`` is implicit for every person account (SSO ``roles``), never granted.

Roles are granted to a person's (or an operator's) own account only: an agency mailbox is
shared and nobody signs in as another holder (spec section 4).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts.models import (
    AGENCY_ROLES,
    Account,
    AccountKind,
    AccountState,
    Role,
    RoleGrant,
)
from congvu.accounts.selectors import account_by_address
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_by_ref
from congvu.errors import CongvuError, Forbidden
from congvu.profiles import Profile

#: Account states in which a role may be granted: not while leaving or after deletion.
_GRANTABLE_STATES = (AccountState.ACTIVE, AccountState.SUSPENDED, AccountState.REQUESTED)


def parse_role(text: str) -> Role:
    """A role name typed by an operator, or an error listing the valid ones."""
    value = (text or "").strip().lower()
    if value == "civil-servant":
        raise CongvuError(_("Every person's account is a civil servant's already; that role "
                            "is not granted."))
    if value not in Role.values:
        raise CongvuError(_("Unknown role %(role)r. Roles: %(valid)s.") % {
            "role": text, "valid": ", ".join(Role.values)})
    return Role(value)


def _agency_for(role: Role, agency_ref: str | None) -> Agency | None:
    if role in AGENCY_ROLES:
        if not (agency_ref or "").strip():
            raise CongvuError(_("The role %(role)s acts for one agency: give the agency "
                                "(--agency).") % {"role": role.value})
        return agency_by_ref(agency_ref or "")
    if agency_ref:
        raise CongvuError(_("The operator role is province-wide: do not give an agency."))
    return None


def _locked_account(profile: Profile, address: str) -> Account:
    account = account_by_address(profile, address)
    return Account.objects.select_for_update(of=("self",)).get(pk=account.pk)


def do_grant_role(*, actor: Actor, profile: Profile, address: str, role: str,
                  agency_ref: str | None, now: dt.datetime) -> RoleGrant:
    """Grant ``role`` (operators only; issue 6). Granting a role already held changes
    nothing and writes nothing."""
    actor.require_operator()
    wanted = parse_role(role)
    with transaction.atomic():
        account = _locked_account(profile, address)
        agency = _agency_for(wanted, agency_ref)
        if account.kind == AccountKind.AGENCY:
            raise CongvuError(_("%(address)s is an agency mailbox, shared by its clerks: grant "
                                "roles to a person's own account.") % {
                "address": account.address})
        if account.kind == AccountKind.OPERATOR and wanted != Role.OPERATOR:
            raise CongvuError(_("%(address)s is an operator account; agency roles go to a "
                                "person's account.") % {"address": account.address})
        if account.state not in _GRANTABLE_STATES:
            raise Forbidden(_("Account %(address)s is %(state)s; roles are granted to current "
                              "accounts only.") % {"address": account.address,
                                                   "state": account.state})
        grant, created = RoleGrant.objects.get_or_create(
            account=account, role=wanted, agency=agency,
            defaults={"granted_at": now, "granted_by": actor.label})
        changed = created
        if wanted == Role.OPERATOR and not account.is_operator:
            Account.objects.filter(pk=account.pk).update(is_operator=True)
            changed = True
        if changed:
            record(actor=actor, action="role.grant", at=now, target=account.address,
                   data={"role": wanted.value,
                         "agency": agency.account_name if agency else None})
    return grant


def do_revoke_role(*, actor: Actor, profile: Profile, address: str, role: str,
                   agency_ref: str | None, now: dt.datetime) -> None:
    """Revoke ``role`` (operators only). The last active operator cannot be revoked, so
    the province is never left without anyone able to grant roles again."""
    actor.require_operator()
    wanted = parse_role(role)
    with transaction.atomic():
        account = _locked_account(profile, address)
        agency = _agency_for(wanted, agency_ref)
        if wanted == Role.OPERATOR:
            if not account.is_operator:
                raise CongvuError(_("%(address)s is not an operator.") % {
                    "address": account.address})
            # Lock every operator row so two revocations cannot both pass the check.
            others = list(Account.objects.select_for_update().filter(
                is_operator=True, state=AccountState.ACTIVE).exclude(pk=account.pk)
                .values_list("pk", flat=True))
            if not others:
                raise Forbidden(_("%(address)s is the last active operator; grant the role to "
                                  "someone else first.") % {"address": account.address})
            Account.objects.filter(pk=account.pk).update(is_operator=False)
            RoleGrant.objects.filter(account=account, role=wanted).delete()
        else:
            deleted, _rows = RoleGrant.objects.filter(account=account, role=wanted,
                                                      agency=agency).delete()
            if not deleted:
                raise CongvuError(_("%(address)s does not hold the role %(role)s for "
                                    "%(agency)s.") % {"address": account.address,
                                                      "role": wanted.value,
                                                      "agency": agency.account_name
                                                      if agency else "—"})
        record(actor=actor, action="role.revoke", at=now, target=account.address,
               data={"role": wanted.value, "agency": agency.account_name if agency else None})


def actor_for(account: Account) -> Actor:
    """The :class:`Actor` of a signed-in person, from their grants (least privilege):
    operator → ``operator``; IT contact → ``agency-it`` for those agencies (and any it is
    the clerk of, for requests only); clerk → ``clerk``; anyone else → ``self``. An
    account that is not active acts as ``self``: a suspended holder keeps no powers."""
    if account.state != AccountState.ACTIVE:
        return Actor(kind="self", label=f"self:{account.address}", account_id=account.pk)
    if account.is_operator:
        return Actor(kind="operator", label=f"operator:{account.address}",
                     account_id=account.pk)
    it: set[int] = set()
    clerk: set[int] = set()
    for role, agency_id in RoleGrant.objects.filter(
            account=account, role__in=AGENCY_ROLES).values_list("role", "agency_id"):
        (it if role == Role.AGENCY_IT else clerk).add(agency_id)
    if it:
        return Actor(kind="agency-it", label=f"agency-it:{account.address}",
                     agency_ids=frozenset(it), request_agency_ids=frozenset(clerk - it),
                     account_id=account.pk)
    if clerk:
        return Actor(kind="clerk", label=f"clerk:{account.address}",
                     agency_ids=frozenset(clerk), account_id=account.pk)
    return Actor(kind="self", label=f"self:{account.address}", account_id=account.pk)
