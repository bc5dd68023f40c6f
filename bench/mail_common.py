"""Shared set-up for the mail-plane benchmarks (``bench/mail_*.py``).

A :class:`Deployment` is a throw-away congvu deployment in a short temporary folder under
/tmp (unix socket paths are limited to 108 bytes): ``congvu init --profile ninh-binh`` on
SQLite or on a fresh PostgreSQL database, filled with about a thousand person accounts,
optionally with the mail plane started by ``congvu mail up`` on loopback ports. Closing
it runs ``congvu mail down``, removes the folder (and the deployment's socket folder in
/run/congvu) and drops the PostgreSQL database.

The accounts are written through the Django ORM in a subprocess (``bulk_create``; one
Argon2id hash, made by congvu's own hasher, shared by every account: hashing a thousand
passwords is not what is measured). Run as ``python bench/mail_common.py --worker
populate --n N --seed S`` with ``CONGVU_HOME``/``DATABASE_URL`` set; prints JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
CONGVU = str(Path(sys.executable).parent / "congvu")
PROFILE = "ninh-binh"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
#: The password every generated account shares (the IMAP benchmark signs in with it).
PASSWORD = "Bench#Thu-Dien-2026"
LOOPBACK = "127.0.0.1"


class Failed(Exception):
    """A benchmark check failed: the script reports it and exits 1."""


def log(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@functools.cache
def tls_client() -> ssl.SSLContext:
    """The deployment's certificate is self-signed: no verification (loopback only). One
    context for the whole run (made once: loading a CA store costs milliseconds)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (need not be sorted)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def run(args: Sequence[str], env: dict[str, str] | None, what: str, *,
        timeout: float = 300, stdin: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env,
                          timeout=timeout, input=stdin, check=False)
    if check and proc.returncode != 0:
        raise Failed(f"{what}: exit {proc.returncode}\n"
                     f"{(proc.stderr or proc.stdout).strip()[-2000:]}")
    return proc.stdout


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its reaped children), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def stop_on_sigterm() -> None:
    """SIGTERM (and SIGHUP) unwind like Ctrl-C, so every ``finally`` cleans up."""
    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def terminate(proc: subprocess.Popen[Any] | None, seconds: float = 10) -> None:
    """Stop a child this script started (by its pid), killing it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=seconds)


class Deployment:
    """A temporary congvu deployment; use as a context manager."""

    def __init__(self, kind: str, *, pg_base: str = DEFAULT_PG) -> None:
        if kind not in ("sqlite", "postgres"):
            raise ValueError(kind)
        self.kind = kind
        self.pg_base = pg_base.rstrip("/")
        # /tmp/cvbXXXXXXXX/h: short, and the parent traversable by postfix (SQLite maps)
        # and by the mail user (vmail).
        self.root = Path(tempfile.mkdtemp(prefix="cvb", dir="/tmp"))
        self.root.chmod(0o711)
        self.home = self.root / "h"
        self.home.mkdir(mode=0o700)
        self.dbname = f"congvu_mbench_{secrets.token_hex(5)}" if kind == "postgres" else ""
        self.env = {**os.environ, "CONGVU_HOME": str(self.home), "CONGVU_LANG": "en",
                    "DATABASE_URL": f"{self.pg_base}/{self.dbname}" if self.dbname else ""}
        self.mail_started = False
        self.status: dict[str, Any] = {}

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 300,
            check: bool = True) -> str:
        return run([CONGVU, *args], self.env, "congvu " + " ".join(args[:2]),
                   timeout=timeout, stdin=stdin, check=check)

    def init(self) -> None:
        self.cli("init", "--profile", PROFILE, "--json")

    def populate(self, n: int, seed: int = 2026) -> dict[str, Any]:
        out = run([sys.executable, str(Path(__file__).resolve()), "--worker", "populate",
                   "--n", str(n), "--seed", str(seed)], self.env, "populate", timeout=600)
        data: dict[str, Any] = json.loads(out)
        return data

    def create_account(self, agency: str, full_name: str) -> tuple[str, str]:
        """Through the real command: (address, one-time password)."""
        made = json.loads(self.cli("account", "create", "--agency", agency, "--full-name",
                                   full_name, "--json"))
        return made["address"], made["one_time_password"]

    def mail_up(self, *, smtp: int, submission: int, imap: int,
                relay: tuple[str, int] | None = None) -> dict[str, Any]:
        args = ["mail", "up", "--smtp-port", str(smtp), "--submission-port", str(submission),
                "--imap-port", str(imap), "--listen", LOOPBACK, "--json"]
        if relay:
            args += ["--internet-relay", f"{relay[0]}:{relay[1]}"]
        self.mail_started = True
        self.cli(*args, timeout=180)
        self.status = json.loads(self.cli("mail", "status", "--json"))
        if not self.status.get("running"):
            raise Failed(f"mail up: not running: {self.status}")
        return self.status

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    @property
    def log_dir(self) -> Path:
        return self.mail_dir / "log"

    @property
    def dovecot_run(self) -> Path:
        """Dovecot's base_dir (congvu.mail.config.MailPaths.dovecot_run)."""
        return Path("/run/congvu") / hashlib.sha256(str(self.home).encode()).hexdigest()[:12]

    def daemon_pid(self) -> int | None:
        return _pid_in(self.mail_dir / "congvu-mail.pid")

    def dovecot_pid(self) -> int | None:
        return _pid_in(self.dovecot_run / "master.pid")

    def postfix_pid(self) -> int | None:
        return _pid_in(self.mail_dir / "spool" / "pid" / "master.pid")

    def mail_roots(self) -> list[int]:
        """The process trees of this deployment's mail plane (for CPU accounting)."""
        return [p for p in (self.postfix_pid(), self.dovecot_pid(), self.daemon_pid()) if p]

    def close(self) -> None:
        try:
            if self.mail_started:
                self.cli("mail", "down", "--json", check=False, timeout=180)
        finally:
            shutil.rmtree(self.dovecot_run, ignore_errors=True)
            shutil.rmtree(self.root, ignore_errors=True)
            if self.dbname:
                drop_database(self.pg_base, self.dbname)


def _pid_in(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(path.read_text().split()[0])
    return None


def drop_database(pg_base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available(pg_base: str = DEFAULT_PG) -> str | None:
    """None if the server answers, else the error."""
    try:
        import psycopg

        with psycopg.connect(f"{pg_base}/postgres", connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # report, do not crash: --db both then skips nothing silently
        return str(exc)
    return None


def wait_until(predicate: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# ======================================================================= CPU accounting


EXITED = " (+ exited children)"


def _proc_table() -> dict[int, tuple[str, int, float]]:
    """pid -> (label, ppid, cpu seconds incl. reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
            cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks
        label = comm
        if comm == "postgres":
            label = "postgres:" + cmd.split(b"\0")[0].decode(errors="replace")
        table[int(entry.name)] = (label, int(fields[1]), cpu)
    return table


def cpu_snapshot(roots: list[int], pg_marker: str) -> dict[int, tuple[str, float]]:
    table = _proc_table()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (_l, ppid, _c) in table.items():
        children[ppid].append(pid)
    chosen: dict[int, tuple[str, float]] = {}
    todo = [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        if pid in chosen:
            continue
        label, _ppid, cpu = table[pid]
        if pid in roots and not label.startswith("python"):
            label += EXITED
        chosen[pid] = (label, cpu)
        todo.extend(children.get(pid, []))
    if pg_marker:
        for pid, (label, _ppid, cpu) in table.items():
            if label.startswith("postgres:") and pg_marker in label:
                chosen[pid] = ("postgres backend", cpu)
    return chosen


def cpu_delta(before: dict[int, tuple[str, float]],
              after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds used between two snapshots, by process name. Approximate: a process
    that exits in between is counted whole in its parent's (a root's) reaped-children
    time."""
    out: dict[str, float] = defaultdict(float)
    for pid, (label, cpu) in after.items():
        prev = before.get(pid)
        base = prev[1] if prev and prev[0] == label else 0.0
        out[_short(label)] += max(0.0, cpu - base)
    return dict(out)


def _short(label: str) -> str:
    if label == "postgres backend":
        return label
    suffix = EXITED if label.endswith(EXITED) else ""
    name = label.removesuffix(EXITED).split()[0].rsplit("/", 1)[-1]
    if name.startswith("python"):
        return "congvu daemon"
    return {"master": "postfix master", "dovecot": "dovecot master"}.get(name, name) + suffix


# =============================================================================== worker


def worker_populate(n: int, seed: int) -> dict[str, Any]:
    """About ``n`` person accounts across the 61 agencies of bench/names.py: 96 % active,
    2 % suspended (NB-7.2c, they still receive), 1 % locked (leave, NB-7.4), 1 % with
    a second address (alias, NB-4.5). Every account has a mailbox and a reserved name."""
    import datetime as dt
    import random

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django

    django.setup()
    sys.path.insert(0, str(BENCH))
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from names import AGENCIES, people

    from congvu import clock, deployment
    from congvu.accounts.models import Account, Alias, Mailbox, ReservedName
    from congvu.accounts.naming import AgencyNode, BatchRow, agency_local_part, suggest_batch
    from congvu.accounts.selectors import taken_local_parts
    from congvu.audit.models import AuditEvent
    from congvu.directory.models import Agency, Person

    profile = deployment.deployment_profile()
    domain = profile.mail.domain
    rng = random.Random(seed)
    now = clock.now()
    created = now - dt.timedelta(days=400)
    pw_hash = make_password(PASSWORD)
    rows = list(people(n, seed=seed))
    with transaction.atomic():
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
        locals_ = [s.local_part for s in suggest_batch(
            profile, [BatchRow(p.full_name, p.agency, p.leader) for p in rows], taken)]
        persons = [Person(full_name=p.full_name, agency=agencies[p.agency], is_leader=p.leader,
                          position="Chuyên viên", created_at=created) for p in rows]
        Person.objects.bulk_create(persons, batch_size=2000)
        if persons and persons[0].pk is None:
            ids = list(Person.objects.order_by("id").values_list("id", flat=True))[-n:]
            for person, pk in zip(persons, ids, strict=True):
                person.pk = pk
        accounts: list[Account] = []
        for i, (p, person, local) in enumerate(zip(rows, persons, locals_, strict=True)):
            state, reason = "active", ""
            if i % 50 == 7:
                state, reason = "suspended", "NB-7.2c"
            elif i % 100 == 13:
                state, reason = "locked", profile.lifecycle.leave.rule
            acct = Account(address=f"{local}@{domain}", local_part=local, domain=domain,
                           kind="person", person=person, agency=agencies[p.agency],
                           password=pw_hash, state=state, reason=reason, created_at=created,
                           state_changed_at=created, activated_at=created,
                           must_change_password=False, must_change_reason="",
                           password_changed_at=now - dt.timedelta(days=rng.randint(1, 150)))
            if state == "locked":
                acct.locked_at = created
            accounts.append(acct)
        Account.objects.bulk_create(accounts, batch_size=1000)
        if accounts and accounts[0].pk is None:
            ids = list(Account.objects.filter(kind="person").order_by("id")
                       .values_list("id", flat=True))
            for acct, pk in zip(accounts, ids, strict=True):
                acct.pk = acct.id = pk
        quota = profile.mail.quota_personal_mb * 1024 * 1024
        Mailbox.objects.bulk_create(
            [Mailbox(account=a, quota_bytes=quota, created_at=created) for a in accounts],
            batch_size=2000)
        ReservedName.objects.bulk_create(
            [ReservedName(local_part=a.local_part, domain=domain, kind="account", account=a,
                          created_at=created) for a in accounts], batch_size=2000)
        used = set(locals_) | taken
        aliases: list[Alias] = []
        for i, a in enumerate(accounts):
            old = f"{a.local_part.split('.', 1)[0]}.cu{i}"
            if i % 100 != 31 or old in used:
                continue
            aliases.append(Alias(address=f"{old}@{domain}", local_part=old, domain=domain,
                                 account=a, rule=profile.lifecycle.transfer_rule,
                                 created_at=created, expires_at=now + dt.timedelta(days=30)))
            ReservedName.objects.create(local_part=old, domain=domain, kind="alias",
                                        account=a, created_at=created)
        Alias.objects.bulk_create(aliases)
        AuditEvent.objects.bulk_create(
            [AuditEvent(at=created, actor="cli:bench", action="account.create",
                        target=a.address, rule=profile.naming.person_rule,
                        data={"agency": a.agency.account_name, "state": a.state})
             for a in accounts], batch_size=2000)
    by_state: dict[str, list[str]] = {}
    for a in accounts:
        by_state.setdefault(a.state, []).append(a.address)
    return {"domain": domain, "hash": pw_hash.split("$", 4)[:4], "hash_string": pw_hash,
            "by_state": by_state,
            "aliases": {al.address: al.account.address for al in aliases},
            "agencies": [ag.account_name for ag in agencies.values()]}


def main() -> None:
    ap = argparse.ArgumentParser(description="worker of the mail benchmarks")
    ap.add_argument("--worker", choices=("populate",), required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    json.dump(worker_populate(args.n, args.seed), sys.stdout)


if __name__ == "__main__":
    main()
