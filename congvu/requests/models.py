"""A request filed by an agency and its rows (items), each fulfilled or refused on its own."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy

from congvu.accounts.models import Account
from congvu.directory.models import Agency


class RequestKind(models.TextChoices):
    NEW_MAILBOXES = "new_mailboxes", gettext_lazy("New mailboxes (form 01)")
    CHANGE = "change", gettext_lazy("Change of mailbox details (form 02)")
    DELETION = "deletion", gettext_lazy("Deletion of mailboxes (form 03)")
    RESTORE = "restore", gettext_lazy("Restore of a suspended account")
    PASSWORD_REISSUE = "password_reissue", gettext_lazy("Password re-issue")


class RequestStatus(models.TextChoices):
    FILED = "filed", gettext_lazy("Filed")
    IN_PROGRESS = "in_progress", gettext_lazy("In progress")
    DONE = "done", gettext_lazy("Done")
    PARTLY_DONE = "partly_done", gettext_lazy("Partly done")
    REJECTED = "rejected", gettext_lazy("Rejected")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")


#: Requests the operator still has to act on: they are in the queue and can be overdue.
OPEN_STATUSES = (RequestStatus.FILED, RequestStatus.IN_PROGRESS)


class ItemAction(models.TextChoices):
    """What fulfilling one row does, through the accounts actions."""

    CREATE_PERSON = "create_person"
    CREATE_AGENCY_MAILBOX = "create_agency_mailbox"
    CHANGE_POSITION = "change_position"  # Mẫu 02 code 1
    CHANGE_UNIT = "change_unit"  # Mẫu 02 code 2
    CHANGE_ADDRESS = "change_address"  # Mẫu 02 code 3
    LEAVE = "leave"  # Mẫu 03
    RESTORE = "restore"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - an action name, not a password


#: Mẫu 02's change codes (KH-4.3): 1 position, 2 department, 3 mailbox address.
CHANGE_CODES: dict[int, str] = {
    1: ItemAction.CHANGE_POSITION,
    2: ItemAction.CHANGE_UNIT,
    3: ItemAction.CHANGE_ADDRESS,
}


class ItemStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    DONE = "done", gettext_lazy("Done")
    FAILED = "failed", gettext_lazy("Failed")  # may be retried, or refused
    REFUSED = "refused", gettext_lazy("Refused")


class ServiceRequest(models.Model):
    """One form (Mẫu 01/02/03, a restore or password re-issue request) of one agency."""

    kind = models.CharField(max_length=24, choices=RequestKind.choices)
    status = models.CharField(max_length=16, choices=RequestStatus.choices,
                              default=RequestStatus.FILED, db_index=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="service_requests")

    # The form's header: who asks, in which position, how to reach them.
    requester_name = models.CharField(max_length=255)
    requester_position = models.CharField(max_length=255, blank=True)
    requester_phone = models.CharField(max_length=32, blank=True)
    #: Why (deletion: retirement, leaving the province...; restore: what happened).
    reason = models.TextField(blank=True)
    #: Deletion (Mẫu 03): the day the holders leave; the profile's lock/delete follow.
    effective_date = models.DateField(null=True, blank=True)

    filed_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="filed_requests")
    filed_by_label = models.CharField(max_length=200)
    filed_at = models.DateTimeField()

    #: The profile's SLA for the kind ("3 working days"), when it has one.
    sla = models.CharField(max_length=64, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deadline_rule = models.CharField(max_length=32, blank=True)

    taken_by_label = models.CharField(max_length=200, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    #: Why it was rejected or cancelled.
    status_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "deadline_at"], name="request_queue")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.agency_id} {self.status}"

    @property
    def target(self) -> str:
        """How the audit log names a request."""
        return f"request:{self.pk}"


class RequestItem(models.Model):
    """One row of a request: a person to create, a change code, an address to delete,
    restore or re-issue a password for."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveIntegerField(help_text="1-based, as shown to the operator.")
    action = models.CharField(max_length=32, choices=ItemAction.choices)
    status = models.CharField(max_length=16, choices=ItemStatus.choices,
                              default=ItemStatus.PENDING)

    # A person (Mẫu 01; as written on Mẫu 02/03 for checking).
    full_name = models.CharField(max_length=255, blank=True)
    position = models.CharField(max_length=255, blank=True)
    unit = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text="Department or unit (bộ phận).")
    leader = models.BooleanField(default=False)
    birth_date = models.DateField(null=True, blank=True)

    # An existing account (Mẫu 02/03, restore, re-issue), resolved when filed.
    address = models.CharField(max_length=320, blank=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="request_items")
    change_code = models.PositiveSmallIntegerField(null=True, blank=True)
    new_value = models.CharField(max_length=255, blank=True)
    new_unit = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    # The outcome.
    result_address = models.CharField(max_length=320, blank=True)
    rule = models.CharField(max_length=32, blank=True, help_text="The rule applied.")
    outcome = models.TextField(blank=True, help_text="Why it failed or was refused.")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="request_item_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.request_id}.{self.number} {self.action} {self.status}"
