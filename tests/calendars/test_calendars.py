"""Work calendars (GL-8.1): who writes which calendar (the office keeps the leaders'
and the agency's; a head their department's; a person their own), who reads them
(the agency's people; nobody outside it), invitations, the audit trail, and the
subscription feeds."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.audit.models import AuditEvent
from congvu.calendars import actions, selectors
from congvu.calendars.access import CalendarRef
from congvu.calendars.models import CalendarKind as K
from congvu.calendars.models import Event
from congvu.eoffice import actions as eoffice_actions
from congvu.eoffice.models import OfficeRole
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at
from tests.eoffice.conftest import NOW

pytestmark = pytest.mark.django_db
WEEK = (at("2026-03-02"), at("2026-03-09"))


def _form(title: str = "Giao ban Sở", **kwargs: object) -> actions.EventForm:
    values: dict[str, object] = {"title": title, "starts_at": at("2026-03-03T08:00"),
                                 "ends_at": at("2026-03-03T10:00"), "place": "Phòng họp 1",
                                 "chair": "Giám đốc Sở"}
    values.update(kwargs)
    return actions.EventForm(**values)  # type: ignore[arg-type]


def _add(o, who, kind=K.LEADERS, department=None, **kwargs) -> Event:
    ref = CalendarRef(kind, o.agency.pk, department.pk if department else None,
                      who.id if kind == K.PERSONAL else None)
    return actions.do_create_event(actor=who.actor, calendar=ref, form=_form(**kwargs), now=NOW)


def _titles(o, who, keys) -> list[str]:
    refs = [selectors.parse_key(k, o.agency.pk, who.id) for k in keys]
    return [e.title for e in selectors.events_between(who.actor, NOW, refs=refs,
                                                       start=WEEK[0], end=WEEK[1])]


def test_gl_8_1_the_office_writes_the_leaders_calendar_and_everyone_reads_it(office) -> None:
    _add(office, office.clerk, title="Lịch của văn thư")
    _add(office, office.director, kind=K.AGENCY, title="Lịch của giám đốc")
    # The head of the Văn phòng (where the clerk sits) is the office too.
    _add(office, office.vp_head, title="Lịch của chánh văn phòng")
    for reader in (office.spec, office.head, office.deputy, office.vp_spec):
        assert _titles(office, reader, ["leaders", "agency"]) == [
            "Lịch của văn thư", "Lịch của giám đốc", "Lịch của chánh văn phòng"]
    event = AuditEvent.objects.filter(action="calendar.event.create").first()
    assert event is not None and event.rule == "GL-8.1"


def test_gl_8_1_a_specialist_cannot_post_the_leaders_calendar(office) -> None:
    with pytest.raises(Forbidden, match="office"):
        _add(office, office.spec)
    with pytest.raises(Forbidden):  # nor the head of another department
        _add(office, office.head, kind=K.AGENCY)
    assert not Event.objects.exists()


def test_gl_8_1_someone_outside_the_agency_cannot_read_its_calendar(office) -> None:
    _add(office, office.clerk)
    with pytest.raises(Forbidden):
        selectors.calendars_for(office.other_clerk.actor, NOW, office.agency.pk)
    with pytest.raises(Forbidden):
        _titles(office, office.other_director, ["leaders"])
    assert selectors.feed_events(office.other_clerk.actor, NOW) == []


def test_gl_8_1_a_head_writes_their_department_calendar_its_members_read_it(office) -> None:
    _add(office, office.head, kind=K.DEPARTMENT, department=office.cntt, title="Họp phòng")
    with pytest.raises(Forbidden, match="head"):
        _add(office, office.spec, kind=K.DEPARTMENT, department=office.cntt)
    with pytest.raises(Forbidden):
        _add(office, office.vp_head, kind=K.DEPARTMENT, department=office.cntt)
    assert _titles(office, office.spec2, [f"dept-{office.cntt.pk}"]) == ["Họp phòng"]
    # The office (here the director) reads every department's calendar.
    assert _titles(office, office.director, [f"dept-{office.cntt.pk}"]) == ["Họp phòng"]
    with pytest.raises(Forbidden):  # a member of another department does not
        _titles(office, office.vp_spec, [f"dept-{office.cntt.pk}"])


def test_gl_8_1_personal_calendars_are_private_but_invitations_show(office) -> None:
    _add(office, office.spec, kind=K.PERSONAL, title="Việc riêng")
    _add(office, office.spec, kind=K.PERSONAL, title="Trao đổi với chị Viên",
         participant_ids=[office.spec2.id])
    assert _titles(office, office.spec, ["me"]) == ["Việc riêng", "Trao đổi với chị Viên"]
    assert _titles(office, office.spec2, ["me"]) == ["Trao đổi với chị Viên"]
    assert _titles(office, office.head, ["me"]) == []


def test_gl_8_1_units_invited_see_the_event(office) -> None:
    _add(office, office.director, kind=K.PERSONAL, title="Làm việc với Phòng CNTT",
         unit_ids=[office.cntt.pk])
    assert _titles(office, office.spec2, ["me"]) == ["Làm việc với Phòng CNTT"]
    assert _titles(office, office.vp_spec, ["me"]) == []


def test_bad_events_are_refused_with_the_field_named(office) -> None:
    with pytest.raises(CongvuError, match="Title"):
        _add(office, office.clerk, title="  ")
    with pytest.raises(CongvuError, match="End"):
        _add(office, office.clerk, ends_at=at("2026-03-03T07:00"))
    with pytest.raises(CongvuError, match="Participants"):
        _add(office, office.clerk, participant_ids=[office.other_clerk.id])
    with pytest.raises(CongvuError, match="units"):
        _add(office, office.clerk, unit_ids=[office.other.pk])
    assert not Event.objects.exists()


def test_gl_8_1_changing_an_event_raises_its_sequence_deleting_is_audited(office) -> None:
    event = _add(office, office.clerk)
    changed = actions.do_update_event(actor=office.vp_head.actor, event_id=event.pk,
                                      form=_form(title="Giao ban (dời giờ)"), now=NOW)
    assert (changed.title, changed.sequence) == ("Giao ban (dời giờ)", 1)
    with pytest.raises(Forbidden):
        actions.do_update_event(actor=office.spec.actor, event_id=event.pk, form=_form(),
                                now=NOW)
    with pytest.raises(Forbidden):
        actions.do_delete_event(actor=office.spec.actor, event_id=event.pk, now=NOW)
    actions.do_delete_event(actor=office.director.actor, event_id=event.pk, now=NOW)
    assert not Event.objects.exists()
    assert AuditEvent.objects.filter(action="calendar.event.delete",
                                     target=f"event:{event.pk}").exists()


def test_gl_11_a_delegate_writes_the_leaders_calendar_on_behalf(office) -> None:
    delegation = eoffice_actions.do_request_delegation(
        actor=office.director.actor, agency_id=office.agency.pk, delegate_id=office.spec.id,
        roles=[OfficeRole.DIRECTOR], starts_at=at("2026-03-02T08:00"),
        ends_at=at("2026-03-06T17:00"), now=at("2026-03-01T10:00"))
    eoffice_actions.do_approve_delegation(actor=office.director.actor,
                                          delegation_id=delegation.pk, now=at("2026-03-01T11:00"))
    eoffice_actions.do_announce_delegation(actor=office.director.actor,
                                           delegation_id=delegation.pk,
                                           now=at("2026-03-01T12:00"))
    event = _add(office, office.spec, title="Tiếp đoàn công tác")
    assert event.created_by_label.endswith(f"on behalf of {office.director.account.address}")


def test_gl_8_1_feeds_are_secret_revocable_and_carry_what_the_person_reads(office) -> None:
    _add(office, office.clerk, title="Giao ban")
    _add(office, office.spec, kind=K.PERSONAL, title="Việc riêng của Chuyên")
    feed, token = actions.do_create_feed(actor=office.spec2.actor, now=NOW)
    assert feed.token_hash != token and len(token) >= 40
    owner = selectors.feed_owner(token, NOW)
    assert owner is not None and owner.pk == office.spec2.id
    from congvu.accounts.roles import actor_for

    assert [e.title for e in selectors.feed_events(actor_for(owner), NOW)] == ["Giao ban"]
    _feed2, token2 = actions.do_create_feed(actor=office.spec2.actor, now=NOW)
    assert selectors.feed_owner(token, NOW) is None  # the new one replaced it
    assert actions.do_revoke_feed(actor=office.spec2.actor, now=NOW) == 1
    assert selectors.feed_owner(token2, NOW) is None
    with pytest.raises(Forbidden):  # no eOffice seat, no feed
        from tests.factories import account

        stranger, _otp = account(office.p, "stc", "Người Ngoài", dt.datetime(2026, 1, 5,
                                                                            tzinfo=dt.UTC))
        actions.do_create_feed(actor=actor_for(stranger), now=NOW)
