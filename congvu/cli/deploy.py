"""``congvu init`` and ``congvu serve``: create a deployment and run it."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

import click
from django.utils.translation import gettext as _

from congvu import deployment
from congvu.cli.common import emit_json, json_option, lang_option, now_option
from congvu.errors import CongvuError
from congvu.profiles import load_profile

_TEMPLATE = """\
# congvu deployment settings, written by `congvu init` on {created}.
# Keep this file private (it holds the secret key).
profile_name = "{profile}"
secret_key = "{secret}"
created_at = "{created}"

# Any value of the profile may be overridden here, e.g.:
# [profile.password]
# min_length = 12
# [profile.mail]
# quota_personal_mb = 4096
"""


def _write_settings(path: Path, profile: str) -> None:
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = _TEMPLATE.format(created=created, profile=profile, secret=secrets.token_urlsafe(50))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in DATABASE_URL if it does not exist yet."""
    import dj_database_url
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    cfg = dj_database_url.parse(url)
    params: dict[str, Any] = {"host": cfg.get("HOST"), "port": cfg.get("PORT"),
                              "user": cfg.get("USER"), "password": cfg.get("PASSWORD")}
    try:
        conninfo = make_conninfo(dbname="postgres", connect_timeout=10,
                                 **{k: v for k, v in params.items() if v})
        with psycopg.connect(conninfo, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (cfg["NAME"],)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
    except psycopg.Error as exc:
        raise CongvuError(_("Cannot prepare the PostgreSQL database: %(error)s") % {
            "error": str(exc).strip()}) from exc


@click.command("init")
@click.option("--profile", "profile_name", required=True, metavar="NAME",
              help="ninh-binh, khanh-hoa, quang-nam, ninh-thuan or gia-lai.")
@click.option("--operator", "operator_name", default="quantri", show_default=True,
              help="Local part of the first operator account.")
@now_option
@json_option
@lang_option
def init(profile_name: str, operator_name: str, now_text: str | None, as_json: bool) -> None:
    """Create the deployment in $CONGVU_HOME: settings file, database, migrations, and a
    first operator account whose one-time password is printed once."""
    from django.core.management import call_command

    from congvu.accounts.actions import do_create_operator
    from congvu.accounts.models import Account
    from congvu.actors import cli_operator
    from congvu.cli.common import resolve_now

    profile = load_profile(profile_name)
    home = deployment.home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = deployment.settings_path()
    if path.exists():
        existing = deployment.read_config().get("profile_name")
        if existing != profile_name:
            raise CongvuError(_("%(home)s is already a deployment of profile %(existing)r; "
                                "choose another CONGVU_HOME.") % {"home": home,
                                                                  "existing": existing})
    else:
        _write_settings(path, profile_name)
    deployment.reset_caches()
    profile = deployment.deployment_profile()
    url = deployment.database_url()
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        _ensure_postgres_database(url)
    call_command("migrate", interactive=False, verbosity=0)

    otp = None
    operator = Account.objects.filter(is_operator=True).order_by("id").first()
    if operator is None:
        operator, otp = do_create_operator(actor=cli_operator(), profile=profile,
                                           local_part=operator_name,
                                           now=resolve_now(profile, now_text))
    database = url.split("@")[-1] if url else str(home / deployment.SQLITE_FILE)
    if as_json:
        emit_json({"home": str(home), "profile": profile.name, "database": database,
                   "operator": operator.address, "one_time_password": otp})
        return
    click.echo(_("Deployment ready in %(home)s (profile %(profile)s, database %(db)s).") % {
        "home": home, "profile": profile.name, "db": database})
    if otp:
        click.echo(_("Operator account: %(address)s") % {"address": operator.address})
        click.echo(_("One-time password (shown only this once; change it at first sign-in): "
                     "%(otp)s") % {"otp": otp})
    else:
        click.echo(_("Already initialised; the database schema is up to date."))


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, metavar="HOST:PORT")
@click.option("--threads", default=8, show_default=True)
@lang_option
def serve(bind: str, threads: int) -> None:
    """Serve the web pages of the deployment (the web console and SSO build on it)."""
    from waitress import serve as waitress_serve

    from congvu.wsgi import application

    deployment.deployment_profile()  # a clear error before init
    host, _sep, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise CongvuError(_("Invalid --bind %(bind)r: expected HOST:PORT.") % {"bind": bind})
    click.echo(_("Serving congvu on http://%(bind)s/ (Ctrl+C stops).") % {"bind": bind})
    waitress_serve(application, host=host.strip("[]"), port=int(port), threads=threads,
                   ident="congvu")


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(serve)
