"""``congvu webmail``: Roundcube signing in through congvu's SSO."""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from congvu import clock, deployment
from congvu.cli.common import current_profile, emit_json, json_option, lang_option


@click.group("webmail")
def webmail() -> None:
    """Webmail (Roundcube) for the mail plane, signing in through congvu's SSO."""


@webmail.command("up")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to serve webmail on (default 8025, or the last one used).")
@click.option("--listen", default=None,
              help="Address to listen on (default 127.0.0.1; 'all' for every address).")
@click.option("--public-url", default=None, metavar="URL",
              help="The address users open, behind a proxy (default http://127.0.0.1:PORT).")
@json_option
@lang_option
def up(port: int | None, listen: str | None, public_url: str | None, as_json: bool) -> None:
    """Register webmail at the SSO provider, render $CONGVU_HOME/webmail and start it."""
    from congvu.webmail import services

    profile = current_profile()
    state = services.up(profile, deployment.home(), port=port, listen=listen,
                        public_url=public_url, now=clock.now())
    _print_status(state, as_json)


@webmail.command("status")
@json_option
@lang_option
def status(as_json: bool) -> None:
    """Is webmail running, and where? Exit code 3 when it is not."""
    from congvu.webmail import services

    current_profile()
    state = services.status(deployment.home())
    _print_status(state, as_json)
    if not state.running:
        raise SystemExit(3)


@webmail.command("down")
@json_option
@lang_option
def down(as_json: bool) -> None:
    """Stop webmail (its configuration and database stay)."""
    from congvu.webmail import services

    current_profile()
    _print_status(services.down(deployment.home()), as_json)


def _print_status(state: object, as_json: bool) -> None:
    from congvu.webmail.services import WebmailStatus

    assert isinstance(state, WebmailStatus)
    if as_json:
        emit_json(state.to_json())
        return
    click.echo(f"Roundcube  {_('running') if state.running else _('stopped')}")
    if state.options:
        click.echo(_("Webmail at %(url)s (port %(port)d)") % {
            "url": state.options.url, "port": state.options.port})


def register(cli: click.Group) -> None:
    cli.add_command(webmail)
