"""The files a report is downloaded as: the XLSX opened back with openpyxl (one sheet per
table, numbers as numbers, a native chart on each), the PDF read back with pdftotext
(Debian's poppler-utils): an A4 administrative report in Vietnamese with the national
motto, the issuing agency, the period, the tables and the date of issue."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from openpyxl import load_workbook

from congvu.errors import CongvuError
from congvu.reports import pdf
from congvu.reports.build import ReportAsk, build_report
from congvu.reports.model import Report
from congvu.reports.pdf import report_pdf
from congvu.reports.svg import chart_svg
from congvu.reports.xlsx import report_xlsx
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db
H1 = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))


def _report(province: dict[str, Any], kind: str, home: Path, actor: str = "operator") -> Report:
    return build_report(province[actor], province["p"], ReportAsk(kind, *H1), now=NOW,
                        home=home)


def pdf_text(data: bytes, tmp_path: Path) -> tuple[str, int]:
    """The PDF's text (layout kept) and its number of pages, through poppler-utils."""
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (Debian's poppler-utils; scripts/setup installs it)")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines()
                     if line.startswith("Pages:")))
    return text, pages


def test_the_xlsx_has_a_cover_and_one_sheet_per_table_with_numbers_and_a_chart(
        province: Any, tmp_path: Path) -> None:
    report = _report(province, "requests", tmp_path)
    wb = load_workbook(io.BytesIO(report_xlsx(report)))
    assert wb.sheetnames == ["Báo cáo", "Yêu cầu theo loại", "Thời hạn theo loại",
                             "Thời hạn theo cơ quan"]
    cover = wb["Báo cáo"]
    assert cover["A1"].value == ("Yêu cầu và việc bảo đảm thời hạn xử lý — Yêu cầu của các "
                                 "cơ quan và việc bảo đảm thời hạn xử lý")
    facts = {cover.cell(r, 1).value: cover.cell(r, 2).value for r in range(6, 20)}
    assert facts["Yêu cầu gửi đến trong kỳ"] == 6
    sla = wb["Thời hạn theo loại"]
    header = [c.value for c in sla[6]]
    assert header[:4] == ["Loại yêu cầu", "Quy định", "Thời hạn", "Đến hạn trong kỳ"]
    assert [c.value for c in sla[7]] == ["Cấp hộp thư mới (Mẫu 01)", "QN-5.2",
                                         "5 ngày làm việc", 3, 1, 0, 1, 1, 0.5]
    assert sla.cell(7, 9).number_format == "0.0%"
    assert [c.value for c in sla[10]][:4] == ["Tổng cộng", None, None, 4]
    for name in wb.sheetnames[1:]:
        charts = wb[name]._charts
        assert len(charts) == 1, name


def test_a_chart_of_the_largest_agencies_gets_its_own_figures(province: Any,
                                                              tmp_path: Path) -> None:
    """The chart of a tree draws the top-level agencies only, so its figures are written
    beside the table (the units would be counted twice)."""
    wb = load_workbook(io.BytesIO(report_xlsx(_report(province, "accounts", tmp_path))))
    ws = wb["Tài khoản theo cơ quan"]
    column_a = [c.value for c in ws["A"]]
    assert "Số liệu của biểu đồ" in column_a
    start = column_a.index("Số liệu của biểu đồ") + 1
    assert [c.value for c in ws[start + 2]][:4] == ["Sở Thông tin và Truyền thông", 3, 0, 0]
    assert ws.cell(9, 1).alignment.indent == 1  # the unit under its agency


def test_the_pdf_is_an_a4_vietnamese_administrative_report(province: Any,
                                                           tmp_path: Path) -> None:
    data = report_pdf(_report(province, "usage", tmp_path))
    assert data.startswith(b"%PDF")
    text, pages = pdf_text(data, tmp_path)
    assert pages >= 2
    flat = " ".join(text.split())  # lines wrapped by the layout joined again
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
                     "Quảng Nam, ngày 20 tháng 6 năm 2026", "BÁO CÁO",
                     "Tình hình quản lý và sử dụng hệ thống thư điện tử công vụ",
                     "Báo cáo 6 tháng đầu năm 2026, tỉnh Quảng Nam",
                     "từ ngày 01/01/2026 đến ngày 30/06/2026",
                     "Thực hiện quy định QN-13.6", "SỐ LIỆU CHÍNH", "Nơi nhận:",
                     "THỦ TRƯỞNG CƠ QUAN", "Cấp hộp thư mới (Mẫu 01)", "QN-5.2",
                     "Tài khoản tạo mới trong kỳ", "Sở Tài chính"):
        assert expected in flat, expected
    assert "Tổng cộng" in text and "33,3 %" in text  # SLA on time, Vietnamese decimals


def test_the_pdf_of_an_agency_names_the_agency_and_its_parent_body(province: Any,
                                                                   tmp_path: Path) -> None:
    text, _pages = pdf_text(report_pdf(_report(province, "accounts", tmp_path, "contact")),
                            tmp_path)
    assert "ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM" in text and "Sở Tài chính" not in text
    assert "Trung tâm Công nghệ thông tin" in text


def test_reports_in_english_when_the_reader_chose_english(province: Any,
                                                           tmp_path: Path) -> None:
    with translation.override("en"):
        report = _report(province, "usage", tmp_path)
        text, _pages = pdf_text(report_pdf(report), tmp_path)
        wb = load_workbook(io.BytesIO(report_xlsx(report)))
    assert "SOCIALIST REPUBLIC OF VIET NAM" in text
    assert "Independence - Freedom - Happiness" in text
    assert "Report for the first half of 2026" in text and "Quảng Nam, 20/06/2026" in text
    assert "Accounts by state" in wb.sheetnames


def test_missing_fonts_are_a_clear_error(province: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path / "no-fonts")
    pdf.register_fonts.cache_clear()
    try:
        with pytest.raises(CongvuError, match="fonts-noto-core"):
            report_pdf(_report(province, "requests", tmp_path))
    finally:
        pdf.register_fonts.cache_clear()


def test_charts_are_inline_svg_with_a_text_alternative_and_no_inline_style(
        province: Any, tmp_path: Path) -> None:
    report = _report(province, "requests", tmp_path)
    svg = str(chart_svg(next(t for t in report.tables if t.key == "sla-by-kind")))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title id=\"chart-sla-by-kind-title\">" in svg and "<desc" in svg
    assert "style=" not in svg and "<script" not in svg
    assert "Cấp hộp thư mới (Mẫu 01)" in svg
