"""Test data through the real actions (so every row is valid and audited)."""

from __future__ import annotations

import datetime as dt

from congvu.accounts.actions import do_create_account
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.directory.actions import do_add_agency
from congvu.directory.models import Agency
from congvu.profiles import Profile

OPERATOR = Actor(kind="operator", label="test:operator")


def agency(profile: Profile, abbr: str, name: str = "", *, kind: str | None = None,
           parent: str | None = None, now: dt.datetime | None = None) -> Agency:
    return do_add_agency(actor=OPERATOR, profile=profile, abbr=abbr, name=name or abbr.upper(),
                         kind=kind, parent=parent,
                         now=now or dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC))


def account(profile: Profile, agency_ref: str, full_name: str, now: dt.datetime,
            **kwargs: object) -> tuple[Account, str]:
    acct, otp = do_create_account(actor=OPERATOR, profile=profile, agency_ref=agency_ref,
                                  full_name=full_name, now=now, **kwargs)  # type: ignore[arg-type]
    assert otp is not None
    return acct, otp


def grant(profile: Profile, address: str, role: str, agency_ref: str | None = None,
          now: dt.datetime | None = None) -> object:
    """Grant a role as the test operator (issue 6)."""
    from congvu.accounts.roles import do_grant_role

    return do_grant_role(actor=OPERATOR, profile=profile, address=address, role=role,
                         agency_ref=agency_ref,
                         now=now or dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC))


def contact(profile: Profile, agency_ref: str, full_name: str, role: str = "agency-it",
            now: dt.datetime | None = None) -> tuple[Account, Actor]:
    """A person of ``agency_ref`` holding ``role`` there, and the Actor they act as."""
    from congvu.accounts.roles import actor_for

    when = now or dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    acct, _otp = account(profile, agency_ref, full_name, when)
    grant(profile, acct.address, role, agency_ref, when)
    acct.refresh_from_db()
    return acct, actor_for(acct)
