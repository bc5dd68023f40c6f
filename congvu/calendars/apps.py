from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "congvu.calendars"
    label = "calendars"
    verbose_name = "Work calendars"
    default_auto_field = "django.db.models.BigAutoField"
