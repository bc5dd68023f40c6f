"""Shared pieces of the ``congvu`` command: error handling, options, output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _

from congvu import clock, deployment
from congvu.errors import CongvuError
from congvu.profiles import Profile, available_profiles, load_profile

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A CongvuError on its way out: ``Lỗi: message`` on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        label = _("Error")
        click.echo(f"{label}: {self.message}", err=True)


class CliRejected(CliError):
    """A rejected password: exit code 1, like ``password check``."""

    exit_code = 1


def _cli_error(message: str, exit_code: int) -> CliError:
    return CliRejected(message) if exit_code == 1 else CliError(message)


class CongvuGroup(click.Group):
    """Turns domain errors into clear messages and exit codes, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CongvuError as exc:
            raise _cli_error(exc.message, exc.exit_code) from exc
        except DatabaseError as exc:
            if deployment.database_url() or deployment.is_initialised():
                text = _("Database error: %(error)s") % {"error": str(exc).strip()}
            else:
                text = _("No deployment in %(home)s. Run 'congvu init --profile NAME' first "
                         "(CONGVU_HOME selects the deployment).") % {"home": deployment.home()}
            raise CliError(text) from exc


def _activate(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        translation.activate(value)


def lang_option(f: F) -> F:
    """``--lang vi|en``: the language of messages (Vietnamese by default)."""
    return click.option(
        "--lang", type=click.Choice(["vi", "en"]), expose_value=False, is_eager=True,
        callback=_activate, help="Language of messages (vi, en).")(f)


def profile_option(f: F) -> F:
    return click.option("--profile", "profile_name", required=True, metavar="NAME",
                        help=f"Province profile: {', '.join(available_profiles())}.")(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def now_option(f: F) -> F:
    return click.option("--now", "now_text", metavar="T",
                        help="Act as if it were T (YYYY-MM-DD[THH:MM]).")(f)


def profile_named(name: str) -> Profile:
    return load_profile(name)


def current_profile() -> Profile:
    return deployment.deployment_profile()


def resolve_now(profile: Profile, text: str | None) -> dt.datetime:
    return clock.parse_moment(text, profile.timezone) if text else clock.now()


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def read_utf8_file(path: Path) -> str:
    """A UTF-8 text file an operator named (a BOM is allowed, as spreadsheets write it),
    or a clear error naming the file."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CongvuError(_("Cannot read %(file)s: %(error)s") % {
            "file": path, "error": exc.strerror}) from exc
    except UnicodeDecodeError as exc:
        raise CongvuError(_("%(file)s is not UTF-8 text (byte %(pos)d).") % {
            "file": path, "pos": exc.start}) from exc
