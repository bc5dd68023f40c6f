"""Reports as jobs of the tasks worker: queued with the reader's rights checked at once
(audited), run with the rights the owner has when it runs, in the reader's language,
with progress, a summary and the file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError, Forbidden
from congvu.jobs import registry
from congvu.jobs.actions import do_enqueue, run_pending
from congvu.jobs.models import Job
from congvu.reports.actions import do_queue_report
from congvu.reports.build import ReportAsk
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db
H1 = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))


def test_every_report_kind_has_a_handler() -> None:
    for kind in ("usage", "accounts", "requests"):
        assert registry.handler_for(f"reports.{kind}") is not None


def test_a_queued_report_runs_with_progress_and_keeps_its_file(
        province: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stages: list[str] = []
    from congvu.jobs import actions

    real = actions._Progress.advance

    def spy(self: Any, done: int, stage: str = "") -> None:
        stages.append(stage)
        real(self, done, stage)

    monkeypatch.setattr(actions._Progress, "advance", spy)
    job = do_queue_report(actor=province["operator"], profile=province["p"],
                          ask=ReportAsk("requests", *H1), file_format="pdf", now=NOW,
                          lang="vi", account=province["op"])
    event = AuditEvent.objects.get(action="job.queue", target=f"job:{job.pk}")
    assert event.data["params"]["report"] == "requests"
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == "done" and job.percent == 100
    assert job.result_name == "yeu-cau-va-viec-bao-dam-thoi-han-xu-ly_2026-01-01_2026-06-30.pdf"
    assert job.summary == {"title": "Yêu cầu và việc bảo đảm thời hạn xử lý",
                           "subject": "Yêu cầu của các cơ quan và việc bảo đảm thời hạn xử lý",
                           "scope": "tỉnh Quảng Nam", "period": "01/01/2026 – 30/06/2026",
                           "format": "PDF", "tables": 3}
    assert "Đang tổng hợp số liệu" in stages and "Đang ghi tệp" in stages


def test_another_agency_is_refused_before_anything_is_queued(province: Any) -> None:
    with pytest.raises(Forbidden):
        do_queue_report(actor=province["contact"], profile=province["p"],
                        ask=ReportAsk("usage", *H1, agency="stc"), file_format="xlsx",
                        now=NOW, lang="vi", account=province["nam"])
    with pytest.raises(CongvuError):
        do_queue_report(actor=province["operator"], profile=province["p"],
                        ask=ReportAsk("usage", H1[1], H1[0]), file_format="xlsx", now=NOW,
                        lang="vi", account=province["op"])
    assert not Job.objects.exists()


def test_a_job_forged_for_another_agency_fails_without_a_file(province: Any) -> None:
    """Queued behind the action's back (straight into the queue): the handler checks the
    owner's rights again and refuses."""
    job = do_enqueue(actor=province["contact"], kind="reports.accounts", now=NOW,
                     account=province["nam"],
                     params={"report": "accounts", "format": "xlsx", "start": "2026-01-01",
                             "end": "2026-06-30", "agency": "stc", "lang": "vi"})
    run_pending()
    job.refresh_from_db()
    assert job.status == "failed" and not job.result
    assert "không được xem báo cáo của stc" in job.error


def test_an_incomplete_job_says_so(province: Any) -> None:
    job = do_enqueue(actor=province["operator"], kind="reports.usage", now=NOW,
                     account=province["op"], params={"report": "usage"})
    run_pending()
    job.refresh_from_db()
    assert job.status == "failed" and "thiếu thông tin" in job.error
