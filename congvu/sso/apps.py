from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "congvu.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from congvu.sso import receivers  # noqa: F401  (connects the account signals)

        # congvu records a sign-in itself (mail.actions.do_record_auth_success: last_login,
        # last_activity_at and the NB-7.2a reset, for every path); Django's own receiver
        # would write last_login a second time on every SSO sign-in.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
