"""Reading the eOffice, with authorisation (README "Authorisation"): every list, search,
register and single document goes through :func:`congvu.eoffice.access.incoming_q` /
:func:`~congvu.eoffice.access.outgoing_q`, so a person never reads a document they are
not assigned, filed on, or entitled to by role, and never another agency's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.eoffice import files, rules
from congvu.eoffice.access import Powers, incoming_q, outgoing_q, powers_for
from congvu.eoffice.models import (
    LEADERS,
    Assignment,
    AssignmentStatus,
    Delegation,
    DelegationStatus,
    Distribution,
    DocumentVersion,
    IncomingDocument,
    IncomingStatus,
    Notice,
    OfficeRole,
    OfficeRoleGrant,
    OutgoingDocument,
    OutgoingStatus,
    Register,
    ReviewRound,
    ReviewStage,
    WorkFile,
)
from congvu.eoffice.rules import CONFIDENTIALITY_WORDS, is_classified
from congvu.errors import Forbidden, NotFound

R = OfficeRole

__all__ = ["powers_for"]


# --- documents ----------------------------------------------------------------------------


def incoming_for(actor: Actor, now: dt.datetime, *, agency_id: int | None = None,
                 status: str | None = None, text: str = "") -> QuerySet[IncomingDocument]:
    """Incoming documents the actor may read, newest first; ``text`` searches the
    summary, issuer, number and signer without tone marks."""
    found = IncomingDocument.objects.filter(incoming_q(powers_for(actor, now)))
    if agency_id is not None:
        found = found.filter(agency_id=agency_id)
    if status:
        found = found.filter(status=status)
    needle = rules.search_text(text)
    if needle:
        found = found.filter(search_text__contains=needle)
    return found.order_by("-received_at", "-id")


def outgoing_for(actor: Actor, now: dt.datetime, *, agency_id: int | None = None,
                 status: str | None = None, text: str = "") -> QuerySet[OutgoingDocument]:
    found = OutgoingDocument.objects.filter(outgoing_q(powers_for(actor, now)))
    if agency_id is not None:
        found = found.filter(agency_id=agency_id)
    if status:
        found = found.filter(status=status)
    needle = rules.search_text(text)
    if needle:
        found = found.filter(search_text__contains=needle)
    return found.order_by("-created_at", "-id")


D = TypeVar("D", bound=Model)


def _readable(model: type[D], visible: Q, document_id: int, missing: str,
              refused: str) -> D:
    """One document: :class:`NotFound` if it does not exist, :class:`Forbidden` if
    ``visible`` (the actor's reader filter) does not let them read it."""
    if not model._default_manager.filter(pk=document_id).exists():
        raise NotFound(missing)
    doc = model._default_manager.filter(visible, pk=document_id).first()
    if doc is None:
        raise Forbidden(refused)
    return doc


def incoming_detail(actor: Actor, now: dt.datetime, document_id: int) -> IncomingDocument:
    """One incoming document, or :class:`NotFound` / :class:`Forbidden`."""
    return _readable(
        IncomingDocument, incoming_q(powers_for(actor, now)), document_id,
        _("There is no incoming document #%(id)s.") % {"id": document_id},
        _("You may not read this document: it is not assigned to you or your department, "
          "you did not file it, and your role does not entitle you to it."))


def outgoing_detail(actor: Actor, now: dt.datetime, document_id: int) -> OutgoingDocument:
    """One outgoing document, or :class:`NotFound` / :class:`Forbidden`."""
    return _readable(
        OutgoingDocument, outgoing_q(powers_for(actor, now)), document_id,
        _("There is no outgoing document #%(id)s.") % {"id": document_id},
        _("You may not read this document: you did not draft or review it, it was not sent "
          "to you, and your role does not entitle you to it."))


def versions(actor: Actor, now: dt.datetime, *, incoming_id: int | None = None,
             outgoing_id: int | None = None) -> list[DocumentVersion]:
    """A readable document's versions, oldest first (every round's file, GL-10.8)."""
    if incoming_id is not None:
        return list(incoming_detail(actor, now, incoming_id).versions.order_by("number"))
    if outgoing_id is not None:
        return list(outgoing_detail(actor, now, outgoing_id).versions.order_by("number"))
    return []


def version_content(actor: Actor, now: dt.datetime, version_id: int) -> tuple[
        DocumentVersion, bytes]:
    """A version's bytes (checked against its SHA-256), if its document is readable."""
    version = DocumentVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(_("There is no such file."))
    if version.incoming_id is not None:
        incoming_detail(actor, now, version.incoming_id)
    else:
        outgoing_detail(actor, now, version.outgoing_id or 0)
    return version, files.read(version.path, version.sha256)


def rounds(actor: Actor, now: dt.datetime, outgoing_id: int) -> list[ReviewRound]:
    """A readable draft's review rounds with their comments (GL-10.8)."""
    doc = outgoing_detail(actor, now, outgoing_id)
    return list(doc.rounds.prefetch_related("comments").select_related("version")
                .order_by("number"))


def duplicates(agency_id: int, number_symbol: str, issuer: str,
               document_date: dt.date | None, *, exclude: int | None = None
               ) -> list[IncomingDocument]:
    """Documents of the agency with the same number and symbol from the same issuer (the
    same year of the document's date when known: numbers restart every year)."""
    key = rules.number_symbol_key(number_symbol)
    if not key:
        return []
    found = IncomingDocument.objects.filter(agency_id=agency_id, number_symbol_key=key,
                                            issuer_key=rules.issuer_key(issuer))
    if document_date is not None:
        found = found.filter(document_date__year=document_date.year)
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return list(found.order_by("id")[:10])


def find_duplicates(actor: Actor, now: dt.datetime, *, agency_id: int, number_symbol: str,
                    issuer: str, document_date: dt.date | None = None
                    ) -> list[IncomingDocument]:
    """What the registration form asks before saving (GL-9): documents of the agency with
    the same number and symbol from the same issuer (same year). Clerks only."""
    powers = powers_for(actor, now)
    if powers.seat([R.CLERK], agency_id=agency_id) is None:
        raise Forbidden(_("Only the agency's clerk registers documents."))
    return duplicates(agency_id, number_symbol, issuer, document_date)


# --- work queues ------------------------------------------------------------------------------


def assignments_for(actor: Actor, now: dt.datetime, *, open_only: bool = True
                    ) -> QuerySet[Assignment]:
    """The actor's work: assignments to them (or to a delegator whose seat they hold,
    unclassified), and to departments they head; earliest deadline first."""
    powers = powers_for(actor, now)
    if powers.account_id is None:
        return Assignment.objects.none()
    q = Q(to_account_id=powers.account_id)
    own_heads = powers.departments(R.DEPARTMENT_HEAD, own=True)
    q |= Q(to_department_id__in=own_heads)
    open_doc = Q(document__confidentiality=rules.Confidentiality.NONE)
    q |= Q(to_account_id__in=powers.delegated_holders()) & open_doc
    q |= Q(to_department_id__in=powers.departments(R.DEPARTMENT_HEAD, own=False)) & open_doc
    found = Assignment.objects.filter(q, document__agency_id__in=powers.agencies())
    if open_only:
        found = found.exclude(status=AssignmentStatus.DONE)
    return found.select_related("document").order_by("deadline", "id")


@dataclass(frozen=True)
class ReviewItem:
    review_round: ReviewRound
    outgoing: OutgoingDocument
    overdue: bool


def reviews_for(actor: Actor, now: dt.datetime) -> list[ReviewItem]:
    """Open review rounds the actor may decide, the overdue ones first (GL-10.7)."""
    powers = powers_for(actor, now)
    if powers.account_id is None:
        return []
    open_doc = Q(outgoing__confidentiality=rules.Confidentiality.NONE)
    q = Q(stage=ReviewStage.DEPARTMENT,
          department_id__in=powers.departments(R.DEPARTMENT_HEAD, own=True))
    q |= Q(stage=ReviewStage.DEPARTMENT,
           department_id__in=powers.departments(R.DEPARTMENT_HEAD, own=False)) & open_doc
    q |= Q(stage=ReviewStage.DIRECTOR, outgoing__agency_id__in=powers.agencies(
        R.DIRECTOR, own=True))
    q |= Q(stage=ReviewStage.DIRECTOR, outgoing__agency_id__in=powers.agencies(
        R.DEPUTY_DIRECTOR, own=True) | powers.agencies(*LEADERS, own=False)) & open_doc
    found = (ReviewRound.objects.filter(q, decided_at__isnull=True,
                                        outgoing__status=OutgoingStatus.UNDER_REVIEW)
             .select_related("outgoing").order_by("due_at", "id"))
    return [ReviewItem(r, r.outgoing, now > r.due_at) for r in found]


def notices_for(actor: Actor, *, unread_only: bool = False, limit: int = 50) -> list[Notice]:
    if actor.account_id is None:
        return []
    found = Notice.objects.filter(recipient_id=actor.account_id)
    if unread_only:
        found = found.filter(read_at__isnull=True)
    return list(found.order_by("-id")[:limit])


def delegations_for(actor: Actor, now: dt.datetime) -> dict[str, list[Delegation]]:
    """The actor's delegations: given, received, and awaiting their approval."""
    powers = powers_for(actor, now)
    me = powers.account_id
    if me is None:
        return {"given": [], "received": [], "to_approve": []}
    leads = powers.agencies(*LEADERS, own=True)
    return {
        "given": list(Delegation.objects.filter(delegator_id=me).order_by("-id")),
        "received": list(Delegation.objects.filter(delegate_id=me).order_by("-id")),
        "to_approve": list(Delegation.objects.filter(
            agency_id__in=leads, status=DelegationStatus.REQUESTED).exclude(
            delegate_id=me).order_by("id")),
    }


def work_files_for(actor: Actor) -> list[WorkFile]:
    if actor.account_id is None:
        return []
    return list(WorkFile.objects.filter(owner_id=actor.account_id).order_by("-year", "title"))


# --- registers (Decree 30 Phụ lục IV) ---------------------------------------------------------

#: The columns of the sổ đăng ký văn bản đến, as printed.
INCOMING_COLUMNS = ("Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng",
                    "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ký nhận",
                    "Ghi chú")
#: The columns of the sổ đăng ký văn bản đi, as printed.
OUTGOING_COLUMNS = ("Số, ký hiệu văn bản", "Ngày tháng văn bản",
                    "Tên loại và trích yếu nội dung văn bản", "Người ký", "Nơi nhận văn bản",
                    "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận",
                    "Ghi chú")


@dataclass(frozen=True)
class RegisterFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    doc_type: str = ""
    urgency: str = ""
    confidentiality: str = ""
    text: str = ""
    series: str = ""
    #: Keyset paging: rows after this number, ``limit`` of them.
    after: int = 0
    limit: int = 100


@dataclass(frozen=True)
class IncomingRow:
    id: int
    arrival: dt.date
    number: int
    issuer: str
    number_symbol: str
    document_date: dt.date | None
    type_and_summary: str
    recipients: str
    received_by: str
    notes: str
    urgency: str
    confidentiality: str
    late: bool

    def columns(self) -> tuple[str, ...]:
        """The row as the printed register's columns (:data:`INCOMING_COLUMNS`)."""
        return (self.arrival.strftime("%d/%m/%Y"), rules.number_digits(self.number),
                self.issuer, self.number_symbol,
                self.document_date.strftime("%d/%m/%Y") if self.document_date else "",
                self.type_and_summary, self.recipients, self.received_by, self.notes)


@dataclass(frozen=True)
class OutgoingRow:
    id: int
    number_text: str
    document_date: dt.date | None
    type_and_summary: str
    signer: str
    recipients: str
    kept_by: str
    copies: int
    sent_on: dt.date | None
    received_by: str
    notes: str

    def columns(self) -> tuple[str, ...]:
        return (self.number_text.removeprefix("Số: "),
                self.document_date.strftime("%d/%m/%Y") if self.document_date else "",
                self.type_and_summary, self.signer, self.recipients, self.kept_by,
                str(self.copies), self.sent_on.strftime("%d/%m/%Y") if self.sent_on else "",
                self.received_by, self.notes)


def _register_seat(powers: Powers, agency_id: int) -> bool:
    """Who keeps and reads the registers (GL-14.1, GL-14.2, GL-15.1): the agency's clerks
    and leaders. Returns whether classified rows are shown in full (own director or
    clerk seat) or masked."""
    if powers.seat([R.CLERK, *LEADERS], agency_id=agency_id) is None:
        raise Forbidden(_("Only the agency's clerks and leaders read its registers."))
    return bool(powers.seat([R.CLERK, R.DIRECTOR], agency_id=agency_id, own_only=True))


def _day_range(day_from: dt.date | None, day_to: dt.date | None, tz: str
               ) -> tuple[dt.datetime | None, dt.datetime | None]:
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(day_from, dt.time(), tzinfo=zone) if day_from else None
    end = (dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), tzinfo=zone)
           if day_to else None)
    return start, end


def _type_and_summary(type_key: str, type_name: str, summary: str, confidentiality: str,
                      full: bool) -> str:
    name = type_name or dict(rules.INCOMING_TYPE_CHOICES).get(type_key, "")
    if is_classified(confidentiality) and not full:
        return f"{name} ({CONFIDENTIALITY_WORDS[confidentiality]})"
    return f"{name}: {summary}" if name else summary


#: What a register row reads of a document (not its texts).
_INCOMING_REGISTER_FIELDS = (
    "id", "received_at", "number", "issuer", "number_symbol", "document_date", "doc_type",
    "type_name", "summary", "registered_by_label", "registered_late", "duplicate_of_id",
    "urgency", "confidentiality")
_OUTGOING_REGISTER_FIELDS = (
    "id", "number_text", "document_date", "doc_type", "summary", "confidentiality", "signer",
    "recipients_text", "department__name", "copies", "issued_at", "urgency")


def office_role_grants(actor: Actor, agency: Agency) -> QuerySet[OfficeRoleGrant]:
    """Who holds which eOffice role in ``agency`` (GL-12..15), for the operator and the
    agency's IT contact (the people who grant them), by role then address."""
    actor.require_agency(agency.pk, [a.pk for a in agency.ancestors()])
    return (OfficeRoleGrant.objects.filter(agency=agency)
            .select_related("account__person", "department")
            .order_by("role", "account__address"))


def register_size(agency_id: int, year: int, kind: str, series: str) -> int:
    """How many numbers a register has given (its counter): the row count of its year
    before any filter, for a progress bar. No rights needed: only a count."""
    key = rules.Series.INCOMING if kind == "incoming" else series
    found = Register.objects.filter(agency_id=agency_id, year=year, series=key).values_list(
        "last_number", flat=True).first()
    return int(found or 0)


def incoming_register(actor: Actor, now: dt.datetime, *, agency_id: int, year: int,
                      tz: str = "Asia/Ho_Chi_Minh",
                      filters: RegisterFilters | None = None) -> list[IncomingRow]:
    """The sổ đăng ký văn bản đến of an agency for a year, by incoming number (Decree 30
    Phụ lục IV columns), one page at a time (``filters.after``, ``filters.limit``)."""
    powers = powers_for(actor, now)
    full = _register_seat(powers, agency_id)
    f = filters or RegisterFilters()
    found = IncomingDocument.objects.filter(agency_id=agency_id, year=year,
                                            number__gt=f.after)
    start, end = _day_range(f.date_from, f.date_to, tz)
    if start:
        found = found.filter(received_at__gte=start)
    if end:
        found = found.filter(received_at__lt=end)
    if f.doc_type:
        found = found.filter(doc_type=rules.doc_type(f.doc_type, incoming=True).key)
    if f.urgency:
        found = found.filter(urgency=rules.parse_urgency(f.urgency))
    if f.confidentiality:
        found = found.filter(confidentiality=rules.parse_confidentiality(f.confidentiality))
    needle = rules.search_text(f.text)
    if needle:
        found = found.filter(search_text__contains=needle)
        if not full:
            found = found.filter(confidentiality=rules.Confidentiality.NONE)
    page = list(found.only(*_INCOMING_REGISTER_FIELDS).order_by("number")
                [:max(1, min(f.limit, 500))])
    recipients: dict[int, list[str]] = {}
    kinds = {k: str(label) for k, label in rules.AssignmentKind.choices}
    for doc_id, kind, department, address in (
            Assignment.objects.filter(document_id__in=[d.pk for d in page], parent__isnull=True)
            .order_by("id").values_list("document_id", "kind", "to_department__name",
                                        "to_account__address")):
        recipients.setdefault(doc_id, []).append(f"{department or address or ''} ({kinds[kind]})")
    rows = []
    for d in page:
        notes = []
        if d.registered_late:
            notes.append(_("registered late"))
        if d.duplicate_of_id:
            notes.append(_("possible duplicate of #%(id)s") % {"id": d.duplicate_of_id})
        if rules.is_urgent(d.urgency):
            notes.append(rules.URGENCY_WORDS[d.urgency])
        if is_classified(d.confidentiality):
            notes.append(CONFIDENTIALITY_WORDS[d.confidentiality])
        rows.append(IncomingRow(
            id=d.pk, arrival=d.received_at.astimezone(ZoneInfo(tz)).date(),
            number=d.number or 0, issuer=d.issuer, number_symbol=d.number_symbol,
            document_date=d.document_date,
            type_and_summary=_type_and_summary(d.doc_type, d.type_name, d.summary,
                                               d.confidentiality, full),
            recipients="; ".join(recipients.get(d.pk, [])), received_by=d.registered_by_label,
            notes="; ".join(notes), urgency=d.urgency, confidentiality=d.confidentiality,
            late=d.registered_late))
    return rows


def outgoing_register(actor: Actor, now: dt.datetime, *, agency_id: int, year: int,
                      series: str = rules.Series.GENERAL, tz: str = "Asia/Ho_Chi_Minh",
                      filters: RegisterFilters | None = None) -> list[OutgoingRow]:
    """The sổ đăng ký văn bản đi of an agency, year and series, by number (Decree 30 Phụ
    lục IV columns)."""
    powers = powers_for(actor, now)
    full = _register_seat(powers, agency_id)
    f = filters or RegisterFilters()
    found = (OutgoingDocument.objects.filter(agency_id=agency_id, year=year, series=series,
                                             number__gt=f.after)
             .select_related("department"))
    if f.date_from:
        found = found.filter(document_date__gte=f.date_from)
    if f.date_to:
        found = found.filter(document_date__lte=f.date_to)
    if f.doc_type:
        found = found.filter(doc_type=rules.doc_type(f.doc_type).key)
    if f.urgency:
        found = found.filter(urgency=rules.parse_urgency(f.urgency))
    needle = rules.search_text(f.text)
    if needle:
        found = found.filter(search_text__contains=needle)
        if not full:
            found = found.filter(confidentiality=rules.Confidentiality.NONE)
    page = list(found.only(*_OUTGOING_REGISTER_FIELDS).order_by("number")
                [:max(1, min(f.limit, 500))])
    sent: dict[int, list[str]] = {}
    for doc_id, agency_name, account_address, address in (
            Distribution.objects.filter(outgoing_id__in=[d.pk for d in page]).order_by("id")
            .values_list("outgoing_id", "to_agency__name", "to_account__address", "address")):
        sent.setdefault(doc_id, []).append(agency_name or account_address or address)
    rows = []
    for d in page:
        names = sent.get(d.pk) or ([d.recipients_text] if d.recipients_text else [])
        notes = [rules.URGENCY_WORDS[d.urgency]] if rules.is_urgent(d.urgency) else []
        if is_classified(d.confidentiality):
            notes.append(CONFIDENTIALITY_WORDS[d.confidentiality])
        rows.append(OutgoingRow(
            id=d.pk, number_text=d.number_text, document_date=d.document_date,
            type_and_summary=_type_and_summary(d.doc_type, "", d.summary, d.confidentiality,
                                               full),
            signer=d.signer, recipients="; ".join(names),
            kept_by=d.department.name if isinstance(d.department, Agency) else "",
            copies=d.copies,
            sent_on=d.issued_at.astimezone(ZoneInfo(tz)).date() if d.issued_at else None,
            received_by="", notes="; ".join(notes)))
    return rows


# --- what is late ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LateRegistration:
    document: IncomingDocument
    #: Still waiting in the intake (not yet registered) or registered after its due time.
    waiting: bool


def intake_for(actor: Actor, now: dt.datetime, *, agency_id: int
               ) -> list[LateRegistration]:
    """The clerks' intake: electronic documents received and not yet registered, oldest
    first (registering in this order keeps incoming numbers in the order of receipt);
    ``waiting`` is true for those already past their due time (``ND30-23``)."""
    powers = powers_for(actor, now)
    if powers.seat([R.CLERK], agency_id=agency_id) is None:
        raise Forbidden(_("Only the agency's clerk registers documents."))
    found = IncomingDocument.objects.filter(incoming_q(powers), agency_id=agency_id,
                                            status=IncomingStatus.RECEIVED)
    return [LateRegistration(d, d.registration_due_at < now)
            for d in found.order_by("received_at", "id")]


def late_registrations(actor: Actor, now: dt.datetime, *, agency_id: int,
                       year: int | None = None) -> list[LateRegistration]:
    """Decree 30 Art. 23: documents still unregistered past their due time, and those
    registered late (this year, or ``year``). Clerks and leaders of the agency."""
    powers = powers_for(actor, now)
    full = _register_seat(powers, agency_id)
    waiting = IncomingDocument.objects.filter(agency_id=agency_id,
                                              status=IncomingStatus.RECEIVED,
                                              registration_due_at__lt=now)
    late = IncomingDocument.objects.filter(agency_id=agency_id, registered_late=True,
                                           year=year or timezone.localtime(now).year)
    if not full:
        waiting = waiting.filter(confidentiality=rules.Confidentiality.NONE)
        late = late.filter(confidentiality=rules.Confidentiality.NONE)
    return ([LateRegistration(d, True) for d in waiting.order_by("registration_due_at")]
            + [LateRegistration(d, False) for d in late.order_by("number")])


def overdue_reviews(actor: Actor, now: dt.datetime, *, agency_id: int) -> list[ReviewItem]:
    """GL-10.7: open review rounds of the agency past the reviewer's deadline (leaders
    and clerks watch them)."""
    powers = powers_for(actor, now)
    full = _register_seat(powers, agency_id)
    found = ReviewRound.objects.filter(outgoing__agency_id=agency_id,
                                       decided_at__isnull=True, due_at__lt=now)
    if not full:
        found = found.filter(outgoing__confidentiality=rules.Confidentiality.NONE)
    return [ReviewItem(r, r.outgoing, True)
            for r in found.select_related("outgoing").order_by("due_at")]
