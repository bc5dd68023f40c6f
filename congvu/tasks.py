"""The tasks worker (``congvu worker``, or a thread/child of ``congvu serve``): the SSO
outbox (back-channel logouts, session expiry) and the jobs queue, each in its own thread."""

from __future__ import annotations

import threading
from typing import Any


def start_threads() -> list[tuple[threading.Thread, threading.Event]]:
    from congvu.jobs.worker import start_thread as start_jobs
    from congvu.sso.outbox import start_thread as start_outbox

    return [start_outbox(), start_jobs()]


def run_forever(stop: threading.Event) -> None:
    """Until ``stop``: both loops; each finishes its round before returning."""
    threads = start_threads()
    stop.wait()
    for _thread, event in threads:
        event.set()
    for thread, _event in threads:
        thread.join(timeout=30)


def run_once() -> dict[str, Any]:
    """One round of everything (``congvu worker --once``, cron)."""
    from congvu.jobs.actions import run_pending
    from congvu.sso.outbox import run_once as run_outbox

    expired, delivered = run_outbox()
    return {"expired_sessions": expired, "logouts_delivered": delivered,
            "jobs_run": run_pending()}
