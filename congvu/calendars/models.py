"""Work calendar events (GL-8.1) and the per-person iCalendar subscription feeds."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy

from congvu.accounts.models import Account
from congvu.directory.models import Agency


class CalendarKind(models.TextChoices):
    """GL-8.1: the office (Văn phòng) keeps the leaders' and the agency's calendars."""

    LEADERS = "leaders", gettext_lazy("Leaders' weekly calendar")
    AGENCY = "agency", gettext_lazy("Agency calendar")
    DEPARTMENT = "department", gettext_lazy("Department calendar")
    PERSONAL = "personal", gettext_lazy("Personal calendar")


class Event(models.Model):
    """One entry of a calendar: a personal one names its ``owner``, a department's its
    ``department``; the agency's and the leaders' only the agency. All-day events run
    from local midnight of the first day to local midnight after the last."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=CalendarKind.choices)
    department = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    owner = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    title = models.CharField(max_length=255)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    place = models.CharField(max_length=255, blank=True)
    #: Chủ trì: who chairs (a name or a position, as the office writes it).
    chair = models.CharField(max_length=255, blank=True)
    #: Thành phần: as written ("Lãnh đạo các phòng"), besides the people and units chosen.
    participants_text = models.TextField(blank=True)
    participants = models.ManyToManyField(Account, blank=True, related_name="+")
    participant_units = models.ManyToManyField(Agency, blank=True, related_name="+")
    #: Đơn vị chuẩn bị.
    preparing_unit = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by_label = models.CharField(max_length=200)
    updated_at = models.DateTimeField()
    updated_by_label = models.CharField(max_length=200)
    #: RFC 5545 SEQUENCE: raised by every change so subscribed clients take the new one.
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["agency", "kind", "starts_at"],
                                name="calendars_event_agency"),
                   models.Index(fields=["owner", "starts_at"], name="calendars_event_owner")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="calendars_event_period"),
            models.CheckConstraint(condition=~Q(kind="personal", owner__isnull=True),
                                   name="calendars_personal_owner"),
            models.CheckConstraint(condition=~Q(kind="department", department__isnull=True),
                                   name="calendars_department_named"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.title}"


class CalendarFeed(models.Model):
    """A person's subscription URL (Thunderbird, Outlook, phones): only the SHA-256 of
    its secret token is kept; a new one revokes the old."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "revoked_at"], name="calendars_feed_account")]

    def __str__(self) -> str:
        return f"feed {self.account_id}"
