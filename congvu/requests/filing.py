"""What an agency fills in (KH Mẫu 01/02/03, restore, password re-issue) and its checks.

Everything is checked before anything is written, and every problem names its field
(and its row, numbered like the form's STT column) and, where one applies, the rule, in
words a clerk understands. :func:`validate` returns unsaved items; the action saves them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountKind, AccountState, ReservedName
from congvu.accounts.naming import NamingError, base_local_part, person_agency_abbr
from congvu.accounts.selectors import account_by_address
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_subtree_ids, node_of
from congvu.errors import CongvuError
from congvu.profiles import Profile
from congvu.requests.models import CHANGE_CODES, ItemAction, RequestItem, RequestKind
from congvu.text import fold, split_words

S = AccountState
_LOCAL_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
_PHONE_RE = re.compile(r"^[0-9+().\- ]+$")
_MAX_TEXT = 255
_MAX_REASON = 2000


@dataclass(frozen=True)
class PersonRow:
    """Mẫu 01: a person who needs a mailbox."""

    full_name: str
    position: str = ""
    department: str = ""  # a department or unit of the agency (blank: the agency itself)
    leader: bool = False
    birth_date: dt.date | None = None


@dataclass(frozen=True)
class ChangeRow:
    """Mẫu 02: one change code (1 position, 2 department, 3 address) for one address."""

    address: str
    code: str
    new_value: str
    full_name: str = ""


@dataclass(frozen=True)
class AddressRow:
    """Mẫu 03, restore, password re-issue: an existing address (and, to check, its
    holder's name)."""

    address: str
    full_name: str = ""


@dataclass(frozen=True)
class RequestForm:
    """The whole form. Rows that do not belong to the kind are an error, not ignored."""

    requester_name: str = ""
    requester_position: str = ""
    requester_phone: str = ""
    agency_mailbox: str = ""  # Mẫu 01 item 1: the agency mailbox's abbreviation
    persons: tuple[PersonRow, ...] = ()
    changes: tuple[ChangeRow, ...] = ()
    addresses: tuple[AddressRow, ...] = ()
    reason: str = ""
    effective_date: dt.date | None = None


@dataclass(frozen=True)
class Problem:
    """One thing to fix: ``field`` is machine-readable (``rows[2].full_name``) for the
    console to put the message beside the input; ``message`` is for people."""

    field: str
    message: str
    rule: str = ""


class RequestInvalid(CongvuError):
    """The form has problems; nothing was written. ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.message for p in problems),
                         rule=next((p.rule for p in problems if p.rule), ""))
        self.problems = problems


@dataclass
class Checked:
    """The result of :func:`validate`: the header's values and the unsaved items."""

    requester_name: str
    requester_position: str
    requester_phone: str
    reason: str
    effective_date: dt.date | None
    items: list[RequestItem] = field(default_factory=list)


def _tidy(text: str) -> str:
    return " ".join(split_words(text or ""))


def _same_name(a: str, b: str) -> bool:
    return fold(_tidy(a)) == fold(_tidy(b))


def _row(row: int, label: str, message: str) -> str:
    return _("Row %(row)d, %(field)s: %(message)s") % {"row": row, "field": label,
                                                         "message": message}


def _head(label: str, message: str) -> str:
    return f"{label}: {message}"  # both parts are translated already; nothing to word


class _Checker:
    """Collects problems while building the items of one form."""

    def __init__(self, profile: Profile, agency: Agency, kind: str) -> None:
        self.profile = profile
        self.agency = agency
        self.kind = kind
        self.problems: list[Problem] = []
        self.scope_ids = agency_subtree_ids([agency.pk])
        self._units: list[Agency] | None = None

    def head(self, name: str, label: str, message: str, rule: str = "") -> None:
        self.problems.append(Problem(name, _head(label, message), rule))

    def row(self, n: int, name: str, label: str, message: str, rule: str = "") -> None:
        self.problems.append(Problem(f"rows[{n}].{name}", _row(n, label, message), rule))

    # -- references into the directory and the accounts

    def units(self) -> list[Agency]:
        if self._units is None:
            self._units = list(Agency.objects.filter(id__in=self.scope_ids)
                               .select_related("parent").order_by("account_name"))
        return self._units

    def unit(self, ref: str) -> tuple[Agency | None, str]:
        """The agency itself or one of its departments/units, by account name,
        abbreviation or full name (as a clerk writes it: "Văn phòng"); else a message."""
        key = fold(_tidy(ref))
        found = [u for u in self.units() if u.account_name == key]
        found = found or [u for u in self.units() if u.abbr == key]
        found = found or [u for u in self.units() if fold(_tidy(u.name)) == key]
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, _("%(ref)r could mean %(names)s; write the account name.") % {
                "ref": ref, "names": ", ".join(u.account_name for u in found)}
        names = ", ".join(f"{u.account_name} ({u.name})" for u in self.units()
                          if u.pk != self.agency.pk) or "—"
        return None, _("%(ref)r is not a department or unit of %(agency)s in the directory "
                       "(its units: %(names)s). Ask the operator to add it first.") % {
            "ref": ref, "agency": self.agency.account_name, "names": names}

    def in_scope(self, account: Account) -> bool:
        person = account.person
        return account.agency_id in self.scope_ids or bool(
            person and person.department_id in self.scope_ids)

    def account(self, n: int, address: str, full_name: str) -> Account | None:
        """The account of a row's address, checked against the holder's name if given."""
        label = _("address")
        if not (address or "").strip():
            self.row(n, "address", label, _("required: the mailbox address already issued."))
            return None
        try:
            account = account_by_address(self.profile, address)
        except CongvuError as exc:
            self.row(n, "address", label, exc.message)
            return None
        if full_name.strip():
            holder = account.person.full_name if account.person else ""
            if not _same_name(holder, full_name):
                # The holder's name is not shown: the address may be another agency's.
                self.row(n, "full_name", _("full name"), _(
                    "%(name)r is not the holder of %(address)s; check the row.") % {
                    "name": _tidy(full_name), "address": account.address})
                return None
        return account


def _requester(checker: _Checker, form: RequestForm, filer: Account | None) -> tuple[str, str]:
    person = filer.person if filer else None
    name = _tidy(form.requester_name) or (person.full_name if person else "")
    position = _tidy(form.requester_position) or (person.position if person else "")
    if not name:
        checker.head("requester_name", _("Requester's name"),
                     _("required: the person filing the form (họ và tên người yêu cầu)."))
    elif len(name) > _MAX_TEXT:
        checker.head("requester_name", _("Requester's name"), _("too long."))
    if len(position) > _MAX_TEXT:
        checker.head("requester_position", _("Requester's position"), _("too long."))
    phone = (form.requester_phone or "").strip()
    digits = sum(c.isdigit() for c in phone)
    if phone and (not _PHONE_RE.match(phone) or not 8 <= digits <= 15):
        checker.head("requester_phone", _("Phone"), _(
            "%(phone)r is not a telephone number: use 8 to 15 digits (spaces, + . - allowed), "
            "e.g. 0258 3822 123.") % {"phone": phone})
    return name, position


def _new_mailboxes(c: _Checker, form: RequestForm, now: dt.datetime) -> list[RequestItem]:
    """Mẫu 01 (NB-6.2, KH-4.1, QN-5, NT-5.2a): the agency mailbox and/or persons."""
    items: list[RequestItem] = []
    rule = c.profile.naming.person_rule
    for n, row in enumerate(form.persons, start=1):
        name = _tidy(row.full_name)
        unit: Agency | None = None
        if row.department.strip():
            unit, problem = c.unit(row.department)
            if unit is None:
                c.row(n, "department", _("department or unit"), problem)
        where = unit or c.agency
        try:
            base_local_part(c.profile, name, agency=person_agency_abbr(c.profile, node_of(where)))
        except NamingError as exc:
            c.row(n, "full_name", _("full name"), exc.message, exc.rule or rule)
        position = _tidy(row.position)
        if len(position) > _MAX_TEXT:
            c.row(n, "position", _("position"), _("too long."))
        if row.birth_date and not dt.date(1900, 1, 1) <= row.birth_date <= now.date():
            c.row(n, "birth_date", _("birth date"), _("%(date)s is not a possible birth date.")
                  % {"date": row.birth_date.isoformat()})
        items.append(RequestItem(
            number=n, action=ItemAction.CREATE_PERSON, full_name=name, position=position,
            unit=unit if unit is not None and unit.pk != c.agency.pk else None,
            leader=row.leader, birth_date=row.birth_date))
    if form.agency_mailbox.strip():
        # Numbered after the persons, so row numbers stay those of the form's table.
        box, problem = c.unit(form.agency_mailbox)
        label = _("agency mailbox abbreviation")
        if box is None:
            c.head("agency_mailbox", label, problem)
        elif Account.objects.filter(kind=AccountKind.AGENCY, agency=box).exists():
            c.head("agency_mailbox", label, _("%(agency)s already has its agency mailbox.") % {
                "agency": box.account_name})
        else:
            items.append(RequestItem(number=len(form.persons) + 1, unit=box,
                                     action=ItemAction.CREATE_AGENCY_MAILBOX, full_name=box.name))
    if not form.persons and not form.agency_mailbox.strip():
        c.head("rows", _("Persons"), _("the form lists nobody: add at least one person or the "
                                      "agency mailbox."))
    return items


def _new_local(c: _Checker, n: int, value: str, account: Account) -> str | None:
    label = _("new value")
    text = value.strip().lower()
    domain = "@" + c.profile.mail.domain
    if text.endswith(domain):
        text = text[: -len(domain)]
    if "@" in text:
        c.row(n, "new_value", label, _("the new address must be in %(domain)s.") % {
            "domain": c.profile.mail.domain})
        return None
    if not _LOCAL_RE.match(text) or len(text) > c.profile.naming.max_local_part:
        c.row(n, "new_value", label, _(
            "%(value)r is not a valid address name: use a–z, 0–9 and . _ - between them, at "
            "most %(max)d characters.") % {"value": value,
                                           "max": c.profile.naming.max_local_part})
        return None
    if text == account.local_part:
        c.row(n, "new_value", label, _("%(address)s already has this address.") % {
            "address": account.address})
        return None
    if ReservedName.objects.filter(domain=c.profile.mail.domain, local_part=text).exists():
        c.row(n, "new_value", label, _(
            "%(address)s is in use or reserved (addresses are never reused); choose another.")
            % {"address": f"{text}@{c.profile.mail.domain}"})
        return None
    return text


def _changes(c: _Checker, form: RequestForm) -> list[RequestItem]:
    """Mẫu 02 (KH-4.3): codes 1 position, 2 department, 3 address. A person transferred in
    from another agency is filed by the receiving agency (KH-4.3b): an address outside the
    filer's agency is accepted when the same form moves it (code 2) into the agency."""
    items: list[RequestItem] = []
    accounts: dict[int, Account | None] = {}
    moving_in: set[int] = set()
    seen: dict[tuple[int, int], int] = {}
    for n, row in enumerate(form.changes, start=1):
        account = c.account(n, row.address, row.full_name)
        accounts[n] = account
        code_text = (row.code or "").strip()
        code = int(code_text) if code_text.isdigit() else 0
        if code not in CHANGE_CODES:
            c.row(n, "code", _("change code"), _(
                "%(code)r is not a change code of form 02: 1 = position, 2 = department, "
                "3 = mailbox address.") % {"code": code_text}, "KH-4.3")
            continue
        if account is None:
            continue
        if account.kind != AccountKind.PERSON:
            c.row(n, "address", _("address"), _(
                "%(address)s is not a person's mailbox; form 02 changes a person's details.")
                % {"address": account.address})
            continue
        if account.state in (S.LOCKED, S.DELETED):
            c.row(n, "address", _("address"), _("%(address)s is %(state)s; it can no longer "
                                                "be changed.") % {"address": account.address,
                                                                  "state": account.state})
            continue
        if (account.pk, code) in seen:
            c.row(n, "code", _("change code"), _("row %(other)d already asks this change for "
                                                 "%(address)s.") % {
                "other": seen[(account.pk, code)], "address": account.address})
            continue
        seen[(account.pk, code)] = n
        value = _tidy(row.new_value)
        item = RequestItem(number=n, action=CHANGE_CODES[code], account=account,
                           address=account.address, change_code=code, new_value=value,
                           full_name=account.person.full_name if account.person else "")
        if not value:
            c.row(n, "new_value", _("new value"), _("required: the new position, department "
                                                    "or address."))
            continue
        if code == 1 and len(value) > _MAX_TEXT:
            c.row(n, "new_value", _("new value"), _("too long."))
            continue
        if code == 2:
            unit, problem = c.unit(value)
            if unit is None:
                c.row(n, "new_value", _("new value"), problem)
                continue
            item.new_unit = unit
            moving_in.add(account.pk)
        if code == 3:
            local = _new_local(c, n, value, account)
            if local is None:
                continue
            item.new_value = local
        items.append(item)
    for n, account in accounts.items():
        if account is not None and not c.in_scope(account) and account.pk not in moving_in:
            c.row(n, "address", _("address"), _(
                "%(address)s is not in %(agency)s or its units; only a transfer into the "
                "agency (code 2) may name another agency's address.") % {
                "address": account.address, "agency": c.agency.account_name})
    return items


#: Account states each address-only kind accepts, and the action it leads to.
_ADDRESS_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    RequestKind.DELETION: (ItemAction.LEAVE, (S.ACTIVE, S.SUSPENDED)),
    RequestKind.RESTORE: (ItemAction.RESTORE, (S.SUSPENDED, S.LOCKED)),
    RequestKind.PASSWORD_REISSUE: (ItemAction.RESET_PASSWORD, (S.ACTIVE,)),
}


def _state_problem(kind: str, account: Account) -> str:
    if account.state == S.DELETED:
        return _("%(address)s was deleted; its address stays reserved and cannot come back.") % {
            "address": account.address}
    if kind == RequestKind.RESTORE and account.state == S.ACTIVE:
        return _("%(address)s is active: there is nothing to restore (for a forgotten password, "
                 "file a password re-issue).") % {"address": account.address}
    if kind == RequestKind.PASSWORD_REISSUE and account.state in (S.SUSPENDED, S.LOCKED):
        return _("%(address)s is %(state)s: file a restore request instead (it comes with a "
                 "new password).") % {"address": account.address, "state": account.state}
    if kind == RequestKind.DELETION and account.state == S.LOCKED:
        return _("%(address)s is already locked; its deletion is scheduled.") % {
            "address": account.address}
    return _("%(address)s is %(state)s; this request cannot apply to it.") % {
        "address": account.address, "state": account.state}


def _addresses(c: _Checker, form: RequestForm) -> list[RequestItem]:
    """Mẫu 03 (KH-4.4, NB-7.4, QN-7.1, NT-5.2c), restore (NB-7.3, NT-6.3), password
    re-issue (KH-4.2, QN-6): existing addresses of the agency."""
    action, states = _ADDRESS_KINDS[c.kind]
    items: list[RequestItem] = []
    seen: dict[int, int] = {}
    for n, row in enumerate(form.addresses, start=1):
        account = c.account(n, row.address, row.full_name)
        if account is None:
            continue
        if not c.in_scope(account):
            c.row(n, "address", _("address"), _("%(address)s is not in %(agency)s or its "
                                                "units.") % {
                "address": account.address, "agency": c.agency.account_name})
            continue
        if c.kind == RequestKind.DELETION and account.kind != AccountKind.PERSON:
            c.row(n, "address", _("address"), _(
                "%(address)s is not a person's mailbox; form 03 deletes personal mailboxes.")
                % {"address": account.address})
            continue
        if account.state not in states:
            c.row(n, "address", _("address"), _state_problem(c.kind, account))
            continue
        if account.pk in seen:
            c.row(n, "address", _("address"), _("row %(other)d already lists %(address)s.") % {
                "other": seen[account.pk], "address": account.address})
            continue
        seen[account.pk] = n
        items.append(RequestItem(number=n, action=action, account=account,
                                 address=account.address,
                                 full_name=account.person.full_name if account.person else ""))
    if not form.addresses:
        c.head("rows", _("Addresses"), _("the form lists no address: add at least one."))
    return items


def _other_rows(c: _Checker, form: RequestForm) -> None:
    wrong: Iterable[tuple[str, bool]] = (
        ("persons", bool(form.persons or form.agency_mailbox.strip())
         and c.kind != RequestKind.NEW_MAILBOXES),
        ("changes", bool(form.changes) and c.kind != RequestKind.CHANGE),
        ("addresses", bool(form.addresses) and c.kind not in _ADDRESS_KINDS),
    )
    for name, bad in wrong:
        if bad:
            c.head(name, _("Rows"), _("this kind of request does not take these rows (%(rows)s)."
                                      ) % {"rows": name})


def validate(*, profile: Profile, kind: str, agency: Agency, form: RequestForm,
             filer: Account | None, now: dt.datetime) -> Checked:
    """Check a whole form for ``agency``; raise :class:`RequestInvalid` listing every
    problem, or return the header and the unsaved items."""
    c = _Checker(profile, agency, kind)
    name, position = _requester(c, form, filer)
    reason = (form.reason or "").strip()
    if len(reason) > _MAX_REASON:
        c.head("reason", _("Reason"), _("too long (at most %(n)d characters).") % {
            "n": _MAX_REASON})
    if kind in (RequestKind.DELETION, RequestKind.RESTORE) and not reason:
        c.head("reason", _("Reason"), _("required: say why (e.g. retirement, transfer out of "
                                        "the province; or what caused the suspension)."))
    if kind == RequestKind.DELETION and form.effective_date is None:
        c.head("effective_date", _("Effective date"), _(
            "required: the day the persons leave (the lock and deletion are counted from it)."))
    _other_rows(c, form)
    items: list[RequestItem]
    if kind == RequestKind.NEW_MAILBOXES:
        items = _new_mailboxes(c, form, now)
    elif kind == RequestKind.CHANGE:
        items = _changes(c, form)
        if not form.changes:
            c.head("rows", _("Changes"), _("the form lists no change: add at least one row."))
    else:
        items = _addresses(c, form)
    if c.problems:
        raise RequestInvalid(c.problems)
    return Checked(requester_name=name, requester_position=position,
                   requester_phone=(form.requester_phone or "").strip(), reason=reason,
                   effective_date=form.effective_date if kind == RequestKind.DELETION else None,
                   items=items)
