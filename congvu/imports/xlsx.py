"""A small, fast XLSX writer for plain tables (text and whole numbers only).

openpyxl without lxml spends about half a millisecond a row; the preview and the
passwords file of a 50,000-row import would take longer than the import itself. These
files need no styles or formulas, so the workbook is written directly: inline strings,
one sheet per table, the header row frozen. openpyxl and Excel read it back as usual.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '{rels}</Relationships>')
_SHEET_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
              'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>')
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"
# Characters XML 1.0 forbids (a control character typed into a spreadsheet cell).
_FORBIDDEN = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))

Cell = str | int | None
Table = tuple[str, Sequence[Cell], Iterable[Sequence[Cell]]]


def _cell(value: Cell) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<c t="n"><v>{value}</v></c>'
    text = escape(str(value).translate(_FORBIDDEN))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _rows(header: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> Iterable[str]:
    yield _SHEET_HEAD
    yield "<row>" + "".join(_cell(v) for v in header) + "</row>"
    for row in rows:
        yield "<row>" + "".join(_cell(v) for v in row) + "</row>"
    yield _SHEET_TAIL


def workbook(tables: Sequence[Table]) -> bytes:
    """``[(sheet name, header, rows), ...]`` as an XLSX file."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        n = range(1, len(tables) + 1)
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=i) for i in n)))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(sheets="".join(
            f'<sheet name="{escape(name[:31], {chr(34): "&quot;"})}" sheetId="{i}" '
            f'r:id="rId{i}"/>' for i, (name, _h, _r) in zip(n, tables, strict=True))))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(
            rels="".join(_SHEET_REL.format(n=i) for i in n)))
        for i, (_name, header, rows) in zip(n, tables, strict=True):
            with z.open(f"xl/worksheets/sheet{i}.xml", "w") as sheet:
                buffer: list[str] = []
                for part in _rows(header, rows):
                    buffer.append(part)
                    if len(buffer) >= 1000:
                        sheet.write("".join(buffer).encode())
                        buffer.clear()
                sheet.write("".join(buffer).encode())
    return out.getvalue()
