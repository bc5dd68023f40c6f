"""Delivering queued notices (``accounts.Notice``) through the deployment's own Postfix.
Durable: a notice stays queued until Postfix accepts it, retried with back-off."""

from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from django.db import close_old_connections, transaction
from django.db.models import Q

from congvu.accounts.models import Notice

MAX_BACKOFF = dt.timedelta(hours=1)


def deliver_pending(host: str, port: int, *, domain: str, now: dt.datetime,
                    limit: int = 100) -> int:
    """Send up to ``limit`` due notices; returns how many Postfix accepted."""
    sent = 0
    due = Notice.objects.filter(sent_at__isnull=True).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).order_by("id")[:limit]
    for notice in list(due):
        try:
            _send(host, port, domain, notice)
        except (OSError, smtplib.SMTPException) as exc:
            with transaction.atomic():
                attempts = notice.attempts + 1
                Notice.objects.filter(pk=notice.pk).update(
                    attempts=attempts, last_error=str(exc)[:500],
                    next_attempt_at=now + min(dt.timedelta(seconds=10 * 2 ** (attempts - 1)),
                                              MAX_BACKOFF))
            continue
        Notice.objects.filter(pk=notice.pk).update(sent_at=now, attempts=notice.attempts + 1,
                                                   last_error="")
        sent += 1
    return sent


def deliver_pending_in_worker(host: str, port: int, *, domain: str, now: dt.datetime) -> int:
    """``deliver_pending`` for a long-running worker thread: fresh database connections."""
    close_old_connections()
    try:
        return deliver_pending(host, port, domain=domain, now=now)
    finally:
        close_old_connections()


def _send(host: str, port: int, domain: str, notice: Notice) -> None:
    msg = EmailMessage()
    msg["From"] = f"congvu <postmaster@{domain}>"
    msg["To"] = ", ".join(notice.recipients.split(","))
    msg["Subject"] = notice.subject
    msg["Message-ID"] = make_msgid(idstring=f"notice{notice.pk}", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(notice.body)
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        refused = smtp.send_message(msg, from_addr=f"postmaster@{domain}",
                                    to_addrs=notice.recipients.split(","))
    if refused and len(refused) == len(notice.recipients.split(",")):
        raise smtplib.SMTPRecipientsRefused(refused)
