"""``congvu mail``, ``congvu mailbox`` and ``congvu alias``: the mail plane."""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from congvu import deployment
from congvu.actors import cli_operator
from congvu.cli.common import (
    current_profile,
    emit_json,
    json_option,
    lang_option,
    now_option,
    resolve_now,
)
from congvu.errors import CongvuError


def _hostport(text: str | None) -> tuple[str, int] | None:
    if not text:
        return None
    host, _sep, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CongvuError(_("Invalid address %(value)r: expected HOST:PORT.") % {"value": text})
    return host.strip("[]"), int(port)


@click.group("mail")
def mail() -> None:
    """Private Postfix and Dovecot instances driven by the account directory."""


@mail.command("up")
@click.option("--smtp-port", type=click.IntRange(1, 65535), default=None, help="Default 25.")
@click.option("--submission-port", type=click.IntRange(1, 65535), default=None,
              help="Default 587.")
@click.option("--imap-port", type=click.IntRange(1, 65535), default=None, help="Default 143.")
@click.option("--internet-relay", default=None, metavar="HOST:PORT",
              help="Send all non-local mail to this host.")
@click.option("--listen", default=None, help="Address to listen on (default: all).")
@json_option
@lang_option
def up(smtp_port: int | None, submission_port: int | None, imap_port: int | None,
       internet_relay: str | None, listen: str | None, as_json: bool) -> None:
    """Render the configuration into $CONGVU_HOME/mail and start the mail plane."""
    from congvu.mail import services

    profile = current_profile()
    state = services.up(profile, deployment.home(), smtp=smtp_port, submission=submission_port,
                        imap=imap_port, relay=_hostport(internet_relay), listen=listen)
    _print_status(state, as_json)


@mail.command("status")
@json_option
@lang_option
def status(as_json: bool) -> None:
    """Is each part of the mail plane running, and on which ports?"""
    from congvu.mail import services

    current_profile()
    state = services.status(deployment.home())
    _print_status(state, as_json)
    if not (state.postfix and state.dovecot and state.daemon):
        raise SystemExit(3)


@mail.command("down")
@json_option
@lang_option
def down(as_json: bool) -> None:
    """Stop the mail plane; queued mail stays on disk and is delivered after 'mail up'."""
    from congvu.mail import services

    current_profile()
    _print_status(services.down(deployment.home()), as_json)


def _print_status(state: object, as_json: bool) -> None:
    from congvu.mail.services import MailStatus

    assert isinstance(state, MailStatus)
    data = state.to_json()
    if as_json:
        emit_json(data)
        return
    yes, no = _("running"), _("stopped")
    click.echo(f"Postfix  {yes if state.postfix else no}")
    click.echo(f"Dovecot  {yes if state.dovecot else no}")
    click.echo(f"congvu   {yes if state.daemon else no}")
    if state.options:
        p = state.options.ports
        click.echo(_("SMTP %(smtp)d · submission %(sub)d (STARTTLS) · IMAP %(imap)d (STARTTLS)")
                   % {"smtp": p.smtp, "sub": p.submission, "imap": p.imap})


@click.group("mailbox")
def mailbox() -> None:
    """Mailboxes: usage, forwarding, delegation."""


@mailbox.command("show")
@click.argument("address")
@json_option
@lang_option
def show(address: str, as_json: bool) -> None:
    """Messages, bytes used and quota of a mailbox."""
    from congvu.mail.selectors import mailbox_json

    profile = current_profile()
    data = mailbox_json(profile, deployment.home(), address)
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key:<16} {value}")


@mailbox.command("forward")
@click.argument("address")
@click.option("--to", "target", required=True, help="Forward to this address.")
@click.option("--no-copy", is_flag=True, help="Do not keep a copy in the mailbox.")
@now_option
@json_option
@lang_option
def forward(address: str, target: str, no_copy: bool, now_text: str | None,
            as_json: bool) -> None:
    """Forward a mailbox automatically; only to government domains (NB-4.5)."""
    from congvu.mail.actions import do_add_forward

    profile = current_profile()
    fwd = do_add_forward(actor=cli_operator(), profile=profile, address=address, target=target,
                         keep_copy=not no_copy, now=resolve_now(profile, now_text))
    if as_json:
        emit_json({"address": fwd.account.address, "target": fwd.target,
                   "keep_copy": fwd.keep_copy})
    else:
        click.echo(_("%(address)s now forwards to %(target)s.") % {
            "address": fwd.account.address, "target": fwd.target})


@mailbox.command("delegate")
@click.argument("address")
@click.option("--to", "delegate", required=True, help="The holder who may act for it.")
@now_option
@lang_option
def delegate(address: str, delegate: str, now_text: str | None) -> None:
    """Let a holder send as this mailbox (KH-15.1: a clerk for the agency mailbox)."""
    from congvu.mail.actions import do_delegate

    profile = current_profile()
    d = do_delegate(actor=cli_operator(), profile=profile, address=address, delegate=delegate,
                    now=resolve_now(profile, now_text))
    click.echo(_("%(delegate)s may now send as %(address)s.") % {
        "delegate": d.delegate.address, "address": d.mailbox.address})


@click.group("alias")
def alias() -> None:
    """Extra addresses delivering to an account."""


@alias.command("add")
@click.argument("alias_address")
@click.option("--to", "target", required=True, help="The account receiving its mail.")
@now_option
@json_option
@lang_option
def alias_add(alias_address: str, target: str, now_text: str | None, as_json: bool) -> None:
    """Add an alias (its name is reserved like any address and never reused)."""
    from congvu.mail.actions import do_add_alias

    profile = current_profile()
    a = do_add_alias(actor=cli_operator(), profile=profile, alias=alias_address, target=target,
                     now=resolve_now(profile, now_text))
    if as_json:
        emit_json({"alias": a.address, "target": a.account.address})
    else:
        click.echo(_("%(alias)s delivers to %(target)s.") % {
            "alias": a.address, "target": a.account.address})


def register(cli: click.Group) -> None:
    cli.add_command(mail)
    cli.add_command(mailbox)
    cli.add_command(alias)
