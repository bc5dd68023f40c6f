"""The append-only audit log: who did what, when, under which rule, and why."""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditEvent(models.Model):
    """One state change or operator action. Rows are never updated or deleted.

    The database enforces this too (triggers in migration 0002), so not even a bug in
    congvu can rewrite history.
    """

    at = models.DateTimeField(db_index=True, help_text="When it happened (the injected 'now').")
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=320, blank=True, db_index=True)
    rule = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        # The console's filters, newest first, on a log of millions (audit.selectors).
        indexes = [
            models.Index(fields=["at", "id"], name="audit_at_id"),
            models.Index(fields=["action", "at", "id"], name="audit_action_at"),
            models.Index(fields=["target", "at", "id"], name="audit_target_at"),
            models.Index(fields=["actor", "at", "id"], name="audit_actor_at"),
            models.Index(fields=["rule", "at", "id"], name="audit_rule_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target} {self.rule}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("The audit log is append-only.")
