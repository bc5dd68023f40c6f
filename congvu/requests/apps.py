from django.apps import AppConfig


class ServiceRequestsConfig(AppConfig):
    name = "congvu.requests"
    label = "service_requests"
    verbose_name = "Requests"
    default_auto_field = "django.db.models.BigAutoField"
