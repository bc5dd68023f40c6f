"""``congvu sso``: registered shared applications, signing keys, sessions (issue 5)."""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from congvu.cli.common import current_profile, emit_json, json_option, lang_option
from congvu.clock import iso


@click.group("sso")
def sso() -> None:
    """Single sign-on: shared applications (OpenID Connect clients), keys, sessions."""


@sso.group("client")
def client() -> None:
    """The shared applications registered to use the province's accounts (NT-10.6)."""


@client.command("add")
@click.option("--name", required=True, help="The application's name, shown to users.")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="Exact redirect URI (repeatable); http:// only for loopback. Required "
                   "unless --resource-server.")
@click.option("--post-logout-uri", "post_logout_uris", multiple=True,
              help="Where to return after sign-out (repeatable).")
@click.option("--backchannel-logout-uri", default="",
              help="Back-Channel Logout 1.0 endpoint of the application.")
@click.option("--frontchannel-logout-uri", default="",
              help="Front-Channel Logout 1.0 endpoint of the application.")
@click.option("--consent", is_flag=True, help="Ask users for consent (off for the "
              "province's own applications).")
@click.option("--no-pkce", is_flag=True, help="Allow the code flow without PKCE (only for "
              "applications that cannot send it).")
@click.option("--resource-server", is_flag=True, help="A service that checks access tokens "
              "at the introspection endpoint (e.g. an IMAP server); it signs nobody in.")
@json_option
@lang_option
def add(name: str, redirect_uris: tuple[str, ...], post_logout_uris: tuple[str, ...],
        backchannel_logout_uri: str, frontchannel_logout_uri: str, consent: bool,
        no_pkce: bool, resource_server: bool, as_json: bool) -> None:
    """Register an application; its client secret is printed only now."""
    from congvu.actors import cli_operator
    from congvu.clock import now
    from congvu.sso.actions import client_by_ref, client_json, do_add_client

    client_id, secret = do_add_client(
        actor=cli_operator(), name=name, redirect_uris=list(redirect_uris),
        post_logout_uris=list(post_logout_uris), backchannel_logout_uri=backchannel_logout_uri,
        frontchannel_logout_uri=frontchannel_logout_uri, consent=consent,
        require_pkce=not no_pkce, resource_server=resource_server, now=now())
    data = {**client_json(client_by_ref(client_id)), "client_secret": secret}
    if as_json:
        emit_json(data)
        return
    click.echo(_("Registered %(name)s.") % {"name": data["name"]})
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo(_("The secret is shown only this once."))


@client.command("list")
@json_option
@lang_option
def list_(as_json: bool) -> None:
    """The registered applications (no secrets)."""
    from congvu.sso.selectors import clients

    rows = clients()
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        uris = " ".join(str(u) for u in row["redirect_uris"])  # type: ignore[attr-defined]
        click.echo(f"{row['client_id']}  {row['name']}  {uris}")


@client.command("remove")
@click.argument("client_ref", metavar="CLIENT_ID")
@json_option
@lang_option
def remove(client_ref: str, as_json: bool) -> None:
    """Unregister an application: its tokens stop working at once."""
    from congvu.actors import cli_operator
    from congvu.clock import now
    from congvu.sso.actions import do_remove_client

    client_id = do_remove_client(actor=cli_operator(), ref=client_ref, now=now())
    if as_json:
        emit_json({"removed": client_id})
    else:
        click.echo(_("Removed %(client)s.") % {"client": client_id})


@sso.command("rotate-keys")
@json_option
@lang_option
def rotate_keys(as_json: bool) -> None:
    """A new signing key; the old one stays published until its tokens expire."""
    from congvu.actors import cli_operator
    from congvu.clock import now
    from congvu.sso.actions import do_rotate_keys

    data = do_rotate_keys(actor=cli_operator(), now=now())
    if as_json:
        emit_json(data)
    else:
        click.echo(_("New signing key %(kid)s.") % {"kid": data["kid"]})


@sso.command("sessions")
@click.argument("address")
@json_option
@lang_option
def sessions(address: str, as_json: bool) -> None:
    """Where a person is still signed in, and with which applications."""
    from congvu.accounts.selectors import account_by_address
    from congvu.clock import now
    from congvu.sso.selectors import sessions_of

    profile = current_profile()
    account = account_by_address(profile, address)
    rows = sessions_of(account, now())
    tz = profile.timezone
    for row in rows:
        row["started_at"] = iso(row["started_at"], tz)
        row["expires_at"] = iso(row["expires_at"], tz)
        for c in row["clients"]:
            c["last_at"] = iso(c["last_at"], tz)
    if as_json:
        emit_json({"address": account.address, "sessions": rows})
        return
    if not rows:
        click.echo(_("%(address)s is not signed in anywhere.") % {"address": account.address})
    for row in rows:
        names = ", ".join(c["name"] for c in row["clients"]) or "—"
        click.echo(f"{row['started_at']}  {row['remote_addr'] or '?':<15} {names}")


@sso.command("end-sessions")
@click.argument("address")
@json_option
@lang_option
def end_sessions(address: str, as_json: bool) -> None:
    """Sign a person out everywhere (e.g. a lost phone)."""
    from congvu.accounts.selectors import account_by_address
    from congvu.actors import cli_operator
    from congvu.clock import now
    from congvu.sso.actions import End, do_end_account_sessions

    account = account_by_address(current_profile(), address)
    count = do_end_account_sessions(account_ids=[account.pk], reason=End.OPERATOR, now=now(),
                                    actor=cli_operator())
    if as_json:
        emit_json({"address": account.address, "ended": count})
    else:
        click.echo(_("Ended %(n)d session(s) of %(address)s.") % {"n": count,
                                                                  "address": account.address})


@sso.command("totp-reset")
@click.argument("address")
@lang_option
def totp_reset(address: str) -> None:
    """Remove a lost authenticator; the holder enrols again at the next sign-in."""
    from congvu.accounts.selectors import account_by_address
    from congvu.actors import cli_operator
    from congvu.clock import now
    from congvu.sso.totp import do_reset

    account = account_by_address(current_profile(), address)
    do_reset(actor=cli_operator(), account=account, now=now())
    click.echo(_("Second factor of %(address)s removed.") % {"address": account.address})


def register(cli: click.Group) -> None:
    cli.add_command(sso)


@sso.command("passkey-reset")
@click.argument("address")
@json_option
@lang_option
def passkey_reset(address: str, as_json: bool) -> None:
    """Remove every passkey of a person (a lost key or phone); they register again."""
    from congvu.accounts.selectors import account_by_address
    from congvu.actors import cli_operator
    from congvu.clock import now
    from congvu.sso.passkeys import do_reset

    account = account_by_address(current_profile(), address)
    names = do_reset(actor=cli_operator(), account=account, now=now())
    if as_json:
        emit_json({"address": account.address, "removed": names})
    else:
        click.echo(_("Removed %(n)d passkey(s) of %(address)s: %(names)s") % {
            "n": len(names), "address": account.address, "names": ", ".join(names)})
