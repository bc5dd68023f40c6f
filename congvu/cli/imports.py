"""``congvu account import FILE``: the console's bulk import from the command line (NB-13
migration). The same check, preview and write (``congvu.imports``), run at once in this
process; the one-time passwords go to a file only the operator can read (0600), once."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from congvu.actors import cli_operator
from congvu.cli.common import current_profile, emit_json, json_option, lang_option
from congvu.errors import CongvuError

#: How long to wait for a job the tasks worker took before this process could.
WAIT_SECONDS = 600


def _run_now(job_id: int) -> None:
    """Run this job here unless the tasks worker already took it; then wait for it."""
    from django.utils import timezone

    from congvu.jobs.actions import run_job
    from congvu.jobs.models import Job, JobStatus

    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now())
    if claimed:
        run_job(Job.objects.get(pk=job_id))
        return
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if Job.objects.filter(pk=job_id, status__in=(JobStatus.DONE, JobStatus.FAILED)).exists():
            return
        time.sleep(0.5)
    raise CongvuError(_("The job %(id)d did not finish in time; see it in the console.") % {
        "id": job_id})


def _rows_json(batch_id: int) -> list[dict[str, Any]]:
    from congvu.imports.models import ImportRow

    return [{"line": r.line, "full_name": r.full_name, "agency": r.agency,
             "address": r.address or None, "rule": r.rule or None,
             "candidates": r.candidates, "errors": r.errors, "notes": r.notes}
            for r in ImportRow.objects.filter(batch_id=batch_id).order_by("-has_errors", "line")]


def _print_rows(batch_id: int) -> None:
    from congvu.imports.exports import problems_text

    for row in _rows_json(batch_id):
        if row["errors"]:
            click.echo(_("Row %(row)d: %(message)s") % {
                "row": row["line"], "message": problems_text(row["errors"])})
        else:
            note = f"  ({problems_text(row['notes'])})" if row["notes"] else ""
            click.echo(f"{row['line']:>6}  {row['address']:<40} {row['rule']:<8} "
                       f"{row['full_name']}{note}")


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--dry-run", is_flag=True,
              help="Check and preview only; write nothing (confirm later in the console).")
@click.option("--only-valid", is_flag=True,
              help="Import the rows without errors and leave the others out.")
@click.option("--passwords-out", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="New XLSX file for the one-time passwords (required "
              "unless --dry-run; never overwritten).")
@json_option
@lang_option
def import_(file: Path, dry_run: bool, only_valid: bool, passwords_out: Path | None,
            as_json: bool) -> None:
    """Import persons from a CSV (UTF-8) or XLSX FILE: check every row and show every
    address (profile's rules and collision rule), then create the accounts all at once."""
    from congvu import clock
    from congvu.imports.actions import (
        do_cancel_import,
        do_confirm_import,
        do_start_import,
        do_take_passwords,
    )
    from congvu.imports.models import ImportMode, ImportStatus, PersonImport

    if not dry_run:
        if passwords_out is None:
            raise CongvuError(_("Give --passwords-out FILE for the one-time passwords (or "
                                "--dry-run to check only)."))
        if passwords_out.exists():
            raise CongvuError(_("%(file)s exists already; the passwords file is never "
                                "overwritten.") % {"file": passwords_out})
    profile = current_profile()
    actor = cli_operator()
    batch = do_start_import(actor=actor, profile=profile, data=file.read_bytes(),
                            file_name=file.name, now=clock.now(), language=get_language())
    assert batch.check_job_id is not None
    _run_now(batch.check_job_id)
    batch = PersonImport.objects.get(pk=batch.pk)
    if batch.status == ImportStatus.FAILED:
        raise CongvuError(batch.error)
    summary = {"import": batch.pk, "rows": batch.total_rows, "valid": batch.valid_rows,
               "errors": batch.error_rows, "notes": batch.note_rows,
               "ignored_columns": batch.ignored_columns}
    if as_json and dry_run:
        emit_json({**summary, "status": batch.status, "rows_checked": _rows_json(batch.pk)})
        return
    if not as_json:
        _print_rows(batch.pk)
        click.echo(_("Import #%(id)d: %(rows)d rows, %(valid)d without errors, %(errors)d "
                     "with errors.") % {"id": batch.pk, "rows": batch.total_rows,
                                        "valid": batch.valid_rows, "errors": batch.error_rows})
    if dry_run:
        click.echo(_("Nothing was written. Confirm it in the console (/console/imports/%(id)d/) "
                     "or run the command again without --dry-run.") % {"id": batch.pk})
        return
    if batch.error_rows and not only_valid:
        do_cancel_import(actor=actor, batch_id=batch.pk, now=clock.now())
        raise CongvuError(_("%(n)d row(s) have errors; nothing was written. Fix them, or add "
                            "--only-valid to leave them out.") % {"n": batch.error_rows})
    mode = ImportMode.VALID if batch.error_rows else ImportMode.ALL
    batch = do_confirm_import(actor=actor, batch_id=batch.pk, mode=mode, now=clock.now(),
                              language=get_language())
    assert batch.write_job_id is not None
    _run_now(batch.write_job_id)
    batch = PersonImport.objects.get(pk=batch.pk)
    if batch.status != ImportStatus.DONE:
        raise CongvuError(batch.error or batch.get_status_display())
    assert passwords_out is not None
    # The file first: the passwords are handed out once, they must have somewhere to go.
    fd = os.open(passwords_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        try:
            _name, data = do_take_passwords(actor=actor, batch_id=batch.pk, now=clock.now())
        except CongvuError:
            passwords_out.unlink(missing_ok=True)
            raise
        out.write(data)
    if as_json:
        emit_json({**summary, "created": batch.created_rows,
                   "passwords_file": str(passwords_out)})
        return
    click.echo(_("%(n)d accounts created. Their one-time passwords are in %(file)s (only you "
                 "can read it): hand them over, then delete the file.") % {
        "n": batch.created_rows, "file": passwords_out})


def register(cli: click.Group) -> None:
    account = cli.commands.get("account")
    if isinstance(account, click.Group):
        account.add_command(import_)
