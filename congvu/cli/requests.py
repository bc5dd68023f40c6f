"""``congvu request``: file, list, show, take, fulfil, reject and cancel requests.

The operator's side, and for scripting and tests: ``--as ADDRESS`` acts as that person
(their roles decide what they may do), so an agency contact's view can be exercised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from django.utils.translation import gettext as _

from congvu.actors import Actor, cli_operator
from congvu.cli.common import (
    current_profile,
    emit_json,
    json_option,
    lang_option,
    now_option,
    read_utf8_file,
    resolve_now,
)
from congvu.clock import parse_date
from congvu.errors import CongvuError
from congvu.profiles import Profile


def _as_option(f: Any) -> Any:
    return click.option("--as", "as_address", default=None, metavar="ADDRESS",
                        help="Act as this person (their roles apply); default: the operator "
                             "at the command line.")(f)


def _actor(profile: Profile, as_address: str | None) -> Actor:
    if not as_address:
        return cli_operator()
    from congvu.accounts.roles import actor_for
    from congvu.accounts.selectors import account_by_address

    return actor_for(account_by_address(profile, as_address))


@click.group("request")
def request() -> None:
    """Agencies' requests (forms 01/02/03, restore, password re-issue) and their deadlines."""


def _read_csv(kind: str, path: Path) -> Any:
    from congvu.requests.csvfile import parse_rows

    text = read_utf8_file(path)
    return parse_rows(kind, text)


@request.command("file")
@click.argument("kind", metavar="KIND")
@click.option("--agency", "agency_ref", required=True, help="The agency the request is for.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="The table of persons or addresses (UTF-8 CSV with a header).")
@click.option("--requester", "requester_name", default="", help="Requester's name.")
@click.option("--requester-position", default="", help="Requester's position.")
@click.option("--phone", default="", help="Requester's telephone number.")
@click.option("--agency-mailbox", default="", help="Form 01: the agency mailbox's abbreviation.")
@click.option("--full-name", default="", help="Form 01, one person: full name.")
@click.option("--position", default="", help="Form 01, one person: position.")
@click.option("--department", default="", help="Form 01, one person: department or unit.")
@click.option("--leader", is_flag=True, help="Form 01, one person: holds a leadership rank.")
@click.option("--birth-date", default=None, metavar="YYYY-MM-DD")
@click.option("--address", "addresses", multiple=True,
              help="An existing address (repeat for several; form 02: one).")
@click.option("--code", default="", help="Form 02: 1 position, 2 department, 3 address.")
@click.option("--new-value", default="", help="Form 02: the new position, department or "
                                              "address.")
@click.option("--reason", default="", help="Why (deletion, restore).")
@click.option("--effective", default=None, metavar="YYYY-MM-DD",
              help="Form 03: the day the persons leave.")
@_as_option
@now_option
@json_option
@lang_option
def file_(kind: str, agency_ref: str, csv_path: Path | None, requester_name: str,
          requester_position: str, phone: str, agency_mailbox: str, full_name: str,
          position: str, department: str, leader: bool, birth_date: str | None,
          addresses: tuple[str, ...], code: str, new_value: str, reason: str,
          effective: str | None, as_address: str | None, now_text: str | None,
          as_json: bool) -> None:
    """File a request of KIND (new_mailboxes, change, deletion, restore, password_reissue)
    for an agency; prints its deadline from the profile's SLA."""
    from congvu.requests.actions import do_file_request
    from congvu.requests.filing import AddressRow, ChangeRow, PersonRow, RequestForm
    from congvu.requests.models import RequestKind
    from congvu.requests.selectors import request_json

    profile = current_profile()
    now = resolve_now(profile, now_text)
    persons: tuple[PersonRow, ...] = ()
    changes: tuple[ChangeRow, ...] = ()
    rows: tuple[AddressRow, ...] = ()
    if csv_path is not None:
        persons, changes, rows = _read_csv(kind, csv_path)
    if full_name:
        born = parse_date(birth_date, option="--birth-date") if birth_date else None
        persons += (PersonRow(full_name=full_name, position=position, department=department,
                              leader=leader, birth_date=born),)
    if kind == RequestKind.CHANGE and (addresses or code or new_value):
        changes += tuple(ChangeRow(address=a, code=code, new_value=new_value)
                         for a in addresses or ("",))
    elif kind != RequestKind.CHANGE:
        rows += tuple(AddressRow(address=a) for a in addresses)
    form = RequestForm(
        requester_name=requester_name, requester_position=requester_position,
        requester_phone=phone, agency_mailbox=agency_mailbox, persons=persons,
        changes=changes, addresses=rows, reason=reason,
        effective_date=parse_date(effective, option="--effective") if effective else None)
    req = do_file_request(actor=_actor(profile, as_address), profile=profile, kind=kind,
                          agency_ref=agency_ref, form=form, now=now)
    data = request_json(req, profile, now)
    if as_json:
        emit_json(data)
    else:
        click.echo(_("Request #%(id)s filed for %(agency)s; deadline %(deadline)s "
                     "(%(rule)s).") % {**data, "deadline": data["deadline"] or "—",
                                       "rule": data["deadline_rule"] or "—"})


@request.command("list")
@click.option("--agency", "agency_ref", default=None, help="Only this agency's subtree.")
@click.option("--status", default="", help="filed, in_progress, done, partly_done, rejected, "
                                           "cancelled.")
@click.option("--open", "open_only", is_flag=True, help="Only the queue (filed, in progress).")
@click.option("--overdue", is_flag=True, help="Only the open requests past their deadline.")
@_as_option
@now_option
@json_option
@lang_option
def list_(agency_ref: str | None, status: str, open_only: bool, overdue: bool,
          as_address: str | None, now_text: str | None, as_json: bool) -> None:
    """Requests in queue order: overdue first (flagged), then by deadline."""
    from congvu.requests.models import OPEN_STATUSES
    from congvu.requests.selectors import request_json, requests_for

    profile = current_profile()
    now = resolve_now(profile, now_text)
    qs = requests_for(_actor(profile, as_address), now, agency_ref=agency_ref, status=status,
                      overdue=overdue)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    rows = [request_json(r, profile, now, items=False) for r in qs]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        flag = "!" if r["overdue"] else " "
        click.echo(f"{flag} #{r['id']:<5} {r['kind']:<17} {r['status']:<12} {r['agency']:<16} "
                   f"{r['deadline'] or '—':<26} {r['deadline_rule'] or ''}")


@request.command("show")
@click.argument("request_id", type=int, metavar="ID")
@_as_option
@now_option
@json_option
@lang_option
def show(request_id: int, as_address: str | None, now_text: str | None, as_json: bool) -> None:
    """One request with its rows; for an operator, the naming suggestions of each person
    still to create (the rule and the candidates)."""
    from congvu.requests.selectors import request_detail, request_json, suggestions_for

    profile = current_profile()
    now = resolve_now(profile, now_text)
    actor = _actor(profile, as_address)
    req = request_detail(actor, request_id)
    data = request_json(req, profile, now)
    if actor.is_operator:
        data["suggestions"] = {str(n): s.to_json()
                               for n, s in suggestions_for(actor, profile, req).items()}
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key not in ("items", "suggestions"):
            click.echo(f"{key:<16} {value if value is not None else '—'}")
    for item in data["items"]:
        click.echo(f"  {item['number']:>3} {item['action']:<22} {item['status']:<8} "
                   f"{item['full_name'] or item['address'] or ''} {item['outcome']}")


@request.command("take")
@click.argument("request_id", type=int, metavar="ID")
@now_option
@json_option
@lang_option
def take(request_id: int, now_text: str | None, as_json: bool) -> None:
    """Take a filed request (it is then in progress)."""
    from congvu.requests.actions import do_take_request
    from congvu.requests.selectors import request_json

    profile = current_profile()
    now = resolve_now(profile, now_text)
    req = do_take_request(actor=cli_operator(), request_id=request_id, now=now)
    if as_json:
        emit_json(request_json(req, profile, now))
    else:
        click.echo(_("Request #%(id)s is in progress.") % {"id": req.pk})


@request.command("fulfil")
@click.argument("request_id", type=int, metavar="ID")
@click.option("--item", "numbers", type=int, multiple=True,
              help="Only this row (repeat for several); default: every row not yet done.")
@click.option("--address", "local", default=None,
              help="With one --item: the address to give that person (a candidate).")
@now_option
@json_option
@lang_option
def fulfil(request_id: int, numbers: tuple[int, ...], local: str | None, now_text: str | None,
           as_json: bool) -> None:
    """Carry out the rows; one-time passwords are shown this once only."""
    from congvu.requests.actions import do_fulfil
    from congvu.requests.selectors import request_json

    if local is not None and len(numbers) != 1:
        raise CongvuError(_("--address chooses the address of one row: give exactly one "
                            "--item."))
    profile = current_profile()
    now = resolve_now(profile, now_text)
    result = do_fulfil(actor=cli_operator(), profile=profile, request_id=request_id, now=now,
                       numbers=numbers or None,
                       addresses={numbers[0]: local} if local is not None else None)
    if as_json:
        emit_json({**request_json(result.request, profile, now),
                   "outcomes": [o.to_json() for o in result.outcomes]})
        return
    for o in result.outcomes:
        if o.status == "done":
            click.echo(_("Row %(n)d: done, %(address)s (%(rule)s)") % {
                "n": o.number, "address": o.address, "rule": o.rule or "—"})
            if o.one_time_password:
                # The same message as 'account create' (one translation).
                click.echo("  " + _("One-time password (shown only this once; the holder must "
                                    "change it at first sign-in): %(otp)s") % {
                    "otp": o.one_time_password})
        else:
            click.echo(_("Row %(n)d: failed: %(message)s") % {"n": o.number,
                                                               "message": o.message})
    click.echo(_("Request #%(id)s is %(status)s.") % {"id": result.request.pk,
                                                       "status": result.request.status})


@request.command("reject")
@click.argument("request_id", type=int, metavar="ID")
@click.option("--reason", required=True, help="Why, for the agency.")
@click.option("--item", "number", type=int, default=None, help="Refuse only this row.")
@now_option
@json_option
@lang_option
def reject(request_id: int, reason: str, number: int | None, now_text: str | None,
           as_json: bool) -> None:
    """Reject the request (every row not yet done), or refuse one row with --item."""
    from congvu.requests.actions import do_refuse_item, do_reject_request
    from congvu.requests.selectors import request_json

    profile = current_profile()
    now = resolve_now(profile, now_text)
    if number is None:
        req = do_reject_request(actor=cli_operator(), request_id=request_id, reason=reason,
                                now=now)
    else:
        req = do_refuse_item(actor=cli_operator(), request_id=request_id, number=number,
                             reason=reason, now=now)
    if as_json:
        emit_json(request_json(req, profile, now))
    else:
        click.echo(_("Request #%(id)s is %(status)s.") % {"id": req.pk, "status": req.status})


@request.command("cancel")
@click.argument("request_id", type=int, metavar="ID")
@click.option("--reason", default="", help="Why (optional).")
@_as_option
@now_option
@json_option
@lang_option
def cancel(request_id: int, reason: str, as_address: str | None, now_text: str | None,
           as_json: bool) -> None:
    """Withdraw a request no operator has taken yet."""
    from congvu.requests.actions import do_cancel_request
    from congvu.requests.selectors import request_json

    profile = current_profile()
    now = resolve_now(profile, now_text)
    req = do_cancel_request(actor=_actor(profile, as_address), request_id=request_id, now=now,
                            reason=reason)
    if as_json:
        emit_json(request_json(req, profile, now))
    else:
        click.echo(_("Request #%(id)s is cancelled.") % {"id": req.pk})


def register(cli: click.Group) -> None:
    cli.add_command(request)
