"""Provider URLs. DOT's views are reversed by name in its namespace (``oauth2_provider``),
so every endpoint sits in that namespace; discovery is at the issuer's root."""

from __future__ import annotations

from django.urls import path, re_path
from oauth2_provider import views as dot

from congvu.sso import views

app_name = "oauth2_provider"

urlpatterns = [
    re_path(r"^\.well-known/openid-configuration/?$", views.DiscoveryView.as_view(),
            name="oidc-connect-discovery-info"),
    path("sso/", views.account_home, name="sso-home"),
    path("sso/login/", views.sign_in, name="sso-login"),
    path("sso/signout/", views.sign_out, name="sso-signout"),
    path("sso/password/", views.change_password, name="sso-password"),
    path("sso/totp/", views.second_factor, name="sso-totp"),
    path("sso/totp/enrol/", views.enrol_second_factor, name="sso-totp-enrol"),
    path("sso/passkey/", views.passkey_sign_in, name="sso-passkey"),
    path("sso/passkey/options/", views.passkey_options, name="sso-passkey-options"),
    path("sso/passkeys/add/", views.passkey_add, name="sso-passkey-add"),
    path("sso/passkeys/add/options/", views.passkey_add_options,
         name="sso-passkey-add-options"),
    path("sso/passkeys/<int:passkey_id>/remove/", views.passkey_remove,
         name="sso-passkey-remove"),
    path("sso/authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("sso/token/", views.TokenView.as_view(), name="token"),
    path("sso/revoke/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("sso/introspect/", views.introspect, name="introspect"),
    path("sso/userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("sso/jwks.json", views.JwksView.as_view(), name="jwks-info"),
    path("sso/logout/", views.LogoutView.as_view(), name="rp-initiated-logout"),
]
