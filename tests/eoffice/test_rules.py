"""The eOffice's pure rules (no database): Decree 30 types and numbers, urgency and
confidentiality, the GL-9.1 summary guidance, working-day deadlines (ND30-23, GL-10.7),
the GL-9.3 distribution shape, KH-8.3, the GL-3.4 settings and file checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from congvu.eoffice import files, rules
from congvu.eoffice.params import EofficeParams, params_for
from congvu.eoffice.rules import AssignmentKind as K
from congvu.errors import CongvuError, Forbidden
from congvu.profiles import Duration
from congvu.workdays import WorkCalendar
from tests.conftest import at, profile

CAL = WorkCalendar()

# --- Decree 30 Phụ lục III ---

PHU_LUC_III = {
    "Nghị quyết": "NQ", "Quyết định": "QĐ", "Chỉ thị": "CT", "Quy chế": "QC",
    "Quy định": "QyĐ", "Thông cáo": "TC", "Thông báo": "TB", "Hướng dẫn": "HD",
    "Chương trình": "CTr", "Kế hoạch": "KH", "Phương án": "PA", "Đề án": "ĐA", "Dự án": "DA",
    "Báo cáo": "BC", "Biên bản": "BB", "Tờ trình": "TTr", "Hợp đồng": "HĐ", "Công điện": "CĐ",
    "Bản ghi nhớ": "BGN", "Bản thỏa thuận": "BTT", "Giấy ủy quyền": "GUQ", "Giấy mời": "GM",
    "Giấy giới thiệu": "GGT", "Giấy nghỉ phép": "GNP", "Phiếu gửi": "PG", "Phiếu chuyển": "PC",
    "Phiếu báo": "PB", "Bản sao y": "SY", "Bản trích sao": "TrS", "Bản sao lục": "SL",
}


def test_nd30_phu_luc_iii_every_abbreviation() -> None:
    table = {t.name: t.abbr for t in rules.DOC_TYPES if t.abbr}
    assert table == PHU_LUC_III
    assert rules.doc_type("cong-van").abbr == ""
    assert {t.key for t in rules.DOC_TYPES if t.kind == rules.TypeKind.COPY} == {
        "sao-y", "trich-sao", "sao-luc"}


@pytest.mark.parametrize("text", ["quyet-dinh", "QĐ", "qd", "Quyết định", "quyet dinh"])
def test_nd30_type_by_key_abbreviation_or_name(text: str) -> None:
    assert rules.doc_type(text).abbr == "QĐ"


def test_nd30_unknown_type_is_refused_and_other_only_for_incoming() -> None:
    with pytest.raises(CongvuError):
        rules.doc_type("luat")
    with pytest.raises(CongvuError):
        rules.doc_type("khac")
    assert rules.doc_type("khac", incoming=True).key == "khac"


def test_gl_number_format_as_the_seed_so_243_qd_stttt() -> None:
    assert rules.format_number(243, "quyet-dinh", "STTTT") == "Số: 243/QĐ-STTTT"
    assert rules.format_number(15, "quy-dinh", "UBND") == "Số: 15/QyĐ-UBND"
    assert rules.format_number(7, "de-an", "STTTT") == "Số: 07/ĐA-STTTT"


def test_nd30_cong_van_symbol_is_agency_then_drafting_unit() -> None:
    assert rules.format_number(243, "cong-van", "STTTT", "VP") == "Số: 243/STTTT-VP"
    assert rules.format_number(12, "cong-van", "STTTT") == "Số: 12/STTTT"


def test_nd30_numbers_below_10_have_a_leading_zero() -> None:
    assert rules.number_digits(1) == "01"
    assert rules.number_digits(9) == "09"
    assert rules.number_digits(10) == "10"
    with pytest.raises(CongvuError):
        rules.number_digits(0)


def test_nd30_copies_and_normative_documents() -> None:
    assert rules.format_number(15, "sao-y", "UBND") == "Số: 15/SY-UBND"
    assert rules.format_number(3, "trich-sao", "STTTT") == "Số: 03/TrS-STTTT"
    assert rules.format_number(12, "quyet-dinh", "UBND", normative_year=2026) == \
        "Số: 12/2026/QĐ-UBND"


@pytest.mark.parametrize("bad", ["", "st tt", "sở", "1ABC", "A" * 21, "TT&TT"])
def test_nd30_invalid_symbols_are_refused(bad: str) -> None:
    with pytest.raises(CongvuError):
        rules.check_symbol(bad)


def test_nd30_series_general_normative_secret_copy() -> None:
    C = rules.Confidentiality
    assert rules.series_for("quyet-dinh", C.NONE, False) == rules.Series.GENERAL
    assert rules.series_for("cong-van", C.NONE, False) == rules.Series.GENERAL
    assert rules.series_for("quyet-dinh", C.NONE, True) == rules.Series.NORMATIVE
    assert rules.series_for("bao-cao", C.CONFIDENTIAL, False) == rules.Series.SECRET
    assert rules.series_for("bao-cao", C.TOP_SECRET, False) == rules.Series.SECRET
    assert rules.series_for("sao-luc", C.NONE, False) == rules.Series.COPY
    with pytest.raises(CongvuError):
        rules.series_for("quyet-dinh", C.SECRET, True)
    with pytest.raises(CongvuError):
        rules.series_for("bao-cao", C.NONE, True)


def test_gl_9_duplicate_keys_ignore_spacing_tone_marks_and_the_so_prefix() -> None:
    assert rules.number_symbol_key("Số: 123/QĐ-UBND") == rules.number_symbol_key("123 / qđ-ubnd")
    assert rules.number_symbol_key("0123/QD-UBND") == "123/QD-UBND"
    assert rules.issuer_key("Ủy ban nhân dân tỉnh Gia Lai.") == rules.issuer_key(
        "UY BAN NHAN DAN  tinh gia lai")


# --- urgency and confidentiality ---


def test_urgency_and_confidentiality_have_their_vietnamese_labels() -> None:
    assert rules.URGENCY_WORDS == {"normal": "Thường", "khan": "Khẩn",
                                   "thuong_khan": "Thượng khẩn", "hoa_toc": "Hỏa tốc"}
    assert rules.CONFIDENTIALITY_WORDS["mat"] == "Mật"
    assert rules.CONFIDENTIALITY_WORDS["toi_mat"] == "Tối mật"
    assert rules.CONFIDENTIALITY_WORDS["tuyet_mat"] == "Tuyệt mật"
    with translation.override("vi"):
        assert str(rules.Urgency.FLASH.label) == "Hỏa tốc"
        assert str(rules.Urgency.VERY_URGENT.label) == "Thượng khẩn"
        assert str(rules.Confidentiality.TOP_SECRET.label) == "Tuyệt mật"


def test_urgency_and_confidentiality_parse_the_vietnamese_words() -> None:
    assert rules.parse_urgency("Hỏa tốc") == "hoa_toc"
    assert rules.parse_urgency("thượng khẩn") == "thuong_khan"
    assert rules.parse_urgency("") == "normal"
    assert rules.parse_confidentiality("Tối mật") == "toi_mat"
    with pytest.raises(CongvuError):
        rules.parse_urgency("very")
    assert [rules.is_urgent(u) for u in rules.Urgency.values] == [False, True, True, True]


def test_kh_8_3_classified_documents_are_never_emailed() -> None:
    assert rules.may_email("none")
    for level in ("mat", "toi_mat", "tuyet_mat"):
        assert not rules.may_email(level)
        with pytest.raises(Forbidden) as refused:
            rules.require_may_email(level)
        assert refused.value.rule == "KH-8.3"
        assert "KH-8.3" in str(refused.value)


# --- GL-9.1 summary guidance ---


@pytest.mark.parametrize("summary", ["V/v Mời họp", "v/v mời họp", "Về việc báo cáo",
                                     "V/v: góp ý"])
def test_gl_9_1_generic_summaries_are_flagged(summary: str) -> None:
    assert "generic" in [h.code for h in rules.summary_hints(summary)]


def test_gl_9_1_the_example_summary_passes() -> None:
    assert rules.summary_hints("UBND tỉnh mời họp ngày 15/3/2026 về việc triển khai "
                               "Đề án 06") == []


def test_gl_9_1_a_meeting_without_date_or_subject_is_flagged() -> None:
    codes = [h.code for h in rules.summary_hints("UBND tỉnh Gia Lai mời họp các sở ngành liên "
                                                 "quan")]
    assert "no_when" in codes and "no_what" in codes
    assert [h.code for h in rules.summary_hints("Báo cáo")] == ["short"]
    assert [h.code for h in rules.summary_hints("  ")] == ["empty"]


def test_gl_9_1_hints_are_translated() -> None:
    with translation.override("vi"):
        (hint,) = rules.summary_hints("V/v Mời họp")
    assert "GL-9.1" in hint.message and "trích yếu" in hint.message.lower()


# --- deadlines in working days ---

ONE = Duration(1, "days", working=True)
THREE = Duration(3, "days", working=True)


def test_nd30_23_registration_due_the_next_working_day() -> None:
    # Friday 13/2/2026 is the last day before Tết (16–20/2): due Monday 23/2.
    assert rules.registration_due(CAL, at("2026-02-13T10:00"), "normal", ONE) == at(
        "2026-02-23T17:00")
    # Received Saturday: due the next working day, Monday.
    assert rules.registration_due(CAL, at("2026-03-07T10:00"), "normal", ONE) == at(
        "2026-03-09T17:00")


def test_nd30_23_urgent_documents_are_due_the_same_day() -> None:
    assert rules.registration_due(CAL, at("2026-03-02T10:00"), "hoa_toc", ONE) == at(
        "2026-03-02T17:00")
    # Arriving on a Sunday: the end of Monday.
    assert rules.registration_due(CAL, at("2026-03-08T10:00"), "khan", ONE) == at(
        "2026-03-09T17:00")


def test_gl_10_7_reviewer_has_3_working_days() -> None:
    due = rules.review_due(CAL, at("2026-04-28T10:00"), "normal", span=THREE, urgent_span=ONE)
    # Wednesday 29/4, then 30/4 and 1/5 off, Monday 4/5, Tuesday 5/5.
    assert due == at("2026-05-05T17:00")


def test_gl_10_7_unless_urgent() -> None:
    due = rules.review_due(CAL, at("2026-03-02T10:00"), "khan", span=THREE, urgent_span=ONE)
    assert due == at("2026-03-03T17:00")
    # The draft's own deadline comes first when earlier.
    own = rules.review_due(CAL, at("2026-03-02T10:00"), "thuong_khan", span=THREE,
                           urgent_span=ONE, document_deadline=dt.date(2026, 3, 2))
    assert own == at("2026-03-02T17:00")


def test_gl_10_7_spans_must_be_working_days() -> None:
    with pytest.raises(CongvuError):
        rules.review_due(CAL, at("2026-03-02T10:00"), "normal",
                         span=Duration(3, "days"), urgent_span=ONE)


# --- GL-9.3 / GL-9.4 distribution shapes ---


def test_gl_9_3_several_departments_at_once() -> None:
    rules.check_distribution([(K.HANDLE, "d:1"), (K.HANDLE, "d:2"), (K.INFORM, "p:3")])


def test_gl_9_3_one_lead_with_coordinating_ones() -> None:
    rules.check_distribution([(K.LEAD, "d:1"), (K.COORDINATE, "d:2"), (K.COORDINATE, "d:3")])


@pytest.mark.parametrize("shape", [
    [],
    [(K.LEAD, "d:1"), (K.LEAD, "d:2")],
    [(K.LEAD, "d:1"), (K.HANDLE, "d:2")],
    [(K.COORDINATE, "d:2")],
    [(K.HANDLE, "d:1"), (K.INFORM, "d:1")],
    [("boss", "d:1")],
])
def test_gl_9_3_invalid_shapes_are_refused(shape: list[tuple[str, str]]) -> None:
    with pytest.raises(CongvuError):
        rules.check_distribution(shape)


def test_gl_9_4_within_a_department_no_lead_and_coordinators_need_a_handler() -> None:
    rules.check_distribution([(K.HANDLE, "p:1"), (K.COORDINATE, "p:2")], passing_on=True)
    with pytest.raises(CongvuError):
        rules.check_distribution([(K.LEAD, "p:1")], passing_on=True)
    with pytest.raises(CongvuError):
        rules.check_distribution([(K.COORDINATE, "p:1")], passing_on=True)


# --- GL-3.4 settings ---


def test_gl_3_4_review_span_comes_from_the_gia_lai_profile() -> None:
    params = params_for(profile("gia-lai"))
    assert (params.review_span, params.review_rule) == (THREE, "GL-10.7")
    assert params_for(profile("ninh-binh")).review_span == THREE


def test_gl_3_4_settings_override_and_are_checked() -> None:
    params = params_for(profile("gia-lai"), {"review_span": "2 working days",
                                              "max_file_mb": 10, "accepted_types": [".PDF"]})
    assert params.review_span == Duration(2, "days", working=True)
    assert (params.max_file_mb, params.accepted_types) == (10, ("pdf",))
    for bad in ({"nonsense": 1}, {"review_span": "3 days"}, {"max_file_mb": 0},
                {"mail_notices": "yes"}, {"accepted_types": "pdf"}):
        with pytest.raises(CongvuError):
            params_for(profile("gia-lai"), bad)


# --- files ---

PDF = b"%PDF-1.7\n% body\n%%EOF\n"


def test_files_pdfs_are_checked_to_be_pdfs(tmp_path) -> None:
    params = EofficeParams()
    assert files.check(files.Upload("a.pdf", PDF), params, pdf_only=True) == "application/pdf"
    for bad in (b"hello", b"%PDF-1.7\ntruncated", b"PK\x03\x04..."):
        with pytest.raises(CongvuError, match="PDF"):
            files.check(files.Upload("a.pdf", bad), params)
    with pytest.raises(CongvuError):
        files.check(files.Upload("a.docx", PDF), params)  # not a zip
    with pytest.raises(CongvuError):
        files.check(files.Upload("scan.docx", b"PK\x03\x04x"), params, pdf_only=True)
    with pytest.raises(CongvuError):
        files.check(files.Upload("a.exe", b"MZ"), params)
    with pytest.raises(CongvuError):
        files.check(files.Upload("a.pdf", b""), params)


def test_files_size_limit(tmp_path) -> None:
    params = EofficeParams(max_file_mb=1)
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024) + b"\n%%EOF\n"
    with pytest.raises(CongvuError, match="MB"):
        files.check(files.Upload("big.pdf", big), params)


def test_files_are_stored_once_by_sha256(tmp_path) -> None:
    params = EofficeParams()
    one = files.store(files.Upload("a.pdf", PDF), params, home=tmp_path)
    two = files.store(files.Upload("copy of a.pdf", PDF), params, home=tmp_path)
    assert one.path == two.path and one.sha256 == two.sha256
    assert one.path == f"eoffice/files/{one.sha256[:2]}/{one.sha256[2:4]}/{one.sha256}"
    assert (one.size, one.mime, two.name) == (len(PDF), "application/pdf", "copy of a.pdf")
    assert files.read(one.path, one.sha256, home=tmp_path) == PDF
    assert len(list((tmp_path / "eoffice/files").rglob("*"))) == 3  # ab/, ab/cd/, the file


def test_files_paths_cannot_escape_the_files_folder(tmp_path) -> None:
    with pytest.raises(CongvuError):
        files.absolute("eoffice/files/../../congvu.toml", home=tmp_path)
    (tmp_path / "eoffice/files/aa").mkdir(parents=True)
    (tmp_path / "eoffice/files/aa/x").write_bytes(b"changed")
    with pytest.raises(CongvuError):
        files.read("eoffice/files/aa/x", "0" * 64, home=tmp_path)
