"""The tasks worker runs the eOffice's escalations (``run_due``): ``congvu worker --once``
escalates what is overdue, a failing round does not stop the loop, and the worker's
output shows the eOffice mail queue to the operator."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from congvu import tasks
from congvu.audit.models import AuditEvent
from congvu.eoffice import actions, worker
from congvu.eoffice.models import MailOutbox, Notice
from tests.eoffice.conftest import NOW, PARAMS, Office, build_office, draft, form, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def web_office(db: Any, use_profile: Any) -> Office:
    """The office on a Gia Lai deployment: the worker reads the deployment's profile."""
    return build_office(use_profile("gia-lai"))


def test_gl_10_7_and_nd30_23_worker_once_escalates_overdue_review_and_registration(
        web_office: Any, cli: Any) -> None:
    o = web_office
    doc = draft(o)
    actions.do_submit_outgoing(actor=o.spec.actor, profile=o.p, outgoing_id=doc.pk, now=NOW,
                               params=PARAMS)
    received = actions.do_receive_incoming(actor=o.clerk.actor, profile=o.p,
                                           agency_id=o.agency.pk, form=form(), upload=pdf(),
                                           now=NOW, params=PARAMS)
    # The real clock is long past both deadlines (3 working days; the next working day).
    result = cli("worker", "--once", "--json")
    assert result.exit_code == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["eoffice_escalations"]["reviews"] == 1
    assert done["eoffice_escalations"]["registrations"] == 1
    assert Notice.objects.filter(outgoing=doc, kind="outgoing.overdue",
                                 recipient=o.head.account).exists()
    assert Notice.objects.filter(incoming=received, kind="incoming.late",
                                 recipient=o.clerk.account).exists()
    assert AuditEvent.objects.filter(action="eoffice.review_overdue",
                                     actor="system:eoffice").count() == 1
    again = tasks.run_once()  # once each
    assert again["eoffice_escalations"] == {"reviews": 0, "registrations": 0,
                                            "assignments": 0}


def test_worker_once_shows_the_operator_the_eoffice_mail_queue(web_office: Any) -> None:
    MailOutbox.objects.create(recipients="a@gialai.gov.vn", subject="Khẩn", body="x",
                              created_at=NOW, attempts=3, last_error="ConnectionRefusedError")
    MailOutbox.objects.create(recipients="b@gialai.gov.vn", subject="Thường", body="y",
                              created_at=NOW)
    done = tasks.run_once()
    mail = done["eoffice_mail"]
    assert (mail["queued"], mail["failing"], mail["refused"]) == (2, 1, 0)
    assert "ConnectionRefusedError" in mail["oldest_error"]


def test_a_failing_round_is_logged_and_the_loop_goes_on(monkeypatch: Any,
                                                         caplog: Any) -> None:
    calls: list[int] = []

    def flaky() -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return {"reviews": 0}

    monkeypatch.setattr(worker, "run_round", flaky)
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop, 0.01), daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(timeout=5)
    assert len(calls) >= 3 and not thread.is_alive()
    assert "eOffice escalation round failed" in caplog.text


def test_the_tasks_worker_starts_an_eoffice_thread(monkeypatch: Any) -> None:
    from congvu.jobs import worker as jobs_worker
    from congvu.sso import outbox

    rounds: list[int] = []
    monkeypatch.setattr(worker, "run_round", lambda: rounds.append(1) or {})
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    idle = (threading.Thread(target=lambda: None), threading.Event())
    idle[0].start()
    monkeypatch.setattr(outbox, "start_thread", lambda: idle)
    monkeypatch.setattr(jobs_worker, "start_thread", lambda: idle)
    stop = threading.Event()
    runner = threading.Thread(target=tasks.run_forever, args=(stop,), daemon=True)
    runner.start()
    deadline = time.monotonic() + 5
    while not rounds and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "congvu-eoffice" in [t.name for t in threading.enumerate()]
    stop.set()
    runner.join(timeout=10)
    assert rounds and not runner.is_alive()
