"""Handing an official e-mail over to the clerks' intake (GL-9, ND30-23): the message's
PDF becomes an incoming document received by e-mail, prefilled from the message and the
directory; malformed, oversized or PDF-less messages are refused clearly; a message is
handed over once per agency."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from congvu.accounts.actions import do_create_agency_mailbox
from congvu.audit.models import AuditEvent
from congvu.eoffice import mail_intake
from congvu.eoffice.models import Channel, IncomingStatus
from congvu.eoffice.params import EofficeParams
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, Office, pdf
from tests.factories import OPERATOR

pytestmark = pytest.mark.django_db
SUBJECT = "Fwd: Thượng khẩn: UBND tỉnh mời họp ngày 10/3/2026 về triển khai chuyển đổi số"


def eml(*, sender: str = "Văn phòng UBND tỉnh <vpubnd@gialai.gov.vn>",
        subject: str = SUBJECT, attachments: list[tuple[str, bytes]] | None = None,
        message_id: str | None = "<abc123@gialai.gov.vn>", received: str = "",
        date: dt.datetime | None = None) -> bytes:
    msg = EmailMessage()
    date = date or at("2026-03-02T07:30")
    msg["From"], msg["To"], msg["Subject"] = sender, "sotttt@gialai.gov.vn", subject
    msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    if received:
        msg["Received"] = received
    msg.set_content("Kính gửi Sở TT&TT, xin gửi kèm giấy mời.")
    for name, content in attachments if attachments is not None else [
            ("GM-123-UBND-KGVX.pdf", pdf("Giấy mời").content)]:
        msg.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return msg.as_bytes()


def _hand(o: Office, raw: bytes, who: Any = None, **kwargs: Any) -> Any:
    return mail_intake.do_hand_over_mail(actor=(who or o.clerk).actor, profile=o.p, raw=raw,
                                         now=NOW, params=PARAMS, **kwargs)


def test_gl_9_an_official_email_becomes_a_received_document_in_the_intake(
        office: Office) -> None:
    do_create_agency_mailbox(actor=OPERATOR, profile=office.p, agency_ref="stc", now=NOW)
    raw = eml(sender="Sở Tài chính <stc@gialai.gov.vn>",
              subject="Fwd: Thượng khẩn: Công văn 45/STC-NS về dự toán ngân sách năm 2026",
              received="from mx.gialai.gov.vn by mail.gialai.gov.vn; "
                       + format_datetime(at("2026-03-02T08:15")))
    doc = _hand(office, raw)
    assert (doc.status, doc.channel, doc.number) == (IncomingStatus.RECEIVED, Channel.EMAIL,
                                                     None)
    # The issuer from the directory (an official address), not the display name.
    assert doc.issuer == "Sở Tài chính"
    assert doc.summary == "Thượng khẩn: Công văn 45/STC-NS về dự toán ngân sách năm 2026"
    assert (doc.doc_type, doc.number_symbol, doc.urgency) == ("cong-van", "45/STC-NS",
                                                              "thuong_khan")
    assert doc.received_at == at("2026-03-02T08:15")  # our server's Received: stamp
    (version,) = doc.versions.all()
    assert version.original_name == "GM-123-UBND-KGVX.pdf" and version.mime == "application/pdf"
    event = AuditEvent.objects.get(action="eoffice.incoming.mail_handover")
    assert event.data["incoming"] == doc.pk and event.actor == office.clerk.actor.label
    assert AuditEvent.objects.filter(action="eoffice.incoming.receive",
                                     target=doc.target).exists()


def test_an_outside_sender_is_the_issuer_by_name_and_date_header_is_the_arrival(
        office: Office) -> None:
    doc = _hand(office, eml(sender="Bộ Nội vụ <vanthu@moha.gov.vn>",
                            subject="Quyết định số 12/2026/QĐ-BNV về tổ chức bộ máy"))
    assert doc.issuer == "Bộ Nội vụ" and doc.doc_type == "quyet-dinh"
    assert doc.number_symbol == "12/2026/QĐ-BNV" and doc.urgency == "normal"
    assert doc.received_at == at("2026-03-02T07:30")


def test_the_same_message_is_handed_over_once_per_agency(office: Office) -> None:
    first = _hand(office, eml())
    with pytest.raises(CongvuError, match=f"#{first.pk}"):
        _hand(office, eml())
    # Without a Message-ID, the whole message is its identity.
    anonymous = eml(message_id=None)
    _hand(office, anonymous)
    with pytest.raises(CongvuError, match="Không tiếp nhận lần thứ hai"):
        _hand(office, anonymous)
    # Another agency's clerk may receive the same message for their agency.
    other = _hand(office, eml(), who=office.other_clerk)
    assert other.agency_id == office.other.pk


def test_a_message_without_pdf_is_refused_clearly(office: Office) -> None:
    with pytest.raises(CongvuError, match="PDF"):
        _hand(office, eml(attachments=[("bao-cao.docx", b"PK\x03\x04xx")]))


def test_several_pdfs_the_chosen_one_is_received(office: Office) -> None:
    raw = eml(attachments=[("cong-van.pdf", pdf("Công văn").content),
                           ("phu-luc.pdf", pdf("Phụ lục").content)])
    mail = mail_intake.parse(raw, params=PARAMS)
    assert [a.name for a in mail.pdfs] == ["cong-van.pdf", "phu-luc.pdf"]
    doc = _hand(office, raw, attachment=1)
    assert doc.versions.get().original_name == "phu-luc.pdf"


@pytest.mark.parametrize(("raw", "problem"), [
    (b"", "tệp rỗng"),
    (b"this is not a mail at all\n", "From"),
    (b"From: a@b.vn\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n"
     b"\r\nno boundary here\r\n", "MIME"),
    (b"From: a@b.vn\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
     b"boundary=XX\r\n\r\n--XX\r\nContent-Type: application/pdf; name=a.pdf\r\n"
     b"Content-Disposition: attachment; filename=a.pdf\r\n"
     b"Content-Transfer-Encoding: base64\r\n\r\nJVBER!!i0x*LjQK=\r\n--XX--\r\n", "a.pdf"),
])
def test_malformed_mail_is_refused_naming_the_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(CongvuError) as caught:
        mail_intake.parse(raw, params=PARAMS)
    assert caught.value.message.startswith("Không đọc được thư: ")
    assert problem in caught.value.message


def test_size_limit(office: Office) -> None:
    small = EofficeParams(max_file_mb=1)
    with pytest.raises(CongvuError, match="2 MB"):
        mail_intake.parse(b"From: a@b.vn\r\n\r\n" + b"x" * (2 * 2**20 + 1), params=small)


def test_only_a_clerk_hands_over_and_only_for_their_agency(office: Office) -> None:
    with pytest.raises(Forbidden):
        _hand(office, eml(), who=office.spec)
    with pytest.raises(Forbidden):
        _hand(office, eml(), agency_id=office.other.pk)
    assert not AuditEvent.objects.filter(action="eoffice.incoming.mail_handover").exists()
