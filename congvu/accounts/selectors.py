"""Reading accounts and the address namespace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import (
    AGENCY_ROLES,
    Account,
    Alias,
    Delegation,
    Forward,
    ReservedName,
    Role,
    RoleGrant,
)
from congvu.accounts.naming import Suggestion
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.clock import iso
from congvu.directory.selectors import agency_by_ref, agency_subtree_ids
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.profiles import Profile

if TYPE_CHECKING:
    from congvu.directory.models import Agency


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


# ------------------------------------------------------------ the console (issue 6)

#: Who may read agencies' accounts in the console (the selectors narrow it per agency).
ACCOUNT_READERS = ("operator", "system", "agency-it", "clerk")


def _variants() -> dict[str, str]:
    """Every letter that folds (KH-3.1) to each ASCII letter, both cases: ``a`` → the 34
    forms of a, ă, â with their tone marks."""
    from congvu.text import fold

    groups: dict[str, set[str]] = {}
    for cp in [*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0xC0, 0x1F00)]:
        char = chr(cp)
        base = fold(char)
        if len(base) == 1 and base.isascii() and base.isalpha():
            groups.setdefault(base.lower(), set()).update({char, char.lower(), char.upper()})
    return {k: "".join(sorted(c for c in v if len(c) == 1)) for k, v in groups.items()}


_VARIANTS: dict[str, str] = {}


def accent_insensitive_pattern(text: str) -> str:
    """A regular expression that finds ``text`` in a Vietnamese name whatever its tone
    marks and case: "nguyen van" finds "Nguyễn Văn", and "Nguyễn" finds "NGUYEN". The
    same expression works on SQLite (Python's ``re``) and PostgreSQL (``~``): it lists
    both cases itself, so it does not depend on the database's collation."""
    import re

    from congvu.text import fold

    if not _VARIANTS:
        _VARIANTS.update(_variants())
    words = [fold(w).lower() for w in text.split()]
    parts = []
    for word in words:
        parts.append("".join(f"[{_VARIANTS[c]}]" if c in _VARIANTS else re.escape(c)
                             for c in word))
    return r"\s+".join(p for p in parts if p)


def search_filter(query: str) -> Q:
    """Accounts whose holder's name or whose address contains ``query``, accents and case
    ignored (issue 6: the console's search)."""
    from congvu.text import fold

    pattern = accent_insensitive_pattern(query)
    folded = "".join(fold(query).lower().split())
    if not pattern:
        return Q()
    return Q(person__full_name__regex=pattern) | Q(address__contains=folded)


def _check_state(state: str) -> None:
    from congvu.accounts.models import AccountState

    if state and state not in AccountState.values:
        raise CongvuError(_("Unknown state %(state)r. Valid states: %(valid)s.") % {
            "state": state, "valid": ", ".join(AccountState.values)})


def account_list(actor: Actor, *, agency_ref: str | None = None, state: str = "",
                 query: str = "") -> QuerySet[Account]:
    """The console's account list: :func:`accounts_for` (an agency contact's own subtree
    only) narrowed by state and an accent-insensitive search on name and address."""
    _check_state(state)
    qs = accounts_for(actor, agency_ref=agency_ref or None, state=state)
    if query.strip():
        qs = qs.filter(search_filter(query))
    return qs


def state_counts(actor: Actor, *, agency_ref: str | None = None,
                 query: str = "") -> dict[str, int]:
    """How many of the accounts ``actor`` may see are in each state (same filters as the
    list, the state aside): one grouped query."""
    qs = accounts_for(actor, agency_ref=agency_ref or None)
    if query.strip():
        qs = qs.filter(search_filter(query))
    rows = qs.order_by().values("state").annotate(n=Count("id"))
    return {r["state"]: r["n"] for r in rows}


def _require_reader(actor: Actor) -> None:
    if actor.kind not in ACCOUNT_READERS:
        raise Forbidden(_("%(actor)s may not see agencies' accounts.") % {
            "actor": actor.label})


def _visible(actor: Actor, account: Account) -> bool:
    ids = visible_agency_ids(actor)
    if ids is None:
        return True
    person = account.person
    return account.agency_id in ids or bool(person and person.department_id in ids)


def account_for(actor: Actor, profile: Profile, address: str) -> Account:
    """One account ``actor`` may see: any for an operator; within their agencies'
    subtrees for an IT contact or clerk (Forbidden otherwise, without its data)."""
    _require_reader(actor)
    account = account_by_address(profile, address)
    if not _visible(actor, account):
        raise Forbidden(_("%(actor)s may not see this account: it belongs to another "
                          "agency.") % {"actor": actor.label})
    return account


def can_manage(actor: Actor, account: Account) -> bool:
    """Whether ``actor`` may change ``account`` (the test the actions make)."""
    agency = account.agency
    ancestors = [a.pk for a in agency.ancestors()] if agency else []
    return actor.can_manage_agency(agency.pk if agency else None, ancestors)


def manageable_account(actor: Actor, profile: Profile, address: str) -> Account:
    """An account ``actor`` may see and change (the actions check it again): Forbidden
    for another agency's account, or for a clerk, who changes accounts only through
    requests."""
    account = account_for(actor, profile, address)
    if not can_manage(actor, account):
        raise Forbidden(_("%(actor)s may not change this account: an agency's IT contact "
                          "manages their own agency's accounts, a clerk files requests.") % {
            "actor": actor.label})
    return account


def manageable_agencies(actor: Actor) -> QuerySet[Agency]:
    """The agencies whose accounts ``actor`` may manage (transfer targets, creation)."""
    from congvu.directory.models import Agency

    qs = Agency.objects.select_related("parent").order_by("name", "account_name")
    if actor.kind in ("operator", "system"):
        return qs
    if actor.kind != "agency-it":
        return qs.none()
    return qs.filter(pk__in=agency_subtree_ids(actor.agency_ids))


def visible_agencies(actor: Actor) -> QuerySet[Agency]:
    """The agencies ``actor`` may filter the account list by."""
    from congvu.directory.models import Agency

    ids = visible_agency_ids(actor)
    qs = Agency.objects.order_by("name", "account_name")
    return qs if ids is None else qs.filter(pk__in=ids)


@dataclass(frozen=True)
class AccountPage:
    """What the console's account page shows, read in a fixed number of queries."""

    account: Account
    aliases: list[Alias]
    forwards: list[Forward]
    delegates: list[str]
    grants: list[RoleGrant]
    events: list[AuditEvent]
    can_manage: bool


def account_page(actor: Actor, profile: Profile, address: str, *,
                 events: int = 20) -> AccountPage:
    """The account, its aliases and forwards, roles and its newest audit events (under
    its current address and its former ones): whatever the province's size, a handful
    of queries (no N+1)."""
    _require_reader(actor)
    account = account_by_address(profile, address)
    account = (Account.objects.select_related(
        "person", "person__agency", "person__department", "agency", "agency__parent",
        "agency__parent__parent", "mailbox").get(pk=account.pk))
    if not _visible(actor, account):
        raise Forbidden(_("%(actor)s may not see this account: it belongs to another "
                          "agency.") % {"actor": actor.label})
    aliases = list(Alias.objects.filter(account=account).order_by("address"))
    targets = [account.address, *(a.address for a in aliases)]
    found = list(AuditEvent.objects.filter(target__in=targets).order_by("-id")[:events])
    return AccountPage(
        account=account, aliases=aliases,
        forwards=list(Forward.objects.filter(account=account).order_by("target")),
        delegates=list(Delegation.objects.filter(mailbox=account)
                       .order_by("delegate__address")
                       .values_list("delegate__address", flat=True)),
        grants=list(RoleGrant.objects.filter(account=account).select_related("agency")
                    .order_by("role", "agency__account_name")),
        events=found, can_manage=can_manage(actor, account))


def role_list(actor: Actor, *, role: str = "", agency_ref: str | None = None,
              address: str = "", profile: Profile | None = None) -> list[RoleEntry]:
    """The console's roles page (operators only): who holds which role, narrowed to a
    role, an agency's subtree or one account."""
    actor.require_operator()
    if role and role not in Role.values:
        raise CongvuError(_("Unknown role %(role)r. Roles: %(valid)s.") % {
            "role": role, "valid": ", ".join(Role.values)})
    account = account_by_address(profile, address) if address and profile else None
    entries = role_entries(actor, account=account, agency_ref=agency_ref or None)
    if agency_ref:
        entries = [e for e in entries if e.role != Role.OPERATOR]
    return [e for e in entries if not role or e.role == role]


def manageable_agency(actor: Actor, agency_ref: str) -> Agency:
    """An agency whose accounts ``actor`` may manage (a transfer's target): NotFound for
    an unknown one, Forbidden for another agency's (the action checks it again)."""
    agency = agency_by_ref(agency_ref)
    actor.require_agency(agency.pk, [a.pk for a in agency.ancestors()])
    return agency


def check_address_choice(profile: Profile, text: str) -> str:
    """The operator's address (``local`` or ``local@<domain>``) as a local part, or the
    error the account actions would give: wrong domain, bad format, length, in use or a
    tombstone. Read-only: lets the console refuse a choice before anything is written."""
    from congvu.accounts.actions import _validate_local_part, ensure_name_free
    from congvu.requests.fulfil import chosen_local

    local = _validate_local_part(profile, chosen_local(profile, text))
    try:
        ensure_name_free(profile, local)
    except CongvuError as exc:  # never reused: the collision rule gives another name
        raise CongvuError(exc.message, rule=profile.naming.collision_rule) from None
    return local


@dataclass(frozen=True)
class PersonNaming:
    """The address the profile gives a new person: the person rule's base address, the
    suggestion (its rule and free candidates) and whether the base was taken."""

    base: str
    suggestion: Suggestion

    @property
    def collision(self) -> bool:
        return self.suggestion.local_part != self.base


def person_naming(actor: Actor, profile: Profile, node: Agency, full_name: str) -> PersonNaming:
    """Operators only: the naming suggestion for a person of ``node`` (NB-5.3, KH-3.3a,
    QN-4.1, NT-4.2a; collisions NB-5.4, KH-3.3b, QN-4.2, NT-4.2b), against every address
    in use or tombstoned. Raises NamingError for a name no address can be made from."""
    from congvu.accounts.naming import (
        base_local_part,
        parse_person_name,
        person_agency_abbr,
        suggest_person,
    )
    from congvu.directory.selectors import node_of

    actor.require_operator()
    abbr = person_agency_abbr(profile, node_of(node))
    given = parse_person_name(full_name, rule=profile.naming.person_rule).given
    taken = taken_local_parts(profile.mail.domain, containing=given)
    return PersonNaming(base_local_part(profile, full_name, agency=abbr),
                        suggest_person(profile, full_name, agency=abbr, taken=taken))


def department_of(agency: Agency, ref: str) -> Agency:
    """A department (phòng/ban) of ``agency`` by abbreviation or account name."""
    from congvu.accounts.actions import _department_of

    return _department_of(agency, ref)
