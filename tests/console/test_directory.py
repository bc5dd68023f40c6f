"""The province directory in the console (issue 6; NB-10.1d, KH-11.5): every signed-in
person searches by name, position, agency or address without diacritics or capitals,
within an agency and its units, page by page; htmx gets the results only. Only mailboxes
that receive mail (active, suspended) of persons are listed; agencies' own mailboxes
above them (NB-11.5 publishes those too)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from congvu.accounts.actions import (
    do_change_position,
    do_create_account,
    do_create_agency_mailbox,
    do_delete,
    do_leave,
    do_suspend,
    do_transfer,
)
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.console.pages import directory as page
from congvu.directory.models import Agency, Person
from congvu.directory.search import (
    matching_ids,
    parse_query,
    rebuild_search_keys,
    search_directory,
)
from congvu.errors import Forbidden
from tests.console.conftest import logged_in
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db

URL = "/console/directory/"
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Khánh", "Lan",
         "Long", "Mai", "Minh", "Nga", "Ngọc", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang",
         "Tuấn", "Vy", "Yến", "Đạt", "Ánh", "Bảo", "Châu", "Diệp"]


def _names(html: str) -> list[str]:
    return re.findall(r'<tr id="person-\d+">\s*<th scope="row">([^<]+)</th>', html)


@pytest.fixture
def staff(world: dict[str, Any]) -> dict[str, Any]:
    """More people: a colleague to find without diacritics, one with a position, one in
    a unit, and accounts that must never be listed."""
    p = world["p"]
    now = timezone.now() - dt.timedelta(days=10)
    a, _ = account(p, "sotttt", "Nguyễn Văn A", now, position="Chuyên viên chính")
    unit, _ = account(p, "ttcntt", "Lê Thị Hồng Đào", now, position="Kỹ sư")
    suspended, _ = account(p, "stc", "Hoàng Minh Tuấn", now, position="Kế toán")
    do_suspend(actor=OPERATOR, profile=p, account=suspended, now=now, rule="NB-7.2c",
               reason="virus")
    locked, _ = account(p, "stc", "Đỗ Văn Khóa", now)
    do_leave(actor=OPERATOR, profile=p, account=locked, effective=now.date(), now=now)
    deleted, _ = account(p, "stc", "Vũ Thị Xóa", now)
    do_delete(actor=OPERATOR, profile=p, account=deleted, now=now, rule="KH-4.4", reason="")
    requested, _otp = do_create_account(actor=OPERATOR, profile=p, agency_ref="stc",
                                        full_name="Trịnh Văn Chờ", now=now, requested=True)
    box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="stc", now=now)
    return {"a": a, "unit": unit, "suspended": suspended, "locked": locked,
            "deleted": deleted, "requested": requested, "box": box}


def test_nb_10_1d_search_without_diacritics_or_capitals_finds_a_colleague(
        world: Any, staff: Any) -> None:
    c = logged_in(world["servant"][0])
    for q in ("nguyen van a", "NGUYEN VAN A", "Nguyễn Văn A", "nguyen  van   a"):
        html = c.get(URL, {"q": q}).content.decode()
        assert "Nguyễn Văn A" in _names(html), q
        assert staff["a"].address in html
    # Word prefixes: "ngu" finds Nguyễn; a word in the middle of another does not.
    assert "Nguyễn Văn A" in _names(c.get(URL, {"q": "ngu va"}).content.decode())
    assert _names(c.get(URL, {"q": "guyen"}).content.decode()) == []
    # NFD input (macOS keyboards) folds the same way.
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Lê Thị Hồng Đào")
    assert _names(c.get(URL, {"q": nfd}).content.decode()) == ["Lê Thị Hồng Đào"]


def test_search_by_agency_position_and_address(world: Any, staff: Any) -> None:
    c = logged_in(world["servant"][0])
    html = c.get(URL, {"q": "so tai chinh"}).content.decode()
    names = _names(html)
    assert "Phạm Thị Cúc" in names and "Hoàng Minh Tuấn" in names
    assert "Nguyễn Văn A" not in names
    # The agency's own mailbox is listed above its staff (NB-11.5).
    assert 'id="agency-mailboxes"' in html and staff["box"].address in html
    assert _names(c.get(URL, {"q": "chuyen vien chinh"}).content.decode()) == ["Nguyễn Văn A"]
    assert _names(c.get(URL, {"q": "ke toan"}).content.decode()) == ["Hoàng Minh Tuấn"]
    # A unit's people are found by their parent agency's name too.
    assert "Lê Thị Hồng Đào" in _names(c.get(URL, {"q": "dao thong tin"}).content.decode())
    local = staff["a"].local_part
    assert _names(c.get(URL, {"q": local}).content.decode()) == ["Nguyễn Văn A"]
    assert _names(c.get(URL, {"q": staff["a"].address}).content.decode()) == ["Nguyễn Văn A"]


def test_only_receiving_person_mailboxes_are_listed(world: Any, staff: Any) -> None:
    html = logged_in(world["servant"][0]).get(URL).content.decode()
    names = _names(html)
    assert "Hoàng Minh Tuấn" in names  # suspended: still receives (NB-7.1)
    for gone in ("Đỗ Văn Khóa", "Vũ Thị Xóa", "Trịnh Văn Chờ"):
        assert gone not in html
    assert world["op"][0].address not in html  # operators are nobody's colleague
    # The agency mailbox is not a person: it is not in the persons' table.
    assert staff["box"].address not in html.split('id="persons"')[1]
    # Ordered by given name (the Vietnamese way): A, An, Cúc, Đào, Nam, Tuấn.
    assert names == ["Nguyễn Văn A", "Trần Văn An", "Phạm Thị Cúc", "Lê Thị Hồng Đào",
                     "Nguyễn Văn Nam", "Hoàng Minh Tuấn"]


def test_the_agency_filter_includes_its_units(world: Any, staff: Any) -> None:
    c = logged_in(world["servant"][0])
    html = c.get(URL, {"agency": "sotttt"}).content.decode()
    assert set(_names(html)) == {"Nguyễn Văn A", "Lê Thị Hồng Đào", "Nguyễn Văn Nam",
                                 "Trần Văn An"}
    assert 'value="sotttt" selected' in html
    assert "ttcntt.sotttt" in html or "ttcntt" in html  # the unit offered to narrow down
    unit_ref = Agency.objects.get(abbr="ttcntt").account_name
    html = c.get(URL, {"agency": unit_ref}).content.decode()
    assert _names(html) == ["Lê Thị Hồng Đào"]
    assert f'value="{unit_ref}" selected' in html  # the unit joins the select
    html = c.get(URL, {"agency": "sotttt", "q": "nguyen"}).content.decode()
    assert set(_names(html)) == {"Nguyễn Văn A", "Nguyễn Văn Nam"}


def test_an_unknown_agency_filter_names_the_field_in_vietnamese(world: Any) -> None:
    resp = logged_in(world["servant"][0]).get(URL, {"agency": "khongco"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "Cơ quan, đơn vị" in html and "khongco" in html and 'aria-invalid="true"' in html
    long = logged_in(world["servant"][0]).get(URL, {"q": "x" * 201})
    assert long.status_code == 400 and "Nội dung tìm kiếm" in long.content.decode()


def test_pages_and_their_links_keep_the_search(world: Any, staff: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "PAGE_SIZE", 2)
    c = logged_in(world["servant"][0])
    first = c.get(URL, {"q": "van"}).content.decode()
    assert _names(first) == ["Nguyễn Văn A", "Trần Văn An"]
    assert "Trang 1" in first
    href = re.search(r'<a href="(/console/directory/\?[^"]+)" rel="next"', first).group(1)  # type: ignore[union-attr]
    assert parse_qs(urlsplit(href.replace("&amp;", "&")).query) == {"q": ["van"], "page": ["2"]}
    second = c.get(href.replace("&amp;", "&")).content.decode()
    assert _names(second) == ["Nguyễn Văn Nam"]
    assert 'rel="prev"' in second


def test_htmx_gets_the_results_only_and_without_javascript_the_whole_page(world: Any,
                                                                          staff: Any) -> None:
    c = logged_in(world["servant"][0])
    full = c.get(URL, {"q": "cuc"})
    assert full.content.decode().lstrip().startswith("<!doctype html>")
    html = full.content.decode()
    assert 'hx-get="/console/directory/"' in html and "delay:300ms" in html
    assert '<label for="dir-q">' in html and '<label for="dir-agency">' in html
    part = c.get(URL, {"q": "cuc"}, HTTP_HX_REQUEST="true")
    body = part.content.decode()
    assert part.status_code == 200 and body.startswith('<div id="results"')
    assert "<html" not in body and _names(body) == ["Phạm Thị Cúc"]
    assert "HX-Request" in part["Vary"]
    # A history restore asks for the whole page again.
    restore = c.get(URL, {"q": "cuc"}, HTTP_HX_REQUEST="true",
                    HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<!doctype html>" in restore.content.decode()
    # An invalid search through htmx still swaps (2xx) and shows the error.
    bad = c.get(URL, {"agency": "khongco"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and 'id="search-error"' in bad.content.decode()


def test_no_n_plus_one_queries(world: Any, django_assert_max_num_queries: Any) -> None:
    p = world["p"]
    now = timezone.now()
    agency(p, "snv", "Sở Nội vụ", now=now)
    agency(p, "vp", "Văn phòng", kind="department", parent="snv", now=now)
    for i, given in enumerate(GIVEN):
        account(p, "snv", f"Phan Văn {given}", now, position="Chuyên viên",
                department_ref="vp" if i % 2 else None)
    c = logged_in(world["servant"][0])
    c.get(URL)  # warm the session
    # 11: the page's own, SQLite's word-index lookup, and the nav's eOffice-seat check.
    with django_assert_max_num_queries(11):
        resp = c.get(URL, {"q": "phan"})
    assert len(_names(resp.content.decode())) == 30
    with django_assert_max_num_queries(14):  # + the agency, its subtree and its units
        c.get(URL, {"agency": "snv"})


def test_keys_follow_position_transfer_and_rebuild(world: Any, staff: Any) -> None:
    p = world["p"]
    op = OPERATOR
    now = timezone.now()
    acct = staff["a"]
    do_change_position(actor=op, profile=p, account=acct, position="Phó Giám đốc", now=now)
    actor = Actor(kind="self", label="t", account_id=1)
    found = search_directory(actor, parse_query("pho giam doc"))
    assert [x.pk for x in found] == [acct.person_id]
    do_transfer(actor=op, profile=p, account=acct, to_agency_ref="stc", now=now)
    found = search_directory(actor, parse_query("nguyen tai chinh"))
    assert [x.pk for x in found] == [acct.person_id]
    # The data migration's rebuild gives the same keys as save() does.
    keys = dict(Person.objects.values_list("id", "search_key"))
    agency_keys = dict(Agency.objects.values_list("id", "search_key"))
    Person.objects.update(search_key="")
    Agency.objects.update(search_key="")
    assert rebuild_search_keys() == len(keys) + len(agency_keys)
    assert dict(Person.objects.values_list("id", "search_key")) == keys
    assert dict(Agency.objects.values_list("id", "search_key")) == agency_keys
    acct.refresh_from_db()
    assert keys[acct.person_id].startswith(f" a nguyen van a {acct.local_part} pho giam doc ")


def test_the_selector_refuses_an_actor_that_is_nobody(world: Any) -> None:
    with pytest.raises(Forbidden):
        search_directory(Actor(kind="self", label="nobody"), parse_query("a"))


# --- authorisation --------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(world: Any) -> None:
    resp = Client().get(URL, {"q": "cuc", "agency": "stc"})
    assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/?next=")
    assert "Phạm Thị Cúc" not in resp.content.decode()


@pytest.mark.parametrize("who", ["it", "servant"])
def test_other_agencies_show_only_public_directory_fields(world: Any, staff: Any,
                                                          who: str) -> None:
    """The directory is the province's (every signed-in person, NB-11.5 makes it public):
    editing the agency in the URL shows another agency's names, positions and addresses,
    never what only the agency or the holder may see (state, reason, sign-ins, roles)."""
    servant = world["servant"][0]
    Account.objects.filter(pk=servant.pk).update(last_login=timezone.now())
    c = logged_in(world[who][0])
    html = c.get(URL, {"agency": "stc"}).content.decode()
    main = html.split("<main", 1)[1]
    assert "Phạm Thị Cúc" in main and "Hoàng Minh Tuấn" in main
    for private in ("NB-7.2c", "virus", "suspended", "Tạm dừng", "Đăng nhập lần cuối",
                    "agency-it", "Đỗ Văn Khóa", "Vũ Thị Xóa", "Trịnh Văn Chờ"):
        assert private not in main, private


def test_the_directory_changes_nothing(world: Any, staff: Any) -> None:
    c = logged_in(world["it"][0])
    before = list(Person.objects.order_by("id").values_list("id", "full_name", "position",
                                                            "agency_id"))
    resp = c.post(URL, {"q": "cuc", "agency": "stc", "position": "Giám đốc"})
    assert resp.status_code == 405
    assert list(Person.objects.order_by("id").values_list(
        "id", "full_name", "position", "agency_id")) == before


def test_more_than_the_cap_asks_for_more_words(world: Any, staff: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "COUNT_CAP", 3)
    monkeypatch.setattr(page, "PAGE_SIZE", 2)
    html = logged_in(world["servant"][0]).get(URL).content.decode()
    assert "Có hơn 3 người phù hợp" in html and 'rel="next"' in html
    assert len(_names(html)) == 2


def test_matching_ids_skip_unlisted_persons_across_chunks(world: Any, staff: Any) -> None:
    """The ids come a chunk at a time (the key's order), the unlisted dropped: the
    result is the listed search's, whatever the chunk boundaries."""
    actor = Actor(kind="operator", label="t")
    everyone = [x.pk for x in search_directory(actor, parse_query(""))]
    assert len(everyone) == 6
    for cap in range(7):
        assert matching_ids(actor, parse_query(""), cap=cap) == everyone[:cap + 1], cap
    assert matching_ids(actor, parse_query("van")) == [
        x.pk for x in search_directory(actor, parse_query("van"))]


def test_a_new_address_is_found_at_once(world: Any, staff: Any) -> None:
    """do_change_address (form 02 code 3) re-indexes the person: the new address finds
    them, the old local part no longer does."""
    from congvu.accounts.actions import do_change_address

    acct = staff["a"]
    old = acct.local_part
    do_change_address(actor=OPERATOR, profile=world["p"], account=acct, local_part="vanamoi",
                      now=timezone.now())
    c = logged_in(world["servant"][0])
    assert _names(c.get(URL, {"q": "vanamoi"}).content.decode()) == ["Nguyễn Văn A"]
    assert _names(c.get(URL, {"q": old}).content.decode()) == []


def test_english_is_available(world: Any, staff: Any) -> None:
    c = logged_in(world["servant"][0])
    c.post("/i18n/setlang/", {"language": "en", "next": URL})
    html = c.get(URL, {"q": "cuc"}).content.decode()
    assert 'lang="en"' in html and "Province directory" in html and "Persons found: 1." in html


def test_bulk_writers_reindex_persons_and_a_renamed_agency(world: Any, staff: Any) -> None:
    """Writes that bypass save() (bulk imports, a rename by update()) call the index
    functions: then the search sees the new names."""
    from congvu.directory.search import index_agency_subtree, index_persons

    actor = Actor(kind="operator", label="t")
    person = staff["unit"].person
    Person.objects.filter(pk=person.pk).update(position="Trưởng phòng Kỹ thuật")
    assert matching_ids(actor, parse_query("truong phong ky thuat")) == []
    assert index_persons([person.pk]) == 1
    assert matching_ids(actor, parse_query("truong phong ky thuat")) == [person.pk]
    Agency.objects.filter(abbr="sotttt").update(name="Sở Khoa học, Công nghệ và Số hóa")
    index_agency_subtree(Agency.objects.get(abbr="sotttt"))
    found = matching_ids(actor, parse_query("so hoa"))
    assert person.pk in found and staff["a"].person_id in found  # the unit's too
    assert world["servant"][0].person_id not in found


# --- SQLite's word index (congvu.directory.fts) ------------------------------------------

def _scan_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from congvu.directory import fts

    monkeypatch.setattr(fts, "MAX_CANDIDATES", -1)  # every search takes the ordered scan


@pytest.mark.parametrize("q", ["nguyen", "van a", "chuyen vien chinh", "tai chinh", "dao",
                               "ky su lan", "zzz", "hoang minh"])
def test_the_word_index_finds_what_the_ordered_scan_finds(world: Any, staff: Any, q: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    actor = Actor(kind="operator", label="t")
    indexed = matching_ids(actor, parse_query(q))
    _scan_only(monkeypatch)
    assert indexed == matching_ids(actor, parse_query(q))


def test_the_word_index_follows_every_write_and_survives_a_table_rebuild(world: Any,
                                                                         staff: Any) -> None:
    """The index is kept by triggers (insert, key update, delete); a migration that
    rebuilds directory_person drops them, and the post-migrate check puts them back and
    refills the index."""
    from django.db import connection

    from congvu.directory import fts

    if connection.vendor != "sqlite":
        assert fts.candidates(("nguyen",)) is None  # PostgreSQL has its trigram index
        return
    acct = staff["a"]
    assert acct.person_id in (fts.candidates(("nguyen", "van")) or [])
    do_change_position(actor=OPERATOR, profile=world["p"], account=acct,
                       position="Kiểm soát viên", now=timezone.now())
    assert fts.candidates(("kiem", "soat")) == [acct.person_id]
    with connection.cursor() as cursor:
        for name in fts.TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    Person.objects.filter(pk=acct.person_id).update(search_key=" xyzzy ")
    assert fts.candidates(("xyzzy",)) == []  # stale until the check runs
    assert fts.ensure() is True
    assert fts.candidates(("xyzzy",)) == [acct.person_id]
    assert fts.candidates(("kiem", "soat")) == []
    bare = Person.objects.create(full_name="Lò Văn Quý", agency=Agency.objects.get(
        account_name="stc"), created_at=timezone.now())
    assert fts.candidates(("lo", "quy")) == [bare.pk]
    bare.delete()
    assert fts.candidates(("lo", "quy")) == []
