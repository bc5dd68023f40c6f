"""Postfix throughput with congvu's SQL maps and policy services in the path, against a
vanilla Postfix of the same version with static maps, in the same run.

    .venv/bin/python bench/mail_throughput.py [--messages 2000] [--sessions 20]
        [--db sqlite|postgres|both] [--hop relay|lmtp|both] [--size 4096] [--repeat 3]
        [--accounts 1000] [--pg postgres://postgres@127.0.0.1:5432]

For each database a fresh deployment (``congvu init --profile ninh-binh``, about 1,000
person accounts, PostgreSQL on a fresh database dropped at the end) is started with
``congvu mail up --listen 127.0.0.1 --internet-relay 127.0.0.1:<sink>``. Beside it the
script renders a **vanilla** Postfix instance into a temporary folder (``postfix -c DIR``):
the same Postfix binaries and the same main.cf settings (printed: ``postconf -n`` of both,
differences only), but ``hash:`` maps exported from the same database (domains, receiving
mailboxes, aliases, locked recipients; ``texthash:`` sender logins) and **no policy
service** (congvu's instance asks Dovecot's quota-status and congvu's NB-7.2b service at
every RCPT). Both are driven on their port 25 by

    smtp-source -s SESSIONS -m MESSAGES -l SIZE -f SENDER -t RECIPIENT 127.0.0.1:PORT

(one message per SMTP session, as inbound mail mostly comes) and timed from the start of
smtp-source until the final hop has everything:

- ``relay``: RECIPIENT is outside the province (``congdan@example.org``), so both relay
  through ``relayhost`` to the same ``smtp-sink`` (one process for the whole run, ``-c``
  counters read as they change): done when the sink has counted MESSAGES more messages
  and the queue is empty.
- ``lmtp``: RECIPIENT is a province mailbox (a different one per instance), both deliver
  over LMTP to congvu's Dovecot (the vanilla instance with ``virtual_transport`` pointed
  at the same Dovecot LMTP port): done when the queue is empty; then each mailbox must
  hold exactly MESSAGES more messages.

Checks: smtp-source exits 0 (it stops at the first unexpected reply), every message
reaches the sink or the mailbox exactly once, the queue empties, nothing is deferred or
bounced (postfix.log of each instance). Each instance gets a warm-up run first; the
measured runs alternate the order (congvu first, then vanilla first...). Reported:
messages/s (best and median of the repeats), the acceptance rate (until smtp-source
exits), the CPU seconds the mail processes used, and congvu / vanilla (target: ≥ 90 %).
Exits 1 if a check fails; with ``--strict`` also if the target is missed. Temporary
folders, processes and databases are removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mail_common import (  # noqa: E402
    DEFAULT_PG,
    LOOPBACK,
    Deployment,
    Failed,
    free_port,
    load_average,
    log,
    postgres_available,
    stop_on_sigterm,
    terminate,
    wait_until,
)

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTMAP = "/usr/sbin/postmap"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
TARGET = 0.90
EXTERNAL = "congdan@example.org"
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


# ============================================================================ the sink


class Sink:
    """One ``smtp-sink`` for the whole run; a thread follows its ``-c`` counters."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = 0
        self.reached_at: dict[int, float] = {}
        self.waiting: set[int] = set()
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [SMTP_SINK, "-c", "-u", "nobody", f"{LOOPBACK}:{self.port}", "1024"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        if not wait_until(self._answers, 10):
            raise Failed("smtp-sink did not start")

    def _answers(self) -> bool:
        import socket

        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, self.port), 1):
            return True
        return False

    def _follow(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        tail = b""
        while chunk := os.read(fd, 65536):
            now = time.perf_counter()
            tail = (tail + chunk)[-200:]
            last = tail.rsplit(b"\r", 2)
            text = last[-2] if len(last) >= 2 and not last[-1] else last[-1]
            if b"mesg=" not in text:
                continue
            count = int(text.rsplit(b"mesg=", 1)[1].split()[0] or 0)
            with self._lock:
                self.count = count
                for target in [t for t in self.waiting if count >= t]:
                    self.reached_at[target] = now
                    self.waiting.discard(target)

    def expect(self, target: int) -> None:
        with self._lock:
            if self.count >= target:
                self.reached_at[target] = time.perf_counter()
            else:
                self.waiting.add(target)

    def stop(self) -> None:
        terminate(self.proc)


# ======================================================================= the instances


@dataclass
class Instance:
    name: str
    config_dir: Path
    queue_dir: Path
    log_file: Path
    smtp_port: int
    roots: list[int] = field(default_factory=list)  # process trees whose CPU we count

    def queued(self) -> int:
        n = 0
        for q in QUEUES:
            for _dirpath, _dirs, files in os.walk(self.queue_dir / q):
                n += len(files)
        return n

    def master_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        return None

    def log_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        with contextlib.suppress(OSError), self.log_file.open(errors="replace") as fh:
            for line in fh:
                for status in ("sent", "deferred", "bounced"):
                    if f" status={status} " in line:
                        counts[status] += 1
        return counts


def write_vanilla(root: Path, congvu_conf: Path, data: dict[str, Any], *, smtp_port: int,
                  sink_port: int, lmtp_port: int) -> Instance:
    """A Postfix instance with congvu's settings but static maps and no policy service."""
    etc, spool, pdata, logs = (root / d for d in ("etc", "spool", "data", "log"))
    for d in (etc, spool, pdata, logs):
        d.mkdir(parents=True)
    shutil.chown(pdata, "postfix", "postfix")
    pdata.chmod(0o700)
    congvu = postconf_n(congvu_conf)
    domain = data["domain"]
    receiving = data["by_state"].get("active", []) + data["by_state"].get("suspended", [])
    maps = {
        "domains": [f"{domain} OK"],
        "mailboxes": [f"{a} OK" for a in receiving],
        "aliases": [f"{alias} {target}" for alias, target in data["aliases"].items()
                    if target in receiving],
        "recipient-access": [f"{a} 550 5.2.1 Mailbox locked: the holder has left the agency"
                             for a in data["by_state"].get("locked", [])],
    }
    for name, lines in maps.items():
        (etc / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        subprocess.run([POSTMAP, f"hash:{etc / name}"], check=True)
    logins = [f"{a} {a}" for a in receiving]
    logins += [f"{alias} {target}" for alias, target in data["aliases"].items()]
    (etc / "sender-logins").write_text("\n".join(logins) + "\n", encoding="utf-8")
    # Everything that is not a path, a port, a map or a policy service is congvu's value.
    same = ("compatibility_level", "mail_owner", "setgid_group", "myhostname", "mydomain",
            "myorigin", "mydestination", "mynetworks", "inet_interfaces", "inet_protocols",
            "smtputf8_enable", "biff", "append_dot_mydomain", "relayhost",
            "smtpd_reject_unlisted_recipient", "message_size_limit", "mailbox_size_limit",
            "smtpd_banner", "smtpd_tls_cert_file", "smtpd_tls_key_file",
            "smtpd_tls_security_level", "smtpd_tls_loglevel", "smtp_tls_security_level",
            "smtpd_sasl_type", "smtpd_sasl_path", "smtpd_sasl_auth_enable",
            "smtpd_helo_required", "disable_vrfy_command", "smtpd_relay_restrictions")
    params = {k: congvu[k] for k in same if k in congvu}
    params.update({
        "config_directory": str(etc), "queue_directory": str(spool),
        "data_directory": str(pdata), "maillog_file": str(logs / "postfix.log"),
        "maillog_file_prefixes": f"/var, /dev/stdout, {logs}",
        "relayhost": f"[{LOOPBACK}]:{sink_port}",
        "virtual_mailbox_domains": f"hash:{etc / 'domains'}",
        "virtual_mailbox_maps": f"hash:{etc / 'mailboxes'}",
        "virtual_alias_maps": f"hash:{etc / 'aliases'}",
        "virtual_transport": f"lmtp:inet:{LOOPBACK}:{lmtp_port}",
        "smtpd_recipient_restrictions": f"check_recipient_access hash:{etc / 'recipient-access'}",
        "smtpd_sender_login_maps": f"texthash:{etc / 'sender-logins'}",
    })
    (etc / "main.cf").write_text(
        "# vanilla Postfix for bench/mail_throughput.py\n"
        + "".join(f"{k} = {v}\n" for k, v in params.items()), encoding="utf-8")
    services = [line for line in (congvu_conf / "master.cf").read_text().splitlines()
                if line and not line.startswith(("#", " ", "\t")) and " unix" in line]
    if not any(s.startswith("smtp ") for s in services):
        raise Failed("congvu's master.cf has no smtp client service")
    (etc / "master.cf").write_text(
        f"{smtp_port} inet n - n - - smtpd\n" + "\n".join(services) + "\n", encoding="utf-8")
    inst = Instance("vanilla", etc, spool, logs / "postfix.log", smtp_port)
    subprocess.run([POSTFIX, "-c", str(etc), "set-permissions"], check=True,
                   capture_output=True, timeout=120)
    proc = subprocess.run([POSTFIX, "-c", str(etc), "start"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise Failed(f"vanilla postfix start: {proc.stderr.strip()[-1500:]}")
    return inst


def stop_vanilla(inst: Instance) -> None:
    pid = inst.master_pid()
    subprocess.run([POSTFIX, "-c", str(inst.config_dir), "stop"], capture_output=True,
                   timeout=120)
    if pid:
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), 20)


def postconf_n(conf: Path) -> dict[str, str]:
    out = subprocess.run([POSTCONF, "-c", str(conf), "-n"], capture_output=True, text=True,
                         check=True).stdout
    return dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)


def postconf_diff(a: Path, b: Path) -> list[str]:
    pa, pb = postconf_n(a), postconf_n(b)
    lines = []
    for k in sorted(set(pa) | set(pb)):
        if pa.get(k) != pb.get(k):
            lines.append(f"  {k}:\n    congvu : {pa.get(k, '(default)')}\n"
                         f"    vanilla: {pb.get(k, '(default)')}")
    return lines


# ====================================================================== CPU accounting


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
        chosen[pid] = (label, cpu)
        todo.extend(children.get(pid, []))
    if pg_marker:
        for pid, (label, _ppid, cpu) in table.items():
            if label.startswith("postgres:") and pg_marker in label:
                chosen[pid] = ("postgres backend", cpu)
    return chosen


def cpu_delta(before: dict[int, tuple[str, float]],
              after: dict[int, tuple[str, float]]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for pid, (label, cpu) in after.items():
        prev = before.get(pid)
        base = prev[1] if prev and prev[0] == label else 0.0
        short = label.split()[0].rsplit("/", 1)[-1]
        if short.startswith("python"):
            short = "congvu daemon"
        elif short == "master":
            short = "postfix master (+ exited children)"
        elif label == "postgres backend":
            short = label
        out[short] += max(0.0, cpu - base)
    return dict(out)


# ========================================================================= measurement


@dataclass
class Run:
    instance: str
    hop: str
    seconds: float
    accept_seconds: float
    messages: int
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def maildir_count(vmail: Path, address: str) -> int:
    local, _at, domain = address.partition("@")
    box = vmail / domain / local / "Maildir"
    return sum(len(os.listdir(box / sub)) for sub in ("new", "cur") if (box / sub).is_dir())


def measure(inst: Instance, hop: str, *, messages: int, sessions: int, size: int,
            sender: str, recipient: str, sink: Sink, vmail: Path, pg_marker: str,
            timeout: float) -> Run:
    if inst.queued():
        raise Failed(f"{inst.name}: queue not empty before the run ({inst.queued()} files)")
    logs_before = inst.log_counts()
    base = sink.count
    box_before = maildir_count(vmail, recipient) if hop == "lmtp" else 0
    if hop == "relay":
        sink.expect(base + messages)
    cmd = [SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-l", str(size), "-f", sender,
           "-t", recipient, f"{LOOPBACK}:{inst.smtp_port}"]
    cpu_before = cpu_snapshot(inst.roots, pg_marker)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    accepted = time.perf_counter()
    if proc.returncode != 0:
        raise Failed(f"{inst.name}/{hop}: smtp-source exit {proc.returncode}: "
                     f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    if hop == "relay":
        target = base + messages
        if not wait_until(lambda: target in sink.reached_at, timeout, 0.01):
            raise Failed(f"{inst.name}/relay: the sink has {sink.count - base} of {messages} "
                         f"after {timeout:.0f} s; queue {inst.queued()}")
        done = sink.reached_at.pop(target)
        if not wait_until(lambda: inst.queued() == 0, 30, 0.01):
            raise Failed(f"{inst.name}/relay: queue not empty: {inst.queued()} files")
    else:
        if not wait_until(lambda: inst.queued() == 0, timeout, 0.01):
            raise Failed(f"{inst.name}/lmtp: queue not empty after {timeout:.0f} s: "
                         f"{inst.queued()} files")
        done = time.perf_counter()
    cpu = cpu_delta(cpu_before, cpu_snapshot(inst.roots, pg_marker))
    # Exactly once: no extra message reached the final hop, every one was logged as sent.
    if hop == "relay":
        time.sleep(0.3)
        if sink.count != base + messages:
            raise Failed(f"{inst.name}/relay: the sink counted {sink.count - base}, "
                         f"expected {messages}")
    else:
        got = maildir_count(vmail, recipient) - box_before
        if got != messages:
            raise Failed(f"{inst.name}/lmtp: {recipient} got {got} messages, expected "
                         f"{messages}")
    want = logs_before.get("sent", 0) + messages

    def logged() -> bool:
        return inst.log_counts().get("sent", 0) >= want

    if not wait_until(logged, 10, 0.1):
        raise Failed(f"{inst.name}/{hop}: postfix.log shows "
                     f"{inst.log_counts().get('sent', 0) - logs_before.get('sent', 0)} "
                     f"status=sent lines, expected {messages}")
    after = inst.log_counts()
    for status in ("deferred", "bounced"):
        if after.get(status, 0) != logs_before.get(status, 0):
            raise Failed(f"{inst.name}/{hop}: {after[status] - logs_before.get(status, 0)} "
                         f"status={status} lines in {inst.log_file}")
    return Run(inst.name, hop, done - start, accepted - start, messages, cpu)


# ============================================================================== driver


@dataclass
class DbResult:
    kind: str
    runs: list[Run] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    maps: str = ""

    def of(self, instance: str, hop: str) -> list[Run]:
        return [r for r in self.runs if r.instance == instance and r.hop == hop]


def bench_db(kind: str, args: argparse.Namespace, sink: Sink) -> DbResult:
    res = DbResult(kind)
    hops = ("relay", "lmtp") if args.hop == "both" else (args.hop,)
    with Deployment(kind, pg_base=args.pg) as dep:
        dep.init()
        data = dep.populate(args.accounts)
        active = data["by_state"]["active"]
        log(f"[{kind}] deployment {dep.home}: {sum(map(len, data['by_state'].values()))} "
            f"accounts ({', '.join(f'{k} {len(v)}' for k, v in data['by_state'].items())}), "
            f"{len(data['aliases'])} aliases")
        status = dep.mail_up(smtp=free_port(), submission=free_port(), imap=free_port(),
                             relay=(LOOPBACK, sink.port))
        ports = status["ports"]
        congvu = Instance("congvu", dep.mail_dir / "postfix", dep.mail_dir / "spool",
                          dep.log_dir / "postfix.log", ports["smtp"])
        vanilla: Instance | None = None
        try:
            vanilla = write_vanilla(dep.root / "v", dep.mail_dir / "postfix", data,
                                    smtp_port=free_port(), sink_port=sink.port,
                                    lmtp_port=ports["lmtp"])
            if not wait_until(lambda: vanilla is not None and vanilla.master_pid() is not None
                              and _answers(vanilla.smtp_port), 30):
                raise Failed("vanilla postfix did not start listening")
            res.diff = postconf_diff(congvu.config_dir, vanilla.config_dir)
            dovecot = int(Path(f"/run/congvu/{_digest(dep.home)}/master.pid").read_text())
            daemon = dep.daemon_pid() or 0
            shared = [dovecot, daemon]
            congvu.roots = [congvu.master_pid() or 0, *shared]
            vanilla.roots = [vanilla.master_pid() or 0, dovecot]
            pg_marker = dep.dbname
            instances = (congvu, vanilla)
            recipients = {"congvu": active[1], "vanilla": active[2]}
            sender_out = active[0]
            for hop in hops:
                for inst in instances:  # warm-up: processes spawned, caches filled
                    one(inst, hop, max(50, args.messages // 10), args, sink, dep, pg_marker,
                        sender_out, recipients)
                for rep in range(args.repeat):
                    order = instances if rep % 2 == 0 else instances[::-1]
                    for inst in order:
                        run = one(inst, hop, args.messages, args, sink, dep, pg_marker,
                                  sender_out, recipients)
                        res.runs.append(run)
                        log(f"[{kind}] {hop:5} {inst.name:7} run {rep + 1}: "
                            f"{run.rate:7.1f} msg/s ({run.seconds:.2f} s; accepted in "
                            f"{run.accept_seconds:.2f} s), CPU "
                            f"{sum(run.cpu.values()):.2f} s, load {load_average()}")
        finally:
            if vanilla is not None:
                stop_vanilla(vanilla)
    return res


def one(inst: Instance, hop: str, messages: int, args: argparse.Namespace, sink: Sink,
        dep: Deployment, pg_marker: str, sender_out: str, recipients: dict[str, str]) -> Run:
    if hop == "relay":
        sender, recipient = sender_out, EXTERNAL
    else:
        sender, recipient = EXTERNAL, recipients[inst.name]
    return measure(inst, hop, messages=messages, sessions=args.sessions, size=args.size,
                   sender=sender, recipient=recipient, sink=sink,
                   vmail=dep.mail_dir / "vmail", pg_marker=pg_marker,
                   timeout=max(120.0, messages / 10))


def _answers(port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 1):
        return True
    return False


def _digest(home: Path) -> str:
    import hashlib

    return hashlib.sha256(str(home).encode()).hexdigest()[:12]


def report(results: list[DbResult], args: argparse.Namespace) -> bool:
    ok = True
    print()
    print(f"Postfix {_postfix_version()}, {args.messages} messages of {args.size} bytes "
          f"payload per run, {args.sessions} parallel sessions, {args.repeat} runs per "
          f"instance (alternating order) after one warm-up run each")
    print()
    print("| database | final hop | congvu msg/s (median) | vanilla msg/s (median) | "
          "congvu / vanilla | best: congvu / vanilla | accepted msg/s congvu / vanilla | "
          "target ≥ 90 % |")
    print("|---|---|--:|--:|--:|--:|--:|---|")
    for r in results:
        for hop in ("relay", "lmtp"):
            c, v = r.of("congvu", hop), r.of("vanilla", hop)
            if not c or not v:
                continue
            cm = statistics.median(x.rate for x in c)
            vm = statistics.median(x.rate for x in v)
            cb, vb = max(x.rate for x in c), max(x.rate for x in v)
            ca = statistics.median(x.messages / x.accept_seconds for x in c)
            va = statistics.median(x.messages / x.accept_seconds for x in v)
            met = cm / vm >= TARGET
            ok &= met
            print(f"| {r.kind} | {hop} | {cm:.1f} | {vm:.1f} | {cm / vm:.1%} | "
                  f"{cb:.1f} / {vb:.1f} = {cb / vb:.1%} | {ca:.0f} / {va:.0f} | "
                  f"{'met' if met else 'MISSED'} |")
    print()
    for r in results:
        for hop in ("relay", "lmtp"):
            for name in ("congvu", "vanilla"):
                runs = r.of(name, hop)
                if not runs:
                    continue
                print(f"{r.kind} {hop} {name}: msg/s "
                      f"{' '.join(f'{x.rate:.1f}' for x in runs)}")
    print()
    print("CPU seconds per 1,000 messages (median run; the mail processes of each instance: "
          "Postfix, Dovecot, congvu's daemon, PostgreSQL backends of the deployment)")
    for r in results:
        for hop in ("relay", "lmtp"):
            for name in ("congvu", "vanilla"):
                runs = r.of(name, hop)
                if not runs:
                    continue
                mid = sorted(runs, key=lambda x: x.rate)[len(runs) // 2]
                per = {k: v * 1000 / mid.messages for k, v in mid.cpu.items() if v > 0.005}
                top = sorted(per.items(), key=lambda kv: -kv[1])[:8]
                print(f"  {r.kind} {hop} {name}: total {sum(per.values()):.1f} s — "
                      + ", ".join(f"{k} {v:.2f}" for k, v in top))
    if results and results[0].diff:
        print()
        print("main.cf differences (postconf -n), congvu vs vanilla:")
        print("\n".join(results[0].diff))
    return ok


def _postfix_version() -> str:
    out = subprocess.run([POSTCONF, "-d", "mail_version"], capture_output=True, text=True)
    return out.stdout.split("=")[-1].strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--hop", choices=("relay", "lmtp", "both"), default="both")
    ap.add_argument("--size", type=int, default=4096, help="payload bytes per message")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL, no database")
    ap.add_argument("--strict", action="store_true", help="exit 1 if the target is missed")
    args = ap.parse_args()
    if not (1 <= args.messages <= 100_000 and 1 <= args.sessions <= 100
            and 1 <= args.repeat <= 10 and 0 <= args.size <= 10_000_000):
        ap.error("bounded runs only: --messages 1..100000, --sessions 1..100, "
                 "--repeat 1..10, --size 0..10000000")
    if os.geteuid() != 0:
        ap.error("needs root (congvu mail up and postfix -c)")
    stop_on_sigterm()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in kinds and (err := postgres_available(args.pg)):
        log(f"PostgreSQL not reachable at {args.pg}: {err}")
        return 1
    log(f"load average before: {load_average()}")
    sink = Sink()
    results: list[DbResult] = []
    try:
        for kind in kinds:
            results.append(bench_db(kind, args, sink))
    except Failed as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        sink.stop()
    met = report(results, args)
    log(f"\nload average after: {load_average()}")
    return 0 if met or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
