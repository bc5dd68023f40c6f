"""SQLite's word index of the directory's search keys (issue 6): an FTS5 table over
``directory_person.search_key``, kept by triggers.

Why: a search whose words are rare ("phong to chuc 1211", a surname and given name)
otherwise scans every key in key order looking for a few matches; FTS5 finds them by
word prefix (the same rule as :mod:`congvu.directory.search`: each query word starts a
word of the key) in a millisecond. Broad searches ("thi", "anh") keep the ordered scan:
their matches are dense, so the first page is found after a short walk, where sorting
thousands of FTS hits would cost more. PostgreSQL has its trigram index instead
(migration ``directory.0004``); SQLite without FTS5 keeps the scan.

The table and triggers are (re)made after every ``migrate`` (:func:`ensure`, on
``post_migrate``): Django rebuilds a SQLite table to alter it, which drops its triggers,
so a migration that touches ``directory_person`` would otherwise leave the index stale.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connections

TABLE = "directory_person_fts"
TRIGGERS = {
    "directory_person_fts_ai": (
        "AFTER INSERT ON directory_person BEGIN "
        "INSERT INTO directory_person_fts(rowid, search_key) VALUES (new.id, new.search_key); "
        "END"),
    "directory_person_fts_ad": (
        "AFTER DELETE ON directory_person BEGIN "
        "INSERT INTO directory_person_fts(directory_person_fts, rowid, search_key) "
        "VALUES ('delete', old.id, old.search_key); END"),
    "directory_person_fts_au": (
        "AFTER UPDATE OF search_key ON directory_person BEGIN "
        "INSERT INTO directory_person_fts(directory_person_fts, rowid, search_key) "
        "VALUES ('delete', old.id, old.search_key); "
        "INSERT INTO directory_person_fts(rowid, search_key) VALUES (new.id, new.search_key); "
        "END"),
}
#: Beyond this many hits the ordered scan is cheaper than sorting the hits.
MAX_CANDIDATES = 1000


def ensure(using: str = "default", **_kwargs: Any) -> bool:
    """Create the index and its triggers where missing, refilling the index when anything
    was missing (writes in between went unindexed). Returns whether the index is usable."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        present = {name for (name,) in cursor.execute(
            "SELECT name FROM sqlite_master WHERE name = %s OR (type = 'trigger' AND "
            "tbl_name = 'directory_person')", [TABLE])}
        if "directory_person" not in {name for (name,) in cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}:
            return False  # before the directory's first migration
        missing = [name for name in (TABLE, *TRIGGERS) if name not in present]
        if not missing:
            return True
        try:
            cursor.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS directory_person_fts USING fts5(search_key, "
                "content='directory_person', content_rowid='id', tokenize='unicode61', "
                "prefix='1 2 3')")
        except DatabaseError:
            return False  # SQLite built without FTS5: the ordered scan still answers
        for name, body in TRIGGERS.items():
            # Names and bodies are the constants above.
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        cursor.execute("INSERT INTO directory_person_fts(directory_person_fts) VALUES ('rebuild')")
    return True


def candidates(words: tuple[str, ...], using: str = "default") -> list[int] | None:
    """The ids of persons whose key has a word starting with each of ``words``, when
    there are at most :data:`MAX_CANDIDATES`; None when there are more, or there is no
    index here (not SQLite, no FTS5): the caller scans instead."""
    connection = connections[using]
    if connection.vendor != "sqlite" or not words:
        return None
    # The words are [a-z0-9]+ (search.words), so quoting them is enough.
    expression = " AND ".join(f'"{word}"*' for word in words)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rowid FROM directory_person_fts "
                           "WHERE directory_person_fts MATCH %s LIMIT %s",
                           [expression, MAX_CANDIDATES + 1])
            ids = [pk for (pk,) in cursor.fetchall()]
    except DatabaseError:
        return None
    return ids if len(ids) <= MAX_CANDIDATES else None
