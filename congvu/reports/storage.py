"""How much of each mailbox is used, for the usage report: from Dovecot's quota when the
mail plane runs (one ``doveadm quota get -A`` for every mailbox), else from the Maildirs
on disk, else unknown (the mail plane was never started here, or cannot be read)."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from congvu.mail.config import MailPaths

log = logging.getLogger(__name__)

#: Longest a ``doveadm quota get -A`` may take (50,000 mailboxes).
DOVEADM_SECONDS = 300


@dataclass(frozen=True)
class Usage:
    """Bytes used per address; ``source`` is ``dovecot``, ``disk`` or empty (unknown)."""

    used: dict[str, int]
    source: str

    @property
    def known(self) -> bool:
        return bool(self.source)


def usage_source(home: Path) -> str:
    """Where sizes can come from here: ``dovecot``, ``disk`` or '' (nowhere)."""
    paths = MailPaths(home)
    if _dovecot_running(paths):
        return "dovecot"
    return "disk" if paths.vmail_dir.is_dir() else ""


def mailbox_usage(home: Path, addresses: Iterable[str]) -> Usage:
    """Usage of ``addresses`` (the report's scope)."""
    wanted = set(addresses)
    paths = MailPaths(home)
    if _dovecot_running(paths):
        used = _from_doveadm(paths, wanted)
        if used is not None:
            return Usage(used, "dovecot")
    if paths.vmail_dir.is_dir():
        used = _from_disk(paths, wanted)
        if used is not None:
            return Usage(used, "disk")
    return Usage({}, "")


def _dovecot_running(paths: MailPaths) -> bool:
    from congvu.mail.services import DOVEADM

    try:
        pid = int((paths.dovecot_run / "master.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return Path(DOVEADM).exists()


def _from_doveadm(paths: MailPaths, wanted: set[str]) -> dict[str, int] | None:
    from congvu.mail.services import DOVEADM

    try:
        out = subprocess.run([DOVEADM, "-c", str(paths.dovecot_conf), "-f", "tab", "quota",
                              "get", "-A"], capture_output=True, text=True,
                             timeout=DOVEADM_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        log.exception("doveadm quota get -A failed")
        return None
    if out.returncode != 0:
        log.warning("doveadm quota get -A: %s", out.stderr.strip())
        return None
    used: dict[str, int] = {}
    lines = out.stdout.splitlines()
    # Username, Quota name, Type, Value (KiB for STORAGE), Limit, %
    for line in lines[1:]:
        cols = line.split("\t")
        if len(cols) >= 4 and cols[2] == "STORAGE" and cols[0] in wanted:
            try:
                used[cols[0]] = int(cols[3]) * 1024
            except ValueError:
                continue
    return used


def _from_disk(paths: MailPaths, wanted: set[str]) -> dict[str, int] | None:
    """Sizes of the messages in every folder of each Maildir (``cur`` and ``new``)."""
    used: dict[str, int] = {}
    try:
        for address in wanted:
            local, _sep, domain = address.partition("@")
            root = paths.vmail_dir / domain / local / "Maildir"
            if root.is_dir():
                used[address] = _maildir_bytes(root)
    except PermissionError:
        log.warning("cannot read %s: mailbox sizes unknown", paths.vmail_dir)
        return None
    return used


def _maildir_bytes(root: Path) -> int:
    total = 0
    for top, _dirs, files in os.walk(root):
        folder = Path(top)
        if folder.name in ("cur", "new"):
            for name in files:
                try:
                    total += (folder / name).stat().st_size
                except FileNotFoundError:  # expunged meanwhile
                    continue
    return total
