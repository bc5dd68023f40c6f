"""The full text of the documents' PDFs, and the database's full-text index (issue 7).

**Extraction.** When a PDF version is stored (``actions._version``), :func:`index_version`
runs ``pdftotext`` on it and keeps the text on its document (``body_text``, shown in
the search's snippets) and folded without tone marks (``body_key``, indexed). It runs
inline, bounded: files up to :data:`MAX_PDF_BYTES`, the first :data:`MAX_PAGES` pages,
:data:`TIMEOUT_S` seconds, :data:`MAX_CHARS` characters; a text PDF of a few pages takes
tens of milliseconds, so no job queue is needed. A scan without a text layer, a damaged
PDF, a timeout: the document is simply searchable by its metadata. The newest PDF wins
(a signed copy replaces the draft's text); other file types leave the text as it was.

**Index.** Over ``search_text`` (folded metadata, written by the actions) and
``body_key``, tokenised as runs of ``[a-z0-9]``:

- PostgreSQL: a stored generated column ``search_vector`` (``to_tsvector('simple', …)``)
  with a GIN index: always in sync, whoever writes the row.
- SQLite: an FTS5 table per document table (external content, ``rowid`` = the
  document's id) kept in sync by ``AFTER INSERT/UPDATE/DELETE`` triggers. A later
  migration that rebuilds these tables on SQLite drops the triggers: it must call
  :func:`install_index` again (it is idempotent and rebuilds the index).
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from congvu.text import fold

if TYPE_CHECKING:
    from congvu.eoffice.models import DocumentVersion

MAX_PDF_BYTES = 50 * 1024 * 1024
MAX_PAGES = 200
TIMEOUT_S = 15.0
MAX_CHARS = 200_000
PDF_MIME = "application/pdf"

#: (document table, FTS5 table / index name prefix).
TABLES = (("eoffice_incomingdocument", "eoffice_in_fts"),
          ("eoffice_outgoingdocument", "eoffice_out_fts"))

_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0b-\x1f]")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9]+")


def clean(text: str) -> str:
    """Extracted text as stored: NFC, without invisible characters, single-spaced."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]


def key(text: str) -> str:
    """The folded form the index holds ("Quyết định" → "quyet dinh")."""
    return " ".join(_TOKEN.findall(fold(text).lower()))


def extract(path: Path) -> str:
    """The PDF's text, or "" (no text layer, damaged, too slow, pdftotext missing)."""
    try:
        if path.stat().st_size > MAX_PDF_BYTES:
            return ""
        proc = subprocess.run(
            ["pdftotext", "-q", "-enc", "UTF-8", "-l", str(MAX_PAGES), str(path), "-"],
            capture_output=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if proc.returncode:
        return ""
    return clean(proc.stdout.decode("utf-8", "replace"))


def index_version(version: DocumentVersion) -> None:
    """Make a newly stored PDF version's text searchable on its document (called in
    the transaction that stores the version)."""
    from congvu.eoffice import files
    from congvu.eoffice.models import IncomingDocument, OutgoingDocument

    if version.mime != PDF_MIME or version.size > MAX_PDF_BYTES:
        return
    try:
        text = extract(files.absolute(version.path))
    except Exception:
        text = ""
    fields = {"body_text": text, "body_key": key(text)}
    if version.incoming_id is not None:
        IncomingDocument.objects.filter(pk=version.incoming_id).update(**fields)
    elif version.outgoing_id is not None:
        OutgoingDocument.objects.filter(pk=version.outgoing_id).update(**fields)


# --- the index --------------------------------------------------------------------------


def _pg_install(cursor: Any) -> None:
    for table, name in TABLES:
        cursor.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, regexp_replace("
            "coalesce(search_text, '') || ' ' || coalesce(body_key, ''), '[^a-z0-9]+', ' ', "
            "'g'))) STORED")
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_vector)")


def _sqlite_install(cursor: Any) -> None:
    for table, fts in TABLES:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text, body_key, "
            f"content='{table}', content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
        # Table names are the constants above.
        delete = (f"INSERT INTO {fts}({fts}, rowid, search_text, body_key) "  # noqa: S608
                  "VALUES ('delete', old.id, old.search_text, old.body_key);")
        insert = (f"INSERT INTO {fts}(rowid, search_text, body_key) "  # noqa: S608
                  "VALUES (new.id, new.search_text, new.body_key);")
        cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} "
                       f"BEGIN {insert} END")
        cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} "
                       f"BEGIN {delete} END")
        cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF search_text, "
                       f"body_key ON {table} BEGIN {delete} {insert} END")
        cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608


def install_index(connection: Any) -> None:
    """Create the full-text index for this database (idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _pg_install(cursor)
        elif connection.vendor == "sqlite":
            _sqlite_install(cursor)


def remove_index(connection: Any) -> None:
    with connection.cursor() as cursor:
        for table, name in TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
                cursor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
            elif connection.vendor == "sqlite":
                for suffix in ("ai", "ad", "au"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
