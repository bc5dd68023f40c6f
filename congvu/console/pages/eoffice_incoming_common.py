"""What the incoming-document pages share: how a document and an assignment are shown
(urgency and confidentiality as the official words, never by colour alone), and the
labels of the domain's choices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import TextChoices
from django.utils.translation import gettext as _

from congvu import clock
from congvu.console.views import local_date, local_time
from congvu.eoffice import rules
from congvu.eoffice.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    IncomingDocument,
    IncomingStatus,
)
from congvu.eoffice.worklists import is_overdue
from congvu.workdays import calendar_for

BASE = "/console/eoffice/incoming/"
WORK_FILES = "/console/eoffice/work-files/"
#: Rows per page of every list (house rule).
PAGE_SIZE = 50


def label(choices: type[TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def today(tz_profile: Any, now: dt.datetime) -> dt.date:
    """The local date (the profile's calendar) of ``now``: deadlines are dates."""
    return rules.local_date(calendar_for(tz_profile), now)


def type_label(doc: IncomingDocument) -> str:
    return doc.type_name or dict(rules.INCOMING_TYPE_CHOICES).get(doc.doc_type, doc.doc_type)


def number_label(doc: IncomingDocument) -> str:
    """The incoming number as the register prints it (``15/2026``), or ``#id`` while
    the document waits in the intake."""
    if doc.number is None:
        return f"#{doc.pk}"
    return f"{rules.number_digits(doc.number)}/{doc.year}"


def urgency_word(value: str) -> str:
    """Hỏa tốc, Thượng khẩn, Khẩn; empty for a normal document."""
    return rules.URGENCY_WORDS[value] if rules.is_urgent(value) else ""


def document_row(doc: IncomingDocument, tz: str, day: dt.date) -> dict[str, Any]:
    """One line of a list. A classified document's summary is shown only to those the
    selectors let read it (the lists come from them)."""
    done = doc.status == IncomingStatus.DONE
    return {
        "id": doc.pk, "url": f"{BASE}{doc.pk}/", "number": number_label(doc),
        "received_at": local_time(doc.received_at, tz),
        "registration_due_at": local_time(doc.registration_due_at, tz),
        "issuer": doc.issuer, "number_symbol": doc.number_symbol or "—",
        "document_date": local_date(doc.document_date), "type": type_label(doc),
        "summary": doc.summary, "urgency": urgency_word(doc.urgency),
        "urgency_key": doc.urgency,
        "secrecy": rules.CONFIDENTIALITY_WORDS[doc.confidentiality],
        "deadline": local_date(doc.deadline),
        "overdue": is_overdue(doc.deadline, day, done),
        "status": label(IncomingStatus, doc.status),
        "channel": label(Channel, doc.channel), "late": doc.registered_late,
    }


def assignment_row(a: Assignment, tz: str, day: dt.date) -> dict[str, Any]:
    doc = a.document
    row = document_row(doc, tz, day)
    target = a.to_department.name if a.to_department else ""
    row.update({
        "assignment_id": a.pk, "kind": label(rules.AssignmentKind, a.kind),
        "to": target, "directions": a.directions,
        "assignment_deadline": local_date(a.deadline),
        "assignment_overdue": is_overdue(a.deadline, day, a.status == AssignmentStatus.DONE),
        "assignment_status": label(AssignmentStatus, a.status),
        "assigned_at": local_time(a.assigned_at, tz), "from": who(a.from_label),
    })
    return row


ON_BEHALF = " on behalf of "


def who(label_text: str) -> str:
    """An audit actor label as people read it: the address without the ``self:`` of a
    holder acting themselves, a delegate's "X on behalf of Y" in the user's language."""
    if ON_BEHALF in label_text:
        actor, holder = label_text.split(ON_BEHALF, 1)
        return _("%(actor)s on behalf of %(holder)s") % {"actor": who(actor),
                                                         "holder": holder}
    return label_text.removeprefix("self:")


def now() -> dt.datetime:
    """The pages' clock (one place, so tests may replay a day)."""
    return clock.now()
