"""Helpers for the import tests: files made in memory (CSV text, XLSX workbooks)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any


def csv_bytes(*lines: str, bom: bool = False, encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(lines) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, title_rows: Sequence[str] = (),
               sheet: str = "Danh sách") -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for title in title_rows:
        ws.append([title])
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BORN = dt.datetime(1985, 9, 5)
