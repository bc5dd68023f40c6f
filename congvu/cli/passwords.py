"""``congvu password check``: the profile's password policy, from stdin."""

from __future__ import annotations

import sys

import click
from django.utils.translation import gettext as _

from congvu.cli.common import emit_json, json_option, lang_option, profile_named, profile_option
from congvu.clock import parse_date


@click.group("password")
def password() -> None:
    """Password policy (NB-8.2b, QN-8, NT-7)."""


@password.command("check")
@profile_option
@click.option("--username", default="", help="The account name or address.")
@click.option("--full-name", default="", help="The holder's full name.")
@click.option("--birth-date", default=None, metavar="YYYY-MM-DD")
@json_option
@lang_option
def check(profile_name: str, username: str, full_name: str, birth_date: str | None,
          as_json: bool) -> None:
    """Read a password from stdin; exit 0 when valid, 1 listing every broken rule."""
    from congvu.accounts.passwords import check_password

    profile = profile_named(profile_name)
    born = parse_date(birth_date, option="--birth-date") if birth_date else None
    if sys.stdin.isatty():
        secret = click.prompt(_("Password"), hide_input=True)
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    problems = check_password(profile.password, secret, username=username, full_name=full_name,
                              birth_date=born)
    if as_json:
        emit_json({"valid": not problems,
                   "violations": [{"code": v.code, "rule": v.rule, "message": v.message}
                                  for v in problems]})
    elif problems:
        click.echo(_("The password does not meet the policy (%(rule)s):") % {
            "rule": profile.password.rule})
        for v in problems:
            click.echo(f"- {v.message}")
    else:
        click.echo(_("The password meets the policy (%(rule)s).") % {
            "rule": profile.password.rule})
    sys.exit(1 if problems else 0)


def register(cli: click.Group) -> None:
    cli.add_command(password)
