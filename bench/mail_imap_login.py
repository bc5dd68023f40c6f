"""IMAP sign-in rate through ``congvu mail up``: STARTTLS + LOGIN + LOGOUT, Argon2id.

    .venv/bin/python bench/mail_imap_login.py [--logins 300] [--concurrency 8]
        [--db sqlite|postgres|both] [--accounts 1000] [--pg URL] [--strict]

For each database a fresh deployment (``congvu init --profile ninh-binh``, about 1,000
person accounts sharing one password whose Argon2id hash congvu's hasher made; PostgreSQL
on a fresh database, dropped afterwards) and ``congvu mail up`` on loopback ports. Then
``--concurrency`` threads, each with its own ``imaplib`` connections, sign in
``--logins`` times in all, every time a different account (round robin over the active
ones, so nothing but Dovecot's own caches could help, and its auth cache is off):
connect, ``STARTTLS``, ``LOGIN``, ``LOGOUT``. Every step is timed.

Each sign-in runs the whole production path: Dovecot's ``sql`` passdb query on the congvu
database, the Argon2id verification (m=19456 KiB, t=2, p=1, read from the stored hash),
the userdb query, and congvu's auth-policy endpoint (NB-7.2a), which Dovecot calls
before (``allow``) and after (``report``) authentication; the report of a success
records the sign-in (``last_login``) in the database.

Also measured, as floors: the same connections without ``LOGIN`` (connect, STARTTLS,
LOGOUT: the TLS and process cost), and one Argon2id verification of the same hash in
this process (argon2-cffi, the library congvu's hasher uses), whose inverse times the
2 cores bounds the sign-in rate.

Checks: every sign-in succeeds; one account made by ``congvu account create`` signs in
with its one-time password; a wrong password is refused; ``last_login`` is recorded for
the accounts that signed in; ``auth_cache_size`` is 0 in the running Dovecot's
configuration; no error in dovecot.log or the congvu mail daemon's log. Exits 1 if a
check fails. No target is set for this one: the figures are reported.
"""

from __future__ import annotations

import argparse
import imaplib
import itertools
import json
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mail_common import (
    DEFAULT_PG,
    LOOPBACK,
    PASSWORD,
    Deployment,
    Failed,
    cpu_delta,
    cpu_snapshot,
    free_port,
    load_average,
    log,
    percentile,
    postgres_available,
    stop_on_sigterm,
    tls_client,
)

DOVECONF = "/usr/bin/doveconf"


@dataclass
class Sample:
    connect: float  # TCP connect + greeting
    starttls: float
    login: float
    logout: float

    @property
    def total(self) -> float:
        return self.connect + self.starttls + self.login + self.logout


@dataclass
class Phase:
    name: str
    samples: list[Sample]
    seconds: float
    cpu: dict[str, float]
    client_cpu: float
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds

    def ms(self, what: str, pct: float) -> float:
        return percentile([getattr(s, what) for s in self.samples], pct) * 1000


def one_session(port: int, address: str | None, password: str) -> Sample:
    ctx = tls_client()
    clock = time.perf_counter
    t0 = clock()
    m = imaplib.IMAP4(LOOPBACK, port, timeout=60)
    t1 = clock()
    try:
        m.starttls(ssl_context=ctx)
        t2 = clock()
        if address is not None:
            typ, _data = m.login(address, password)
            if typ != "OK":
                raise Failed(f"LOGIN {address}: {typ}")
        t3 = clock()
    except BaseException:
        m.shutdown()
        raise
    m.logout()
    return Sample(t1 - t0, t2 - t1, t3 - t2, clock() - t3)


def run_phase(name: str, port: int, accounts: list[str] | None, count: int,
              concurrency: int, roots: list[int], pg_marker: str) -> Phase:
    """``count`` sessions over ``concurrency`` threads; accounts None: no LOGIN."""
    cycle = itertools.cycle(accounts) if accounts else itertools.repeat(None)
    lock = threading.Lock()
    samples: list[Sample] = []
    errors: list[str] = []
    todo = iter(range(count))

    def worker() -> None:
        while True:
            with lock:
                if next(todo, None) is None:
                    return
                address = next(cycle)
            try:
                s = one_session(port, address, PASSWORD)
            except Exception as exc:  # recorded and reported as a failed check
                with lock:
                    errors.append(f"{address}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                samples.append(s)

    before = cpu_snapshot(roots, pg_marker)
    client_before = time.process_time()
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    seconds = time.perf_counter() - start
    cpu = cpu_delta(before, cpu_snapshot(roots, pg_marker))
    phase = Phase(name, samples, seconds, cpu, time.process_time() - client_before, errors)
    if errors:
        raise Failed(f"{name}: {len(errors)} of {count} sessions failed, e.g. {errors[0]}")
    return phase


def argon2_verify_ms(encoded: str, repeat: int = 20) -> float:
    """One Argon2id verification of congvu's stored hash, in this process (median)."""
    from argon2 import PasswordHasher

    ph = PasswordHasher()
    phc = "$" + encoded.split("$", 1)[1]  # Django stores "argon2$argon2id$..."
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        ph.verify(phc, PASSWORD)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def check_logs(dep: Deployment) -> list[str]:
    bad = []
    for name in ("dovecot.log", "congvu-mail.log"):
        path = dep.log_dir / name
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            low = line.lower()
            if ("error" in low or "traceback" in low or "fatal" in low or "panic" in low):
                bad.append(f"{name}: {line.strip()[:300]}")
    return bad


@dataclass
class DbResult:
    kind: str
    phases: list[Phase] = field(default_factory=list)
    argon2_ms: float = 0.0
    params: str = ""
    cache: str = ""
    workers: str = ""
    auth_limit: str = ""
    login_count: str = ""
    log_issues: list[str] = field(default_factory=list)
    recorded: int = 0


def bench_db(kind: str, args: argparse.Namespace) -> DbResult:
    res = DbResult(kind)
    with Deployment(kind, pg_base=args.pg) as dep:
        dep.init()
        data = dep.populate(args.accounts)
        active = data["by_state"]["active"]
        res.params = data["hash"][3]
        otp_address, otp = dep.create_account("skhcn", "Trần Thị Mai")
        status = dep.mail_up(smtp=free_port(), submission=free_port(), imap=free_port())
        port = status["ports"]["imap"]
        conf = str(dep.mail_dir / "dovecot" / "dovecot.conf")
        res.cache = subprocess.run([DOVECONF, "-c", conf, "-h", "auth_cache_size"],
                                   capture_output=True, text=True).stdout.strip()
        if res.cache not in ("0", "0 B", "0B"):
            raise Failed(f"auth_cache_size is {res.cache!r}, expected 0")
        res.workers, res.auth_limit, res.login_count = (
            subprocess.run([DOVECONF, "-c", conf, "-h", name], capture_output=True,
                           text=True).stdout.strip()
            for name in ("auth_worker_max_count", "service/auth/process_limit",
                         "service/imap-login/service_count"))
        log(f"[{kind}] {len(active)} active accounts, Argon2id {res.params}, "
            f"auth_cache_size = {res.cache}, auth_worker_max_count = {res.workers}")
        # Correctness first: the one-time password signs in, a wrong password does not.
        one_session(port, otp_address, otp)
        try:
            one_session(port, active[0], PASSWORD + "x")
        except imaplib.IMAP4.error:
            pass
        else:
            raise Failed("a wrong password signed in")
        roots, marker = dep.mail_roots(), dep.dbname
        run_phase("warm-up", port, active[-50:], 2 * args.concurrency, args.concurrency,
                  roots, marker)
        accounts = active[: len(active) - 50]
        res.phases.append(run_phase("tls-only", port, None, args.logins, args.concurrency,
                                    roots, marker))
        res.phases.append(run_phase("login", port, accounts, args.logins, args.concurrency,
                                    roots, marker))
        for p in res.phases:
            log(f"[{kind}] {p.name}: {p.rate:.1f}/s, p50 {p.ms('total', 50):.1f} ms, "
                f"load {load_average()}")
        res.argon2_ms = argon2_verify_ms(data["hash_string"])
        signed = accounts[: min(args.logins, len(accounts))]
        shown = [json.loads(dep.cli("account", "show", a, "--json"))
                 for a in (signed[0], signed[len(signed) // 2], signed[-1])]
        res.recorded = sum(1 for s in shown if s.get("last_login_at"))
        if res.recorded != len(shown):
            raise Failed(f"last_login not recorded for {len(shown) - res.recorded} of "
                         f"{len(shown)} sampled accounts")
        res.log_issues = check_logs(dep)
        if res.log_issues:
            raise Failed("errors in the mail logs:\n" + "\n".join(res.log_issues[:20]))
    return res


def report(results: list[DbResult], args: argparse.Namespace) -> None:
    print()
    print(f"IMAP sign-in through congvu mail up: {args.logins} sessions per phase, "
          f"{args.concurrency} threads (imaplib), a different account each time")
    print()
    print("| database | phase | sessions/s | p50 ms | p95 ms | p99 ms | LOGIN p50 ms | "
          "LOGIN p95 ms | STARTTLS p50 ms |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for r in results:
        for p in r.phases:
            login = (f"{p.ms('login', 50):.1f} | {p.ms('login', 95):.1f}"
                     if p.name == "login" else "— | —")
            print(f"| {r.kind} | {p.name} | {p.rate:.1f} | {p.ms('total', 50):.1f} | "
                  f"{p.ms('total', 95):.1f} | {p.ms('total', 99):.1f} | {login} | "
                  f"{p.ms('starttls', 50):.1f} |")
    print()
    for r in results:
        print(f"{r.kind}: Argon2id {r.params}, one verification in-process "
              f"{r.argon2_ms:.1f} ms → at most {2000 / r.argon2_ms:.0f} verifications/s "
              f"on 2 cores; auth_cache_size = {r.cache}")
    for r in results:
        login = next(p for p in r.phases if p.name == "login")
        auth_ms = login.cpu.get("auth", 0.0) * 1000 / len(login.samples)
        if auth_ms:
            print(f"{r.kind}: Dovecot's auth process (service auth process_limit = "
                  f"{r.auth_limit}) used {auth_ms:.1f} ms CPU per sign-in → at most "
                  f"{1000 / auth_ms:.0f} sign-ins/s whatever the cores; imap-login "
                  f"service_count = {r.login_count} (one process per connection)")
    print()
    print("CPU seconds per 100 sessions (Dovecot, congvu's daemon, PostgreSQL backends of "
          "the deployment; approximate)")
    for r in results:
        for p in r.phases:
            per = {k: v * 100 / len(p.samples) for k, v in p.cpu.items() if v > 0.005}
            top = sorted(per.items(), key=lambda kv: -kv[1])[:8]
            print(f"  {r.kind} {p.name}: total {sum(per.values()):.2f} s — "
                  + ", ".join(f"{k} {v:.2f}" for k, v in top)
                  + f"; the client (imaplib, this process) "
                  f"{p.client_cpu * 100 / len(p.samples):.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logins", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL, no database")
    args = ap.parse_args()
    if not (1 <= args.logins <= 20_000 and 1 <= args.concurrency <= 64
            and 100 <= args.accounts <= 20_000):
        ap.error("bounded runs only: --logins 1..20000, --concurrency 1..64, "
                 "--accounts 100..20000")
    stop_on_sigterm()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in kinds and (err := postgres_available(args.pg)):
        log(f"PostgreSQL not reachable at {args.pg}: {err}")
        return 1
    log(f"load average before: {load_average()}")
    results = []
    try:
        for kind in kinds:
            results.append(bench_db(kind, args))
    except Failed as exc:
        log(f"FAILED: {exc}")
        return 1
    report(results, args)
    log(f"\nload average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
