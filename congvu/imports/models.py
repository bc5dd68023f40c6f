"""An import of persons (one uploaded file) and its rows, as checked by the preview.

A row keeps the cells as they were written (so the write step re-checks exactly what the
preview showed) and the preview's verdict: the address it would get and the rule that
made it, or its errors. The one-time passwords of the accounts an import created are
kept only until they are downloaded once, sealed with the deployment's secret key.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking the file")
    FAILED = "failed", _("The file cannot be read")
    READY = "ready", _("Checked: waiting for confirmation")
    WRITING = "writing", _("Creating the accounts")
    STALE = "stale", _("Out of date: check it again")
    DONE = "done", _("Done: accounts created")
    CANCELLED = "cancelled", _("Cancelled")


class ImportMode(models.TextChoices):
    ALL = "all", _("Every row")
    VALID = "valid", _("Only the rows without errors")


class PersonImport(models.Model):
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=8)
    status = models.CharField(max_length=16, choices=ImportStatus.choices,
                              default=ImportStatus.CHECKING, db_index=True)
    error = models.TextField(blank=True, default="")
    #: Header columns the file had that the import does not use (shown, never guessed).
    ignored_columns = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    note_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    mode = models.CharField(max_length=8, choices=ImportMode.choices, blank=True, default="")

    created_by = models.ForeignKey("accounts.Account", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    checked_at = models.DateTimeField(null=True, blank=True)
    confirmed_by_label = models.CharField(max_length=200, blank=True, default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    check_job = models.ForeignKey("jobs.Job", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    write_job = models.ForeignKey("jobs.Job", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    #: The one-time passwords file, sealed (Fernet); emptied by its one download.
    passwords_sealed = models.BinaryField(default=b"")
    passwords_name = models.CharField(max_length=255, blank=True, default="")
    #: Who may download it: the operator who confirmed the import (they hand it over).
    passwords_for = models.ForeignKey("accounts.Account", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    passwords_expire_at = models.DateTimeField(null=True, blank=True)
    passwords_taken_at = models.DateTimeField(null=True, blank=True)
    passwords_taken_by = models.CharField(max_length=200, blank=True, default="")
    passwords_expired = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"import #{self.pk} {self.file_name} ({self.status})"

    @property
    def target(self) -> str:
        """How the audit log names this import."""
        return f"import:{self.pk}"

    @property
    def passwords_waiting(self) -> bool:
        return bool(self.passwords_name) and self.passwords_taken_at is None \
            and not self.passwords_expired


class ImportRow(models.Model):
    """One person of the file. ``line`` is the row's number in the spreadsheet (the header
    row counts, as Excel numbers them), so an error points to the cell to fix."""

    batch = models.ForeignKey(PersonImport, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    full_name = models.CharField(max_length=300, blank=True, default="")
    agency = models.CharField(max_length=300, blank=True, default="")
    department = models.CharField(max_length=300, blank=True, default="")
    position = models.CharField(max_length=300, blank=True, default="")
    birth_date = models.CharField(max_length=64, blank=True, default="")
    leader = models.CharField(max_length=32, blank=True, default="")
    old_address = models.CharField(max_length=320, blank=True, default="")
    wanted_address = models.CharField(max_length=320, blank=True, default="")

    #: The preview's verdict.
    local_part = models.CharField(max_length=64, blank=True, default="")
    address = models.CharField(max_length=320, blank=True, default="")
    rule = models.CharField(max_length=32, blank=True, default="")
    candidates = models.JSONField(default=list)
    agency_name = models.CharField(max_length=300, blank=True, default="")
    errors = models.JSONField(default=list)
    notes = models.JSONField(default=list)
    has_errors = models.BooleanField(default=False)
    has_notes = models.BooleanField(default=False)

    class Meta:
        ordering = ["line"]
        indexes = [
            # The preview lists errors first, then in file order, a page at a time.
            models.Index(fields=["batch", "has_errors", "line"], name="import_row_errors"),
            models.Index(fields=["batch", "line"], name="import_row_line"),
        ]

    def __str__(self) -> str:
        return f"import #{self.batch_id} line {self.line}: {self.full_name}"
