"""The console's filing forms (KH Mẫu 01/02/03, restore, password re-issue): a header
and a table of rows, as Django forms.

They only read what the browser sends (text, dates, the rows typed): every rule is the
domain's (:mod:`congvu.requests.filing`), whose problems are put back beside their
field or table cell by :meth:`FilingForms.attach`. Blank rows are dropped and the rest
renumbered before anything is checked, so the row numbers in the domain's messages are
those on the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.forms.utils import ErrorList
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.directory.models import Agency
from congvu.requests.filing import (
    AddressRow,
    ChangeRow,
    PersonRow,
    Problem,
    RequestForm,
)
from congvu.requests.models import RequestKind

#: Blank rows a new form offers, and how many "add more rows" adds without JavaScript.
BLANK_ROWS = 3
#: The most rows one form takes (a larger table is a CSV for the operator's import).
MAX_ROWS = 200
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]
_ROW_KEY = re.compile(r"^row-(\d{1,4})-([a-z_]+)$")

K = RequestKind


def _text(label: Any, *, maxlength: int = 255, **attrs: Any) -> forms.CharField:
    """A text field checked by the domain, not here (its messages name the rule)."""
    return forms.CharField(required=False, label=label, strip=True,
                           widget=forms.TextInput(attrs={"maxlength": maxlength, **attrs}))


def _date(label: Any) -> forms.DateField:
    return forms.DateField(required=False, label=label, input_formats=DATE_FORMATS,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class HeaderForm(forms.Form):
    """The form's header: the agency, the requester, and what the kind adds (Mẫu 01:
    the agency mailbox; Mẫu 03: the reason and the day the persons leave; restore: the
    reason)."""

    agency = forms.CharField(required=False, label=gettext_lazy("Agency"))
    requester_name = _text(gettext_lazy("Requester's name"), autocomplete="name")
    requester_position = _text(gettext_lazy("Requester's position"),
                               autocomplete="organization-title")
    requester_phone = _text(gettext_lazy("Phone"), maxlength=32, type="tel",
                            autocomplete="tel", inputmode="tel")
    agency_mailbox = _text(gettext_lazy("Agency mailbox (abbreviation)"), maxlength=64)
    reason = forms.CharField(required=False, label=gettext_lazy("Reason"),
                             widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}))
    effective_date = _date(gettext_lazy("Effective date"))

    def __init__(self, *args: Any, kind: str, agencies: list[Agency] | None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind != K.NEW_MAILBOXES:
            del self.fields["agency_mailbox"]
        if kind not in (K.DELETION, K.RESTORE, K.PASSWORD_REISSUE):
            del self.fields["reason"]
        if kind != K.DELETION:
            del self.fields["effective_date"]
        if agencies is not None:
            # The choices are the actor's own agencies; a forged value still reaches
            # the domain layer, which refuses it (403), so it is not validated here.
            choices = [(a.account_name, f"{a.name} ({a.account_name})") for a in agencies]
            if len(choices) != 1:
                choices.insert(0, ("", _("— choose the agency —")))
            self.fields["agency"].widget = forms.Select(choices=choices)
        else:
            self.fields["agency"].widget = forms.TextInput(attrs={"maxlength": 64,
                                                                  "autocomplete": "off"})
            self.fields["agency"].help_text = _("The agency's account name, e.g. sotttt.")
        self._help()

    def _help(self) -> None:
        f = self.fields
        f["requester_name"].help_text = _("Empty: your own name.")
        f["requester_phone"].help_text = _("8 to 15 digits, e.g. 0235 3822 123.")
        if "agency_mailbox" in f:
            f["agency_mailbox"].help_text = _(
                "Item 1 of form 01, only when the agency or one of its units needs its own "
                "agency mailbox: its abbreviation or account name. Otherwise leave it empty.")
        if "reason" in f:
            helps: dict[str, str] = {
                K.DELETION: _("Required: e.g. retirement, transfer out of the province."),
                K.RESTORE: _("Required: what caused the suspension and what was done about "
                             "it."),
            }
            f["reason"].help_text = helps.get(self.kind, _("Optional."))
        if "effective_date" in f:
            f["effective_date"].help_text = _(
                "Required: the day the persons leave; the lock and the deletion are counted "
                "from it.")
        for name in ("effective_date",):
            if name in f:
                f[name].error_messages["invalid"] = _(
                    "%(field)s: not a date; write it as dd/mm/yyyy, e.g. 31/03/2026.") % {
                    "field": f[name].label}

    def problem_field(self, name: str) -> str | None:
        """The field of a domain problem named ``name`` in this header, if shown."""
        return name if name in self.fields else None


class PersonRowForm(forms.Form):
    """Mẫu 01: one person (Họ và tên, Chức vụ, Bộ phận công tác; leadership and birth
    date decide the QN-4.2 base name and the NB-8.2b password check)."""

    full_name = _text(gettext_lazy("Full name"))
    position = _text(gettext_lazy("Position"))
    department = _text(gettext_lazy("Department or unit"), list="units")
    leader = forms.BooleanField(required=False, label=gettext_lazy("Leader"))
    birth_date = _date(gettext_lazy("Birth date"))


class ChangeRowForm(forms.Form):
    """Mẫu 02: one change of one mailbox (KH-4.3: code 1 position, 2 department,
    3 address)."""

    full_name = _text(gettext_lazy("Full name"))
    address = _text(gettext_lazy("Mailbox address issued"), maxlength=320,
                    autocomplete="off", spellcheck="false")
    code = forms.CharField(required=False, label=gettext_lazy("Code"))
    new_value = _text(gettext_lazy("New value"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any value still reaches the domain, which names the valid codes (KH-4.3).
        self.fields["code"].widget = forms.Select(choices=[
            ("", "—"), ("1", _("1 — position")), ("2", _("2 — department")),
            ("3", _("3 — mailbox address"))])


class AddressRowForm(forms.Form):
    """Mẫu 03, restore, password re-issue: an existing mailbox and its holder's name."""

    full_name = _text(gettext_lazy("Full name"))
    address = _text(gettext_lazy("Mailbox address issued"), maxlength=320,
                    autocomplete="off", spellcheck="false")


ROW_FORMS: dict[str, type[forms.Form]] = {
    K.NEW_MAILBOXES: PersonRowForm,
    K.CHANGE: ChangeRowForm,
    K.DELETION: AddressRowForm,
    K.RESTORE: AddressRowForm,
    K.PASSWORD_REISSUE: AddressRowForm,
}
#: The domain's label of each row field, for the messages this module words itself.
_ROW_LABELS = {"birth_date": gettext_lazy("birth date")}


def row_form(kind: str, n: int, values: Mapping[str, Any] | None = None) -> forms.Form:
    """Row ``n`` (1-based) of a form of ``kind``, bound to ``values`` if given."""
    cls = ROW_FORMS[kind]
    prefix = f"row-{n}"
    if values is None:
        return cls(prefix=prefix)
    return cls({f"{prefix}-{k}": v for k, v in values.items()}, prefix=prefix)


def posted_rows(kind: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows in the POST that are not blank, in their order (at most
    :data:`MAX_ROWS`), as ``{field: value}``; a checkbox alone does not make a row."""
    names = set(ROW_FORMS[kind].base_fields)
    found: dict[int, dict[str, Any]] = {}
    for key in data:
        m = _ROW_KEY.match(key)
        if m and m.group(2) in names:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = data.get(key, "")
    rows = []
    for _n, values in sorted(found.items()):
        if any(str(v).strip() for k, v in values.items() if k != "leader"):
            rows.append(values)
    return rows


class FilingForms:
    """The header and the rows of one form, bound to a POST (or blank for a GET)."""

    def __init__(self, kind: str, agencies: list[Agency] | None, *,
                 data: Mapping[str, Any] | None = None, initial: dict[str, Any] | None = None,
                 extra_rows: int = 0) -> None:
        self.kind = kind
        self.header = HeaderForm(data, kind=kind, agencies=agencies, initial=initial)
        typed = posted_rows(kind, data) if data is not None else []
        self.too_many = len(typed) > MAX_ROWS
        if self.too_many:  # refused as a whole (see parse): nothing is silently dropped
            typed = typed[:MAX_ROWS]
        self.rows = [row_form(kind, n, values) for n, values in enumerate(typed, start=1)]
        blank = max(BLANK_ROWS - len(self.rows), 0) + extra_rows
        start = len(self.rows) + 1
        self.rows += [row_form(kind, n) for n in range(start, min(start + blank,
                                                                    MAX_ROWS + 1))]
        self.typed = len(typed)
        self.general: list[str] = []  # problems of the whole table (no row, no field)
        if self.too_many:
            self.general.append(_(
                "Rows: the form has more than %(max)d rows; file at most %(max)d in one "
                "request and the rest in another (the rows after %(max)d are not shown).")
                % {"max": MAX_ROWS})

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def parse(self) -> bool:
        """Read the typed values; False when something cannot be read (a date), each
        such problem put beside its field in the domain's wording."""
        ok = self.header.is_valid() and not self.too_many
        for n, row in enumerate(self.rows[: self.typed], start=1):
            if not row.is_valid():
                ok = False
                for name in list(row.errors):
                    label = _ROW_LABELS.get(name, row.fields[name].label)
                    row.errors[name] = ErrorList([_("Row %(row)d, %(field)s: %(message)s") % {
                        "row": n, "field": label,
                        "message": _("not a date; write it as dd/mm/yyyy, e.g. 21/03/1985.")}])
        return ok

    def agency_ref(self) -> str:
        data = self.header.cleaned_data if hasattr(self.header, "cleaned_data") else {}
        return str(data.get("agency") or self.header.data.get("agency", "")).strip()

    def request_form(self) -> RequestForm:
        """The domain's form from what could be read (an unreadable date is None: its
        problem is already shown)."""
        head = getattr(self.header, "cleaned_data", {})
        rows = [getattr(r, "cleaned_data", {}) for r in self.rows[: self.typed]]
        persons: tuple[PersonRow, ...] = ()
        changes: tuple[ChangeRow, ...] = ()
        addresses: tuple[AddressRow, ...] = ()
        if self.kind == K.NEW_MAILBOXES:
            persons = tuple(PersonRow(full_name=r.get("full_name", ""),
                                      position=r.get("position", ""),
                                      department=r.get("department", ""),
                                      leader=bool(r.get("leader")),
                                      birth_date=r.get("birth_date")) for r in rows)
        elif self.kind == K.CHANGE:
            changes = tuple(ChangeRow(address=r.get("address", ""), code=r.get("code", ""),
                                      new_value=r.get("new_value", ""),
                                      full_name=r.get("full_name", "")) for r in rows)
        else:
            addresses = tuple(AddressRow(address=r.get("address", ""),
                                         full_name=r.get("full_name", "")) for r in rows)
        return RequestForm(
            requester_name=head.get("requester_name", ""),
            requester_position=head.get("requester_position", ""),
            requester_phone=head.get("requester_phone", ""),
            agency_mailbox=head.get("agency_mailbox", "") or "",
            persons=persons, changes=changes, addresses=addresses,
            reason=head.get("reason", "") or "", effective_date=head.get("effective_date"))

    def attach(self, problems: Iterable[Problem]) -> None:
        """Put each domain problem beside its field or table cell (``rows[2].full_name``),
        with its rule; problems of no shown field go above the table."""
        for p in problems:
            text = p.message if not p.rule or p.rule in p.message else f"{p.message} ({p.rule})"
            m = re.match(r"^rows\[(\d+)\]\.(\w+)$", p.field)
            if m and 1 <= int(m.group(1)) <= self.typed:
                row = self.rows[int(m.group(1)) - 1]
                if m.group(2) in row.fields:
                    row.add_error(m.group(2), text)
                    continue
            name = self.header.problem_field(p.field)
            if name is not None:
                self.header.add_error(name, text)
            else:
                self.general.append(text)

    def field_error(self, name: str, message: str) -> None:
        self.header.add_error(name, message)

    def errors(self) -> list[tuple[str, str]]:
        """Every problem shown, as (the id of its input, the message), for the summary
        at the top of the page."""
        out: list[tuple[str, str]] = [("rows-table", m) for m in self.general]
        for form in (self.header, *self.rows):
            for name, errors in form.errors.items():
                target = form[name].id_for_label if name in form.fields else "rows-table"
                out.extend((target, str(e)) for e in errors)
        return out

    def blank_row(self) -> forms.Form:
        return row_form(self.kind, self.row_count + 1)
