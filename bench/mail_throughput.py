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
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mail_common import (
    DEFAULT_PG,
    LOOPBACK,
    Deployment,
    Failed,
    cpu_delta,
    cpu_snapshot,
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
PG_BASE = [DEFAULT_PG]  # --pg


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

    def log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def warnings_since(self, offset: int, limit: int = 8) -> str:
        """The most frequent warnings and errors logged after ``offset`` (for failures)."""
        counts: Counter[str] = Counter()
        with contextlib.suppress(OSError), self.log_file.open("rb") as fh:
            fh.seek(offset)
            for raw in fh:
                line = raw.decode(errors="replace")
                if any(w in line for w in (" warning: ", " error: ", " fatal: ", " reject: ")):
                    text = line.split("]: ", 1)[-1].strip()
                    counts[re.sub(r"\b[0-9A-F]{9,12}\b", "<qid>", text)[:220]] += 1
        return "\n".join(f"  {n} × {t}" for t, n in counts.most_common(limit))

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
    for name, lines in maps.items():
        (etc / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run([POSTMAP, "-c", str(etc), f"hash:{etc / name}"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise Failed(f"postmap {name}: {proc.stderr.strip()}")
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


# ========================================================================= measurement


@dataclass
class Run:
    instance: str
    hop: str
    seconds: float
    accept_seconds: float
    messages: int
    cpu: dict[str, float]
    machine_cpu: float = 0.0  # busy CPU seconds of the whole machine (/proc/stat)
    pg_peak: int = 0  # most connections to the deployment's PostgreSQL database seen

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


class PgSampler:
    """Counts the connections to one PostgreSQL database every 0.2 s (its own connection
    goes to the ``postgres`` database, so it is not counted)."""

    def __init__(self, dbname: str, pg_base: str = DEFAULT_PG) -> None:
        import psycopg

        self.peak = 0
        self._stop = threading.Event()
        self._conn = psycopg.connect(f"{pg_base}/postgres", autocommit=True)
        self._dbname = dbname
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            row = self._conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                     (self._dbname,)).fetchone()
            self.peak = max(self.peak, int(row[0]) if row else 0)
            self._stop.wait(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(5)
        self._conn.close()
        return self.peak


def machine_busy() -> float:
    """Busy CPU seconds of the machine since boot (all cores; /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def maildir_count(vmail: Path, address: str) -> int:
    local, _at, domain = address.partition("@")
    box = vmail / domain / local / "Maildir"
    return sum(len(list((box / sub).iterdir())) for sub in ("new", "cur")
               if (box / sub).is_dir())


def measure(inst: Instance, hop: str, *, messages: int, sessions: int, size: int,
            sender: str, recipient: str, sink: Sink, vmail: Path, pg_marker: str,
            timeout: float) -> Run:
    if inst.queued():
        raise Failed(f"{inst.name}: queue not empty before the run ({inst.queued()} files)")
    logs_before = inst.log_counts()
    offset = inst.log_size()
    base = sink.count
    box_before = maildir_count(vmail, recipient) if hop == "lmtp" else 0
    if hop == "relay":
        sink.expect(base + messages)
    cmd = [SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-l", str(size), "-f", sender,
           "-t", recipient, f"{LOOPBACK}:{inst.smtp_port}"]
    sampler = PgSampler(pg_marker, PG_BASE[0]) if pg_marker else None
    cpu_before = cpu_snapshot(inst.roots, pg_marker)
    busy_before = machine_busy()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    accepted = time.perf_counter()
    if proc.returncode != 0:
        raise Failed(f"{inst.name}/{hop}: smtp-source exit {proc.returncode}: "
                     f"{(proc.stderr or proc.stdout).strip()[-400:]}\n{inst.log_file}:\n"
                     f"{inst.warnings_since(offset)}")
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
    busy = machine_busy() - busy_before
    cpu = cpu_delta(cpu_before, cpu_snapshot(inst.roots, pg_marker))
    pg_peak = sampler.stop() if sampler else 0
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
    return Run(inst.name, hop, done - start, accepted - start, messages, cpu, busy, pg_peak)


# ============================================================================== driver


@dataclass
class DbResult:
    kind: str
    runs: list[Run] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    what_if: list[Run] = field(default_factory=list)
    noise: dict[str, str] = field(default_factory=dict)

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
            dovecot = dep.dovecot_pid() or 0
            congvu.roots = dep.mail_roots()
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
                            + describe(run))
            if "relay" in hops and not args.no_what_if:
                c_rate = statistics.median(r.rate for r in res.of("congvu", "relay"))
                v_rate = statistics.median(r.rate for r in res.of("vanilla", "relay"))
                if c_rate < TARGET * v_rate:
                    what_if(res, congvu, dep, args, sink, pg_marker, sender_out, recipients)
            res.noise = {i.name: i.warnings_since(0, 6) for i in instances}
        finally:
            if vanilla is not None:
                stop_vanilla(vanilla)
    return res


def split_list(value: str) -> list[str]:
    """A Postfix list value split on commas outside ``{ }``."""
    items, depth, cur = [], 0, ""
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def variants(conf: Path, ports: dict[str, int]) -> dict[str, dict[str, str]]:
    """congvu's own main.cf with one part taken out (or the maps behind proxymap)."""
    params = postconf_n(conf)
    quota = f":{ports['quota_status']}"
    policy = f":{ports['policy']}"

    def without(*needles: str) -> dict[str, str]:
        out = {}
        for k, v in params.items():
            items = split_list(v)
            kept = [i for i in items if not any(n in i and "check_policy_service" in i
                                                for n in needles)]
            if len(kept) != len(items):
                out[k] = ", ".join(kept)
        return out

    proxied = {k: re.sub(r"(?<!proxy:)\b(sqlite|pgsql):", r"proxy:\1:", v)
               for k, v in params.items() if re.search(r"\b(sqlite|pgsql):", v)}
    return {
        "congvu without quota-status": without(quota),
        "congvu without congvu's policy service": without(policy),
        "congvu without both policy services (SQL maps only)": without(quota, policy),
        "congvu with every SQL map behind proxy:": proxied,
    }


def what_if(res: DbResult, congvu: Instance, dep: Deployment, args: argparse.Namespace,
            sink: Sink, pg_marker: str, sender_out: str,
            recipients: dict[str, str]) -> None:
    """Not congvu's configuration: the deployment's rendered main.cf changed (postconf -e,
    postfix reload) one part at a time, to show where the difference comes from. The file
    is restored afterwards."""
    main_cf = congvu.config_dir / "main.cf"
    original = main_cf.read_text(encoding="utf-8")
    ports = dep.status["ports"]
    try:
        for label, change in variants(congvu.config_dir, ports).items():
            if not change:
                log(f"[{res.kind}] what-if {label}: nothing to change, skipped")
                continue
            main_cf.write_text(original, encoding="utf-8")
            subprocess.run([POSTCONF, "-c", str(congvu.config_dir), "-e",
                            *(f"{k}={v}" for k, v in change.items())], check=True)
            reload(congvu)
            inst = Instance(label, congvu.config_dir, congvu.queue_dir, congvu.log_file,
                            congvu.smtp_port, congvu.roots)
            one(inst, "relay", max(50, args.messages // 10), args, sink, dep, pg_marker,
                sender_out, recipients)
            for rep in range(min(args.repeat, 2)):
                run = one(inst, "relay", args.messages, args, sink, dep, pg_marker,
                          sender_out, recipients)
                res.what_if.append(run)
                log(f"[{res.kind}] what-if {label} run {rep + 1}: " + describe(run))
    finally:
        main_cf.write_text(original, encoding="utf-8")
        reload(congvu)


def reload(inst: Instance) -> None:
    proc = subprocess.run([POSTFIX, "-c", str(inst.config_dir), "reload"],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise Failed(f"postfix reload: {proc.stderr.strip()[-500:]}")
    time.sleep(1.5)  # the old smtpd processes finish; new ones read the new main.cf


def describe(run: Run) -> str:
    pg = f", peak PostgreSQL connections {run.pg_peak}" if run.pg_peak else ""
    return (f"{run.rate:7.1f} msg/s ({run.seconds:.2f} s; accepted in "
            f"{run.accept_seconds:.2f} s), machine CPU busy {run.machine_cpu:.1f} s "
            f"= {run.machine_cpu / run.seconds:.2f} cores{pg}, load {load_average()}")


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


def report(results: list[DbResult], args: argparse.Namespace) -> bool:
    ok = True
    print()
    print(f"Postfix {_postfix_version()}, {args.messages} messages of {args.size} bytes "
          f"payload per run, {args.sessions} parallel sessions, {args.repeat} runs per "
          f"instance (alternating order) after one warm-up run each")
    print()
    print("| database | final hop | congvu msg/s | vanilla msg/s | congvu / vanilla | "
          "best of each | accepted msg/s congvu / vanilla | machine CPU s per 1,000 msg "
          "congvu / vanilla | target ≥ 90 % |")
    print("|---|---|--:|--:|--:|--:|--:|--:|---|")
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
            cc = statistics.median(x.machine_cpu * 1000 / x.messages for x in c)
            vc = statistics.median(x.machine_cpu * 1000 / x.messages for x in v)
            met = cm / vm >= TARGET
            ok &= met
            print(f"| {r.kind} | {hop} | {cm:.0f} | {vm:.0f} | **{cm / vm:.0%}** | "
                  f"{cb:.0f} / {vb:.0f} = {cb / vb:.0%} | {ca:.0f} / {va:.0f} | "
                  f"{cc:.1f} / {vc:.1f} | {'met' if met else 'MISSED'} |")
    print("(msg/s: median of the runs, from the start of smtp-source until the final hop "
          "has every message; accepted: until smtp-source has finished)")
    for r in results:
        if r.kind == "postgres":
            peaks = {hop: max((x.pg_peak for x in r.of("congvu", hop)), default=0)
                     for hop in ("relay", "lmtp")}
            print("postgres: peak connections to the deployment's database during the "
                  "congvu runs: " + ", ".join(f"{h} {p}" for h, p in peaks.items() if p)
                  + f" (server max_connections {pg_max_connections()})")
    print()
    for r in results:
        for hop in ("relay", "lmtp"):
            for name in ("congvu", "vanilla"):
                runs = r.of(name, hop)
                if runs:
                    print(f"{r.kind} {hop} {name}: msg/s "
                          f"{' '.join(f'{x.rate:.1f}' for x in runs)}")
    if any(r.what_if for r in results):
        print()
        print("What-if (relay hop; congvu's rendered main.cf changed for the test, then "
              "restored): msg/s, median")
        print()
        print("| database | instance | msg/s | of vanilla | machine CPU s per 1,000 msg | "
              "peak PostgreSQL connections |")
        print("|---|---|--:|--:|--:|--:|")
        for r in results:
            if not r.what_if:
                continue
            v = statistics.median(x.rate for x in r.of("vanilla", "relay"))
            rows = [("congvu as rendered", r.of("congvu", "relay"))]
            labels = dict.fromkeys(x.instance for x in r.what_if)
            rows += [(label, [x for x in r.what_if if x.instance == label]) for label in labels]
            rows.append(("vanilla", r.of("vanilla", "relay")))
            for label, runs in rows:
                m = statistics.median(x.rate for x in runs)
                cpu = statistics.median(x.machine_cpu * 1000 / x.messages for x in runs)
                peak = (max(x.pg_peak for x in runs)
                        if r.kind == "postgres" and label != "vanilla" else "—")
                print(f"| {r.kind} | {label} | {m:.0f} | {m / v:.0%} | {cpu:.1f} | {peak} |")
    print()
    print("CPU seconds per 1,000 messages by process (median run; the processes of each "
          "instance: Postfix, Dovecot, congvu's daemon, PostgreSQL backends of the "
          "deployment; approximate: a process that exits during a run is counted whole)")
    for r in results:
        for hop in ("relay", "lmtp"):
            for name in ("congvu", "vanilla"):
                runs = r.of(name, hop)
                if not runs:
                    continue
                mid = sorted(runs, key=lambda x: x.rate)[len(runs) // 2]
                per = {k: v * 1000 / mid.messages for k, v in mid.cpu.items() if v > 0.005}
                top = sorted(per.items(), key=lambda kv: -kv[1])[:9]
                print(f"  {r.kind} {hop} {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in top))
    for r in results:
        for name, text in r.noise.items():
            if text:
                print(f"\n{r.kind} {name}: warnings and errors in postfix.log over the whole "
                      f"run (most frequent)\n{text}")
    if results and results[0].diff:
        print()
        print("main.cf differences (postconf -n), congvu vs vanilla:")
        print("\n".join(results[0].diff))
    return ok


def pg_max_connections() -> str:
    import psycopg

    with psycopg.connect(f"{PG_BASE[0]}/postgres") as conn:
        row = conn.execute("SHOW max_connections").fetchone()
    return str(row[0]) if row else "?"


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
    ap.add_argument("--no-what-if", action="store_true",
                    help="skip the what-if runs made when the relay target is missed")
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
    PG_BASE[0] = args.pg
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
