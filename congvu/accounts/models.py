"""Accounts, mailboxes, the address namespace (with tombstones), aliases, password history."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from congvu.directory.models import Agency, Person


class AccountState(models.TextChoices):
    """Spec section 3. ``suspended`` still receives mail and documents (NB-7.1, NT-6.1);
    ``locked`` (leaving) neither sends nor receives; ``deleted`` is purged, name reserved."""

    REQUESTED = "requested"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LOCKED = "locked"
    DELETED = "deleted"


class AccountKind(models.TextChoices):
    PERSON = "person"
    AGENCY = "agency"
    OPERATOR = "operator"


class AccountManager(BaseUserManager["Account"]):
    def get_by_natural_key(self, username: str | None) -> Account:
        return self.get(address__iexact=username)


class Account(AbstractBaseUser):
    """One account per person or agency mailbox, used for mail and every shared application."""

    address = models.CharField(max_length=320, unique=True)
    #: The stable, opaque OpenID Connect ``sub``: never the address, which can change.
    subject = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    local_part = models.CharField(max_length=64)
    domain = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=AccountKind.choices, default=AccountKind.PERSON)
    person = models.OneToOneField(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    is_operator = models.BooleanField(default=False)

    state = models.CharField(
        max_length=16, choices=AccountState.choices, default=AccountState.REQUESTED, db_index=True
    )
    reason = models.CharField(max_length=32, blank=True, help_text="Rule ID behind the state.")
    reason_text = models.TextField(blank=True)
    state_changed_at = models.DateTimeField()

    must_change_password = models.BooleanField(default=True)
    must_change_reason = models.CharField(max_length=32, blank=True)
    one_time_password_issued_at = models.DateTimeField(null=True, blank=True, db_index=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    failed_logins = models.PositiveIntegerField(default=0)
    #: The last sign-in counted as a mailbox check (NB-9.2, KH-10; ``mail/checks.py``).
    last_mailbox_check = models.DateTimeField(null=True, blank=True)

    leave_effective_at = models.DateTimeField(null=True, blank=True)
    leave_rule = models.CharField(max_length=32, blank=True)
    leave_lock_at = models.DateTimeField(null=True, blank=True, db_index=True)
    leave_delete_at = models.DateTimeField(null=True, blank=True, db_index=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[AccountManager] = AccountManager()

    USERNAME_FIELD = "address"
    EMAIL_FIELD = "address"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["address"]
        indexes = [models.Index(fields=["state", "last_login"], name="account_state_login")]

    def __str__(self) -> str:
        return self.address

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Only active accounts may sign in (suspended ones still receive)."""
        return self.state == AccountState.ACTIVE

    @property
    def receives_mail(self) -> bool:
        """NB-7.1, NT-6.1: a suspended account still receives; locked and deleted do not."""
        return self.state in (AccountState.ACTIVE, AccountState.SUSPENDED)


class Mailbox(models.Model):
    """The mailbox behind an account; quota from the profile per mailbox kind."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="mailbox")
    quota_bytes = models.BigIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.account.address} ({self.quota_bytes} B)"


class ReservedName(models.Model):
    """Every local part ever handed out: accounts, agency names, aliases.

    A name is never released: when its holder is deleted the row is tombstoned, so mail
    for a former holder cannot reach a new one (spec section 2).
    """

    class Kind(models.TextChoices):
        ACCOUNT = "account"
        AGENCY = "agency"
        ALIAS = "alias"
        OPERATOR = "operator"

    local_part = models.CharField(max_length=64)
    domain = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="reserved_names"
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="reserved_names"
    )
    created_at = models.DateTimeField()
    tombstoned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["domain", "local_part"], name="reserved_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.local_part}@{self.domain}"


class Alias(models.Model):
    """Another address delivering to an account (e.g. the old address after an NB
    transfer, kept for the reservation period)."""

    address = models.CharField(max_length=320, unique=True)
    local_part = models.CharField(max_length=64)
    domain = models.CharField(max_length=255)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="aliases")
    rule = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.address} -> {self.account.address}"


class PasswordHistory(models.Model):
    """Earlier password hashes, so a holder cannot cycle back to an old password."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account.address} @ {self.created_at:%Y-%m-%d}"




class Forward(models.Model):
    """Automatic forwarding from a mailbox; targets must be government domains (NB-4.5)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="forwards")
    target = models.CharField(max_length=320)
    keep_copy = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "target"], name="forward_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account.address} => {self.target}"


class Delegation(models.Model):
    """A holder may send as (and manage) another mailbox, e.g. a clerk for the agency
    mailbox on the head's written delegation (KH-15.1)."""

    mailbox = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="delegations")
    delegate = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="delegated")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "delegate"], name="delegation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.delegate.address} may act for {self.mailbox.address}"


class Notice(models.Model):
    """A notice to a holder and their agency (QN-7.2: suspension), written in the same
    transaction as the change and delivered by the mail daemon: durable, retried."""

    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="notices")
    recipients = models.TextField(help_text="Comma-separated addresses.")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    rule = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.recipients}"


class Role(models.TextChoices):
    """Roles an operator grants (issue 6). Every person account is implicitly a civil
    servant (``civil-servant`` in the SSO ``roles`` claim), so that role is never granted."""

    OPERATOR = "operator"
    AGENCY_IT = "agency-it"
    CLERK = "clerk"


#: Roles that act for one agency (and its units): the grant names the agency.
AGENCY_ROLES = frozenset({Role.AGENCY_IT, Role.CLERK})


class RoleGrant(models.Model):
    """A role held by an account. ``operator`` grants are mirrored in
    ``Account.is_operator`` (which SSO and the second-factor rule read); the first
    operator, made by ``congvu init``, has the flag without a grant row."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=16, choices=Role.choices)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="role_grants"
    )
    granted_at = models.DateTimeField()
    granted_by = models.CharField(max_length=200, help_text="The granting actor's label.")

    class Meta:
        ordering = ["account_id", "role", "agency_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "role"], condition=models.Q(
                agency__isnull=True), name="role_grant_unique"),
            models.UniqueConstraint(fields=["account", "role", "agency"], condition=models.Q(
                agency__isnull=False), name="role_grant_agency_unique"),
            models.CheckConstraint(
                condition=models.Q(role="operator", agency__isnull=True)
                | (models.Q(role__in=["agency-it", "clerk"]) & models.Q(agency__isnull=False)),
                name="role_grant_agency_iff_agency_role"),
        ]

    def __str__(self) -> str:
        where = f" @ {self.agency.account_name}" if self.agency_id and self.agency else ""
        return f"{self.account.address}: {self.role}{where}"


class MailboxCheck(models.Model):
    """How often one account's mailbox was checked on one local day (NB-9.2, KH-10): one
    row per account and day with a counter, upserted by ``mail/checks.py`` when the mail
    plane reports an IMAP/POP3 sign-in (webmail included)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="checks")
    day = models.DateField(help_text="The day in the profile's time zone.")
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["account_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="mailbox_check_day"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.count}"
