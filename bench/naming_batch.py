"""Benchmark ``congvu naming suggest-batch`` on a large provisioning request.

    .venv/bin/python bench/naming_batch.py [--n 50000] [--repeat 3] [--seed 2026]

Writes a CSV of N generated civil servants (``bench/names.py``: ~60 agencies, ~5 %
leaders), then times the real console script for the profiles quang-nam, ninh-thuan,
ninh-binh and khanh-hoa (best of ``--repeat``), checks every output (N rows in input
order, unique local parts, ``address == local_part@<profile domain>``), and times two
floors in the same run:

- ``baseline``: a Python subprocess that only reads the same CSV and writes the same
  number of CSV rows (process start + CSV I/O);
- ``congvu --version``: the console script's own start-up (imports, ``django.setup()``).

Target (the issue): the 50,000-row batch under 10 s. Exits 1 if a check fails (or, with
``--strict``, if the target is missed), 0 otherwise. The temporary folder
(CSV, empty ``CONGVU_HOME``) is removed at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from names import people

ROOT = Path(__file__).resolve().parent.parent
CONGVU = str(Path(sys.executable).parent / "congvu")
PROFILES = ("quang-nam", "ninh-thuan", "ninh-binh", "khanh-hoa")
TARGET_SECONDS = 10.0
_LOCAL = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")

# The floor: read the CSV the way a batch tool would, write N rows of four columns.
BASELINE = r"""
import csv, sys
with open(sys.argv[1], encoding="utf-8-sig", newline="") as fh:
    rows = list(csv.DictReader(fh))
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["full_name", "agency", "local_part", "address"])
for i, r in enumerate(rows):
    local = f"x{i}.{r['agency'].strip()}"
    out.writerow([" ".join(r["full_name"].split()), r["agency"], local, local + "@example.vn"])
"""


def write_csv(path: Path, n: int, seed: int) -> list[tuple[str, str, bool]]:
    rows = [(p.full_name, p.agency, p.leader) for p in people(n, seed=seed)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["full_name", "agency", "leader"])
        w.writerows((name, agency, "yes" if leader else "no") for name, agency, leader in rows)
    return rows


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - start, proc


def best_of(repeat: int, cmd: list[str], env: dict[str, str],
            check=None) -> tuple[float, list[float], list[str]]:
    """Best wall time of ``repeat`` runs; every run's output goes through ``check``."""
    times: list[float] = []
    problems: list[str] = []
    for _i in range(repeat):
        seconds, proc = timed(cmd, env)
        times.append(seconds)
        if proc.returncode != 0:
            problems.append(f"exit {proc.returncode}: {proc.stderr.strip()[:500]}")
            break
        if check is not None:
            problems += check(proc.stdout)
            if problems:
                break
    return min(times), times, problems


def profile_domain(name: str) -> str:
    with (ROOT / "congvu" / "profiles" / f"{name}.toml").open("rb") as fh:
        return str(tomllib.load(fh)["mail"]["domain"])


def check_output(text: str, rows: list[tuple[str, str, bool]], domain: str,
                 stats: dict[str, int]) -> list[str]:
    """N rows, in input order, unique and well-formed local parts at the profile's domain."""
    out = list(csv.reader(text.splitlines()))
    problems: list[str] = []
    if not out or out[0] != ["full_name", "agency", "local_part", "address"]:
        return [f"unexpected header {out[:1]!r}"]
    body = out[1:]
    if len(body) != len(rows):
        return [f"{len(body)} rows, expected {len(rows)}"]
    seen: set[str] = set()
    numbered = 0
    for i, ((name, agency, _leader), got) in enumerate(zip(rows, body, strict=True), start=1):
        if len(got) != 4:
            problems.append(f"row {i}: {got!r}")
            continue
        g_name, g_agency, local, address = got
        if g_name != " ".join(name.split()) or g_agency != agency:
            problems.append(f"row {i}: {g_name!r},{g_agency!r} is not {name!r},{agency!r}")
        if not _LOCAL.match(local) or len(local) > 64:
            problems.append(f"row {i}: malformed local part {local!r}")
        if address != f"{local}@{domain}":
            problems.append(f"row {i}: address {address!r} for {local!r}")
        if local in seen:
            problems.append(f"row {i}: duplicate local part {local!r}")
        seen.add(local)
        numbered += any(c.isdigit() for c in local)
        if len(problems) > 10:
            problems.append("…")
            break
    stats["numbered"] = numbered
    stats["max_len"] = max(len(r[2]) for r in body)
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50_000, help="rows in the batch (default 50000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command, best kept")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--profiles", default=",".join(PROFILES),
                    help="comma-separated profiles (default: %(default)s)")
    ap.add_argument("--strict", action="store_true",
                    help="also exit 1 when the 10 s target is missed")
    args = ap.parse_args()
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]

    tmp = Path(tempfile.mkdtemp(prefix="congvu-bench-naming-"))
    try:
        return run(tmp, args.n, args.repeat, args.seed, profiles, args.strict)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path, n: int, repeat: int, seed: int, profiles: list[str],
        strict: bool) -> int:
    csv_path = tmp / "people.csv"
    rows = write_csv(csv_path, n, seed)
    leaders = sum(1 for r in rows if r[2])
    agencies = len({r[1] for r in rows})
    # An empty CONGVU_HOME: suggest-batch must not pick up a deployment's taken names.
    env = {**os.environ, "CONGVU_HOME": str(tmp / "no-deployment"), "DATABASE_URL": "",
           "PYTHONHASHSEED": "0"}
    env.pop("CONGVU_LANG", None)
    print(f"batch: {n} persons, {agencies} agencies, {leaders} leaders "
          f"({100 * leaders / max(n, 1):.1f} %), {csv_path.stat().st_size / 1e6:.1f} MB CSV, "
          f"seed {seed}; best of {repeat}")

    failures: list[str] = []
    base_s, base_all, problems = best_of(
        repeat, [sys.executable, "-c", BASELINE, str(csv_path)], env,
        lambda out: [] if out.count("\n") == n + 1 else ["baseline row count"])
    failures += [f"baseline: {p}" for p in problems]
    start_s, start_all, problems = best_of(repeat, [CONGVU, "--version"], env)
    failures += [f"congvu --version: {p}" for p in problems]

    results: list[tuple[str, float, list[float], dict[str, int]]] = []
    for profile in profiles:
        domain = profile_domain(profile)
        stats: dict[str, int] = {}
        seconds, all_times, problems = best_of(
            repeat, [CONGVU, "naming", "suggest-batch", "--profile", profile, str(csv_path)],
            env, lambda out, d=domain, s=stats: check_output(out, rows, d, s))
        failures += [f"{profile}: {p}" for p in problems]
        results.append((profile, seconds, all_times, stats))

    print()
    print(f"| {'command':<28} | {'seconds':>7} | {'rows/s':>9} | {'× baseline':>10} | "
          f"{'numbered':>8} | runs")
    print(f"|{'-' * 30}|{'-' * 8}:|{'-' * 10}:|{'-' * 11}:|{'-' * 9}:|------")

    def line(label: str, s: float, all_t: list[float], numbered: str = "",
             rate: bool = True) -> None:
        runs = " ".join(f"{t:.2f}" for t in all_t)
        per_s = f"{n / s:9,.0f}" if rate else f"{'—':>9}"
        print(f"| {label:<28} | {s:7.2f} | {per_s} | {s / base_s:10.1f} | "
              f"{numbered:>8} | {runs}")
    line("baseline (CSV in/out only)", base_s, base_all)
    line("congvu --version (start-up)", start_s, start_all, rate=False)
    for profile, s, all_t, stats in results:
        line(f"suggest-batch {profile}", s, all_t, str(stats.get("numbered", "")))
    print()

    slowest = max((s for _p, s, _a, _st in results), default=0.0)
    met = slowest < TARGET_SECONDS
    print(f"target: {n} rows under {TARGET_SECONDS:.0f} s for every profile: "
          f"{'MET' if met else 'MISSED'} (slowest {slowest:.2f} s)")
    if failures:
        print("CHECKS FAILED:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print("checks: OK (row count, order, unique well-formed local parts, domain)")
    if not met and strict:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
