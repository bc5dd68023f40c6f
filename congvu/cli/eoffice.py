"""``congvu eoffice role``: grant, revoke and list the eOffice roles (GL-12..15: director,
deputy director, clerk, head of department, specialist) from the command line, as the
console's eOffice settings page does (same actions, same audit)."""

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
from congvu.errors import CongvuError, NotFound


@click.group("eoffice")
def eoffice() -> None:
    """The document management and executive system (eOffice)."""


@eoffice.group("role")
def role() -> None:
    """eOffice roles in an agency: director, deputy_director, clerk, department_head,
    specialist (heads of department and specialists name their department)."""


def _where(f: Any) -> Any:
    f = click.option("--department", "department_ref", default=None,
                     help="The department (account name), for a head of department or a "
                          "specialist.")(f)
    return click.option("--agency", "agency_ref", required=True,
                        help="The agency (account name, e.g. sotttt).")(f)


def _role(text: str) -> str:
    return text.strip().lower().replace("-", "_")


def _department_id(agency: Any, department_ref: str | None) -> int | None:
    from congvu.directory.selectors import agency_by_ref

    if not department_ref:
        return None
    department = agency_by_ref(department_ref)
    if department.parent_id != agency.pk:
        raise CongvuError(_("%(department)s is not a department of %(agency)s.") % {
            "department": department.account_name, "agency": agency.account_name})
    return department.pk


def _target(address: str, agency_ref: str, department_ref: str | None
            ) -> tuple[Any, Any, Any, int | None]:
    """The profile, the account at ADDRESS, the agency and the department's id."""
    from congvu.accounts.selectors import account_by_address
    from congvu.directory.selectors import agency_by_ref

    profile = current_profile()
    account = account_by_address(profile, address)
    agency = agency_by_ref(agency_ref)
    return profile, account, agency, _department_id(agency, department_ref)


def _row(grant: Any) -> dict[str, Any]:
    return {"address": grant.account.address, "role": grant.role,
            "agency": grant.agency.account_name,
            "department": grant.department.account_name if grant.department else None}


@role.command("grant")
@click.argument("address")
@click.argument("role_name", metavar="ROLE")
@_where
@now_option
@json_option
@lang_option
def grant(address: str, role_name: str, agency_ref: str, department_ref: str | None,
          now_text: str | None, as_json: bool) -> None:
    """Grant the eOffice ROLE in --agency to the account at ADDRESS."""
    from congvu.eoffice.actions import do_grant_office_role

    profile, account, agency, department_id = _target(address, agency_ref, department_ref)
    made = do_grant_office_role(actor=cli_operator(), account_id=account.pk,
                                agency_id=agency.pk, role=_role(role_name),
                                now=resolve_now(profile, now_text), department_id=department_id)
    data = _row(made)
    if as_json:
        emit_json(data)
    else:
        click.echo(_("%(address)s now holds the eOffice role %(role)s in %(agency)s.") % data)


@role.command("revoke")
@click.argument("address")
@click.argument("role_name", metavar="ROLE")
@_where
@now_option
@json_option
@lang_option
def revoke(address: str, role_name: str, agency_ref: str, department_ref: str | None,
           now_text: str | None, as_json: bool) -> None:
    """Revoke the eOffice ROLE in --agency from the account at ADDRESS."""
    from congvu.eoffice.actions import do_revoke_office_role
    from congvu.eoffice.selectors import office_role_grants

    profile, account, agency, department_id = _target(address, agency_ref, department_ref)
    found = [g for g in office_role_grants(cli_operator(), agency)
             if g.account_id == account.pk and g.role == _role(role_name)
             and (department_ref is None or g.department_id == department_id)]
    if not found:
        raise NotFound(_("%(address)s holds no eOffice role %(role)s in %(agency)s.") % {
            "address": account.address, "role": role_name, "agency": agency.account_name})
    now = resolve_now(profile, now_text)
    for g in found:
        do_revoke_office_role(actor=cli_operator(), grant_id=g.pk, now=now)
    if as_json:
        emit_json({**_row(found[0]), "revoked": len(found)})
    else:
        click.echo(_("%(address)s no longer holds the eOffice role %(role)s in %(agency)s.")
                   % _row(found[0]))


@role.command("list")
@click.option("--agency", "agency_ref", required=True, help="The agency (account name).")
@json_option
@lang_option
def list_(agency_ref: str, as_json: bool) -> None:
    """Who holds which eOffice role in --agency."""
    from congvu.clock import iso
    from congvu.directory.selectors import agency_by_ref
    from congvu.eoffice.selectors import office_role_grants

    profile = current_profile()
    rows = [{**_row(g), "granted_at": iso(g.granted_at, profile.timezone),
             "granted_by": g.granted_by}
            for g in office_role_grants(cli_operator(), agency_by_ref(agency_ref))]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['address']:<40} {r['role']:<16} {r['department'] or '':<20} "
                   f"{r['granted_by'] or ''}")


def register(cli: click.Group) -> None:
    cli.add_command(eoffice)
