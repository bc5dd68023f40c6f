from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "congvu.messaging"
    label = "messaging"
    verbose_name = "Internal messages"
    default_auto_field = "django.db.models.BigAutoField"
