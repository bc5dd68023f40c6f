"""The eOffice loop of the tasks worker: :func:`congvu.eoffice.due.run_due` (GL-10.7
review escalations, ND30-23 late registrations, missed assignment deadlines) about once
a minute, in a thread of its own so a slow round never delays a single sign-out or a
job. A failed round is logged and the next one tries again (``run_due`` is idempotent)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import close_old_connections

log = logging.getLogger("congvu.eoffice.worker")
INTERVAL = 60.0


def run_round() -> dict[str, Any]:
    """One round at the real time (the edge: the worker reads the clock)."""
    from congvu import clock
    from congvu.eoffice.due import run_due

    return run_due(clock.now())


def run_forever(stop: threading.Event, interval: float = INTERVAL) -> None:
    while not stop.is_set():
        close_old_connections()
        try:
            done = run_round()
            if any(done.values()):
                log.info("eOffice escalations: %s", done)
        except Exception:  # no deployment yet, a database hiccup: try again next round
            log.exception("eOffice escalation round failed")
        finally:
            close_old_connections()
        stop.wait(interval)


def start_thread(interval: float = INTERVAL) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop, interval),
                              name="congvu-eoffice", daemon=True)
    thread.start()
    return thread, stop
