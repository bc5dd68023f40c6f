"""Files an import produces: the preview (XLSX from the check job, CSV streamed on demand)
and the one-time passwords file (XLSX, handed over once)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.utils.translation import gettext as _

from congvu.imports import xlsx
from congvu.imports.columns import BY_KEY, KEYS
from congvu.imports.models import ImportRow
from congvu.imports.writing import Created
from congvu.imports.xlsx import Cell
from congvu.profiles import Profile

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def field_label(key: str) -> str:
    if key == "address":
        return _("Address")
    column = BY_KEY.get(key)
    return str(column.label) if column else key


def problems_text(problems: Iterable[dict[str, Any]]) -> str:
    """``Full name: … (rule QN-4.1); Agency: …`` for a file or a cell."""
    return "; ".join(f"{field_label(str(p.get('field', '')))}: {p.get('message', '')}"
                     for p in problems)


def preview_header() -> list[str]:
    return [_("Row"), *(str(BY_KEY[k].label) for k in KEYS), _("Address"), _("Rule"),
            _("Errors"), _("Notes")]


def preview_values(row: ImportRow) -> list[str]:
    cells = [getattr(row, key) for key in KEYS]
    return [str(row.line), *cells, row.address, row.rule, problems_text(row.errors),
            problems_text(row.notes)]


def preview_xlsx(rows: Iterable[ImportRow]) -> bytes:
    def cells(row: ImportRow) -> list[Cell]:
        values: list[Cell] = list(preview_values(row))
        values[0] = row.line
        return values

    return xlsx.workbook([(_("Check"), preview_header(), (cells(r) for r in rows))])


class _Echo:
    def write(self, value: str) -> str:
        return value


def preview_csv(rows: Iterable[ImportRow]) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel shows the Vietnamese letters."""
    writer = csv.writer(_Echo())
    yield "\ufeff".encode()
    yield writer.writerow(preview_header()).encode()
    for row in rows:
        yield writer.writerow([safe_cell(v) for v in preview_values(row)]).encode()


def passwords_xlsx(profile: Profile, created: Sequence[Created], import_name: str) -> bytes:
    """One sheet sorted by agency then name, so each agency's list is handed over in one
    piece; a second sheet says what the holder must do."""
    rule = profile.password.change_first_login_rule
    ordered = sorted(created, key=lambda c: (c.agency, c.full_name, c.line))
    header: list[Cell] = [_("No."), _("Full name"), _("Agency/unit"), _("E-mail address"),
                          _("One-time password"), _("Row in the file")]
    rows: Iterator[list[Cell]] = (
        [n, c.full_name, c.agency, c.address, c.one_time_password, c.line]
        for n, c in enumerate(ordered, start=1))
    notes = [
        _("This file was downloadable once; keep it safe and destroy it once every password "
          "has been handed over."),
        _("Hand each password to its holder only (through their agency's IT contact), never "
          "by e-mail to another mailbox."),
        _("The holder must change it at the first sign-in (rule %(rule)s).") % {"rule": rule},
        _("Webmail: %(url)s") % {"url": profile.mail.webmail_url or "—"},
    ]
    title = _("One-time passwords of the accounts created by %(name)s.") % {"name": import_name}
    return xlsx.workbook([(_("Passwords"), header, rows),
                          (_("Read first"), [title], ([line] for line in notes))])
