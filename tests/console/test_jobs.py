"""Long work runs in the tasks worker with progress the console shows (issue 6): the
owner sees their job and its file, nobody else does; a failure says why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from congvu.actors import Actor
from congvu.errors import CongvuError, Forbidden
from congvu.jobs import registry
from congvu.jobs.actions import do_enqueue, progress_file, run_next, run_pending
from congvu.jobs.models import Job
from congvu.jobs.registry import Outcome, Progress
from congvu.jobs.selectors import job_for
from tests.console.conftest import logged_in
from tests.factories import OPERATOR

pytestmark = pytest.mark.django_db
SEEN: dict[str, Any] = {}


def _count(actor: Actor, params: dict[str, Any], source: bytes, progress: Progress) -> Outcome:
    SEEN["actor"] = actor
    rows = source.decode().splitlines()
    progress.start(len(rows), "counting")
    for n, _row in enumerate(rows, 1):
        progress.advance(n)
        SEEN["live"] = job_for(OPERATOR, params["me"]).done if n == 2 else SEEN.get("live")
    return Outcome({"rows": len(rows)}, file="\n".join(rows).encode(),
                   file_name="Báo cáo tháng.csv", file_type="text/csv")


def _fail(actor: Actor, params: dict[str, Any], source: bytes, progress: Progress) -> Outcome:
    raise CongvuError("Dòng 3: thiếu họ tên")


@pytest.fixture(autouse=True)
def _handlers() -> Iterator[None]:
    registry.discover()
    registry.HANDLERS.update({"test.count": _count, "test.fail": _fail})
    yield
    for kind in ("test.count", "test.fail"):
        registry.HANDLERS.pop(kind, None)


def test_a_job_runs_in_the_worker_reports_progress_and_keeps_its_file(
        world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("congvu.jobs.actions.PROGRESS_SECONDS", 0)
    op = world["op"][0]
    job = do_enqueue(actor=OPERATOR, kind="test.count", now=timezone.now(),
                     source=b"a\nb\nc", source_name="x.csv", account=op)
    Job.objects.filter(pk=job.pk).update(params={"me": job.pk})
    assert job.status == "queued"
    c = logged_in(op)
    page = c.get(f"/console/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and '<meta http-equiv="refresh"' in page
    assert run_next() is not None and run_next() is None
    job.refresh_from_db()
    assert job.status == "done" and job.summary == {"rows": 3} and job.percent == 100
    assert SEEN["live"] == 2  # progress was readable while it ran
    assert SEEN["actor"].is_operator  # the owner's rights at run time
    assert not progress_file(job.pk).exists()
    page = c.get(f"/console/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger' not in page and "/download/" in page
    resp = c.get(f"/console/jobs/{job.pk}/download/")
    assert resp.content == b"a\nb\nc"
    assert "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20th%C3%A1ng.csv" in resp["Content-Disposition"]


def test_only_the_owner_or_an_operator_sees_a_job(world: Any) -> None:
    it, servant = world["it"][0], world["servant"][0]
    job = do_enqueue(actor=OPERATOR, kind="test.count", now=timezone.now(),
                     params={"me": 0}, source=b"", account=it)
    run_pending()
    assert logged_in(it).get(f"/console/jobs/{job.pk}/").status_code == 200
    for url in (f"/console/jobs/{job.pk}/", f"/console/jobs/{job.pk}/download/",
                f"/console/jobs/{job.pk}/progress/"):
        resp = logged_in(servant).get(url)
        assert resp.status_code == 403, url
    assert logged_in(world["op"][0]).get(f"/console/jobs/{job.pk}/").status_code == 200
    with pytest.raises(Forbidden):
        job_for(Actor(kind="self", label="x", account_id=servant.pk), job.pk)


def test_a_failed_job_says_why_and_is_audited(world: Any) -> None:
    op = world["op"][0]
    job = do_enqueue(actor=OPERATOR, kind="test.fail", now=timezone.now(), account=op)
    run_pending()
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "Dòng 3: thiếu họ tên"
    page = logged_in(op).get(f"/console/jobs/{job.pk}/").content.decode()
    assert "Dòng 3: thiếu họ tên" in page and 'role="alert"' in page
    from congvu.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="job.failed", target=f"job:{job.pk}").exists()


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(CongvuError):
        do_enqueue(actor=OPERATOR, kind="no.such", now=timezone.now())
