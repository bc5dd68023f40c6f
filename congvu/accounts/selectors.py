"""Reading accounts and the address namespace."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, Alias, ReservedName
from congvu.clock import iso
from congvu.errors import NotFound
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
