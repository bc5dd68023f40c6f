"""An agency's public directory (NB-11.5: an agency publishes the e-mail addresses of
itself, its departments, its subordinate units and its staff on its web portal; QN-13.4
likewise; QN-8's "hộp thư điện tử công vụ phải được công khai").

Only what those rules make public: names, positions and official addresses, and the
agency tree. Never an account's state, its sign-ins, its roles or anything else the
console shows its holder. Listed: the mailboxes that receive mail (active or suspended,
NB-7.1); requested, locked and deleted accounts and operators' accounts are not.

There is no actor: anyone on the Internet reads this, by design. A handful of queries
whatever the agency's size (the subtree walk, the agencies, their mailboxes, the
persons)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountKind
from congvu.directory.models import Agency, Person
from congvu.directory.search import LISTED_STATES
from congvu.directory.selectors import agency_subtree_ids
from congvu.errors import NotFound


@dataclass(frozen=True)
class PublicPerson:
    name: str
    position: str
    address: str


@dataclass
class PublicUnit:
    """The agency itself or one of its units or departments, with its own mailbox (if
    it has one) and the persons who work there directly."""

    name: str
    ref: str
    kind: str
    depth: int
    address: str = ""
    persons: list[PublicPerson] = field(default_factory=list)


@dataclass(frozen=True)
class PublicDirectory:
    agency: Agency
    parent: Agency | None
    units: list[PublicUnit]  # the agency first, then its subtree in tree order

    @property
    def person_count(self) -> int:
        return sum(len(u.persons) for u in self.units)

    def as_json(self) -> dict[str, Any]:
        """Stable keys for programs (agencies' portals): no translation."""
        top = self.units[0]
        return {
            "agency": {"name": self.agency.name, "account_name": self.agency.account_name,
                       "kind": self.agency.kind, "address": top.address or None,
                       "parent": {"name": self.parent.name,
                                  "account_name": self.parent.account_name}
                       if self.parent else None},
            "units": [{"name": u.name, "account_name": u.ref, "kind": u.kind,
                       "depth": u.depth, "address": u.address or None,
                       "persons": [{"name": p.name, "position": p.position,
                                    "address": p.address} for p in u.persons]}
                      for u in self.units],
        }


def public_agency(ref: str) -> Agency:
    """The agency whose directory is asked for, by its account name (the name in its
    address: ``stc``, ``ttcntt.sotttt``), or NotFound."""
    key = (ref or "").strip().lower()
    found = Agency.objects.select_related("parent").filter(account_name=key).first() \
        if key else None
    if found is None:
        raise NotFound(_("There is no agency %(ref)s in the province's directory.") % {
            "ref": key or "—"})
    return found


def public_directory(ref: str) -> PublicDirectory:
    """The published directory of the agency ``ref`` and everything below it."""
    agency = public_agency(ref)
    ids = agency_subtree_ids([agency.pk])
    nodes = {a.pk: a for a in Agency.objects.filter(pk__in=ids).only(
        "id", "name", "account_name", "kind", "parent_id")}
    children: dict[int | None, list[Agency]] = {}
    for a in nodes.values():
        children.setdefault(a.parent_id, []).append(a)
    units: dict[int, PublicUnit] = {}
    order: list[PublicUnit] = []

    def walk(node: Agency, depth: int) -> None:
        unit = PublicUnit(node.name, node.account_name, node.kind, depth)
        units[node.pk] = unit
        order.append(unit)
        for child in sorted(children.get(node.pk, []), key=lambda a: (a.kind, a.name)):
            walk(child, depth + 1)

    walk(nodes[agency.pk], 0)
    # Each read goes through an index of the agency or the person, never the accounts'
    # state (which SQLite would pick, reading every account of the province).
    for agency_id, state, address in Account.objects.filter(
            agency_id__in=ids, kind=AccountKind.AGENCY).values_list(
            "agency_id", "state", "address"):
        if state in LISTED_STATES and agency_id in units:
            units[agency_id].address = address
    persons = list(Person.objects.filter(Q(agency_id__in=ids) | Q(department_id__in=ids))
                   .order_by("search_key", "id")
                   .values_list("id", "department_id", "agency_id", "full_name", "position"))
    addresses = _listed_addresses([row[0] for row in persons])
    for pk, department_id, agency_id, name, position in persons:
        if pk in addresses:
            unit = units.get(department_id or -1) or units.get(agency_id) or order[0]
            unit.persons.append(PublicPerson(name, position, addresses[pk]))
    return PublicDirectory(agency=agency, parent=agency.parent, units=order)


def _listed_addresses(person_ids: list[int], batch: int = 2000) -> dict[int, str]:
    """person id → address, for the persons whose account is listed."""
    out: dict[int, str] = {}
    for start in range(0, len(person_ids), batch):
        for person_id, kind, state, address in Account.objects.filter(
                person_id__in=person_ids[start:start + batch]).values_list(
                "person_id", "kind", "state", "address"):
            if kind == AccountKind.PERSON and state in LISTED_STATES and person_id:
                out[person_id] = address
    return out


def public_agencies() -> list[Agency]:
    """The province's top-level agencies, for the directory's index page."""
    return list(Agency.objects.filter(parent__isnull=True).order_by("name")
                .only("id", "name", "account_name", "kind"))
