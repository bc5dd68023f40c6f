"""The tasks worker (``congvu worker``, or a thread/child of ``congvu serve``): the SSO
outbox (back-channel logouts, session expiry), the jobs queue and the eOffice's
escalations (``eoffice.due.run_due``), each in its own thread.

The eOffice's mail outbox is delivered by the mail daemon (like the account notices: it
is the process that knows where Postfix listens); ``run_once`` reports its queue so an
operator sees stuck mail (``congvu worker --once --json``: ``eoffice_mail``)."""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("congvu.tasks")


def start_threads() -> list[tuple[threading.Thread, threading.Event]]:
    from congvu.eoffice.worker import start_thread as start_eoffice
    from congvu.jobs.worker import start_thread as start_jobs
    from congvu.sso.outbox import start_thread as start_outbox

    return [start_outbox(), start_jobs(), start_eoffice()]


def run_forever(stop: threading.Event) -> None:
    """Until ``stop``: every loop; each finishes its round before returning."""
    threads = start_threads()
    stop.wait()
    for _thread, event in threads:
        event.set()
    for thread, _event in threads:
        thread.join(timeout=30)


def run_once() -> dict[str, Any]:
    """One round of everything (``congvu worker --once``, cron)."""
    from congvu.eoffice.outbox import queue_status
    from congvu.eoffice.worker import run_round
    from congvu.jobs.actions import run_pending
    from congvu.sso.outbox import run_once as run_outbox

    expired, delivered = run_outbox()
    done: dict[str, Any] = {"expired_sessions": expired, "logouts_delivered": delivered,
                            "jobs_run": run_pending()}
    try:
        done["eoffice_escalations"] = run_round()
    except Exception as exc:  # the other rounds' results still count
        log.exception("eOffice escalation round failed")
        done["eoffice_escalations"] = {"error": str(exc)}
    done["eoffice_mail"] = queue_status().as_dict()
    return done
