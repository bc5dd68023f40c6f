"""Starting, checking and stopping the private Postfix and Dovecot instances and
congvu's mail daemon (policy service + auth-policy endpoint) of one deployment."""

from __future__ import annotations

import contextlib
import datetime as dt
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from congvu import clock
from congvu.actors import Actor
from congvu.errors import CongvuError
from congvu.mail.config import (
    MailOptions,
    MailPaths,
    MailPorts,
    OAuth2Introspection,
    database,
    fill_internal_ports,
    load_options,
    render,
    save_options,
)
from congvu.profiles import Profile

POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
MAIL_ACTOR = Actor(kind="system", label="system:mail")
#: The mail plane's client at congvu's SSO provider (a resource server: introspection).
SSO_CLIENT_NAME = "congvu-mail"


def require_mail_plane() -> None:
    """The mail plane needs root (private instances bind ports and switch users) and
    Debian's postfix and dovecot packages (installed by scripts/setup as root)."""
    if os.geteuid() != 0:
        raise CongvuError(_("The mail plane must be started as root (Postfix and Dovecot "
                            "switch to their own users)."))
    missing = [p for p in (POSTFIX, DOVECOT, DOVEADM) if not Path(p).exists()]
    if missing:
        raise CongvuError(_("Missing %(what)s: run scripts/setup as root to install "
                            "Postfix and Dovecot.") % {"what": ", ".join(missing)})


def _run(args: list[str], what: str, *, daemon_log: Path | None = None) -> str:
    """Run a command; a daemon that keeps our pipes open writes to ``daemon_log`` instead."""
    if daemon_log is not None:
        with daemon_log.open("ab") as log:
            start = log.tell()
            code = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                  timeout=120).returncode
        if code != 0:
            with daemon_log.open("rb") as log:
                log.seek(start)
                error = log.read().decode(errors="replace")
            raise CongvuError(_("%(what)s failed: %(error)s") % {
                "what": what, "error": error.strip()[-800:]})
        return ""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise CongvuError(_("%(what)s failed: %(error)s") % {
            "what": what, "error": (proc.stderr or proc.stdout).strip()[-800:]})
    return proc.stdout


def oauth2_introspection(now: dt.datetime) -> OAuth2Introspection:
    """Register (or re-key) the mail plane at congvu's SSO provider as a resource server,
    so Dovecot may introspect the access tokens webmail and other clients sign in with."""
    from congvu.sso.actions import do_ensure_internal_client
    from congvu.sso.issuer import public_url

    client_id, secret = do_ensure_internal_client(
        actor=MAIL_ACTOR, name=SSO_CLIENT_NAME, resource_server=True, now=now)
    base = public_url()
    return OAuth2Introspection(
        introspection_url=f"{base}/sso/introspect/", client_id=client_id,
        client_secret=secret,
        tls_ca_cert_file="/etc/ssl/certs/ca-certificates.crt"
        if base.startswith("https://") else "")


def _ensure_tls(profile: Profile, paths: MailPaths) -> None:
    """A self-signed certificate when the deployment has none (replace it with the
    province's certificate at the same paths)."""
    if paths.tls_cert.is_file() and paths.tls_key.is_file():
        return
    paths.tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    host = f"mail.{profile.mail.domain}"
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825",
          "-subj", f"/CN={host}", "-addext",
          f"subjectAltName=DNS:{host},DNS:localhost,IP:127.0.0.1",
          "-keyout", str(paths.tls_key), "-out", str(paths.tls_cert)], "openssl")
    paths.tls_key.chmod(0o600)


def _prepare_dirs(paths: MailPaths) -> None:
    mail = pwd.getpwnam("mail")
    postfix_gid = grp.getgrnam("postfix").gr_gid
    for d in (paths.mail_dir, paths.postfix_dir, paths.dovecot_dir, paths.log_dir,
              paths.dovecot_state, paths.queue_dir):
        d.mkdir(parents=True, exist_ok=True)
    paths.dovecot_run.mkdir(parents=True, exist_ok=True, mode=0o755)
    paths.postfix_data_dir.mkdir(exist_ok=True)
    os.chown(paths.postfix_data_dir, pwd.getpwnam("postfix").pw_uid, postfix_gid)
    paths.vmail_dir.mkdir(exist_ok=True, mode=0o700)
    os.chown(paths.vmail_dir, mail.pw_uid, mail.pw_gid)
    # Postfix's daemons (user postfix) read the SQLite maps; the mail user traverses to
    # its vmail folder. congvu.toml stays 0600 and the TLS key 0600.
    db = database()
    if db["driver"] == "sqlite":
        os.chown(paths.home, 0, postfix_gid)
        paths.home.chmod(0o2771)
        for suffix in ("", "-wal", "-shm"):
            f = Path(db["path"] + suffix)
            if f.exists():
                os.chown(f, 0, postfix_gid)
                f.chmod(0o660)
    else:
        paths.home.chmod(0o711)
    paths.mail_dir.chmod(0o755)


def _daemon_running(paths: MailPaths) -> int | None:
    try:
        pid = int(paths.daemon_pid.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _start_daemon(paths: MailPaths, ports: MailPorts, listen: str) -> None:
    if _daemon_running(paths):
        return
    log = (paths.log_dir / "congvu-mail.log").open("ab")
    env = {**os.environ, "CONGVU_HOME": str(paths.home),
           "DJANGO_SETTINGS_MODULE": "congvu.settings"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "congvu.mail.daemon", "--policy", f"127.0.0.1:{ports.policy}",
         "--auth-policy", f"127.0.0.1:{ports.auth_policy}", "--milter",
         f"127.0.0.1:{ports.milter}",
         "--smtp", f"{'127.0.0.1' if listen == 'all' else listen}:{ports.smtp}"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    paths.daemon_pid.write_text(str(proc.pid))


def _postfix_running(paths: MailPaths) -> bool:
    return subprocess.run([POSTFIX, "-c", str(paths.postfix_dir), "status"],
                          capture_output=True).returncode == 0


def _dovecot_pid(paths: MailPaths) -> int | None:
    try:
        pid = int((paths.dovecot_run / "master.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def _wait_for(ports: list[int], seconds: float = 30) -> list[int]:
    deadline = time.monotonic() + seconds
    waiting = list(ports)
    while waiting and time.monotonic() < deadline:
        waiting = [p for p in waiting if not _answers(p)]
        if waiting:
            time.sleep(0.1)
    return waiting


@dataclass
class MailStatus:
    postfix: bool
    dovecot: bool
    daemon: bool
    options: MailOptions | None

    def to_json(self) -> dict[str, object]:
        return {"postfix": self.postfix, "dovecot": self.dovecot, "policy_daemon": self.daemon,
                "running": self.postfix and self.dovecot and self.daemon,
                **(self.options.to_json() if self.options else {})}


def up(profile: Profile, home: Path, *, smtp: int | None, submission: int | None,
       imap: int | None, relay: tuple[str, int] | None, listen: str | None,
       now: dt.datetime | None = None) -> MailStatus:
    """Render the configuration and start (or reload) every part of the mail plane.
    Dovecot accepts passwords (PLAIN, LOGIN) and congvu SSO access tokens (XOAUTH2,
    OAUTHBEARER), for IMAP and, through Dovecot SASL, for submission."""
    require_mail_plane()
    paths = MailPaths(home)
    old = load_options(paths)
    options = old or MailOptions(ports=MailPorts())
    ports = options.ports
    ports.smtp = smtp or (ports.smtp if old else 25)
    ports.submission = submission or (ports.submission if old else 587)
    ports.imap = imap or (ports.imap if old else 143)
    if relay is not None:
        options.relay = relay
    if listen:
        options.listen = listen
    fill_internal_ports(ports)
    _prepare_dirs(paths)
    _ensure_tls(profile, paths)
    if not options.nonce:
        import secrets

        options.nonce = secrets.token_hex(16)
    save_options(paths, options)
    render(profile, paths, options, oauth2_introspection(now or clock.now()))
    _start_daemon(paths, ports, options.listen)

    conf = str(paths.postfix_dir)
    _run([POSTFIX, "-c", conf, "set-permissions"], "postfix set-permissions")
    _run([POSTFIX, "-c", conf, "check"], "postfix check")
    if _postfix_running(paths):
        _run([POSTFIX, "-c", conf, "reload"], "postfix reload")
    else:
        _run([POSTFIX, "-c", conf, "start"], "postfix start",
             daemon_log=paths.log_dir / "postfix-start.log")
    if _dovecot_pid(paths):
        _run([DOVEADM, "-c", str(paths.dovecot_conf), "reload"], "dovecot reload")
    else:
        _run([DOVECOT, "-c", str(paths.dovecot_conf)], "dovecot",
             daemon_log=paths.log_dir / "dovecot-start.log")
    late = _wait_for([ports.smtp, ports.submission, ports.imap, ports.lmtp, ports.auth,
                      ports.policy, ports.auth_policy, ports.milter])
    if late:
        raise CongvuError(_("The mail plane did not start listening on port(s) %(ports)s; "
                            "see %(logs)s.") % {"ports": ", ".join(map(str, late)),
                                                 "logs": paths.log_dir})
    return status(home)


def status(home: Path) -> MailStatus:
    paths = MailPaths(home)
    return MailStatus(postfix=Path(POSTFIX).exists() and _postfix_running(paths),
                      dovecot=_dovecot_pid(paths) is not None,
                      daemon=_daemon_running(paths) is not None, options=load_options(paths))


def down(home: Path) -> MailStatus:
    """Stop everything. The Postfix queue stays on disk: mail accepted but not yet
    delivered is delivered after the next ``mail up``."""
    paths = MailPaths(home)
    if Path(POSTFIX).exists() and _postfix_running(paths):
        subprocess.run([POSTFIX, "-c", str(paths.postfix_dir), "stop"], capture_output=True,
                       timeout=120)
    pid = _dovecot_pid(paths)
    if pid:
        subprocess.run([DOVEADM, "-c", str(paths.dovecot_conf), "stop"], capture_output=True,
                       timeout=60)
        _wait_gone(pid)
    shutil.rmtree(paths.dovecot_run, ignore_errors=True)  # its sockets; recreated by up
    pid = _daemon_running(paths)
    if pid:
        os.kill(pid, signal.SIGTERM)
        _wait_gone(pid)
        paths.daemon_pid.unlink(missing_ok=True)
    return status(home)


def _wait_gone(pid: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def mailbox_usage(home: Path, address: str) -> tuple[int, int]:
    """(messages, bytes) of a mailbox, as Dovecot counts them (quota plugin)."""
    paths = MailPaths(home)
    if _dovecot_pid(paths) is None:
        return _usage_from_disk(paths, address)
    out = subprocess.run([DOVEADM, "-c", str(paths.dovecot_conf), "-f", "tab", "quota", "get",
                          "-u", address], capture_output=True, text=True, timeout=30)
    messages = size = 0
    for line in out.stdout.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 4 and cols[1] == "MESSAGE":
            messages = int(cols[2])
        elif len(cols) >= 4 and cols[1] == "STORAGE":
            size = int(cols[2]) * 1024
    return messages, size


def _usage_from_disk(paths: MailPaths, address: str) -> tuple[int, int]:
    local, _sep, domain = address.partition("@")
    root = paths.vmail_dir / domain / local / "Maildir"
    messages = size = 0
    if root.is_dir():
        for sub in root.rglob("*"):
            if sub.is_file() and sub.parent.name in ("cur", "new"):
                messages += 1
                size += sub.stat().st_size
    return messages, size
