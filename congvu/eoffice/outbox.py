"""Delivering the eOffice's mail outbox (``eoffice.MailOutbox``) through the deployment's
own Postfix, exactly as :mod:`congvu.mail.outbox` delivers the account notices: run by
the mail daemon (``congvu mail up`` starts it with ``--smtp``, the Postfix it hands mail
to), durable (a row stays queued until Postfix accepts it), retried with back-off, the
reason kept in ``last_error``.

- An issued document (KH-7) goes with its PDF attached under its original file name and
  its summary as the subject; Vietnamese headers are RFC 2047-encoded, the body UTF-8.
- From: the agency's official mailbox when it has one (an active agency account of that
  agency), else the deployment's notices address (``postmaster@<domain>``, as the
  account notices); the envelope sender is the same address, so bounces reach it.
- KH-8.3: a row about a classified document is never sent. The domain never writes one
  with its file; the sender checks again and marks the row refused (``last_error``
  names the rule, ``next_attempt_at`` = :data:`REFUSED`, never due again) instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid

from django.db import close_old_connections, transaction
from django.db.models import Q

from congvu.accounts.models import Account, AccountKind, AccountState
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.eoffice import files, rules
from congvu.eoffice.models import MailOutbox
from congvu.errors import CongvuError

log = logging.getLogger("congvu.eoffice.outbox")
SENDER = Actor(kind="system", label="system:eoffice-mail")
MAX_BACKOFF = dt.timedelta(hours=1)
#: ``next_attempt_at`` of a row the sender refused for good (KH-8.3): never due.
REFUSED = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
TIMEOUT = 30.0


class Refused(Exception):
    """This row must not be sent at all (not a delivery failure to retry)."""


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=10 * 2 ** (attempts - 1)), MAX_BACKOFF)


def _due(now: dt.datetime) -> Q:
    return Q(sent_at__isnull=True) & (Q(next_attempt_at__isnull=True)
                                      | Q(next_attempt_at__lte=now))


def deliver_pending(host: str, port: int, *, domain: str, now: dt.datetime,
                    limit: int = 50) -> int:
    """Send up to ``limit`` due rows; returns how many Postfix accepted."""
    sent = 0
    rows = (MailOutbox.objects.filter(_due(now))
            .select_related("attachment", "incoming", "outgoing").order_by("id")[:limit])
    for row in list(rows):
        try:
            message, sender, recipients = compose(row, domain=domain)
            _send(host, port, message, sender, recipients)
        except Refused as exc:
            _refuse(row, str(exc), now)
            continue
        except (OSError, smtplib.SMTPException) as exc:
            attempts = row.attempts + 1
            MailOutbox.objects.filter(pk=row.pk).update(
                attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:500],
                next_attempt_at=now + _backoff(attempts))
            log.warning("eOffice mail #%d not accepted (attempt %d): %s", row.pk, attempts,
                        exc)
            continue
        MailOutbox.objects.filter(pk=row.pk).update(sent_at=now, attempts=row.attempts + 1,
                                                    last_error="")
        sent += 1
    return sent


def deliver_pending_in_worker(host: str, port: int, *, domain: str, now: dt.datetime) -> int:
    """``deliver_pending`` for a long-running loop: fresh database connections."""
    close_old_connections()
    try:
        return deliver_pending(host, port, domain=domain, now=now)
    finally:
        close_old_connections()


def _refuse(row: MailOutbox, reason: str, now: dt.datetime) -> None:
    with transaction.atomic():
        MailOutbox.objects.filter(pk=row.pk).update(
            attempts=row.attempts + 1, last_error=reason[:500], next_attempt_at=REFUSED)
        target = (row.outgoing.target if row.outgoing else
                  row.incoming.target if row.incoming else f"mail:{row.pk}")
        record(actor=SENDER, action="eoffice.mail_refused", at=now, target=target,
               rule=rules.RULE_NO_SECRET_MAIL, reason=reason, data={"mail": row.pk})
    log.error("eOffice mail #%d refused: %s", row.pk, reason)


def _classified(row: MailOutbox) -> bool:
    docs = [d for d in (row.outgoing, row.incoming) if d is not None]
    if row.attachment is not None:
        version = row.attachment
        docs += [d for d in (version.outgoing, version.incoming) if d is not None]
    return any(rules.is_classified(d.confidentiality) for d in docs)


def official_sender(agency_id: int | None, domain: str) -> tuple[str, str]:
    """(display name, address): the agency's official mailbox when it has one, else the
    deployment's notices address."""
    if agency_id is not None:
        box = (Account.objects.filter(kind=AccountKind.AGENCY, agency_id=agency_id,
                                      state=AccountState.ACTIVE)
               .select_related("agency").order_by("created_at", "id").first())
        if box is not None and box.agency is not None:
            return box.agency.name, box.address
    return "congvu", f"postmaster@{domain}"


def compose(row: MailOutbox, *, domain: str) -> tuple[Message, str, list[str]]:
    """The message of a row, its envelope sender and recipients; :class:`Refused` for a
    row that must never be sent (KH-8.3, or a file that no longer matches its hash).

    Built with the legacy (compat32) API on purpose: Python 3.11's default policy drops
    the space between two RFC 2047 words when it folds a long Vietnamese subject
    ("quản lý" arrives as "quảnlý"); ``Header`` folds inside the encoded words."""
    if _classified(row):
        raise Refused("KH-8.3: a classified document is never sent by e-mail; the row was "
                      "not sent.")
    recipients = [a.strip() for a in row.recipients.split(",") if a.strip()]
    if not recipients:
        raise Refused("no recipients")
    doc = row.outgoing or row.incoming
    name, sender = official_sender(doc.agency_id if doc else None, domain)
    text = MIMEText(row.body, "plain", "utf-8")
    msg: Message
    if row.attachment is None:
        msg = text
    else:
        msg = MIMEMultipart()
        msg.attach(text)
        msg.attach(_attachment(row))
    msg["From"] = formataddr((name, sender), charset="utf-8")
    msg["To"] = ", ".join(recipients)
    # KH-7: the summary (Header: Message.__setitem__ takes it, typeshed says str only).
    msg["Subject"] = Header(" ".join(row.subject.split()), "utf-8")  # type: ignore[assignment]
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = make_msgid(idstring=f"eoffice{row.pk}", domain=domain)
    if row.attachment is None:
        msg["Auto-Submitted"] = "auto-generated"  # a notice, not a document
    return msg, sender, recipients


def _attachment(row: MailOutbox) -> MIMEApplication:
    version = row.attachment
    assert version is not None
    try:
        content = files.read(version.path, version.sha256)
    except OSError as exc:  # retried: the file system may come back
        raise OSError(f"the attachment cannot be read: {exc}") from exc
    except CongvuError as exc:  # a checksum mismatch: never send another file
        raise Refused(exc.message) from exc
    _main, _sep, subtype = (version.mime or "application/pdf").partition("/")
    part = MIMEApplication(content, subtype or "octet-stream")
    filename = version.original_name or f"van-ban-{version.pk}.pdf"
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return part


def _send(host: str, port: int, msg: Message, sender: str,
          recipients: list[str]) -> None:
    with smtplib.SMTP(host, port, timeout=TIMEOUT) as smtp:
        refused = smtp.send_message(msg, from_addr=sender, to_addrs=recipients)
    if refused and len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)


@dataclass(frozen=True)
class QueueStatus:
    """What an operator needs to see of the outbox: how many wait, how many failed at
    least once and are still retried, how many were refused for good, and the oldest
    failing row's error."""

    queued: int
    failing: int
    refused: int
    oldest_error: str

    def as_dict(self) -> dict[str, object]:
        return {"queued": self.queued, "failing": self.failing, "refused": self.refused,
                "oldest_error": self.oldest_error}


def queue_status() -> QueueStatus:
    waiting = MailOutbox.objects.filter(sent_at__isnull=True)
    live = waiting.exclude(next_attempt_at=REFUSED)
    failing = live.filter(attempts__gt=0)
    oldest = failing.order_by("id").values_list("id", "last_error").first()
    return QueueStatus(queued=live.count(), failing=failing.count(),
                       refused=waiting.filter(next_attempt_at=REFUSED).count(),
                       oldest_error=f"#{oldest[0]}: {oldest[1]}" if oldest else "")
