"""``congvu audit``: read the append-only audit log."""

from __future__ import annotations

import click

from congvu.cli.common import current_profile, emit_json, json_option, lang_option
from congvu.clock import iso


@click.group("audit")
def audit() -> None:
    """The audit log of every state change and operator action."""


@audit.command("list")
@click.option("--target", default="", help="Only events about this address.")
@click.option("--rule", default="", help="Only events citing this rule ID.")
@click.option("--action", default="", help="Only this action, e.g. account.suspend.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="The newest N events.")
@json_option
@lang_option
def list_(target: str, rule: str, action: str, limit: int | None, as_json: bool) -> None:
    """List events, oldest first."""
    from congvu.accounts.selectors import full_address
    from congvu.audit.selectors import events

    profile = current_profile()
    wanted = full_address(profile, target) if target else ""
    rows = events(target=wanted, rule=rule, action=action, limit=limit)
    tz = profile.timezone
    if as_json:
        emit_json([{"id": e.pk, "at": iso(e.at, tz), "actor": e.actor, "action": e.action,
                    "target": e.target, "rule": e.rule, "reason": e.reason, "data": e.data}
                   for e in rows])
        return
    for e in rows:
        click.echo(f"{iso(e.at, tz)}  {e.actor:<22} {e.action:<24} {e.target:<36} "
                   f"{e.rule:<10} {e.reason}")


def register(cli: click.Group) -> None:
    cli.add_command(audit)
