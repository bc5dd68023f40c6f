"""Internal messages and agency notices (GL-8.2): to people, departments or the whole
agency; read state, reply, per-person delete; notices only from the office; nobody
outside the agency writes to it or reads its messages."""

from __future__ import annotations

import pytest

from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.messaging import actions, selectors
from congvu.messaging.models import Delivery, MessageKind
from tests.eoffice.conftest import NOW

pytestmark = pytest.mark.django_db


def _send(o, who, **kwargs):
    values = {"subject": "Chuẩn bị họp giao ban", "body": "Đề nghị các phòng gửi báo cáo."}
    values.update(kwargs)
    return actions.do_send_message(actor=who.actor, agency_id=o.agency.pk, now=NOW, **values)


def _inbox(who) -> list[str]:
    return [d.message.subject for d in selectors.inbox(who.actor)]


def test_gl_8_2_a_message_to_a_department_reaches_its_members(office) -> None:
    _send(office, office.vp_spec, unit_ids=[office.cntt.pk], people_ids=[office.clerk.id])
    reached = set(Delivery.objects.values_list("recipient_id", flat=True))
    assert reached == {office.head.id, office.spec.id, office.spec2.id, office.clerk.id}
    assert _inbox(office.spec) == ["Chuẩn bị họp giao ban"]
    assert _inbox(office.director) == []
    event = AuditEvent.objects.get(action="messaging.message.send")
    assert event.data["recipients"] == 4 and "body" not in event.data


def test_gl_8_2_everyone_in_the_agency_and_read_state(office) -> None:
    message = _send(office, office.head, to_all=True)
    assert len(_inbox(office.vp_spec)) == 1 and _inbox(office.other_clerk) == []
    assert selectors.unread_counts(office.spec.actor)["messages"] == 1
    actions.do_mark_read(actor=office.spec.actor, message_id=message.pk, now=NOW)
    assert selectors.unread_counts(office.spec.actor)["messages"] == 0
    actions.do_mark_read(actor=office.spec.actor, message_id=message.pk, now=NOW, read=False)
    assert selectors.unread_counts(office.spec.actor)["messages"] == 1


def test_gl_8_2_reply_goes_to_the_sender_or_everyone(office) -> None:
    message = _send(office, office.head, people_ids=[office.spec.id, office.spec2.id])
    answer = actions.do_reply(actor=office.spec.actor, message_id=message.pk,
                              body="Đã nhận.", now=NOW)
    assert answer.subject == "Re: Chuẩn bị họp giao ban" and answer.reply_to_id == message.pk
    assert _inbox(office.head) == ["Re: Chuẩn bị họp giao ban"]
    actions.do_reply(actor=office.spec.actor, message_id=message.pk, body="Gửi cả nhóm.",
                     now=NOW, reply_all=True)
    assert _inbox(office.spec2).count("Re: Chuẩn bị họp giao ban") == 1
    with pytest.raises(NotFound):  # not a party to it
        actions.do_reply(actor=office.vp_spec.actor, message_id=message.pk, body="?", now=NOW)


def test_gl_8_2_each_person_deletes_their_own_copy(office) -> None:
    message = _send(office, office.head, people_ids=[office.spec.id, office.spec2.id])
    actions.do_delete_message(actor=office.spec.actor, message_id=message.pk, now=NOW)
    assert _inbox(office.spec) == [] and len(_inbox(office.spec2)) == 1
    assert [m.pk for m in selectors.sent(office.head.actor)] == [message.pk]
    actions.do_delete_message(actor=office.head.actor, message_id=message.pk, now=NOW)
    assert list(selectors.sent(office.head.actor)) == []
    with pytest.raises(NotFound):
        actions.do_delete_message(actor=office.vp_spec.actor, message_id=message.pk, now=NOW)


def test_gl_8_2_inbox_sorts(office) -> None:
    from tests.conftest import at

    first = _send(office, office.head, people_ids=[office.spec.id], subject="A")
    actions.do_send_message(actor=office.clerk.actor, agency_id=office.agency.pk,
                            subject="B", body="x", people_ids=[office.spec.id],
                            now=at("2026-03-02T10:00"))
    assert _inbox(office.spec) == ["B", "A"]
    assert [d.message.subject for d in selectors.inbox(office.spec.actor, sort="old")] == [
        "A", "B"]
    actions.do_mark_read(actor=office.spec.actor, message_id=first.pk, now=NOW)
    assert [d.message.subject for d in selectors.inbox(office.spec.actor, sort="unread")] == [
        "B", "A"]


def test_gl_8_2_only_the_office_posts_agency_notices(office) -> None:
    with pytest.raises(Forbidden):
        _send(office, office.spec, kind=MessageKind.NOTICE)
    notice = _send(office, office.clerk, kind=MessageKind.NOTICE, subject="Thông báo nghỉ Tết")
    assert notice.to_all and len(_inbox(office.spec)) == 1
    assert [m.subject for m in selectors.agency_notices(office.spec.actor, NOW,
                                                        office.agency.pk)] == [
        "Thông báo nghỉ Tết"]
    with pytest.raises(Forbidden):
        selectors.agency_notices(office.other_clerk.actor, NOW, office.agency.pk)


def test_gl_8_2_outsiders_neither_send_nor_read(office) -> None:
    with pytest.raises(Forbidden):
        _send(office, office.other_clerk, to_all=True)
    with pytest.raises(CongvuError, match="Recipients"):
        _send(office, office.spec, people_ids=[office.other_clerk.id])
    message = _send(office, office.head, people_ids=[office.spec.id])
    with pytest.raises(Forbidden):
        selectors.message_detail(office.other_director.actor, NOW, message.pk)
    with pytest.raises(Forbidden):
        selectors.message_detail(office.spec2.actor, NOW, message.pk)


def test_bad_messages_are_refused_with_the_field_named(office) -> None:
    with pytest.raises(CongvuError, match="Subject"):
        _send(office, office.spec, subject=" ", to_all=True)
    with pytest.raises(CongvuError, match="Content"):
        _send(office, office.spec, body="", to_all=True)
    with pytest.raises(CongvuError, match="Recipients"):
        _send(office, office.spec, people_ids=[office.spec.id])
    assert not Delivery.objects.exists()
