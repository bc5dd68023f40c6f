"""Reading an uploaded file of persons: CSV or XLSX, into rows of text cells.

Decisions (said in the error messages too):

- XLSX: the first worksheet that has a header row; formulas count by their last computed
  value; date cells are dates. The old binary ``.xls`` and OpenDocument are refused with
  a clear message (save as ``.xlsx``).
- CSV: UTF-8, with or without the BOM Excel writes ("CSV UTF-8"), or UTF-16 (Excel's
  "Unicode Text"). Nothing else: Windows-1258 writes Vietnamese with combining tone
  marks in bytes that also decode, wrongly, as CP1252, and TCVN3/VNI files look like
  valid 8-bit text too; guessing would put wrong names in the directory without a word.
  Separators: comma, semicolon (Excel in some regional settings) or tab, taken from
  the header line.
- The header row is the first row (among the first 30, so a form's title lines above
  the table are skipped) that names the full-name column. Rows are numbered as the
  spreadsheet numbers them; blank rows are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from congvu.errors import CongvuError
from congvu.imports.columns import COLUMNS, column_for, column_letter, label

#: The most rows one import takes (the NB-13 migration of a whole province is done in
#: several files, one or a few agencies each).
MAX_ROWS = 100_000
#: The header is looked for among the first rows (a form's title lines come first).
HEADER_SEARCH_ROWS = 30
#: Columns read per row (a stray cell far to the right is not a column).
MAX_COLUMNS = 60

_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


class ImportFileError(CongvuError):
    """The file as a whole cannot be used (format, encoding, header)."""


class _NoHeader(ImportFileError):
    """No row names the full-name column (another worksheet may have one)."""


@dataclass(frozen=True)
class RawRow:
    """One person as written: ``values`` maps column keys to the cells' text."""

    line: int
    values: dict[str, str]


@dataclass
class Table:
    file_format: str
    rows: list[RawRow] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # key -> title as written
    ignored: list[str] = field(default_factory=list)


def read_table(data: bytes, file_name: str = "") -> Table:
    """The rows of ``data`` (CSV or XLSX, told apart by content, not by name)."""
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if data.startswith(_XLS_MAGIC):
        raise ImportFileError(_(
            "This is an old Excel 97-2003 workbook (.xls). Open it in Excel and save it as "
            "an Excel Workbook (.xlsx), or as CSV UTF-8, then upload that file."))
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    return _read_csv(_decode(data))


# ---------------------------------------------------------------------------- CSV


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(_(
            "The file is not UTF-8 text (line %(line)d cannot be read). Save it from Excel "
            "as “CSV UTF-8 (Comma delimited)”, or upload the .xlsx workbook itself. Files in "
            "Windows-1258, TCVN3 or VNI encodings are not accepted: their Vietnamese letters "
            "cannot be read reliably.") % {"line": line}) from None


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(text: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        records = [[cell.strip() for cell in rec[:MAX_COLUMNS]] for rec in reader]
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed (row %(row)d): %(error)s") % {
            "row": reader.line_num, "error": exc}) from None
    return _table("csv", enumerate(records, start=1))


# --------------------------------------------------------------------------- XLSX


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _read_xlsx(data: bytes) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        raise ImportFileError(_("The file looks like a workbook but is damaged; open it in "
                                "Excel and save it again as .xlsx.")) from None
    if "xl/workbook.xml" not in names:
        raise ImportFileError(_(
            "This is not an Excel workbook (.xlsx) (an OpenDocument or other ZIP file?). Save "
            "it as .xlsx or as CSV UTF-8 and upload that file."))
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, zipfile.BadZipFile, OSError):
        raise ImportFileError(_("The workbook cannot be read; open it in Excel and save it "
                                "again as .xlsx.")) from None
    try:
        first_error: ImportFileError | None = None
        for sheet in book.worksheets:
            rows = ((n, [_cell_text(v) for v in values])
                    for n, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS,
                                                               values_only=True), start=1))
            try:
                return _table("xlsx", rows)
            except _NoHeader as exc:
                if first_error is None:
                    first_error = exc
        raise first_error or ImportFileError(_("The workbook has no worksheet."))
    finally:
        book.close()


# ------------------------------------------------------------------ header, rows


def _find_header(records: Iterator[tuple[int, list[str]]]
                 ) -> tuple[int, list[str], list[str]]:
    """(line, cells) of the header row, and the first non-empty row (for the message)."""
    first: list[str] = []
    for n, cells in records:
        if not any(cells):
            continue
        if not first:
            first = cells
        if any(column_for(c) == "full_name" for c in cells if c):
            return n, cells, first
        if n >= HEADER_SEARCH_ROWS:
            break
    return 0, [], first


def _missing_message(found: Iterable[str], first: Sequence[str]) -> str:
    missing = [c for c in COLUMNS if c.required and c.key not in set(found)]
    names = ", ".join(f"“{c.label}”" for c in missing)
    seen = ", ".join(f"“{c}”" for c in first if c) or _("nothing")
    return _(
        "The file lacks the column(s) %(missing)s. The header row must name at least the "
        "person's full name (Họ và tên / full_name) and their agency (Cơ quan/đơn vị / "
        "agency); it may also have Phòng/ban, Chức vụ, Ngày sinh, Lãnh đạo, Địa chỉ cũ and "
        "Địa chỉ mong muốn. The first row of the file has: %(seen)s.") % {
        "missing": names, "seen": seen}


def _table(file_format: str, records: Iterable[tuple[int, list[str]]]) -> Table:
    it = iter(records)
    header_line, header, first = _find_header(it)
    if not header_line:
        raise _NoHeader(_missing_message((), first))
    table = Table(file_format=file_format)
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        if not title:
            continue
        key = column_for(title)
        if key == "":
            continue
        if key is None:
            table.ignored.append(title)
            continue
        if key in positions:
            raise ImportFileError(_(
                "The column “%(label)s” appears twice (columns %(first)s and %(second)s); "
                "keep one.") % {"label": label(key), "first": column_letter(positions[key]),
                                "second": column_letter(index)})
        positions[key] = index
        table.columns[key] = title
    if any(c.required and c.key not in positions for c in COLUMNS):
        raise ImportFileError(_missing_message(positions, header))
    for n, cells in it:
        if not any(cells):
            continue
        if len(table.rows) >= MAX_ROWS:
            raise ImportFileError(_(
                "The file has more than %(max)d persons; split it into several files (one or "
                "a few agencies each).") % {"max": MAX_ROWS})
        values = {key: (cells[i] if i < len(cells) else "") for key, i in positions.items()}
        if not any(values.values()):
            continue  # only numbering or ignored cells: a blank line of a form
        table.rows.append(RawRow(line=n, values=values))
    if not table.rows:
        raise ImportFileError(_("The file has a header row but no person under it."))
    return table
