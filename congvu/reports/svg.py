"""A table's chart as inline SVG, drawn on the server with presentation attributes only
(the console's CSP forbids inline styles and scripts): horizontal bars, grouped or
stacked, one group per row, readable on a phone. The table beside it is the chart's
text alternative; each bar also carries its value in a ``<title>``."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from congvu.reports.model import Cell, Table

#: Series colours: dark enough for text contrast, distinguishable in greyscale order.
PALETTE = ("#0b4f9c", "#c81e1e", "#e09b00", "#2e7d32", "#6a1b9a", "#00838f", "#5d4037")
WIDTH = 640
LABEL = 210  # room for the category names
RIGHT = 56  # room for the values after the bars
BAR = 14
GAP = 10
LEGEND = 22
LABEL_CHARS = 32


def _value(cell: Cell) -> float:
    return float(cell) if isinstance(cell, int | float) else 0.0


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def nice_max(value: float) -> float:
    """A round number at or above ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exp:
            return float(step * exp)
    return float(10 * exp)  # pragma: no cover


def axis_scale(top: float, *, whole: bool = True) -> tuple[float, float]:
    """(end, step) of a value axis reaching ``top`` in at most four round steps; whole
    steps for counts."""
    step = nice_max(top / 4) if top > 0 else 1.0
    if whole:
        step = max(1.0, step)
    return step * max(1, math.ceil(top / step - 1e-9)), step


def _whole(rows: list[list[Cell]], series: tuple[int, ...]) -> bool:
    return all(not isinstance(r[i], float) for r in rows for i in series)


def _number(value: float) -> str:
    from congvu.reports.build import number

    return number(value, 1 if value % 1 else None)


def chart_svg(table: Table) -> SafeString:
    """The chart of ``table`` ('' when it has none or nothing to draw)."""
    chart = table.chart
    rows = table.chart_rows()
    if chart is None or not rows:
        return mark_safe("")
    series = chart.series
    names = [table.columns[i].label for i in series]
    per_row = BAR + 4 if chart.stacked else len(series) * BAR + 4
    legend = _legend(names)
    top = legend[-1][1] + LEGEND + 4
    height = top + len(rows) * (per_row + GAP) + 24
    sums = [sum(_value(r[i]) for i in series) if chart.stacked
            else max(_value(r[i]) for i in series) for r in rows]
    axis, step = axis_scale(max(sums), whole=_whole(rows, series))
    ticks = round(axis / step)
    span = WIDTH - LABEL - RIGHT
    key = escape(table.key)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           f'role="img" aria-labelledby="chart-{key}-title chart-{key}-desc" '
           f'class="chart-svg" font-family="sans-serif" font-size="12">',
           f'<title id="chart-{key}-title">{escape(chart.title)}</title>',
           f'<desc id="chart-{key}-desc">{escape(_desc(table))}</desc>']
    for n, (name, (x, y)) in enumerate(zip(names, legend, strict=True)):
        colour = PALETTE[n % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{y + 4}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 16}" y="{y + 14}" fill="#1b1f23">'
                   f'{escape(_short(name, 28))}</text>')
    # Grid and axis labels.
    bottom = height - 20
    for k in range(ticks + 1):
        gx = LABEL + span * k / ticks
        out.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{bottom}" '
                   f'stroke="#d5dae0" stroke-width="1"/>'
                   f'<text x="{gx:.1f}" y="{bottom + 14}" text-anchor="middle" '
                   f'fill="#4a5560">{escape(_number(step * k))}</text>')
    # Bars.
    y = top
    for row, total in zip(rows, sums, strict=True):
        label = str(row[chart.category] or "")
        out.append(f'<text x="{LABEL - 6}" y="{y + per_row / 2 + 4:.1f}" text-anchor="end" '
                   f'fill="#1b1f23"><title>{escape(label)}</title>{escape(_short(label))}</text>')
        x0 = float(LABEL)
        for n, i in enumerate(series):
            value = _value(row[i])
            w = span * value / axis
            colour = PALETTE[n % len(PALETTE)]
            by = y + 2 if chart.stacked else y + 2 + n * BAR
            tip = f"{label} — {names[n]}: {_number(value)}"
            if w > 0:
                out.append(f'<rect x="{x0:.1f}" y="{by}" width="{w:.1f}" height="{BAR - 2}" '
                           f'fill="{colour}"><title>{escape(tip)}</title></rect>')
            if chart.stacked:
                x0 += w
            else:
                out.append(f'<text x="{x0 + w + 4:.1f}" y="{by + BAR - 4}" '
                           f'fill="#1b1f23">{escape(_number(value))}</text>')
        if chart.stacked:
            out.append(f'<text x="{x0 + 4:.1f}" y="{y + per_row / 2 + 4:.1f}" '
                       f'fill="#1b1f23">{escape(_number(total))}</text>')
        y += per_row + GAP
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped


def _legend(names: list[str]) -> list[tuple[int, int]]:
    """Where each legend entry goes: left to right, wrapping to a new line."""
    places, x, y = [], 0, 0
    for name in names:
        width = 24 + 7 * min(len(name), 28)
        if x and x + width > WIDTH:
            x, y = 0, y + LEGEND
        places.append((x, y))
        x += width
    return places


def _desc(table: Table) -> str:
    return _("Chart of the table “%(caption)s”; the figures are in the table.") % {
        "caption": table.caption}
