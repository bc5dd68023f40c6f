"""Queueing and running jobs. :func:`do_enqueue` is the only way in (audited);
:func:`run_next` is what the tasks worker calls: it claims one queued job, runs its
handler with the rights its owner has *now*, and stores the outcome."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from congvu import deployment
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.errors import CongvuError
from congvu.jobs.models import Job, JobStatus
from congvu.jobs.registry import handler_for

log = logging.getLogger(__name__)

#: Largest uploaded file a job accepts (a 50,000-row spreadsheet is a few MB).
MAX_SOURCE_BYTES = 20 * 1024 * 1024

#: How often progress is written while a job runs.
PROGRESS_SECONDS = 0.5


def do_enqueue(*, actor: Actor, kind: str, now: dt.datetime,
               params: dict[str, Any] | None = None, source: bytes = b"",
               source_name: str = "", account: Account | None = None) -> Job:
    """Queue ``kind`` for the tasks worker on behalf of ``actor`` (a console user passes
    their ``account``: the job then runs with that account's rights at run time)."""
    if handler_for(kind) is None:
        raise CongvuError(_("Unknown kind of job: %(kind)s.") % {"kind": kind})
    if len(source) > MAX_SOURCE_BYTES:
        raise CongvuError(_("The file is too large (%(size)d MB; at most %(max)d MB).") % {
            "size": len(source) // (1024 * 1024), "max": MAX_SOURCE_BYTES // (1024 * 1024)})
    with transaction.atomic():
        job = Job.objects.create(kind=kind, params=params or {}, source=source,
                                 source_name=source_name[:255], account=account,
                                 actor=dataclasses.asdict(actor) | {
                                     "agency_ids": sorted(actor.agency_ids),
                                     "request_agency_ids": sorted(actor.request_agency_ids)},
                                 created_at=now)
        record(actor=actor, action="job.queue", at=now, target=f"job:{job.pk}",
               data={"kind": kind, "params": params or {}, "source_name": source_name})
    return job


def _actor_of(job: Job) -> Actor:
    """The owner's rights as they are now (a revoked role must not keep working through
    a queued job); a job queued at the command line keeps the actor it was queued by."""
    from congvu.accounts.roles import actor_for

    if job.account_id is not None:
        account = Account.objects.get(pk=job.account_id)
        return actor_for(account)
    data = dict(job.actor)
    data["agency_ids"] = frozenset(data.get("agency_ids", ()))
    data["request_agency_ids"] = frozenset(data.get("request_agency_ids", ()))
    return Actor(**data)


def progress_file(job_id: int) -> Path:
    return deployment.home() / "jobs" / f"{job_id}.progress.json"


class _Progress:
    """Progress the console can read while the handler runs. Written to the job row
    when the handler is not inside a transaction, and always to a small file under the
    deployment's home: a handler writing everything in one transaction (an import,
    all or nothing) cannot commit progress rows meanwhile."""

    def __init__(self, job: Job) -> None:
        self.job, self.last = job, 0.0
        self.path = progress_file(job.pk)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def start(self, total: int, stage: str = "") -> None:
        self.job.total, self.job.done = max(0, total), 0
        self._save(stage, force=True)

    def advance(self, done: int, stage: str = "") -> None:
        self.job.done = min(done, self.job.total) if self.job.total else done
        self._save(stage)

    def _save(self, stage: str, force: bool = False) -> None:
        if stage:
            self.job.stage = stage[:200]
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"done": self.job.done, "total": self.job.total,
                                   "stage": self.job.stage}), encoding="utf-8")
        tmp.replace(self.path)
        if not connection.in_atomic_block:
            Job.objects.filter(pk=self.job.pk).update(
                done=self.job.done, total=self.job.total, stage=self.job.stage)


def _claim() -> Job | None:
    """Take the oldest queued job; two workers never take the same one."""
    with transaction.atomic():
        qs = Job.objects.filter(status=JobStatus.QUEUED).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        job = qs.first()
        if job is None:
            return None
        claimed = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=timezone.now())
        if not claimed:
            return None
    job.refresh_from_db()
    return job


def run_next() -> Job | None:
    """Run one queued job to its end (done or failed); None when there is none."""
    job = _claim()
    if job is None:
        return None
    run_job(job)
    return job


def run_job(job: Job) -> None:
    fn = handler_for(job.kind)
    progress = _Progress(job)
    try:
        if fn is None:
            raise CongvuError(_("Unknown kind of job: %(kind)s.") % {"kind": job.kind})
        outcome = fn(_actor_of(job), dict(job.params), bytes(job.source), progress)
    except CongvuError as exc:
        _finish(job, JobStatus.FAILED, error=exc.message)
    except Exception:  # a bug must fail the job visibly, not kill the worker
        log.exception("job %s failed", job.pk)
        _finish(job, JobStatus.FAILED, error=_("The job failed because of an internal "
                                               "error; the operators have the details."))
    else:
        job.summary = outcome.summary
        job.result, job.result_name = outcome.file, outcome.file_name[:255]
        job.result_type = outcome.file_type[:100]
        _finish(job, JobStatus.DONE)
    finally:
        progress.path.unlink(missing_ok=True)


def _finish(job: Job, status: str, error: str = "") -> None:
    now = timezone.now()
    job.status, job.error, job.finished_at = status, error, now
    if status == JobStatus.DONE and job.total:
        job.done = job.total
    with transaction.atomic():
        job.save()
        actor = Actor(kind="system", label="system:jobs")
        record(actor=actor, action=f"job.{status}", at=now, target=f"job:{job.pk}",
               data={"kind": job.kind, "error": error, "summary": job.summary})


def run_pending(limit: int = 100) -> int:
    """Run queued jobs until none is left (or ``limit``); how many ran."""
    ran = 0
    while ran < limit and run_next() is not None:
        ran += 1
    return ran
