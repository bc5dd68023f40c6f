from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DirectoryConfig(AppConfig):
    name = "congvu.directory"
    label = "directory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from congvu.directory import fts

        # After every migrate, not per app: a later app's migration may rebuild the table.
        post_migrate.connect(fts.ensure, dispatch_uid="congvu.directory.fts")
