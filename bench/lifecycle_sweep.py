"""Benchmark ``congvu lifecycle run`` (the nightly sweep) on a province-sized directory.

    .venv/bin/python bench/lifecycle_sweep.py [--n 100000] [--db sqlite|postgres|both]
        [--repeat 3] [--now 2026-11-24T09:00] [--seed 2026] [--cprofile DIR]

For each database: a fresh deployment in a temporary ``$CONGVU_HOME`` (``congvu init
--profile ninh-binh``; PostgreSQL gets a fresh database, dropped afterwards), populated
with N person accounts through the Django ORM (``bulk_create`` of Agency, Person,
Account, Mailbox, ReservedName, Alias and the accounts' creation AuditEvent, one
precomputed Argon2id hash for everyone) with this mix at ``--now``:

=====================  ======  ==============================================  ==========
group                  share   data                                            sweep
=====================  ======  ==============================================  ==========
otp-stale              10 %    one-time password issued 33–150 days ago        NB-7.2đ
expired                 5 %    password changed 187–500 days ago               NB-8.2a
leave-lock-due          1 %    leave effective 0–40 days ago, lock due          NB-7.4 lock
leave-delete-due      0.5 %    locked, leave + 3 months passed                 NB-7.4 del.
otp-fresh               2 %    one-time password issued 1–28 days ago          —
expired-flagged         1 %    old password, already flagged NB-8.2a           —
leave-future          0.5 %    leave effective in 1–60 days                    —
suspended             0.5 %    suspended by an operator (NB-7.2c)              —
deleted               0.3 %    deleted long ago (tombstones, no mailbox)        —
healthy               rest     password changed 1–170 days ago, signed in      —
=====================  ======  ==============================================  ==========

1 % of the accounts (and a fifth of the leave-delete-due ones) were transferred and
keep their old address as an alias. The populated database is kept as a pristine copy;
each repetition runs on a fresh clone of it (SQLite: file copy; PostgreSQL: ``CREATE
DATABASE … TEMPLATE``):

- ``sweep``: the real ``congvu lifecycle run --now T --json``; the JSON counts must
  match the mix, and the database afterwards must hold exactly the expected states,
  flags, mailboxes, aliases, tombstones and audit events;
- ``again``: the same command once more (idempotent: must change nothing);
- ``raw SQL``: on another clone, the minimal set-based SQL making the same changes
  (INSERT … SELECT of the audit events, UPDATE of the accounts, tombstones, DELETE of
  mailboxes and aliases) in one committed transaction, timed inside one process with the
  connection already open: the floor for the database work;
- ``congvu --version``: the console script's start-up, the floor for any command.

Target (the issue): the sweep under 5 s. Exits 1 if a check fails (or, with ``--strict``,
if the target is missed). Temporary folders and databases are removed at the end.
``--cprofile DIR`` also runs one sweep per database under ``python -m cProfile`` and
prints its hot spots (the .prof files are written to DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

CONGVU = str(Path(sys.executable).parent / "congvu")
PROFILE = "ninh-binh"
TARGET_SECONDS = 5.0
DEFAULT_NOW = "2026-11-24T09:00"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
PASSWORD = "Bench#Mat-Khau-2026"  # the one password every generated account shares

# (group, share of N); "healthy" takes the rest.
MIX: tuple[tuple[str, float], ...] = (
    ("otp-stale", 0.10),
    ("expired", 0.05),
    ("leave-lock-due", 0.01),
    ("leave-delete-due", 0.005),
    ("otp-fresh", 0.02),
    ("expired-flagged", 0.01),
    ("leave-future", 0.005),
    ("suspended", 0.005),
    ("deleted", 0.003),
)
ALIAS_SHARE = 0.01
ALIAS_SHARE_DELETE_DUE = 0.2


# =========================================================================== workers
# These run in a subprocess whose environment selects the deployment (CONGVU_HOME,
# DATABASE_URL); Django reads it once, at setup.


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django

    django.setup()


def worker_populate(n: int, now_text: str, seed: int) -> dict[str, Any]:
    """Fill the deployment; return the mix and the expected state after one sweep."""
    import datetime as dt
    import random

    _django()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from names import AGENCIES, people

    from congvu import deployment
    from congvu.accounts.models import Account, Alias, Mailbox, ReservedName
    from congvu.accounts.naming import AgencyNode, BatchRow, agency_local_part, suggest_batch
    from congvu.accounts.selectors import taken_local_parts
    from congvu.audit.models import AuditEvent
    from congvu.clock import parse_moment, start_of_day
    from congvu.directory.models import Agency, Person

    profile = deployment.deployment_profile()
    tz = profile.timezone
    domain = profile.mail.domain
    now = parse_moment(now_text, tz)
    rng = random.Random(seed)
    day = dt.timedelta(days=1)
    leave = profile.lifecycle.leave
    life = profile.lifecycle
    started = time.perf_counter()

    def ago(lo: int, hi: int) -> dt.datetime:
        """A moment between ``lo`` and ``hi`` days before now (to the minute)."""
        return now - dt.timedelta(minutes=rng.randint(lo * 1440, hi * 1440))

    pw_hash = make_password(PASSWORD)
    people_rows = list(people(n, seed=seed))
    order = list(range(n))
    rng.shuffle(order)
    group_of = ["healthy"] * n
    sizes: dict[str, int] = {}
    pos = 0
    for group, share in MIX:
        size = round(n * share)
        for i in order[pos : pos + size]:
            group_of[i] = group
        sizes[group] = size
        pos += size
    sizes["healthy"] = n - pos

    with transaction.atomic():
        created = now - dt.timedelta(days=900)
        agencies: dict[str, Agency] = {}
        nodes: dict[str, AgencyNode] = {}
        for a in AGENCIES:
            parent = nodes.get(a.parent) if a.parent else None
            local, rule = agency_local_part(profile, a.abbr, a.kind, parent)
            agencies[a.abbr] = Agency.objects.create(
                abbr=a.abbr, name=a.name, kind=a.kind, account_name=local, naming_rule=rule,
                parent=agencies[a.parent] if a.parent else None, created_at=created)
            nodes[a.abbr] = AgencyNode(a.abbr, a.kind, local, parent)
            ReservedName.objects.create(local_part=local, domain=domain, kind="agency",
                                        agency=agencies[a.abbr], created_at=created)

        taken = taken_local_parts(domain)
        batch = [BatchRow(p.full_name, p.agency, p.leader) for p in people_rows]
        locals_ = [s.local_part for s in suggest_batch(profile, batch, taken)]
        naming_s = time.perf_counter() - started

        persons = [
            Person(full_name=p.full_name, agency=agencies[p.agency], is_leader=p.leader,
                   position="Lãnh đạo" if p.leader else "Chuyên viên",
                   birth_date=dt.date(1962 + rng.randrange(40), 1 + rng.randrange(12),
                                      1 + rng.randrange(28)),
                   created_at=created)
            for p in people_rows
        ]
        Person.objects.bulk_create(persons, batch_size=2000)
        if persons and persons[0].pk is None:  # a backend without INSERT … RETURNING
            ids = list(Person.objects.order_by("id").values_list("id", flat=True))[-n:]
            for person, pk in zip(persons, ids, strict=True):
                person.pk = pk

        accounts: list[Account] = []
        for i, (p, person, local) in enumerate(zip(people_rows, persons, locals_, strict=True)):
            g = group_of[i]
            acct = Account(
                address=f"{local}@{domain}", local_part=local, domain=domain, kind="person",
                person=person, agency=agencies[p.agency], password=pw_hash, state="active",
                created_at=ago(400, 800),
                must_change_password=False, must_change_reason="",
            )
            acct.activated_at = acct.state_changed_at = acct.created_at
            if g in ("otp-stale", "otp-fresh"):
                issued = ago(33, 150) if g == "otp-stale" else ago(1, 28)
                acct.created_at = acct.activated_at = acct.state_changed_at = issued
                acct.must_change_password = True
                acct.must_change_reason = profile.password.change_first_login_rule
                acct.one_time_password_issued_at = issued
            elif g in ("expired", "expired-flagged"):
                acct.password_changed_at = ago(187, 500)
                acct.last_login = ago(0, 20)
                if g == "expired-flagged":
                    acct.must_change_password = True
                    acct.must_change_reason = profile.password.max_age_rule
            else:
                acct.password_changed_at = ago(1, 170)
                acct.last_login = ago(0, 30)
            if g in ("leave-lock-due", "leave-future", "leave-delete-due"):
                if g == "leave-lock-due":
                    effective = (now - rng.randint(0, 40) * day).date()
                elif g == "leave-future":
                    effective = (now + rng.randint(1, 60) * day).date()
                else:
                    effective = (now - rng.randint(95, 300) * day).date()
                start = start_of_day(effective, tz)
                acct.leave_effective_at = start
                acct.leave_rule = leave.rule
                acct.leave_lock_at = leave.lock_after.after(start) if leave.lock_after else start
                acct.leave_delete_at = leave.delete_after.after(start)
                if g == "leave-delete-due":
                    assert acct.leave_delete_at <= now
                    acct.state, acct.reason = "locked", leave.rule
                    acct.locked_at = acct.state_changed_at = acct.leave_lock_at
                else:
                    assert acct.leave_delete_at > now
            elif g == "suspended":
                acct.state, acct.reason = "suspended", "NB-7.2c"
                acct.reason_text = "Lộ mật khẩu"
                acct.state_changed_at = ago(1, 60)
            elif g == "deleted":
                acct.state, acct.reason = "deleted", leave.rule
                acct.deleted_at = acct.state_changed_at = ago(200, 400)
                acct.password = "!deleted"
            accounts.append(acct)
        Account.objects.bulk_create(accounts, batch_size=1000)
        if accounts and accounts[0].pk is None:
            ids = list(Account.objects.filter(kind="person").order_by("id")
                       .values_list("id", flat=True))
            for acct, pk in zip(accounts, ids, strict=True):
                acct.pk = acct.id = pk

        quota = profile.mail.quota_personal_mb * 1024 * 1024
        Mailbox.objects.bulk_create(
            (Mailbox(account=a, quota_bytes=quota, created_at=a.created_at)
             for a, g in zip(accounts, group_of, strict=True) if g != "deleted"),
            batch_size=5000)
        ReservedName.objects.bulk_create(
            (ReservedName(local_part=a.local_part, domain=domain, kind="account", account=a,
                          created_at=a.created_at,
                          tombstoned_at=a.deleted_at if g == "deleted" else None)
             for a, g in zip(accounts, group_of, strict=True)),
            batch_size=5000)

        # Transfers (NB-5.3 gives a new address): the old one stays as an alias and a
        # reserved name of kind alias, still linked to the account.
        used = set(locals_) | taken
        abbrs = [a.abbr for a in AGENCIES]
        aliases: list[Alias] = []
        alias_names: list[ReservedName] = []
        alias_of_delete_due = 0
        for i, a in enumerate(accounts):
            g = group_of[i]
            share = ALIAS_SHARE_DELETE_DUE if g == "leave-delete-due" else ALIAS_SHARE
            if g == "deleted" or rng.random() >= share:
                continue
            core = a.local_part.split(".", 1)[0]
            old = f"{core}.{rng.choice(abbrs)}"
            if old in used:
                continue
            used.add(old)
            aliases.append(Alias(address=f"{old}@{domain}", local_part=old, domain=domain,
                                 account=a, rule=life.transfer_rule, created_at=ago(1, 80),
                                 expires_at=now + rng.randint(1, 10) * day))
            alias_names.append(ReservedName(local_part=old, domain=domain, kind="alias",
                                            account=a, created_at=ago(300, 400)))
            alias_of_delete_due += g == "leave-delete-due"
        Alias.objects.bulk_create(aliases, batch_size=5000)
        ReservedName.objects.bulk_create(alias_names, batch_size=5000)

        AuditEvent.objects.bulk_create(
            (AuditEvent(at=a.created_at, actor="cli:bench", action="account.create",
                        target=a.address, rule=profile.naming.person_rule,
                        data={"agency": a.agency.account_name, "state": "active"})
             for a in accounts),
            batch_size=2000)

    states = dict(_count_by(Account, "state"))
    tomb = ReservedName.objects.filter(tombstoned_at__isnull=False).count()
    flagged = Account.objects.filter(state="active", must_change_password=True,
                                     must_change_reason=profile.password.max_age_rule).count()
    d_lock, d_delete = sizes["leave-lock-due"], sizes["leave-delete-due"]
    d_susp, d_exp = sizes["otp-stale"], sizes["expired"]
    expected_changes = {
        f"{leave.rule}/lock": d_lock,
        f"{leave.rule}/delete": d_delete,
        f"{life.default_password_rule}/suspend": d_susp,
        f"{profile.password.max_age_rule}/expire-password": d_exp,
    }
    after = {
        "state.active": states.get("active", 0) - d_lock - d_susp,
        "state.suspended": states.get("suspended", 0) + d_susp,
        "state.locked": states.get("locked", 0) + d_lock - d_delete,
        "state.deleted": states.get("deleted", 0) + d_delete,
        "state.requested": states.get("requested", 0),
        "active_flagged_expired": flagged + d_exp,
        "mailboxes": Mailbox.objects.count() - d_delete,
        "aliases": Alias.objects.count() - alias_of_delete_due,
        "tombstones": tomb + d_delete + alias_of_delete_due,
        "audit_events": AuditEvent.objects.count() + sum(expected_changes.values()),
    }
    return {"sizes": sizes, "expected_changes": expected_changes, "after": after,
            "aliases": len(aliases), "seconds": time.perf_counter() - started,
            "naming_seconds": naming_s}


def _count_by(model: Any, field_name: str) -> list[tuple[str, int]]:
    from django.db.models import Count

    return [(r[field_name], r["n"]) for r in
            model.objects.values(field_name).annotate(n=Count("id")).order_by(field_name)]


def worker_verify() -> dict[str, int]:
    """The same figures as ``after`` in :func:`worker_populate`, read from the database."""
    _django()
    from congvu import deployment
    from congvu.accounts.models import Account, Alias, Mailbox, ReservedName
    from congvu.audit.models import AuditEvent

    profile = deployment.deployment_profile()
    states = dict(_count_by(Account, "state"))
    return {
        **{f"state.{s}": states.get(s, 0)
           for s in ("active", "suspended", "locked", "deleted", "requested")},
        "active_flagged_expired": Account.objects.filter(
            state="active", must_change_password=True,
            must_change_reason=profile.password.max_age_rule).count(),
        "mailboxes": Mailbox.objects.count(),
        "aliases": Alias.objects.count(),
        "tombstones": ReservedName.objects.filter(tombstoned_at__isnull=False).count(),
        "audit_events": AuditEvent.objects.count(),
    }


def worker_rawsql(now_text: str) -> dict[str, Any]:
    """The database work of the sweep as plain set-based SQL, in one transaction."""
    _django()
    from django.db import connection, transaction

    from congvu import deployment
    from congvu.accounts.models import Account, Alias, Mailbox, ReservedName
    from congvu.audit.models import AuditEvent
    from congvu.clock import parse_moment

    profile = deployment.deployment_profile()
    life, policy, leave = profile.lifecycle, profile.password, profile.lifecycle.leave
    now = parse_moment(now_text, profile.timezone)
    assert life.default_password_suspend_after and policy.max_age
    adapt = connection.ops.adapt_datetimefield_value
    t_now = adapt(now)
    t_otp = adapt(life.default_password_suspend_after.before(now))
    t_pw = adapt(policy.max_age.before(now))
    acc, mbx, ali = Account._meta.db_table, Mailbox._meta.db_table, Alias._meta.db_table
    res, aud = ReservedName._meta.db_table, AuditEvent._meta.db_table
    pg = connection.vendor == "postgresql"
    obj = "jsonb_build_object" if pg else "json_object"
    actor = "system:lifecycle"

    def audit(action: str, rule_sql: str, to: str, where: str) -> str:
        data = f"{obj}('from', state, 'to', '{to}')" if to else ("'{}'::jsonb" if pg else "'{}'")
        return (f"INSERT INTO {aud} (at, recorded_at, actor, action, target, rule, reason, data)"
                f" SELECT %s, %s, '{actor}', '{action}', address, {rule_sql}, %s, {data}"
                f" FROM {acc} WHERE {where}")

    lock_w = "leave_lock_at <= %s AND state IN ('active', 'suspended')"
    del_w = "leave_delete_at <= %s AND state <> 'deleted'"
    susp_w = "state = 'active' AND one_time_password_issued_at <= %s"
    exp_w = "state = 'active' AND must_change_password = %s AND password_changed_at <= %s"
    due = f"SELECT id FROM {acc} WHERE {del_w}"
    text = "x" * 60  # the translated reason text, about this long
    steps: list[tuple[str, str, list[Any]]] = [
        ("lock.audit", audit("account.lock", "leave_rule", "locked", lock_w),
         [t_now, t_now, text, t_now]),
        ("lock", f"UPDATE {acc} SET state = 'locked', reason = leave_rule, reason_text = %s, "
                 f"state_changed_at = %s, locked_at = %s WHERE {lock_w}",
         [text, t_now, t_now, t_now]),
        ("delete.audit", audit("account.delete", "leave_rule", "deleted", del_w),
         [t_now, t_now, text, t_now]),
        ("delete.tombstones",
         f"UPDATE {res} SET tombstoned_at = %s WHERE tombstoned_at IS NULL AND "
         f"(account_id IN ({due}) OR (domain, local_part) IN "
         f"(SELECT domain, local_part FROM {ali} WHERE account_id IN ({due})))",
         [t_now, t_now, t_now]),
        ("delete.aliases", f"DELETE FROM {ali} WHERE account_id IN ({due})", [t_now]),
        ("delete.mailboxes", f"DELETE FROM {mbx} WHERE account_id IN ({due})", [t_now]),
        ("delete", f"UPDATE {acc} SET state = 'deleted', reason = leave_rule, "
                   f"reason_text = %s, state_changed_at = %s, deleted_at = %s, "
                   f"password = '!deleted', must_change_password = %s, "
                   f"one_time_password_issued_at = NULL, leave_lock_at = NULL, "
                   f"leave_delete_at = NULL WHERE {del_w}",
         [text, t_now, t_now, False, t_now]),
        ("suspend.audit", audit("account.suspend", "%s", "suspended", susp_w),
         [t_now, t_now, life.default_password_rule, text, t_otp]),
        ("suspend", f"UPDATE {acc} SET state = 'suspended', reason = %s, reason_text = %s, "
                    f"state_changed_at = %s WHERE {susp_w}",
         [life.default_password_rule, text, t_now, t_otp]),
        ("expire.audit", audit("account.password_expired", "%s", "", exp_w),
         [t_now, t_now, policy.max_age_rule, text, False, t_pw]),
        ("expire", f"UPDATE {acc} SET must_change_password = %s, must_change_reason = %s "
                   f"WHERE {exp_w}",
         [True, policy.max_age_rule, False, t_pw]),
    ]
    # The audit INSERT placeholders for `at` and `recorded_at` come first; the rule
    # placeholder (when the rule is a parameter) comes before the reason.
    connection.ensure_connection()
    rowcounts: dict[str, int] = {}
    step_seconds: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        for name, sql, params in steps:
            t0 = time.perf_counter()
            cur.execute(sql, params)
            rowcounts[name] = cur.rowcount
            step_seconds[name] = time.perf_counter() - t0
        t0 = time.perf_counter()
    step_seconds["commit"] = time.perf_counter() - t0
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rowcounts": rowcounts, "steps": step_seconds,
            "changes": {f"{leave.rule}/lock": rowcounts["lock"],
                        f"{leave.rule}/delete": rowcounts["delete"],
                        f"{life.default_password_rule}/suspend": rowcounts["suspend"],
                        f"{policy.max_age_rule}/expire-password": rowcounts["expire"]}}


# ====================================================================== orchestration


@dataclass
class Database:
    """One backend: a pristine populated deployment, and clones of it for each run."""

    kind: str  # sqlite | postgres
    tmp: Path
    pg_base: str
    prefix: str = field(default_factory=lambda: f"congvu_bench_{secrets.token_hex(4)}")
    pg_databases: list[str] = field(default_factory=list)
    clones: int = 0

    @property
    def pristine_home(self) -> Path:
        return self.tmp / f"{self.kind}-pristine"

    def env(self, home: Path, dbname: str | None) -> dict[str, str]:
        env = {**os.environ, "CONGVU_HOME": str(home), "PYTHONHASHSEED": "0",
               "DATABASE_URL": f"{self.pg_base}/{dbname}" if dbname else ""}
        env.pop("CONGVU_LANG", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return env

    def pristine_env(self) -> dict[str, str]:
        name = None
        if self.kind == "postgres":
            name = f"{self.prefix}_pristine"
            self.pg_databases.append(name)
        return self.env(self.pristine_home, name)

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg_base}/postgres", autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)  # type: ignore[arg-type]

    def finish_pristine(self) -> None:
        """Make the pristine copy look like a production database at rest."""
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(f"{self.pg_base}/{self.prefix}_pristine",
                                 autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        else:
            db = self.pristine_home / "congvu.sqlite3"
            assert not db.with_name(db.name + "-wal").exists() or \
                db.with_name(db.name + "-wal").stat().st_size == 0, "WAL not checkpointed"

    @contextmanager
    def clone(self) -> Iterator[dict[str, str]]:
        """A fresh copy of the pristine deployment; removed on exit."""
        self.clones += 1
        if self.kind == "postgres":
            name = f"{self.prefix}_run{self.clones}"
            self.pg_databases.append(name)
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.prefix}_pristine"')
            try:
                yield self.env(self.pristine_home, name)
            finally:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        home = self.tmp / f"sqlite-run{self.clones}"
        home.mkdir(mode=0o700)
        try:
            for f in ("congvu.toml", "congvu.sqlite3"):
                shutil.copyfile(self.pristine_home / f, home / f)
            (home / "congvu.toml").chmod(0o600)
            yield self.env(home, None)
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def drop_all(self) -> None:
        if self.kind != "postgres" or not self.pg_databases:
            return
        self._admin(*[f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in self.pg_databases])


class Failed(Exception):
    pass


def run_cmd(args: list[str], env: dict[str, str], what: str,
            timeout: float = 3600) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise Failed(f"{what}: exit {proc.returncode}\n{proc.stderr.strip()[-2000:]}")
    return seconds, proc.stdout


def worker(name: str, env: dict[str, str], *args: str) -> tuple[float, dict[str, Any]]:
    seconds, out = run_cmd([sys.executable, str(Path(__file__).resolve()), "--worker", name,
                            *args], env, f"worker {name}")
    return seconds, json.loads(out)


def sweep_counts(data: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in data["changes"]:
        key = f"{change['rule']}/{change['action']}"
        counts[key] = counts.get(key, 0) + change["count"]
        if change["count"] != len(change["addresses"]):
            raise Failed(f"{key}: count {change['count']} but {len(change['addresses'])} "
                         f"addresses")
    return counts


def compare(what: str, got: dict[str, int], expected: dict[str, int]) -> None:
    wrong = {k: (got.get(k, 0), v) for k, v in expected.items() if got.get(k, 0) != v}
    wrong |= {k: (v, 0) for k, v in got.items() if k not in expected and v}
    if wrong:
        detail = ", ".join(f"{k}: got {g}, expected {e}" for k, (g, e) in sorted(wrong.items()))
        raise Failed(f"{what}: {detail}")


@dataclass
class Result:
    kind: str
    populate_s: float = 0.0
    sizes: dict[str, int] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    sweep: list[float] = field(default_factory=list)
    again: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    raw_proc: list[float] = field(default_factory=list)
    raw_steps: list[dict[str, float]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def bench_database(db: Database, n: int, now: str, seed: int, repeat: int,
                   cprofile: Path | None, log: Callable[[str], None]) -> Result:
    res = Result(db.kind)
    env = db.pristine_env()
    init_now = now.split("T")[0] + "T08:00"
    run_cmd([CONGVU, "init", "--profile", PROFILE, "--now", init_now, "--json"], env,
            "congvu init")
    res.populate_s, pop = worker("populate", env, "--n", str(n), "--now", now,
                                 "--seed", str(seed))
    db.finish_pristine()
    res.sizes = pop["sizes"]
    expected: dict[str, int] = pop["expected_changes"]
    res.changes = expected
    log(f"  populated {n} accounts in {res.populate_s:.1f} s "
        f"(naming {pop['naming_seconds']:.1f} s, {pop['aliases']} aliases)")
    cmd = [CONGVU, "lifecycle", "run", "--now", now, "--json"]
    for i in range(repeat):
        with db.clone() as cenv:
            raw_proc, raw = worker("rawsql", cenv, "--now", now)
            compare("raw SQL row counts", raw["changes"], expected)
            compare("raw SQL result", worker("verify", cenv)[1], pop["after"])
        res.raw.append(raw["seconds"])
        res.raw_steps.append(raw["steps"])
        res.raw_proc.append(raw_proc)
        with db.clone() as cenv:
            seconds, out = run_cmd(cmd, cenv, "lifecycle run")
            first = json.loads(out)
            compare("sweep counts", sweep_counts(first), expected)
            if first["total"] != sum(expected.values()):
                raise Failed(f"sweep total {first['total']} != {sum(expected.values())}")
            compare("database after the sweep", worker("verify", cenv)[1], pop["after"])
            again_s, out = run_cmd(cmd, cenv, "lifecycle run (again)")
            second = json.loads(out)
            if second["total"] != 0:
                raise Failed(f"second sweep changed {second['total']} accounts: "
                             f"{sweep_counts(second)}")
            compare("database after the second sweep", worker("verify", cenv)[1],
                    pop["after"])
        res.sweep.append(seconds)
        res.again.append(again_s)
        log(f"  run {i + 1}: sweep {seconds:.2f} s, again {again_s:.2f} s, "
            f"raw SQL {raw['seconds']:.2f} s (process {raw_proc:.2f} s)")
    res.checks.append("sweep JSON counts, database state after each run, idempotent "
                      "second run, raw-SQL row counts and state")
    if cprofile is not None:
        cprofile.mkdir(parents=True, exist_ok=True)
        out_file = cprofile / f"sweep-{db.kind}.prof"
        with db.clone() as cenv:
            seconds, _out = run_cmd([sys.executable, "-m", "cProfile", "-o", str(out_file),
                                     "-m", "congvu.cli.main", *cmd[1:]], cenv, "cProfile")
        log(f"  cProfile run: {seconds:.2f} s -> {out_file}")
        print_hot_spots(out_file)
    return res


def print_hot_spots(path: Path, limit: int = 25) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    print(f"\n--- {path.name}: by cumulative time")
    stats.sort_stats("cumulative").print_stats(limit)
    print(f"--- {path.name}: by own time")
    stats.sort_stats("tottime").print_stats(limit)


def report(results: list[Result], n: int, now: str, repeat: int, start_s: float) -> bool:
    print()
    print(f"lifecycle sweep, profile {PROFILE}, {n} accounts, --now {now}, "
          f"best of {repeat} (all runs listed)")
    r0 = results[0]
    mix = ", ".join(f"{g} {c}" for g, c in r0.sizes.items())
    print(f"mix: {mix}")
    print("changes per sweep: " + ", ".join(f"{k} {v}" for k, v in r0.changes.items())
          + f" (total {sum(r0.changes.values())})")
    print(f"congvu --version (start-up floor): {start_s:.2f} s")
    print()
    print("| database   | sweep s | again s | raw SQL s | sweep / raw SQL | "
          "(sweep − start-up) / raw SQL | target < 5 s |")
    print("|------------|--------:|--------:|----------:|----------------:|"
          "-----------------------------:|--------------|")
    ok = True
    for r in results:
        sweep, again, raw = min(r.sweep), min(r.again), min(r.raw)
        met = sweep < TARGET_SECONDS
        ok &= met
        print(f"| {r.kind:<10} | {sweep:7.2f} | {again:7.2f} | {raw:9.2f} | "
              f"{sweep / raw:15.1f} | {(sweep - start_s) / raw:28.1f} | "
              f"{'met' if met else 'MISSED':<12} |")
    print()
    for r in results:
        print(f"{r.kind}: sweep runs {' '.join(f'{t:.2f}' for t in r.sweep)} "
              f"(median {statistics.median(r.sweep):.2f}); again "
              f"{' '.join(f'{t:.2f}' for t in r.again)}; raw SQL "
              f"{' '.join(f'{t:.2f}' for t in r.raw)} (whole process "
              f"{' '.join(f'{t:.2f}' for t in r.raw_proc)}); populate {r.populate_s:.1f} s")
        best = r.raw_steps[r.raw.index(min(r.raw))]
        print(f"{r.kind}: raw SQL steps (best run): "
              + ", ".join(f"{k} {v:.3f}" for k, v in best.items()))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="person accounts (default 100000)")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=3, help="sweeps on fresh clones, best kept")
    ap.add_argument("--now", default=DEFAULT_NOW, help="the sweep's --now (default %(default)s)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL, no database name")
    ap.add_argument("--cprofile", type=Path, default=None, metavar="DIR",
                    help="also profile one sweep per database; .prof files go to DIR")
    ap.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        sys.path.insert(0, str(BENCH.parent))
        if args.worker == "populate":
            out: Any = worker_populate(args.n, args.now, args.seed)
        elif args.worker == "verify":
            out = worker_verify()
        elif args.worker == "rawsql":
            out = worker_rawsql(args.now)
        else:
            ap.error(f"unknown worker {args.worker}")
        print(json.dumps(out))
        return 0

    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    tmp = Path(tempfile.mkdtemp(prefix="congvu-bench-sweep-"))
    results: list[Result] = []
    dbs: list[Database] = []

    def log(text: str) -> None:
        print(text, flush=True)

    try:
        start_s = min(run_cmd([CONGVU, "--version"],
                              Database("sqlite", tmp, args.pg).env(tmp / "none", None),
                              "congvu --version")[0] for _i in range(5))
        for kind in kinds:
            log(f"{kind}:")
            db = Database(kind, tmp, args.pg)
            dbs.append(db)
            results.append(bench_database(db, args.n, args.now, args.seed, args.repeat,
                                          args.cprofile, log))
    except Failed as exc:
        print(f"CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        for db in dbs:
            try:
                db.drop_all()
            except Exception as exc:  # keep cleaning up the rest
                print(f"warning: could not drop {db.pg_databases}: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    met = report(results, args.n, args.now, args.repeat, start_s)
    print(f"\ntarget: sweep of {args.n} accounts under {TARGET_SECONDS:.0f} s: "
          f"{'MET' if met else 'MISSED'} ({', '.join(r.kind for r in results)})")
    print("checks: OK (" + results[0].checks[0] + ")")
    return 1 if (args.strict and not met) else 0


if __name__ == "__main__":
    sys.exit(main())
