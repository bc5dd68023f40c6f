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
@click.option("--public-url", default="", metavar="URL",
              help="The address users and applications reach (the SSO issuer); "
                   "default http://HOST:PORT. http:// only for a loopback host.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per server process.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (one Python process uses one core); "
                   "with more than one, the tasks worker runs as one separate process.")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Run the tasks worker (logout notifications, session expiry) too.")
@lang_option
def serve(bind: str, public_url: str, threads: int, workers: int, worker: bool) -> None:
    """Serve the web console and the single sign-on provider."""
    from django.conf import settings

    from congvu import serving
    from congvu.sso import issuer

    deployment.deployment_profile()  # a clear error before init
    host, _sep, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise CongvuError(_("Invalid --bind %(bind)r: expected HOST:PORT.") % {"bind": bind})
    url = issuer.record_public_url(public_url or f"http://{bind}")
    from urllib.parse import urlsplit

    public_host = urlsplit(url).hostname or ""
    if public_host and public_host not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS.append(public_host)
    secure = issuer.is_secure(url)
    if not secure:
        # Browsers do not send Secure cookies over http; allowed only for loopback.
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    else:
        settings.CSRF_TRUSTED_ORIGINS = [url]
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    from congvu.wsgi import application

    click.echo(_("Serving congvu on http://%(bind)s/ as %(url)s (Ctrl+C stops).") % {
        "bind": bind, "url": url})
    if workers == 1:
        serving.serve_single(application, host=host.strip("[]"), port=int(port),
                             threads=threads, secure=secure, run_tasks=worker)
    else:
        # Settings changed above are inherited by the forked server processes.
        serving.serve_workers(application, bind=bind, workers=workers, threads=threads,
                              secure=secure, run_tasks=worker)


@click.command("worker")
@click.option("--once", is_flag=True, help="One round, then exit (for cron).")
@json_option
@lang_option
def worker(once: bool, as_json: bool) -> None:
    """The tasks worker: back-channel logout deliveries, SSO session expiry and the jobs
    (imports, reports) queued in the console."""
    import signal
    import threading

    from congvu.tasks import run_forever, run_once

    deployment.deployment_profile()
    if once:
        done = run_once()
        if as_json:
            emit_json(done)
        else:
            click.echo(_("%(e)d session(s) expired, %(d)d logout notification(s) delivered, "
                         "%(j)d job(s) run.") % {"e": done["expired_sessions"],
                                                 "d": done["logouts_delivered"],
                                                 "j": done["jobs_run"]})
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_forever(stop)


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(serve)
    cli.add_command(worker)
