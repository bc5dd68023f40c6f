"""PostgreSQL only: trigram indexes for the search (``search_text LIKE '%…%'``) on a
million documents. Skipped on SQLite, and where pg_trgm cannot be installed (the search
still works, by a scan)."""

from django.db import DatabaseError, migrations, transaction

INDEXES = (
    ("eoffice_in_search_trgm", "eoffice_incomingdocument"),
    ("eoffice_out_search_trgm", "eoffice_outgoingdocument"),
)


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return
        for name, table in INDEXES:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                           "USING gin (search_text gin_trgm_ops)")


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name, _table in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("eoffice", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
