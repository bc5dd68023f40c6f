"""Benchmark the web console's busiest pages on a province-sized directory (issue 6).

    .venv/bin/python bench/console_pages.py [--db sqlite|postgres|both] [--accounts 50000]
        [--agencies 2000] [--requests 3000] [--seconds 15] [--warmup 3] [--connections 8]
        [--workers 2] [--threads 8]

For each database: a fresh deployment in a temporary ``$CONGVU_HOME`` (``congvu init
--profile quang-nam``; PostgreSQL gets a new database, dropped afterwards), filled through
the Django ORM (``bulk_create``; one precomputed Argon2id hash for everyone) with
``--agencies`` agencies (40 sở/huyện, the rest their units), ``--accounts`` person accounts
spread over them (deterministic Vietnamese names from ``bench/names.py``) and
``--requests`` open requests of every kind, a third of them overdue. The directory's
search keys are rebuilt by the same code the data migration uses. Then the real
``congvu serve --workers 2 --threads 8 --no-worker`` answers ``wrk`` on loopback, signed in
as an operator (a session made the way the sign-in page makes one), one page at a time:

- ``healthz``: ``/healthz``, one ``SELECT 1``: the floor of any request (the baseline the
  pages are compared with, measured in the same run);
- ``queue``: ``/console/requests/``, the operator's queue (overdue first, 50 a page);
- ``directory``: ``/console/directory/?q=…``, 200 different searches (names without
  diacritics, given names, positions, agency names), in turn;
- ``account``: ``/console/accounts/<address>/``, 500 different accounts, in turn.

Before timing, each page is fetched once with ``requests`` and checked (status 200 and the
expected content), so a redirect to the sign-in page cannot pass as a fast answer; wrk
counts any non-2xx/3xx answer as an error and the run fails on one. After ``--warmup``
seconds, ``--seconds`` of load; p50/p95/p99 come from wrk's own latency histogram (a Lua
``done`` hook). Target: p95 < 150 ms for queue, directory and account on both databases.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONGVU = str(Path(sys.executable).with_name("congvu"))
TARGET_P95_MS = 150.0
PAGES = ("healthz", "queue", "directory", "account")

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local cookie = os.getenv("BENCH_COOKIE")
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], {["Cookie"] = cookie})
end
done = function(summary, latency, requests)
  io.write(string.format(
    '\nBENCH {"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, ' ..
    '"errors": %d, "status_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
"""


# --- the seeding child (runs with the deployment's environment) ------------------------


def seed_child(cfg: dict[str, Any]) -> dict[str, Any]:
    """Fill the deployment; return the operator's session and the pages' parameters."""
    import datetime as dt
    import random

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django

    django.setup()
    sys.path.insert(0, str(HERE))
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone
    from names import people

    from congvu import deployment
    from congvu.accounts.actions import do_create_operator
    from congvu.accounts.models import Account, Mailbox, ReservedName
    from congvu.actors import Actor
    from congvu.directory.models import Agency, Person
    from congvu.requests.models import RequestItem, ServiceRequest
    from congvu.sso.actions import do_start_session
    from congvu.sso.middleware import SID
    from congvu.text import fold

    profile = deployment.deployment_profile()
    domain = profile.mail.domain
    rng = random.Random(2026)
    now = timezone.now()
    long_ago = now - dt.timedelta(days=900)
    n_agencies, n_accounts = cfg["agencies"], cfg["accounts"]
    tops = 40
    top_names = ["Sở", "UBND huyện"]
    unit_names = ["Phòng Tổ chức", "Phòng Kế hoạch", "Văn phòng", "Thanh tra", "Phòng Tài chính",
                  "Trung tâm Dịch vụ", "Phòng Pháp chế", "Phòng Quản lý", "Chi cục", "Ban"]
    started = time.perf_counter()
    with transaction.atomic():
        top_rows = [Agency(abbr=f"cq{i:02d}", name=f"{top_names[i % 2]} số {i + 1}",
                           kind="province-dept" if i % 2 == 0 else "district",
                           account_name=f"cq{i:02d}", created_at=long_ago)
                    for i in range(tops)]
        Agency.objects.bulk_create(top_rows)
        top_ids = list(Agency.objects.order_by("id").values_list("id", flat=True))
        units = [Agency(abbr=f"dv{i:04d}", name=f"{unit_names[i % len(unit_names)]} {i + 1}",
                        kind="unit", parent_id=top_ids[i % tops],
                        account_name=f"dv{i:04d}.cq{i % tops:02d}", created_at=long_ago)
                 for i in range(n_agencies - tops)]
        Agency.objects.bulk_create(units, batch_size=1000)
        agencies = list(Agency.objects.order_by("id"))
        ReservedName.objects.bulk_create(
            (ReservedName(local_part=a.account_name, domain=domain, kind="agency", agency=a,
                          created_at=long_ago) for a in agencies), batch_size=2000)

        pw_hash = make_password("Bench#2026-console")
        positions = ["Chuyên viên", "Chuyên viên chính", "Phó Trưởng phòng", "Trưởng phòng",
                     "Kế toán", "Văn thư", "Thanh tra viên", "Phó Giám đốc"]
        rows = list(people(n_accounts, seed=2026))
        persons = [Person(full_name=p.full_name, agency=agencies[i % n_agencies],
                          position=positions[rng.randrange(len(positions))],
                          is_leader=p.leader, created_at=long_ago)
                   for i, p in enumerate(rows)]
        Person.objects.bulk_create(persons, batch_size=2000)
        person_ids = list(Person.objects.order_by("id").values_list("id", flat=True))
        used: dict[str, int] = {}
        accounts = []
        for i, (p, pid) in enumerate(zip(rows, person_ids, strict=True)):
            words = fold(p.full_name).split()
            base = words[-1] + "".join(w[0] for w in words[:-1])
            used[base] = used.get(base, 0) + 1
            local = base if used[base] == 1 else f"{base}{used[base] - 1}"
            when = now - dt.timedelta(days=rng.randint(30, 800))
            accounts.append(Account(
                address=f"{local}@{domain}", local_part=local, domain=domain, kind="person",
                person_id=pid, agency=agencies[i % n_agencies], password=pw_hash,
                state="active" if i % 50 else "suspended", reason="" if i % 50 else "NB-7.2c",
                created_at=when, activated_at=when, state_changed_at=when,
                password_changed_at=when, last_login=now - dt.timedelta(days=rng.randint(0, 60)),
                must_change_password=False))
        Account.objects.bulk_create(accounts, batch_size=1000)
        accounts = list(Account.objects.filter(kind="person").order_by("id"))
        quota = profile.mail.quota_personal_mb * 1024 * 1024
        Mailbox.objects.bulk_create((Mailbox(account=a, quota_bytes=quota,
                                             created_at=a.created_at) for a in accounts),
                                    batch_size=5000)
        ReservedName.objects.bulk_create(
            (ReservedName(local_part=a.local_part, domain=domain, kind="account", account=a,
                          created_at=a.created_at) for a in accounts), batch_size=5000)

        kinds = ["new_mailboxes", "password_reissue", "restore", "deletion"]
        actions = ["create_person", "reset_password", "restore", "leave"]
        reqs = []
        for i in range(cfg["requests"]):
            filed = now - dt.timedelta(hours=rng.randint(1, 24 * 40))
            reqs.append(ServiceRequest(
                kind=kinds[i % len(kinds)], status="filed" if i % 5 else "in_progress",
                agency=agencies[rng.randrange(n_agencies)], requester_name="Người yêu cầu",
                filed_by_label="bench", filed_at=filed,
                deadline_at=filed + dt.timedelta(days=3 if i % 3 else 1),
                deadline_rule="QN-5.2"))
        ServiceRequest.objects.bulk_create(reqs, batch_size=2000)
        req_ids = list(ServiceRequest.objects.order_by("id").values_list("id", flat=True))
        RequestItem.objects.bulk_create(
            (RequestItem(request_id=rid, number=1, action=actions[k % len(kinds)],
                         full_name=rows[k % len(rows)].full_name)
             for k, rid in enumerate(req_ids)), batch_size=2000)
    seeded_s = time.perf_counter() - started

    rebuilt = _rebuild_search_keys()

    op_actor = Actor(kind="operator", label="cli:bench")
    op, _otp = do_create_operator(actor=op_actor, profile=profile, local_part="benchop",
                                  now=now)
    client = Client()
    client.force_login(op)
    sso = do_start_session(account=op, session_key=client.session.session_key or "", now=now)
    session = client.session
    session[SID] = sso.sid
    session.save()

    names = [fold(p.full_name) for p in rows[:: max(1, len(rows) // 120)]][:120]
    queries = ([" ".join(n.split()[-2:]) for n in names[:80]]  # "van an"
               + [n.split()[-1] for n in names[80:110]]  # a given name
               + ["chuyen vien chinh", "truong phong", "ke toan", "van thu", "thanh tra vien"]
               + [fold(a.name) for a in agencies[:: n_agencies // 40]][:40]
               + list(names[110:120]))[:200]
    addresses = [a.address for a in accounts[:: max(1, len(accounts) // 500)]][:500]
    return {"cookie": f"{_cookie_name()}={session.session_key}", "queries": queries,
            "addresses": addresses, "seeded_s": round(seeded_s, 1),
            "search_keys_rebuilt": rebuilt}


def _cookie_name() -> str:
    from django.conf import settings

    return str(settings.SESSION_COOKIE_NAME)


def _rebuild_search_keys() -> int | None:
    """The directory's folded search keys, by the code its data migration uses (the bulk
    inserts above bypass the actions that keep them up to date)."""
    try:
        from congvu.directory import search
    except ImportError:
        return None
    rebuild = getattr(search, "rebuild_search_keys", None)
    return int(rebuild()) if rebuild else None


# --- the driver --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args[:3])}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc.stdout


def paths_for(page: str, data: dict[str, Any]) -> list[str]:
    from urllib.parse import quote

    if page == "healthz":
        return ["/healthz"]
    if page == "queue":
        return ["/console/requests/"]
    if page == "directory":
        return [f"/console/directory/?q={quote(q)}" for q in data["queries"]]
    return [f"/console/accounts/{quote(a)}/" for a in data["addresses"]]


def check(base: str, page: str, paths: list[str], cookie: str) -> None:
    """Each page answers 200 with real content before it is timed."""
    import requests

    name, value = cookie.split("=", 1)
    for path in paths[:: max(1, len(paths) // 10)]:
        resp = requests.get(base + path, cookies={name: value}, allow_redirects=False,
                            timeout=30)
        body = resp.text
        ok = resp.status_code == 200
        if page == "queue":
            ok = ok and '<tr id="request-' in body
        elif page == "directory":
            ok = ok and "@" in body
        elif page == "account":
            ok = ok and path.split("/")[3].replace("%40", "@") in body
        if not ok:
            raise SystemExit(f"{page}: {path} answered {resp.status_code} "
                             f"{resp.headers.get('Location', '')} without the expected content")


def wrk(base: str, paths: list[str], cookie: str, seconds: float, connections: int,
        tmp: Path) -> dict[str, Any]:
    script = tmp / "bench.lua"
    script.write_text(LUA, encoding="utf-8")
    listing = tmp / "paths.txt"
    listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
    env = {**os.environ, "BENCH_PATHS": str(listing), "BENCH_COOKIE": cookie}
    out = run(env, "wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
              "--timeout", "10s", "-s", str(script), base + paths[0])
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    result: dict[str, Any] = json.loads(line[6:])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def bench_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"congvu-bench-console-{kind}-"))
    env = {**os.environ, "CONGVU_HOME": str(tmp / "home"), "DATABASE_URL": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    dbname = ""
    if kind == "postgres":
        dbname = f"congvu_bench_{uuid.uuid4().hex[:8]}"
        env["DATABASE_URL"] = f"{args.pg}/{dbname}"
    server = None
    try:
        run(env, CONGVU, "init", "--profile", "quang-nam", "--json")
        cfg = {"accounts": args.accounts, "agencies": args.agencies, "requests": args.requests}
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--seed-child"], env=env,
                              input=json.dumps(cfg), capture_output=True, text=True,
                              check=False)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"[{kind}] seeded in {time.perf_counter() - started:.0f} s "
              f"(search keys rebuilt: {data['search_keys_rebuilt']})", flush=True)
        if kind == "postgres":
            import psycopg

            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([CONGVU, "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", str(args.workers), "--threads",
                                   str(args.threads), "--no-worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(base)
        results: dict[str, Any] = {}
        for page in args.pages:
            paths = paths_for(page, data)
            if page != "healthz":
                check(base, page, paths, data["cookie"])
            wrk(base, paths, data["cookie"], args.warmup, args.connections, tmp)
            res = wrk(base, paths, data["cookie"], args.seconds, args.connections, tmp)
            if res["errors"] or res["status_errors"]:
                raise SystemExit(f"[{kind}] {page}: {res['errors']} socket errors, "
                                 f"{res['status_errors']} error answers")
            results[page] = res
            print(f"[{kind}] {page:9s} {res['rps']:8.1f} req/s  p50 {res['p50']:6.1f} ms  "
                  f"p95 {res['p95']:6.1f} ms  p99 {res['p99']:6.1f} ms", flush=True)
        return results
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if dbname:
            import psycopg

            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')  # type: ignore[arg-type]
        shutil.rmtree(tmp, ignore_errors=True)


def _wait(base: str) -> None:
    import requests

    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit("congvu serve did not answer /healthz")


def main() -> int:
    if len(sys.argv) == 2 and sys.argv[1] == "--seed-child":
        print(json.dumps(seed_child(json.load(sys.stdin))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--agencies", type=int, default=2_000)
    ap.add_argument("--requests", type=int, default=3_000)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/setup installs it)")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"console pages: {args.accounts} accounts, {args.agencies} agencies, "
          f"{args.requests} requests; wrk -c {args.connections} for {args.seconds:.0f} s "
          f"after {args.warmup:.0f} s; serve --workers {args.workers} --threads {args.threads}; "
          f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}", flush=True)
    missed = []
    for kind in kinds:
        results = bench_database(kind, args)
        floor = results.get("healthz", {}).get("p95")
        for page, res in results.items():
            if page == "healthz":
                continue
            ratio = f" ({res['p95'] / floor:.1f}× /healthz)" if floor else ""
            verdict = "ok" if res["p95"] < TARGET_P95_MS else "MISSED"
            print(f"[{kind}] {page}: p95 {res['p95']:.1f} ms{ratio} — target "
                  f"< {TARGET_P95_MS:.0f} ms: {verdict}")
            if verdict != "ok":
                missed.append(f"{kind}/{page}")
    if missed:
        print("missed: " + ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
