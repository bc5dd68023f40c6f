"""The province's directory: agencies in a tree, and the persons who work in them."""

from __future__ import annotations

from typing import Any

from django.db import models

#: Size of the folded search keys (``congvu.directory.search.KEY_LENGTH``).
SEARCH_KEY_LENGTH = 2000


def _with_key(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A ``save(update_fields=...)`` also writes the recomputed search key."""
    fields = kwargs.get("update_fields")
    if fields is not None:
        kwargs["update_fields"] = {*fields, "search_key"}
    return kwargs


class AgencyKind(models.TextChoices):
    PROVINCE_DEPT = "province-dept", "sở/ban/ngành"
    DISTRICT = "district", "UBND huyện/thành phố"
    COMMUNE = "commune", "UBND xã/phường"
    UNIT = "unit", "đơn vị trực thuộc"
    DEPARTMENT = "department", "phòng/ban"


#: Kinds whose leaders count as "leaders of a sở/ban/ngành, district UBND or above" (NT-5.2c).
SENIOR_KINDS = frozenset({AgencyKind.PROVINCE_DEPT, AgencyKind.DISTRICT})


class Agency(models.Model):
    """An agency (cơ quan) or a unit/department under one; ``account_name`` follows the
    profile's agency rule (NB-5.1/5.2, KH-3.2, NT-4.1 a–f)."""

    abbr = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=AgencyKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    account_name = models.CharField(max_length=64, unique=True)
    naming_rule = models.CharField(max_length=32, blank=True)
    #: The agency requires a second factor (TOTP) at SSO sign-in for its accounts.
    require_second_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    #: Folded name, abbreviation and account name, then the ancestors' (directory search;
    #: ``congvu.directory.search``). Recomputed by ``save()``.
    search_key = models.CharField(max_length=SEARCH_KEY_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["account_name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "abbr"], name="agency_abbr_unique_in_parent"),
        ]
        indexes = [models.Index(fields=["search_key"], name="agency_search_key")]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return f"{self.account_name} ({self.name})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from congvu.directory.search import key_of_agency

        self.search_key = key_of_agency(self)
        super().save(*args, **_with_key(kwargs))

    def ancestors(self) -> list[Agency]:
        """Self first, then each parent up to the top-level agency."""
        chain: list[Agency] = []
        node: Agency | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class Person(models.Model):
    """A civil servant (cán bộ, công chức, viên chức). One account per person (NT-2.1)."""

    full_name = models.CharField(max_length=255)
    position = models.CharField(max_length=255, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="persons")
    department = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="department_persons"
    )
    is_leader = models.BooleanField(default=False)
    birth_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    #: Folded given name, full name, position, department and agency chain: the province
    #: directory's accent-insensitive search and its order (``congvu.directory.search``).
    #: Recomputed by ``save()``; bulk writes call ``search.index_persons``.
    search_key = models.CharField(max_length=SEARCH_KEY_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["search_key"], name="person_search_key")]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        from congvu.directory.search import key_of_person

        self.search_key = key_of_person(self)
        super().save(*args, **_with_key(kwargs))

    @property
    def unit_led(self) -> Agency:
        """The unit whose level decides NT-5.2c: the department if any, else the agency."""
        return self.department or self.agency
