from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "congvu.console"
    label = "console"
