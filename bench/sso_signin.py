"""Issue 5 benchmark: full password sign-ins (authorization code flow with PKCE, end to
end over HTTP) and refresh-token requests per second against ``congvu serve``.

Run: ``.venv/bin/python bench/sso_signin.py [--db postgres] [--accounts 100]
[--seconds 15] [--workers 2] [--clients 2] [--concurrency 16]``. Starts its own
deployment in a temporary folder (a new PostgreSQL database with ``--db postgres``),
registers a client, starts ``congvu serve --workers N``, drives it from ``--clients``
load processes (threads with ``requests``) and prints the rates, p50/p95 latencies and
where the CPU went (server processes, PostgreSQL, load generator, anything else on the
machine), then removes everything.

- A sign-in is the whole code flow with PKCE from a NEW browser (new cookie jar, new TCP
  connection): authorize -> sign-in page -> password POST (Argon2id) -> authorize again
  -> code -> token exchange. The token exchange is the relying party's back-channel
  call; like a real RP it keeps its HTTP connection to the provider open.
- A refresh is one refresh-token grant with rotation (the new refresh token replaces the
  old one, which must then be refused: checked on a sample).

Keycloak's published sizing: 15 password sign-ins/s and 120 refreshes/s per vCPU; the
target is that for every core of this machine (>= 30 and >= 240 on its 2 cores). Exit 1 if a check
fails; with ``--strict`` also if a target is missed."""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from tests.e2e.oidc_client import Client, Provider

CONGVU = str(Path(sys.executable).parent / "congvu")
PASSWORD = "Kx7#ab9Qzz!m"
REDIRECT = "http://127.0.0.1:9/cb"
SCOPE = "openid email profile offline_access"
#: Keycloak's sizing per vCPU; the target is that times the cores (2 here: 30 and 240).
KEYCLOAK_PER_VCPU = {"sign_in": 15, "refresh": 120}
#: Refresh tokens one load thread keeps for the refresh phase.
TOKENS_PER_THREAD = 64
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(env: dict[str, str], *args: str) -> str:
    return subprocess.run([CONGVU, *args], env=env, check=True, capture_output=True,
                          text=True).stdout


def seed(env: dict[str, str], n: int) -> list[str]:
    """n accounts with a known password (set through the domain layer)."""
    code = f"""
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
django.setup()
from django.utils import timezone
from congvu import deployment
from congvu.accounts.actions import do_create_account, do_set_password_at_sign_in
from congvu.actors import Actor
from congvu.directory.actions import do_add_agency
p = deployment.deployment_profile(); op = Actor(kind="operator", label="bench")
now = timezone.now()
do_add_agency(actor=op, profile=p, abbr="skhcn", name="Sở KHCN", kind=None, parent=None, now=now)
import itertools
given = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Khánh", "Lan",
         "Long", "Mai", "Minh", "Nga", "Ngọc", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang"]
names = itertools.product(["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"],
                          ["Văn", "Thị", "Minh", "Đức"], given)
out = []
for i, (s, m, g) in zip(range({n}), names):
    a, _otp = do_create_account(actor=op, profile=p, agency_ref="skhcn",
                                full_name=f"{{s}} {{m}} {{g}}", now=now)
    do_set_password_at_sign_in(profile=p, account=a, new={PASSWORD!r}, now=now)
    out.append(a.address)
print("\\n".join(out))
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return proc.stdout.split()


# --- the load processes ----------------------------------------------------------------


class RelyingParty(Provider):
    """The provider as the RP sees it, with one kept-alive connection per thread for its
    back-channel token calls (as an RP's HTTP client pool does)."""

    def __init__(self, issuer: str) -> None:
        super().__init__(issuer)
        self._local = threading.local()

    def token(self, client: Client, **data: str) -> requests.Response:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = _session()
        return session.post(self.endpoint("token_endpoint"), data=data,
                            auth=(client.client_id, client.client_secret), timeout=30)


def _session() -> requests.Session:
    """A ``requests`` session that does not look for proxies and .netrc in the
    environment on every request (a third of the load generator's CPU per sign-in, for
    a provider on the loopback interface)."""
    session = requests.Session()
    session.trust_env = False
    return session


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def load_child(cfg: dict[str, Any]) -> dict[str, Any]:
    """One load process: ``threads`` threads, phases at the absolute times in ``cfg``."""
    rp = RelyingParty(cfg["base"])
    client = Client(cfg["client_id"], cfg["client_secret"], REDIRECT)
    rp.discovery  # noqa: B018 (fetched once, before the clock starts)
    addresses: list[str] = cfg["addresses"]
    phases = cfg["phases"]  # name -> [start, end] (time.time())
    results: dict[str, Any] = {name: {"lat": [], "errors": [], "cpu": 0.0} for name in phases}
    lock = threading.Lock()

    def sign_in(k: int, i: int, tokens: list[str]) -> None:
        # A new browser each time: a full password sign-in, not an SSO shortcut.
        with _session() as browser:
            out = rp.sign_in(client, browser, address=addresses[i % len(addresses)],
                             password=PASSWORD, scope=SCOPE)
        if not (out.get("id_token") and out.get("access_token") and out.get("refresh_token")):
            raise AssertionError(f"incomplete token response: {sorted(out)}")
        if len(tokens) < TOKENS_PER_THREAD:
            tokens.append(out["refresh_token"])
        else:
            tokens[(i // cfg["stride"]) % TOKENS_PER_THREAD] = out["refresh_token"]

    def refresh(k: int, i: int, tokens: list[str]) -> None:
        slot = (i // cfg["stride"]) % len(tokens)  # this thread's tokens in turn
        old = tokens[slot]
        r = rp.refresh(client, old)
        if r.status_code != 200:
            raise AssertionError(f"refresh: HTTP {r.status_code} {r.text[:200]}")
        new = r.json()
        if not new.get("refresh_token") or new["refresh_token"] == old \
                or not new.get("id_token"):
            raise AssertionError("refresh token not rotated, or no ID token")
        tokens[slot] = new["refresh_token"]

    def check_reuse(tokens: list[str]) -> None:
        """After the timed phases: a used refresh token is refused, and presenting it
        revokes its successor too (reuse protection)."""
        old = tokens[0]
        r = rp.refresh(client, old)
        if r.status_code != 200:
            raise AssertionError(f"refresh: HTTP {r.status_code} {r.text[:200]}")
        new = r.json()["refresh_token"]
        if rp.refresh(client, old).status_code != 400:
            raise AssertionError("a used refresh token was accepted")
        if rp.refresh(client, new).status_code != 400:
            raise AssertionError("replaying a used refresh token left its successor valid")

    def worker(k: int) -> None:
        tokens: list[str] = []
        i = cfg["offset"] + k
        for name, (start, end) in phases.items():
            op = sign_in if name.startswith("sign_in") else refresh
            time.sleep(max(0.0, start - time.time()))
            while time.time() < end:
                t0 = time.perf_counter()
                try:
                    op(k, i, tokens)
                except Exception as exc:  # counted and reported; the run then fails
                    with lock:
                        results[name]["errors"].append(f"{type(exc).__name__}: {exc}"[:300])
                else:
                    with lock:
                        results[name]["lat"].append(time.perf_counter() - t0)
                i += cfg["stride"]
        if tokens:
            try:
                check_reuse(tokens)
            except Exception as exc:
                with lock:
                    results["refresh"]["errors"].append(f"{type(exc).__name__}: {exc}"[:300])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(cfg["threads"])]
    for t in threads:
        t.start()
    # This process's CPU per phase (all its threads), sampled at the phase boundaries.
    for name, (start, end) in phases.items():
        time.sleep(max(0.0, start - time.time()))
        c0 = _cpu()
        time.sleep(max(0.0, end - time.time()))
        results[name]["cpu"] = _cpu() - c0
    for t in threads:
        t.join()
    return results


# --- CPU accounting from /proc -----------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (ppid, command line, user+system CPU seconds)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        table[int(entry.name)] = (int(stat[1]), cmd.decode(errors="replace").strip(),
                                  (int(stat[11]) + int(stat[12])) / TICKS)
    return table


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICKS


def cpu_snapshot(server_pid: int, dbname: str, load_pids: list[int]) -> dict[str, float]:
    table = _proc_table()
    server = {server_pid}
    grew = True
    while grew:  # the serve process and all its descendants
        more = {pid for pid, (ppid, _c, _t) in table.items() if ppid in server} - server
        server |= more
        grew = bool(more)
    out = {"server": 0.0, "postgres": 0.0, "load": 0.0, "machine": _machine_busy()}
    for pid, (_ppid, cmd, cpu) in table.items():
        if pid in server:
            out["server"] += cpu
        elif pid in load_pids:
            out["load"] += cpu
        elif cmd.startswith("postgres:") and (f" {dbname} " in cmd
                                              or ("main: " in cmd and " postgres " not in cmd)):
            # The bench database's backends, and the server's own processes (WAL
            # writer, checkpointer...); not other databases' backends.
            out["postgres"] += cpu
    return out


def diff(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    d = {k: b[k] - a[k] for k in a}
    d["other"] = d["machine"] - d["server"] - d["postgres"] - d["load"]
    return d


# --- the run ---------------------------------------------------------------------------


def report(name: str, lat: list[float], seconds: float, cpu: dict[str, float],
           target: float) -> dict[str, Any]:
    lat = sorted(lat)
    n = len(lat)
    rate = n / seconds
    out: dict[str, Any] = {
        "requests": n, "per_second": round(rate, 1), "target": target,
        "met": rate >= target, "ratio_to_target": round(rate / target, 2),
        "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "p95_ms": round(lat[max(0, int(n * 0.95 + 0.5) - 1)] * 1000, 1) if lat else None,
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "cpu_ms_per_op": {k: round(v / n * 1000, 2) for k, v in cpu.items()} if n else {},
    }
    per = out["cpu_ms_per_op"]
    print(f"{name}: {rate:.1f}/s (target {target:.0f}/s: "
          f"{'met' if out['met'] else 'MISSED'}, x{out['ratio_to_target']})  "
          f"p50 {out['p50_ms']} ms  p95 {out['p95_ms']} ms  ({n} in {seconds:.0f} s)")
    print(f"  CPU s: server {cpu['server']:.1f}, postgres {cpu['postgres']:.1f}, "
          f"load generator {cpu['load']:.1f}, other {cpu['other']:.1f} "
          f"(machine {cpu['machine']:.1f} of {seconds * (os.cpu_count() or 1):.0f})")
    if n:
        print(f"  CPU ms per op: server {per['server']}, postgres {per['postgres']}, "
              f"load generator {per['load']}")
    return out


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] == "--load-child":
        json.dump(load_child(json.load(sys.stdin)), sys.stdout)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--workers", type=int, default=2, help="congvu serve --workers")
    ap.add_argument("--threads", type=int, default=8, help="congvu serve --threads")
    ap.add_argument("--clients", type=int, default=2, help="load generator processes")
    ap.add_argument("--concurrency", type=int, default=16,
                    help="concurrent simulated users (threads over all load processes)")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    home = tempfile.mkdtemp(prefix="congvu-bench-sso-")
    env = {**os.environ, "CONGVU_HOME": home, "DATABASE_URL": ""}
    dbname = ""
    if args.db == "postgres":
        dbname = f"congvu_bench_{uuid.uuid4().hex[:8]}"
        env["DATABASE_URL"] = f"{args.pg}/{dbname}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    failed = False
    try:
        run(env, "init", "--profile", "ninh-binh", "--json")
        addresses = seed(env, args.accounts)
        client = json.loads(run(env, "sso", "client", "add", "--name", "Bench",
                                "--redirect-uri", REDIRECT, "--json"))
        server = subprocess.Popen([CONGVU, "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", str(args.workers),
                                   "--threads", str(args.threads)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        # Phases at absolute times, shared by every load process.
        t = time.time() + 3.0  # the load processes start and fetch discovery meanwhile
        phases: dict[str, list[float]] = {}
        for name, secs in (("sign_in_warmup", args.warmup), ("sign_in", args.seconds),
                           ("refresh_warmup", args.warmup), ("refresh", args.seconds)):
            phases[name] = [t, t + secs]
            t += secs + 0.5
        per_proc = [args.concurrency // args.clients
                    + (1 if k < args.concurrency % args.clients else 0)
                    for k in range(args.clients)]
        children = []
        offset = 0
        for threads in per_proc:
            cfg = {"base": base, "client_id": client["client_id"],
                   "client_secret": client["client_secret"], "addresses": addresses,
                   "phases": phases, "threads": threads, "offset": offset,
                   "stride": args.concurrency}
            offset += threads
            proc = subprocess.Popen([sys.executable, __file__, "--load-child"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(cfg))
            proc.stdin.close()
            children.append(proc)
        pids = [p.pid for p in children]
        cpu: dict[str, dict[str, float]] = {}
        for name in ("sign_in", "refresh"):
            start, end = phases[name]
            time.sleep(max(0.0, start - time.time()))
            before = cpu_snapshot(server.pid, dbname, pids)
            time.sleep(max(0.0, end - time.time()))
            cpu[name] = diff(before, cpu_snapshot(server.pid, dbname, pids))
        merged: dict[str, dict[str, Any]] = {n: {"lat": [], "errors": [], "cpu": 0.0}
                                             for n in phases}
        for proc in children:
            assert proc.stdout is not None
            out = proc.stdout.read()
            if proc.wait(120):
                raise SystemExit(f"a load process failed (exit {proc.returncode})")
            for n, r in json.loads(out).items():
                merged[n]["lat"] += r["lat"]
                merged[n]["errors"] += r["errors"]
                merged[n]["cpu"] += r["cpu"]
        print(f"congvu serve --workers {args.workers} --threads {args.threads}; "
              f"{args.clients} load processes, {args.concurrency} concurrent users; "
              f"{args.db}; {cores} cores; load average before the run {load_before}, "
              f"after {Path('/proc/loadavg').read_text().split()[:3]}")
        results: dict[str, Any] = {}
        for name, label in (("sign_in", "full password sign-ins"),
                            ("refresh", "refresh-token requests")):
            c = cpu[name]
            c["load"] = merged[name]["cpu"]  # as the load processes measured themselves
            c["other"] = c["machine"] - c["server"] - c["postgres"] - c["load"]
            results[name] = report(label, merged[name]["lat"], args.seconds, c,
                                   KEYCLOAK_PER_VCPU[name] * cores)
            errors = merged[name]["errors"] + merged[f"{name}_warmup"]["errors"]
            results[name]["errors"] = len(errors)
            if errors:
                failed = True
                print(f"  {len(errors)} FAILED, e.g. {errors[0]}")
        print(json.dumps({"db": args.db, "workers": args.workers, "threads": args.threads,
                          "clients": args.clients, "concurrency": args.concurrency,
                          "cores": cores, "python": platform.python_version(),
                          "load_before": load_before, **results}))
        if args.strict and not all(r["met"] for r in results.values()):
            failed = True
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                failed = True
                print("congvu serve did not stop within 30 s of SIGTERM")
        if dbname:
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c",
                            f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'],
                           capture_output=True, check=False)
        subprocess.run(["rm", "-rf", home], check=False)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
