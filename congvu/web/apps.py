from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "congvu.web"
    label = "web"
