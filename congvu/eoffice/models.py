"""The eOffice's data: roles, incoming and outgoing documents with their versions,
assignments, review rounds, work files, links, registers (numbering), delegations,
notices and the mail outbox. See README.md for the state machines and authorisation.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from congvu.accounts.models import Account
from congvu.directory.models import Agency
from congvu.eoffice.rules import (
    INCOMING_TYPE_CHOICES,
    TYPE_CHOICES,
    AssignmentKind,
    Confidentiality,
    Series,
    Urgency,
)


class OfficeRole(models.TextChoices):
    """GL-12..15: chuyên viên, lãnh đạo phòng, văn thư, lãnh đạo Sở (giám đốc, phó)."""

    DIRECTOR = "director", gettext_lazy("Director")
    DEPUTY_DIRECTOR = "deputy_director", gettext_lazy("Deputy director")
    DEPARTMENT_HEAD = "department_head", gettext_lazy("Head of department")
    SPECIALIST = "specialist", gettext_lazy("Specialist")
    CLERK = "clerk", gettext_lazy("Clerk")


#: The agency's leaders (lãnh đạo Sở): they distribute, approve, approve delegations.
LEADERS = (OfficeRole.DIRECTOR, OfficeRole.DEPUTY_DIRECTOR)


class OfficeRoleGrant(models.Model):
    """A person's eOffice role in one agency (cơ quan); department heads and specialists
    belong to a department (an Agency unit under that agency). One account may hold
    several (a head of department who is also the agency's clerk)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="office_roles")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=OfficeRole.choices)
    department = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    granted_at = models.DateTimeField()
    granted_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["agency_id", "role", "account_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "agency", "role"],
                                    condition=Q(department__isnull=True),
                                    name="eoffice_role_unique"),
            models.UniqueConstraint(fields=["account", "agency", "role", "department"],
                                    condition=Q(department__isnull=False),
                                    name="eoffice_role_dept_unique"),
            models.CheckConstraint(condition=~Q(role="department_head", department__isnull=True),
                                   name="eoffice_head_has_department"),
        ]
        indexes = [models.Index(fields=["agency", "role"], name="eoffice_role_agency")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.role} @ {self.agency_id}/{self.department_id}"


class AgencySymbol(models.Model):
    """The abbreviation an agency or unit uses in document symbols (``STTTT``, ``VP``);
    without one, the agency's own abbreviation in capitals."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="+")
    symbol = models.CharField(max_length=20)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.symbol


class Register(models.Model):
    """A register (sổ đăng ký) of one agency, one year and one series; ``last_number`` is
    its counter, taken under a row lock in the transaction that records the number, so
    numbers are gapless and never repeat (README "Numbering")."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    series = models.CharField(max_length=16, choices=Series.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "year", "series"],
                                               name="eoffice_register_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.year}/{self.series}: {self.last_number}"


_M = TypeVar("_M", bound=models.Model)


class WithoutBodies(models.Manager[_M]):
    """Documents load without their PDF's text (``body_text``, ``body_key``: up to
    200,000 characters each) unless asked: lists and registers never show it; the
    search reads it for its page's snippets only. A deferred field is left alone by
    ``save()``."""

    def get_queryset(self) -> models.QuerySet[_M]:
        return super().get_queryset().defer("body_text", "body_key")


class Channel(models.TextChoices):
    PAPER = "paper", gettext_lazy("Paper (scanned)")
    EMAIL = "email", gettext_lazy("Official e-mail")
    EXCHANGE = "exchange", gettext_lazy("Inter-agency exchange")


class IncomingStatus(models.TextChoices):
    RECEIVED = "received", gettext_lazy("Received, not yet registered")
    REGISTERED = "registered", gettext_lazy("Registered, awaiting distribution")
    ASSIGNED = "assigned", gettext_lazy("Being handled")
    DONE = "done", gettext_lazy("Handled")


class IncomingDocument(models.Model):
    """Văn bản đến (GL-9) with the Decree 30 registration fields; ``number`` is the
    incoming number (số đến), consecutive per agency and year."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=IncomingStatus.choices,
                              default=IncomingStatus.RECEIVED)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PAPER)

    received_at = models.DateTimeField()
    registration_due_at = models.DateTimeField()
    registered_at = models.DateTimeField(null=True, blank=True)
    registered_late = models.BooleanField(default=False)
    registered_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    registered_by_label = models.CharField(max_length=200, blank=True)

    issuer = models.CharField(max_length=255)
    issuer_key = models.CharField(max_length=255)
    number_symbol = models.CharField(max_length=64, blank=True)
    number_symbol_key = models.CharField(max_length=64, blank=True)
    document_date = models.DateField(null=True, blank=True)
    doc_type = models.CharField(max_length=16, choices=INCOMING_TYPE_CHOICES)
    type_name = models.CharField(max_length=100, blank=True)
    summary = models.TextField()
    signer = models.CharField(max_length=255, blank=True)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = models.CharField(max_length=16, choices=Confidentiality.choices,
                                       default=Confidentiality.NONE)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    field = models.CharField(max_length=120, blank=True)
    #: Folded (no tone marks) summary, issuer and number for the search.
    search_text = models.TextField(blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    #: The text of its latest PDF (``pdftotext``; empty for a scan without text) for the
    #: snippets, and folded for the full-text index (:mod:`congvu.eoffice.fulltext`).
    body_text = models.TextField(blank=True, default="")
    body_key = models.TextField(blank=True, default="")

    objects = WithoutBodies["IncomingDocument"]()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "year", "number"],
                                    condition=Q(number__isnull=False),
                                    name="eoffice_incoming_number_unique"),
        ]
        indexes = [
            # Newest first with the id as tie-break, so the search's walk stops early.
            models.Index(fields=["agency", "received_at", "id"], name="eoffice_in_received_id"),
            models.Index(fields=["agency", "status"], name="eoffice_in_status"),
            # A register filtered by type, urgency or classification: its page is found
            # in number order even when the filter matches few rows (or none) in a year.
            models.Index(fields=["agency", "year", "doc_type", "number"],
                         name="eoffice_in_reg_type"),
            models.Index(fields=["agency", "year", "urgency", "number"], name="eoffice_in_reg_urg",
                         condition=~Q(urgency="normal")),
            models.Index(fields=["agency", "year", "confidentiality", "number"],
                         name="eoffice_in_reg_conf", condition=~Q(confidentiality="none")),
            models.Index(fields=["agency", "number_symbol_key"], name="eoffice_in_dup"),
            models.Index(fields=["status", "registration_due_at"], name="eoffice_in_due"),
        ]

    def __str__(self) -> str:
        return f"incoming {self.number}/{self.year} {self.number_symbol}"

    @property
    def target(self) -> str:
        return f"incoming:{self.pk}"


class OutgoingStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Draft")
    UNDER_REVIEW = "under_review", gettext_lazy("Under review")
    RETURNED = "returned", gettext_lazy("Returned for changes")
    APPROVED = "approved", gettext_lazy("Approved, awaiting number")
    NUMBERED = "numbered", gettext_lazy("Numbered, awaiting issue")
    ISSUED = "issued", gettext_lazy("Issued")


class ReviewStage(models.TextChoices):
    DEPARTMENT = "department", gettext_lazy("Head of department")
    DIRECTOR = "director", gettext_lazy("Director")


class OutgoingDocument(models.Model):
    """Văn bản đi (GL-10): drafted by a specialist, reviewed round by round, numbered by
    the clerk in a register, issued."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    #: The drafting and submitting unit (đơn vị trình / soạn thảo).
    department = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    drafter = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    drafter_label = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=OutgoingStatus.choices,
                              default=OutgoingStatus.DRAFT)
    stage = models.CharField(max_length=16, choices=ReviewStage.choices, blank=True)

    doc_type = models.CharField(max_length=16, choices=TYPE_CHOICES)
    normative = models.BooleanField(default=False)
    field = models.CharField(max_length=120, blank=True)
    summary = models.TextField()
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = models.CharField(max_length=16, choices=Confidentiality.choices,
                                       default=Confidentiality.NONE)
    deadline = models.DateField(null=True, blank=True)
    signer = models.CharField(max_length=255, blank=True)
    #: Nơi nhận as printed on the document.
    recipients_text = models.TextField(blank=True)
    copies = models.PositiveSmallIntegerField(default=1)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    search_text = models.TextField(blank=True)
    #: As on :class:`IncomingDocument`: its latest PDF's text, as extracted and folded.
    body_text = models.TextField(blank=True, default="")
    body_key = models.TextField(blank=True, default="")
    #: The task (an incoming document's assignment) it was drafted for, if any.
    task = models.ForeignKey("Assignment", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="drafts")
    created_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by_label = models.CharField(max_length=200, blank=True)

    series = models.CharField(max_length=16, choices=Series.choices, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    number_text = models.CharField(max_length=80, blank=True)
    document_date = models.DateField(null=True, blank=True)
    numbered_at = models.DateTimeField(null=True, blank=True)
    numbered_by_label = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by_label = models.CharField(max_length=200, blank=True)

    objects = WithoutBodies["OutgoingDocument"]()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "year", "series", "number"],
                                    condition=Q(number__isnull=False),
                                    name="eoffice_outgoing_number_unique"),
        ]
        indexes = [
            models.Index(fields=["agency", "status"], name="eoffice_out_status"),
            models.Index(fields=["agency", "document_date"], name="eoffice_out_date"),
            models.Index(fields=["drafter", "status"], name="eoffice_out_drafter"),
            # The search lists an agency's outgoing documents newest first (the id breaks
            # ties, so the walk stops early).
            models.Index(fields=["agency", "created_at", "id"], name="eoffice_out_created_id"),
            # A register filtered by type or urgency (see the incoming ones).
            models.Index(fields=["agency", "year", "series", "doc_type", "number"],
                         name="eoffice_out_reg_type"),
            models.Index(fields=["agency", "year", "series", "urgency", "number"],
                         name="eoffice_out_reg_urg", condition=~Q(urgency="normal")),
        ]

    def __str__(self) -> str:
        return f"outgoing #{self.pk} {self.number_text or self.status}"

    @property
    def target(self) -> str:
        return f"outgoing:{self.pk}"


class Mark(models.TextChoices):
    """GL-10.8: a department head marks edits in blue, the director in red."""

    NONE = "", gettext_lazy("None")
    BLUE = "blue", gettext_lazy("Blue (head of department)")
    RED = "red", gettext_lazy("Red (director)")


class DocumentVersion(models.Model):
    """One file of a document: an incoming document's scan or original, or a round of an
    outgoing draft (every round is a new version, GL-10.8). Stored content-addressed
    (:mod:`congvu.eoffice.files`)."""

    incoming = models.ForeignKey(IncomingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="versions")
    outgoing = models.ForeignKey(OutgoingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    path = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    mime = models.CharField(max_length=100)
    original_name = models.CharField(max_length=255)
    note = models.TextField(blank=True)
    mark = models.CharField(max_length=8, choices=Mark.choices, blank=True)
    review_round = models.ForeignKey("ReviewRound", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(incoming__isnull=False) & Q(outgoing__isnull=True))
                | (Q(incoming__isnull=True) & Q(outgoing__isnull=False)),
                name="eoffice_version_one_document"),
            models.UniqueConstraint(fields=["incoming", "number"],
                                    condition=Q(incoming__isnull=False),
                                    name="eoffice_version_in_unique"),
            models.UniqueConstraint(fields=["outgoing", "number"],
                                    condition=Q(outgoing__isnull=False),
                                    name="eoffice_version_out_unique"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.original_name}"


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Not started")
    IN_PROGRESS = "in_progress", gettext_lazy("In progress")
    PASSED_ON = "passed_on", gettext_lazy("Passed on")
    DONE = "done", gettext_lazy("Done")


class Assignment(models.Model):
    """One recipient of a distribution of an incoming document: a department or a person,
    lead / coordinating / for information / handling, with directions (ý kiến chỉ đạo)
    and a deadline (GL-9.3..9.5). ``parent`` is the assignment it was passed on from."""

    document = models.ForeignKey(IncomingDocument, on_delete=models.CASCADE,
                                 related_name="assignments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    kind = models.CharField(max_length=16, choices=AssignmentKind.choices)
    to_department = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    to_account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    directions = models.TextField(blank=True)
    deadline = models.DateField(null=True, blank=True)
    from_account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    from_label = models.CharField(max_length=200)
    on_behalf_of = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.PENDING)
    assigned_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(to_department__isnull=False) & Q(to_account__isnull=True))
                | (Q(to_department__isnull=True) & Q(to_account__isnull=False)),
                name="eoffice_assignment_one_target"),
        ]
        indexes = [
            models.Index(fields=["to_account", "status"], name="eoffice_asg_account"),
            models.Index(fields=["to_department", "status"], name="eoffice_asg_dept"),
            models.Index(fields=["status", "deadline"], name="eoffice_asg_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.to_department_id or self.to_account_id}"

    @property
    def target(self) -> str:
        return f"incoming:{self.document_id}/assignment:{self.pk}"


class ProgressNote(models.Model):
    """The handler's progress on an assignment (tiến độ), kept in order."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="notes")
    at = models.DateTimeField()
    by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    by_label = models.CharField(max_length=200)
    text = models.TextField()
    percent = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:60]


class Decision(models.TextChoices):
    FORWARDED = "forwarded", gettext_lazy("Forwarded to the director")
    RETURNED = "returned", gettext_lazy("Returned")
    APPROVED = "approved", gettext_lazy("Approved")


class ReviewRound(models.Model):
    """One reviewer's turn on a draft (GL-10.2..10.4): the version under review, the
    comments (GL-10.8), the decision, and the reviewer's deadline (GL-10.7)."""

    outgoing = models.ForeignKey(OutgoingDocument, on_delete=models.CASCADE,
                                 related_name="rounds")
    number = models.PositiveSmallIntegerField()
    stage = models.CharField(max_length=16, choices=ReviewStage.choices)
    department = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    submitted_by_label = models.CharField(max_length=200)
    due_at = models.DateTimeField()
    due_rule = models.CharField(max_length=32, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_by_label = models.CharField(max_length=200, blank=True)
    on_behalf_of = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    #: GL-10.8: a head of department records where they and the drafter disagree.
    disagreement = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["outgoing", "number"],
                                               name="eoffice_round_unique")]
        indexes = [models.Index(fields=["decided_at", "due_at"], name="eoffice_round_due")]

    def __str__(self) -> str:
        return f"round {self.number} ({self.stage}) {self.decision or 'open'}"

    @property
    def is_open(self) -> bool:
        return self.decided_at is None


class ReviewComment(models.Model):
    """A reviewer's comment (ý kiến) in a round; kept with the version it concerns."""

    review_round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE,
                                     related_name="comments")
    author = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_label = models.CharField(max_length=200)
    at = models.DateTimeField()
    text = models.TextField()
    mark = models.CharField(max_length=8, choices=Mark.choices, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:60]


class WorkFile(models.Model):
    """Hồ sơ công việc (GL-9.6): a handler's file of the documents of one matter."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32, blank=True)
    title = models.CharField(max_length=500)
    year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "title"]
        indexes = [models.Index(fields=["owner", "year"], name="eoffice_workfile_owner")]

    def __str__(self) -> str:
        return self.title

    @property
    def target(self) -> str:
        return f"workfile:{self.pk}"


class WorkFileItem(models.Model):
    work_file = models.ForeignKey(WorkFile, on_delete=models.CASCADE, related_name="items")
    incoming = models.ForeignKey(IncomingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    outgoing = models.ForeignKey(OutgoingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()
    added_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(incoming__isnull=False) & Q(outgoing__isnull=True))
                | (Q(incoming__isnull=True) & Q(outgoing__isnull=False)),
                name="eoffice_workfile_item_one"),
            models.UniqueConstraint(fields=["work_file", "incoming"],
                                    condition=Q(incoming__isnull=False),
                                    name="eoffice_workfile_in_unique"),
            models.UniqueConstraint(fields=["work_file", "outgoing"],
                                    condition=Q(outgoing__isnull=False),
                                    name="eoffice_workfile_out_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.work_file_id}: {self.incoming_id or self.outgoing_id}"


class LinkKind(models.TextChoices):
    REPLY_TO = "reply_to", gettext_lazy("In reply to")
    RELATED = "related", gettext_lazy("Related")


class DocumentLink(models.Model):
    """An outgoing document's link to another document: the incoming one it answers
    (GL-9.6 "Dự thảo") or related ones the reviewers should read (GL-10.1)."""

    outgoing = models.ForeignKey(OutgoingDocument, on_delete=models.CASCADE,
                                 related_name="links")
    kind = models.CharField(max_length=16, choices=LinkKind.choices)
    to_incoming = models.ForeignKey(IncomingDocument, null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="replies")
    to_outgoing = models.ForeignKey(OutgoingDocument, null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(to_incoming__isnull=False) & Q(to_outgoing__isnull=True))
                | (Q(to_incoming__isnull=True) & Q(to_outgoing__isnull=False)),
                name="eoffice_link_one"),
        ]

    def __str__(self) -> str:
        return f"{self.outgoing_id} {self.kind} {self.to_incoming_id or self.to_outgoing_id}"


class MailOutbox(models.Model):
    """A mail to send (a notice, or an issued document by official e-mail); written in
    the transaction of the change, delivered later by the mail worker."""

    recipients = models.TextField(help_text="Comma-separated addresses.")
    subject = models.TextField()
    body = models.TextField()
    rule = models.CharField(max_length=32, blank=True)
    attachment = models.ForeignKey(DocumentVersion, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    incoming = models.ForeignKey(IncomingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    outgoing = models.ForeignKey(OutgoingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"], name="eoffice_outbox")]

    def __str__(self) -> str:
        return f"{self.subject[:60]} -> {self.recipients[:60]}"


class DistributionChannel(models.TextChoices):
    INTERNAL = "internal", gettext_lazy("In eOffice")
    EMAIL = "email", gettext_lazy("Official e-mail")


class Distribution(models.Model):
    """Where an issued document went (nơi nhận): a person or unit in eOffice, another
    agency's intake, or an address by official e-mail (KH-7, KH-8.3)."""

    outgoing = models.ForeignKey(OutgoingDocument, on_delete=models.CASCADE,
                                 related_name="distributions")
    channel = models.CharField(max_length=16, choices=DistributionChannel.choices)
    to_agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    to_account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    address = models.CharField(max_length=320, blank=True)
    incoming = models.ForeignKey(IncomingDocument, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    mail = models.ForeignKey(MailOutbox, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["to_account"], name="eoffice_dist_account"),
                   models.Index(fields=["to_agency"], name="eoffice_dist_agency")]

    def __str__(self) -> str:
        return f"{self.outgoing_id} -> {self.to_agency_id or self.to_account_id or self.address}"


class DelegationStatus(models.TextChoices):
    REQUESTED = "requested", gettext_lazy("Awaiting approval")
    APPROVED = "approved", gettext_lazy("Approved, not yet announced")
    ANNOUNCED = "announced", gettext_lazy("Announced")
    REJECTED = "rejected", gettext_lazy("Rejected")
    REVOKED = "revoked", gettext_lazy("Revoked")


class Delegation(models.Model):
    """Ủy quyền (GL-4.5, GL-11, GL-13.3): ``delegator`` lets ``delegate`` act in their
    ``roles`` of ``agency`` from ``starts_at`` to ``ends_at``; in force once a leader
    approved it and it was announced to the agency, until it ends or is revoked."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    delegator = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    delegate = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    roles = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=DelegationStatus.choices,
                              default=DelegationStatus.REQUESTED)
    requested_at = models.DateTimeField()
    requested_by_label = models.CharField(max_length=200)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_by_label = models.CharField(max_length=200, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["delegate", "status"], name="eoffice_deleg_delegate")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="eoffice_delegation_period"),
            models.CheckConstraint(condition=~Q(delegator=models.F("delegate")),
                                   name="eoffice_delegation_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.delegator_id} -> {self.delegate_id} {self.status}"

    @property
    def target(self) -> str:
        return f"delegation:{self.pk}"


class Notice(models.Model):
    """An in-app notice to one person (new assignment, urgent document, overdue review,
    delegation announced…)."""

    recipient = models.ForeignKey(Account, on_delete=models.CASCADE,
                                  related_name="eoffice_notices")
    kind = models.CharField(max_length=32)
    text = models.TextField()
    rule = models.CharField(max_length=32, blank=True)
    incoming = models.ForeignKey(IncomingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    outgoing = models.ForeignKey(OutgoingDocument, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    delegation = models.ForeignKey(Delegation, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="eoffice_notice_inbox")]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.kind}"
