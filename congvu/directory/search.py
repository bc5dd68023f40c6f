"""The province directory's search (issue 6; NB-10.1d, KH-11.5 keep the directory,
NB-11.5, QN-13.4 publish it): accent- and case-insensitive, on a folded key stored on
every person and agency.

The key is the KH-3.1 folding (:func:`congvu.text.fold`) of what people search by, as
words between single spaces with one space before and after: for a person their given
name first (so ordering by the key orders by given name, the Vietnamese way), then the
full name, the address's local part, the position, the department and the agency with
each of its ancestors (name, abbreviation, account name); for an agency its own name,
abbreviation and account name, then its ancestors'. A query matches when each of its
words starts a word of the key (``" nguyen"`` in ``" an nguyen van an annv ..."``), so
"nguyen van a" finds "Nguyễn Văn An", "so tai chinh" finds everyone of "Sở Tài chính"
and "annv" finds annv@….

Keeping the keys current: :meth:`Person.save` and :meth:`Agency.save` recompute their
own key (``do_create_account``, ``do_change_position``, ``do_transfer``,
``do_add_agency``); the actions that give a person's account its address call
:func:`index_account` (``do_create_account``, ``do_transfer``, ``do_change_address``).
Writes that bypass ``save()`` (``bulk_create``, ``update()``: bulk imports, benchmarks)
call :func:`index_persons` or :func:`rebuild_search_keys` afterwards; a renamed agency
calls :func:`index_agency_subtree`. The data migration ``directory.0003`` fills the keys
of existing rows with :func:`rebuild_search_keys`.

Reading is driven from the persons: the key's matches in key order (its index; on
PostgreSQL also a trigram index, migration ``directory.0004``; on SQLite a search with
few matches first takes them from an FTS5 word index, :mod:`congvu.directory.fts`), then
which of them have a listed account, counted only up to :data:`COUNT_CAP`. With 50,000 accounts a
search answers in milliseconds, where starting from the accounts' state reads the
whole accounts table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.directory.models import SEARCH_KEY_LENGTH
from congvu.errors import Forbidden
from congvu.text import fold

if TYPE_CHECKING:
    from congvu.accounts.models import Account
    from congvu.directory.models import Agency, Person

__all__ = [
    "COUNT_CAP",
    "KEY_LENGTH",
    "LISTED_STATES",
    "ROW_FIELDS",
    "DirectoryQuery",
    "agency_key",
    "agency_mailbox",
    "agency_mailboxes",
    "directory_rows",
    "index_account",
    "index_agency_subtree",
    "index_persons",
    "matching_ids",
    "parse_query",
    "person_key",
    "rebuild_search_keys",
    "search_directory",
    "words",
]

#: The keys' column size; a longer key is cut at a word boundary (never in practice:
#: a name, a position and four levels of agency names fit several times over).
KEY_LENGTH = SEARCH_KEY_LENGTH
#: Query words taken into account: enough for a full name with agency and position.
MAX_QUERY_WORDS = 10
#: Matches counted exactly; beyond this the page says "more than" and asks for more words.
COUNT_CAP = 500
#: States listed in the directory: mailboxes that receive (NB-7.1, NT-6.1). Requested
#: accounts have no mailbox yet; locked and deleted ones no longer receive.
LISTED_STATES = ("active", "suspended")

_WORD = re.compile(r"[a-z0-9]+")

Chain = list[tuple[str, str, str]]


def words(*texts: str) -> list[str]:
    """The folded words of ``texts`` (KH-3.1: no tone marks, đ → d, lowercase), split at
    anything that is not a letter or a digit ("TT&TT" → "tt", "tt")."""
    out: list[str] = []
    for text in texts:
        if text:
            out += _WORD.findall(fold(text))
    return out


def _key(parts: list[str], head: int = 0) -> str:
    """The first ``head`` words as they are (the sort order), then every other word
    once: a shorter key is a faster scan, and a word found twice matches no better."""
    seen = set(parts[:head])
    rest: list[str] = []
    for word in parts[head:]:
        if word not in seen:
            seen.add(word)
            rest.append(word)
    text = " " + " ".join(parts[:head] + rest) + " "
    if len(text) > KEY_LENGTH:
        text = text[: KEY_LENGTH - 1].rsplit(" ", 1)[0] + " "
    return text


def _agency_words(chain: Iterable[tuple[str, str, str]]) -> list[str]:
    """Words of an agency chain, self first: (name, abbr, account_name) each."""
    out: list[str] = []
    for name, abbr, account_name in chain:
        out += words(name, abbr, account_name)
    return out


def agency_key(chain: Iterable[tuple[str, str, str]]) -> str:
    """The key of an agency given itself and its ancestors (self first)."""
    return _key(_agency_words(chain))


def person_key(full_name: str, position: str, local_part: str, department_chain: Chain,
               agency_chain: Chain) -> str:
    """The key of a person: given name, full name, address, position, department (only
    itself: its agency follows), agency chain."""
    name = words(full_name)
    head = name[-1:] + name
    return _key(head + words(local_part) + words(position)
                + _agency_words(department_chain[:1]) + _agency_words(agency_chain), len(head))


def _chain(agency: Agency | None) -> Chain:
    return [(a.name, a.abbr, a.account_name) for a in agency.ancestors()] if agency else []


def _local_part_of(person: Person) -> str:
    from congvu.accounts.models import Account

    if person.pk is None:
        return ""
    return Account.objects.filter(person_id=person.pk).values_list(
        "local_part", flat=True).first() or ""


def key_of_person(person: Person, local_part: str | None = None) -> str:
    """:func:`person_key` of a model instance (``Person.save`` calls this)."""
    department = person.department if person.department_id else None
    agency = person.agency if person.agency_id else None
    local = _local_part_of(person) if local_part is None else local_part
    return person_key(person.full_name, person.position, local, _chain(department),
                      _chain(agency))


def key_of_agency(agency: Agency) -> str:
    """:func:`agency_key` of a model instance (``Agency.save`` calls this)."""
    return agency_key(_chain(agency))


def index_account(account: Account) -> None:
    """The person's key after their account got (or changed) its address."""
    from congvu.directory.models import Person

    person = account.person
    if person is not None:
        key = key_of_person(person, account.local_part)
        Person.objects.filter(pk=person.pk).update(search_key=key)
        person.search_key = key


# --------------------------------------------------------------------------- rebuilding


def _agency_chains(agency_model: Any) -> dict[int, Chain]:
    """Every agency's chain (self first), from one query."""
    rows = {pk: (parent, (name, abbr, account))
            for pk, parent, name, abbr, account in agency_model.objects.values_list(
                "id", "parent_id", "name", "abbr", "account_name")}
    chains: dict[int, Chain] = {}
    for pk in rows:
        chain: Chain = []
        node: int | None = pk
        seen: set[int] = set()
        while node is not None and node in rows and node not in seen:
            seen.add(node)
            parent, entry = rows[node]
            chain.append(entry)
            node = parent
        chains[pk] = chain
    return chains


def _batches(items: Iterable[tuple[str, int]],
             size: int = 2000) -> Iterator[list[tuple[str, int]]]:
    batch: list[tuple[str, int]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_keys(table: str, rows: Iterable[tuple[str, int]]) -> int:
    """UPDATE table SET search_key = %s WHERE id = %s for each row (raw ``executemany``:
    50,000 rows in seconds, where ``bulk_update`` writes one large CASE per batch)."""
    quoted = connection.ops.quote_name(table)
    count = 0
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            # The table name is the model's own (quoted), never user input.
            cursor.executemany(f"UPDATE {quoted} SET search_key = %s WHERE id = %s",  # noqa: S608
                               batch)
            count += len(batch)
    return count


def _person_rows(person_model: Any, account_model: Any, chains: dict[int, Chain],
                 ids: list[int] | None) -> Iterator[tuple[str, int]]:
    qs = person_model.objects.order_by("id")
    accounts = account_model.objects.filter(person__isnull=False)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
        accounts = accounts.filter(person_id__in=ids)
    local = dict(accounts.values_list("person_id", "local_part"))
    for pk, full_name, position, agency_id, department_id in qs.values_list(
            "id", "full_name", "position", "agency_id", "department_id").iterator(2000):
        department = chains.get(department_id, []) if department_id else []
        yield person_key(full_name, position, local.get(pk, ""), department,
                         chains.get(agency_id, [])), pk


def rebuild_search_keys(apps: Any = None) -> int:
    """Recompute every agency's and person's key; returns the number of rows written.
    ``apps`` is a migration's app registry (historical models), else the current one."""
    if apps is None:
        from django.apps import apps as registry

        apps = registry
    agency_model = apps.get_model("directory", "Agency")
    person_model = apps.get_model("directory", "Person")
    account_model = apps.get_model("accounts", "Account")
    chains = _agency_chains(agency_model)
    written = _write_keys(agency_model._meta.db_table,
                          ((agency_key(chain), pk) for pk, chain in chains.items()))
    return written + _write_keys(person_model._meta.db_table,
                                 _person_rows(person_model, account_model, chains, None))


def index_persons(person_ids: Iterable[int]) -> int:
    """Recompute the keys of these persons (after ``bulk_create`` or ``update()``)."""
    from congvu.accounts.models import Account
    from congvu.directory.models import Agency, Person

    return _write_keys(Person._meta.db_table, _person_rows(
        Person, Account, _agency_chains(Agency), list(person_ids)))


def index_agency_subtree(agency: Agency) -> int:
    """Recompute the keys of ``agency``, its units and departments and their persons
    (after a rename): their keys hold the names of every agency above them."""
    from congvu.directory.models import Agency, Person
    from congvu.directory.selectors import agency_subtree_ids

    ids = agency_subtree_ids([agency.pk])
    chains = _agency_chains(Agency)
    written = _write_keys(Agency._meta.db_table,
                          ((agency_key(chains[pk]), pk) for pk in ids if pk in chains))
    persons = Person.objects.filter(Q(agency_id__in=ids) | Q(department_id__in=ids))
    return written + index_persons(persons.values_list("id", flat=True))


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class DirectoryQuery:
    """A parsed search: the folded words each of which must start a word of the key."""

    words: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.words)


def parse_query(text: str) -> DirectoryQuery:
    """Fold what the person typed into words (at most :data:`MAX_QUERY_WORDS`); an
    address counts by its local part ("namnv@quangnam.gov.vn" searches "namnv")."""
    found: list[str] = []
    for raw in (text or "").split():
        local = raw.split("@", 1)[0] if "@" in raw else raw
        for word in words(local):
            if word not in found:
                found.append(word)
    return DirectoryQuery(tuple(found[:MAX_QUERY_WORDS]))


def _matching(qs: QuerySet[Any], query: DirectoryQuery) -> QuerySet[Any]:
    for word in query.words:
        qs = qs.filter(search_key__contains=f" {word}")
    return qs


def _require_reader(actor: Actor) -> None:
    """Every signed-in person reads the directory (it is public by NB-11.5 anyway); an
    actor that is nobody's (no account, not an operator or the system) does not."""
    if actor.account_id is None and actor.kind not in ("operator", "system"):
        raise Forbidden(_("%(actor)s may not read the directory: sign in first.") % {
            "actor": actor.label})


def _listed(kind: str, link: str) -> QuerySet[Account]:
    from congvu.accounts.models import Account

    return Account.objects.filter(**{link: OuterRef("pk")}, kind=kind,
                                  state__in=LISTED_STATES)


def agency_mailbox() -> QuerySet[Account]:
    """An agency's own listed mailbox. It is always at the agency's account name
    (NB-5.1/5.2, KH-3.2, NT-4.1: ``do_create_agency_mailbox``), so the lookup goes
    through the unique index of the address: scanning thousands of agencies for the few
    with a mailbox stays cheap."""
    from congvu.accounts.models import Account
    from congvu.deployment import deployment_profile

    domain = deployment_profile().mail.domain
    return Account.objects.filter(
        address=Concat(OuterRef("account_name"), Value(f"@{domain}"),
                       output_field=CharField()),
        agency_id=OuterRef("pk"), kind="agency", state__in=LISTED_STATES)


def _candidates(query: DirectoryQuery, agency_ids: Iterable[int] | None) -> QuerySet[Person]:
    from congvu.directory.models import Person

    qs = _matching(Person.objects.all(), query)  # the key first: it narrows the most
    if agency_ids is not None:
        ids = list(agency_ids)
        qs = qs.filter(Q(agency_id__in=ids) | Q(department_id__in=ids))
    return qs.order_by("search_key", "id")


def search_directory(actor: Actor, query: DirectoryQuery,
                     agency_ids: Iterable[int] | None = None) -> QuerySet[Person]:
    """Persons listed in the province directory matching ``query``, within
    ``agency_ids`` if given, ordered by given name; :func:`directory_rows` reads what a
    page shows, :func:`matching_ids` the ids of a page quickly."""
    _require_reader(actor)
    return _candidates(query, agency_ids).filter(Exists(_listed("person", "person_id")))


def matching_ids(actor: Actor, query: DirectoryQuery, agency_ids: Iterable[int] | None = None,
                 cap: int = COUNT_CAP) -> list[int]:
    """The ids of :func:`search_directory`, in order, at most ``cap + 1`` (more than
    ``cap`` means "more than ``cap``"). Two cheap steps instead of one slow one: the
    persons whose key matches, in key order, a chunk at a time (the key's index), then
    which of them have a listed account (one lookup by ``person_id`` for the chunk).
    Checking the account row by row inside the search made PostgreSQL join the whole
    accounts table and SQLite look up every match."""
    from congvu.accounts.models import Account
    from congvu.directory import fts

    _require_reader(actor)
    base = _candidates(query, agency_ids)
    hits = fts.candidates(query.words)
    if hits is not None:  # few matches, found by SQLite's word index: sort just those
        base = base.filter(pk__in=hits)
    chunk_size = cap + 1
    found: list[int] = []
    after: tuple[str, int] | None = None
    while len(found) <= cap:
        qs = base if after is None else base.filter(
            Q(search_key__gt=after[0]) | Q(search_key=after[0], pk__gt=after[1]))
        chunk = list(qs.values_list("pk", "search_key")[:chunk_size])
        if not chunk:
            break
        # By person_id only (its unique index): with the state in the query SQLite
        # prefers the state's index and reads every active account.
        listed = {person for person, kind, state in Account.objects.filter(
            person_id__in=[pk for pk, _key in chunk]).values_list("person_id", "kind", "state")
            if kind == "person" and state in LISTED_STATES}
        found += [pk for pk, _key in chunk if pk in listed]
        if len(chunk) < chunk_size:
            break
        after = (chunk[-1][1], chunk[-1][0])
    return found[: cap + 1]


#: What a directory row shows of a person: never the account's state or sign-ins.
ROW_FIELDS = ("id", "full_name", "position", "department__name", "department__account_name",
              "agency__name", "agency__account_name", "agency__parent__name",
              "agency__parent__account_name", "address")


def directory_rows(actor: Actor, person_ids: list[int]) -> list[dict[str, Any]]:
    """The directory's columns for these persons, in the order given, in one query:
    name, position, department, agency (and its parent), listed address."""
    from congvu.directory.models import Person

    _require_reader(actor)
    if not person_ids:
        return []
    listed = _listed("person", "person_id")
    rows = {r["id"]: r for r in Person.objects.filter(pk__in=person_ids)
            .annotate(address=Subquery(listed.values("address")[:1]))
            .values(*ROW_FIELDS)}
    return [rows[pk] for pk in person_ids if pk in rows and rows[pk]["address"]]


def agency_mailboxes(actor: Actor, query: DirectoryQuery,
                     agency_ids: Iterable[int] | None = None) -> QuerySet[Agency]:
    """Agencies whose own mailbox is listed (NB-11.5 publishes the agency's and its
    units' addresses too), each with its ``address``, matching ``query``, within
    ``agency_ids`` if given."""
    from congvu.directory.models import Agency

    _require_reader(actor)
    listed = agency_mailbox()
    qs = _matching(Agency.objects.all(), query)
    if agency_ids is not None:
        qs = qs.filter(pk__in=list(agency_ids))
    found: QuerySet[Agency] = (
        qs.filter(Exists(listed))
        .annotate(address=Subquery(listed.values("address")[:1]))
        .select_related("parent")
        .only("id", "name", "account_name", "search_key", "parent__name",
              "parent__account_name")
        .order_by("search_key", "id"))
    return found
