"""Exporting the audit log is itself an event of the log (who took a copy, of what)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet

from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.audit.models import AuditEvent
from congvu.audit.selectors import EventFilter, search


def do_export_events(*, actor: Actor, wanted: EventFilter, filters: dict[str, str],
                     domain: str, now: dt.datetime) -> QuerySet[AuditEvent]:
    """The events to export (operators only), after recording the export and its filters;
    the recording commits before the file is streamed."""
    actor.require_operator()
    with transaction.atomic():
        record(actor=actor, action="audit.export", at=now, target="audit",
               data={"filters": filters})
    return search(actor, wanted, domain).queryset()
