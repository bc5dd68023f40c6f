"""Delivering back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0) from
the durable outbox, and ending expired sessions. Run by ``congvu worker`` and by a
thread of ``congvu serve`` (the embedded default). A delivery is retried with back-off
until the client answers 2xx; every outcome is logged and audited."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import requests
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.sso import throttle
from congvu.sso.actions import do_expire_sessions, logout_token
from congvu.sso.models import LogoutDelivery

log = logging.getLogger("congvu.sso.outbox")
WORKER = Actor(kind="system", label="system:sso-outbox")
MAX_BACKOFF = dt.timedelta(hours=1)
#: About three days of hourly attempts before an operator must look.
MAX_ATTEMPTS = 80
TIMEOUT = 10.0


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=5 * 2 ** (attempts - 1)), MAX_BACKOFF)


def _claim(now: dt.datetime, limit: int) -> list[LogoutDelivery]:
    """Due deliveries; on PostgreSQL several workers share the queue (SKIP LOCKED)."""
    with transaction.atomic():
        qs = (LogoutDelivery.objects.filter(delivered_at__isnull=True, given_up_at__isnull=True,
                                            next_attempt_at__lte=now)
              .select_related("session__account", "application").order_by("id"))
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs[:limit])
        # Hold them for a while so another worker does not post the same token.
        LogoutDelivery.objects.filter(id__in=[r.id for r in rows]).update(
            next_attempt_at=now + dt.timedelta(seconds=TIMEOUT * 3))
    return rows


def _post(delivery: LogoutDelivery, token: str) -> str:
    """'' on success, else the reason."""
    try:
        resp = requests.post(delivery.uri, data={"logout_token": token}, timeout=TIMEOUT,
                             allow_redirects=False,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= resp.status_code < 300:
        return ""
    return f"HTTP {resp.status_code}: {resp.text[:200]}"


def deliver_due(*, now: dt.datetime, limit: int = 50) -> int:
    """Post due logout tokens; returns how many clients acknowledged."""
    done = 0
    for delivery in _claim(now, limit):
        token = logout_token(delivery, now)
        error = _post(delivery, token)
        attempts = delivery.attempts + 1
        address = delivery.session.account.address
        with transaction.atomic():
            if not error:
                LogoutDelivery.objects.filter(pk=delivery.pk).update(
                    attempts=attempts, delivered_at=now, logout_token=token, last_error="")
                record(actor=WORKER, action="sso.logout_delivered", at=now, target=address,
                       data={"client": delivery.client_name, "sid": delivery.session.sid,
                             "attempts": attempts})
                log.info("back-channel logout delivered to %s (%s)", delivery.client_name,
                         delivery.uri)
                done += 1
                continue
            give_up = attempts >= MAX_ATTEMPTS
            LogoutDelivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts, last_error=error, logout_token=token,
                next_attempt_at=now + _backoff(attempts),
                given_up_at=now if give_up else None)
            if give_up or attempts == 1:
                record(actor=WORKER, action="sso.logout_failed", at=now, target=address,
                       reason=error, data={"client": delivery.client_name, "uri": delivery.uri,
                                           "attempts": attempts, "given_up": give_up})
        log.warning("back-channel logout to %s (%s) failed, attempt %d: %s",
                    delivery.client_name, delivery.uri, attempts, error)
    return done


def run_once(now: dt.datetime | None = None) -> tuple[int, int]:
    """One round: end expired sessions, then deliver; forget stale sign-in failures.
    Returns (expired, delivered)."""
    now = now or timezone.now()
    expired = do_expire_sessions(now=now)
    delivered = deliver_due(now=now)
    throttle.forget_old(now.timestamp())
    return expired, delivered


def run_forever(stop: threading.Event, interval: float = 1.0) -> None:
    """The worker loop (a thread of ``serve`` or ``congvu worker``)."""
    while not stop.is_set():
        close_old_connections()
        try:
            run_once()
        except Exception:  # a bad row or a database hiccup must not stop single sign-out
            log.exception("sso outbox round failed")
        finally:
            close_old_connections()
        stop.wait(interval)


def start_thread() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop,), name="congvu-sso-outbox",
                              daemon=True)
    thread.start()
    return thread, stop
