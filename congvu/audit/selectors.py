"""Reading the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from congvu.audit.models import AuditEvent


def events(
    *, target: str = "", rule: str = "", action: str = "", limit: int | None = None
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if target:
        qs = qs.filter(target__iexact=target)
    if rule:
        qs = qs.filter(rule=rule)
    if action:
        qs = qs.filter(action=action)
    if limit:
        # The newest N, still listed oldest first.
        ids = list(qs.order_by("-id").values_list("id", flat=True)[:limit])
        qs = AuditEvent.objects.filter(id__in=ids)
    return qs.order_by("id")
