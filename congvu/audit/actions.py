"""Writing to the audit log. Called inside the same transaction as the change it records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from congvu.actors import Actor
from congvu.audit.models import AuditEvent


def record(
    *,
    actor: Actor,
    action: str,
    at: dt.datetime,
    target: str = "",
    rule: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (who, when, what, rule ID, why)."""
    return AuditEvent.objects.create(
        at=at, actor=actor.label, action=action, target=target, rule=rule, reason=reason,
        data=data or {},
    )


def record_many(events: Iterable[AuditEvent], batch_size: int = 2000) -> None:
    """Append many prepared events at once (the lifecycle sweep)."""
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)
