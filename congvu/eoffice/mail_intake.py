"""Handing an official e-mail over to the clerks' intake (GL-9: electronic documents
arriving by official e-mail are registered like the others): the RFC 822 message is
parsed, its PDF becomes an incoming document received by e-mail (channel ``email``),
waiting in the intake to be registered (``ND30-23`` counts from its arrival).

Decisions (documented here because the pages and the webmail plugin rely on them):

- The document is a PDF attachment (``[eoffice] incoming_pdf_only``; KH-8.4: the legal
  document is the signed file, not the mail's text). A message without one is refused
  with a clear error; with several, the first is taken unless another is chosen (the
  console's preview offers the choice) and the others are named in the preview.
- Prefilled, all correctable when the clerk registers it: the issuer from the sender's
  agency in the directory when the sender is an address of the deployment's domain
  (else the sender's display name or address); the summary from the subject (``Fwd:``,
  ``Re:`` prefixes dropped); number and symbol, type and urgency when the subject or the
  file name carries them; the arrival from the topmost ``Received:`` header (our own
  server's stamp), else ``Date:``, never later than now.
- The same message (its ``Message-ID``, or the whole message's SHA-256 when it has
  none) is handed over once per agency; a second time is refused, naming the document
  it became. The record is the hand-over's own audit event (target ``mail:<agency>:<hash>``,
  indexed), written in the same transaction as the document, under a lock on the agency.
- Limits: the message at most twice ``max_file_mb`` (base64 grows a file by a third),
  at most 100 MIME parts nested at most 8 deep; malformed MIME (no boundary, broken
  base64 in the PDF) is refused naming the problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from email import policy
from email.errors import (
    CloseBoundaryNotFoundDefect,
    InvalidBase64CharactersDefect,
    InvalidBase64LengthDefect,
    InvalidBase64PaddingDefect,
    MessageDefect,
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, Alias
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.audit.models import AuditEvent
from congvu.directory.models import Agency, AgencyKind
from congvu.eoffice import files, rules
from congvu.eoffice.access import powers_for
from congvu.eoffice.actions import IncomingForm, do_receive_incoming
from congvu.eoffice.models import Channel, IncomingDocument, OfficeRole
from congvu.eoffice.params import EofficeParams, deployment_params
from congvu.errors import CongvuError, Forbidden
from congvu.profiles import Profile
from congvu.text import fold

ACTION = "eoffice.incoming.mail_handover"
MAX_PARTS = 100
MAX_DEPTH = 8
_BROKEN = (NoBoundaryInMultipartDefect, StartBoundaryNotFoundDefect,
           CloseBoundaryNotFoundDefect, MultipartInvariantViolationDefect)
_BAD_BASE64 = (InvalidBase64CharactersDefect, InvalidBase64LengthDefect,
               InvalidBase64PaddingDefect)
_PREFIX = re.compile(r"^\s*((re|fw|fwd|tl|tr|chuyen tiep|tra loi)\s*:\s*)+", re.IGNORECASE)
_NUMBER_SYMBOL = re.compile(
    r"(?<![\w/])(\d{1,6}(?:/\d{4})?/[A-ZĐ][A-Za-zĐđ]{0,9}(?:-[A-ZĐ][A-Za-zĐđ0-9]{0,14})+)")
_URGENCY = (("hỏa tốc", rules.Urgency.FLASH), ("hoả tốc", rules.Urgency.FLASH),
            ("thượng khẩn", rules.Urgency.VERY_URGENT), ("khẩn", rules.Urgency.URGENT))


def max_message_bytes(params: EofficeParams) -> int:
    return 2 * params.max_file_mb * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    """What the intake needs of a message."""

    message_id: str
    #: SHA-256 (hex) of the Message-ID, or of the whole message when it has none.
    identity: str
    sender: str
    sender_name: str
    subject: str
    arrived_at: dt.datetime | None
    recipients: tuple[str, ...]
    pdfs: tuple[Attachment, ...]
    #: Names of the other attachments (not taken).
    others: tuple[str, ...]
    text: str = ""
    defects: tuple[str, ...] = field(default_factory=tuple)


def _error(text: str) -> CongvuError:
    return CongvuError(_("The e-mail cannot be read: %(problem)s") % {"problem": text},
                       rule=rules.RULE_INCOMING)


def parse(raw: bytes, *, params: EofficeParams) -> ParsedMail:
    """Parse ``raw`` (an RFC 822 message: an ``.eml`` file, or what IMAP gives) safely."""
    limit = max_message_bytes(params)
    if not raw.strip():
        raise _error(_("the file is empty."))
    if len(raw) > limit:
        raise _error(_("it is larger than %(max)d MB.") % {"max": limit // 2**20})
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        return _read(msg, raw)
    except CongvuError:
        raise
    except Exception as exc:  # the parser and header classes raise many kinds
        raise _error(_("it is not a valid e-mail message (%(error)s).") % {
            "error": type(exc).__name__}) from exc


def _read(msg: Message, raw: bytes) -> ParsedMail:
    if not (msg.get("From") or msg.get("Message-ID") or msg.get("Subject")):
        raise _error(_("it has no From, Subject or Message-ID header; save the message "
                       "as an .eml file from the mail client."))
    parts: list[tuple[Message, int]] = []
    _walk(msg, 0, parts)
    broken = [d for p, _depth in parts for d in p.defects if isinstance(d, _BROKEN)]
    if broken:
        raise _error(_("its MIME structure is broken (%(defect)s).") % {
            "defect": type(broken[0]).__name__})
    pdfs: list[Attachment] = []
    others: list[str] = []
    text = ""
    for part, _depth in parts:
        if part.is_multipart():
            continue
        name = _filename(part)
        ctype = part.get_content_type()
        if name or part.get_content_disposition() == "attachment":
            ext = files.extension(name or "")
            if ext == "pdf" or (ctype == "application/pdf" and not ext):
                pdfs.append(_pdf(part, name or f"van-ban-{len(pdfs) + 1}.pdf"))
            else:
                others.append(name or ctype)
        elif ctype == "text/plain" and not text:
            text = _text(part)
    message_id = str(msg.get("Message-ID", "") or "").strip()
    key = message_id.lower() if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()
    sender_name, sender = parseaddr(str(msg.get("From", "") or ""))
    recipients = [a.lower() for _n, a in getaddresses(
        [str(v) for h in ("Delivered-To", "X-Original-To", "To", "Cc")
         for v in msg.get_all(h, [])]) if "@" in a]
    return ParsedMail(
        message_id=message_id, identity=hashlib.sha256(key.encode()).hexdigest(),
        sender=sender.lower(), sender_name=sender_name,
        subject=" ".join(str(msg.get("Subject", "") or "").split()),
        arrived_at=_arrival(msg), recipients=tuple(dict.fromkeys(recipients)),
        pdfs=tuple(pdfs), others=tuple(others), text=text[:2000])


def _walk(part: Message, depth: int, out: list[tuple[Message, int]]) -> None:
    if depth > MAX_DEPTH:
        raise _error(_("its parts are nested more than %(n)d deep.") % {"n": MAX_DEPTH})
    out.append((part, depth))
    if len(out) > MAX_PARTS:
        raise _error(_("it has more than %(n)d parts.") % {"n": MAX_PARTS})
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _walk(sub, depth + 1, out)


def _filename(part: Message) -> str:
    name = part.get_filename() or ""
    return PurePosixPath(str(name).replace("\\", "/")).name.strip()[:200]


def _pdf(part: Message, name: str) -> Attachment:
    content = part.get_payload(decode=True)
    bad = [d for d in part.defects if isinstance(d, _BAD_BASE64)]
    if bad or not isinstance(content, bytes):
        raise _error(_("the attachment %(name)s is damaged (its encoding is broken).") % {
            "name": name})
    return Attachment(name if name.lower().endswith(".pdf") else name + ".pdf", content)


def _text(part: Message) -> str:
    try:
        if isinstance(part, EmailMessage):
            return str(part.get_content())
    except (LookupError, ValueError, MessageDefect):
        pass
    return ""


def _arrival(msg: Message) -> dt.datetime | None:
    """Our own server's stamp (the topmost Received: header), else the sender's Date:."""
    stamps = [str(v).rsplit(";", 1)[1] for v in msg.get_all("Received", [])
              if ";" in str(v)][:1]
    for value in [*stamps, str(msg.get("Date", "") or "")]:
        try:
            moment = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            continue
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(dt.UTC)
    return None


# --- what the intake is prefilled with -------------------------------------------------------


def _official_agency(address: str, profile: Profile) -> Agency | None:
    """The agency of an address of the deployment's domain (an account or an alias):
    the agency itself for an agency mailbox, the person's agency for a person; a
    department's mail is its agency's (the issuer is the cơ quan)."""
    if not address.endswith("@" + profile.mail.domain.lower()):
        return None
    account = (Account.objects.filter(address__iexact=address)
               .select_related("agency", "person__agency").first())
    if account is None:
        alias = Alias.objects.filter(address__iexact=address).select_related(
            "account__agency", "account__person__agency").first()
        account = alias.account if alias else None
    if account is None:
        return None
    agency = account.person.agency if account.person_id and account.person else account.agency
    while agency is not None and agency.kind == AgencyKind.DEPARTMENT and agency.parent_id:
        agency = agency.parent
    return agency


def _guess_type(subject: str) -> str:
    folded = fold(subject)
    for t in sorted(rules.DOC_TYPES, key=lambda t: -len(t.name)):
        if folded.startswith(fold(t.name)):
            return t.key
    return "cong-van"


def _guess_urgency(subject: str) -> str:
    lower = subject.lower()
    for words, level in _URGENCY:
        if words in lower:
            return str(level)
    return str(rules.Urgency.NORMAL)


def summary_of(subject: str) -> str:
    """The subject without reply/forward prefixes (KH-7: the sender's subject is the
    document's summary)."""
    cleaned = subject
    match = _PREFIX.match(fold(subject))
    if match:
        cleaned = subject[match.end():]
    return " ".join(cleaned.split())


def prefill(mail: ParsedMail, *, profile: Profile, now: dt.datetime,
            attachment: int = 0) -> IncomingForm:
    """The Decree 30 fields the message gives (see the module's notes)."""
    if not mail.pdfs:
        raise CongvuError(_("The e-mail has no PDF attachment: only a PDF (the signed "
                            "document) is registered. Ask the sender for the PDF, or "
                            "register the paper copy."), rule=rules.RULE_INCOMING)
    chosen = mail.pdfs[attachment if 0 <= attachment < len(mail.pdfs) else 0]
    agency = _official_agency(mail.sender, profile)
    issuer = agency.name if agency else (mail.sender_name or mail.sender)
    summary = summary_of(mail.subject) or PurePosixPath(chosen.name).stem
    found = _NUMBER_SYMBOL.search(mail.subject) or _NUMBER_SYMBOL.search(chosen.name)
    arrived = mail.arrived_at if mail.arrived_at and mail.arrived_at <= now else now
    return IncomingForm(issuer=issuer[:255], summary=summary, doc_type=_guess_type(summary),
                        number_symbol=found.group(1) if found else "",
                        urgency=_guess_urgency(mail.subject), channel=Channel.EMAIL,
                        received_at=arrived)


# --- which agency, and once only ---------------------------------------------------------------


def clerk_agencies(actor: Actor, now: dt.datetime) -> list[Agency]:
    """The agencies where the actor may receive documents (a clerk's seat)."""
    ids = powers_for(actor, now).agencies(OfficeRole.CLERK)
    return list(Agency.objects.filter(pk__in=ids).order_by("name"))


def choose_agency(actor: Actor, mail: ParsedMail, now: dt.datetime,
                  agency_id: int | None = None) -> Agency:
    """The agency the message is handed to: the one asked for, else the one among the
    actor's clerk seats whose official mailbox received it, else the only one."""
    mine = clerk_agencies(actor, now)
    if not mine:
        raise Forbidden(_("Only the agency's clerk receives documents."),
                        rule=rules.RULE_ROLES)
    if agency_id is not None:
        for agency in mine:
            if agency.pk == agency_id:
                return agency
        raise Forbidden(_("You are not a clerk of that agency."), rule=rules.RULE_ROLES)
    if len(mine) == 1:
        return mine[0]
    boxes = dict(Account.objects.filter(address__in=mail.recipients,
                                        agency_id__in=[a.pk for a in mine])
                 .values_list("agency_id", "address"))
    matching = [a for a in mine if a.pk in boxes]
    if len(matching) == 1:
        return matching[0]
    raise CongvuError(_("You are a clerk of several agencies: choose the one that "
                        "received this e-mail."))


def _target(agency_id: int, identity: str) -> str:
    return f"mail:{agency_id}:{identity}"


def handed_over(agency_id: int, mail: ParsedMail) -> tuple[IncomingDocument, dt.datetime] | None:
    """The document this message already became in that agency, and when, if any."""
    event = (AuditEvent.objects.filter(action=ACTION, target=_target(agency_id, mail.identity))
             .order_by("id").first())
    if event is None:
        return None
    doc = IncomingDocument.objects.filter(pk=event.data.get("incoming")).first()
    return (doc, event.at) if doc is not None else None


def _refuse_twice(doc: IncomingDocument, when: dt.datetime, profile: Profile) -> CongvuError:
    local = when.astimezone(ZoneInfo(profile.timezone)).strftime("%d/%m/%Y %H:%M")
    return CongvuError(_("This e-mail was already handed over on %(when)s: it is incoming "
                         "document #%(id)s. It is not received twice.") % {
        "when": local, "id": doc.pk}, rule=rules.RULE_REGISTRATION)


def do_hand_over_mail(*, actor: Actor, profile: Profile, raw: bytes, now: dt.datetime,
                      agency_id: int | None = None, attachment: int = 0,
                      changes: dict[str, object] | None = None,
                      params: EofficeParams | None = None) -> IncomingDocument:
    """The one click: the message's PDF received into the agency's intake by the clerk
    ``actor`` (``do_receive_incoming`` checks the seat and writes the document), with
    the hand-over audited and recorded against the message's identity, in one
    transaction. ``changes`` are fields the clerk corrected in the preview."""
    p = params if params is not None else deployment_params(profile)
    mail = parse(raw, params=p)
    form = prefill(mail, profile=profile, now=now, attachment=attachment)
    if changes:
        form = replace(form, **changes)  # type: ignore[arg-type]
    chosen = mail.pdfs[attachment if 0 <= attachment < len(mail.pdfs) else 0]
    with transaction.atomic():
        agency = choose_agency(actor, mail, now, agency_id)
        # One hand-over of a message per agency at a time: the check and the write
        # are serialised on the agency's row.
        Agency.objects.select_for_update().filter(pk=agency.pk).first()
        existing = handed_over(agency.pk, mail)
        if existing is not None:
            raise _refuse_twice(*existing, profile)
        doc = do_receive_incoming(actor=actor, profile=profile, agency_id=agency.pk,
                                  form=form, upload=files.Upload(chosen.name, chosen.content),
                                  now=now, params=p)
        record(actor=actor, action=ACTION, at=now, target=_target(agency.pk, mail.identity),
               rule=rules.RULE_INCOMING,
               data={"incoming": doc.pk, "message_id": mail.message_id[:300],
                     "from": mail.sender, "file": chosen.name,
                     "others": list(mail.others) + [a.name for a in mail.pdfs if a != chosen]})
    return doc


# --- the console's preview: the uploaded message kept between two requests --------------------


STASH_DIR = "eoffice/mail-intake"
STASH_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _stash_dir() -> Path:
    from congvu import deployment

    return deployment.home() / STASH_DIR


def stash(raw: bytes, account_id: int) -> str:
    """Keep an uploaded message for its preview (an hour, its uploader only); returns
    the token the confirmation sends back."""
    folder = _stash_dir()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for old in folder.glob("*.json"):  # forget what was never confirmed
        if old.stat().st_mtime < time.time() - STASH_SECONDS:
            old.unlink(missing_ok=True)
            old.with_suffix(".eml").unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.eml").write_bytes(raw)
    (folder / f"{token}.json").write_text(json.dumps({"account": account_id}), "utf-8")
    return token


def unstash(token: str, account_id: int) -> bytes:
    """The message kept under ``token`` for this account, or a clear error."""
    folder = _stash_dir()
    meta = folder / f"{token}.json"
    gone = CongvuError(_("The uploaded e-mail is no longer kept (after an hour, or it was "
                         "already handed over): upload it again."))
    if not _TOKEN.match(token or "") or not meta.is_file():
        raise gone
    if meta.stat().st_mtime < time.time() - STASH_SECONDS:
        raise gone
    if json.loads(meta.read_text("utf-8")).get("account") != account_id:
        raise gone
    return (folder / f"{token}.eml").read_bytes()


def discard(token: str) -> None:
    if _TOKEN.match(token or ""):
        folder = _stash_dir()
        (folder / f"{token}.json").unlink(missing_ok=True)
        (folder / f"{token}.eml").unlink(missing_ok=True)
