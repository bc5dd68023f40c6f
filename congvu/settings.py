"""Django settings: one module, driven by ``$CONGVU_HOME/congvu.toml`` and env vars."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_noop

from congvu import deployment

BASE_DIR = Path(__file__).resolve().parent
CONGVU_HOME = deployment.home()
_config = deployment.read_config()

# Before `congvu init` (pure commands such as `naming suggest`) there is no key on disk.
SECRET_KEY = _config.get("secret_key") or secrets.token_urlsafe(50)
DEBUG = bool(_config.get("debug", False))
ALLOWED_HOSTS: list[str] = list(_config.get("allowed_hosts", ["localhost", "127.0.0.1", "[::1]"]))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "congvu.audit",
    "congvu.directory",
    "congvu.accounts",
    "congvu.requests",
    "congvu.jobs",
    "congvu.imports",
    "congvu.reports",
    "congvu.sso",
    "congvu.web",
    "congvu.console",
    "congvu.eoffice",
    "congvu.calendars",
    "congvu.messaging",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "congvu.web.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "congvu.web.middleware.VietnameseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "congvu.sso.middleware.SsoSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "congvu.urls"
WSGI_APPLICATION = "congvu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "congvu.console.views.nav",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    url = deployment.database_url()
    if url:
        db = dj_database_url.parse(url, conn_max_age=60)
        db.setdefault("TEST", {})
        return {"default": db}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(CONGVU_HOME / deployment.SQLITE_FILE),
            # WAL lets readers work while the lifecycle sweep writes; IMMEDIATE avoids
            # lock upgrades failing under concurrent writers.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Account"
# Argon2id only: the same PHC string is later verified by Dovecot ({ARGON2ID}).
PASSWORD_HASHERS = [
    "congvu.accounts.hashers.Argon2idHasher",
    # Only for client secrets (random, 256-bit); see congvu/sso/hashers.py.
    "congvu.sso.hashers.ClientSecretHasher",
]
ARGON2 = {
    "memory_cost": int(_config.get("argon2", {}).get("memory_cost", 19456)),  # KiB (OWASP)
    "time_cost": int(_config.get("argon2", {}).get("time_cost", 2)),
    "parallelism": int(_config.get("argon2", {}).get("parallelism", 1)),
}

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = CONGVU_HOME / "static"

# Security by default (the web console and SSO build on these).
SESSION_COOKIE_SECURE = bool(_config.get("secure_cookies", True))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

# Single sign-on (issue 5). Lifetimes from the deployment's [sso] settings.
_sso = _config.get("sso", {})
SSO_SESSION_SECONDS = int(_sso.get("session_hours", 10) * 3600)
SESSION_COOKIE_AGE = SSO_SESSION_SECONDS
SESSION_COOKIE_NAME = "congvu_session"
LOGIN_URL = "/sso/login/"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OAUTH2_VALIDATOR_CLASS": "congvu.sso.validator.CongvuValidator",
    # Marked for translation; authorize.html translates them when it shows them.
    "SCOPES": {"openid": gettext_noop("Your identity (OpenID Connect)"),
               "profile": gettext_noop("Name, agency, position, roles"),
               "email": gettext_noop("E-mail address"),
               "offline_access": gettext_noop("Stay signed in (refresh)")},
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,  # per client: CongvuValidator.is_pkce_required
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only, as discovery says
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],  # http only for loopback (actions)
    "CLIENT_SECRET_HASHER": "congvu_client_sha256",
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(_sso.get("access_token_seconds", 600)),
    "ID_TOKEN_EXPIRE_SECONDS": int(_sso.get("id_token_seconds", 600)),
    "REFRESH_TOKEN_EXPIRE_SECONDS": SSO_SESSION_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,  # congvu ends the session's tokens
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
}
# django-oauth-toolkit's own models (not swapped); named because its migrations ask.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
