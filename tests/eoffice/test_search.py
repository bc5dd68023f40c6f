"""The document search (issue 7, GL-2): metadata and the PDFs' full text, without tone
marks, through the visibility filters (never a document the reader may not read); the
full-text index stays in sync with every write (PostgreSQL generated tsvector, SQLite
FTS5 triggers)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import connection
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from congvu.eoffice import actions, fulltext
from congvu.eoffice.actions import Recipient
from congvu.eoffice.files import Upload
from congvu.eoffice.models import IncomingDocument, OutgoingDocument
from congvu.eoffice.rules import AssignmentKind as K
from congvu.eoffice.search import SearchFilters, parse_query, search
from congvu.reports.pdf import register_fonts
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, Office, approved, draft, form, pdf

pytestmark = pytest.mark.django_db


def text_pdf(*lines: str, name: str = "van-ban.pdf") -> Upload:
    """A real PDF with a text layer (Noto Sans: every Vietnamese letter)."""
    register_fonts()
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFont("NotoSans", 11)
    for n, line in enumerate(lines):
        page.drawString(72, 800 - 16 * n, line)
    page.showPage()
    page.save()
    return Upload(name, out.getvalue())


def scanned_pdf() -> Upload:
    """A PDF without any text (a scan): only an empty page."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.rect(50, 50, 100, 100)
    page.showPage()
    page.save()
    return Upload("scan.pdf", out.getvalue())


def registered(o: Office, upload: Upload | None = None, when: dt.datetime = NOW,
               **kwargs: Any) -> IncomingDocument:
    return actions.do_register_incoming(actor=o.clerk.actor, profile=o.p,
                                        agency_id=o.agency.pk, form=form(**kwargs),
                                        upload=upload or pdf(), now=when, params=PARAMS)


def found(person: Any, text: str, **filters: Any) -> list[tuple[str, int]]:
    page = search(person.actor, NOW, text, filters=SearchFilters(**filters))
    return [(h.kind, h.id) for h in page.hits]


def test_gl2_search_without_tone_marks_finds_the_metadata(office) -> None:
    doc = registered(office, number_symbol="45/QĐ-UBND",
                     summary="Quyết định phê duyệt Đề án chuyển đổi số tỉnh Gia Lai",
                     issuer="UBND tỉnh Gia Lai", signer="Trương Hải Long")
    registered(office, number_symbol="46/TB-UBND", summary="Thông báo lịch tiếp công dân")
    assert found(office.clerk, "quyet dinh chuyen doi so") == [("incoming", doc.pk)]
    assert found(office.clerk, "QUYẾT ĐỊNH chuyển đổi") == [("incoming", doc.pk)]
    assert found(office.clerk, "truong hai long") == [("incoming", doc.pk)]  # the signer
    assert found(office.clerk, "45/QĐ-UBND") == [("incoming", doc.pk)]  # number and symbol
    assert found(office.clerk, "chuyen do") == [("incoming", doc.pk)]  # still typing
    assert found(office.clerk, "chuyen doi so y te") == []  # every word must match


def test_gl2_search_finds_words_of_the_pdf_text_with_a_snippet(office) -> None:
    doc = registered(office, text_pdf(
        "ỦY BAN NHÂN DÂN TỈNH GIA LAI",
        "Kế hoạch ứng dụng trí tuệ nhân tạo trong cải cách hành chính năm 2026",
        "Giao Sở Thông tin và Truyền thông chủ trì triển khai."),
        number_symbol="77/KH-UBND", summary="Kế hoạch năm 2026 của UBND tỉnh")
    assert "trí tuệ nhân tạo" in IncomingDocument.objects.get(pk=doc.pk).body_text
    page = search(office.clerk.actor, NOW, "tri tue nhan tao")
    (hit,) = page.hits
    assert hit.id == doc.pk and hit.number == "01/2026"
    marked = [text for text, matched in hit.snippet if matched]
    # Every form of the words is marked, tone marks or not ("trì" folds to "tri" too).
    assert {m.lower() for m in marked} == {"trí", "tuệ", "nhân", "tạo", "trì"}
    assert "cải cách hành chính" in "".join(text for text, _ in hit.snippet)


def test_gl2_a_scanned_pdf_is_searchable_by_its_metadata(office) -> None:
    doc = registered(office, scanned_pdf(), number_symbol="9/CV-STC",
                     summary="Sở Tài chính đề nghị báo cáo quyết toán ngân sách")
    assert IncomingDocument.objects.get(pk=doc.pk).body_text == ""
    assert found(office.clerk, "quyet toan ngan sach") == [("incoming", doc.pk)]


def test_gl2_a_damaged_pdf_does_not_fail_the_registration(office) -> None:
    doc = registered(office, pdf("không phải PDF thật"), number_symbol="10/CV-STC")
    assert IncomingDocument.objects.get(pk=doc.pk).body_text == ""


def test_gl12_search_never_shows_a_document_the_reader_may_not_read(office) -> None:
    mine = registered(office, number_symbol="1/UBND-VX",
                      summary="Hướng dẫn triển khai chữ ký số chuyên dùng")
    secret = registered(office, text_pdf("Phương án bảo vệ bí mật nhà nước về chữ ký số"),
                        number_symbol="2/PA-CA", summary="Phương án bảo vệ chữ ký số",
                        confidentiality="mat")
    theirs = actions.do_register_incoming(
        actor=office.other_clerk.actor, profile=office.p, agency_id=office.other.pk,
        form=form(number_symbol="3/UBND-VX", summary="Hướng dẫn triển khai chữ ký số tại "
                  "Sở Tài chính"), upload=pdf(), now=NOW, params=PARAMS)
    # The clerk: every document of the agency, classified too; never the other agency's.
    assert found(office.clerk, "chu ky so") == [("incoming", secret.pk), ("incoming", mine.pk)]
    assert found(office.other_clerk, "chu ky so") == [("incoming", theirs.pk)]
    # The deputy director: registered documents, not the classified one.
    assert found(office.deputy, "chu ky so") == [("incoming", mine.pk)]
    assert found(office.deputy, "bi mat nha nuoc") == []  # not even by its text
    # A specialist: nothing until it is assigned to them.
    assert found(office.spec, "chu ky so") == []
    actions.do_assign_incoming(actor=office.director.actor, profile=office.p,
                               document_id=mine.pk, now=NOW, params=PARAMS,
                               recipients=[Recipient(K.HANDLE, account_id=office.spec.id)])
    assert found(office.spec, "chu ky so") == [("incoming", mine.pk)]
    assert found(office.spec2, "chu ky so") == []


def test_gl10_outgoing_drafts_are_found_by_whoever_may_read_them(office) -> None:
    doc = draft(office, summary="Quyết định thành lập Tổ công tác chuyển đổi số")
    assert found(office.spec, "to cong tac") == [("outgoing", doc.pk)]
    assert found(office.spec2, "to cong tac") == []
    assert found(office.clerk, "to cong tac") == []  # a draft is not the clerk's yet


def test_gl2_the_index_follows_numbering_and_changes(office) -> None:
    doc = approved(office, summary="Quyết định ban hành quy chế làm việc")
    assert found(office.clerk, "01/QĐ-STTTT") == []
    actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                               now=NOW)
    assert found(office.clerk, "01/QĐ-STTTT") == [("outgoing", doc.pk)]
    # A new signed PDF replaces the text the search finds.
    actions.do_add_version(actor=office.clerk.actor, outgoing_id=doc.pk, now=NOW,
                           profile=office.p, params=PARAMS,
                           upload=text_pdf("Điều 1. Ban hành kèm theo Quyết định này Quy chế"))
    assert found(office.clerk, "kem theo quyet dinh") == [("outgoing", doc.pk)]
    actions.do_add_version(actor=office.clerk.actor, outgoing_id=doc.pk, now=NOW,
                           profile=office.p, params=PARAMS,
                           upload=text_pdf("Điều 2. Hiệu lực thi hành", name="ky-so.pdf"))
    assert found(office.clerk, "kem theo quyet dinh") == []
    assert found(office.clerk, "hieu luc thi hanh") == [("outgoing", doc.pk)]
    # Any write, even outside the actions, and a deletion.
    OutgoingDocument.objects.filter(pk=doc.pk).update(search_text="quy che moi")
    assert found(office.clerk, "quy che moi") == [("outgoing", doc.pk)]
    assert found(office.clerk, "lam viec") == []
    incoming = registered(office, number_symbol="5/TB-UBND", summary="Thông báo nghỉ lễ")
    assert found(office.clerk, "nghi le") == [("incoming", incoming.pk)]
    IncomingDocument.objects.filter(pk=incoming.pk).delete()
    assert found(office.clerk, "nghi le") == []


@pytest.mark.ci_may_skip  # the suite runs on both databases; each runs it on SQLite
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite FTS5 table itself")
def test_sqlite_fts5_table_is_kept_in_sync_by_triggers(office) -> None:
    def fts(word: str) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rowid FROM eoffice_in_fts WHERE eoffice_in_fts MATCH %s",
                           [word])
            return [r[0] for r in cursor.fetchall()]

    doc = registered(office, number_symbol="8/TB-UBND", summary="Thông báo kết luận giao ban")
    assert fts("giao") == [doc.pk]
    IncomingDocument.objects.filter(pk=doc.pk).update(search_text="thong bao hop bao")
    assert fts("giao") == [] and fts("bao") == [doc.pk]
    IncomingDocument.objects.filter(pk=doc.pk).update(body_key="noi dung van ban")
    assert fts("dung") == [doc.pk]
    IncomingDocument.objects.filter(pk=doc.pk).delete()
    assert fts("bao") == [] and fts("dung") == []
    with connection.cursor() as cursor:  # the index agrees with its content table
        cursor.execute("INSERT INTO eoffice_in_fts(eoffice_in_fts, rank) "
                       "VALUES ('integrity-check', 1)")


def test_gl2_filters_kind_year_type_and_dates(office) -> None:
    old = registered(office, when=at("2026-02-27T10:00"), received_at=at("2026-02-27T09:00"),
                     number_symbol="11/TB-UBND", doc_type="thong-bao",
                     summary="Thông báo về an toàn thông tin mạng")
    new = registered(office, number_symbol="12/CV-UBND",
                     summary="Công văn về an toàn thông tin mạng")
    out = approved(office, when=at("2026-03-02T10:00"),
                   summary="Quyết định về an toàn thông tin mạng")
    assert found(office.director, "an toan thong tin") == [
        ("outgoing", out.pk), ("incoming", new.pk), ("incoming", old.pk)]
    assert found(office.director, "an toan thong tin", kind="incoming") == [
        ("incoming", new.pk), ("incoming", old.pk)]
    assert found(office.director, "an toan thong tin", doc_type="TB") == [("incoming", old.pk)]
    assert found(office.director, "an toan thong tin",
                 date_from=dt.date(2026, 3, 1)) == [("outgoing", out.pk), ("incoming", new.pk)]
    assert found(office.director, "an toan thong tin", date_to=dt.date(2026, 2, 28)) == [
        ("incoming", old.pk)]
    assert found(office.director, "an toan thong tin", year=2025) == []


def test_gl2_query_words_are_folded_and_bounded() -> None:
    assert parse_query("  Quyết-định  số 12/QĐ-UBND  ") == (
        "quyet", "dinh", "so", "12", "qd", "ubnd")
    assert len(parse_query("a " * 40)) == 10
    assert parse_query("\"') OR 1=1 --") == ("or", "1", "1")
    assert fulltext.key("Đề án") == "de an"


def every_page(person: Any, text: str) -> list[tuple[str, int]]:
    hits: list[tuple[str, int]] = []
    for number in range(1, 6):
        page = search(person.actor, NOW, text, page=number)
        hits += [(h.kind, h.id) for h in page.hits]
        if not page.more:
            return hits
    return hits


@pytest.mark.parametrize("window", [1, 10_000])
def test_gl2_common_words_walk_the_date_index_with_the_same_answer(office, monkeypatch,
                                                                    window) -> None:
    """Common words (PostgreSQL): the newest matches are found by walking the date index
    within a window, or, when the window holds too few (``window`` 1), by the word index;
    same documents, same order, same pages, same visibility as with rare words."""
    monkeypatch.setattr("congvu.eoffice.search.PAGE_SIZE", 2)
    docs = [registered(office, when=at(f"2026-03-02T1{i}:00"), number_symbol=f"{i}/KH-UBND",
                       summary=f"Kế hoạch chuyển đổi số đợt {i}") for i in range(4)]
    secret = registered(office, number_symbol="9/KH-CA", confidentiality="mat",
                        summary="Kế hoạch chuyển đổi số bảo mật")
    registered(office, number_symbol="7/KH-UBND", summary="Kế hoạch chuyển giao công nghệ")
    usual = {who: every_page(getattr(office, who), "chuyen doi so")
             for who in ("clerk", "deputy")}
    monkeypatch.setattr("congvu.eoffice.search._common_words",
                        lambda _cursor, _table: frozenset({"chuyen", "doi", "so", "ke"}))
    monkeypatch.setattr("congvu.eoffice.search.WALK_MIN", window)
    monkeypatch.setattr("congvu.eoffice.search.WALK_PER_ROW", 1)
    assert every_page(office.clerk, "chuyen doi so") == usual["clerk"]
    assert every_page(office.deputy, "chuyen doi so") == usual["deputy"]
    assert found(office.clerk, "ke hoach chuyen doi so dot 2") == [("incoming", docs[2].pk)]
    assert ("incoming", secret.pk) not in usual["deputy"]
    assert [pk for _k, pk in usual["clerk"] if pk != secret.pk] == [d.pk for d in docs[::-1]]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the hints did not outlive the search
            cursor.execute("SHOW enable_seqscan")
            assert cursor.fetchone()[0] == "on"


def test_gl2_a_rare_word_narrows_before_the_common_ones_are_tested(office,
                                                                    monkeypatch) -> None:
    """A number among common words ("12/KH-UBND") is looked up by the number alone, and
    every word is then checked on its few rows: the answer is the same."""
    want = registered(office, number_symbol="12/KH-UBND", summary="Kế hoạch chuyển đổi số")
    registered(office, number_symbol="12/CV-UBND", summary="Công văn về chuyển đổi số")
    registered(office, number_symbol="13/KH-UBND", summary="Kế hoạch chuyển đổi số")
    monkeypatch.setattr("congvu.eoffice.search._common_words",
                        lambda _cursor, _table: frozenset({"kh", "ubnd", "ubnd2"}))
    assert found(office.clerk, "12/KH-UBND") == [("incoming", want.pk)]
    assert found(office.clerk, "12 kh ubn") == [("incoming", want.pk)]  # still typing


def test_gl10_5_an_exchanged_copy_is_searchable_by_its_pdf_text_in_the_other_agency(
        office) -> None:
    doc = approved(office, summary="Công văn đề nghị phối hợp rà soát hạ tầng")
    actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                               now=NOW)
    actions.do_add_version(actor=office.clerk.actor, outgoing_id=doc.pk, now=NOW,
                           profile=office.p, params=PARAMS,
                           upload=text_pdf("Đề nghị Sở Tài chính rà soát máy chủ dự phòng"))
    actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                              agencies=[office.other.pk], now=NOW, params=PARAMS)
    copy = IncomingDocument.objects.get(agency=office.other)
    assert found(office.other_clerk, "may chu du phong") == [("incoming", copy.pk)]
