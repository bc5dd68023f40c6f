"""Writing an import's accounts in bulk: what ``accounts.actions.do_create_account`` does
for one person (person, account, mailbox, reserved name, ``account.create`` audit event,
a one-time password to change at first sign-in), for thousands at once.

``do_create_account`` takes about 20 ms per person for the Argon2id hash alone, so
50,000 persons would take a quarter of an hour; this path writes the same rows in bulk
(:func:`congvu.imports.bulk.insert`) inside the caller's transaction. The one difference
is the cost of the one-time passwords' hash (see :class:`OneTimePasswordHasher`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import argon2
from django.conf import settings

from congvu.accounts.hashers import Argon2idHasher
from congvu.accounts.models import Account, AccountKind, AccountState, Alias, Mailbox, ReservedName
from congvu.accounts.passwords import generate_one_time_password
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.directory.models import AgencyKind, Person
from congvu.directory.search import person_key
from congvu.imports.bulk import insert
from congvu.imports.planning import MIGRATION_RULES, RowPlan
from congvu.imports.snapshot import Snapshot
from congvu.profiles import Profile

_MB = 1024 * 1024
#: Rows per INSERT (SQLite's limit on variables per statement is far above this).
BATCH = 500


class OneTimePasswordHasher(Argon2idHasher):
    """Argon2id with a low cost, for random one-time passwords only.

    A key-derivation cost protects passwords people choose; a one-time password is 16
    random characters (about 94 bits), which no amount of guessing reaches, whatever the
    hash's cost. The stored form is the usual ``argon2$argon2id$…`` that Django and Dovecot
    verify with the parameters written in it; the holder must replace the password at
    first sign-in (NB-6.3, QN-5.3, KH-4.2), and the new one gets the full cost
    (``settings.ARGON2``). ``settings.ONE_TIME_ARGON2`` may change the cost.
    """

    def params(self) -> argon2.Parameters:
        full = super().params()
        cost = {"memory_cost": 64, "time_cost": 1, **getattr(settings, "ONE_TIME_ARGON2", {})}
        return argon2.Parameters(
            type=full.type, version=full.version, salt_len=full.salt_len,
            hash_len=full.hash_len, time_cost=int(cost["time_cost"]),
            memory_cost=int(cost["memory_cost"]), parallelism=1)


@dataclass(frozen=True)
class Created:
    """One account made, for the passwords file (never stored in clear)."""

    line: int
    full_name: str
    agency: str
    address: str
    one_time_password: str


def write_accounts(*, actor: Actor, profile: Profile, plans: list[RowPlan], snap: Snapshot,
                   import_target: str, now: dt.datetime,
                   advance: Callable[[int], None]) -> list[Created]:
    """Create the accounts of ``plans`` (every one checked and free); the caller holds the
    transaction. ``advance(n)`` reports how many are done."""
    hasher = OneTimePasswordHasher()
    domain = profile.mail.domain
    life = profile.lifecycle
    quota = profile.mail.quota_personal_mb * _MB
    alias_rule = MIGRATION_RULES.get(profile.rule_prefix, life.transfer_rule)
    alias_expiry = life.old_address_alias_for.after(now) if life.old_address_alias_for else None
    created: list[Created] = []
    for start in range(0, len(plans), BATCH):
        chunk = plans[start:start + BATCH]
        persons, accounts, otps = [], [], []
        for plan in chunk:
            assert plan.unit_id is not None and plan.local_part
            unit = snap.agencies[plan.unit_id]
            main = snap.main_agency(plan.unit_id)
            department = unit.id if unit.kind == AgencyKind.DEPARTMENT else None
            persons.append(Person(
                full_name=plan.full_name, position=plan.position, agency_id=main,
                department_id=department, is_leader=plan.leader, birth_date=plan.birth_date,
                created_at=now,
                # The directory's search key, as Person.save() would compute it.
                search_key=person_key(plan.full_name, plan.position, plan.local_part,
                                      snap.chain(department), snap.chain(main))))
        insert(Person, persons, returning=True)
        for plan, person in zip(chunk, persons, strict=True):
            otp = generate_one_time_password(profile.password)
            otps.append(otp)
            accounts.append(Account(
                address=f"{plan.local_part}@{domain}", local_part=plan.local_part,
                domain=domain, kind=AccountKind.PERSON, person=person,
                agency_id=person.agency_id, state=AccountState.ACTIVE, state_changed_at=now,
                created_at=now, activated_at=now,
                password=hasher.encode(otp, secrets.token_urlsafe(16)),
                must_change_password=True,
                must_change_reason=profile.password.change_first_login_rule,
                one_time_password_issued_at=now))
        insert(Account, accounts, returning=True)
        insert(Mailbox, [{"account_id": a.pk, "quota_bytes": quota, "created_at": now}
                         for a in accounts])
        names: list[dict[str, Any]] = [
            {"local_part": a.local_part, "domain": domain, "kind": ReservedName.Kind.ACCOUNT,
             "account_id": a.pk, "created_at": now} for a in accounts]
        aliases: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for plan, acct, otp in zip(chunk, accounts, otps, strict=True):
            unit = snap.agencies[plan.unit_id or 0]
            data = {"agency": unit.account_name, "state": acct.state, "leader": plan.leader,
                    "candidates": list(plan.candidates), "import": import_target,
                    "line": plan.line}
            if plan.values.get("old_address"):
                data["old_address"] = plan.values["old_address"].strip().lower()
            events.append({"at": now, "actor": actor.label, "action": "account.create",
                           "target": acct.address, "rule": plan.rule, "data": data})
            if plan.alias:
                address = f"{plan.alias}@{domain}"
                aliases.append({"address": address, "local_part": plan.alias,
                                "domain": domain, "account_id": acct.pk, "rule": alias_rule,
                                "created_at": now, "expires_at": alias_expiry})
                names.append({"local_part": plan.alias, "domain": domain,
                              "kind": ReservedName.Kind.ALIAS, "account_id": acct.pk,
                              "created_at": now})
                events.append({"at": now, "actor": actor.label, "action": "alias.add",
                               "target": address, "rule": alias_rule,
                               "data": {"to": acct.address, "import": import_target}})
            created.append(Created(plan.line, plan.full_name, unit.name, acct.address, otp))
        insert(ReservedName, names)
        insert(Alias, aliases)
        insert(AuditEvent, events)  # what audit.actions.record_many does, leaner
        advance(start + len(chunk))
    return created
