"""``congvu naming``: address suggestions, a pure function of the profile and arguments."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import click
from django.utils.translation import gettext as _

from congvu import deployment
from congvu.cli.common import (
    emit_json,
    json_option,
    lang_option,
    profile_named,
    profile_option,
    read_utf8_file,
)
from congvu.errors import CongvuError

_TRUE = {"yes", "true", "1", "y", "co", "có", "x"}
_FALSE = {"no", "false", "0", "n", "khong", "không", ""}


def _taken(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@click.group("naming")
def naming() -> None:
    """Address rules of the profile (NB-5, KH-3, QN-4, NT-4)."""


@naming.command("suggest")
@profile_option
@click.option("--full-name", required=True, help="The person's full name (họ và tên).")
@click.option("--agency", default=None, help="The agency's abbreviation.")
@click.option("--taken", default="", help="Comma-separated local parts already in use.")
@click.option("--leader", is_flag=True, help="Holds a leadership rank (QN-4.2).")
@json_option
@lang_option
def suggest(profile_name: str, full_name: str, agency: str | None, taken: str, leader: bool,
            as_json: bool) -> None:
    """Suggest the address for one person. Needs no deployment."""
    from congvu.accounts.naming import suggest_person

    profile = profile_named(profile_name)
    s = suggest_person(profile, full_name, agency=agency, taken=_taken(taken), leader=leader)
    if as_json:
        emit_json(s.to_json())
        return
    click.echo(f"{s.address}  ({s.rule})")
    if len(s.candidates) > 1:
        click.echo(_("Other candidates: %(list)s") % {"list": ", ".join(s.candidates[1:])})


def _read_rows(path: Path) -> list[tuple[int, str, str, str]]:
    text = read_utf8_file(path)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("full_name", "agency", "leader") if c not in header]
    if missing:
        raise CongvuError(_("%(file)s lacks the column(s) %(cols)s; expected the header "
                            "full_name,agency,leader.")
                          % {"file": path, "cols": ", ".join(missing)})
    reader.fieldnames = header
    return [(reader.line_num, (r.get("full_name") or ""), (r.get("agency") or "").strip(),
             (r.get("leader") or "").strip().lower()) for r in reader]


@naming.command("suggest-batch")
@profile_option
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--taken", default="", help="Comma-separated local parts already in use.")
@lang_option
def suggest_batch(profile_name: str, file: Path, taken: str) -> None:
    """Suggest addresses for a CSV of persons (full_name,agency,leader), resolving
    collisions inside the batch and against existing and tombstoned addresses; leaders
    keep the base name (QN-4.2). Prints CSV full_name,agency,local_part,address."""
    from congvu.accounts.naming import BatchRow, validate_batch
    from congvu.accounts.naming import suggest_batch as batch

    profile = profile_named(profile_name)
    raw = _read_rows(file)
    problems: list[str] = []
    rows: list[BatchRow] = []
    for line, name, agency, leader in raw:
        if leader not in _TRUE | _FALSE:
            problems.append(_("Row %(row)d: %(message)s") % {"row": line, "message": _(
                "leader must be yes/no, true/false or 1/0, not %(value)r") % {"value": leader}})
        rows.append(BatchRow(full_name=name, agency=agency or None, leader=leader in _TRUE))
    lines = [line for line, *_rest in raw]
    problems += validate_batch(profile, rows, row_numbers=lines)
    if problems:
        raise CongvuError("\n".join(problems))
    used = set(_taken(taken))
    if deployment.is_initialised() and deployment.read_config().get("profile_name") == profile.name:
        from congvu.accounts.selectors import taken_local_parts

        used |= taken_local_parts(profile.mail.domain)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["full_name", "agency", "local_part", "address"])
    for row, s in zip(rows, batch(profile, rows, used, row_numbers=lines), strict=True):
        out.writerow([" ".join(row.full_name.split()), row.agency or "", s.local_part, s.address])


def register(cli: click.Group) -> None:
    cli.add_command(naming)
