"""A report as data: sections of tables, each table with an optional chart. Built once by
:mod:`congvu.reports.build` in the reader's language, then rendered as HTML (with SVG
charts), XLSX (native Excel charts) or PDF without computing anything again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

#: A table cell: text, a count, a fraction (shown as a percentage) or nothing.
Cell = str | int | float | None

ColumnKind = Literal["text", "int", "percent", "mb"]


@dataclass(frozen=True)
class Column:
    label: str
    kind: ColumnKind = "int"


@dataclass(frozen=True)
class Chart:
    """Horizontal bars: one bar group per row (the first ``limit`` rows), one bar (or
    stacked segment) per series column."""

    title: str
    series: tuple[int, ...]
    stacked: bool = False
    category: int = 0
    limit: int = 15
    #: Draw the rows with the largest sums first (else in the table's order).
    largest: bool = False
    #: Only the rows at the top of the agency tree (their units are inside their bars).
    top_only: bool = False


@dataclass
class Table:
    key: str
    #: A short name (a spreadsheet's sheet: at most 31 characters).
    name: str
    caption: str
    columns: list[Column]
    rows: list[list[Cell]]
    total: list[Cell] | None = None
    chart: Chart | None = None
    #: Depth of each row in the agency tree (indentation), when the rows are agencies.
    depths: list[int] | None = None
    note: str = ""

    def chart_rows(self) -> list[list[Cell]]:
        """The rows the chart draws: the first ``limit`` rows with a non-zero value."""
        if self.chart is None:
            return []
        chart = self.chart
        rows = self.rows
        if chart.top_only and self.depths is not None:
            rows = [r for r, depth in zip(self.rows, self.depths, strict=True) if depth == 0]
        picked = [r for r in rows if any(_number(r[i]) for i in chart.series)]
        if chart.largest:
            picked.sort(key=lambda r: -sum(_number(r[i]) for i in chart.series))
        return picked[: chart.limit]


def _number(value: Cell) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """``kind`` is ``usage``, ``accounts`` or ``requests``; dates are local days, both
    included; ``issuer`` is who issues it (the operator's agency, or the agency whose
    report it is); ``rule`` the cadence rule of a periodic usage report."""

    kind: str
    title: str
    subject: str
    province: str
    scope: str
    issuer: str
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    timezone: str
    rule: str = ""
    #: The body above the issuer (the province's People's Committee, a parent agency).
    issuer_parent: str = ""
    facts: list[tuple[str, Cell, ColumnKind]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]
