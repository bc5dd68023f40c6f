"""Reading internal messages (GL-8.2), the agency's notices, the eOffice's in-app
notices (``eoffice.Notice``, one's own only) and the agency's people and departments
for the address pickers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_subtree_ids
from congvu.eoffice.access import powers_for
from congvu.eoffice.models import Notice, OfficeRole, OfficeRoleGrant
from congvu.errors import Forbidden, NotFound
from congvu.messaging.models import Delivery, Message, MessageKind

#: How the inbox may be sorted (GL-8.2: each person sorts their own).
SORTS = {"new": ("-message__sent_at", "-id"), "old": ("message__sent_at", "id"),
         "sender": ("message__sender_label", "-message__sent_at"),
         "unread": ("-unread", "-message__sent_at")}


def inbox(actor: Actor, *, sort: str = "new", kind: str = "",
          unread_only: bool = False) -> QuerySet[Delivery]:
    """One's received messages not deleted, sorted as asked."""
    from django.db.models import BooleanField, Case, Value, When

    qs = Delivery.objects.filter(recipient_id=actor.account_id or 0, deleted_at__isnull=True)
    if kind in MessageKind.values:
        qs = qs.filter(message__kind=kind)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    qs = qs.annotate(unread=Case(When(read_at__isnull=True, then=Value(True)),
                                 default=Value(False), output_field=BooleanField()))
    return qs.select_related("message", "message__sender__person").order_by(
        *SORTS.get(sort, SORTS["new"]))


def sent(actor: Actor) -> QuerySet[Message]:
    from django.db.models import Count

    return (Message.objects.filter(sender_id=actor.account_id or 0,
                                   sender_deleted_at__isnull=True)
            .annotate(reached=Count("deliveries")).order_by("-sent_at", "-id"))


def agency_notices(actor: Actor, now: dt.datetime, agency_id: int) -> QuerySet[Message]:
    """The agency's notices (thông báo), for everyone with a seat there."""
    if agency_id not in powers_for(actor, now).agencies():
        raise Forbidden(_("You hold no eOffice role in this agency."), rule="GL-8.2")
    return Message.objects.filter(agency_id=agency_id, kind=MessageKind.NOTICE).order_by(
        "-sent_at", "-id")


@dataclass(frozen=True)
class Opened:
    message: Message
    delivery: Delivery | None
    recipients: list[str]


def message_detail(actor: Actor, now: dt.datetime, message_id: int) -> Opened:
    """A message one sent or received (not deleted), or a notice of one's agency."""
    me = actor.account_id
    message = (Message.objects.select_related("sender__person", "reply_to")
               .filter(pk=message_id).first())
    if message is None:
        raise NotFound(_("There is no message #%(id)s.") % {"id": message_id})
    delivery = Delivery.objects.filter(message=message, recipient_id=me or 0,
                                       deleted_at__isnull=True).first()
    mine = message.sender_id == me and message.sender_deleted_at is None
    notice = message.kind == MessageKind.NOTICE and message.agency_id in powers_for(
        actor, now).agencies()
    if delivery is None and not mine and not notice:
        raise Forbidden(_("This message was not sent to you."), rule="GL-8.2")
    if message.to_all:
        recipients = [_("Everyone in the agency")]
    else:
        recipients = [u.name for u in message.to_units.all()]
        recipients += [_display(a) for a in message.to_people.select_related("person")]
    return Opened(message, delivery, recipients)


def _display(account: object) -> str:
    person = getattr(account, "person", None)
    address = getattr(account, "address", "")
    return f"{person.full_name} <{address}>" if person is not None else str(address)


def unread_counts(actor: Actor) -> dict[str, int]:
    """Unread messages and unread eOffice notices (for the pages' badges)."""
    me = actor.account_id or 0
    return {"messages": Delivery.objects.filter(recipient_id=me, deleted_at__isnull=True,
                                                read_at__isnull=True).count(),
            "notices": Notice.objects.filter(recipient_id=me, read_at__isnull=True).count()}


def office_notices(actor: Actor, *, unread_only: bool = False) -> QuerySet[Notice]:
    """The person's own eOffice notices, newest first (paged by the page)."""
    qs = Notice.objects.filter(recipient_id=actor.account_id or 0)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-id")


@dataclass(frozen=True)
class PersonOption:
    account_id: int
    name: str
    address: str
    unit: str


def agency_people(actor: Actor, now: dt.datetime, agency_id: int) -> list[PersonOption]:
    """The agency's eOffice people (address pickers), for someone with a seat there."""
    if agency_id not in powers_for(actor, now).agencies():
        raise Forbidden(_("You hold no eOffice role in this agency."))
    return people_of(agency_id)


def people_of(agency_id: int) -> list[PersonOption]:
    rows = (OfficeRoleGrant.objects.filter(agency_id=agency_id)
            .values_list("account_id", "account__person__full_name", "account__address",
                         "department__name"))
    seen: dict[int, PersonOption] = {}
    for account_id, name, address, unit in rows:
        if account_id not in seen or (unit and not seen[account_id].unit):
            seen[account_id] = PersonOption(account_id, name or address, address, unit or "")
    return sorted(seen.values(), key=lambda p: (p.unit, p.name))


def agency_units(agency_id: int) -> list[Agency]:
    """The agency's departments and units (below it in the directory)."""
    ids = set(agency_subtree_ids([agency_id])) - {agency_id}
    return list(Agency.objects.filter(pk__in=ids).order_by("name"))


def roles_in(actor: Actor, now: dt.datetime, agency_id: int) -> list[str]:
    """The roles the person holds in the agency by their own grant."""
    return sorted({s.role for s in powers_for(actor, now).seats
                   if s.agency_id == agency_id and not s.delegated},
                  key=list(OfficeRole.values).index)
