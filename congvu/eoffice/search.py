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
#: "Common words": at least this many matches per wanted row (DENSE_CAP at most).
DENSE_MATCHES = 100
DENSE_CAP = 20_000
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


def _incoming(powers: Powers, words: tuple[str, ...], f: SearchFilters,
              tz: ZoneInfo) -> QuerySet[IncomingDocument]:
    found = IncomingDocument.objects.filter(incoming_q(powers))
    if words:
        found = found.filter(_match("eoffice_incomingdocument", "eoffice_in_fts", words))
    start, end = _range(*_period(f), tz)
    if start:
        found = found.filter(received_at__gte=start)
    if end:
        found = found.filter(received_at__lt=end)
    if f.doc_type:
        found = found.filter(doc_type=rules.doc_type(f.doc_type, incoming=True).key)
    return found.order_by("-received_at", "-id")


def _outgoing(powers: Powers, words: tuple[str, ...], f: SearchFilters,
              tz: ZoneInfo) -> QuerySet[OutgoingDocument]:
    found = OutgoingDocument.objects.filter(outgoing_q(powers))
    if words:
        found = found.filter(_match("eoffice_outgoingdocument", "eoffice_out_fts", words))
    start, end = _range(*_period(f), tz)
    if start:
        found = found.filter(created_at__gte=start)
    if end:
        found = found.filter(created_at__lt=end)
    if f.doc_type:
        found = found.filter(doc_type=rules.doc_type(f.doc_type).key)
    return found.order_by("-created_at", "-id")


def _dense(cursor: Any, table: str, words: tuple[str, ...], cap: int) -> bool:
    """Whether at least ``cap`` documents match (PostgreSQL; counted on the GIN index and
    the visibility map, without reading rows once the table is vacuumed)."""
    cursor.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE search_vector @@ "  # noqa: S608
        "to_tsquery('simple', %s) LIMIT %s) AS found", [_tsquery(words), cap])
    row = cursor.fetchone()
    return bool(row and row[0] >= cap)


def _fetch(found: QuerySet[Any], table: str, words: tuple[str, ...], wanted: int,
           wide: bool) -> list[dict[str, Any]]:
    """The first ``wanted`` rows, newest first.

    On PostgreSQL, when a reader who sees the whole agency searches common words
    (thousands of matches), the newest rows are found by walking the date index and
    testing each row, which stops after a few hundred rows; the planner cannot know that
    (it underestimates how often words such as "chuyen doi so" occur together) and would
    fetch every match to sort them. Rare words keep the GIN index, then a sort of a few
    rows. A sequential scan is never right here (the index answers both), and JIT
    compilation is off: the plans' estimated costs are high (a walk that stops early),
    their run time a few milliseconds, compiling them would cost tens."""
    if connection.vendor != "postgresql":
        return list(found[:wanted])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL enable_seqscan = off")
        try:
            if words and wide and _dense(cursor, table, words,
                                         min(DENSE_MATCHES * wanted, DENSE_CAP)):
                cursor.execute("SET LOCAL enable_bitmapscan = off")
            return list(found[:wanted])
        finally:  # inside an outer transaction, the rest of it plans as usual
            cursor.execute("RESET jit; RESET enable_seqscan; RESET enable_bitmapscan")


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
        rows = _fetch(_incoming(powers, words, f, zone).values(*_FIELDS),
                      "eoffice_incomingdocument", words, wanted, wide)
        merged.append([Hit(
            kind="incoming", id=r["id"],
            number=f"{rules.number_digits(r['number'])}/{r['year']}" if r["number"] else "",
            date=r["received_at"].astimezone(zone).date(),
            type_name=r["type_name"] or types.get(r["doc_type"], ""), summary=r["summary"],
            issuer=r["issuer"], number_symbol=r["number_symbol"], status=r["status"],
            confidentiality=r["confidentiality"], snippet=(),
            sort_key=(r["received_at"], r["id"])) for r in rows])
    if f.kind in ("", "outgoing"):
        rows = _fetch(_outgoing(powers, words, f, zone).values(*_OUT_FIELDS),
                      "eoffice_outgoingdocument", words, wanted, wide)
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
