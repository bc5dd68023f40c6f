"""``congvu org``: the directory of agencies and units."""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from congvu.actors import cli_operator
from congvu.cli.common import (
    current_profile,
    emit_json,
    json_option,
    lang_option,
    now_option,
    resolve_now,
)
from congvu.directory.models import AgencyKind


@click.group("org")
def org() -> None:
    """Agencies (cơ quan) and their units, as a tree."""


@org.command("add")
@click.option("--abbr", required=True, help="Abbreviation, e.g. skhcn.")
@click.option("--name", required=True, help="Full official name.")
@click.option("--parent", default=None, help="Parent agency (account name or abbreviation).")
@click.option("--kind", type=click.Choice(AgencyKind.values), default=None,
              help="Kind of agency; default province-dept, or unit under a parent.")
@now_option
@json_option
@lang_option
def add(abbr: str, name: str, parent: str | None, kind: str | None, now_text: str | None,
        as_json: bool) -> None:
    """Add an agency; its account name follows the profile (NB-5.1/5.2, KH-3.2, NT-4.1)."""
    from congvu.directory.actions import do_add_agency

    profile = current_profile()
    agency = do_add_agency(actor=cli_operator(), profile=profile, abbr=abbr, name=name,
                           kind=kind, parent=parent, now=resolve_now(profile, now_text))
    address = f"{agency.account_name}@{profile.mail.domain}"
    if as_json:
        emit_json({"abbr": agency.abbr, "name": agency.name, "kind": agency.kind,
                   "parent": agency.parent.account_name if agency.parent else None,
                   "account_name": agency.account_name, "address": address,
                   "rule": agency.naming_rule})
    else:
        click.echo(_("Added %(name)s: %(address)s (%(rule)s)") % {
            "name": agency.name, "address": address, "rule": agency.naming_rule})


@org.command("list")
@json_option
@lang_option
def list_(as_json: bool) -> None:
    """The agency tree."""
    from congvu.directory.selectors import tree_rows

    profile = current_profile()
    rows = tree_rows()
    if as_json:
        emit_json([{"abbr": a.abbr, "name": a.name, "kind": a.kind, "depth": depth,
                    "parent": a.parent.account_name if a.parent else None,
                    "account_name": a.account_name,
                    "address": f"{a.account_name}@{profile.mail.domain}",
                    "require_second_factor": a.require_second_factor} for depth, a in rows])
        return
    for depth, a in rows:
        click.echo(f"{'  ' * depth}{a.account_name:<24} {a.kind:<14} {a.name}")


@org.command("set")
@click.argument("agency_ref", metavar="AGENCY")
@click.option("--require-second-factor/--no-require-second-factor", "second_factor",
              default=None, help="Ask this agency's people (and its units') for a TOTP code "
                                 "at single sign-on.")
@now_option
@json_option
@lang_option
def set_(agency_ref: str, second_factor: bool | None, now_text: str | None,
         as_json: bool) -> None:
    """Change an agency's settings."""
    from congvu.directory.actions import do_set_second_factor_requirement
    from congvu.errors import CongvuError

    if second_factor is None:
        raise CongvuError(_("Nothing to change: give --require-second-factor or "
                            "--no-require-second-factor."))
    profile = current_profile()
    agency = do_set_second_factor_requirement(
        actor=cli_operator(), ref=agency_ref, required=second_factor,
        now=resolve_now(profile, now_text))
    if as_json:
        emit_json({"account_name": agency.account_name,
                   "require_second_factor": agency.require_second_factor})
    elif agency.require_second_factor:
        click.echo(_("%(agency)s: a second factor is now required at sign-in.") % {
            "agency": agency.name})
    else:
        click.echo(_("%(agency)s: a second factor is no longer required.") % {
            "agency": agency.name})


def register(cli: click.Group) -> None:
    cli.add_command(org)
