from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "congvu.reports"
    label = "reports"
    verbose_name = "Reports"
