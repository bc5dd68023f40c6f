"""The Postfix policy service (NB-7.2b) alone, under load from an asyncio client.

    .venv/bin/python bench/mail_policy.py [--requests 50000] [--concurrency 100]
        [--rate 5000] [--accounts 1000] [--seed 2026] [--cprofile] [--strict]

A fresh deployment (``congvu init --profile ninh-binh`` on SQLite, about 1,000 person
accounts) and the policy service in a subprocess, ``python -m congvu.mail.policy --listen
127.0.0.1:PORT`` (``serve_policy`` behind ``run_standalone``, the same code the mail
daemon runs). The client keeps ``--concurrency`` connections open, as Postfix's smtpd
processes do, and sends RCPT-stage requests with every attribute Postfix 3.7 sends on
the submission port: authenticated senders drawn from the deployment's active accounts,
recipients 60 % inside ``@ninhbinh.gov.vn`` (existing mailboxes) and 40 % outside (other
provinces, subdomains of the province, public mail providers). Each sender stays far
under the NB-7.2b limit (250 external recipients in 10 minutes; checked), so every answer
must be ``action=DUNNO``.

Three phases, each with its own request list:

1. warm-up: a tenth of ``--requests``, not reported;
2. **saturation** (closed loop): every connection sends its next request as soon as the
   answer to the previous one is in. Gives the most requests/s the service sustains;
   its latency is mostly queueing (Little: mean latency = connections / rate);
3. **paced** (open loop): ``--rate`` requests/s in total (default 5,000, the target),
   spread evenly over the connections; latency counted from each request's scheduled
   send time, so a slow answer also delays (and is charged to) the requests behind it.

Reported per phase: requests/s, latency p50/p95/p99/max, the server's CPU per request
(from /proc) and the client's. Targets: ≥ 5,000 requests/s (saturation) and p99 < 5 ms
(at 5,000 requests/s, paced). When a target is missed, or with ``--cprofile``, one more
saturation phase runs against the service under ``python -m cProfile`` and the hot
spots are printed. Exits 1 if a check fails (a non-DUNNO answer, an error, a missing
answer); with ``--strict`` also if a target is missed. Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mail_common import (
    LOOPBACK,
    Deployment,
    Failed,
    cpu_seconds,
    free_port,
    load_average,
    log,
    percentile,
    stop_on_sigterm,
    terminate,
    wait_until,
)

TARGET_RPS = 5000.0
TARGET_P99_MS = 5.0
EXTERNAL_LIMIT = 250  # NB-7.2b in the ninh-binh profile (checked against the profile)
EXTERNAL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hanoi.gov.vn",
                    "thanhhoa.gov.vn", "namdinh.gov.vn", "vnpt.vn", "moh.gov.vn",
                    "sotttt.ninhbinh.gov.vn", "mail.ninhbinh.gov.vn")


# ============================================================================ requests


def make_requests(n: int, senders: list[str], internal: list[str], rng: random.Random,
                  start_id: int) -> list[bytes]:
    """``n`` RCPT-stage requests as Postfix 3.7's smtpd sends them on port 587."""
    out = []
    for i in range(n):
        sender = rng.choice(senders)
        if rng.random() < 0.6:
            recipient = rng.choice(internal)
        else:
            local = f"{rng.choice(('nguyen', 'tran', 'le', 'pham', 'hoang'))}.{rng.randrange(999)}"
            recipient = f"{local}@{rng.choice(EXTERNAL_DOMAINS)}"
        client = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        qid = f"{start_id + i:010X}"
        attrs = (
            ("request", "smtpd_access_policy"), ("protocol_state", "RCPT"),
            ("protocol_name", "ESMTP"), ("helo_name", "[192.168.1.23]"), ("queue_id", ""),
            ("sender", sender), ("recipient", recipient), ("recipient_count", "0"),
            ("client_address", client), ("client_name", "unknown"),
            ("client_port", str(1024 + rng.randrange(60000))),
            ("reverse_client_name", "unknown"), ("instance", f"{qid[:4]}.{qid[4:]}.0"),
            ("sasl_method", "PLAIN"), ("sasl_username", sender), ("sasl_sender", ""),
            ("size", str(rng.randrange(2_000, 3_000_000))), ("ccert_subject", ""),
            ("ccert_issuer", ""), ("ccert_fingerprint", ""),
            ("ccert_pubkey_fingerprint", ""), ("encryption_protocol", "TLSv1.3"),
            ("encryption_cipher", "TLS_AES_256_GCM_SHA384"), ("encryption_keysize", "256"),
            ("etrn_domain", ""), ("stress", ""), ("server_address", "127.0.0.1"),
            ("server_port", "587"), ("policy_context", ""),
            ("compatibility_level", "3.6"), ("mail_version", "3.7.11"),
        )
        out.append(("".join(f"{k}={v}\n" for k, v in attrs) + "\n").encode())
    return out


def external_per_sender(requests: list[bytes], domain: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for req in requests:
        fields = dict(line.split("=", 1) for line in req.decode().splitlines() if "=" in line)
        if not fields["recipient"].lower().endswith("@" + domain):
            counts[fields["sasl_username"]] += 1
    return counts


# ============================================================================== client


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    answers: Counter[bytes]
    server_cpu: float
    client_cpu: float
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000


async def _connection(port: int, requests: list[bytes], latencies: list[float],
                      answers: Counter[bytes], offsets: list[float] | None,
                      ready: asyncio.Event, go: list[float], errors: list[str]) -> None:
    try:
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
    except OSError as exc:
        errors.append(f"connect: {exc}")
        return
    clock = time.perf_counter
    try:
        await ready.wait()
        begin = go[0]
        for i, req in enumerate(requests):
            if offsets is not None:
                start = begin + offsets[i]
                delay = start - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                start = clock()
            writer.write(req)
            answer = await asyncio.wait_for(reader.readuntil(b"\n\n"), timeout=30)
            latencies.append(clock() - start)
            answers[answer] += 1
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _drive(port: int, requests: list[bytes], concurrency: int,
                 rate: float | None) -> tuple[float, list[float], Counter[bytes], list[str]]:
    """Open every connection first (Postfix keeps them open), then start them together;
    the clock runs from the start to the last answer."""
    latencies: list[float] = []
    answers: Counter[bytes] = Counter()
    errors: list[str] = []
    shares = [requests[c::concurrency] for c in range(concurrency)]
    ready = asyncio.Event()
    go = [0.0]
    offsets = [[(k * concurrency + c) / rate for k in range(len(share))] if rate else None
               for c, share in enumerate(shares)]
    tasks = [asyncio.create_task(_connection(port, share, latencies, answers, offsets[c],
                                             ready, go, errors))
             for c, share in enumerate(shares)]
    await asyncio.sleep(0.3)  # connections opened (each task waits on `ready`)
    go[0] = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - go[0], latencies, answers, errors


def run_phase(name: str, port: int, server_pid: int, requests: list[bytes],
              concurrency: int, rate: float | None) -> Phase:
    server_before = cpu_seconds(server_pid)
    client_before = time.process_time()
    seconds, latencies, answers, errors = asyncio.run(
        _drive(port, requests, concurrency, rate))
    return Phase(name, len(requests), seconds, latencies, answers,
                 cpu_seconds(server_pid) - server_before,
                 time.process_time() - client_before, errors)


def check(phase: Phase) -> None:
    if phase.errors:
        raise Failed(f"{phase.name}: {len(phase.errors)} connection errors, e.g. "
                     f"{phase.errors[0]}")
    total = sum(phase.answers.values())
    if total != phase.requests or len(phase.latencies) != phase.requests:
        raise Failed(f"{phase.name}: {total} answers for {phase.requests} requests")
    wrong = {k: v for k, v in phase.answers.items() if k != b"action=DUNNO\n\n"}
    if wrong:
        raise Failed(f"{phase.name}: unexpected answers {wrong}")


# ============================================================================== server


class Server:
    """``python [-m cProfile -o FILE] -m congvu.mail.policy --listen 127.0.0.1:PORT``, or
    with ``variant`` this script's ``--worker`` (see :func:`serve_variant`)."""

    def __init__(self, env: dict[str, str], profile_to: Path | None = None,
                 variant: str = "") -> None:
        self.port = free_port()
        prefix = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
        target = ([str(Path(__file__).resolve()), "--worker", variant] if variant
                  else ["-m", "congvu.mail.policy"])
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, *prefix, *target, "--listen", f"{LOOPBACK}:{self.port}"],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        import socket

        def answers() -> bool:
            with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, self.port),
                                                                        1):
                return True
            return False

        if not wait_until(answers, 30):
            self.stop()
            raise Failed(f"policy service did not start: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace").strip()[-3000:]

    def stop(self) -> None:
        terminate(self.proc, 30)
        self.log.close()


# ====================================================== what-if variants (bench only)
# Not congvu's code: two servers that show where the time goes. ``one-timer`` is congvu's
# serve_policy and PolicyService unchanged, with read_policy_request replaced by a copy
# that arms one timer per request (asyncio.timeout, rescheduled after the first line)
# instead of one asyncio.wait_for (a Task and a timer) per attribute line. ``floor`` is a
# bare asyncio server that reads a request with one readuntil and answers DUNNO: the
# ceiling of a single-process asyncio service on this machine.


async def read_request_one_timer(reader: asyncio.StreamReader,
                                 idle_timeout: float) -> dict[str, str] | None:
    from congvu.mail.policy import (
        LINE_TIMEOUT,
        MALFORMED,
        MAX_ATTRIBUTES,
        PolicyProtocolError,
    )

    attrs: dict[str, str] = {}
    malformed = False
    lines = 0
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(idle_timeout) as timer:
            while True:
                raw = await reader.readline()
                if lines == 0:
                    timer.reschedule(loop.time() + LINE_TIMEOUT)
                if not raw.endswith(b"\n"):
                    return None
                line = raw[:-1]
                if line.endswith(b"\r"):
                    line = line[:-1]
                if not line:
                    return {MALFORMED: ""} if malformed else attrs
                lines += 1
                if lines > MAX_ATTRIBUTES:
                    raise PolicyProtocolError("too many attributes")
                name, sep, value = line.decode("utf-8", "replace").partition("=")
                if not sep or not name:
                    malformed = True
                else:
                    attrs[name] = value
    except ValueError as exc:
        raise PolicyProtocolError("line too long") from exc
    except TimeoutError as exc:
        raise PolicyProtocolError("timeout") from exc


def serve_variant(variant: str, host: str, port: int) -> None:
    from congvu.mail import policy

    policy.setup_django()
    if variant == "one-timer":
        policy.read_policy_request = read_request_one_timer  # type: ignore[assignment]
        asyncio.run(policy.serve_until_signalled(lambda: policy.serve_policy(host, port)))
        return

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                raw = await reader.readuntil(b"\n\n")
                attrs = dict(line.split("=", 1) for line in raw.decode().splitlines()
                             if "=" in line)
                if attrs.get("request") != "smtpd_access_policy":
                    break
                writer.write(b"action=DUNNO\n\n")
        writer.close()

    async def start() -> asyncio.AbstractServer:
        return await asyncio.start_server(connection, host, port, limit=64 * 1024)

    asyncio.run(policy.serve_until_signalled(start))


def hot_spots(path: Path, what: str, limit: int = 22) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    print(f"\n--- cProfile of {what} (saturation phase): by own time")
    stats.sort_stats("tottime").print_stats(limit)
    print("--- by cumulative time")
    stats.sort_stats("cumulative").print_stats(limit)
    print("--- congvu's own functions by cumulative time")
    stats.sort_stats("cumulative").print_stats(r"congvu/", 15)


# ============================================================================== driver


SERVERS = {
    "": "congvu (python -m congvu.mail.policy)",
    "one-timer": "what-if: congvu, one timer per request",
    "floor": "floor: bare asyncio, DUNNO",
}


def bench_server(dep: Deployment, variant: str, phases: dict[str, list[bytes]],
                 args: argparse.Namespace, profile_to: Path | None = None) -> list[Phase]:
    """Warm-up, then the saturation and (unless profiling) paced phases, on a new server."""
    server = Server(dep.env, profile_to, variant)
    out: list[Phase] = []
    try:
        pid = server.proc.pid
        check(run_phase("warm-up", server.port, pid, phases["warm-up"], args.concurrency,
                        None))
        for name in ("saturation",) if profile_to else ("saturation", "paced"):
            phase = run_phase(name, server.port, pid, phases[name], args.concurrency,
                              args.rate if name == "paced" else None)
            check(phase)
            out.append(phase)
            log(f"{SERVERS[variant]}: {name} {phase.rate:,.0f} req/s, p99 "
                f"{phase.ms(99):.2f} ms, load {load_average()}")
        if server.proc.poll() is not None:
            raise Failed(f"the policy service died: {server.output()}")
        noise = [line for line in server.output().splitlines()
                 if "listening on" not in line]
        if noise:
            raise Failed("the policy service logged:\n" + "\n".join(noise[-20:]))
    finally:
        server.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=50_000)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--rate", type=float, default=TARGET_RPS,
                    help="offered requests/s of the paced phase (default 5000)")
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--cprofile", action="store_true", help="always profile the server")
    ap.add_argument("--no-what-if", action="store_true",
                    help="skip the what-if and floor servers run when a target is missed")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--worker", choices=("one-timer", "floor"), help=argparse.SUPPRESS)
    ap.add_argument("--listen", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        host, _sep, port = args.listen.rpartition(":")
        serve_variant(args.worker, host, int(port))
        return 0
    if not (1000 <= args.requests <= 1_000_000 and 1 <= args.concurrency <= 1000
            and 100 <= args.rate <= 100_000):
        ap.error("bounded runs only: --requests 1000..1000000, --concurrency 1..1000, "
                 "--rate 100..100000")
    stop_on_sigterm()
    log(f"load average before: {load_average()}")
    rng = random.Random(args.seed)
    try:
        with Deployment("sqlite") as dep:
            dep.init()
            data = dep.populate(args.accounts, args.seed)
            limit = _profile_limit(dep)
            active = data["by_state"]["active"]
            domain = data["domain"]
            phases = {
                "warm-up": make_requests(max(1000, args.requests // 10), active, active, rng,
                                         0),
                "saturation": make_requests(args.requests, active, active, rng, 10**7),
                "paced": make_requests(args.requests, active, active, rng, 2 * 10**7),
            }
            # A server keeps its NB-7.2b windows (10 minutes) across phases: count every
            # external recipient a sender gets over one server's whole run.
            per = external_per_sender([r for reqs in phases.values() for r in reqs], domain)
            if max(per.values()) >= limit:
                raise Failed(f"a sender would reach the NB-7.2b limit ({max(per.values())})")
            total = sum(len(v) for v in phases.values())
            log(f"{len(active)} senders, {args.requests} requests per phase, external share "
                f"{sum(per.values()) / total:.0%}, at most {max(per.values())} external "
                f"recipients per sender in a server's run (limit {limit})")
            results = {"": bench_server(dep, "", phases, args)}
            met = report(results, args)
            if not met and not args.no_what_if:
                for variant in ("one-timer", "floor"):
                    results[variant] = bench_server(dep, variant, phases, args)
                report(results, args, targets=False)
            if args.cprofile or not met:
                with tempfile.TemporaryDirectory() as tmp:
                    prof = Path(tmp) / "policy.prof"
                    profiled = bench_server(dep, "", phases, args, prof)[0]
                    print(f"\nunder cProfile: {profiled.rate:,.0f} req/s, server CPU "
                          f"{profiled.server_cpu / profiled.requests * 1e6:.0f} µs/request")
                    if not prof.exists():
                        raise Failed("cProfile wrote no profile")
                    hot_spots(prof, "congvu's policy service")
    except Failed as exc:
        log(f"FAILED: {exc}")
        return 1
    log(f"\nload average after: {load_average()}")
    return 0 if met or not args.strict else 1


def _profile_limit(dep: Deployment) -> int:
    """NB-7.2b's limit as the deployment's profile says (not hard-coded)."""
    code = ("import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'congvu.settings'); django.setup(); from congvu import deployment; "
            "m = deployment.deployment_profile().mail; "
            "print(m.external_limit, m.external_window_minutes, m.domain)")
    out = subprocess.run([sys.executable, "-c", code], env=dep.env, capture_output=True,
                         text=True, check=True).stdout.split()
    limit, window = int(out[0]), int(out[1])
    if limit != EXTERNAL_LIMIT or window != 10:
        log(f"note: the profile says {limit} per {window} minutes")
    return limit


def report(results: dict[str, list[Phase]], args: argparse.Namespace, *,
           targets: bool = True) -> bool:
    print()
    print(f"policy service, {args.concurrency} connections, {args.requests} requests per "
          f"phase; paced phase offered {args.rate:,.0f} requests/s")
    print()
    print("| server | phase | requests/s | p50 ms | p95 ms | p99 ms | max ms | "
          "server CPU µs/req | client CPU µs/req |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for variant, phases in results.items():
        for p in phases:
            print(f"| {SERVERS[variant]} | {p.name} | {p.rate:,.0f} | {p.ms(50):.2f} | "
                  f"{p.ms(95):.2f} | {p.ms(99):.2f} | {max(p.latencies) * 1000:.1f} | "
                  f"{p.server_cpu / p.requests * 1e6:.0f} | "
                  f"{p.client_cpu / p.requests * 1e6:.0f} |")
    sat, paced = results[""]
    rps_ok = sat.rate >= TARGET_RPS
    p99_ok = paced.ms(99) < TARGET_P99_MS and paced.rate >= 0.97 * args.rate
    if not targets:
        return rps_ok and p99_ok
    print()
    print(f"target ≥ {TARGET_RPS:,.0f} requests/s (saturation): "
          f"{'met' if rps_ok else 'MISSED'} ({sat.rate:,.0f})")
    print(f"target p99 < {TARGET_P99_MS:g} ms at {args.rate:,.0f} requests/s (paced): "
          f"{'met' if p99_ok else 'MISSED'} (p99 {paced.ms(99):.2f} ms, achieved "
          f"{paced.rate:,.0f} requests/s)")
    print(f"(saturation p99 {sat.ms(99):.2f} ms: with {args.concurrency} requests always in "
          f"flight the mean latency is {args.concurrency} / rate = "
          f"{args.concurrency / sat.rate * 1000:.1f} ms)")
    return rps_ok and p99_ok


if __name__ == "__main__":
    sys.exit(main())
