"""``congvu role``: grant, revoke and list roles (operator, agency-it, clerk)."""

from __future__ import annotations

from typing import Any

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


@click.group("role")
def role() -> None:
    """Roles: operator (everything), agency-it and clerk (one agency and its units)."""


def _agency_option(f: Any) -> Any:
    return click.option("--agency", "agency_ref", default=None,
                        help="The agency of an agency-it or clerk role.")(f)


@role.command("grant")
@click.argument("address")
@click.argument("role_name", metavar="ROLE")
@_agency_option
@now_option
@json_option
@lang_option
def grant(address: str, role_name: str, agency_ref: str | None, now_text: str | None,
          as_json: bool) -> None:
    """Grant ROLE (operator, agency-it, clerk) to the account at ADDRESS."""
    from congvu.accounts.roles import do_grant_role

    profile = current_profile()
    g = do_grant_role(actor=cli_operator(), profile=profile, address=address, role=role_name,
                      agency_ref=agency_ref, now=resolve_now(profile, now_text))
    data = {"address": g.account.address, "role": g.role,
            "agency": g.agency.account_name if g.agency else None}
    if as_json:
        emit_json(data)
    else:
        click.echo(_("%(address)s now holds the role %(role)s%(where)s.") % {
            **data, "where": f" ({data['agency']})" if data["agency"] else ""})


@role.command("revoke")
@click.argument("address")
@click.argument("role_name", metavar="ROLE")
@_agency_option
@now_option
@json_option
@lang_option
def revoke(address: str, role_name: str, agency_ref: str | None, now_text: str | None,
           as_json: bool) -> None:
    """Revoke ROLE from the account at ADDRESS (never the last active operator)."""
    from congvu.accounts.roles import do_revoke_role
    from congvu.accounts.selectors import account_by_address

    profile = current_profile()
    do_revoke_role(actor=cli_operator(), profile=profile, address=address, role=role_name,
                   agency_ref=agency_ref, now=resolve_now(profile, now_text))
    target = account_by_address(profile, address).address
    if as_json:
        emit_json({"address": target, "role": role_name.strip().lower(), "agency": agency_ref,
                   "revoked": True})
    else:
        click.echo(_("%(address)s no longer holds the role %(role)s.") % {
            "address": target, "role": role_name})


@role.command("list")
@click.argument("address", required=False)
@_agency_option
@json_option
@lang_option
def list_(address: str | None, agency_ref: str | None, as_json: bool) -> None:
    """Who holds which role; of one account (ADDRESS) or one agency's subtree."""
    from congvu.accounts.selectors import account_by_address, role_entries
    from congvu.clock import iso

    profile = current_profile()
    account = account_by_address(profile, address) if address else None
    rows = [{"address": e.address, "role": e.role, "agency": e.agency,
             "granted_at": iso(e.granted_at, profile.timezone), "granted_by": e.granted_by}
            for e in role_entries(cli_operator(), account=account, agency_ref=agency_ref)]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['address']:<40} {r['role']:<10} {r['agency'] or '':<20} "
                   f"{r['granted_by'] or ''}")


def register(cli: click.Group) -> None:
    cli.add_command(role)
