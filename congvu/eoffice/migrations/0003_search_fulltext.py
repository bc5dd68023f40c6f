"""The full-text search (issue 7): the text of each document's latest PDF (``body_text``,
and folded ``body_key``), then the database's own full-text index over the folded
metadata and body: PostgreSQL a generated ``tsvector`` column (``simple`` configuration)
with a GIN index; SQLite an FTS5 table over the document table, kept in sync by
triggers. See :mod:`congvu.eoffice.fulltext`."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    from congvu.eoffice.fulltext import install_index

    install_index(schema_editor.connection)


def backwards(apps, schema_editor):
    from congvu.eoffice.fulltext import remove_index

    remove_index(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("eoffice", "0002_search_trigram"),
    ]

    operations = [
        migrations.AddField(
            model_name="incomingdocument",
            name="body_key",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="incomingdocument",
            name="body_text",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="outgoingdocument",
            name="body_key",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="outgoingdocument",
            name="body_text",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddIndex(
            model_name="outgoingdocument",
            index=models.Index(fields=["agency", "created_at"], name="eoffice_out_created"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
