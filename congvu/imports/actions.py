"""The import's writes: upload (queues the check), the check itself (run by the tasks
worker), confirm (queues the write), the write, cancel, check again, and the one download
of the passwords file. Operators only; each audited in its own transaction.

States: checking → ready (or failed: the file cannot be read) → writing → done; checking,
ready, stale or failed → cancelled; writing → stale when the directory changed since the
check (nothing is written; check again) or back to ready after any other failure; stale
or ready → checking (check again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.imports import exports
from congvu.imports.bulk import insert
from congvu.imports.columns import KEYS
from congvu.imports.models import ImportMode, ImportRow, ImportStatus, PersonImport
from congvu.imports.parsing import ImportFileError, RawRow, read_table
from congvu.imports.planning import RowPlan, plan_rows
from congvu.imports.sealing import seal, unseal
from congvu.imports.snapshot import load_snapshot
from congvu.imports.writing import write_accounts
from congvu.jobs.actions import MAX_SOURCE_BYTES, do_enqueue
from congvu.jobs.models import Job
from congvu.jobs.registry import Progress
from congvu.profiles import Profile

log = logging.getLogger(__name__)

CHECK_JOB = "imports.check"
WRITE_JOB = "imports.write"
#: How long an undownloaded passwords file is kept (then it is wiped; reset passwords).
PASSWORDS_KEPT = dt.timedelta(hours=72)
#: How many differences a "changed since the check" message lists.
STALE_LISTED = 10


def _locked(batch_id: int) -> PersonImport:
    batch = PersonImport.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No such import."))
    return batch


def _file_format(data: bytes) -> str:
    return "xlsx" if data.startswith(b"PK\x03\x04") else "csv"


def do_start_import(*, actor: Actor, profile: Profile, data: bytes, file_name: str,
                    now: dt.datetime, account: Account | None = None,
                    language: str = "") -> PersonImport:
    """Keep the uploaded file and queue its check (nothing is written to the directory)."""
    actor.require_operator()
    if not data:
        raise CongvuError(_("The file is empty."))
    if len(data) > MAX_SOURCE_BYTES:
        raise CongvuError(_("The file is too large (%(size)d MB; at most %(max)d MB).") % {
            "size": len(data) // (1024 * 1024), "max": MAX_SOURCE_BYTES // (1024 * 1024)})
    forget_expired_passwords(now)
    with transaction.atomic():
        batch = PersonImport.objects.create(
            file_name=file_name[:255] or "import", file_size=len(data),
            file_sha256=hashlib.sha256(data).hexdigest(), file_format=_file_format(data),
            created_by=account, created_by_label=actor.label, created_at=now)
        batch.check_job = do_enqueue(
            actor=actor, kind=CHECK_JOB, now=now, source=data, source_name=file_name,
            params={"import_id": batch.pk, "language": language}, account=account)
        batch.save(update_fields=["check_job"])
        record(actor=actor, action="import.upload", at=now, target=batch.target,
               data={"file": batch.file_name, "bytes": len(data), "sha256": batch.file_sha256,
                     "format": batch.file_format})
    return batch


def _raw_rows(rows: list[ImportRow]) -> list[RawRow]:
    return [RawRow(line=r.line, values={k: getattr(r, k) for k in KEYS}) for r in rows]


def _row_of(batch: PersonImport, plan: RowPlan, agency_names: dict[int, str],
            domain: str) -> ImportRow:
    values = {k: plan.values.get(k, "")[:300] for k in KEYS}
    return ImportRow(
        batch=batch, line=plan.line, **values, local_part=plan.local_part,
        address=f"{plan.local_part}@{domain}" if plan.local_part else "", rule=plan.rule,
        candidates=list(plan.candidates),
        agency_name=agency_names.get(plan.unit_id or 0, "")[:300],
        errors=[p.to_json() for p in plan.errors], notes=[p.to_json() for p in plan.notes],
        has_errors=bool(plan.errors), has_notes=bool(plan.notes))


def do_check_import(*, actor: Actor, profile: Profile, batch_id: int, data: bytes,
                    now: dt.datetime, progress: Progress) -> dict[str, Any]:
    """The check job: read the file, check every row and compute every address against
    the directory as it is now; store the verdict for the preview. Writes no account.
    The job runs with its owner's rights as they are when it runs."""
    batch = PersonImport.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No such import."))
    if batch.status != ImportStatus.CHECKING:
        raise CongvuError(_("This import is not waiting for a check."))
    try:
        actor.require_operator()
        progress.start(0, _("Reading the file"))
        table = read_table(data, batch.file_name)
        total = len(table.rows)
        progress.start(total, _("Checking the rows"))
        snap = load_snapshot(profile)
        plans = plan_rows(profile, table.rows, snap, now.date(),
                          advance=lambda n: progress.advance(n))
        names = {i: a.name for i, a in snap.agencies.items()}
        progress.advance(total, _("Saving the preview"))
        with transaction.atomic():
            batch = _locked(batch_id)
            if batch.status != ImportStatus.CHECKING:
                raise CongvuError(_("This import was cancelled during its check."))
            ImportRow.objects.filter(batch=batch).delete()
            insert(ImportRow, [_row_of(batch, p, names, profile.mail.domain) for p in plans])
            errors = sum(1 for p in plans if p.errors)
            batch.total_rows, batch.error_rows = total, errors
            batch.valid_rows = total - errors
            batch.note_rows = sum(1 for p in plans if p.notes and not p.errors)
            batch.ignored_columns = table.ignored
            batch.file_format = table.file_format
            batch.status, batch.error, batch.checked_at = ImportStatus.READY, "", now
            batch.save()
            summary = {"rows": total, "valid": batch.valid_rows, "errors": errors,
                       "notes": batch.note_rows}
            record(actor=actor, action="import.check", at=now, target=batch.target,
                   data={**summary, "ignored_columns": table.ignored})
    except (ImportFileError, Forbidden) as exc:
        _fail_check(actor, batch_id, exc.message, now)
        raise
    except CongvuError:
        raise
    except Exception:
        log.exception("import %s: check failed", batch_id)
        _fail_check(actor, batch_id, _("The check failed because of an internal error; the "
                                       "operators' log has the details."), now)
        raise
    return summary


def _fail_check(actor: Actor, batch_id: int, message: str, now: dt.datetime) -> None:
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status != ImportStatus.CHECKING:
            return
        batch.status, batch.error = ImportStatus.FAILED, message
        batch.save(update_fields=["status", "error"])
        record(actor=actor, action="import.check", at=now, target=batch.target,
               reason=message, data={"failed": True})


def preview_file(batch: PersonImport) -> bytes:
    """The checked rows as XLSX, errors first (the check job's file)."""
    rows = ImportRow.objects.filter(batch=batch).order_by("-has_errors", "line")
    return exports.preview_xlsx(rows.iterator(chunk_size=2000))


def do_recheck_import(*, actor: Actor, batch_id: int, now: dt.datetime,
                      account: Account | None = None, language: str = "") -> PersonImport:
    """Check the same file again (after the directory changed, or after fixing an agency)."""
    actor.require_operator()
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status not in (ImportStatus.READY, ImportStatus.STALE):
            raise CongvuError(_("Only an import that is checked and not yet written can be "
                                "checked again."))
        source = (Job.objects.filter(pk=batch.check_job_id).values_list("source", flat=True)
                  if batch.check_job_id else None)
        data = bytes((source.first() if source is not None else None) or b"")
        if not data:
            raise CongvuError(_("The uploaded file is no longer kept; upload it again."))
        batch.check_job = do_enqueue(
            actor=actor, kind=CHECK_JOB, now=now, source=data, source_name=batch.file_name,
            params={"import_id": batch.pk, "language": language}, account=account)
        batch.status, batch.error = ImportStatus.CHECKING, ""
        batch.save(update_fields=["check_job", "status", "error"])
        record(actor=actor, action="import.recheck", at=now, target=batch.target)
    return batch


def do_confirm_import(*, actor: Actor, batch_id: int, mode: str, now: dt.datetime,
                      account: Account | None = None, language: str = "") -> PersonImport:
    """Queue the write. With errors in the file the operator must choose explicitly to
    import only the valid rows (``mode="valid"``); the others are left out, nothing of
    them is written, and they can be fixed and imported from another file."""
    actor.require_operator()
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status != ImportStatus.READY:
            raise CongvuError(_("This import cannot be confirmed now (%(status)s).") % {
                "status": batch.get_status_display()})
        if mode not in (ImportMode.ALL, ImportMode.VALID):
            raise CongvuError(_("Choose what to import."))
        if batch.error_rows and mode != ImportMode.VALID:
            raise CongvuError(_(
                "%(n)d row(s) have errors. Fix them in the file and upload it again, or tick "
                "“Import only the rows without errors”.") % {"n": batch.error_rows})
        if not batch.valid_rows:
            raise CongvuError(_("No row can be imported: every row has an error."))
        batch.write_job = do_enqueue(actor=actor, kind=WRITE_JOB, now=now,
                                     params={"import_id": batch.pk, "language": language},
                                     account=account)
        batch.status, batch.mode, batch.error = ImportStatus.WRITING, mode, ""
        batch.confirmed_by_label, batch.confirmed_at = actor.label, now
        batch.passwords_for = account
        batch.save()
        record(actor=actor, action="import.confirm", at=now, target=batch.target,
               data={"mode": mode, "rows": batch.valid_rows, "left_out": batch.error_rows})
    return batch


def do_cancel_import(*, actor: Actor, batch_id: int, now: dt.datetime) -> PersonImport:
    """Drop an import that was not written (even while its check waits for the worker:
    the check then stores nothing); its checked rows are deleted with it."""
    actor.require_operator()
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status not in (ImportStatus.CHECKING, ImportStatus.READY, ImportStatus.STALE,
                                ImportStatus.FAILED):
            raise CongvuError(_("Only an import that is not being written, and was not "
                                "written, can be cancelled."))
        ImportRow.objects.filter(batch=batch).delete()
        _forget_upload(batch)
        batch.status = ImportStatus.CANCELLED
        batch.save(update_fields=["status"])
        record(actor=actor, action="import.cancel", at=now, target=batch.target)
    return batch


def _forget_upload(batch: PersonImport) -> None:
    """The uploaded file (personal data) is kept only while it may be checked again."""
    if batch.check_job_id:
        Job.objects.filter(pk=batch.check_job_id).update(source=b"")


class _Stale(CongvuError):
    """The directory changed since the check: the preview no longer holds."""


@dataclass(frozen=True)
class WriteResult:
    created: int
    left_out: int
    passwords_name: str


def _differences(profile: Profile, rows: list[ImportRow], plans: list[RowPlan]) -> list[str]:
    out: list[str] = []
    domain = profile.mail.domain
    for row, plan in zip(rows, plans, strict=True):
        if plan.errors:
            out.append(_("row %(row)d: %(problem)s") % {
                "row": row.line, "problem": exports.problems_text(
                    p.to_json() for p in plan.errors)})
        elif plan.local_part != row.local_part:
            out.append(_("row %(row)d: %(new)s instead of %(old)s") % {
                "row": row.line, "new": f"{plan.local_part}@{domain}",
                "old": f"{row.local_part}@{domain}"})
    return out


def _stale_message(differences: list[str]) -> str:
    listed = "; ".join(differences[:STALE_LISTED])
    more = len(differences) - STALE_LISTED
    if more > 0:
        listed += "; " + _("and %(n)d more") % {"n": more}
    return _("The directory changed since the check, so %(n)d row(s) would not get what "
             "the preview showed (%(list)s). Nothing was written. Check the file again to see "
             "the addresses as they are now.") % {"n": len(differences), "list": listed}


def do_write_import(*, actor: Actor, profile: Profile, batch_id: int, now: dt.datetime,
                    progress: Progress) -> WriteResult:
    """The write job: re-check every row to import against the directory as it is now,
    inside the transaction that writes (an address taken since the preview stops the
    whole import: nothing is written, and the operator checks again), then create every
    account at once with its audit event. All or nothing. The job runs with its owner's
    rights as they are when it runs."""
    batch = PersonImport.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No such import."))
    if batch.status != ImportStatus.WRITING:
        raise CongvuError(_("This import is not waiting to be written."))
    try:
        actor.require_operator()
        rows = list(ImportRow.objects.filter(batch=batch, has_errors=False).order_by("line"))
        progress.start(len(rows), _("Checking the addresses again"))
        with transaction.atomic():
            batch = _locked(batch_id)
            snap = load_snapshot(profile)
            plans = plan_rows(profile, _raw_rows(rows), snap, now.date())
            changed = _differences(profile, rows, plans)
            if changed:
                raise _Stale(_stale_message(changed))
            progress.advance(0, _("Creating the accounts"))
            created = write_accounts(actor=actor, profile=profile, plans=plans, snap=snap,
                                     import_target=batch.target, now=now,
                                     advance=lambda n: progress.advance(n))
            name = f"mat-khau-nhap-{batch.pk}.xlsx"
            batch.passwords_sealed = seal(exports.passwords_xlsx(profile, created,
                                                                 batch.file_name))
            batch.passwords_name, batch.passwords_expire_at = name, now + PASSWORDS_KEPT
            batch.created_rows, batch.finished_at = len(created), now
            batch.status, batch.error = ImportStatus.DONE, ""
            batch.save()
            _forget_upload(batch)
            record(actor=actor, action="import.write", at=now, target=batch.target,
                   data={"created": len(created), "left_out": batch.error_rows,
                         "mode": batch.mode})
    except _Stale as exc:
        _write_failed(actor, batch_id, ImportStatus.STALE, exc.message, now)
        raise
    except IntegrityError:
        message = _stale_message([_("an address was given to someone else meanwhile")])
        _write_failed(actor, batch_id, ImportStatus.STALE, message, now)
        raise CongvuError(message) from None
    except CongvuError as exc:
        _write_failed(actor, batch_id, ImportStatus.READY, exc.message, now)
        raise
    except Exception:
        log.exception("import %s: write failed", batch_id)
        _write_failed(actor, batch_id, ImportStatus.READY, _(
            "Writing failed because of an internal error and nothing was written; the "
            "operators' log has the details."), now)
        raise
    return WriteResult(len(created), batch.error_rows, name)


def _write_failed(actor: Actor, batch_id: int, status: str, message: str,
                  now: dt.datetime) -> None:
    with transaction.atomic():
        batch = _locked(batch_id)
        batch.status, batch.error = status, message
        batch.save(update_fields=["status", "error"])
        record(actor=actor, action="import.write", at=now, target=batch.target,
               reason=message, data={"failed": True, "status": status})


def do_take_passwords(*, actor: Actor, batch_id: int, now: dt.datetime) -> tuple[str, bytes]:
    """The passwords file, once: the operator who confirmed the import downloads it (they
    hand the passwords over, as with ``account create``): in the console their account,
    at the command line the same operator label (``congvu account import``). It is wiped
    in the same transaction, and the download is audited."""
    actor.require_operator()
    forget_expired_passwords(now)
    with transaction.atomic():
        batch = _locked(batch_id)
        console = batch.passwords_for_id is not None \
            and batch.passwords_for_id == actor.account_id
        command_line = batch.passwords_for_id is None and actor.account_id is None \
            and batch.confirmed_by_label == actor.label
        if not (console or command_line):
            raise Forbidden(_("Only the operator who confirmed this import (%(who)s) may "
                              "download its passwords.") % {
                "who": batch.confirmed_by_label or "—"})
        if batch.passwords_taken_at is not None:
            raise CongvuError(_("The passwords file was already downloaded (%(who)s) and is no "
                                "longer kept; reset a password to issue a new one.") % {
                "who": batch.passwords_taken_by})
        if batch.passwords_expired or not batch.passwords_name:
            raise CongvuError(_("The passwords file is no longer kept (it was not downloaded in "
                                "time); reset the passwords to issue new ones."))
        data = unseal(bytes(batch.passwords_sealed))
        batch.passwords_sealed = b""
        batch.passwords_taken_at, batch.passwords_taken_by = now, actor.label
        batch.save(update_fields=["passwords_sealed", "passwords_taken_at",
                                  "passwords_taken_by"])
        record(actor=actor, action="import.passwords", at=now, target=batch.target,
               data={"accounts": batch.created_rows})
    return batch.passwords_name, data


def forget_expired_passwords(now: dt.datetime) -> int:
    """Wipe the passwords files nobody downloaded in time (audited, one event each)."""
    expired = list(PersonImport.objects.filter(
        passwords_expire_at__lt=now, passwords_taken_at__isnull=True,
        passwords_expired=False).values_list("pk", flat=True))
    system = Actor(kind="system", label="system:imports")
    for pk in expired:
        with transaction.atomic():
            PersonImport.objects.filter(pk=pk).update(passwords_sealed=b"",
                                                      passwords_expired=True)
            record(actor=system, action="import.passwords_expired", at=now,
                   target=f"import:{pk}")
    return len(expired)

