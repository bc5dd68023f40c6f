"""Reading jobs: only the person who queued one (or an operator) sees it and its file."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.errors import Forbidden, NotFound
from congvu.jobs.actions import progress_file
from congvu.jobs.models import Job, JobStatus


def job_for(actor: Actor, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id).defer("source", "result").first()
    if job is None:
        raise NotFound(_("No such job."))
    if not actor.is_operator and (job.account_id is None or job.account_id != actor.account_id):
        raise Forbidden(_("This job belongs to someone else."))
    if job.status == JobStatus.RUNNING:
        _live_progress(job)
    return job


def job_result(actor: Actor, job_id: int) -> Job:
    job = job_for(actor, job_id)
    if job.status != JobStatus.DONE or not job.result_name:
        raise NotFound(_("This job has no file to download (yet)."))
    return Job.objects.get(pk=job.pk)


def _live_progress(job: Job) -> None:
    """A running job's progress file is fresher than its row (see ``_Progress``)."""
    try:
        data = json.loads(progress_file(job.pk).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if int(data.get("done", 0)) >= job.done:
        job.done, job.total = int(data["done"]), int(data.get("total", job.total))
        job.stage = str(data.get("stage", job.stage))
