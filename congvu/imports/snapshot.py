"""What the import's rules read from the database, loaded once per check (a 50,000-row
file must not ask the database 50,000 times): the agency tree, the address namespace
(in use and tombstones) and the persons who already have an account."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from congvu.accounts.models import AccountState, ReservedName
from congvu.accounts.naming import AgencyNode
from congvu.directory.models import Agency, AgencyKind, Person
from congvu.profiles import Profile
from congvu.text import fold


def name_key(full_name: str) -> str:
    """A person's name as the duplicate checks compare it (folded, single spaces)."""
    return " ".join(fold(full_name).split())


@dataclass(frozen=True)
class AgencyRow:
    id: int
    abbr: str
    name: str
    kind: str
    parent_id: int | None
    account_name: str


@dataclass(frozen=True)
class Holder:
    """A person who already has a (not deleted) account."""

    birth_date: dt.date | None
    address: str


@dataclass
class Snapshot:
    agencies: dict[int, AgencyRow] = field(default_factory=dict)
    by_account_name: dict[str, int] = field(default_factory=dict)
    by_abbr: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_name: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: Local parts in use or reserved in the profile's domain, tombstones included.
    taken: set[str] = field(default_factory=set)
    tombstones: set[str] = field(default_factory=set)
    #: (name key, agency id) → the persons of that name there who have an account.
    holders: dict[tuple[str, int], list[Holder]] = field(
        default_factory=lambda: defaultdict(list))
    _nodes: dict[int, AgencyNode] = field(default_factory=dict)

    def node(self, agency_id: int) -> AgencyNode:
        """The naming rules' view of an agency and its ancestors (memoised)."""
        found = self._nodes.get(agency_id)
        if found is None:
            row = self.agencies[agency_id]
            parent = self.node(row.parent_id) if row.parent_id else None
            found = AgencyNode(abbr=row.abbr, kind=row.kind, account_name=row.account_name,
                               parent=parent)
            self._nodes[agency_id] = found
        return found

    def chain(self, agency_id: int | None) -> list[tuple[str, str, str]]:
        """(name, abbr, account name) of an agency and its ancestors, self first (what
        the directory's search key holds, ``congvu.directory.search``)."""
        out: list[tuple[str, str, str]] = []
        node = self.agencies.get(agency_id) if agency_id else None
        while node is not None:
            out.append((node.name, node.abbr, node.account_name))
            node = self.agencies.get(node.parent_id) if node.parent_id else None
        return out

    def main_agency(self, agency_id: int) -> int:
        """The agency a person of ``agency_id`` belongs to: a department's staff belong to
        the nearest ancestor that is not a department (as ``do_create_account``)."""
        row = self.agencies[agency_id]
        while row.kind == AgencyKind.DEPARTMENT and row.parent_id:
            row = self.agencies[row.parent_id]
        return row.id


def load_snapshot(profile: Profile) -> Snapshot:
    snap = Snapshot()
    for a in Agency.objects.values_list("id", "abbr", "name", "kind", "parent_id",
                                        "account_name"):
        row = AgencyRow(*a)
        snap.agencies[row.id] = row
        snap.by_account_name[row.account_name.lower()] = row.id
        snap.by_abbr[row.abbr.lower()].append(row.id)
        snap.by_name[name_key(row.name)].append(row.id)
    for local, tombstoned in ReservedName.objects.filter(
            domain=profile.mail.domain).values_list("local_part", "tombstoned_at"):
        snap.taken.add(local.lower())
        if tombstoned is not None:
            snap.tombstones.add(local.lower())
    persons = (Person.objects.filter(account__isnull=False)
               .exclude(account__state=AccountState.DELETED)
               .values_list("full_name", "agency_id", "birth_date", "account__address"))
    for full_name, agency_id, birth_date, address in persons.iterator(chunk_size=5000):
        snap.holders[(name_key(full_name), agency_id)].append(Holder(birth_date, address))
    return snap
