"""A job's page: its progress while the tasks worker runs it (htmx polls the fragment;
without JavaScript the page refreshes itself), then its summary and its file."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import select_template
from django.urls import path

from congvu.actors import Actor
from congvu.console.views import console_view
from congvu.jobs.models import Job
from congvu.jobs.selectors import job_for, job_result


def _summary_template(job: Job) -> str:
    """An area shows its own summary with ``console/jobs/<kind>.html``."""
    return select_template([f"console/jobs/{job.kind}.html",
                            "console/jobs/summary.html"]).template.name or ""


def _context(job: Job) -> dict[str, object]:
    return {"job": job, "summary_template": _summary_template(job)}


@console_view
def job_page(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    return render(request, "console/job.html", _context(job_for(actor, job_id)))


@console_view
def job_progress(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    return render(request, "console/jobs/progress.html", _context(job_for(actor, job_id)))


@console_view
def job_download(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    job = job_result(actor, job_id)
    response = HttpResponse(bytes(job.result),
                            content_type=job.result_type or "application/octet-stream")
    # RFC 6266 with the UTF-8 form: Vietnamese file names survive.
    ascii_name = job.result_name.encode("ascii", "replace").decode().replace('"', "")
    response["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                       f"filename*=UTF-8''{quote(job.result_name)}")
    return response


urlpatterns = [
    path("jobs/<int:job_id>/", job_page, name="job"),
    path("jobs/<int:job_id>/progress/", job_progress, name="job-progress"),
    path("jobs/<int:job_id>/download/", job_download, name="job-download"),
]
