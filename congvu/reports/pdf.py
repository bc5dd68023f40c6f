"""A report as an A4 PDF laid out as a Vietnamese administrative report (the national
rules for official documents, Nghị định 30/2020/NĐ-CP): the issuing body and the number
on the left, the national motto (quốc hiệu, tiêu ngữ) on the right, place and date of
issue, the title, numbered sections with their tables and charts, the recipients and
the signature block; page numbers from the second page. Noto Sans renders every
Vietnamese diacritic; it must be installed (Debian's fonts-noto-core)."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from congvu.errors import CongvuError
from congvu.reports.build import fmt_date, format_cell, number
from congvu.reports.model import Report, Table
from congvu.reports.svg import PALETTE, axis_scale

CONTENT_TYPE = "application/pdf"
FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONTS = {"NotoSans": "NotoSans-Regular.ttf", "NotoSans-Bold": "NotoSans-Bold.ttf",
         "NotoSans-Italic": "NotoSans-Italic.ttf",
         "NotoSans-BoldItalic": "NotoSans-BoldItalic.ttf"}
#: Margins of an official document (Nghị định 30/2020/NĐ-CP, appendix I).
TOP, BOTTOM, LEFT, RIGHT = 20 * mm, 20 * mm, 30 * mm, 15 * mm
WIDTH = A4[0] - LEFT - RIGHT
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


@cache
def register_fonts() -> None:
    """Noto Sans (regular, bold, italic) for reportlab; a clear error when missing."""
    required = ("NotoSans", "NotoSans-Bold")
    missing = [str(FONT_DIR / FONTS[n]) for n in required if not (FONT_DIR / FONTS[n]).exists()]
    if missing:
        raise CongvuError(_("The PDF needs the Noto Sans fonts, which are missing (%(files)s): "
                            "install Debian's fonts-noto-core package (scripts/setup does "
                            "it).") % {"files": ", ".join(missing)})
    for name, file in FONTS.items():
        path = FONT_DIR / file
        fallback = FONT_DIR / FONTS["NotoSans-Bold" if "Bold" in name else "NotoSans"]
        pdfmetrics.registerFont(TTFont(name, str(path if path.exists() else fallback)))
    pdfmetrics.registerFontFamily("NotoSans", normal="NotoSans", bold="NotoSans-Bold",
                                  italic="NotoSans-Italic", boldItalic="NotoSans-BoldItalic")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName="NotoSans", fontSize=11, leading=15)
    return {
        "body": ParagraphStyle("body", parent=base, alignment=TA_JUSTIFY, firstLineIndent=10 * mm,
                               spaceAfter=4),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "head": ParagraphStyle("head", parent=base, fontSize=10, leading=13,
                               alignment=TA_CENTER),
        "motto": ParagraphStyle("motto", parent=base, fontSize=10.5, leading=14,
                                alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontName="NotoSans-Bold", fontSize=14,
                                leading=19, alignment=TA_CENTER, spaceBefore=8),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontName="NotoSans-Bold",
                                   alignment=TA_CENTER, spaceAfter=10),
        "section": ParagraphStyle("section", parent=base, fontName="NotoSans-Bold",
                                  spaceBefore=10, spaceAfter=4),
        "caption": ParagraphStyle("caption", parent=base, fontName="NotoSans-Bold",
                                  fontSize=10.5, spaceBefore=6, spaceAfter=3),
        "note": ParagraphStyle("note", parent=base, fontName="NotoSans-Italic", fontSize=9,
                               leading=12, spaceBefore=2),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "cellhead": ParagraphStyle("cellhead", parent=base, fontName="NotoSans-Bold",
                                   fontSize=8.5, leading=10.5, alignment=TA_CENTER),
        "num": ParagraphStyle("num", parent=base, fontSize=8.5, leading=10.5,
                              alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=9.5, leading=12,
                                alignment=TA_LEFT),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def issue_date(report: Report) -> str:
    """``Quảng Nam, ngày 05 tháng 02 năm 2026``: days below 10 and the months January and
    February are written with two digits (Nghị định 30/2020/NĐ-CP)."""
    day = report.generated_at.astimezone(ZoneInfo(report.timezone)).date()
    vietnamese = (get_language() or "vi").startswith("vi")
    month = f"{day.month:02d}" if day.month < 3 or not vietnamese else str(day.month)
    return _("%(place)s, %(day)s/%(month)s/%(year)s") % {
        "place": report.province, "day": f"{day.day:02d}", "month": month,
        "year": day.year}


def report_pdf(report: Report) -> bytes:
    register_fonts()
    st = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, topMargin=TOP, bottomMargin=BOTTOM,
                            leftMargin=LEFT, rightMargin=RIGHT, title=report.title,
                            subject=report.subject, author=report.issuer, creator="congvu")
    story: list[Flowable] = [*_header(report, st), Spacer(1, 4 * mm),
                             _p(_("REPORT"), st["title"]),
                             _p(f"{report.subject}", st["subtitle"]),
                             _p(_("%(title)s, %(scope)s — from %(start)s to %(end)s") % {
                                 "title": report.title, "scope": report.scope,
                                 "start": fmt_date(report.start),
                                 "end": fmt_date(report.end)}, st["center"]),
                             Spacer(1, 4 * mm), _intro(report, st)]
    number = 0
    if report.facts:
        story.append(_p(f"{ROMAN[number]}. " + _("KEY FIGURES"), st["section"]))
        story.append(_facts(report, st))
        number += 1
    for section in report.sections:
        story.append(CondPageBreak(40 * mm))
        story.append(_p(f"{ROMAN[number % len(ROMAN)]}. {section.title.upper()}", st["section"]))
        number += 1
        for n, table in enumerate(section.tables, 1):
            story += _table(table, n, st)
    story += _closing(report, st)
    doc.build(story, onLaterPages=_page_number)
    return out.getvalue()


def _page_number(canvas: Any, doc: Any) -> None:
    """From the second page, the page number centred in the top margin."""
    canvas.saveState()
    canvas.setFont("NotoSans", 10)
    canvas.drawCentredString(LEFT + WIDTH / 2, A4[1] - 12 * mm, str(doc.page))
    canvas.restoreState()


def _header(report: Report, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    left = [_p(report.issuer_parent.upper(), st["head"]),
            Paragraph(f"<b>{escape(report.issuer.upper())}</b>", st["head"]),
            _p("———", st["head"]),
            _p(_("No.: ....../BC"), st["head"])]
    nation = _("SOCIALIST REPUBLIC OF VIET NAM")
    motto = _("Independence - Freedom - Happiness")
    right = [Paragraph(f"<b>{escape(nation)}</b>", st["motto"]),
             Paragraph(f"<b><u>{escape(motto)}</u></b>", st["motto"]),
             Spacer(1, 3 * mm),
             Paragraph(f"<i>{escape(issue_date(report))}</i>", st["motto"])]
    table = PdfTable([[left, right]], colWidths=[WIDTH * 0.42, WIDTH * 0.58])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [table]


def _intro(report: Report, st: dict[str, ParagraphStyle]) -> Paragraph:
    values = {"rule": report.rule, "issuer": report.issuer, "scope": report.scope,
              "subject": report.subject.lower() if report.subject else "",
              "start": fmt_date(report.start), "end": fmt_date(report.end)}
    text = (_("Under %(rule)s, %(issuer)s reports on the %(subject)s (%(scope)s) from "
              "%(start)s to %(end)s as follows:") if report.rule else
            _("%(issuer)s reports on the %(subject)s (%(scope)s) from %(start)s to %(end)s "
              "as follows:")) % values
    return _p(text, st["body"])


def _facts(report: Report, st: dict[str, ParagraphStyle]) -> PdfTable:
    rows = [[_p(label, st["cell"]), _p(format_cell(value, kind), st["num"])]
            for label, value, kind in report.facts]
    table = PdfTable(rows, colWidths=[WIDTH * 0.72, WIDTH * 0.28])
    table.setStyle(_grid(header=False))
    return table


def _grid(*, header: bool = True, total: bool = False) -> TableStyle:
    style = [("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#8a949e")),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")))
    if total:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f7f9")))
    return TableStyle(style)


def _widths(table: Table) -> list[float]:
    kinds = [c.kind for c in table.columns]
    numeric = [k != "text" for k in kinds]
    per = min(24 * mm, WIDTH * 0.62 / max(1, sum(numeric)))
    rest = WIDTH - per * sum(numeric)
    weights = [0 if n else (3 if i == 0 else 1) for i, n in enumerate(numeric)]
    return [per if n else rest * w / sum(weights) for n, w in zip(numeric, weights, strict=True)]


def _table(table: Table, position: int, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    head = [Paragraph(escape(c.label), st["cellhead"]) for c in table.columns]
    body: list[list[Any]] = []
    for n, row in enumerate([*table.rows, *([table.total] if table.total else [])]):
        total = table.total is not None and n == len(table.rows)
        depth = table.depths[n] if table.depths and n < len(table.depths) else 0
        cells = []
        for i, (column, value) in enumerate(zip(table.columns, row, strict=True)):
            text = escape(format_cell(value, column.kind)) if value != "" else ""
            if total:
                text = f"<b>{text}</b>"
            style = st["cell"] if column.kind == "text" else st["num"]
            if i == 0 and depth:
                style = ParagraphStyle(f"indent{depth}", parent=style, leftIndent=depth * 8)
            cells.append(Paragraph(text, style))
        body.append(cells)
    flow: list[Flowable] = [_p(f"{position}. {table.caption}", st["caption"])]
    if body:
        grid = PdfTable([head, *body], colWidths=_widths(table), repeatRows=1)
        grid.setStyle(_grid(total=table.total is not None))
        flow.append(grid)
    else:
        flow.append(_p(_("No data for this period."), st["note"]))
    if table.note:
        flow.append(_p(table.note, st["note"]))
    drawing = _chart(table)
    if drawing is not None:
        flow += [Spacer(1, 3 * mm), drawing]
    # A short table stays on one page with its caption and chart; a long one flows.
    return [KeepTogether(flow)] if len(body) <= 25 else flow


def _chart(table: Table) -> Drawing | None:
    chart = table.chart
    rows = table.chart_rows()
    if chart is None or not rows:
        return None
    rows = list(reversed(rows))  # reportlab draws the first category at the bottom
    series = chart.series
    names = [table.columns[i].label for i in series]
    band = 12 if chart.stacked else 7 * len(series) + 5
    plot_h = min(max(40, band * len(rows)), 140 * mm)  # always fits on a page
    legend_rows = 1 if len(series) <= 3 else 2 if len(series) <= 6 else 3
    height = 30 + plot_h + 12 + legend_rows * 12
    drawing = Drawing(WIDTH, height)
    bars = HorizontalBarChart()
    bars.x, bars.y = 62 * mm, 30
    bars.width, bars.height = WIDTH - 62 * mm - 12, plot_h
    bars.data = [tuple(_float(r[i]) for r in rows) for i in series]
    labels = [str(r[chart.category] or "") for r in rows]
    bars.categoryAxis.categoryNames = [t if len(t) <= 38 else t[:37] + "…" for t in labels]
    bars.categoryAxis.labels.fontName = "NotoSans"
    bars.categoryAxis.labels.fontSize = 7.5
    bars.categoryAxis.labels.boxAnchor = "e"
    bars.categoryAxis.labels.dx = -3
    if chart.stacked:
        bars.categoryAxis.style = "stacked"
        top = max(sum(values) for values in zip(*bars.data, strict=True))
    else:
        top = max(max(values) for values in bars.data)
    end, step = axis_scale(top, whole=all(not isinstance(r[i], float) for r in rows
                                          for i in series))
    bars.valueAxis.valueMin = 0
    bars.valueAxis.valueMax = end
    bars.valueAxis.valueStep = step
    bars.valueAxis.labels.fontName = "NotoSans"
    bars.valueAxis.labels.fontSize = 7.5
    bars.valueAxis.labelTextFormat = lambda v: number(v, 1 if v % 1 else None)
    bars.barSpacing = 1
    bars.groupSpacing = 4
    for n in range(len(series)):
        bars.bars[n].fillColor = colors.HexColor(PALETTE[n % len(PALETTE)])
        bars.bars[n].strokeColor = None
    drawing.add(bars)
    legend = Legend()
    legend.x, legend.y = 0, height - 6
    legend.fontName, legend.fontSize = "NotoSans", 8
    legend.alignment = "right"
    legend.columnMaximum = legend_rows
    legend.deltax = WIDTH / -(-len(series) // legend_rows)
    legend.dxTextSpace = 4
    legend.colorNamePairs = [(colors.HexColor(PALETTE[n % len(PALETTE)]), name)
                             for n, name in enumerate(names)]
    drawing.add(legend)
    drawing.add(String(WIDTH / 2, 2, chart.title, fontName="NotoSans-Italic", fontSize=8.5,
                       textAnchor="middle"))
    return drawing


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _closing(report: Report, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    heading = _("Recipients:")
    recipients = [Paragraph(f"<b><i>{escape(heading)}</i></b>", st["small"])]
    if report.issuer_parent:
        recipients.append(_p("- " + report.issuer_parent + ";", st["small"]))
    recipients.append(_p(_("- Filed: Records (VT)."), st["small"]))
    signer, how = _("HEAD OF THE AGENCY"), _("(Signature, full name and seal)")
    sign = [Paragraph(f"<b>{escape(signer)}</b>", st["center"]),
            Paragraph(f"<i>{escape(how)}</i>", st["head"])]
    table = PdfTable([[recipients, sign]], colWidths=[WIDTH * 0.5, WIDTH * 0.5])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(1, 8 * mm), KeepTogether([table])]
