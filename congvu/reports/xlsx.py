"""A report as an Excel workbook: a first sheet with what the report is and its key
figures, then one sheet per table with the numbers as numbers (counts, percentages,
megabytes with their formats) and a native Excel chart beside them."""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from congvu.console.views import local_time
from congvu.reports.build import fmt_date
from congvu.reports.model import Cell, ColumnKind, Report, Table

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS: dict[ColumnKind, str] = {"int": "#,##0", "percent": "0.0%", "mb": "#,##0.0",
                                  "text": "@"}
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
HEAD_FILL = PatternFill("solid", fgColor="EEF1F4")
BOLD = Font(bold=True)
#: The header row of every table sheet.
HEADER_ROW = 6


def report_xlsx(report: Report) -> bytes:
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    _cover(cover, report)
    used = {cover.title}
    for table in report.tables:
        ws = wb.create_sheet(_sheet_title(table.name, used))
        _table_sheet(ws, report, table)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub(" ", name).strip()[:31] or "Sheet"
    title, n = base, 2
    while title in used:
        suffix = f" {n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def _heading(ws: Worksheet, report: Report) -> None:
    ws["A1"] = f"{report.title} — {report.subject}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = report.scope
    ws["A3"] = _("Period: %(start)s to %(end)s") % {"start": fmt_date(report.start),
                                                     "end": fmt_date(report.end)}


def _cover(ws: Worksheet, report: Report) -> None:
    ws.title = _sheet_title(_("Report"), set())
    _heading(ws, report)
    facts: list[tuple[str, Cell, ColumnKind]] = [
        (_("Province"), report.province, "text"),
        (_("Covers"), report.scope, "text"),
        (_("Issued by"), report.issuer, "text"),
        (_("Prepared on"), local_time(report.generated_at, report.timezone), "text"),
    ]
    if report.rule:
        facts.append((_("Rule"), report.rule, "text"))
    facts += report.facts
    row = 5
    ws.cell(row, 1, _("Key figures")).font = BOLD
    for label, value, kind in facts:
        row += 1
        ws.cell(row, 1, label)
        cell = ws.cell(row, 2, value)
        cell.number_format = FORMATS[kind]
        cell.alignment = Alignment(horizontal="left" if kind == "text" else "right")
    row += 2
    ws.cell(row, 1, _("Sheets")).font = BOLD
    for table in report.tables:
        row += 1
        ws.cell(row, 1, table.name)
        ws.cell(row, 2, table.caption)
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 60


def _table_sheet(ws: Worksheet, report: Report, table: Table) -> None:
    _heading(ws, report)
    ws.cell(4, 1, table.caption).font = BOLD
    columns = table.columns
    for c, column in enumerate(columns, 1):
        cell = ws.cell(HEADER_ROW, c, column.label)
        cell.font, cell.fill = BOLD, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    row = HEADER_ROW
    for n, values in enumerate(table.rows):
        row += 1
        depth = table.depths[n] if table.depths else 0
        _write_row(ws, row, table, values, indent=depth)
    first, last = HEADER_ROW + 1, row
    if table.total is not None:
        row += 1
        _write_row(ws, row, table, table.total, bold=True)
    if not table.rows:
        row += 1
        ws.cell(row, 1, _("No data for this period."))
    if table.note:
        row += 2
        ws.cell(row, 1, table.note).alignment = Alignment(wrap_text=False)
    for c, column in enumerate(columns, 1):
        longest = max([len(str(v[c - 1] or "")) for v in table.rows] + [len(column.label) // 2,
                                                                         10])
        ws.column_dimensions[get_column_letter(c)].width = min(60, longest + 4)
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 2)
    if table.chart is not None and table.rows:
        _chart(ws, table, first, last, row + 2)


def _write_row(ws: Worksheet, row: int, table: Table, values: list[Cell], *, indent: int = 0,
               bold: bool = False) -> None:
    for c, (column, value) in enumerate(zip(table.columns, values, strict=True), 1):
        cell = ws.cell(row, c, value if value != "" else None)
        if column.kind != "text":
            cell.number_format = FORMATS[column.kind]
        if c == 1 and indent:
            cell.alignment = Alignment(indent=indent)
        if bold:
            cell.font = BOLD


def _chart(ws: Worksheet, table: Table, first: int, last: int, free_row: int) -> None:
    """A bar chart of the chart's rows: straight from the table when it draws every row in
    order, else from a small block of its own below the table."""
    chart = table.chart
    assert chart is not None
    rows = table.chart_rows()
    if not rows:
        return
    if rows == table.rows:
        data_first, data_last = first, last
        cols = {i: i + 1 for i in (chart.category, *chart.series)}
        header = HEADER_ROW
    else:
        ws.cell(free_row, 1, _("Figures of the chart")).font = BOLD
        header = free_row + 1
        picked = (chart.category, *chart.series)
        cols = {i: n for n, i in enumerate(picked, 1)}
        for i, c in cols.items():
            ws.cell(header, c, table.columns[i].label).font = BOLD
        for n, values in enumerate(rows, 1):
            for i, c in cols.items():
                ws.cell(header + n, c, values[i])
        data_first, data_last = header + 1, header + len(rows)
    bar = BarChart()
    bar.type = "bar"  # horizontal: agency names stay readable
    bar.title = chart.title
    bar.style = 10
    if chart.stacked:
        bar.grouping, bar.overlap = "stacked", 100
    for i in chart.series:
        ref = Reference(ws, min_col=cols[i], min_row=header, max_row=data_last)
        bar.add_data(ref, titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=cols[chart.category], min_row=data_first,
                                 max_row=data_last))
    bar.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.height = max(7.5, 0.7 * len(rows) + 3)
    bar.width = 18
    anchor = f"{get_column_letter(len(table.columns) + 2)}{HEADER_ROW}"
    ws.add_chart(bar, anchor)
