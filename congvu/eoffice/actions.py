"""Writing the eOffice (issue 7): every ``do_*`` takes an explicit actor, checks its
eOffice seat (role and agency, or a delegation in force) here, runs in one transaction
and records its audit event in that transaction. A delegate's action is recorded as
"X on behalf of Y" (GL-11).

Incoming (GL-9): receive (electronic intake) → register (number) → assign (director) →
pass on (department head) → progress/result → file; a reply starts an outgoing draft.
Outgoing (GL-10): draft → submit → review rounds (comment, return, forward, approve),
each round on a new version (GL-10.8) within the reviewer's deadline (GL-10.7) →
number (gapless register) → issue (eOffice, other agencies' intake, official e-mail
unless classified: KH-8.3, subject = summary: KH-7).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountKind
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.clock import iso
from congvu.directory.models import Agency, AgencyKind
from congvu.directory.selectors import agency_subtree_ids
from congvu.eoffice import files, fulltext, notify, rules
from congvu.eoffice.access import Powers, Seat, incoming_q, outgoing_q, powers_for, require
from congvu.eoffice.models import (
    LEADERS,
    AgencySymbol,
    Assignment,
    AssignmentStatus,
    Channel,
    Decision,
    Delegation,
    DelegationStatus,
    Distribution,
    DistributionChannel,
    DocumentLink,
    DocumentVersion,
    IncomingDocument,
    IncomingStatus,
    LinkKind,
    MailOutbox,
    Mark,
    Notice,
    OfficeRole,
    OfficeRoleGrant,
    OutgoingDocument,
    OutgoingStatus,
    ProgressNote,
    ReviewComment,
    ReviewRound,
    ReviewStage,
    WorkFile,
    WorkFileItem,
)
from congvu.eoffice.numbering import take_number
from congvu.eoffice.params import EofficeParams, deployment_params
from congvu.eoffice.rules import AssignmentKind, Series, is_classified, is_urgent
from congvu.eoffice.selectors import duplicates
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.profiles import Profile
from congvu.workdays import WorkCalendar, calendar_for

R = OfficeRole
S = OutgoingStatus
_EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class DuplicateDocument(CongvuError):
    """The document seems registered already (same number and symbol, issuer, year):
    the clerk confirms to register it again (GL-9)."""

    def __init__(self, message: str, duplicates: list[IncomingDocument]) -> None:
        super().__init__(message, rule=rules.RULE_INCOMING)
        self.duplicates = duplicates


# --- helpers -------------------------------------------------------------------------------


def _params(profile: Profile, params: EofficeParams | None) -> EofficeParams:
    return params if params is not None else deployment_params(profile)


def _calendar(profile: Profile) -> WorkCalendar:
    return calendar_for(profile)


def _agency(agency_id: int) -> Agency:
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise NotFound(_("There is no agency #%(id)s.") % {"id": agency_id})
    return agency


def _account(account_id: int) -> Account:
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("There is no account #%(id)s.") % {"id": account_id})
    return account


def _department(agency: Agency, department_id: int) -> Agency:
    """A department (unit) of ``agency``: below it in the directory, not the agency."""
    department = _agency(department_id)
    if department.pk == agency.pk or department.pk not in agency_subtree_ids([agency.pk]):
        raise CongvuError(_("%(unit)s is not a department or unit of %(agency)s.") % {
            "unit": department.name, "agency": agency.name})
    return department


def _symbol(agency: Agency) -> str:
    own = AgencySymbol.objects.filter(agency=agency).values_list("symbol", flat=True).first()
    return own or rules.check_symbol(agency.abbr.replace("_", "").replace("-", ""))


def _clean(text: str, limit: int = 0) -> str:
    value = " ".join((text or "").split())
    return value[:limit] if limit else value


def _required(text: str, field: str) -> str:
    value = _clean(text)
    if not value:
        raise CongvuError(_("%(field)s: required.") % {"field": field})
    return value


def _local_date(calendar: WorkCalendar, now: dt.datetime) -> dt.date:
    return rules.local_date(calendar, now)


def _locked_incoming(document_id: int) -> IncomingDocument:
    doc = IncomingDocument.objects.select_for_update().filter(pk=document_id).first()
    if doc is None:
        raise NotFound(_("There is no incoming document #%(id)s.") % {"id": document_id})
    return doc


def _locked_outgoing(document_id: int) -> OutgoingDocument:
    doc = OutgoingDocument.objects.select_for_update().filter(pk=document_id).first()
    if doc is None:
        raise NotFound(_("There is no outgoing document #%(id)s.") % {"id": document_id})
    return doc


def _locked_assignment(assignment_id: int) -> Assignment:
    assignment = Assignment.objects.select_for_update().filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound(_("There is no assignment #%(id)s.") % {"id": assignment_id})
    return assignment


def _no_delegates_for_classified(seat: Seat, confidentiality: str) -> None:
    """README "Authorisation": a delegated seat never opens a classified document."""
    if seat.delegated and is_classified(confidentiality):
        raise Forbidden(_("A classified document is handled by the role holder in person, "
                          "not through a delegation."), rule=rules.RULE_DELEGATION)


def _leader_seat(powers: Powers, agency_id: int, confidentiality: str, message: str) -> Seat:
    """A leader's seat for a document: a classified one needs the director in person
    (deputy directors and delegates see unclassified documents only)."""
    if is_classified(confidentiality):
        seat = powers.seat([R.DIRECTOR], agency_id=agency_id, own_only=True)
        if seat is None:
            raise Forbidden(message)
        return seat
    return require(powers, LEADERS, message, agency_id=agency_id)


def _version(*, incoming: IncomingDocument | None = None,
             outgoing: OutgoingDocument | None = None, stored: files.StoredFile,
             account_id: int | None, label: str, now: dt.datetime, note: str = "",
             mark: str = "", review_round: ReviewRound | None = None) -> DocumentVersion:
    versions = (DocumentVersion.objects.filter(incoming=incoming) if incoming is not None
                else DocumentVersion.objects.filter(outgoing=outgoing))
    number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = DocumentVersion.objects.create(
        incoming=incoming, outgoing=outgoing, number=number, path=stored.path,
        sha256=stored.sha256, size=stored.size, mime=stored.mime,
        original_name=stored.name, note=_clean(note), mark=mark, review_round=review_round,
        created_at=now, created_by_id=account_id, created_by_label=label)
    fulltext.index_version(version)  # a PDF's text becomes searchable with the version
    return version


def _latest_version(doc: OutgoingDocument) -> DocumentVersion:
    version = doc.versions.order_by("-number").first()
    if version is None:
        raise CongvuError(_("The draft has no file yet; upload it first."))
    return version


# --- roles and symbols ---------------------------------------------------------------------


def _require_admin(actor: Actor, agency: Agency) -> None:
    """eOffice roles and symbols are set by the operator or the agency's IT contact."""
    actor.require_agency(agency.pk, [a.pk for a in agency.ancestors()])


def do_grant_office_role(*, actor: Actor, account_id: int, agency_id: int, role: str,
                         now: dt.datetime, department_id: int | None = None) -> OfficeRoleGrant:
    """Give a person an eOffice role in an agency (GL-12..15); heads of department and
    specialists name their department. Granting a role already held changes nothing."""
    if role not in R.values:
        raise CongvuError(_("Unknown eOffice role %(role)r. Roles: %(valid)s.") % {
            "role": role, "valid": ", ".join(R.values)})
    with transaction.atomic():
        agency = _agency(agency_id)
        _require_admin(actor, agency)
        if agency.kind == AgencyKind.DEPARTMENT:
            raise CongvuError(_("%(name)s is a department; eOffice roles belong to an agency "
                                "(with the department named).") % {"name": agency.name})
        account = _account(account_id)
        if account.kind != AccountKind.PERSON:
            raise CongvuError(_("%(address)s is not a person's account; eOffice roles go to "
                                "people.") % {"address": account.address})
        department = _department(agency, department_id) if department_id else None
        if role == R.DEPARTMENT_HEAD and department is None:
            raise CongvuError(_("A head of department needs the department."),
                              rule=rules.RULE_ROLES)
        grant, created = OfficeRoleGrant.objects.get_or_create(
            account=account, agency=agency, role=role, department=department,
            defaults={"granted_at": now, "granted_by": actor.label})
        if created:
            record(actor=actor, action="eoffice.role_grant", at=now, target=account.address,
                   rule=rules.RULE_ROLES,
                   data={"role": role, "agency": agency.account_name,
                         "department": department.account_name if department else None})
    return grant


def do_revoke_office_role(*, actor: Actor, grant_id: int, now: dt.datetime) -> None:
    with transaction.atomic():
        grant = OfficeRoleGrant.objects.select_related("account", "agency").filter(
            pk=grant_id).first()
        if grant is None:
            raise NotFound(_("There is no such eOffice role."))
        _require_admin(actor, grant.agency)
        record(actor=actor, action="eoffice.role_revoke", at=now,
               target=grant.account.address, rule=rules.RULE_ROLES,
               data={"role": grant.role, "agency": grant.agency.account_name,
                     "department": grant.department_id})
        grant.delete()


def do_set_agency_symbol(*, actor: Actor, agency_id: int, symbol: str,
                         now: dt.datetime) -> AgencySymbol:
    """The abbreviation an agency or unit uses in document symbols (Decree 30)."""
    value = rules.check_symbol(symbol)
    with transaction.atomic():
        agency = _agency(agency_id)
        _require_admin(actor, agency)
        row, _created = AgencySymbol.objects.update_or_create(
            agency=agency, defaults={"symbol": value, "updated_at": now,
                                     "updated_by": actor.label})
        record(actor=actor, action="eoffice.symbol", at=now, target=agency.account_name,
               data={"symbol": value})
    return row


# --- incoming documents (GL-9) ----------------------------------------------------------------


@dataclass(frozen=True)
class IncomingForm:
    """The Decree 30 registration fields of an incoming document."""

    issuer: str
    summary: str
    doc_type: str
    number_symbol: str = ""
    document_date: dt.date | None = None
    signer: str = ""
    urgency: str = rules.Urgency.NORMAL
    confidentiality: str = rules.Confidentiality.NONE
    page_count: int | None = None
    deadline: dt.date | None = None
    field: str = ""
    type_name: str = ""
    channel: str = Channel.PAPER
    #: When it arrived (ngày đến); the registration moment when not given.
    received_at: dt.datetime | None = None


@dataclass(frozen=True)
class CleanIncoming:
    issuer: str
    summary: str
    doc_type: str
    number_symbol: str
    document_date: dt.date | None
    signer: str
    urgency: str
    confidentiality: str
    page_count: int | None
    deadline: dt.date | None
    field: str
    type_name: str
    channel: str


def clean_incoming(form: IncomingForm) -> CleanIncoming:
    """Check the fields (each problem names its field) and normalise them."""
    issuer = _required(form.issuer, _("Issuing agency"))
    summary = rules.clean_summary(form.summary)
    kind = rules.doc_type(form.doc_type, incoming=True)
    if form.page_count is not None and form.page_count < 1:
        raise CongvuError(_("Pages: at least 1."))
    if form.channel not in Channel.values:
        raise CongvuError(_("Unknown channel %(value)r.") % {"value": form.channel})
    if form.document_date and form.received_at and \
            form.document_date > form.received_at.date() + dt.timedelta(days=1):
        raise CongvuError(_("The document's date is after its arrival."))
    return CleanIncoming(
        issuer=issuer[:255], summary=summary, doc_type=kind.key,
        number_symbol=_clean(form.number_symbol, 64), document_date=form.document_date,
        signer=_clean(form.signer, 255), urgency=rules.parse_urgency(form.urgency),
        confidentiality=rules.parse_confidentiality(form.confidentiality),
        page_count=form.page_count, deadline=form.deadline, field=_clean(form.field, 120),
        type_name=_clean(form.type_name, 100), channel=form.channel)


def _registration_notices(doc: IncomingDocument, params: EofficeParams,
                          now: dt.datetime) -> None:
    """GL-9.1: the registered document goes to the director; urgent ones at once by mail
    too (Decree 30 Art. 23)."""
    roles = [R.DIRECTOR] if is_classified(doc.confidentiality) else list(LEADERS)
    urgent = is_urgent(doc.urgency)
    text = _("To distribute: %(title)s") % {"title": notify.incoming_title(doc)}
    notify.notify(notify.holders(doc.agency_id, roles, with_delegates_at=None
                                 if is_classified(doc.confidentiality) else now),
                  kind="incoming.registered", text=text, now=now, rule=rules.RULE_REGISTRATION,
                  urgent=urgent, mail=urgent and params.mail_notices, incoming=doc)


def do_receive_incoming(*, actor: Actor, profile: Profile, agency_id: int, form: IncomingForm,
                        upload: files.Upload, now: dt.datetime,
                        params: EofficeParams | None = None) -> IncomingDocument:
    """An electronic document arrived (official e-mail, inter-agency exchange): it waits
    in the clerks' intake, unnumbered, until registered; registration is due the same or
    next working day (``ND30-23``), which :func:`congvu.eoffice.due.run_due` watches.
    The mail intake (system) or a clerk of the agency records it."""
    p = _params(profile, params)
    cal = _calendar(profile)
    clean = clean_incoming(form)
    powers = powers_for(actor, now)
    if actor.kind != "system":
        require(powers, [R.CLERK], _("Only the agency's clerk receives documents."),
                agency_id=agency_id)
    stored = files.store(upload, p, pdf_only=p.incoming_pdf_only)
    received = form.received_at or now
    with transaction.atomic():
        agency = _agency(agency_id)
        doc = IncomingDocument.objects.create(
            agency=agency, status=IncomingStatus.RECEIVED, received_at=received,
            registration_due_at=rules.registration_due(cal, received, clean.urgency,
                                                       p.registration_span),
            **_incoming_fields(clean))
        _version(incoming=doc, stored=stored, account_id=actor.account_id, label=actor.label,
                 now=now)
        notify.notify(notify.holders(agency.pk, [R.CLERK]), kind="incoming.received",
                      text=_("Received, to register: %(title)s") % {
                          "title": notify.incoming_title(doc)},
                      now=now, rule=rules.RULE_REGISTRATION, urgent=is_urgent(doc.urgency),
                      mail=is_urgent(doc.urgency) and p.mail_notices, incoming=doc)
        record(actor=actor, action="eoffice.incoming.receive", at=now, target=doc.target,
               rule=rules.RULE_REGISTRATION,
               data={"agency": agency.account_name, "channel": clean.channel,
                     "due": iso(doc.registration_due_at, profile.timezone)})
    return doc


def _incoming_fields(clean: CleanIncoming) -> dict[str, object]:
    return {
        "channel": clean.channel, "issuer": clean.issuer,
        "issuer_key": rules.issuer_key(clean.issuer)[:255],
        "number_symbol": clean.number_symbol,
        "number_symbol_key": rules.number_symbol_key(clean.number_symbol)[:64],
        "document_date": clean.document_date, "doc_type": clean.doc_type,
        "type_name": clean.type_name, "summary": clean.summary, "signer": clean.signer,
        "urgency": clean.urgency, "confidentiality": clean.confidentiality,
        "page_count": clean.page_count, "deadline": clean.deadline, "field": clean.field,
        "search_text": rules.search_text(clean.summary, clean.issuer, clean.number_symbol,
                                         clean.signer),
    }


def do_register_incoming(*, actor: Actor, profile: Profile, agency_id: int, form: IncomingForm,
                         now: dt.datetime, upload: files.Upload | None = None,
                         received_id: int | None = None, confirm_duplicate: bool = False,
                         params: EofficeParams | None = None) -> IncomingDocument:
    """The clerk registers an incoming document (GL-9.1, GL-9.2): paper (scanned PDF) or
    electronic, new or from the intake (``received_id``). It takes the next incoming
    number of the agency's register for the year, in the same transaction (paper and
    electronic share one series); the director is notified, urgent documents at once by
    mail too. Registered later than the same or next working day after arrival (at once
    when urgent) is flagged late (``ND30-23``).

    A duplicate (same number and symbol, issuer and year) is refused with
    :class:`DuplicateDocument` unless ``confirm_duplicate``; the form asks
    :func:`congvu.eoffice.selectors.find_duplicates` first. A classified document may
    stay on paper only (no file); every other needs its PDF."""
    p = _params(profile, params)
    cal = _calendar(profile)
    clean = clean_incoming(form)
    powers = powers_for(actor, now)
    seat = require(powers, [R.CLERK], _("Only the agency's clerk registers documents."),
                   agency_id=agency_id)
    _no_delegates_for_classified(seat, clean.confidentiality)
    stored = files.store(upload, p, pdf_only=p.incoming_pdf_only) if upload else None
    acting = powers.acting_as(seat)
    with transaction.atomic():
        agency = _agency(agency_id)
        pending = _locked_incoming(received_id) if received_id else None
        if pending is not None and (pending.agency_id != agency.pk
                                    or pending.status != IncomingStatus.RECEIVED):
            raise Forbidden(_("Incoming document #%(id)s is not waiting for registration in "
                              "this agency.") % {"id": received_id})
        if stored is None and pending is None and not is_classified(clean.confidentiality):
            raise CongvuError(_("Attach the document's PDF (the scan or the electronic "
                                "original)."), rule=rules.RULE_INCOMING)
        same = duplicates(agency.pk, clean.number_symbol, clean.issuer, clean.document_date,
                          exclude=pending.pk if pending else None)
        if same and not confirm_duplicate:
            listed = ", ".join(f"{d.number}/{d.year}" if d.number else f"#{d.pk}"
                               for d in same)
            raise DuplicateDocument(_(
                "%(symbol)s from %(issuer)s seems registered already (incoming no. "
                "%(numbers)s). Check it, and confirm to register it again.") % {
                "symbol": clean.number_symbol, "issuer": clean.issuer, "numbers": listed},
                same)
        received = pending.received_at if pending else (form.received_at or now)
        if received > now:
            raise CongvuError(_("The arrival time is in the future."))
        due = rules.registration_due(cal, received, clean.urgency, p.registration_span)
        year = _local_date(cal, now).year
        number = take_number(agency.pk, year, Series.INCOMING)
        fields = {**_incoming_fields(clean), "status": IncomingStatus.REGISTERED, "year": year,
                  "number": number, "received_at": received, "registration_due_at": due,
                  "registered_at": now, "registered_late": now > due,
                  "registered_by_id": actor.account_id,
                  "registered_by_label": acting.label,
                  "duplicate_of": same[0] if same else None}
        if pending is not None:
            for key, value in fields.items():
                setattr(pending, key, value)
            pending.save()
            doc = pending
        else:
            doc = IncomingDocument.objects.create(agency=agency, **fields)
        if stored is not None:
            _version(incoming=doc, stored=stored, account_id=actor.account_id,
                     label=acting.label, now=now)
        _registration_notices(doc, p, now)
        hints = [h.code for h in rules.summary_hints(clean.summary,
                                                     min_words=p.summary_min_words)]
        record(actor=acting, action="eoffice.incoming.register", at=now, target=doc.target,
               rule=rules.RULE_REGISTRATION if doc.registered_late else rules.RULE_INCOMING,
               data={"agency": agency.account_name, "number": number, "year": year,
                     "urgency": doc.urgency, "confidentiality": doc.confidentiality,
                     "late": doc.registered_late, "due": iso(due, profile.timezone),
                     "duplicate_of": doc.duplicate_of_id, "summary_hints": hints})
    return doc


@dataclass(frozen=True)
class Recipient:
    """One recipient of a distribution: a department or a person, with directions (ý
    kiến chỉ đạo) and a deadline of their own."""

    kind: str
    department_id: int | None = None
    account_id: int | None = None
    directions: str = ""
    deadline: dt.date | None = None

    @property
    def key(self) -> str:
        return f"d:{self.department_id}" if self.department_id else f"p:{self.account_id}"


def _check_deadline(deadline: dt.date | None, today: dt.date, limit: dt.date | None) -> None:
    if deadline is None:
        return
    if deadline < today:
        raise CongvuError(_("The deadline %(date)s has passed already.") % {
            "date": deadline.isoformat()})
    if limit is not None and deadline > limit:
        raise CongvuError(_("The deadline %(date)s is after the one it depends on "
                            "(%(limit)s).") % {"date": deadline.isoformat(),
                                               "limit": limit.isoformat()})


def _agency_members(agency_id: int) -> set[int]:
    return set(OfficeRoleGrant.objects.filter(agency_id=agency_id)
               .values_list("account_id", flat=True))


def _assignment_notices(doc: IncomingDocument, created: list[Assignment],
                        params: EofficeParams, now: dt.datetime) -> None:
    urgent = is_urgent(doc.urgency)
    for a in created:
        kind_label = rules.AssignmentKind(a.kind).label
        text = _("New assignment (%(kind)s): %(title)s") % {"kind": kind_label,
                                            "title": notify.incoming_title(doc)}
        if a.deadline:
            text += " — " + _("due %(date)s") % {"date": a.deadline.strftime("%d/%m/%Y")}
        if a.to_account_id:
            ids = [a.to_account_id]
        else:
            ids = notify.holders(doc.agency_id, [R.DEPARTMENT_HEAD],
                                 department_id=a.to_department_id,
                                 with_delegates_at=None if is_classified(doc.confidentiality)
                                 else now)
        notify.notify(ids, kind="incoming.assigned", text=text, now=now,
                      rule=rules.RULE_ASSIGN, urgent=urgent,
                      mail=urgent and params.mail_notices and a.kind != AssignmentKind.INFORM,
                      incoming=doc)


def do_assign_incoming(*, actor: Actor, profile: Profile, document_id: int,
                       recipients: Sequence[Recipient], now: dt.datetime,
                       doc_type: str | None = None, field: str | None = None,
                       deadline: dt.date | None = None,
                       params: EofficeParams | None = None) -> list[Assignment]:
    """The director distributes a registered document (GL-9.3): to several departments
    at once (each handles), or to one lead (chủ trì) with coordinating (phối hợp) ones,
    anyone for information; or straight to a specialist (GL-9.5). Each recipient has
    directions and a deadline. The director confirms the type, field and deadline first
    (GL-15.3: ``doc_type``, ``field``, ``deadline``). Recipients are notified; urgent
    documents by mail at once."""
    p = _params(profile, params)
    cal = _calendar(profile)
    rules.check_distribution([(r.kind, r.key) for r in recipients])
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_incoming(document_id)
        seat = _leader_seat(powers, doc.agency_id, doc.confidentiality,
                            _("Only the agency's director distributes incoming documents."))
        acting = powers.acting_as(seat)
        if doc.status not in (IncomingStatus.REGISTERED, IncomingStatus.ASSIGNED):
            raise Forbidden(_("Incoming document no. %(number)s is %(status)s; only a "
                              "registered document is distributed.") % {
                "number": doc.number or doc.pk, "status": doc.get_status_display()})
        confirmed: dict[str, object] = {}
        if doc_type is not None:
            confirmed["doc_type"] = rules.doc_type(doc_type, incoming=True).key
        if field is not None:
            confirmed["field"] = _clean(field, 120)
        if deadline is not None:
            confirmed["deadline"] = deadline
        for key, value in confirmed.items():
            setattr(doc, key, value)
        today = _local_date(cal, now)
        agency = _agency(doc.agency_id)
        members = _agency_members(agency.pk)
        existing = {(a.to_department_id, a.to_account_id)
                    for a in doc.assignments.filter(parent__isnull=True)}
        if any(r.kind == AssignmentKind.LEAD for r in recipients) and doc.assignments.filter(
                parent__isnull=True, kind=AssignmentKind.LEAD).exists():
            raise CongvuError(_("The document has a lead (chủ trì) already."),
                              rule=rules.RULE_ASSIGN)
        created: list[Assignment] = []
        for r in recipients:
            _check_deadline(r.deadline, today, doc.deadline)
            if r.department_id:
                _department(agency, r.department_id)
            elif r.account_id not in members:
                raise CongvuError(_("Account #%(id)s has no eOffice role in %(agency)s.") % {
                    "id": r.account_id, "agency": agency.name}, rule=rules.RULE_STRAIGHT)
            if (r.department_id, r.account_id) in existing:
                raise CongvuError(_("The document is assigned to that department or person "
                                    "already."), rule=rules.RULE_ASSIGN)
            created.append(Assignment.objects.create(
                document=doc, kind=r.kind, to_department_id=r.department_id,
                to_account_id=None if r.department_id else r.account_id,
                directions=r.directions.strip(), deadline=r.deadline,
                from_account_id=actor.account_id, from_label=acting.label,
                on_behalf_of_id=seat.holder_id if seat.delegated else None, assigned_at=now))
        if doc.assignments.filter(parent__isnull=True, kind__in=rules.ACTIONABLE).exclude(
                status=AssignmentStatus.DONE).exists():
            doc.status, doc.done_at = IncomingStatus.ASSIGNED, None
        else:
            doc.status, doc.done_at = IncomingStatus.DONE, now
        doc.save()
        _assignment_notices(doc, created, p, now)
        record(actor=acting, action="eoffice.incoming.assign", at=now, target=doc.target,
               rule=rules.RULE_ASSIGN, data={
                   "confirmed": {k: str(v) for k, v in confirmed.items()},
                   "to": [{"kind": a.kind, "department": a.to_department_id,
                           "account": a.to_account_id,
                           "deadline": a.deadline.isoformat() if a.deadline else None}
                          for a in created]})
    return created


def _handler_seat(powers: Powers, assignment: Assignment, doc: IncomingDocument) -> Seat:
    """Who may act on an assignment: the person it names (or their delegate), or a head
    of the department it names (or their delegate)."""
    if assignment.to_account_id:
        seat = powers.seat(R.values, agency_id=doc.agency_id,
                           holder_id=assignment.to_account_id)
    else:
        seat = powers.seat([R.DEPARTMENT_HEAD], agency_id=doc.agency_id,
                           department_id=assignment.to_department_id)
    if seat is None:
        raise Forbidden(_("This assignment is not yours."))
    _no_delegates_for_classified(seat, doc.confidentiality)
    return seat


def do_pass_on(*, actor: Actor, profile: Profile, assignment_id: int,
               recipients: Sequence[Recipient], now: dt.datetime,
               params: EofficeParams | None = None) -> list[Assignment]:
    """A head of department passes the department's assignment on to people of the
    department (GL-9.4): handlers, coordinating colleagues, for information, each with
    directions and a deadline no later than the department's."""
    p = _params(profile, params)
    cal = _calendar(profile)
    rules.check_distribution([(r.kind, r.key) for r in recipients], passing_on=True)
    if any(r.department_id for r in recipients):
        raise CongvuError(_("A department passes a document on to its people."),
                          rule=rules.RULE_PASS_ON)
    powers = powers_for(actor, now)
    with transaction.atomic():
        parent = _locked_assignment(assignment_id)
        doc = _locked_incoming(parent.document_id)
        if parent.to_department_id is None:
            raise Forbidden(_("Only a department's assignment is passed on."))
        seat = _handler_seat(powers, parent, doc)
        acting = powers.acting_as(seat)
        if parent.status == AssignmentStatus.DONE:
            raise Forbidden(_("This assignment is done already."))
        staff = set(OfficeRoleGrant.objects.filter(
            agency_id=doc.agency_id, department_id=parent.to_department_id)
            .values_list("account_id", flat=True))
        today = _local_date(cal, now)
        taken = set(parent.children.values_list("to_account_id", flat=True))
        created: list[Assignment] = []
        for r in recipients:
            if r.account_id not in staff:
                raise CongvuError(_("Account #%(id)s does not work in this department.") % {
                    "id": r.account_id}, rule=rules.RULE_PASS_ON)
            if r.account_id in taken:
                raise CongvuError(_("The document is assigned to that department or person "
                                    "already."), rule=rules.RULE_PASS_ON)
            _check_deadline(r.deadline, today, parent.deadline)
            created.append(Assignment.objects.create(
                document=doc, parent=parent, kind=r.kind, to_account_id=r.account_id,
                directions=r.directions.strip(), deadline=r.deadline,
                from_account_id=actor.account_id, from_label=acting.label,
                on_behalf_of_id=seat.holder_id if seat.delegated else None, assigned_at=now))
        if any(a.kind in rules.ACTIONABLE for a in created):
            parent.status = AssignmentStatus.PASSED_ON
            parent.started_at = parent.started_at or now
            parent.save(update_fields=["status", "started_at"])
        _assignment_notices(doc, created, p, now)
        record(actor=acting, action="eoffice.incoming.pass_on", at=now, target=parent.target,
               rule=rules.RULE_PASS_ON,
               data={"to": [{"kind": a.kind, "account": a.to_account_id,
                             "deadline": a.deadline.isoformat() if a.deadline else None}
                            for a in created]})
    return created


def do_record_progress(*, actor: Actor, assignment_id: int, text: str, now: dt.datetime,
                       percent: int | None = None) -> ProgressNote:
    """The handler records progress on an assignment (GL-12.2: follows it up)."""
    body = _required(text, _("Progress"))
    if percent is not None and not 0 <= percent <= 100:
        raise CongvuError(_("Progress is between 0 and 100 percent."))
    powers = powers_for(actor, now)
    with transaction.atomic():
        assignment = _locked_assignment(assignment_id)
        doc = IncomingDocument.objects.get(pk=assignment.document_id)
        seat = _handler_seat(powers, assignment, doc)
        acting = powers.acting_as(seat)
        if assignment.status == AssignmentStatus.DONE:
            raise Forbidden(_("This assignment is done already."))
        note = ProgressNote.objects.create(assignment=assignment, at=now,
                                           by_id=actor.account_id, by_label=acting.label,
                                           text=body, percent=percent)
        if assignment.status == AssignmentStatus.PENDING:
            assignment.status, assignment.started_at = AssignmentStatus.IN_PROGRESS, now
            assignment.save(update_fields=["status", "started_at"])
        record(actor=acting, action="eoffice.incoming.progress", at=now,
               target=assignment.target, data={"percent": percent})
    return note


def _settle(doc: IncomingDocument, assignment: Assignment, now: dt.datetime) -> None:
    """Close what a finished assignment completes: a passed-on department assignment
    once all its handlers are done, the document once every top-level handler or lead
    is done (coordination and information never hold a document open)."""
    parent = assignment.parent
    while parent is not None and parent.status == AssignmentStatus.PASSED_ON:
        if parent.children.filter(kind__in=rules.ACTIONABLE).exclude(
                status=AssignmentStatus.DONE).exists():
            break
        parent.status, parent.done_at = AssignmentStatus.DONE, now
        parent.save(update_fields=["status", "done_at"])
        parent = parent.parent
    open_ = doc.assignments.filter(parent__isnull=True, kind__in=rules.ACTIONABLE).exclude(
        status=AssignmentStatus.DONE)
    if doc.status == IncomingStatus.ASSIGNED and not open_.exists():
        doc.status, doc.done_at = IncomingStatus.DONE, now
        doc.save(update_fields=["status", "done_at"])


def do_record_result(*, actor: Actor, assignment_id: int, result: str,
                     now: dt.datetime, work_file_id: int | None = None) -> Assignment:
    """The handler finishes (GL-9.6) with the result; optionally files the document into
    one of their work files in the same step."""
    text = _required(result, _("Result"))
    powers = powers_for(actor, now)
    with transaction.atomic():
        assignment = _locked_assignment(assignment_id)
        doc = _locked_incoming(assignment.document_id)
        seat = _handler_seat(powers, assignment, doc)
        acting = powers.acting_as(seat)
        if assignment.status == AssignmentStatus.DONE:
            raise Forbidden(_("This assignment is done already."))
        assignment.status, assignment.done_at, assignment.result = (
            AssignmentStatus.DONE, now, text)
        assignment.started_at = assignment.started_at or now
        assignment.save(update_fields=["status", "done_at", "result", "started_at"])
        _settle(doc, assignment, now)
        if assignment.from_account_id:
            notify.notify([assignment.from_account_id], kind="incoming.done",
                          text=_("Done: %(title)s") % {"title": notify.incoming_title(doc)},
                          now=now, rule=rules.RULE_FILE, incoming=doc,
                          exclude=actor.account_id)
        record(actor=acting, action="eoffice.incoming.result", at=now,
               target=assignment.target, rule=rules.RULE_FILE,
               data={"document_done": doc.status == IncomingStatus.DONE})
        if work_file_id is not None:
            _file(powers, work_file_id, now, incoming=doc)
    return assignment


# --- work files (GL-9.6) -------------------------------------------------------------------------


def do_create_work_file(*, actor: Actor, agency_id: int, title: str, now: dt.datetime,
                        code: str = "", year: int | None = None) -> WorkFile:
    """A person opens a work file (hồ sơ công việc) of their own in their agency."""
    name = _required(title, _("Title"))
    powers = powers_for(actor, now)
    if powers.account_id is None or powers.seat(R.values, agency_id=agency_id,
                                                own_only=True) is None:
        raise Forbidden(_("You have no eOffice role in this agency."))
    with transaction.atomic():
        work_file = WorkFile.objects.create(
            agency_id=agency_id, owner_id=powers.account_id, code=_clean(code, 32),
            title=name[:500], year=year or timezone.localtime(now).year, created_at=now)
        record(actor=actor, action="eoffice.workfile.create", at=now, target=work_file.target,
               rule=rules.RULE_FILE, data={"title": work_file.title})
    return work_file


def _file(powers: Powers, work_file_id: int, now: dt.datetime, *,
          incoming: IncomingDocument | None = None,
          outgoing: OutgoingDocument | None = None) -> WorkFileItem:
    work_file = WorkFile.objects.select_for_update().filter(pk=work_file_id).first()
    if work_file is None:
        raise NotFound(_("There is no work file #%(id)s.") % {"id": work_file_id})
    if work_file.owner_id != powers.account_id:
        raise Forbidden(_("This work file is someone else's."))
    if work_file.closed_at is not None:
        raise Forbidden(_("This work file is closed."))
    if incoming is not None:
        ok = IncomingDocument.objects.filter(incoming_q(powers), pk=incoming.pk).exists()
        agency_id = incoming.agency_id
    elif outgoing is not None:
        ok = OutgoingDocument.objects.filter(outgoing_q(powers), pk=outgoing.pk).exists()
        agency_id = outgoing.agency_id
    else:
        raise CongvuError(_("Choose a document to file."))
    if not ok or agency_id != work_file.agency_id:
        raise Forbidden(_("You may not file this document."))
    item, created = WorkFileItem.objects.get_or_create(
        work_file=work_file, incoming=incoming, outgoing=outgoing,
        defaults={"added_at": now, "added_by_label": powers.actor.label})
    if created:
        record(actor=powers.actor, action="eoffice.workfile.file", at=now,
               target=work_file.target, rule=rules.RULE_FILE,
               data={"incoming": incoming.pk if incoming else None,
                     "outgoing": outgoing.pk if outgoing else None})
    return item


def do_file_document(*, actor: Actor, work_file_id: int, now: dt.datetime,
                     incoming_id: int | None = None,
                     outgoing_id: int | None = None) -> WorkFileItem:
    """File a document the person may read into one of their work files (GL-9.6)."""
    powers = powers_for(actor, now)
    with transaction.atomic():
        incoming = IncomingDocument.objects.filter(pk=incoming_id).first() \
            if incoming_id else None
        outgoing = OutgoingDocument.objects.filter(pk=outgoing_id).first() \
            if outgoing_id else None
        if (incoming_id and incoming is None) or (outgoing_id and outgoing is None):
            raise NotFound(_("There is no such document."))
        return _file(powers, work_file_id, now, incoming=incoming, outgoing=outgoing)


# --- outgoing documents (GL-10) ---------------------------------------------------------------


@dataclass(frozen=True)
class DraftForm:
    """What a specialist fills in when drafting (GL-10.1)."""

    doc_type: str
    summary: str
    field: str = ""
    department_id: int | None = None
    deadline: dt.date | None = None
    urgency: str = rules.Urgency.NORMAL
    confidentiality: str = rules.Confidentiality.NONE
    normative: bool = False
    signer: str = ""
    recipients_text: str = ""
    copies: int = 1
    page_count: int | None = None
    related_incoming: tuple[int, ...] = ()
    related_outgoing: tuple[int, ...] = ()


def _draft(powers: Powers, profile: Profile, agency_id: int, form: DraftForm,
           upload: files.Upload, p: EofficeParams, now: dt.datetime, *,
           task: Assignment | None = None,
           reply_to: IncomingDocument | None = None) -> OutgoingDocument:
    seats = powers.matching([R.SPECIALIST, R.DEPARTMENT_HEAD], agency_id=agency_id,
                            own_only=True)
    if not seats or powers.account_id is None:
        raise Forbidden(_("Only the agency's specialists and heads of department draft "
                          "outgoing documents."), rule=rules.RULE_SUBMIT)
    kind = rules.doc_type(form.doc_type)
    urgency = rules.parse_urgency(form.urgency)
    secrecy = rules.parse_confidentiality(form.confidentiality)
    rules.series_for(kind.key, secrecy, form.normative)
    summary = rules.clean_summary(form.summary)
    if form.copies < 1:
        raise CongvuError(_("Copies: at least 1."))
    departments = {s.department_id for s in seats if s.department_id}
    department_id = form.department_id
    if department_id is None and len(departments) == 1:
        department_id = next(iter(departments))
    if department_id is not None and department_id not in departments:
        raise Forbidden(_("You may submit drafts for your own department only."),
                        rule=rules.RULE_SUBMIT)
    stored = files.store(upload, p)
    doc = OutgoingDocument.objects.create(
        agency_id=agency_id, department_id=department_id, drafter_id=powers.account_id,
        drafter_label=powers.actor.label, doc_type=kind.key, normative=form.normative,
        field=_clean(form.field, 120), summary=summary, urgency=urgency,
        confidentiality=secrecy, deadline=form.deadline, signer=_clean(form.signer, 255),
        recipients_text=form.recipients_text.strip(), copies=form.copies,
        page_count=form.page_count, task=task, created_at=now,
        search_text=rules.search_text(summary, form.field))
    _version(outgoing=doc, stored=stored, account_id=powers.account_id,
             label=powers.actor.label, now=now, note=_("First draft"))
    links: list[tuple[str, int | None, int | None]] = [
        (LinkKind.RELATED, i, None) for i in form.related_incoming]
    links += [(LinkKind.RELATED, None, o) for o in form.related_outgoing]
    if reply_to is not None:
        links.insert(0, (LinkKind.REPLY_TO, reply_to.pk, None))
    for link_kind, incoming_id, outgoing_id in links:
        readable = (IncomingDocument.objects.filter(incoming_q(powers), pk=incoming_id).exists()
                    if incoming_id else
                    OutgoingDocument.objects.filter(outgoing_q(powers), pk=outgoing_id or 0)
                    .exists())
        if not readable:
            raise Forbidden(_("You may not link a document you cannot read."))
        DocumentLink.objects.create(outgoing=doc, kind=link_kind, to_incoming_id=incoming_id,
                                    to_outgoing_id=outgoing_id, created_at=now)
    record(actor=powers.actor, action="eoffice.outgoing.draft", at=now, target=doc.target,
           rule=rules.RULE_SUBMIT,
           data={"type": kind.key, "department": department_id, "urgency": urgency,
                 "confidentiality": secrecy, "reply_to": reply_to.pk if reply_to else None,
                 "task": task.pk if task else None, "links": len(links)})
    return doc


def do_draft_outgoing(*, actor: Actor, profile: Profile, agency_id: int, form: DraftForm,
                      upload: files.Upload, now: dt.datetime, task_id: int | None = None,
                      params: EofficeParams | None = None) -> OutgoingDocument:
    """A specialist drafts an outgoing document (GL-10.1), from a task (an assignment of
    theirs) or on their own, with field, submitting unit, deadline, urgency,
    confidentiality, related documents and the file (version 1)."""
    p = _params(profile, params)
    powers = powers_for(actor, now)
    with transaction.atomic():
        task = None
        if task_id is not None:
            task = _locked_assignment(task_id)
            task_doc = IncomingDocument.objects.get(pk=task.document_id)
            seat = _handler_seat(powers, task, task_doc)
            if seat.delegated or task_doc.agency_id != agency_id:
                raise Forbidden(_("This assignment is not yours."))
        return _draft(powers, profile, agency_id, form, upload, p, now, task=task)


def do_start_reply(*, actor: Actor, profile: Profile, incoming_id: int, form: DraftForm,
                   upload: files.Upload, now: dt.datetime,
                   params: EofficeParams | None = None) -> OutgoingDocument:
    """The handler of an incoming document starts the reply ("Dự thảo", GL-9.6): an
    outgoing draft linked to it (reply-to), from their assignment on it."""
    p = _params(profile, params)
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_incoming(incoming_id)
        mine = [a for a in doc.assignments.exclude(kind=AssignmentKind.INFORM)
                if a.to_account_id == powers.account_id
                or (a.to_department_id and powers.seat(
                    [R.DEPARTMENT_HEAD], agency_id=doc.agency_id,
                    department_id=a.to_department_id, own_only=True))]
        if not mine:
            raise Forbidden(_("Only a handler of this document starts its reply."),
                            rule=rules.RULE_FILE)
        return _draft(powers, profile, doc.agency_id, form, upload, p, now, task=mine[-1],
                      reply_to=doc)


def _drafter_seat(powers: Powers, doc: OutgoingDocument) -> Seat:
    seat = powers.seat(R.values, agency_id=doc.agency_id, holder_id=doc.drafter_id)
    if seat is None:
        raise Forbidden(_("Only the drafter changes or submits this draft."))
    _no_delegates_for_classified(seat, doc.confidentiality)
    return seat


def _open_round(doc: OutgoingDocument) -> ReviewRound:
    current = doc.rounds.filter(decided_at__isnull=True).order_by("-number").first()
    if current is None or doc.status != S.UNDER_REVIEW:
        raise Forbidden(_("This draft is not under review."))
    return current


def _reviewer_seat(powers: Powers, doc: OutgoingDocument, current: ReviewRound) -> Seat:
    """GL-10.2: the head of the submitting department; GL-10.4: the director (a
    classified draft: the director in person)."""
    if current.stage == ReviewStage.DEPARTMENT:
        seat = powers.seat([R.DEPARTMENT_HEAD], agency_id=doc.agency_id,
                           department_id=current.department_id)
        if seat is None:
            raise Forbidden(_("Only a head of the submitting department reviews this draft "
                              "now."), rule=rules.RULE_DEPT_REVIEW)
        _no_delegates_for_classified(seat, doc.confidentiality)
        return seat
    return _leader_seat(powers, doc.agency_id, doc.confidentiality,
                        _("Only the agency's director reviews this draft now."))


def _open_review(doc: OutgoingDocument, profile: Profile, p: EofficeParams, stage: str,
                 version: DocumentVersion, label: str, now: dt.datetime) -> ReviewRound:
    cal = _calendar(profile)
    due = rules.review_due(cal, now, doc.urgency, span=p.review_span,
                           urgent_span=p.urgent_review_span, document_deadline=doc.deadline)
    number = (doc.rounds.aggregate(n=Max("number"))["n"] or 0) + 1
    current = ReviewRound.objects.create(
        outgoing=doc, number=number, stage=stage,
        department_id=doc.department_id if stage == ReviewStage.DEPARTMENT else None,
        version=version, submitted_at=now, submitted_by_label=label, due_at=due,
        due_rule=p.review_rule)
    doc.status, doc.stage = S.UNDER_REVIEW, stage
    doc.save(update_fields=["status", "stage"])
    if stage == ReviewStage.DEPARTMENT:
        reviewers = notify.holders(doc.agency_id, [R.DEPARTMENT_HEAD],
                                   department_id=doc.department_id,
                                   with_delegates_at=None if is_classified(doc.confidentiality)
                                   else now)
    else:
        reviewers = notify.holders(doc.agency_id, [R.DIRECTOR] if is_classified(
            doc.confidentiality) else list(LEADERS), with_delegates_at=None if is_classified(
            doc.confidentiality) else now)
    urgent = is_urgent(doc.urgency)
    notify.notify(reviewers, kind="outgoing.review", now=now, rule=p.review_rule,
                  text=_("To review by %(due)s: %(title)s") % {
                      "due": cal.to_local(due).strftime("%H:%M %d/%m/%Y"),
                      "title": notify.outgoing_title(doc)},
                  urgent=urgent, mail=urgent and p.mail_notices, outgoing=doc)
    return current


def _department_heads_exist(doc: OutgoingDocument) -> bool:
    return OfficeRoleGrant.objects.filter(agency_id=doc.agency_id, role=R.DEPARTMENT_HEAD,
                                          department_id=doc.department_id).exists()


def do_add_version(*, actor: Actor, outgoing_id: int, upload: files.Upload, now: dt.datetime,
                   profile: Profile, note: str = "",
                   params: EofficeParams | None = None) -> DocumentVersion:
    """Upload a new version (GL-10.8 "Thêm mới phiên bản"): the drafter while drafting,
    returned or approved (form corrections before printing, GL-10.6); the reviewer of
    the open round with their marked edits (head of department blue, director red); the
    clerk once numbered (the signed PDF to issue)."""
    p = _params(profile, params)
    powers = powers_for(actor, now)
    stored = files.store(upload, p)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        mark, current = "", None
        if doc.status in (S.DRAFT, S.RETURNED, S.APPROVED):
            seat = _drafter_seat(powers, doc)
        elif doc.status == S.UNDER_REVIEW:
            current = _open_round(doc)
            seat = _reviewer_seat(powers, doc, current)
            mark = Mark.BLUE if current.stage == ReviewStage.DEPARTMENT else Mark.RED
        elif doc.status == S.NUMBERED:
            seat = require(powers, [R.CLERK], _("Only the clerk adds the signed copy."),
                           agency_id=doc.agency_id)
            _no_delegates_for_classified(seat, doc.confidentiality)
        else:
            raise Forbidden(_("An issued document does not change."))
        acting = powers.acting_as(seat)
        version = _version(outgoing=doc, stored=stored, account_id=actor.account_id,
                           label=acting.label, now=now, note=note, mark=mark,
                           review_round=current)
        record(actor=acting, action="eoffice.outgoing.version", at=now, target=doc.target,
               rule=rules.RULE_VERSIONS,
               data={"version": version.number, "sha256": version.sha256, "mark": mark})
    return version


def do_submit_outgoing(*, actor: Actor, profile: Profile, outgoing_id: int,
                       now: dt.datetime, params: EofficeParams | None = None) -> ReviewRound:
    """The drafter submits (GL-10.1, GL-10.3): to the head of the submitting department,
    or straight to the director when the drafter heads it or it has no department. A
    draft returned earlier goes back only as a new version (GL-10.8). The reviewer's
    deadline is 3 working days unless urgent (GL-10.7)."""
    p = _params(profile, params)
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        seat = _drafter_seat(powers, doc)
        acting = powers.acting_as(seat)
        if doc.status not in (S.DRAFT, S.RETURNED):
            raise Forbidden(_("Only a draft, or a draft returned for changes, is submitted."))
        version = _latest_version(doc)
        last = doc.rounds.order_by("-number").first()
        if last is not None and version.pk == last.version_id:
            raise CongvuError(_("Upload the revised draft as a new version before submitting "
                                "it again (GL-10.8)."), rule=rules.RULE_VERSIONS)
        drafter_heads = OfficeRoleGrant.objects.filter(
            account_id=doc.drafter_id, agency_id=doc.agency_id, role=R.DEPARTMENT_HEAD,
            department_id=doc.department_id).exists()
        if doc.department_id and not drafter_heads:
            if not _department_heads_exist(doc):
                raise CongvuError(_("The department has no head in eOffice to review the "
                                    "draft; ask the IT contact to grant the role."))
            stage = ReviewStage.DEPARTMENT
        else:
            stage = ReviewStage.DIRECTOR
        current = _open_review(doc, profile, p, stage, version, acting.label, now)
        record(actor=acting, action="eoffice.outgoing.submit", at=now, target=doc.target,
               rule=rules.RULE_SUBMIT,
               data={"round": current.number, "stage": stage, "version": version.number,
                     "due": iso(current.due_at, profile.timezone), "due_rule": p.review_rule})
    return current


def do_comment_draft(*, actor: Actor, outgoing_id: int, text: str,
                     now: dt.datetime) -> ReviewComment:
    """The reviewer of the open round comments (ý kiến, GL-10.2, GL-10.4); comments stay
    with the round and its version (GL-10.8)."""
    body = _required(text, _("Comment"))
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        current = _open_round(doc)
        seat = _reviewer_seat(powers, doc, current)
        acting = powers.acting_as(seat)
        comment = ReviewComment.objects.create(
            review_round=current, author_id=actor.account_id, author_label=acting.label,
            at=now, text=body,
            mark=Mark.BLUE if current.stage == ReviewStage.DEPARTMENT else Mark.RED)
        record(actor=acting, action="eoffice.outgoing.comment", at=now, target=doc.target,
               rule=rules.RULE_VERSIONS, data={"round": current.number})
    return comment


def _decide(powers: Powers, seat: Seat, current: ReviewRound, decision: str,
            comment: str, now: dt.datetime, disagreement: str = "") -> Actor:
    acting = powers.acting_as(seat)
    if comment.strip():
        ReviewComment.objects.create(
            review_round=current, author_id=powers.account_id, author_label=acting.label,
            at=now, text=comment.strip(),
            mark=Mark.BLUE if current.stage == ReviewStage.DEPARTMENT else Mark.RED)
    current.decision, current.decided_at = decision, now
    current.decided_by_id, current.decided_by_label = powers.account_id, acting.label
    current.on_behalf_of_id = seat.holder_id if seat.delegated else None
    current.disagreement = disagreement.strip()
    current.save()
    return acting


def do_return_draft(*, actor: Actor, profile: Profile, outgoing_id: int, comment: str,
                    now: dt.datetime, to_department: bool = False,
                    params: EofficeParams | None = None) -> OutgoingDocument:
    """The reviewer returns the draft with their comments (GL-10.2, GL-10.4): to the
    drafter, or (the director) to the head of department, who gets a new round."""
    p = _params(profile, params)
    why = _required(comment, _("Comment"))
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        current = _open_round(doc)
        seat = _reviewer_seat(powers, doc, current)
        late = now > current.due_at
        acting = _decide(powers, seat, current, Decision.RETURNED, why, now)
        rule = (rules.RULE_DIRECTOR_REVIEW if current.stage == ReviewStage.DIRECTOR
                else rules.RULE_DEPT_REVIEW)
        if to_department and current.stage == ReviewStage.DIRECTOR and doc.department_id \
                and _department_heads_exist(doc):
            _open_review(doc, profile, p, ReviewStage.DEPARTMENT, _latest_version(doc),
                         acting.label, now)
        else:
            doc.status, doc.stage = S.RETURNED, ""
            doc.save(update_fields=["status", "stage"])
            notify.notify([doc.drafter_id], kind="outgoing.returned", now=now, rule=rule,
                          text=_("Returned for changes: %(title)s") % {
                              "title": notify.outgoing_title(doc)}, outgoing=doc)
        record(actor=acting, action="eoffice.outgoing.return", at=now, target=doc.target,
               rule=rule, data={"round": current.number, "stage": current.stage,
                                "to": doc.stage or "drafter", "late": late})
    return doc


def do_forward_draft(*, actor: Actor, profile: Profile, outgoing_id: int, now: dt.datetime,
                     comment: str = "", disagreement: str = "",
                     params: EofficeParams | None = None) -> ReviewRound:
    """The head of department agrees and submits the draft to the director (GL-10.2);
    differences of opinion with the drafter are recorded for the director to decide
    (GL-10.8)."""
    p = _params(profile, params)
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        current = _open_round(doc)
        if current.stage != ReviewStage.DEPARTMENT:
            raise Forbidden(_("The draft is with the director already."))
        seat = _reviewer_seat(powers, doc, current)
        late = now > current.due_at
        acting = _decide(powers, seat, current, Decision.FORWARDED, comment, now,
                         disagreement)
        upward = _open_review(doc, profile, p, ReviewStage.DIRECTOR, _latest_version(doc),
                              acting.label, now)
        record(actor=acting, action="eoffice.outgoing.forward", at=now, target=doc.target,
               rule=rules.RULE_VERSIONS if disagreement.strip() else rules.RULE_DEPT_REVIEW,
               data={"round": current.number, "late": late,
                     "disagreement": bool(disagreement.strip())})
    return upward


def do_approve_draft(*, actor: Actor, outgoing_id: int, now: dt.datetime,
                     comment: str = "") -> OutgoingDocument:
    """The director approves the draft for issue (GL-10.4, GL-15.2): it goes to the
    clerks to number; the drafter is told."""
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        current = _open_round(doc)
        if current.stage != ReviewStage.DIRECTOR:
            raise Forbidden(_("Only the director approves; the head of department forwards "
                              "the draft."), rule=rules.RULE_DIRECTOR_REVIEW)
        seat = _reviewer_seat(powers, doc, current)
        late = now > current.due_at
        acting = _decide(powers, seat, current, Decision.APPROVED, comment, now)
        doc.status, doc.stage = S.APPROVED, ""
        doc.approved_at, doc.approved_by_label = now, acting.label
        doc.save(update_fields=["status", "stage", "approved_at", "approved_by_label"])
        notify.notify(notify.holders(doc.agency_id, [R.CLERK]), kind="outgoing.approved",
                      now=now, rule=rules.RULE_NUMBER, urgent=is_urgent(doc.urgency),
                      text=_("Approved, to number and issue: %(title)s") % {
                          "title": notify.outgoing_title(doc)}, outgoing=doc)
        notify.notify([doc.drafter_id], kind="outgoing.approved", now=now,
                      rule=rules.RULE_DIRECTOR_REVIEW, outgoing=doc,
                      text=_("Approved: %(title)s") % {"title": notify.outgoing_title(doc)})
        record(actor=acting, action="eoffice.outgoing.approve", at=now, target=doc.target,
               rule=rules.RULE_DIRECTOR_REVIEW, data={"round": current.number, "late": late})
    return doc


def do_number_outgoing(*, actor: Actor, profile: Profile, outgoing_id: int,
                       now: dt.datetime) -> OutgoingDocument:
    """The clerk numbers an approved document (GL-10.5): the next number of the agency's
    register for the year and series (general, normative, classified, copies), taken in
    this transaction (gapless, concurrency-safe: :mod:`congvu.eoffice.numbering`), as
    ``Số: 243/QĐ-STTTT`` (công văn ``Số: 243/STTTT-VP``). The drafter checks it
    (GL-10.6)."""
    cal = _calendar(profile)
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        seat = require(powers, [R.CLERK], _("Only the agency's clerk numbers documents."),
                       agency_id=doc.agency_id)
        _no_delegates_for_classified(seat, doc.confidentiality)
        acting = powers.acting_as(seat)
        if doc.status != S.APPROVED:
            raise Forbidden(_("Only an approved document is numbered (this one is "
                              "%(status)s).") % {"status": doc.get_status_display()},
                            rule=rules.RULE_NUMBER)
        series = rules.series_for(doc.doc_type, doc.confidentiality, doc.normative)
        today = _local_date(cal, now)
        agency = _agency(doc.agency_id)
        unit = _symbol(_agency(doc.department_id)) if doc.department_id else ""
        agency_symbol = _symbol(agency)
        number = take_number(agency.pk, today.year, series)
        doc.series, doc.year, doc.number = series, today.year, number
        doc.number_text = rules.format_number(
            number, doc.doc_type, agency_symbol, unit,
            normative_year=today.year if doc.normative else None)
        doc.document_date, doc.numbered_at, doc.numbered_by_label = today, now, acting.label
        doc.status = S.NUMBERED
        doc.search_text = rules.search_text(doc.summary, doc.field, doc.number_text)
        doc.save()
        notify.notify([doc.drafter_id], kind="outgoing.numbered", now=now,
                      rule="GL-10.6", outgoing=doc,
                      text=_("Numbered, check it before it is issued: %(title)s") % {
                          "title": notify.outgoing_title(doc)})
        record(actor=acting, action="eoffice.outgoing.number", at=now, target=doc.target,
               rule=rules.RULE_NUMBER,
               data={"series": series, "year": today.year, "number": number,
                     "text": doc.number_text})
    return doc


def do_issue_outgoing(*, actor: Actor, profile: Profile, outgoing_id: int, now: dt.datetime,
                      accounts: Sequence[int] = (), units: Sequence[int] = (),
                      agencies: Sequence[int] = (), emails: Sequence[str] = (),
                      params: EofficeParams | None = None) -> OutgoingDocument:
    """The clerk issues a numbered document (GL-10.5) from its latest version (the signed
    PDF): to people and units of the agency in eOffice (``accounts``, ``units``; the
    agency itself means everyone), to other agencies' intake (``agencies``: they register
    it as incoming), and by official e-mail (``emails``) with the summary as the subject
    (KH-7). A classified document is never e-mailed (KH-8.3) nor sent to another agency
    electronically (README "Reading"), and the refusal happens before anything is sent."""
    p = _params(profile, params)
    cal = _calendar(profile)
    addresses = sorted({e.strip().lower() for e in emails if e.strip()})
    for address in addresses:
        if not _EMAIL_RE.match(address):
            raise CongvuError(_("Invalid e-mail address %(address)r.") % {"address": address})
    if not (accounts or units or agencies or addresses):
        raise CongvuError(_("Choose at least one recipient."))
    powers = powers_for(actor, now)
    with transaction.atomic():
        doc = _locked_outgoing(outgoing_id)
        seat = require(powers, [R.CLERK], _("Only the agency's clerk issues documents."),
                       agency_id=doc.agency_id)
        _no_delegates_for_classified(seat, doc.confidentiality)
        acting = powers.acting_as(seat)
        if doc.status != S.NUMBERED:
            raise Forbidden(_("Only a numbered document is issued (this one is "
                              "%(status)s).") % {"status": doc.get_status_display()},
                            rule=rules.RULE_NUMBER)
        if addresses:
            rules.require_may_email(doc.confidentiality)
        if agencies and is_classified(doc.confidentiality):
            raise Forbidden(_("A classified document goes to other agencies on paper, not "
                              "electronically (KH-8.3)."), rule=rules.RULE_NO_SECRET_MAIL)
        version = _latest_version(doc)
        if version.mime != "application/pdf" and (addresses or agencies):
            raise CongvuError(_("Add the signed PDF as the latest version before issuing it "
                                "electronically."), rule=rules.RULE_NUMBER)
        agency = _agency(doc.agency_id)
        inside = agency_subtree_ids([agency.pk])
        members = _agency_members(agency.pk)
        title = notify.outgoing_title(doc)
        for account_id in sorted(set(accounts)):
            if account_id not in members:
                raise CongvuError(_("Account #%(id)s has no eOffice role in %(agency)s.") % {
                    "id": account_id, "agency": agency.name})
            Distribution.objects.create(outgoing=doc, channel=DistributionChannel.INTERNAL,
                                        to_account_id=account_id, created_at=now)
        notify.notify(accounts, kind="outgoing.issued", now=now, rule=rules.RULE_NUMBER,
                      text=_("Issued to you: %(title)s") % {"title": title}, outgoing=doc)
        for unit_id in sorted(set(units)):
            if unit_id not in inside:
                raise CongvuError(_("%(unit)s is not a unit of %(agency)s; send it to the "
                                    "agency instead.") % {"unit": _agency(unit_id).name,
                                                          "agency": agency.name})
            Distribution.objects.create(outgoing=doc, channel=DistributionChannel.INTERNAL,
                                        to_agency_id=unit_id, created_at=now)
            staff = OfficeRoleGrant.objects.filter(agency_id=agency.pk)
            if unit_id != agency.pk:
                staff = staff.filter(department_id=unit_id)
            notify.notify(staff.values_list("account_id", flat=True), kind="outgoing.issued",
                          now=now, rule=rules.RULE_NUMBER, outgoing=doc,
                          text=_("Issued to your unit: %(title)s") % {"title": title})
        for other_id in sorted(set(agencies)):
            _exchange(doc, version, agency, _agency(other_id), inside, cal, p, acting, now)
        if addresses:
            mail = MailOutbox.objects.create(
                recipients=", ".join(addresses), subject=doc.summary,
                body=_mail_body(doc, agency), rule=rules.RULE_MAIL_SUBJECT,
                attachment=version, outgoing=doc, created_at=now)
            Distribution.objects.bulk_create([
                Distribution(outgoing=doc, channel=DistributionChannel.EMAIL, address=a,
                             mail=mail, created_at=now) for a in addresses])
        doc.status, doc.issued_at, doc.issued_by_label = S.ISSUED, now, acting.label
        doc.save(update_fields=["status", "issued_at", "issued_by_label"])
        record(actor=acting, action="eoffice.outgoing.issue", at=now, target=doc.target,
               rule=rules.RULE_MAIL_SUBJECT if addresses else rules.RULE_NUMBER,
               data={"accounts": sorted(set(accounts)), "units": sorted(set(units)),
                     "agencies": sorted(set(agencies)), "emails": addresses,
                     "version": version.number})
    return doc


def _mail_body(doc: OutgoingDocument, agency: Agency) -> str:
    lines = [agency.name, doc.number_text, doc.summary]
    if doc.signer:
        lines.append(_("Signed by: %(signer)s") % {"signer": doc.signer})
    lines.append(_("The document is attached."))
    return "\n".join(line for line in lines if line)


def _exchange(doc: OutgoingDocument, version: DocumentVersion, agency: Agency, other: Agency,
              inside: set[int], cal: WorkCalendar, p: EofficeParams, acting: Actor,
              now: dt.datetime) -> None:
    """Inter-agency exchange (GL-10.5): the other agency receives the document in its
    intake, to register (``ND30-23``)."""
    if other.pk in inside:
        raise CongvuError(_("%(name)s is part of %(agency)s; choose it among the units.") % {
            "name": other.name, "agency": agency.name})
    incoming = IncomingDocument.objects.create(
        agency=other, status=IncomingStatus.RECEIVED, channel=Channel.EXCHANGE,
        received_at=now,
        registration_due_at=rules.registration_due(cal, now, doc.urgency,
                                                   p.registration_span),
        issuer=agency.name[:255], issuer_key=rules.issuer_key(agency.name)[:255],
        number_symbol=doc.number_text.removeprefix("Số: ")[:64],
        number_symbol_key=rules.number_symbol_key(doc.number_text)[:64],
        document_date=doc.document_date, doc_type=doc.doc_type, summary=doc.summary,
        signer=doc.signer, urgency=doc.urgency, confidentiality=doc.confidentiality,
        page_count=doc.page_count,
        search_text=rules.search_text(doc.summary, agency.name, doc.number_text, doc.signer))
    DocumentVersion.objects.create(
        incoming=incoming, number=1, path=version.path, sha256=version.sha256,
        size=version.size, mime=version.mime, original_name=version.original_name,
        created_at=now, created_by_label=acting.label)
    # The same PDF: its text is searchable in the other agency too, without a second
    # extraction (the bodies are deferred on every read, so read them here).
    IncomingDocument.objects.filter(pk=incoming.pk).update(**dict(zip(
        ("body_text", "body_key"), OutgoingDocument.objects.filter(pk=doc.pk).values_list(
            "body_text", "body_key").get(), strict=True)))
    Distribution.objects.create(outgoing=doc, channel=DistributionChannel.INTERNAL,
                                to_agency=other, incoming=incoming, created_at=now)
    urgent = is_urgent(doc.urgency)
    notify.notify(notify.holders(other.pk, [R.CLERK]), kind="incoming.received", now=now,
                  rule=rules.RULE_REGISTRATION, urgent=urgent, mail=urgent and p.mail_notices,
                  incoming=incoming,
                  text=_("Received, to register: %(title)s") % {
                      "title": notify.incoming_title(incoming)})


# --- delegation (GL-4.5, GL-11, GL-13.3) -------------------------------------------------------


def do_request_delegation(*, actor: Actor, agency_id: int, delegate_id: int,
                          roles: Sequence[str], starts_at: dt.datetime, ends_at: dt.datetime,
                          now: dt.datetime, reason: str = "") -> Delegation:
    """A role holder asks to delegate their processing rights (``roles``) in the agency
    to another person of it for a period (GL-4.5, GL-11, GL-13.3). Rights held only
    through a delegation cannot be delegated further. A leader approves
    (:func:`do_approve_delegation`), then it is announced (:func:`do_announce_delegation`)."""
    wanted = sorted(set(roles))
    if not wanted or any(r not in R.values for r in wanted):
        raise CongvuError(_("Choose the roles to delegate among: %(valid)s.") % {
            "valid": ", ".join(R.values)})
    if ends_at <= starts_at or ends_at <= now:
        raise CongvuError(_("The delegation must end after it starts, and in the future."))
    powers = powers_for(actor, now)
    me = powers.account_id
    if me is None:
        raise Forbidden(_("Only a person delegates their rights."))
    with transaction.atomic():
        own = set(OfficeRoleGrant.objects.filter(account_id=me, agency_id=agency_id)
                  .values_list("role", flat=True))
        missing = [r for r in wanted if r not in own]
        if missing:
            if powers.matching(missing, agency_id=agency_id):
                raise Forbidden(_("Rights received by delegation cannot be delegated further "
                                  "(GL-11)."), rule=rules.RULE_DELEGATION)
            raise Forbidden(_("You do not hold the role(s) %(roles)s in this agency.") % {
                "roles": ", ".join(missing)}, rule=rules.RULE_DELEGATION)
        if delegate_id == me:
            raise CongvuError(_("Choose someone else to delegate to."))
        if delegate_id not in _agency_members(agency_id):
            raise CongvuError(_("The delegate must be a person of the agency with an "
                                "eOffice role."), rule=rules.RULE_DELEGATION)
        delegation = Delegation.objects.create(
            agency_id=agency_id, delegator_id=me, delegate_id=delegate_id, roles=wanted,
            starts_at=starts_at, ends_at=ends_at, reason=reason.strip(), requested_at=now,
            requested_by_label=actor.label)
        notify.notify(notify.holders(agency_id, LEADERS), kind="delegation.requested",
                      now=now, rule=rules.RULE_DELEGATION_APPROVAL, delegation=delegation,
                      exclude=me, text=_("A delegation awaits your approval: %(who)s") % {
                          "who": actor.label})
        record(actor=actor, action="eoffice.delegation.request", at=now,
               target=delegation.target, rule=rules.RULE_DELEGATION,
               data={"delegate": delegate_id, "roles": wanted, "from": starts_at.isoformat(),
                     "until": ends_at.isoformat()})
    return delegation


def _locked_delegation(delegation_id: int) -> Delegation:
    delegation = Delegation.objects.select_for_update().filter(pk=delegation_id).first()
    if delegation is None:
        raise NotFound(_("There is no delegation #%(id)s.") % {"id": delegation_id})
    return delegation


def do_approve_delegation(*, actor: Actor, delegation_id: int, now: dt.datetime,
                          approve: bool = True, reason: str = "") -> Delegation:
    """A leader of the agency approves (or rejects) a requested delegation (GL-4.5). Only
    in person: a delegated seat approves no delegation. The director may approve their
    own; nobody approves a delegation to themselves."""
    powers = powers_for(actor, now)
    with transaction.atomic():
        delegation = _locked_delegation(delegation_id)
        seat = powers.seat(LEADERS, agency_id=delegation.agency_id, own_only=True)
        if seat is None:
            raise Forbidden(_("Only a leader of the agency approves delegations."),
                            rule=rules.RULE_DELEGATION_APPROVAL)
        if powers.account_id == delegation.delegate_id or (
                powers.account_id == delegation.delegator_id and seat.role != R.DIRECTOR):
            raise Forbidden(_("Another leader approves this delegation."),
                            rule=rules.RULE_DELEGATION_APPROVAL)
        if delegation.status != DelegationStatus.REQUESTED:
            raise Forbidden(_("This delegation is not awaiting approval."))
        if approve:
            delegation.status = DelegationStatus.APPROVED
            delegation.approved_at, delegation.approved_by_id = now, powers.account_id
            delegation.approved_by_label = actor.label
        else:
            delegation.status, delegation.closed_at = DelegationStatus.REJECTED, now
            delegation.closed_reason = reason.strip()
        delegation.save()
        notify.notify([delegation.delegator_id], kind="delegation.decided", now=now,
                      rule=rules.RULE_DELEGATION_APPROVAL, delegation=delegation,
                      text=(_("Your delegation was approved; announce it to the agency.")
                            if approve else _("Your delegation was rejected: %(reason)s") % {
                                "reason": reason.strip() or "—"}))
        record(actor=actor, action="eoffice.delegation.approve" if approve
               else "eoffice.delegation.reject", at=now, target=delegation.target,
               rule=rules.RULE_DELEGATION_APPROVAL, reason=reason.strip())
    return delegation


def do_announce_delegation(*, actor: Actor, delegation_id: int, now: dt.datetime) -> Delegation:
    """The delegator (or a leader or clerk of the agency) announces an approved
    delegation to the whole agency (GL-11): everyone with an eOffice role there gets a
    notice naming the delegate and the period, and the agency mailbox a mail. From then
    (and from its start) the delegation is in force."""
    powers = powers_for(actor, now)
    with transaction.atomic():
        delegation = _locked_delegation(delegation_id)
        if powers.account_id != delegation.delegator_id and powers.seat(
                [*LEADERS, R.CLERK], agency_id=delegation.agency_id, own_only=True) is None:
            raise Forbidden(_("The delegator, a leader or the clerk announces a delegation."))
        if delegation.status != DelegationStatus.APPROVED:
            raise Forbidden(_("Only an approved delegation is announced."),
                            rule=rules.RULE_DELEGATION_APPROVAL)
        delegation.status, delegation.announced_at = DelegationStatus.ANNOUNCED, now
        delegation.save(update_fields=["status", "announced_at"])
        names = dict(Account.objects.filter(
            pk__in=[delegation.delegator_id, delegation.delegate_id])
            .values_list("pk", "address"))
        text = _("%(delegate)s acts for %(delegator)s (%(roles)s) from %(start)s to "
                 "%(end)s.") % {
            "delegate": names[delegation.delegate_id],
            "delegator": names[delegation.delegator_id],
            "roles": ", ".join(str(R(r).label) for r in delegation.roles),
            "start": delegation.starts_at.strftime("%d/%m/%Y %H:%M"),
            "end": delegation.ends_at.strftime("%d/%m/%Y %H:%M")}
        everyone = _agency_members(delegation.agency_id)
        notify.notify(everyone, kind="delegation.announced", now=now,
                      rule=rules.RULE_DELEGATION, delegation=delegation, text=text)
        mailbox = Account.objects.filter(kind=AccountKind.AGENCY,
                                         agency_id=delegation.agency_id).first()
        if mailbox is not None:
            MailOutbox.objects.create(recipients=mailbox.address, subject=_(
                "Delegation of processing rights in eOffice"), body=text,
                rule=rules.RULE_DELEGATION, created_at=now)
        record(actor=actor, action="eoffice.delegation.announce", at=now,
               target=delegation.target, rule=rules.RULE_DELEGATION,
               data={"notified": len(everyone)})
    return delegation


def do_revoke_delegation(*, actor: Actor, delegation_id: int, now: dt.datetime,
                         reason: str = "") -> Delegation:
    """The delegator or a leader ends a delegation early."""
    powers = powers_for(actor, now)
    with transaction.atomic():
        delegation = _locked_delegation(delegation_id)
        if powers.account_id != delegation.delegator_id and powers.seat(
                LEADERS, agency_id=delegation.agency_id, own_only=True) is None:
            raise Forbidden(_("The delegator or a leader revokes a delegation."))
        if delegation.status in (DelegationStatus.REJECTED, DelegationStatus.REVOKED):
            raise Forbidden(_("This delegation has ended already."))
        delegation.status, delegation.closed_at = DelegationStatus.REVOKED, now
        delegation.closed_reason = reason.strip()
        delegation.save()
        notify.notify([delegation.delegate_id], kind="delegation.revoked", now=now,
                      rule=rules.RULE_DELEGATION, delegation=delegation,
                      text=_("A delegation to you was revoked."))
        record(actor=actor, action="eoffice.delegation.revoke", at=now,
               target=delegation.target, rule=rules.RULE_DELEGATION, reason=reason.strip())
    return delegation


# --- notices -----------------------------------------------------------------------------------


def do_mark_notices_read(*, actor: Actor, notice_ids: Sequence[int], now: dt.datetime) -> int:
    """Mark one's own notices read (others' are ignored); not audited: no state of any
    document changes."""
    if actor.account_id is None:
        return 0
    return Notice.objects.filter(pk__in=list(notice_ids), recipient_id=actor.account_id,
                                 read_at__isnull=True).update(read_at=now)
