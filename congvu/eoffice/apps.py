from django.apps import AppConfig


class EofficeConfig(AppConfig):
    name = "congvu.eoffice"
    label = "eoffice"
    verbose_name = "eOffice"
    default_auto_field = "django.db.models.BigAutoField"
