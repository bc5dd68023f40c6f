"""Benchmark the console's bulk import of persons (issue 6, NB-13 migration).

    .venv/bin/python bench/console_import.py [--db sqlite|postgres|both] [--rows 50000]
        [--agencies 2000] [--existing 10000] [--format xlsx|csv] [--profile ninh-binh]

For each database: a fresh deployment in a temporary ``$CONGVU_HOME`` (``congvu init``;
PostgreSQL gets a new database, dropped afterwards) with ``--agencies`` agencies (40
sở/huyện, the rest their units) and ``--existing`` person accounts already in place
(``bulk_create``, one precomputed hash), so the new rows collide with real addresses.
Then an XLSX (or CSV) file of ``--rows`` persons (deterministic Vietnamese names from
``bench/names.py``, agencies by account name, a birth date on most rows, an old address
at a former province's domain on a tenth, one row in 500 deliberately wrong) goes
through the same code as the console, in one process:

- ``check``: ``do_start_import`` then the tasks worker's ``run_pending`` (read the file,
  check every row, compute every address, store the preview and its XLSX);
- ``write``: ``do_confirm_import`` (the faulty rows left out) then ``run_pending`` (re-check
  every address inside the transaction, create persons, accounts, mailboxes, reserved
  names, aliases and audit events, seal the passwords file);
- ``passwords``: the one download.

Prints seconds and rows/s per phase; target: the write of 50,000 rows under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONGVU = str(Path(sys.executable).with_name("congvu"))
TARGET_WRITE_S = 60.0


def child(cfg: dict[str, Any]) -> dict[str, Any]:
    """In the deployment's environment: seed, build the file, import it, time it."""
    import io
    import random

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django

    django.setup()
    sys.path.insert(0, str(HERE))
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone
    from names import people

    from congvu import deployment
    from congvu.accounts.actions import do_create_operator
    from congvu.accounts.models import Account, Mailbox, ReservedName
    from congvu.actors import Actor
    from congvu.directory.models import Agency, Person
    from congvu.imports.actions import do_confirm_import, do_start_import, do_take_passwords
    from congvu.imports.models import PersonImport
    from congvu.jobs.actions import run_pending
    from congvu.text import fold

    profile = deployment.deployment_profile()
    domain, sep = profile.mail.domain, profile.naming.agency_separator
    rng = random.Random(2026)
    now = timezone.now()
    long_ago = now - dt.timedelta(days=900)
    tops, n_agencies = 40, cfg["agencies"]
    with transaction.atomic():
        Agency.objects.bulk_create(
            Agency(abbr=f"cq{i:02d}", name=f"{'Sở' if i % 2 == 0 else 'UBND huyện'} số {i + 1}",
                   kind="province-dept" if i % 2 == 0 else "district",
                   account_name=f"cq{i:02d}", created_at=long_ago) for i in range(tops))
        top_ids = list(Agency.objects.order_by("id").values_list("id", flat=True))
        Agency.objects.bulk_create(
            (Agency(abbr=f"dv{i:04d}", name=f"Đơn vị {i + 1}", kind="unit",
                    parent_id=top_ids[i % tops], account_name=f"dv{i:04d}{sep}cq{i % tops:02d}",
                    created_at=long_ago) for i in range(n_agencies - tops)), batch_size=1000)
        agencies = list(Agency.objects.order_by("id"))
        ReservedName.objects.bulk_create(
            (ReservedName(local_part=a.account_name, domain=domain, kind="agency", agency=a,
                          created_at=long_ago) for a in agencies), batch_size=2000)
        pw_hash = make_password("Bench#2026-import")
        existing = list(people(cfg["existing"], seed=7))
        persons = [Person(full_name=p.full_name, agency=agencies[i % n_agencies],
                          created_at=long_ago) for i, p in enumerate(existing)]
        Person.objects.bulk_create(persons, batch_size=2000)
        used: dict[str, int] = {}
        accounts = []
        for i, person in enumerate(persons):
            words = fold(person.full_name).split()
            base = words[-1] + "".join(w[0] for w in words[:-1])
            used[base] = used.get(base, 0) + 1
            local = base if used[base] == 1 else f"{base}{used[base] + 100}"
            accounts.append(Account(
                address=f"{local}@{domain}", local_part=local, domain=domain, kind="person",
                person=person, agency=agencies[i % n_agencies], password=pw_hash,
                state="active", created_at=long_ago, activated_at=long_ago,
                state_changed_at=long_ago, must_change_password=False))
        Account.objects.bulk_create(accounts, batch_size=1000)
        Mailbox.objects.bulk_create((Mailbox(account=a, quota_bytes=1 << 30, created_at=long_ago)
                                     for a in accounts), batch_size=5000)
        ReservedName.objects.bulk_create(
            (ReservedName(local_part=a.local_part, domain=domain, kind="account", account=a,
                          created_at=long_ago) for a in accounts), batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")

    header = ["STT", "Họ và tên", "Cơ quan/đơn vị", "Chức vụ", "Ngày sinh", "Lãnh đạo",
              "Địa chỉ cũ"]
    rows: list[list[Any]] = []
    for i, p in enumerate(people(cfg["rows"], seed=2026)):
        born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365))
        name = p.full_name if i % 500 != 499 else "Lỗi"  # one word: an error (NB-5.3)
        old = f"u{i}@hanam.gov.vn" if i % 10 == 0 else ""
        rows.append([i + 1, name, agencies[rng.randrange(n_agencies)].account_name,
                     "Chuyên viên", born.strftime("%d/%m/%Y") if i % 4 else "",
                     "có" if p.leader else "", old])
    if cfg["format"] == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Danh sách")
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
    else:
        lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
        data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()

    op_actor = Actor(kind="operator", label="cli:bench")
    op, _otp = do_create_operator(actor=op_actor, profile=profile, local_part="benchop",
                                  now=now)
    actor = Actor(kind="operator", label=f"operator:{op.address}", account_id=op.pk)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    batch = do_start_import(actor=actor, profile=profile, data=data,
                            file_name=f"bench.{cfg['format']}", now=now, account=op,
                            language="vi")
    run_pending()
    timings["check"] = time.perf_counter() - started
    cpu["check"] = time.process_time() - cpu_started
    batch = PersonImport.objects.get(pk=batch.pk)
    if batch.status != "ready":
        raise SystemExit(f"check: {batch.status} {batch.error}")
    started, cpu_started = time.perf_counter(), time.process_time()
    do_confirm_import(actor=actor, batch_id=batch.pk, mode="valid", now=timezone.now(),
                      account=op, language="vi")
    if os.environ.get("BENCH_PROFILE"):  # where the write's time goes, on stderr
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(run_pending)
        order = os.environ.get("BENCH_PROFILE_SORT", "cumulative")
        pstats.Stats(prof, stream=sys.stderr).sort_stats(order).print_stats(45)
    else:
        run_pending()
    timings["write"] = time.perf_counter() - started
    cpu["write"] = time.process_time() - cpu_started
    batch = PersonImport.objects.get(pk=batch.pk)
    if batch.status != "done":
        raise SystemExit(f"write: {batch.status} {batch.error}")
    started, cpu_started = time.perf_counter(), time.process_time()
    _name, passwords = do_take_passwords(actor=actor, batch_id=batch.pk, now=timezone.now())
    timings["passwords"] = time.perf_counter() - started
    cpu["passwords"] = time.process_time() - cpu_started
    return {"rows": batch.total_rows, "valid": batch.valid_rows, "errors": batch.error_rows,
            "created": batch.created_rows, "file_bytes": len(data),
            "passwords_bytes": len(passwords), "seconds": timings, "cpu": cpu,
            "load": os.getloadavg()[0]}


def run(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args[:3])}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc.stdout


def bench_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"congvu-bench-import-{kind}-"))
    env = {**os.environ, "CONGVU_HOME": str(tmp / "home"), "DATABASE_URL": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    dbname = ""
    if kind == "postgres":
        dbname = f"congvu_bench_{uuid.uuid4().hex[:8]}"
        env["DATABASE_URL"] = f"{args.pg}/{dbname}"
    try:
        run(env, CONGVU, "init", "--profile", args.profile, "--json")
        cfg = {"rows": args.rows, "agencies": args.agencies, "existing": args.existing,
               "format": args.format}
        proc = subprocess.run([sys.executable, __file__, "--child"], env=env,
                              input=json.dumps(cfg), capture_output=True, text=True,
                              check=False)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if dbname:
            import psycopg

            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--agencies", type=int, default=2000)
    parser.add_argument("--existing", type=int, default=10_000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--profile", default="ninh-binh")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(sys.stdin.read()))))
        return
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    failed = False
    for kind in kinds:
        res = bench_database(kind, args)
        secs = res["seconds"]
        print(f"[{kind}] {res['rows']} rows ({args.format}, {res['file_bytes'] // 1024} KiB), "
              f"{res['valid']} valid, {res['errors']} with errors; {args.existing} accounts "
              f"and {args.agencies} agencies already there", flush=True)
        for phase in ("check", "write", "passwords"):
            per = res["rows"] if phase == "check" else res["created"]
            rate = f"{per / secs[phase]:,.0f} rows/s" if phase != "passwords" else ""
            print(f"[{kind}]   {phase:<10} {secs[phase]:7.1f} s  {rate:>16}  (this process's "
                  f"CPU: {res['cpu'][phase]:.1f} s)", flush=True)
        print(f"[{kind}]   load average at the end: {res['load']:.1f} "
              f"({os.cpu_count()} CPUs); the database server's CPU is not in 'CPU'",
              flush=True)
        total = secs["check"] + secs["write"]
        print(f"[{kind}]   check+write {total:6.1f} s  {res['rows'] / total:,.0f} rows/s",
              flush=True)
        if secs["write"] > TARGET_WRITE_S:
            print(f"[{kind}] write slower than the {TARGET_WRITE_S:.0f} s target", flush=True)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
