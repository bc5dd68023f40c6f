"""Writing internal messages and agency notices (GL-8.2). Senders and recipients are
the agency's eOffice people (an own role there); an agency notice (thông báo) is posted
by the office (leaders, clerks, the head of the clerks' department) to everyone. Sending
is audited (who, to how many, the subject; never the body); reading and deleting one's
own copy are not (no state of anyone else's changes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.calendars.access import office_seat
from congvu.directory.selectors import agency_subtree_ids
from congvu.eoffice.access import powers_for
from congvu.eoffice.models import OfficeRole, OfficeRoleGrant
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.messaging.models import Delivery, Message, MessageKind

RULE = "GL-8.2"
MAX_BODY = 20000


def _members(agency_id: int) -> set[int]:
    return set(OfficeRoleGrant.objects.filter(agency_id=agency_id)
               .values_list("account_id", flat=True))


def _unit_members(agency_id: int, unit_ids: Sequence[int]) -> set[int]:
    return set(OfficeRoleGrant.objects.filter(agency_id=agency_id, department_id__in=unit_ids)
               .values_list("account_id", flat=True))


def _text(subject: str, body: str) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject:
        raise CongvuError(_("Subject: required."))
    if len(subject) > 255:
        raise CongvuError(_("Subject: at most 255 characters."))
    if not body:
        raise CongvuError(_("Content: required."))
    if len(body) > MAX_BODY:
        raise CongvuError(_("Content: at most %(n)d characters.") % {"n": MAX_BODY})
    return subject, body


def do_send_message(*, actor: Actor, agency_id: int, subject: str, body: str,
                    now: dt.datetime, people_ids: Sequence[int] = (),
                    unit_ids: Sequence[int] = (), to_all: bool = False,
                    kind: str = MessageKind.MESSAGE, reply_to_id: int | None = None
                    ) -> Message:
    """Send a message to people, departments or the whole agency; a notice (``kind``
    notice) goes to the whole agency and only the office posts one."""
    powers = powers_for(actor, now)
    me = powers.account_id
    if me is None or not powers.matching(list(OfficeRole.values), agency_id=agency_id,
                                         own_only=True):
        raise Forbidden(_("Only people of the agency with an eOffice role send its "
                          "internal messages."), rule=RULE)
    if kind not in MessageKind.values:
        raise CongvuError(_("Unknown kind of message."))
    if kind == MessageKind.NOTICE:
        if office_seat(powers, agency_id) is None:
            raise Forbidden(_("Agency notices are posted by the leaders and the office "
                              "(clerks, the head of the Văn phòng)."), rule=RULE)
        to_all = True
    subject, body = _text(subject, body)
    members = _members(agency_id)
    people = set(people_ids)
    if people - members:
        raise CongvuError(_("Recipients: only people of the agency with an eOffice role."))
    units = set(unit_ids)
    if units - (set(agency_subtree_ids([agency_id])) - {agency_id}):
        raise CongvuError(_("Departments: only departments of the agency."))
    recipients = set(members) if to_all else people | _unit_members(agency_id, sorted(units))
    recipients.discard(me)
    if not recipients:
        raise CongvuError(_("Recipients: choose at least one person, department or the whole "
                            "agency (other than yourself)."))
    with transaction.atomic():
        message = Message.objects.create(
            agency_id=agency_id, kind=kind, sender_id=me, sender_label=actor.label[:200],
            subject=subject, body=body, sent_at=now, reply_to_id=reply_to_id, to_all=to_all)
        if not to_all:
            message.to_people.set(sorted(people))
            message.to_units.set(sorted(units))
        Delivery.objects.bulk_create([Delivery(message=message, recipient_id=r)
                                      for r in sorted(recipients)])
        record(actor=actor, action=f"messaging.{kind}.send", at=now,
               target=f"message:{message.pk}", rule=RULE,
               data={"agency": agency_id, "recipients": len(recipients), "subject": subject,
                     "reply_to": reply_to_id})
    return message


def _involved(message: Message, me: int | None) -> bool:
    return me is not None and (message.sender_id == me or Delivery.objects.filter(
        message=message, recipient_id=me).exists())


def do_reply(*, actor: Actor, message_id: int, body: str, now: dt.datetime,
             reply_all: bool = False) -> Message:
    """Answer a message one sent or received: to its sender (and, ``reply_all``, to
    everyone it reached). A reply to one's own message goes to its recipients."""
    original = Message.objects.filter(pk=message_id).first()
    me = actor.account_id
    if original is None or not _involved(original, me):
        raise NotFound(_("There is no such message among yours."))
    everyone = set(Delivery.objects.filter(message=original).values_list("recipient_id",
                                                                        flat=True))
    if original.sender_id == me:
        people = everyone
    else:
        people = {original.sender_id} | (everyone if reply_all else set())
    people.discard(me)  # type: ignore[arg-type]
    subject = original.subject if original.subject.lower().startswith("re:") \
        else f"Re: {original.subject}"
    return do_send_message(actor=actor, agency_id=original.agency_id, subject=subject[:255],
                           body=body, now=now, people_ids=sorted(people),
                           reply_to_id=original.pk)


def do_mark_read(*, actor: Actor, message_id: int, now: dt.datetime, read: bool = True) -> int:
    """Mark one's own copy read (or unread again)."""
    if actor.account_id is None:
        return 0
    copies = Delivery.objects.filter(message_id=message_id, recipient_id=actor.account_id)
    if read:
        return copies.filter(read_at__isnull=True).update(read_at=now)
    return copies.update(read_at=None)


def do_delete_message(*, actor: Actor, message_id: int, now: dt.datetime) -> None:
    """Remove a message from one's own boxes (GL-8.2); the others keep theirs."""
    me = actor.account_id
    with transaction.atomic():
        gone = Delivery.objects.filter(message_id=message_id, recipient_id=me,
                                       deleted_at__isnull=True).update(deleted_at=now)
        gone += Message.objects.filter(pk=message_id, sender_id=me,
                                       sender_deleted_at__isnull=True).update(
            sender_deleted_at=now)
    if me is None or not gone:
        raise NotFound(_("There is no such message among yours."))
