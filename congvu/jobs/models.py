"""One piece of long work: what to do (``kind`` + ``params`` + an optional uploaded
``source``), who asked (their rights are checked again when it runs), how far it got, and
what it produced (a file to download and/or a JSON summary)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    kind = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    source = models.BinaryField(default=b"")
    source_name = models.CharField(max_length=255, blank=True, default="")
    account = models.ForeignKey("accounts.Account", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    actor = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=JobStatus.choices,
                              default=JobStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True, default="")
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True, default="")
    result = models.BinaryField(default=b"")
    result_name = models.CharField(max_length=255, blank=True, default="")
    result_type = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
