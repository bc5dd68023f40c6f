import uuid

from django.db import migrations, models


def fill_subjects(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    for pk in Account.objects.values_list("pk", flat=True).iterator():
        Account.objects.filter(pk=pk).update(subject=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_notice")]

    operations = [
        migrations.AddField(model_name="account", name="subject",
                            field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill_subjects, migrations.RunPython.noop),
        migrations.AlterField(model_name="account", name="subject",
                              field=models.UUIDField(default=uuid.uuid4, editable=False,
                                                     unique=True)),
    ]
