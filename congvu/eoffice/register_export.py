"""The registers printed (Decree 30/2020/NĐ-CP Phụ lục IV): the sổ đăng ký văn bản đến /
đi of an agency and year as an A4 landscape PDF (Noto Sans, the body above the agency
and the agency's name at the top left, the register's title, year and filters, then
the table with its header repeated on every page and page numbers) and as an XLSX
workbook (one sheet, the same columns, the header frozen).

The rows are read through the registers' selectors, page by page (keyset on the
number), with the reader's rights (classified rows masked the same way). The caller
says how many rows it accepts: the console builds up to a few thousand while the reader
waits and hands larger registers (a big agency's year) to the tasks worker, which
accepts up to :data:`MAX_ROWS` (:data:`MAX_PDF_ROWS` for a PDF).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.utils.html import escape
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from congvu.actors import Actor
from congvu.eoffice import selectors
from congvu.eoffice.selectors import RegisterFilters
from congvu.errors import CongvuError
from congvu.reports.pdf import register_fonts

#: The most rows a register file holds: a workbook of 120,000 rows takes the tasks
#: worker about 30 s and 700 MB; the PDF's table costs far more per row (19,000 rows:
#: 36 s, 670 MB), so a printed register is cut by period (a quarter, a month).
MAX_ROWS = 200_000
MAX_PDF_ROWS = 20_000
_BATCH = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"

PAGE = landscape(A4)
MARGIN = 12 * mm
WIDTH = PAGE[0] - 2 * MARGIN
#: Relative widths of the printed columns (the summary gets the room).
INCOMING_WIDTHS = (7, 5, 13, 10, 7, 30, 14, 6, 8)
OUTGOING_WIDTHS = (10, 7, 28, 10, 14, 10, 5, 7, 6, 7)


@dataclass(frozen=True)
class Printed:
    """A register ready to print: who keeps it, its title and its rows (as columns)."""

    parent: str
    agency: str
    title: str
    subtitle: str
    filters: str
    columns: tuple[str, ...]
    widths: tuple[int, ...]
    rows: list[tuple[str, ...]]
    generated_at: dt.datetime
    tz: str


def number_of(number_text: str) -> int:
    found = re.search(r"\d+", number_text)
    return int(found.group()) if found else 0


class TooManyRows(CongvuError):
    """The register has more rows than the caller accepts."""


Row = TypeVar("Row", selectors.IncomingRow, selectors.OutgoingRow)


def _all_rows(page_after: Callable[[int], list[Row]], number: Callable[[Row], int],
              limit: int, read: Callable[[int], None] | None) -> list[tuple[str, ...]]:
    """Every row of a register, a keyset page (on the number) at a time;
    :class:`TooManyRows` past ``limit``. ``read`` hears how many rows are read so far."""
    rows: list[tuple[str, ...]] = []
    after = 0
    while True:
        page = page_after(after)
        rows += [r.columns() for r in page]
        if len(rows) > limit:
            raise TooManyRows(_("The register has more than %(max)d rows for these "
                                "filters; choose a shorter period.") % {"max": limit})
        if read:
            read(len(rows))
        if len(page) < _BATCH:
            return rows
        after = number(page[-1])


def incoming_rows(actor: Actor, now: dt.datetime, *, agency_id: int, year: int,
                  filters: RegisterFilters, tz: str, limit: int = MAX_ROWS,
                  read: Callable[[int], None] | None = None) -> list[tuple[str, ...]]:
    """Every row of the filtered incoming register (see :func:`_all_rows`)."""
    return _all_rows(
        lambda after: selectors.incoming_register(
            actor, now, agency_id=agency_id, year=year, tz=tz,
            filters=replace(filters, after=after, limit=_BATCH)),
        lambda row: row.number, limit, read)


def outgoing_rows(actor: Actor, now: dt.datetime, *, agency_id: int, year: int, series: str,
                  filters: RegisterFilters, tz: str, limit: int = MAX_ROWS,
                  read: Callable[[int], None] | None = None) -> list[tuple[str, ...]]:
    """Every row of the filtered outgoing register of a series (see :func:`_all_rows`)."""
    return _all_rows(
        lambda after: selectors.outgoing_register(
            actor, now, agency_id=agency_id, year=year, series=series, tz=tz,
            filters=replace(filters, after=after, limit=_BATCH)),
        lambda row: number_of(row.number_text), limit, read)


# --- PDF -------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("reg", fontName="NotoSans", fontSize=8, leading=10)
    return {
        "cell": base,
        "head": ParagraphStyle("reghead", parent=base, fontName="NotoSans-Bold",
                               alignment=TA_CENTER),
        "top": ParagraphStyle("regtop", parent=base, fontSize=10, leading=13,
                              alignment=TA_CENTER),
        "title": ParagraphStyle("regtitle", parent=base, fontName="NotoSans-Bold", fontSize=14,
                                leading=18, alignment=TA_CENTER, spaceBefore=4),
        "sub": ParagraphStyle("regsub", parent=base, fontSize=10, leading=13,
                              alignment=TA_CENTER),
    }


def register_pdf(printed: Printed) -> bytes:
    register_fonts()
    st = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=PAGE, topMargin=MARGIN, bottomMargin=MARGIN,
                            leftMargin=MARGIN, rightMargin=MARGIN, title=printed.title,
                            author=printed.agency, creator="congvu")
    top = PdfTable([[[Paragraph(escape(printed.parent.upper()), st["top"]),
                      Paragraph(f"<b>{escape(printed.agency.upper())}</b>", st["top"])], ""]],
                   colWidths=[WIDTH * 0.4, WIDTH * 0.6])
    top.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story = [top, Spacer(1, 4 * mm), Paragraph(escape(printed.title.upper()), st["title"]),
             Paragraph(escape(printed.subtitle), st["sub"])]
    if printed.filters:
        story.append(Paragraph(escape(printed.filters), st["sub"]))
    story.append(Spacer(1, 4 * mm))
    total = sum(printed.widths)
    widths = [WIDTH * w / total for w in printed.widths]
    head = [Paragraph(escape(c), st["head"]) for c in printed.columns]
    numbers = [Paragraph(f"({i})", st["head"]) for i in range(1, len(printed.columns) + 1)]
    body = [[Paragraph(escape(v), st["cell"]) for v in row] for row in printed.rows]
    if not body:
        body = [[Paragraph(escape(_("No documents.")), st["cell"])]
                + [""] * (len(printed.columns) - 1)]
    grid = PdfTable([head, numbers, *body], colWidths=widths, repeatRows=2)
    grid.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#555555")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eef1f4")),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
    story.append(grid)
    printed_on = printed.generated_at.astimezone(ZoneInfo(printed.tz)).strftime("%d/%m/%Y %H:%M")

    def footer(canvas: object, document: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont("NotoSans", 8)  # type: ignore[attr-defined]
        canvas.drawString(MARGIN, MARGIN / 2,  # type: ignore[attr-defined]
                          _("Printed on %(when)s") % {"when": printed_on})
        canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2,  # type: ignore[attr-defined]
                               str(document.page))  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


# --- XLSX -----------------------------------------------------------------------------------


def register_xlsx(printed: Printed) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", printed.title)[:31]
    ws["A1"] = printed.parent.upper()
    ws["A2"] = printed.agency.upper()
    ws["A2"].font = Font(bold=True)
    ws["A3"] = printed.title.upper()
    ws["A3"].font = Font(bold=True, size=14)
    ws["A4"] = printed.subtitle + (f" — {printed.filters}" if printed.filters else "")
    header = 6
    fill = PatternFill("solid", fgColor="EEF1F4")
    for i, (name, width) in enumerate(zip(printed.columns, printed.widths, strict=True), 1):
        cell = ws.cell(header, i, name)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(i)].width = max(8, width * 2)
    for n, row in enumerate(printed.rows, header + 1):
        for i, value in enumerate(row, 1):
            cell = ws.cell(n, i, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.number_format = "@"  # "01", "02": numbers as printed, not as figures
    ws.freeze_panes = ws.cell(header + 1, 1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def columns_for(kind: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    if kind == "incoming":
        return selectors.INCOMING_COLUMNS, INCOMING_WIDTHS
    return selectors.OUTGOING_COLUMNS, OUTGOING_WIDTHS


def printed(*, kind: str, parent: str, agency: str, title: str, subtitle: str,
            filters: str, rows: Sequence[tuple[str, ...]], now: dt.datetime,
            tz: str) -> Printed:
    columns, widths = columns_for(kind)
    return Printed(parent, agency, title, subtitle, filters, columns, widths, list(rows), now,
                   tz)
