"""``congvu report``: which report is due (QN-13.6), the figures as JSON, the files written
straight from the command line, and the same authorisation as the console (``--as``)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import CliResult

pytestmark = pytest.mark.django_db
PERIOD = ("--from", "2026-01-01", "--to", "2026-06-30", "--now", "2026-06-20T10:00")


def test_report_due_names_the_qn_13_6_half_year(province: Any, cli: Any) -> None:
    result: CliResult = cli("report", "due", "--now", "2026-06-20", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"title": "Báo cáo 6 tháng đầu năm 2026", "rule": "QN-13.6",
                             "due": "2026-06-30", "days_left": 10, "start": "2026-01-01",
                             "end": "2026-06-30"}
    text = cli("report", "due", "--now", "2026-06-20").stdout
    assert "Báo cáo 6 tháng đầu năm 2026: hạn 30/06/2026, còn 10 ngày (QN-13.6)" in text


def test_report_show_prints_the_figures(province: Any, cli: Any) -> None:
    result = cli("report", "show", "requests", *PERIOD, "--json")
    assert result.exit_code == 0, result.stderr
    tables = {t["key"]: t for t in result.json()["tables"]}
    assert tables["sla-by-kind"]["total"][3:8] == [4, 1, 1, 1, 1]
    text = cli("report", "show", "accounts", *PERIOD).stdout
    assert "Tài khoản theo cơ quan, đơn vị" in text and "Sở Tài chính" in text


def test_report_as_an_agency_contact_is_limited_to_their_agency(province: Any,
                                                                cli: Any) -> None:
    nam = province["nam"].address
    mine = cli("report", "show", "accounts", *PERIOD, "--as", nam, "--json").json()
    assert "Sở Tài chính" not in repr(mine)
    refused = cli("report", "show", "accounts", *PERIOD, "--as", nam, "--agency", "stc")
    assert refused.exit_code == 2 and "Lỗi:" in refused.stderr
    assert "Sở Tài chính" not in refused.stdout


def test_report_export_writes_the_xlsx_and_the_pdf(province: Any, cli: Any,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.xlsx"
    result = cli("report", "export", "usage", *PERIOD, "--format", "xlsx", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Đã ghi tệp" in result.stdout
    wb = load_workbook(io.BytesIO(out.read_bytes()))
    assert wb.sheetnames[0] == "Báo cáo" and len(wb.sheetnames) == 10
    pdf = tmp_path / "bao-cao.pdf"
    assert cli("report", "export", "requests", *PERIOD, "--format", "pdf", "--output",
               str(pdf)).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
