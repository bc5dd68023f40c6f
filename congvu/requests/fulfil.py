"""Carrying out one row of a request through the accounts actions (one handler per
:class:`~congvu.requests.models.ItemAction`). Each handler runs inside the caller's
transaction for that row and raises :class:`~congvu.errors.CongvuError` to refuse it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from congvu.accounts.actions import (
    do_change_address,
    do_change_position,
    do_create_account,
    do_create_agency_mailbox,
    do_leave,
    do_reset_password,
    do_restore,
    do_transfer,
    ensure_name_free,
)
from congvu.accounts.models import Account
from congvu.accounts.naming import base_local_part, person_agency_abbr
from congvu.actors import Actor
from congvu.directory.selectors import node_of
from congvu.errors import CongvuError
from congvu.profiles import Profile
from congvu.requests.models import ItemAction, RequestItem, ServiceRequest


@dataclass(frozen=True)
class Done:
    """What a handler did: the account, its address now, the rule applied, and the
    one-time password if one was issued (shown once, never stored)."""

    account: Account
    rule: str
    one_time_password: str | None = None


#: The rule behind form 02's changes, where the profile's regulation has one (KH-4.3: the
#: forms are Khánh Hòa's; elsewhere a change is the operator's action without a rule ID).
CHANGE_RULES: dict[str, str] = {"KH": "KH-4.3"}

Handler = Callable[[Actor, Profile, ServiceRequest, RequestItem, str, dt.datetime], Done]


def chosen_local(profile: Profile, text: str) -> str:
    """The operator's address choice: ``local`` or ``local@<domain>``, lowercased."""
    value = text.strip().lower()
    domain = "@" + profile.mail.domain
    if value.endswith(domain):
        value = value[: -len(domain)]
    if "@" in value:
        raise CongvuError(_("The address must be in %(domain)s.") % {
            "domain": profile.mail.domain})
    return value


def _account(item: RequestItem) -> Account:
    if item.account is None:
        raise CongvuError(_("The account of this row no longer exists."))
    return item.account


def _create_person(actor: Actor, profile: Profile, req: ServiceRequest, item: RequestItem,
                   choice: str, now: dt.datetime) -> Done:
    """Mẫu 01 row: the profile's address (NB-5.3, KH-3.3a, QN-4.1, NT-4.2a), or on a
    collision the profile's rule (NB-5.4 ranked, KH-3.3b, QN-4.2 numbered, NT-4.2b), or the
    operator's pick among the candidates; the rule applied is recorded."""
    node = item.unit or req.agency
    base = base_local_part(profile, item.full_name,
                           agency=person_agency_abbr(profile, node_of(node)))
    local = chosen_local(profile, choice) if choice.strip() else None
    if local == base:
        ensure_name_free(profile, base)  # then the person rule applies, not a collision
        local = None
    account, otp = do_create_account(
        actor=actor, profile=profile, agency_ref=node.account_name, full_name=item.full_name,
        now=now, leader=item.leader, birth_date=item.birth_date, position=item.position,
        local_part=local)
    naming = profile.naming
    rule = naming.person_rule if account.local_part == base else naming.collision_rule
    return Done(account, rule, otp)


def _create_agency_mailbox(actor: Actor, profile: Profile, req: ServiceRequest,
                           item: RequestItem, choice: str, now: dt.datetime) -> Done:
    """Mẫu 01 item 1: the agency's mailbox at its account name (NB-5.1/5.2, KH-3.2)."""
    unit = item.unit or req.agency
    account, otp = do_create_agency_mailbox(actor=actor, profile=profile,
                                            agency_ref=unit.account_name, now=now)
    return Done(account, unit.naming_rule, otp)


def _change_position(actor: Actor, profile: Profile, req: ServiceRequest, item: RequestItem,
                     choice: str, now: dt.datetime) -> Done:
    account = do_change_position(actor=actor, profile=profile, account=_account(item),
                                 position=item.new_value, now=now)
    return Done(account, CHANGE_RULES.get(profile.rule_prefix, ""))


def _change_unit(actor: Actor, profile: Profile, req: ServiceRequest, item: RequestItem,
                 choice: str, now: dt.datetime) -> Done:
    """Code 2: a new department or agency (KH-2.4/NT-5.2b keep the address; NB-5.3 gives
    a new one and keeps the old as an alias)."""
    if item.new_unit is None:
        raise CongvuError(_("The new department of this row no longer exists."))
    account = do_transfer(actor=actor, profile=profile, account=_account(item),
                          to_agency_ref=item.new_unit.account_name, now=now)
    return Done(account, profile.lifecycle.transfer_rule)


def _change_address(actor: Actor, profile: Profile, req: ServiceRequest, item: RequestItem,
                    choice: str, now: dt.datetime) -> Done:
    account = do_change_address(actor=actor, profile=profile, account=_account(item),
                                local_part=item.new_value, now=now)
    return Done(account, CHANGE_RULES.get(profile.rule_prefix, ""))


def _leave(actor: Actor, profile: Profile, req: ServiceRequest, item: RequestItem,
           choice: str, now: dt.datetime) -> Done:
    """Mẫu 03: the profile's leaving rule (NB-7.4 lock then delete after 3 months,
    NT-5.2c, KH-4.4 at once, QN-7.1)."""
    if req.effective_date is None:
        raise CongvuError(_("The request has no effective date."))
    account = _account(item)
    do_leave(actor=actor, profile=profile, account=account, effective=req.effective_date,
             now=now)
    account.refresh_from_db()
    return Done(account, account.leave_rule)


def _restore(actor: Actor, profile: Profile, req: ServiceRequest, item: RequestItem,
             choice: str, now: dt.datetime) -> Done:
    """NB-7.3, NT-6.3: reactivated with a one-time password to change at first sign-in."""
    account = _account(item)
    otp = do_restore(actor=actor, profile=profile, account=account, now=now)
    account.refresh_from_db()
    return Done(account, profile.lifecycle.restore_rule, otp)


def _reset_password(actor: Actor, profile: Profile, req: ServiceRequest, item: RequestItem,
                    choice: str, now: dt.datetime) -> Done:
    """KH-4.2, QN-6: a new one-time password the holder changes at first use."""
    account = _account(item)
    otp = do_reset_password(actor=actor, profile=profile, account=account, now=now)
    account.refresh_from_db()
    return Done(account, profile.password.change_first_login_rule, otp)


HANDLERS: dict[str, Handler] = {
    ItemAction.CREATE_PERSON: _create_person,
    ItemAction.CREATE_AGENCY_MAILBOX: _create_agency_mailbox,
    ItemAction.CHANGE_POSITION: _change_position,
    ItemAction.CHANGE_UNIT: _change_unit,
    ItemAction.CHANGE_ADDRESS: _change_address,
    ItemAction.LEAVE: _leave,
    ItemAction.RESTORE: _restore,
    ItemAction.RESET_PASSWORD: _reset_password,
}
