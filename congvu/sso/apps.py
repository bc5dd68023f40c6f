from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "congvu.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from congvu.sso import receivers  # noqa: F401  (connects the account signals)
