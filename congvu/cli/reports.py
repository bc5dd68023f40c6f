"""``congvu report``: which periodic report is due (NB-11.7, QN-13.6, KH-11.7), a report's
figures, and its XLSX or PDF written straight to a file (the console queues the same
files for the tasks worker). ``--as ADDRESS`` reads as that person (an agency's IT
contact sees their agency only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from django.utils.translation import gettext as _

from congvu.actors import Actor, cli_operator
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
from congvu.profiles import Profile


@click.group("report")
def report() -> None:
    """Reports: usage on the profile's cadence, accounts by state and agency, requests
    and SLA compliance."""


def _actor(profile: Profile, as_address: str | None) -> Actor:
    if not as_address:
        return cli_operator()
    from congvu.accounts.roles import actor_for
    from congvu.accounts.selectors import account_by_address

    return actor_for(account_by_address(profile, as_address))


def _ask_options(f: Any) -> Any:
    for option in reversed([
        click.argument("kind", metavar="KIND", type=click.Choice(["usage", "accounts",
                                                                  "requests"])),
        click.option("--from", "start", default=None, metavar="YYYY-MM-DD",
                     help="First day (default: the period of the report due next)."),
        click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="Last day."),
        click.option("--agency", "agency_ref", default="", help="One agency and its units."),
        click.option("--days", default=None, type=int,
                     help="Accounts not signed in for this many days count as unused."),
        click.option("--as", "as_address", default=None, metavar="ADDRESS",
                     help="Read as this person (their roles apply)."),
    ]):
        f = option(f)
    return f


def _build(kind: str, start: str | None, end: str | None, agency_ref: str, days: int | None,
           as_address: str | None, now_text: str | None) -> Any:
    from congvu import deployment
    from congvu.reports.build import (
        ReportAsk,
        build_report,
        default_inactive_days,
        default_period,
    )

    profile = current_profile()
    now = resolve_now(profile, now_text)
    first, last = default_period(profile, now.astimezone(ZoneInfo(profile.timezone)).date())
    ask = ReportAsk(kind=kind,
                    start=parse_date(start, option="--from") if start else first,
                    end=parse_date(end, option="--to") if end else last,
                    agency=agency_ref.strip().lower(),
                    days=days if days is not None else default_inactive_days(profile))
    return build_report(_actor(profile, as_address), profile, ask, now=now,
                        home=deployment.home())


@report.command("due")
@now_option
@json_option
@lang_option
def due(now_text: str | None, as_json: bool) -> None:
    """The periodic usage report due next, by when, and the period it covers."""
    from congvu.reports.build import fmt_date
    from congvu.reports.cadence import cadence_of, next_due

    profile = current_profile()
    cadence = cadence_of(profile)
    if cadence is None:
        raise CongvuError(_("The province's regulation sets no periodic usage report."))
    today = resolve_now(profile, now_text).astimezone(ZoneInfo(profile.timezone)).date()
    period = next_due(cadence, today)
    data = {"title": period.title(), "rule": period.rule, "due": period.due.isoformat(),
            "days_left": period.days_left(today), "start": period.start.isoformat(),
            "end": period.end.isoformat()}
    if as_json:
        emit_json(data)
        return
    click.echo(_("%(title)s: due %(due)s, %(days)d day(s) left") % {
        "title": period.title(), "due": fmt_date(period.due), "days": data["days_left"]}
        + f" ({period.rule})")
    click.echo(_("It covers %(start)s to %(end)s.") % {"start": fmt_date(period.start),
                                                       "end": fmt_date(period.end)})


@report.command("show")
@_ask_options
@now_option
@json_option
@lang_option
def show(kind: str, start: str | None, end: str | None, agency_ref: str, days: int | None,
         as_address: str | None, now_text: str | None, as_json: bool) -> None:
    """The figures of report KIND (usage, accounts, requests) as tables or JSON."""
    from congvu.reports.build import fmt_date, format_cell

    rep = _build(kind, start, end, agency_ref, days, as_address, now_text)
    if as_json:
        emit_json({
            "kind": rep.kind, "title": rep.title, "subject": rep.subject, "scope": rep.scope,
            "start": rep.start.isoformat(), "end": rep.end.isoformat(), "rule": rep.rule,
            "facts": [{"label": label, "value": value} for label, value, _k in rep.facts],
            "tables": [{"key": t.key, "caption": t.caption,
                        "columns": [c.label for c in t.columns], "rows": t.rows,
                        "total": t.total} for t in rep.tables]})
        return
    click.echo(f"{rep.title} — {rep.scope} — {fmt_date(rep.start)}–{fmt_date(rep.end)}")
    for label, value, column_kind in rep.facts:
        click.echo(f"  {label}: {format_cell(value, column_kind)}")
    for t in rep.tables:
        click.echo("")
        click.echo(t.caption)
        lines = [[c.label for c in t.columns]]
        for row in [*t.rows, *([t.total] if t.total else [])]:
            lines.append([format_cell(v, c.kind) if v != "" else ""
                          for v, c in zip(row, t.columns, strict=True)])
        widths = [max(len(line[i]) for line in lines) for i in range(len(t.columns))]
        for line in lines:
            click.echo("  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths,
                                                                          strict=True)))


@report.command("export")
@_ask_options
@click.option("--format", "file_format", type=click.Choice(["xlsx", "pdf"]), required=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The file to write (default: the report's own name, here).")
@now_option
@lang_option
def export(kind: str, start: str | None, end: str | None, agency_ref: str, days: int | None,
           as_address: str | None, file_format: str, output: Path | None,
           now_text: str | None) -> None:
    """Write report KIND as an XLSX workbook or an A4 PDF."""
    from congvu.reports.jobs import file_name
    from congvu.reports.pdf import report_pdf
    from congvu.reports.xlsx import report_xlsx

    rep = _build(kind, start, end, agency_ref, days, as_address, now_text)
    data = report_xlsx(rep) if file_format == "xlsx" else report_pdf(rep)
    path = output or Path(file_name(rep, file_format))
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CongvuError(_("Cannot write %(file)s: %(error)s") % {
            "file": path, "error": exc.strerror}) from exc
    click.echo(_("Written: %(file)s (%(size)d kB).") % {"file": path,
                                                       "size": max(1, len(data) // 1024)})


def register(cli: click.Group) -> None:
    cli.add_command(report)

