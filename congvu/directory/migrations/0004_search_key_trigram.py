"""PostgreSQL only: a trigram index on the persons' search key, so the directory's
"word starts with" search (``search_key LIKE '% nguyen%'``) reads the index instead of
the whole table (issue 6: p95 < 150 ms with 50,000 accounts). Skipped on SQLite (its
scan of the key's B-tree index is fast enough) and where pg_trgm cannot be installed
(the search still works, by a scan)."""

from typing import Any

from django.db import DatabaseError, migrations, transaction

INDEX = "directory_person_search_trgm"


def forwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON directory_person "
                       "USING gin (search_key gin_trgm_ops)")


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("directory", "0003_search_keys")]
    operations = [migrations.RunPython(forwards, backwards)]
