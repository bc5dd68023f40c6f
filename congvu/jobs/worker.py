"""The jobs loop of the tasks worker: a thread beside the SSO outbox's, so a long import
never delays a single sign-out."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from congvu.jobs.actions import run_next

log = logging.getLogger(__name__)


def run_forever(stop: threading.Event, interval: float = 1.0) -> None:
    while not stop.is_set():
        close_old_connections()
        try:
            ran = run_next()
        except Exception:  # a database hiccup must not stop the worker
            log.exception("jobs round failed")
            ran = None
        finally:
            close_old_connections()
        if ran is None:
            stop.wait(interval)


def start_thread() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop,), name="congvu-jobs",
                              daemon=True)
    thread.start()
    return thread, stop
