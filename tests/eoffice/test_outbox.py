"""The eOffice mail outbox delivered through a real SMTP server on loopback (the sink
stands in for the deployment's Postfix): an issued document goes with its PDF and its
summary as the subject (KH-7), from the agency's official mailbox; it stays queued while
the server refuses connections and goes on retry; a classified row is never sent (KH-8.3);
urgent-document notices go out too."""

from __future__ import annotations

import datetime as dt
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from congvu.accounts.actions import do_create_agency_mailbox
from congvu.audit.models import AuditEvent
from congvu.eoffice import actions, files, outbox
from congvu.eoffice.models import DocumentVersion, MailOutbox
from tests.eoffice.conftest import NOW, PARAMS, Office, approved, form, pdf
from tests.factories import OPERATOR
from tests.mail.smtp_sink import start_sink

pytestmark = pytest.mark.django_db
DOMAIN = "gialai.gov.vn"
SUMMARY = ("Quyết định ban hành Quy chế quản lý hệ thống Quản lý văn bản và điều hành "
           "của Sở Thông tin và Truyền thông")


def _issued(o: Office, **kwargs: Any) -> Any:
    doc = actions.do_number_outgoing(actor=o.clerk.actor, profile=o.p,
                                     outgoing_id=approved(o, summary=SUMMARY, **kwargs).pk,
                                     now=NOW)
    actions.do_add_version(actor=o.clerk.actor, outgoing_id=doc.pk,
                           upload=pdf("Quyết định ký số"), now=NOW, profile=o.p,
                           note="Bản ký số", params=PARAMS)
    return actions.do_issue_outgoing(actor=o.clerk.actor, profile=o.p, outgoing_id=doc.pk,
                                     now=NOW, params=PARAMS,
                                     emails=["ubnd@gialai.gov.vn", "vpubnd@gialai.gov.vn"])


def _refused_port() -> tuple[socket.socket, int]:
    closed = socket.socket()  # bound, never listening: connections are refused
    closed.bind(("127.0.0.1", 0))
    return closed, closed.getsockname()[1]


def test_kh_7_issued_document_is_delivered_with_pdf_and_summary_subject_after_a_retry(
        office: Office) -> None:
    box, _otp = do_create_agency_mailbox(actor=OPERATOR, profile=office.p,
                                         agency_ref="sotttt", now=NOW)
    doc = _issued(office)
    row = MailOutbox.objects.get(outgoing=doc)
    closed, port = _refused_port()
    try:
        assert outbox.deliver_pending("127.0.0.1", port, domain=DOMAIN, now=NOW) == 0
    finally:
        closed.close()
    row.refresh_from_db()
    assert row.sent_at is None and row.attempts == 1 and "Refused" in row.last_error
    assert row.next_attempt_at and row.next_attempt_at > NOW
    assert outbox.queue_status().failing == 1
    sink = start_sink()
    try:
        # Not due yet: the back-off holds it.
        assert outbox.deliver_pending("127.0.0.1", sink.port, domain=DOMAIN, now=NOW) == 0
        later = row.next_attempt_at
        assert outbox.deliver_pending("127.0.0.1", sink.port, domain=DOMAIN, now=later) == 1
        assert outbox.deliver_pending("127.0.0.1", sink.port, domain=DOMAIN, now=later) == 0
    finally:
        sink.stop()
    row.refresh_from_db()
    assert row.sent_at == later and row.last_error == "" and row.attempts == 2
    (got,) = sink.messages
    assert got.sender == box.address
    assert sorted(got.recipients) == ["ubnd@gialai.gov.vn", "vpubnd@gialai.gov.vn"]
    assert b"Qu\xe1" not in got.data.split(b"\r\n\r\n", 1)[0]  # headers are 7-bit
    msg = message_from_bytes(got.data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["Subject"] == SUMMARY  # KH-7, decoded
    assert msg["From"].addresses[0].addr_spec == box.address
    assert msg["From"].addresses[0].display_name == "Sở Thông tin và Truyền thông"
    assert msg["Message-ID"] and msg["Date"]
    (attachment,) = list(msg.iter_attachments())
    version = DocumentVersion.objects.filter(outgoing=doc).order_by("-number").first()
    assert version is not None and attachment.get_filename() == version.original_name
    assert attachment.get_content_type() == "application/pdf"
    assert "ký số" in version.original_name  # an RFC 2231 file name, decoded
    assert attachment.get_content() == files.read(version.path, version.sha256)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and doc.number_text in body.get_content()


def test_without_an_agency_mailbox_mail_comes_from_the_notices_address(office: Office) -> None:
    _issued(office)
    sink = start_sink()
    try:
        assert outbox.deliver_pending("127.0.0.1", sink.port, domain=DOMAIN, now=NOW) == 1
    finally:
        sink.stop()
    assert sink.messages[0].sender == f"postmaster@{DOMAIN}"


def test_kh_8_3_a_classified_row_is_marked_refused_and_never_sent(office: Office) -> None:
    doc = actions.do_number_outgoing(
        actor=office.clerk.actor, profile=office.p,
        outgoing_id=approved(office, doc_type="bao-cao", confidentiality="mat").pk, now=NOW)
    # The domain refuses to write such a row; one written around it must still not go.
    version = actions.do_add_version(actor=office.clerk.actor, outgoing_id=doc.pk,
                                     upload=pdf("Mật"), now=NOW, profile=office.p,
                                     params=PARAMS)
    row = MailOutbox.objects.create(recipients="ubnd@gialai.gov.vn", subject="Báo cáo mật",
                                    body="x", rule="KH-7", attachment=version, outgoing=doc,
                                    created_at=NOW)
    sink = start_sink()
    try:
        later = NOW + dt.timedelta(days=400)
        assert outbox.deliver_pending("127.0.0.1", sink.port, domain=DOMAIN, now=NOW) == 0
        assert outbox.deliver_pending("127.0.0.1", sink.port, domain=DOMAIN, now=later) == 0
    finally:
        sink.stop()
    assert sink.messages == []
    row.refresh_from_db()
    assert row.sent_at is None and row.last_error.startswith("KH-8.3")
    assert row.next_attempt_at == outbox.REFUSED and row.attempts == 1
    event = AuditEvent.objects.get(action="eoffice.mail_refused")
    assert (event.rule, event.target) == ("KH-8.3", doc.target)
    assert outbox.queue_status().refused == 1


def test_urgent_incoming_notice_is_mailed_to_the_clerks(office: Office) -> None:
    actions.do_receive_incoming(actor=office.clerk.actor, profile=office.p,
                                agency_id=office.agency.pk, form=form(urgency="hoa_toc"),
                                upload=pdf(), now=NOW, params=PARAMS)
    row = MailOutbox.objects.get()
    sink = start_sink()
    try:
        assert outbox.deliver_pending("127.0.0.1", sink.port, domain=DOMAIN, now=NOW) == 1
    finally:
        sink.stop()
    (got,) = sink.messages
    assert got.recipients == [office.clerk.account.address]
    msg = message_from_bytes(got.data, policy=policy.default)
    assert msg["Subject"] == " ".join(row.subject.split())
    assert msg["Auto-Submitted"] == "auto-generated" and not list(msg.iter_attachments())
