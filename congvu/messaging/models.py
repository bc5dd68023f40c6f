"""Internal messages and agency notices (GL-8.2: internal messages are official
communication; each person may delete or sort their own)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy

from congvu.accounts.models import Account
from congvu.directory.models import Agency


class MessageKind(models.TextChoices):
    MESSAGE = "message", gettext_lazy("Message")
    NOTICE = "notice", gettext_lazy("Agency notice")


class Message(models.Model):
    """What one person sent within one agency: to people, departments, or the whole
    agency (a notice always goes to the whole agency). The addressing is kept as
    written; :class:`Delivery` rows are the recipients it reached when sent."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=MessageKind.choices,
                            default=MessageKind.MESSAGE)
    sender = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    sender_label = models.CharField(max_length=200)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    sent_at = models.DateTimeField()
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="replies")
    to_all = models.BooleanField(default=False)
    to_people = models.ManyToManyField(Account, blank=True, related_name="+")
    to_units = models.ManyToManyField(Agency, blank=True, related_name="+")
    #: The sender removed it from their "sent" box (GL-8.2); recipients keep theirs.
    sender_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["sender", "sent_at"], name="messaging_sent"),
                   models.Index(fields=["agency", "kind", "sent_at"],
                                name="messaging_agency_kind")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.subject}"


class Delivery(models.Model):
    """One recipient's copy: read and deleted per person."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["message", "recipient"],
                                               name="messaging_delivery_once")]
        indexes = [models.Index(fields=["recipient", "deleted_at", "read_at"],
                                name="messaging_inbox")]

    def __str__(self) -> str:
        return f"{self.message_id} -> {self.recipient_id}"
