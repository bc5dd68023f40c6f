"""``congvu serve --workers N``: several server processes on one port, the tasks worker
once, and every process gone after SIGTERM (or when serve itself is killed). Behaviour
only: no timing is asserted beyond generous deadlines for processes to appear or end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CONGVU = str(Path(sys.executable).parent / "congvu")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
Start = Callable[..., tuple[subprocess.Popen[bytes], int]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> dict[int, str]:
    """Live child processes of ``pid``: pid -> command line."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[1]) == pid and stat[0] != "Z":
            out[int(entry.name)] = cmd
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[0] != "Z"


def _wait_for(what: str, check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _roles(pid: int) -> tuple[list[int], list[int]]:
    """(server worker pids, tasks worker pids) among serve's children."""
    kids = _children(pid)
    tasks = [p for p, cmd in kids.items() if "congvu.cli.main worker" in cmd]
    servers = [p for p in kids if p not in tasks]
    return servers, tasks


@pytest.fixture
def serve(fresh_home: dict[str, str]) -> Iterator[Start]:
    init = subprocess.run([CONGVU, "init", "--profile", "ninh-binh"], env=fresh_home,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> tuple[subprocess.Popen[bytes], int]:
        port = _free_port()
        log = (Path(fresh_home["CONGVU_HOME"]) / "serve.log").open("ab")
        proc = subprocess.Popen([CONGVU, "serve", "--bind", f"127.0.0.1:{port}", *args],
                                env=fresh_home, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        started.append(proc)
        _wait_for("congvu serve to answer", lambda: proc.poll() is None and _healthy(port), 60)
        return proc, port

    yield start
    for proc in started:  # whatever a failed test left behind: the whole process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait(10)


def test_workers_share_the_port_the_tasks_worker_runs_once_and_sigterm_stops_all(
        serve: Start) -> None:
    proc, port = serve("--workers", "2", "--threads", "2")
    _wait_for("two server processes and one tasks process",
              lambda: [len(x) for x in _roles(proc.pid)] == [2, 1])
    servers, tasks = _roles(proc.pid)
    for _ in range(20):  # a new connection each time
        assert _healthy(port)
    # A server process that dies is replaced; the port answers meanwhile.
    os.kill(servers[0], signal.SIGKILL)
    assert _healthy(port)
    _wait_for("a replacement server process", lambda: len(_roles(proc.pid)[0]) == 2
              and servers[0] not in _roles(proc.pid)[0])
    assert _roles(proc.pid)[1] == tasks  # still the one tasks worker
    everyone = _roles(proc.pid)[0] + tasks
    proc.terminate()
    assert proc.wait(20) == 0
    assert not any(_alive(p) for p in everyone)
    assert not _healthy(port)


def test_one_process_by_default_with_the_tasks_worker_inside(
        serve: Start) -> None:
    proc, port = serve()
    assert _children(proc.pid) == {}
    proc.terminate()
    proc.wait(20)
    assert not _healthy(port)


def test_no_worker_means_no_tasks_process(
        serve: Start) -> None:
    proc, _port = serve("--workers", "2", "--no-worker")
    _wait_for("two server processes", lambda: len(_roles(proc.pid)[0]) == 2)
    assert _roles(proc.pid)[1] == []
    proc.terminate()
    assert proc.wait(20) == 0


def test_processes_end_when_serve_is_killed(
        serve: Start) -> None:
    proc, port = serve("--workers", "2")
    _wait_for("two server processes and one tasks process",
              lambda: [len(x) for x in _roles(proc.pid)] == [2, 1])
    servers, tasks = _roles(proc.pid)
    proc.kill()  # no chance to clean up: the children must notice on their own
    proc.wait(10)
    _wait_for("the orphaned processes to end",
              lambda: not any(_alive(p) for p in servers + tasks))
    assert not _healthy(port)
