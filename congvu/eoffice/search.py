"""Searching the documents a person may read (issue 7, GL-2 "search"): incoming and
outgoing together, over the metadata (number and symbol, summary, issuer, signer,
field) and the full text of their PDFs, without tone marks ("quyet dinh chuyen doi so"
finds "Quyết định … chuyển đổi số"). Every word must match; the last one may be the
start of a word (the user is typing).

Visibility is :func:`congvu.eoffice.access.incoming_q` / ``outgoing_q``, the same filter
as every other list, so a search never reveals a document (or that it exists) to someone
who may not read it. The full-text match is the database's index
(:mod:`congvu.eoffice.fulltext`): PostgreSQL ``tsvector @@ tsquery`` on a GIN index,
SQLite FTS5. Results are newest first, merged from the two kinds; pages are numbered up
to :data:`MAX_PAGES` (past that, more words or filters help more than more pages).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr

from congvu.actors import Actor
from congvu.eoffice import rules
from congvu.eoffice.access import Powers, incoming_q, outgoing_q, powers_for
from congvu.eoffice.fulltext import key
from congvu.eoffice.models import LEADERS, IncomingDocument, OfficeRole, OutgoingDocument

PAGE_SIZE = 20
MAX_PAGES = 25
MAX_WORDS = 10
#: How much of a document's text the snippet looks at.
SNIPPET_SCAN = 30_000
SNIPPET_WIDTH = 220

KINDS = ("incoming", "outgoing")
_IN, _OUT = "eoffice_incomingdocument", "eoffice_outgoingdocument"
#: Each document table's FTS5 table (SQLite).
_FTS = {_IN: "eoffice_in_fts", _OUT: "eoffice_out_fts"}
R = OfficeRole


@dataclass(frozen=True)
class SearchFilters:
    kind: str = ""
    year: int | None = None
    doc_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True)
class Hit:
    kind: str
    id: int
    #: Số đến ("12/2026") or the number and symbol of an outgoing document.
    number: str
    #: Arrival (incoming) or document date (outgoing; creation date of an unnumbered draft).
    date: dt.date
    type_name: str
    summary: str
    issuer: str
    number_symbol: str
    status: str
    confidentiality: str
    #: (text, matched) pieces of the PDF's text around the first match.
    snippet: tuple[tuple[str, bool], ...]
    sort_key: tuple[dt.datetime, int]

    @property
    def url(self) -> str:
        return f"/console/eoffice/{self.kind}/{self.id}/"


@dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    number: int
    more: bool
    words: tuple[str, ...]


def parse_query(text: str) -> tuple[str, ...]:
    """The folded words of a query (at most :data:`MAX_WORDS`)."""
    return tuple(key(text or "").split()[:MAX_WORDS])


def _tsquery(words: tuple[str, ...]) -> str:
    """Every word, the last as a prefix (the words are ``[a-z0-9]+``: nothing to quote)."""
    return " & ".join((*words[:-1], words[-1] + ":*"))


def _match(table: str, fts: str, words: tuple[str, ...]) -> Q:
    """The full-text condition on ``table`` (every word; the last as a prefix)."""
    if connection.vendor == "postgresql":
        # The table names are constants.
        query = _tsquery(words)
        return Q(RawSQL(f'"{table}"."search_vector" @@ to_tsquery(\'simple\', %s)',  # noqa: S611
                        (query,), output_field=BooleanField()))
    if connection.vendor == "sqlite":
        query = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
        return Q(RawSQL(  # noqa: S611
            f'"{table}"."id" IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)',  # noqa: S608
            (query,), output_field=BooleanField()))
    q = Q()
    for w in words:  # another database: a scan of the folded metadata
        q &= Q(search_text__contains=w) | Q(body_key__contains=w)
    return q


def _range(start: dt.date | None, end: dt.date | None, tz: ZoneInfo
           ) -> tuple[dt.datetime | None, dt.datetime | None]:
    return ((dt.datetime.combine(start, dt.time(), tzinfo=tz) if start else None),
            (dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
             if end else None))


def _period(f: SearchFilters) -> tuple[dt.date | None, dt.date | None]:
    start, end = f.date_from, f.date_to
    if f.year:
        y0, y1 = dt.date(f.year, 1, 1), dt.date(f.year, 12, 31)
        start = max(start, y0) if start else y0
        end = min(end, y1) if end else y1
    return start, end


def _incoming(powers: Powers, f: SearchFilters,
              tz: ZoneInfo) -> QuerySet[IncomingDocument]:
    found = IncomingDocument.objects.filter(incoming_q(powers))
    start, end = _range(*_period(f), tz)
    if start:
        found = found.filter(received_at__gte=start)
    if end:
        found = found.filter(received_at__lt=end)
    if f.doc_type:
        found = found.filter(doc_type=rules.doc_type(f.doc_type, incoming=True).key)
    return found.order_by("-received_at", "-id")


def _outgoing(powers: Powers, f: SearchFilters,
              tz: ZoneInfo) -> QuerySet[OutgoingDocument]:
    found = OutgoingDocument.objects.filter(outgoing_q(powers))
    start, end = _range(*_period(f), tz)
    if start:
        found = found.filter(created_at__gte=start)
    if end:
        found = found.filter(created_at__lt=end)
    if f.doc_type:
        found = found.filter(doc_type=rules.doc_type(f.doc_type).key)
    return found.order_by("-created_at", "-id")


#: How long a table's common words are remembered (they change with ANALYZE).
COMMON_TTL_S = 600.0
#: The walk looks at this many of the newest readable rows per wanted row (at least
#: :data:`WALK_MIN`) before the word index takes over.
WALK_PER_ROW = 200
WALK_MIN = 10_000
_common: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}


def _common_words(cursor: Any, table: str) -> frozenset[str]:
    """The words PostgreSQL's statistics list as common in ``table`` (``pg_stats``'
    ``most_common_elems`` of the tsvector: about the top thousand, each in at least about
    1 % of the rows), remembered for :data:`COMMON_TTL_S`. Empty before the first
    ``ANALYZE``: every word is then treated as rare, which is always correct, only not
    always fastest."""
    cache_key = (connection.settings_dict["NAME"], table)
    now = time.monotonic()
    hit = _common.get(cache_key)
    if hit and hit[0] > now:
        return hit[1]
    cursor.execute("SELECT most_common_elems::text::text[] FROM pg_stats "
                   "WHERE schemaname = current_schema() AND tablename = %s "
                   "AND attname = 'search_vector'", [table])
    row = cursor.fetchone()
    words = frozenset(row[0] or ()) if row else frozenset()
    _common[cache_key] = (now + COMMON_TTL_S, words)
    return words


def _rare_terms(words: tuple[str, ...], common: frozenset[str]) -> list[str]:
    """The query's terms that are not common; the last word is a prefix (the user may
    be typing), common if some common word starts with it."""
    terms = []
    for i, word in enumerate(words):
        if i == len(words) - 1:
            if not any(c.startswith(word) for c in common):
                terms.append(word + ":*")
        elif word not in common:
            terms.append(word)
    return terms


def _filter_only(table: str, words: tuple[str, ...]) -> Q:
    """The full-text condition as a row filter the word index cannot answer
    (``ts_match_vq`` is the function behind ``@@``)."""
    return Q(RawSQL(f'ts_match_vq("{table}"."search_vector", to_tsquery(\'simple\', %s))',  # noqa: S611
                    (_tsquery(words),), output_field=BooleanField()))


def _walk(found: QuerySet[Any], table: str, words: tuple[str, ...], wanted: int,
          fields: tuple[str, ...], date: str) -> list[dict[str, Any]] | None:
    """The newest ``wanted`` matches among the newest readable rows (a bounded walk of
    the date index, each row tested), or None when the window holds fewer: then they
    are not known to be the newest, and the word index must answer."""
    window = max(WALK_MIN, WALK_PER_ROW * wanted)
    vector = RawSQL(f'"{table}"."search_vector"', ())  # noqa: S611 (a constant)
    inner = found.annotate(sv=vector).values(*fields, "sv")
    sql, params = inner[:window].query.sql_with_params()
    columns = ", ".join(f'w."{f}"' for f in fields)
    with connection.cursor() as cursor:
        # The inner statement is Django's; the names are the constants of this module.
        cursor.execute(
            f"SELECT {columns} FROM ({sql}) AS w "  # noqa: S608
            f"WHERE ts_match_vq(w.sv, to_tsquery('simple', %s)) "
            f'ORDER BY w."{date}" DESC, w."id" DESC LIMIT %s',
            [*params, _tsquery(words), wanted])
        rows = [dict(zip(fields, row, strict=True)) for row in cursor.fetchall()]
    return rows if len(rows) >= wanted else None


def _fetch(found: QuerySet[Any], table: str, words: tuple[str, ...], wanted: int,
           wide: bool, fields: tuple[str, ...], date: str) -> list[dict[str, Any]]:
    """The first ``wanted`` readable rows of ``found`` matching ``words``, newest first.

    SQLite: FTS5 gives the matches, then a sort. PostgreSQL, where a GIN index reads
    every posting of every word (tens of milliseconds for words in a tenth of a million
    documents, and then each match is fetched to be sorted), the words decide the plan:

    - with a rare word (one not in the table's common words): the index answers for the
      rare words only, and each of their few rows is tested for all the words;
    - with only common words, for a reader who sees the whole agency: the newest
      readable rows are walked in date order, each tested, within a window; the
      newest matches are there unless the words are rarer together than apart, when
      the index answers for all of them.

    A sequential scan is never right here (the indexes answer all of it), and JIT
    compilation is off: the plans' estimated costs are high (a walk that stops early),
    their run time a few milliseconds; compiling them would cost tens."""
    if not words:
        return list(found.values(*fields)[:wanted])
    if connection.vendor != "postgresql":
        return list(found.filter(_match(table, _FTS[table], words)).values(*fields)[:wanted])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL enable_seqscan = off")
        try:
            rare = _rare_terms(words, _common_words(cursor, table))
            if rare:
                narrowed = found.filter(Q(RawSQL(  # noqa: S611
                    f'"{table}"."search_vector" @@ to_tsquery(\'simple\', %s)',
                    (" & ".join(rare),), output_field=BooleanField())))
                return list(narrowed.filter(_filter_only(table, words))
                            .values(*fields)[:wanted])
            if wide:
                walked = _walk(found, table, words, wanted, fields, date)
                if walked is not None:
                    return walked
            return list(found.filter(_match(table, _FTS[table], words)).values(*fields)[:wanted])
        finally:  # inside an outer transaction, the rest of it plans as usual
            cursor.execute("RESET jit; RESET enable_seqscan")


_FIELDS = ("id", "number", "year", "received_at", "doc_type", "type_name", "summary",
           "issuer", "number_symbol", "status", "confidentiality")
_OUT_FIELDS = ("id", "number_text", "document_date", "created_at", "doc_type", "summary",
               "signer", "status", "confidentiality")


def search(actor: Actor, now: dt.datetime, text: str, *,
           filters: SearchFilters | None = None, page: int = 1,
           tz: str = "Asia/Ho_Chi_Minh") -> SearchPage:
    """One page of the documents the actor may read that match ``text`` and the filters,
    newest first. An empty query lists the newest readable documents (with filters)."""
    f = filters or SearchFilters()
    zone = ZoneInfo(tz)
    words = parse_query(text)
    number = min(max(page, 1), MAX_PAGES)
    wanted = number * PAGE_SIZE + 1
    types = dict(rules.INCOMING_TYPE_CHOICES)
    merged: list[list[Hit]] = []
    powers = powers_for(actor, now)
    wide = bool(powers.agencies(R.CLERK, *LEADERS))
    if f.kind in ("", "incoming"):
        rows = _fetch(_incoming(powers, f, zone), _IN, words, wanted, wide, _FIELDS,
                      "received_at")
        merged.append([Hit(
            kind="incoming", id=r["id"],
            number=f"{rules.number_digits(r['number'])}/{r['year']}" if r["number"] else "",
            date=r["received_at"].astimezone(zone).date(),
            type_name=r["type_name"] or types.get(r["doc_type"], ""), summary=r["summary"],
            issuer=r["issuer"], number_symbol=r["number_symbol"], status=r["status"],
            confidentiality=r["confidentiality"], snippet=(),
            sort_key=(r["received_at"], r["id"])) for r in rows])
    if f.kind in ("", "outgoing"):
        rows = _fetch(_outgoing(powers, f, zone), _OUT, words, wanted, wide, _OUT_FIELDS,
                      "created_at")
        merged.append([Hit(
            kind="outgoing", id=r["id"], number=r["number_text"].removeprefix("Số: "),
            date=r["document_date"] or r["created_at"].astimezone(zone).date(),
            type_name=types.get(r["doc_type"], ""), summary=r["summary"], issuer=r["signer"],
            number_symbol=r["number_text"].removeprefix("Số: "), status=r["status"],
            confidentiality=r["confidentiality"], snippet=(),
            sort_key=(r["created_at"], r["id"])) for r in rows])
    ordered = list(heapq.merge(*merged, key=lambda h: h.sort_key, reverse=True))
    start = (number - 1) * PAGE_SIZE
    hits = ordered[start:start + PAGE_SIZE]
    if words:
        hits = _with_snippets(hits, words)
    return SearchPage(hits, number, len(ordered) > start + PAGE_SIZE and number < MAX_PAGES,
                      words)


def _with_snippets(hits: list[Hit], words: tuple[str, ...]) -> list[Hit]:
    """The page's snippets: only its documents' texts are read (the start of each)."""
    head = Substr("body_text", 1, SNIPPET_SCAN)
    texts: dict[tuple[str, int], str] = {}
    for kind, model in (("incoming", IncomingDocument), ("outgoing", OutgoingDocument)):
        ids = [h.id for h in hits if h.kind == kind]
        if ids:
            for pk, body in (model._default_manager.filter(pk__in=ids)
                             .annotate(head=head).values_list("pk", "head")):
                texts[(kind, pk)] = body or ""
    return [dataclasses.replace(h, snippet=snippet(texts.get((h.kind, h.id), ""), words))
            for h in hits]


# --- snippets -------------------------------------------------------------------------------


def _fold_table() -> dict[int, str]:
    """One character for one character (so positions in the folded text are positions
    in the original): Vietnamese letters to their base letter, anything else kept."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "d"}
    for cp in range(0x00C0, 0x1F00):
        base = unicodedata.normalize("NFD", chr(cp))[0]
        if base.isascii() and base.isalpha():
            table[cp] = base.lower()
    return table


_TABLE = _fold_table()


def snippet(text: str, words: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """A window of ``text`` around the first match of ``words``, the matches marked."""
    if not text or not words:
        return ()
    source = text[:SNIPPET_SCAN]
    folded = source.translate(_TABLE).lower()
    if len(folded) != len(source):
        return ()
    pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(
        re.escape(w) + ("[a-z0-9]*" if i == len(words) - 1 else "(?![a-z0-9])")
        for i, w in enumerate(words)) + ")")
    # Around the words as typed, together, if they occur so; else the first of them.
    phrase = re.compile(r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(map(re.escape, words)))
    first = phrase.search(folded) or pattern.search(folded)
    if first is None:
        return ()
    begin = max(0, first.start() - SNIPPET_WIDTH // 3)
    if begin:
        space = source.find(" ", begin)
        begin = space + 1 if 0 <= space < first.start() else begin
    end = min(len(source), begin + SNIPPET_WIDTH)
    if end < len(source):
        space = source.rfind(" ", first.end(), end)
        end = space if space > 0 else end
    parts: list[tuple[str, bool]] = [("… ", False)] if begin else []
    at = begin
    for m in pattern.finditer(folded, begin, end):
        if m.start() > at:
            parts.append((source[at:m.start()], False))
        parts.append((source[m.start():m.end()], True))
        at = m.end()
    if at < end:
        parts.append((source[at:end], False))
    if end < len(source):
        parts.append((" …", False))
    return tuple(parts)
