"""Pure rules of the eOffice: no database, no clock (``now`` and the calendar are given).

- Decree 30/2020/NĐ-CP Phụ lục III: the document types and their abbreviations, the
  copies (SY, TrS, SL); the number and symbol (``Số: 243/QĐ-STTTT``, công văn
  ``Số: 243/STTTT-VP``; Phụ lục I: numbers below 10 get a leading 0); which numbering
  series a document belongs to (general, normative, secret, copies).
- Urgency (độ khẩn) and confidentiality (độ mật) with their official Vietnamese words.
- GL-9: the summary (trích yếu) guidance: "V/v Mời họp" says neither who, when nor what.
- Deadlines in working days: registration and presentation of an incoming document the
  same or the next working day, urgent ones at once (Decree 30 Art. 23, rule ``ND30-23``);
  3 working days per reviewer of a draft unless urgent (GL-10.7).
- The shape of a director's distribution (GL-9.3, GL-9.5) and KH-8.3 (no e-mail for
  documents classified Mật or above).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.errors import CongvuError, Forbidden
from congvu.profiles import Duration
from congvu.text import fold
from congvu.workdays import WorkCalendar, deadline

#: Rule IDs cited by code, tests and the audit log.
RULE_INCOMING = "GL-9"
RULE_SUMMARY = "GL-9.1"
RULE_ASSIGN = "GL-9.3"
RULE_PASS_ON = "GL-9.4"  # noqa: S105 - a rule ID
RULE_STRAIGHT = "GL-9.5"
RULE_FILE = "GL-9.6"
RULE_OUTGOING = "GL-10"
RULE_SUBMIT = "GL-10.1"
RULE_DEPT_REVIEW = "GL-10.2"
RULE_DIRECTOR_REVIEW = "GL-10.4"
RULE_NUMBER = "GL-10.5"
RULE_REVIEW_DAYS = "GL-10.7"
RULE_VERSIONS = "GL-10.8"
RULE_DELEGATION = "GL-11"
RULE_DELEGATION_APPROVAL = "GL-4.5"
RULE_ROLES = "GL-12..15"
RULE_CONFIRM = "GL-15.3"
RULE_REGISTRATION = "ND30-23"
RULE_MAIL_SUBJECT = "KH-7"
RULE_NO_SECRET_MAIL = "KH-8.3"  # noqa: S105 - a rule ID


# --- urgency and confidentiality ----------------------------------------------------------


class Urgency(models.TextChoices):
    """Độ khẩn (Decree 30 Phụ lục I, mục 10b)."""

    NORMAL = "normal", gettext_lazy("Normal (not urgent)")
    URGENT = "khan", gettext_lazy("Urgent")
    VERY_URGENT = "thuong_khan", gettext_lazy("Very urgent")
    FLASH = "hoa_toc", gettext_lazy("Flash (immediate)")


class Confidentiality(models.TextChoices):
    """Độ mật (Law on the protection of State secrets, 2018)."""

    NONE = "none", gettext_lazy("Not classified")
    CONFIDENTIAL = "mat", gettext_lazy("Confidential")
    SECRET = "toi_mat", gettext_lazy("Secret")
    TOP_SECRET = "tuyet_mat", gettext_lazy("Top secret")


#: The official words, printed on documents whatever the interface language.
URGENCY_WORDS: dict[str, str] = {
    Urgency.NORMAL: "Thường", Urgency.URGENT: "Khẩn", Urgency.VERY_URGENT: "Thượng khẩn",
    Urgency.FLASH: "Hỏa tốc",
}
CONFIDENTIALITY_WORDS: dict[str, str] = {
    Confidentiality.NONE: "", Confidentiality.CONFIDENTIAL: "Mật",
    Confidentiality.SECRET: "Tối mật", Confidentiality.TOP_SECRET: "Tuyệt mật",
}
_URGENCY_RANK = {u: i for i, u in enumerate(Urgency.values)}
_SECRECY_RANK = {c: i for i, c in enumerate(Confidentiality.values)}
#: Every level from Mật up (KH-8.3, and the narrower access of README "Authorisation").
CLASSIFIED: tuple[str, ...] = tuple(Confidentiality.values[1:])


def urgency_rank(value: str) -> int:
    return _URGENCY_RANK[value]


def is_urgent(urgency: str) -> bool:
    """Khẩn, Thượng khẩn and Hỏa tốc are urgent; "thường" is not."""
    return _URGENCY_RANK[urgency] > 0


def is_classified(confidentiality: str) -> bool:
    return _SECRECY_RANK[confidentiality] > 0


def parse_urgency(value: str) -> str:
    key = (value or Urgency.NORMAL).strip().lower()
    words = {fold(w).replace(" ", "_"): k for k, w in URGENCY_WORDS.items()}
    key = words.get(fold(key).replace(" ", "_"), key)
    if key not in Urgency.values:
        raise CongvuError(_("Unknown urgency %(value)r. Valid: %(valid)s.") % {
            "value": value, "valid": ", ".join(Urgency.values)})
    return key


def parse_confidentiality(value: str) -> str:
    key = (value or Confidentiality.NONE).strip().lower()
    words = {fold(w).replace(" ", "_"): k for k, w in CONFIDENTIALITY_WORDS.items() if w}
    key = words.get(fold(key).replace(" ", "_"), key)
    if key not in Confidentiality.values:
        raise CongvuError(_("Unknown confidentiality %(value)r. Valid: %(valid)s.") % {
            "value": value, "valid": ", ".join(Confidentiality.values)})
    return key


def may_email(confidentiality: str) -> bool:
    """KH-8.3: documents classified Mật, Tối mật or Tuyệt mật never go by e-mail."""
    return not is_classified(confidentiality)


def require_may_email(confidentiality: str) -> None:
    if not may_email(confidentiality):
        raise Forbidden(_("This document is classified %(level)s: documents classified "
                          "Mật or above are never sent by e-mail (KH-8.3). Send it on paper "
                          "through the confidential channel.") % {
            "level": CONFIDENTIALITY_WORDS[confidentiality]}, rule=RULE_NO_SECRET_MAIL)


# --- document types (Decree 30 Phụ lục III) ------------------------------------------------


class TypeKind(models.TextChoices):
    ADMINISTRATIVE = "administrative"  # văn bản hành chính with an abbreviation
    LETTER = "letter"  # công văn: no type abbreviation in its symbol
    COPY = "copy"  # bản sao


@dataclass(frozen=True)
class DocType:
    key: str
    name: str
    abbr: str
    kind: str = TypeKind.ADMINISTRATIVE
    #: May be a normative document (văn bản quy phạm pháp luật) of a local authority.
    may_be_normative: bool = False


#: Decree 30/2020/NĐ-CP Art. 7 and Phụ lục III (Bảng chữ viết tắt tên loại văn bản và
#: bản sao), in the decree's order; công văn has no abbreviation (its symbol is the
#: agency's and the drafting unit's). Thư công, which bears no number, is not listed.
DOC_TYPES: tuple[DocType, ...] = (
    DocType("nghi-quyet", "Nghị quyết", "NQ", may_be_normative=True),
    DocType("quyet-dinh", "Quyết định", "QĐ", may_be_normative=True),
    DocType("chi-thi", "Chỉ thị", "CT"),
    DocType("quy-che", "Quy chế", "QC"),
    DocType("quy-dinh", "Quy định", "QyĐ"),
    DocType("thong-cao", "Thông cáo", "TC"),
    DocType("thong-bao", "Thông báo", "TB"),
    DocType("huong-dan", "Hướng dẫn", "HD"),
    DocType("chuong-trinh", "Chương trình", "CTr"),
    DocType("ke-hoach", "Kế hoạch", "KH"),
    DocType("phuong-an", "Phương án", "PA"),
    DocType("de-an", "Đề án", "ĐA"),
    DocType("du-an", "Dự án", "DA"),
    DocType("bao-cao", "Báo cáo", "BC"),
    DocType("bien-ban", "Biên bản", "BB"),
    DocType("to-trinh", "Tờ trình", "TTr"),
    DocType("hop-dong", "Hợp đồng", "HĐ"),
    DocType("cong-van", "Công văn", "", TypeKind.LETTER),
    DocType("cong-dien", "Công điện", "CĐ"),
    DocType("ban-ghi-nho", "Bản ghi nhớ", "BGN"),
    DocType("ban-thoa-thuan", "Bản thỏa thuận", "BTT"),
    DocType("giay-uy-quyen", "Giấy ủy quyền", "GUQ"),
    DocType("giay-moi", "Giấy mời", "GM"),
    DocType("giay-gioi-thieu", "Giấy giới thiệu", "GGT"),
    DocType("giay-nghi-phep", "Giấy nghỉ phép", "GNP"),
    DocType("phieu-gui", "Phiếu gửi", "PG"),
    DocType("phieu-chuyen", "Phiếu chuyển", "PC"),
    DocType("phieu-bao", "Phiếu báo", "PB"),
    DocType("sao-y", "Bản sao y", "SY", TypeKind.COPY),
    DocType("trich-sao", "Bản trích sao", "TrS", TypeKind.COPY),
    DocType("sao-luc", "Bản sao lục", "SL", TypeKind.COPY),
)
#: An incoming document may be of a type no local agency issues (a law, a decree…).
OTHER_TYPE = DocType("khac", "Loại khác", "", TypeKind.ADMINISTRATIVE)
_BY_KEY = {t.key: t for t in DOC_TYPES}
_BY_ABBR = {fold(t.abbr): t for t in DOC_TYPES if t.abbr}
TYPE_CHOICES = [(t.key, t.name) for t in DOC_TYPES]
INCOMING_TYPE_CHOICES = [*TYPE_CHOICES, (OTHER_TYPE.key, OTHER_TYPE.name)]


def doc_type(key: str, *, incoming: bool = False) -> DocType:
    """A type by its key (``quyet-dinh``), its abbreviation (``QĐ``, ``qd``) or its name."""
    text = (key or "").strip()
    found = _BY_KEY.get(text.lower()) or _BY_ABBR.get(fold(text))
    if found is None:
        found = next((t for t in DOC_TYPES if fold(t.name) == fold(text)), None)
    if found is None and incoming and fold(text) in (OTHER_TYPE.key, fold(OTHER_TYPE.name)):
        found = OTHER_TYPE
    if found is None:
        raise CongvuError(_("Unknown document type %(value)r; use a Decree 30 type such as "
                            "quyet-dinh (QĐ), cong-van or to-trinh (TTr).") % {"value": key})
    return found


# --- number series and the number itself ------------------------------------------------------


class Series(models.TextChoices):
    """A register's numbering series (each restarts at 1 on 1 January, per agency)."""

    INCOMING = "incoming", gettext_lazy("Incoming documents")
    GENERAL = "general", gettext_lazy("Outgoing documents")
    NORMATIVE = "normative", gettext_lazy("Normative documents")
    SECRET = "secret", gettext_lazy("Classified documents")
    COPY = "copy", gettext_lazy("Copies")


def series_for(type_key: str, confidentiality: str, normative: bool) -> str:
    """Which series numbers an outgoing document: copies (SY, TrS, SL) share one series,
    classified documents (Mật or above) have their own, so do normative documents; the
    rest share the general series."""
    kind = doc_type(type_key)
    if normative and is_classified(confidentiality):
        raise CongvuError(_("A normative document is published; it cannot be classified."))
    if normative and not kind.may_be_normative:
        raise CongvuError(_("Only a Nghị quyết or a Quyết định can be a normative document "
                            "(got %(type)s).") % {"type": kind.name})
    if kind.kind == TypeKind.COPY:
        return Series.COPY
    if is_classified(confidentiality):
        return Series.SECRET
    return Series.NORMATIVE if normative else Series.GENERAL


_SYMBOL_RE = re.compile(r"^[A-ZĐ][A-ZĐ0-9]{0,19}$")


def check_symbol(symbol: str) -> str:
    """An agency's or unit's abbreviation as used in document symbols (``STTTT``, ``VP``)."""
    value = (symbol or "").strip().upper()
    if not _SYMBOL_RE.match(value):
        raise CongvuError(_("Invalid abbreviation %(value)r: capital letters (Đ allowed) and "
                            "digits, at most 20, e.g. STTTT or VP.") % {"value": symbol})
    return value


def number_digits(number: int) -> str:
    """Arabic digits, with a leading 0 below 10 (Decree 30 Phụ lục I: ``01``, ``243``)."""
    if number < 1:
        raise CongvuError(_("A document number starts at 1 (got %(n)d).") % {"n": number})
    return f"{number:02d}"


def document_symbol(type_key: str, agency_symbol: str, unit_symbol: str = "") -> str:
    """The ký hiệu: ``QĐ-STTTT``; công văn ``STTTT-VP`` (agency, then drafting unit)."""
    kind = doc_type(type_key)
    agency = check_symbol(agency_symbol)
    if kind.kind == TypeKind.LETTER:
        return f"{agency}-{check_symbol(unit_symbol)}" if unit_symbol else agency
    return f"{kind.abbr}-{agency}"


def number_and_symbol(number: int, type_key: str, agency_symbol: str, unit_symbol: str = "",
                      *, normative_year: int | None = None) -> str:
    """``243/QĐ-STTTT``; a normative document carries its year: ``12/2026/QĐ-UBND``."""
    symbol = document_symbol(type_key, agency_symbol, unit_symbol)
    if normative_year is not None:
        return f"{number_digits(number)}/{normative_year}/{symbol}"
    return f"{number_digits(number)}/{symbol}"


def format_number(number: int, type_key: str, agency_symbol: str, unit_symbol: str = "",
                  *, normative_year: int | None = None) -> str:
    """The line printed on the document: ``Số: 243/QĐ-STTTT`` (GL seed's own header)."""
    return "Số: " + number_and_symbol(number, type_key, agency_symbol, unit_symbol,
                                      normative_year=normative_year)


_NUMBER_SYMBOL_SPACE = re.compile(r"\s+")


def number_symbol_key(text: str) -> str:
    """``Số: 123/QĐ-UBND`` → ``123/QD-UBND``: the comparison key of duplicates (GL-9)."""
    value = _NUMBER_SYMBOL_SPACE.sub("", fold(text or "")).upper()
    value = re.sub(r"^(SO:?|S:)", "", value)
    return re.sub(r"^0+(?=\d)", "", value)


def issuer_key(text: str) -> str:
    """The comparison key of an issuing agency: folded, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text or "")).split())


def search_text(*parts: str) -> str:
    """What the search looks in: folded (no tone marks), lowercase, single-spaced."""
    return " ".join(" ".join(fold(p or "").split()) for p in parts if p).strip()


# --- the summary (trích yếu), GL-9.1 -------------------------------------------------------


@dataclass(frozen=True)
class SummaryHint:
    code: str
    message: str


_GENERIC = re.compile(r"^(v/v|v\.v\.?|ve viec)\s*[:.\-]?\s*(\S+\s*){0,3}$")
_MEETING = re.compile(r"\b(moi hop|hop ve|giay moi|moi du|moi tham du|to chuc hop)\b")
_WHEN = re.compile(r"(\d{1,2}\s*[/.\-]\s*\d{1,2})|\bngay\s+\d|\b\d{1,2}\s*(h|gio)\b|\bluc\s+\d"
                   r"|\bthu\s+(hai|ba|tu|nam|sau|bay)\b|\bchu nhat\b|\bsang\b|\bchieu\b")
_WHAT = re.compile(r"\b(ve|v/v|de|ban|trien khai|gop y|xem xet)\b")


def summary_hints(summary: str, *, min_words: int = 6) -> list[SummaryHint]:
    """GL-9.1: a summary says who, when and what: not "V/v Mời họp" but "UBND tỉnh mời
    họp ngày 15/3 về việc triển khai …". Hints only: the form shows them, the clerk may
    keep the text (some documents do have short summaries)."""
    text = " ".join(fold(summary or "").split())
    if not text:
        return [SummaryHint("empty", _("The summary (trích yếu) is required."))]
    if _GENERIC.match(text):
        return [SummaryHint("generic", _(
            "The summary is too general: say who, when and what (GL-9.1), e.g. \"UBND tỉnh "
            "mời họp ngày 15/3 về việc triển khai …\", not \"V/v Mời họp\"."))]
    hints: list[SummaryHint] = []
    if len(text.split()) < min_words:
        hints.append(SummaryHint("short", _(
            "The summary has fewer than %(n)d words; describe the document so it can be "
            "found later (GL-9.1).") % {"n": min_words}))
    if _MEETING.search(text):
        if not _WHEN.search(text):
            hints.append(SummaryHint("no_when", _(
                "An invitation to a meeting: give its date and time in the summary (GL-9.1).")))
        if not _WHAT.search(text.replace("moi hop", "")):
            hints.append(SummaryHint("no_what", _(
                "An invitation to a meeting: say what the meeting is about (\"về việc …\", "
                "GL-9.1).")))
    return hints


def clean_summary(summary: str) -> str:
    value = " ".join((summary or "").split())
    if not value:
        raise CongvuError(_("The summary (trích yếu) is required."), rule=RULE_SUMMARY)
    return value


# --- deadlines in working days ------------------------------------------------------------------


def working_deadline(calendar: WorkCalendar, start: dt.datetime, days: int) -> dt.datetime:
    """The end of the last office period of the ``days``-th working day after ``start``'s
    day; ``days = 0`` is the end of ``start``'s day, or of the next working day when
    ``start`` falls on a day off."""
    if days == 0:
        local = calendar.to_local(start)
        day = local.date()
        if not calendar.is_working_day(day):
            day = calendar.next_working_day(day)
        return calendar.from_local(calendar.office_day_end(day), start)
    return deadline(calendar, start, Duration(days, "days", working=True))


def span_days(span: Duration) -> int:
    if not span.working or span.unit != "days":
        raise CongvuError(_("eOffice deadlines are counted in working days (got %(span)s).")
                          % {"span": span})
    return span.amount


def registration_due(calendar: WorkCalendar, received_at: dt.datetime, urgency: str,
                     span: Duration) -> dt.datetime:
    """Decree 30 Art. 23 (``ND30-23``): an incoming document is registered and presented
    the same or at the latest the next working day; an urgent one at once (the end of the
    day of receipt, or of the next working day if it arrived on a day off)."""
    return working_deadline(calendar, received_at, 0 if is_urgent(urgency) else span_days(span))


def review_due(calendar: WorkCalendar, received_at: dt.datetime, urgency: str, *,
               span: Duration, urgent_span: Duration,
               document_deadline: dt.date | None = None) -> dt.datetime:
    """GL-10.7: a reviewer (department head, director) answers within 3 working days of
    receiving a draft (``span``), unless it is urgent: then within ``urgent_span``, or by
    the draft's own deadline when that comes first."""
    if not is_urgent(urgency):
        return working_deadline(calendar, received_at, span_days(span))
    due = working_deadline(calendar, received_at, span_days(urgent_span))
    if document_deadline is not None:
        own = calendar.from_local(calendar.office_day_end(document_deadline), received_at)
        if received_at <= own < due:
            return own
    return due


def end_of_day(calendar: WorkCalendar, day: dt.date, like: dt.datetime) -> dt.datetime:
    """A deadline date as a moment: the end of that day's office hours."""
    return calendar.from_local(calendar.office_day_end(day), like)


def local_date(calendar: WorkCalendar, moment: dt.datetime) -> dt.date:
    return calendar.to_local(moment).date()


# --- distributions (GL-9.3, GL-9.4, GL-9.5) --------------------------------------------------


class AssignmentKind(models.TextChoices):
    HANDLE = "handle", gettext_lazy("Handle")  # xử lý (several departments at once, or a person)
    LEAD = "lead", gettext_lazy("Lead")  # chủ trì
    COORDINATE = "coordinate", gettext_lazy("Coordinate")  # phối hợp
    INFORM = "inform", gettext_lazy("For information")  # để biết


#: Kinds whose completion completes the document (coordination and information do not).
ACTIONABLE = (AssignmentKind.HANDLE, AssignmentKind.LEAD)


def check_distribution(kinds_and_targets: Sequence[tuple[str, str]], *,
                       passing_on: bool = False) -> None:
    """The shape of one distribution: ``(kind, target)`` pairs, target a unique key such
    as ``d:12`` (department) or ``p:7`` (person).

    GL-9.3: either several departments handle at once, or one lead (chủ trì) with
    coordinating (phối hợp) ones; anyone may also get it for information. A document
    goes to each target once in a distribution. GL-9.4: a department head passes on to
    handlers (with coordinating colleagues) or for information; the department itself
    already leads or coordinates, so there is no lead below it.
    """
    if not kinds_and_targets:
        raise CongvuError(_("Choose at least one department or person."), rule=RULE_ASSIGN)
    kinds = [k for k, _t in kinds_and_targets]
    for k in kinds:
        if k not in AssignmentKind.values:
            raise CongvuError(_("Unknown kind of assignment %(kind)r.") % {"kind": k})
    targets = [t for _k, t in kinds_and_targets]
    if len(set(targets)) != len(targets):
        raise CongvuError(_("The same department or person appears twice; give each one "
                            "role only."), rule=RULE_ASSIGN)
    if passing_on:
        if AssignmentKind.LEAD in kinds:
            raise CongvuError(_("Within a department the document is handled, coordinated or "
                                "read for information; the lead is the department itself."),
                              rule=RULE_PASS_ON)
        if AssignmentKind.COORDINATE in kinds and AssignmentKind.HANDLE not in kinds:
            raise CongvuError(_("Coordinating colleagues need someone who handles the "
                                "document."), rule=RULE_PASS_ON)
        return
    leads = kinds.count(AssignmentKind.LEAD)
    if leads > 1:
        raise CongvuError(_("Only one department or person leads (chủ trì) a document; the "
                            "others coordinate (phối hợp)."), rule=RULE_ASSIGN)
    if leads and AssignmentKind.HANDLE in kinds:
        raise CongvuError(_("Either several departments handle the document at once, or one "
                            "leads with others coordinating: not both."), rule=RULE_ASSIGN)
    if AssignmentKind.COORDINATE in kinds and not leads:
        raise CongvuError(_("Coordinating (phối hợp) departments need a lead (chủ trì)."),
                          rule=RULE_ASSIGN)
