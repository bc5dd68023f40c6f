"""What the outgoing-document pages share: a document's status, type and row as people
read them, and the GL-10.7 deadline in words."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from congvu.console.views import local_date, local_time
from congvu.eoffice import drafting, rules
from congvu.eoffice.models import OutgoingDocument, OutgoingStatus
from congvu.errors import CongvuError


def status_label(doc: OutgoingDocument) -> str:
    """The status as people say it; under review, with whom."""
    label = str(OutgoingStatus(doc.status).label)
    if doc.status == OutgoingStatus.UNDER_REVIEW and doc.stage:
        who = (_("head of department") if doc.stage == "department"
               else _("director"))
        return f"{label} ({who})"  # nothing to translate in the punctuation
    return label


def who(label: str) -> str:
    """An audit-style actor label as people read it: ``self:an@…`` is just the address."""
    return label.replace("self:", "")


def type_name(key: str) -> str:
    try:
        return rules.doc_type(key).name
    except CongvuError:
        return key


def row(doc: OutgoingDocument, tz: str) -> dict[str, Any]:
    return {"id": doc.pk, "number": doc.number_text.removeprefix("Số: ") or "—",
            "type": type_name(doc.doc_type), "summary": doc.summary,
            "drafter": who(doc.drafter_label), "status": status_label(doc),
            "status_key": doc.status,
            "urgency": rules.URGENCY_WORDS[doc.urgency] if rules.is_urgent(doc.urgency) else "",
            "secrecy": rules.CONFIDENTIALITY_WORDS[doc.confidentiality],
            "created": local_time(doc.created_at, tz),
            "document_date": local_date(doc.document_date)}


def due_text(due: drafting.Due) -> str:
    """GL-10.7 in words: "còn 2 ngày làm việc", "đến hạn hôm nay", "quá hạn 1 ngày làm việc"."""
    if due.overdue:
        return _("overdue by %(n)d working day(s)") % {"n": due.days}
    if due.days == 0:
        return _("due today")
    return _("%(n)d working day(s) left") % {"n": due.days}
