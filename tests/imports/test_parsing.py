"""Reading the uploaded file (NB-13 migration, onboarding an agency): CSV in UTF-8 with
or without BOM, UTF-16, comma/semicolon/tab; XLSX with title lines above the table and
date cells; Vietnamese and English headers; every refusal says what to do, in
Vietnamese."""

from __future__ import annotations

import pytest

from congvu.imports.parsing import MAX_ROWS, ImportFileError, read_table
from tests.imports.conftest import BORN, csv_bytes, xlsx_bytes


def test_nb_13_csv_with_vietnamese_headers_and_a_bom_is_read() -> None:
    data = csv_bytes("STT,Họ và tên,Cơ quan/đơn vị,Chức vụ,Ngày sinh,Địa chỉ cũ",
                     "1,Nguyễn Văn Nam,sotttt,Chuyên viên,05/09/1985,nam@hanam.gov.vn",
                     ",,,,,",
                     "2,Trần Thị Bình,stc,,,", bom=True)
    table = read_table(data)
    assert table.file_format == "csv"
    assert [r.line for r in table.rows] == [2, 4]  # blank lines skipped, rows as in Excel
    first = table.rows[0].values
    assert first["full_name"] == "Nguyễn Văn Nam" and first["agency"] == "sotttt"
    assert first["position"] == "Chuyên viên" and first["birth_date"] == "05/09/1985"
    assert first["old_address"] == "nam@hanam.gov.vn"
    assert table.ignored == []


def test_english_headers_semicolons_and_no_bom() -> None:
    data = csv_bytes("full_name;agency;wanted_address;leader;extra",
                     "Lê Văn Tám;sotttt;tamlv;yes;x")
    table = read_table(data)
    assert table.rows[0].values == {"full_name": "Lê Văn Tám", "agency": "sotttt",
                                    "wanted_address": "tamlv", "leader": "yes"}
    assert table.ignored == ["extra"]


def test_utf16_from_excel_unicode_text_is_read() -> None:
    data = "Họ tên\tĐơn vị\nPhạm Thị Cúc\tstc\n".encode("utf-16")
    assert read_table(data).rows[0].values["full_name"] == "Phạm Thị Cúc"


def test_a_windows_1258_file_is_refused_with_what_to_do() -> None:
    # "Họ tên,Cơ quan / Lê Văn Tám,stc" as Windows-1258 writes it (base letter + tone mark)
    data = b"Ho\xf2 t\xean,C\xf5 quan\nL\xea V\xe3n Ta\xecm,stc\n"
    assert data.decode("cp1258").startswith("Ho\u0323 tên")
    with pytest.raises(ImportFileError) as exc:
        read_table(data)
    assert "không phải văn bản UTF-8" in exc.value.message
    assert "CSV UTF-8" in exc.value.message and "Windows-1258" in exc.value.message


def test_missing_columns_are_named_in_vietnamese() -> None:
    with pytest.raises(ImportFileError) as exc:
        read_table(csv_bytes("Họ và tên,Chức vụ", "Lê Văn Tám,Chuyên viên"))
    assert "“Cơ quan/đơn vị”" in exc.value.message
    assert "“Họ và tên”" in exc.value.message and "“Chức vụ”" in exc.value.message
    with pytest.raises(ImportFileError) as exc:
        read_table(csv_bytes("name_of_person,unit", "Lê Văn Tám,stc"))
    assert "“Họ và tên”" in exc.value.message


def test_a_column_named_twice_is_refused() -> None:
    with pytest.raises(ImportFileError) as exc:
        read_table(csv_bytes("Họ tên,Cơ quan,Đơn vị", "Lê Văn Tám,stc,stc"))
    assert "B" in exc.value.message and "C" in exc.value.message


def test_empty_and_header_only_files_are_refused() -> None:
    with pytest.raises(ImportFileError):
        read_table(b"   \n")
    with pytest.raises(ImportFileError) as exc:
        read_table(csv_bytes("Họ tên,Cơ quan"))
    assert "không có người nào" in exc.value.message


def test_xlsx_with_title_lines_dates_and_numbers() -> None:
    data = xlsx_bytes([["STT", "Họ và tên", "Cơ quan", "Ngày sinh", "Lãnh đạo"],
                       [1, "Nguyễn Văn Nam", "sotttt", BORN, 1],
                       [None, None, None, None, None],
                       [2, "  Trần   Thị Bình ", "stc", "1990-01-02", None]],
                      title_rows=["DANH SÁCH CÁN BỘ ĐỀ NGHỊ CẤP HỘP THƯ", ""])
    table = read_table(data, "danh-sach.xlsx")
    assert table.file_format == "xlsx"
    assert [r.line for r in table.rows] == [4, 6]
    assert table.rows[0].values["birth_date"] == "05/09/1985"
    assert table.rows[0].values["leader"] == "1"
    assert table.rows[1].values["full_name"] == "Trần Thị Bình"


def test_old_excel_and_other_zip_files_are_refused() -> None:
    with pytest.raises(ImportFileError) as exc:
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert ".xls" in exc.value.message and ".xlsx" in exc.value.message
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("content.xml", "<x/>")
    with pytest.raises(ImportFileError):
        read_table(buf.getvalue())
    with pytest.raises(ImportFileError):
        read_table(b"PK\x03\x04garbage")


def test_too_many_rows_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("congvu.imports.parsing.MAX_ROWS", 2)
    with pytest.raises(ImportFileError) as exc:
        read_table(csv_bytes("Họ tên,Cơ quan", "A B,x", "C D,x", "E F,x"))
    assert "2" in exc.value.message
    assert MAX_ROWS == 100_000


def test_every_title_shown_on_the_upload_page_is_recognised() -> None:
    from congvu.imports.columns import COLUMNS, column_for

    for column in COLUMNS:
        assert column.examples
        for title in column.examples:
            assert column_for(title) == column.key, title
    assert column_for("STT") == "" and column_for("Ghi chú") is None
