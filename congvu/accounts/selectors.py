"""Reading accounts and the address namespace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import AGENCY_ROLES, Account, Alias, ReservedName, Role, RoleGrant
from congvu.actors import Actor
from congvu.clock import iso
from congvu.directory.selectors import agency_by_ref, agency_subtree_ids
from congvu.errors import Forbidden, NotFound
from congvu.profiles import Profile


def full_address(profile: Profile, text: str) -> str:
    """Accept ``thanhnn.skhcn`` or ``thanhnn.skhcn@ninhbinh.gov.vn``; lowercase."""
    value = (text or "").strip().lower()
    return value if "@" in value else f"{value}@{profile.mail.domain}"


def account_by_address(profile: Profile, text: str, *, for_update: bool = False) -> Account:
    """The account holding an address, or one of its aliases; a clear NotFound otherwise."""
    address = full_address(profile, text)
    qs = Account.objects.select_related("person", "agency", "person__department")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    account = qs.filter(address=address).first()
    if account is None:
        alias = Alias.objects.filter(address=address).values_list("account_id", flat=True).first()
        if alias is not None:
            account = qs.get(pk=alias)
    if account is None:
        raise NotFound(_("Unknown address %(address)s.") % {"address": address})
    return account


def taken_local_parts(domain: str, *, containing: str = "") -> set[str]:
    """Local parts in use or reserved (accounts, agencies, aliases, tombstones).

    ``containing`` narrows the read to names with that text (every candidate for a person
    contains their given name), so one creation does not load the whole province."""
    qs = ReservedName.objects.filter(domain=domain)
    if containing:
        qs = qs.filter(local_part__contains=containing)
    return set(qs.values_list("local_part", flat=True))


def accounts(*, agency_ids: list[int] | None = None, state: str = "") -> QuerySet[Account]:
    qs = Account.objects.select_related("agency", "person")
    if agency_ids is not None:
        qs = qs.filter(agency_id__in=agency_ids)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("address")


def account_json(account: Account, profile: Profile) -> dict[str, Any]:
    """What ``account show --json`` prints: state, why, and every date a rule looks at."""
    tz = profile.timezone
    person = account.person
    mailbox = getattr(account, "mailbox", None)
    return {
        "address": account.address,
        "kind": account.kind,
        "state": account.state,
        "reason": account.reason,
        "reason_text": account.reason_text,
        "state_changed_at": iso(account.state_changed_at, tz),
        "must_change_password": account.must_change_password,
        "must_change_reason": account.must_change_reason,
        "agency": account.agency.account_name if account.agency else None,
        "department": person.department.account_name if person and person.department else None,
        "full_name": person.full_name if person else None,
        "position": person.position if person else None,
        "leader": person.is_leader if person else None,
        "birth_date": person.birth_date.isoformat() if person and person.birth_date else None,
        "is_operator": account.is_operator,
        "created_at": iso(account.created_at, tz),
        "activated_at": iso(account.activated_at, tz),
        "last_login_at": iso(account.last_login, tz),
        "last_activity_at": iso(account.last_activity_at, tz),
        "password_changed_at": iso(account.password_changed_at, tz),
        "one_time_password_issued_at": iso(account.one_time_password_issued_at, tz),
        "leave": {
            "effective_at": iso(account.leave_effective_at, tz),
            "rule": account.leave_rule,
            "lock_at": iso(account.leave_lock_at, tz),
            "delete_at": iso(account.leave_delete_at, tz),
        } if account.leave_effective_at else None,
        "locked_at": iso(account.locked_at, tz),
        "deleted_at": iso(account.deleted_at, tz),
        "quota_bytes": mailbox.quota_bytes if mailbox else None,
        "aliases": sorted(account.aliases.values_list("address", flat=True)),
    }


# ------------------------------------------------------------------ roles and scope


def roles_of(account: Account) -> list[str]:
    """The SSO ``roles`` claim (issue 5, issue 6): ``operator``, ``agency-mailbox``,
    ``civil-servant`` (every person account, implicitly), ``leader``, then the granted
    agency roles (``agency-it``, ``clerk``) in that order."""
    roles = []
    if account.is_operator:
        roles.append(Role.OPERATOR.value)
    if account.kind == "agency":
        roles.append("agency-mailbox")
    person = account.person
    if person is not None:
        roles.append("civil-servant")
        if person.is_leader:
            roles.append("leader")
    granted = set(RoleGrant.objects.filter(account=account, role__in=AGENCY_ROLES)
                  .values_list("role", flat=True))
    roles += [r.value for r in (Role.AGENCY_IT, Role.CLERK) if r in granted]
    return roles


def role_grants(*, account: Account | None = None,
                agency_ids: Iterable[int] | None = None) -> QuerySet[RoleGrant]:
    """Grant rows (agency roles and operator grants made with ``role grant``)."""
    qs = RoleGrant.objects.select_related("account", "agency")
    if account is not None:
        qs = qs.filter(account=account)
    if agency_ids is not None:
        qs = qs.filter(agency_id__in=list(agency_ids))
    return qs.order_by("account__address", "role", "agency__account_name")


@dataclass(frozen=True)
class RoleEntry:
    """One role held: the operator flag (with its grant, if ``role grant`` made it) or an
    agency role grant."""

    address: str
    role: str
    agency: str | None
    granted_at: dt.datetime | None
    granted_by: str | None


def role_entries(actor: Actor, *, account: Account | None = None,
                 agency_ref: str | None = None) -> list[RoleEntry]:
    """Who holds which role. Operators see everything; an agency's IT contact or clerk
    sees the agency roles of their own agencies' subtrees (not the operators)."""
    ids = visible_agency_ids(actor, agency_ref)
    grants = role_grants(account=account, agency_ids=ids)
    entries: list[RoleEntry] = []
    if ids is None:
        holders = operators() if account is None else Account.objects.filter(
            pk=account.pk, is_operator=True)
        made = {g.account_id: g for g in grants if g.role == Role.OPERATOR}
        for op in holders:
            g = made.get(op.pk)
            entries.append(RoleEntry(op.address, Role.OPERATOR.value, None,
                                     g.granted_at if g else None, g.granted_by if g else None))
    entries += [RoleEntry(g.account.address, g.role, g.agency.account_name if g.agency else None,
                          g.granted_at, g.granted_by)
                for g in grants if g.role != Role.OPERATOR]
    return sorted(entries, key=lambda e: (e.address, e.role, e.agency or ""))


def operators() -> QuerySet[Account]:
    """Accounts holding the operator role (``Account.is_operator``), deleted ones aside."""
    return Account.objects.filter(is_operator=True).exclude(state="deleted").order_by("address")


def visible_agency_ids(actor: Actor, agency_ref: str | None = None) -> set[int] | None:
    """The agencies whose data ``actor`` may read, narrowed to ``agency_ref``'s subtree;
    None means every agency (operators and system, no ``agency_ref``). An agency contact
    or clerk sees their own agencies' subtrees only; naming another agency is Forbidden."""
    if actor.kind in ("operator", "system"):
        if not agency_ref:
            return None
        return agency_subtree_ids([agency_by_ref(agency_ref).pk])
    if not actor.request_scope:
        raise Forbidden(_("%(actor)s may not see agencies' accounts or requests.") % {
            "actor": actor.label})
    if agency_ref:
        root = agency_by_ref(agency_ref)
        actor.require_request_agency([a.pk for a in root.ancestors()])
        return agency_subtree_ids([root.pk])
    return agency_subtree_ids(actor.request_scope)


def accounts_for(actor: Actor, *, agency_ref: str | None = None,
                 state: str = "") -> QuerySet[Account]:
    """The accounts ``actor`` may see (issue 6): everything for an operator; an agency IT
    contact's or clerk's own agency subtree only (a department's staff belong to their
    agency, so the department on their person counts too)."""
    ids = visible_agency_ids(actor, agency_ref)
    qs = Account.objects.select_related("agency", "person", "person__department")
    if ids is not None:
        qs = qs.filter(Q(agency_id__in=ids) | Q(person__department_id__in=ids))
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("address")
