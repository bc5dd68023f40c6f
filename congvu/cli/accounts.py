"""``congvu account`` and ``congvu lifecycle``: accounts and their lifecycle."""

from __future__ import annotations

import sys
from collections.abc import Callable
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
from congvu.clock import parse_date
from congvu.errors import CongvuError


def _otp_output(data: dict[str, Any], otp: str | None, as_json: bool) -> None:
    if as_json:
        emit_json({**data, "one_time_password": otp})
        return
    click.echo(_("Account: %(address)s (%(state)s)") % data)
    if otp:
        click.echo(_("One-time password (shown only this once; the holder must change it at "
                     "first sign-in): %(otp)s") % {"otp": otp})


def _issue_password(address: str, now_text: str | None, as_json: bool,
                    action: Callable[..., str]) -> None:
    """Reset, activate or restore: the action issues a one-time password, shown once."""
    from congvu.accounts.selectors import account_by_address, account_json

    profile = current_profile()
    acct = account_by_address(profile, address)
    otp = action(actor=cli_operator(), profile=profile, account=acct,
                 now=resolve_now(profile, now_text))
    acct.refresh_from_db()
    _otp_output(account_json(acct, profile), otp, as_json)


def _read_secret_lines(count: int, prompts: list[str]) -> list[str]:
    """Secrets come on stdin, one per line (never on the command line, where ps shows them)."""
    if sys.stdin.isatty():
        return [click.prompt(p, hide_input=True) for p in prompts]
    lines = [sys.stdin.readline() for _i in range(count)]
    values = [line.rstrip("\r\n") for line in lines]
    if any(line == "" for line in lines):
        raise CongvuError(_("Expected %(n)d lines on standard input: %(what)s.") % {
            "n": count, "what": ", ".join(prompts)})
    return values


@click.group("account")
def account() -> None:
    """Accounts: create, show, change password, suspend, restore, leave, delete, transfer."""


@account.command("create")
@click.option("--agency", "agency_ref", required=True, help="Agency, unit or department.")
@click.option("--full-name", default=None, help="The person's full name (họ và tên).")
@click.option("--leader", is_flag=True, help="Holds a leadership rank (QN-4.2, NT-5.2c).")
@click.option("--birth-date", default=None, metavar="YYYY-MM-DD")
@click.option("--position", default="", help="Position (chức vụ).")
@click.option("--department", default=None, help="Department (phòng/ban) within the agency.")
@click.option("--local-part", default=None,
              help="The operator's choice among the ranked candidates (NB-5.4, KH-3.3b).")
@click.option("--requested", is_flag=True, help="Record the request only (state requested).")
@click.option("--agency-mailbox", is_flag=True, help="Create the agency's own mailbox instead.")
@now_option
@json_option
@lang_option
def create(agency_ref: str, full_name: str | None, leader: bool, birth_date: str | None,
           position: str, department: str | None, local_part: str | None, requested: bool,
           agency_mailbox: bool,
           now_text: str | None, as_json: bool) -> None:
    """Create an account and mailbox with the profile's address and a one-time password."""
    from congvu.accounts.actions import do_create_account, do_create_agency_mailbox
    from congvu.accounts.selectors import account_json

    profile = current_profile()
    now = resolve_now(profile, now_text)
    born = parse_date(birth_date, option="--birth-date") if birth_date else None
    if agency_mailbox:
        acct, otp = do_create_agency_mailbox(actor=cli_operator(), profile=profile,
                                             agency_ref=agency_ref, now=now)
    else:
        if full_name is None:
            raise CongvuError(_("--full-name is required."))
        acct, otp = do_create_account(
            actor=cli_operator(), profile=profile, agency_ref=agency_ref, full_name=full_name,
            leader=leader, birth_date=born, position=position, local_part=local_part,
            requested=requested, department_ref=department, now=now)
    _otp_output(account_json(acct, profile), otp, as_json)


@account.command("show")
@click.argument("address")
@json_option
@lang_option
def show(address: str, as_json: bool) -> None:
    """Everything about one account: state, reason (rule ID), dates."""
    from congvu.accounts.selectors import account_by_address, account_json

    profile = current_profile()
    data = account_json(account_by_address(profile, address), profile)
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key:<28} {value if value is not None else '—'}")


@account.command("list")
@click.option("--agency", "agency_ref", default=None)
@click.option("--state", default="", help="requested, active, suspended, locked or deleted.")
@json_option
@lang_option
def list_(agency_ref: str | None, state: str, as_json: bool) -> None:
    """Accounts, optionally of one agency's subtree or in one state."""
    from congvu.accounts.models import AccountState
    from congvu.accounts.selectors import accounts
    from congvu.directory.selectors import agency_by_ref, agency_subtree_ids

    profile = current_profile()
    if state and state not in AccountState.values:
        raise CongvuError(_("Unknown state %(state)r. Valid states: %(valid)s.") % {
            "state": state, "valid": ", ".join(AccountState.values)})
    ids = sorted(agency_subtree_ids([agency_by_ref(agency_ref).pk])) if agency_ref else None
    rows = accounts(agency_ids=ids, state=state)
    if as_json:
        emit_json([{"address": a.address, "state": a.state, "reason": a.reason,
                    "kind": a.kind, "agency": a.agency.account_name if a.agency else None,
                    "full_name": a.person.full_name if a.person else None} for a in rows])
        return
    for a in rows:
        click.echo(f"{a.address:<40} {a.state:<10} {a.reason:<10} "
                   f"{a.person.full_name if a.person else ''}")
    del profile


@account.command("change-password")
@click.argument("address")
@now_option
@lang_option
def change_password(address: str, now_text: str | None) -> None:
    """Read the current and the new password from stdin (one per line) and change it,
    enforcing the profile's policy and password history."""
    from congvu.accounts.actions import do_change_password
    from congvu.accounts.selectors import account_by_address

    profile = current_profile()
    now = resolve_now(profile, now_text)
    acct = account_by_address(profile, address)
    current, new = _read_secret_lines(2, [_("current password"), _("new password")])
    do_change_password(profile=profile, account=acct, current=current, new=new, now=now)
    click.echo(_("Password changed for %(address)s.") % {"address": acct.address})



@account.command("reset-password")
@click.argument("address")
@now_option
@json_option
@lang_option
def reset_password(address: str, now_text: str | None, as_json: bool) -> None:
    """Re-issue a one-time password on the agency's request (KH-4.2, QN-6)."""
    from congvu.accounts.actions import do_reset_password

    _issue_password(address, now_text, as_json, do_reset_password)


@account.command("activate")
@click.argument("address")
@now_option
@json_option
@lang_option
def activate(address: str, now_text: str | None, as_json: bool) -> None:
    """Approve a requested account: active, with a one-time password."""
    from congvu.accounts.actions import do_activate

    _issue_password(address, now_text, as_json, do_activate)


@account.command("suspend")
@click.argument("address")
@click.option("--rule", default="", help="Rule ID, e.g. NB-7.2c (virus, leaked password).")
@click.option("--reason", default="", help="Why, in words.")
@now_option
@lang_option
def suspend(address: str, rule: str, reason: str, now_text: str | None) -> None:
    """Suspend: no sign-in; the mailbox still receives (NB-7.1)."""
    from congvu.accounts.actions import do_suspend
    from congvu.accounts.selectors import account_by_address

    profile = current_profile()
    acct = account_by_address(profile, address)
    do_suspend(actor=cli_operator(), profile=profile, account=acct,
               now=resolve_now(profile, now_text), rule=rule.strip(), reason=reason.strip())
    click.echo(_("Suspended %(address)s.") % {"address": acct.address})


@account.command("restore")
@click.argument("address")
@now_option
@json_option
@lang_option
def restore(address: str, now_text: str | None, as_json: bool) -> None:
    """Restore a suspended account with a new one-time password (NB-7.3, NT-6.3)."""
    from congvu.accounts.actions import do_restore

    _issue_password(address, now_text, as_json, do_restore)


@account.command("leave")
@click.argument("address")
@click.option("--effective", required=True, metavar="YYYY-MM-DD",
              help="The date the person officially leaves (retires, resigns, moves away).")
@now_option
@json_option
@lang_option
def leave(address: str, effective: str, now_text: str | None, as_json: bool) -> None:
    """Schedule the profile's lock and deletion for a leaving holder (NB-7.4, NT-5.2c)."""
    from congvu.accounts.actions import do_leave
    from congvu.accounts.selectors import account_by_address, account_json

    profile = current_profile()
    acct = account_by_address(profile, address)
    do_leave(actor=cli_operator(), profile=profile, account=acct,
             effective=parse_date(effective, option="--effective"),
             now=resolve_now(profile, now_text))
    acct.refresh_from_db()
    data = account_json(acct, profile)
    if as_json:
        emit_json(data)
    else:
        click.echo(_("%(address)s is %(state)s; lock at %(lock)s, deletion at %(delete)s.") % {
            "address": acct.address, "state": acct.state,
            "lock": data["leave"]["lock_at"], "delete": data["leave"]["delete_at"] or "—"})


@account.command("delete")
@click.argument("address")
@click.option("--rule", default="", help="Rule ID, e.g. KH-4.4 or NB-10.1e.")
@click.option("--reason", default="", help="Why, in words.")
@now_option
@lang_option
def delete(address: str, rule: str, reason: str, now_text: str | None) -> None:
    """Delete now: data purged, address tombstoned (never given to anyone else)."""
    from congvu.accounts.actions import do_delete
    from congvu.accounts.selectors import account_by_address

    profile = current_profile()
    acct = account_by_address(profile, address)
    do_delete(actor=cli_operator(), profile=profile, account=acct,
              now=resolve_now(profile, now_text), rule=rule.strip(), reason=reason.strip())
    click.echo(_("Deleted %(address)s; the address stays reserved.") % {"address": acct.address})


@account.command("transfer")
@click.argument("address")
@click.option("--to", "--to-agency", "to_agency", required=True, help="The new agency.")
@now_option
@json_option
@lang_option
def transfer(address: str, to_agency: str, now_text: str | None, as_json: bool) -> None:
    """Move a person to another agency (KH-2.4, NT-5.2b; NB gives a new address)."""
    from congvu.accounts.actions import do_transfer
    from congvu.accounts.selectors import account_by_address, account_json

    profile = current_profile()
    acct = account_by_address(profile, address)
    moved = do_transfer(actor=cli_operator(), profile=profile, account=acct,
                        to_agency_ref=to_agency, now=resolve_now(profile, now_text))
    data = account_json(moved, profile)
    if as_json:
        emit_json(data)
    else:
        click.echo(_("%(address)s now belongs to %(agency)s.") % data)


@click.group("lifecycle")
def lifecycle() -> None:
    """Time-based rules of the profile."""


@lifecycle.command("run")
@now_option
@json_option
@lang_option
def run(now_text: str | None, as_json: bool) -> None:
    """Apply every time-based rule at T, idempotently (NB-7.2đ, QN-7.2, NT-6.2a, NB-7.4,
    NT-5.2c, KH-4.4, NB-8.2a)."""
    from congvu.accounts import lifecycle as engine
    from congvu.clock import iso

    profile = current_profile()
    now = resolve_now(profile, now_text)
    results = engine.run(profile=profile, now=now)
    if as_json:
        emit_json({"now": iso(now, profile.timezone), "profile": profile.name,
                   "total": sum(len(r.addresses) for r in results),
                   "changes": [r.to_json() for r in results]})
        return
    for r in results:
        click.echo(f"{r.rule:<10} {r.action:<16} {len(r.addresses)}")
    click.echo(_("%(n)d account(s) changed.") % {"n": sum(len(r.addresses) for r in results)})


def register(cli: click.Group) -> None:
    cli.add_command(account)
    cli.add_command(lifecycle)
