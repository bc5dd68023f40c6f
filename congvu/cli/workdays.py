"""``congvu workdays``: working-day arithmetic for SLAs and deadlines."""

from __future__ import annotations

import datetime as dt

import click
from django.utils.translation import gettext as _

from congvu import deployment
from congvu.cli.common import lang_option, profile_named, profile_option
from congvu.errors import CongvuError


@click.group("workdays")
def workdays() -> None:
    """Vietnamese working days and office hours."""


@workdays.command("add")
@profile_option
@click.option("--start", required=True, metavar="YYYY-MM-DD[THH:MM]")
@click.option("--days", type=click.IntRange(min=0), default=None, help="Working days to add.")
@click.option("--minutes", type=click.IntRange(min=0), default=None,
              help="Minutes of office time to add.")
@lang_option
def add(profile_name: str, start: str, days: int | None, minutes: int | None) -> None:
    """Print the deadline: YYYY-MM-DD for --days (the day of receipt is not counted),
    YYYY-MM-DDTHH:MM for --minutes (office hours only)."""
    from congvu.workdays import calendar_for, parse_start

    if (days is None) == (minutes is None):
        raise CongvuError(_("Give exactly one of --days or --minutes."))
    profile = profile_named(profile_name)
    calendar = calendar_for(profile, home=deployment.home())
    moment = parse_start(start)
    if days is not None:
        day = moment.date() if isinstance(moment, dt.datetime) else moment
        click.echo(calendar.add_working_days(day, days).isoformat())
        return
    assert minutes is not None
    begin = moment if isinstance(moment, dt.datetime) else dt.datetime.combine(moment, dt.time())
    click.echo(calendar.add_working_minutes(begin, minutes).strftime("%Y-%m-%dT%H:%M"))


def register(cli: click.Group) -> None:
    cli.add_command(workdays)
