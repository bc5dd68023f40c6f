"""The rows of a form from a CSV file (UTF-8, a header row), for the CLI and the console.

Headers are English (``full_name,position,department,leader,birth_date``;
``address,code,new_value,full_name``; ``address,full_name``) or the forms' Vietnamese
column titles ("Họ và tên", "Chức vụ", "Bộ phận công tác", "Địa chỉ hộp thư đã được cấp",
"Mã", "Nội dung mới"...), in any case, with or without diacritics. Rows are numbered
from 1 after the header, blank lines skipped, like the forms' STT column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.utils.translation import gettext as _

from congvu.errors import CongvuError
from congvu.requests.filing import AddressRow, ChangeRow, PersonRow
from congvu.requests.models import RequestKind
from congvu.text import fold

_TRUE = {"yes", "true", "1", "y", "x", "co"}
_FALSE = {"no", "false", "0", "n", "khong", ""}

#: Folded header → column. Vietnamese titles as printed on Mẫu 01/02/03.
_ALIASES = {
    "full_name": "full_name", "ho va ten": "full_name", "ho ten": "full_name",
    "position": "position", "chuc vu": "position",
    "department": "department", "bo phan cong tac": "department", "bo phan": "department",
    "leader": "leader", "lanh dao": "leader",
    "birth_date": "birth_date", "ngay sinh": "birth_date",
    "address": "address", "dia chi hop thu": "address",
    "dia chi hop thu da duoc cap": "address", "dia chi hop thu duoc cap": "address",
    "code": "code", "ma": "code",
    "new_value": "new_value", "noi dung moi": "new_value",
}
_COLUMNS: dict[str, tuple[str, ...]] = {
    RequestKind.NEW_MAILBOXES: ("full_name",),
    RequestKind.CHANGE: ("address", "code", "new_value"),
}
Rows = tuple[tuple[PersonRow, ...], tuple[ChangeRow, ...], tuple[AddressRow, ...]]


def _date(text: str) -> dt.date:
    value = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def parse_rows(kind: str, text: str) -> Rows:
    """(persons, changes, addresses) of ``kind``; a CongvuError lists every bad cell."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [_ALIASES.get(" ".join(fold(h or "").split()), (h or "").strip().lower())
              for h in reader.fieldnames or []]
    needed = _COLUMNS.get(kind, ("address",))
    missing = [c for c in needed if c not in header]
    if missing:
        raise CongvuError(_("The file lacks the column(s) %(cols)s; its header must name "
                            "%(expected)s.") % {"cols": ", ".join(missing),
                                                "expected": ", ".join(needed)})
    reader.fieldnames = header
    problems: list[str] = []
    persons: list[PersonRow] = []
    changes: list[ChangeRow] = []
    addresses: list[AddressRow] = []
    n = 0
    for raw in reader:
        row = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        if not any(row.values()):
            continue  # blank lines of a form template are not rows
        n += 1
        if kind == RequestKind.NEW_MAILBOXES:
            leader = fold(row.get("leader", ""))
            born = None
            if leader not in _TRUE | _FALSE:
                problems.append(_("Row %(row)d, %(field)s: %(message)s") % {
                    "row": n, "field": _("leader"), "message": _(
                        "write yes or no (có/không, 1/0), not %(value)r.") % {
                        "value": row.get("leader")}})
            if row.get("birth_date"):
                try:
                    born = _date(row["birth_date"])
                except ValueError:
                    problems.append(_("Row %(row)d, %(field)s: %(message)s") % {
                        "row": n, "field": _("birth date"), "message": _(
                            "%(value)r is not a date: write YYYY-MM-DD or DD/MM/YYYY.") % {
                            "value": row["birth_date"]}})
            persons.append(PersonRow(full_name=row.get("full_name", ""),
                                     position=row.get("position", ""),
                                     department=row.get("department", ""),
                                     leader=leader in _TRUE, birth_date=born))
        elif kind == RequestKind.CHANGE:
            changes.append(ChangeRow(address=row.get("address", ""), code=row.get("code", ""),
                                     new_value=row.get("new_value", ""),
                                     full_name=row.get("full_name", "")))
        else:
            addresses.append(AddressRow(address=row.get("address", ""),
                                        full_name=row.get("full_name", "")))
    if problems:
        raise CongvuError("\n".join(problems))
    return tuple(persons), tuple(changes), tuple(addresses)
