"""QN-7.2: a suspension notifies the holder and the agency; notices are durable."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from congvu.accounts import lifecycle
from congvu.accounts.actions import do_create_agency_mailbox, do_suspend
from congvu.accounts.models import Notice
from congvu.mail.outbox import deliver_pending
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency
from tests.mail.smtp_sink import start_sink

pytestmark = pytest.mark.django_db


def test_qn_7_2_manual_suspension_queues_a_notice_to_holder_and_agency_mailbox() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="sotttt",
                                      now=at("2026-01-05"))
    acct, _ = account(p, "sotttt", "Nguyễn Văn Nam", at("2026-01-05"))
    do_suspend(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-06"), rule="QN-11",
               reason="thư rác")
    notice = Notice.objects.get()
    assert notice.recipients.split(",") == [acct.address, box.address]
    assert acct.address in notice.subject and "QN-11" in notice.subject
    assert "thư rác" in notice.body and notice.sent_at is None


def test_qn_7_2_the_sweep_notifies_every_suspended_account() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    for name in ["Nguyễn Văn Nam", "Trần Thị Bình", "Lê Văn Cường"]:
        account(p, "sotttt", name, at("2026-01-05"))
    lifecycle.run(profile=p, now=at("2026-04-05T09:00"))
    assert Notice.objects.filter(rule="QN-7.2").count() == 3


def test_notices_are_delivered_once_and_retried_while_the_mta_is_down() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    acct, _ = account(p, "sotttt", "Nguyễn Văn Nam", at("2026-01-05"))
    do_suspend(actor=OPERATOR, profile=p, account=acct, now=at("2026-01-06"), rule="QN-11",
               reason="")
    closed = socket.socket()  # bound, never listening: connections are refused
    closed.bind(("127.0.0.1", 0))
    now = dt.datetime(2026, 1, 6, 2, tzinfo=dt.UTC)
    try:
        port = closed.getsockname()[1]
        assert deliver_pending("127.0.0.1", port, domain=p.mail.domain, now=now) == 0
    finally:
        closed.close()
    waiting = Notice.objects.get()
    assert waiting.attempts == 1 and waiting.last_error and waiting.next_attempt_at
    sink = start_sink()
    try:
        assert deliver_pending("127.0.0.1", sink.port, domain=p.mail.domain, now=now) == 0
        later = waiting.next_attempt_at
        assert deliver_pending("127.0.0.1", sink.port, domain=p.mail.domain, now=later) == 1
        assert sink.recipients() == [acct.address]
        assert deliver_pending("127.0.0.1", sink.port, domain=p.mail.domain, now=later) == 0
    finally:
        sink.stop()
