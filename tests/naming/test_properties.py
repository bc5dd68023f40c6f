"""Properties of the address rules over generated Vietnamese names (hypothesis).

Names are random syllables with tone marks and đ/ơ/ư, in random case, NFC or NFD,
with extra (also non-breaking) spaces, 2–6 words. Every profile must turn them into a
valid local part within its length limit, or raise NamingError, never anything else.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from congvu.accounts.naming import (
    BatchRow,
    NamingError,
    parse_person_name,
    suggest_batch,
    suggest_person,
)
from congvu.text import fold, split_words

from . import LOCAL_RE, PROFILES, profile

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

ONSETS = ["", "b", "c", "ch", "d", "đ", "Đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n",
          "ng", "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"]
NUCLEI = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "uô", "ươ", "iê",
          "ai", "ao", "oi", "ơi", "ưa", "uy", "ươi", "uya"]
CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"]
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
CASES: list[Callable[[str], str]] = [str.lower, str.upper, str.title, str.capitalize,
                                     str.swapcase]


@st.composite
def syllables(draw: st.DrawFn) -> str:
    nucleus = draw(st.sampled_from(NUCLEI))
    tone = draw(st.sampled_from(TONES))
    nucleus = unicodedata.normalize("NFC", nucleus[0] + tone + nucleus[1:])
    word = draw(st.sampled_from(ONSETS)) + nucleus + draw(st.sampled_from(CODAS))
    if draw(st.integers(0, 9)) == 0:  # an ethnic-minority name such as H'Bia
        word = word[:1] + draw(st.sampled_from(["'", "-", "’"])) + word[1:] + "a"
    return draw(st.sampled_from(CASES))(word)


SPACES = st.text(alphabet=" \t\u00a0\u3000", min_size=1, max_size=3)


@st.composite
def vietnamese_names(draw: st.DrawFn) -> str:
    words = draw(st.lists(syllables(), min_size=2, max_size=6))
    text = draw(st.sampled_from(["", " ", "\u00a0"]))
    for word in words:
        text += word + draw(SPACES)
    return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), text)


AGENCIES = st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True))


@pytest.mark.parametrize("name", PROFILES)
@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES)
@given(full_name=vietnamese_names(), agency=AGENCIES, data=st.data())
def test_generated_names_give_valid_local_parts(
    name: str, full_name: str, agency: str | None, data: st.DataObject
) -> None:
    p = profile(name)
    try:
        first = suggest_person(p, full_name, agency=agency)
    except NamingError:
        assert agency is None  # NB-5.3 needs the agency; nothing else may fail here
        return
    taken = set(data.draw(st.lists(st.sampled_from(first.candidates), max_size=3)))
    try:
        s = suggest_person(p, full_name, agency=agency, taken=taken)
    except NamingError:
        assert agency is None  # NT-4.2b needs the agency once the base forms are taken
        return
    for local in s.candidates:
        assert LOCAL_RE.fullmatch(local), local
        assert len(local) <= p.naming.max_local_part
        assert local not in taken
    assert s.candidates[0] == s.local_part
    assert s.address == f"{s.local_part}@{p.mail.domain}"
    assert s.rule in (p.naming.person_rule, p.naming.collision_rule)


@pytest.mark.parametrize("name", PROFILES)
@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(full_name=vietnamese_names(), limit=st.integers(min_value=1, max_value=20))
def test_short_length_limits_give_valid_local_parts_or_naming_error(
    name: str, full_name: str, limit: int
) -> None:
    p = profile(name, max_local_part=limit)
    try:
        s = suggest_person(p, full_name, agency="nh", taken={"a"})
    except NamingError:
        return
    assert all(len(c) <= limit and LOCAL_RE.fullmatch(c) for c in s.candidates)


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURES)
@given(full_name=vietnamese_names())
def test_nfc_and_nfd_parse_the_same(full_name: str) -> None:
    nfc = unicodedata.normalize("NFC", full_name)
    nfd = unicodedata.normalize("NFD", full_name)
    assert fold(nfc) == fold(nfd)
    assert parse_person_name(nfc) == parse_person_name(nfd)


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURES)
@given(full_name=vietnamese_names())
def test_kh_3_1_fold_of_vietnamese_is_ascii(full_name: str) -> None:
    folded = fold(" ".join(split_words(full_name)).replace("’", "'"))
    assert folded.isascii()
    assert folded == folded.lower()


@pytest.mark.parametrize("name", PROFILES)
@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(
    rows=st.lists(
        st.builds(BatchRow, vietnamese_names(), AGENCIES, st.booleans()), max_size=25
    ),
    data=st.data(),
)
def test_batch_gives_unique_local_parts_disjoint_from_taken(
    name: str, rows: list[BatchRow], data: st.DataObject
) -> None:
    p = profile(name)
    # Reserve some of the addresses the batch itself would produce, to force collisions.
    try:
        preview = suggest_batch(p, rows, set())
    except NamingError:
        preview = []
    taken = set(data.draw(st.lists(st.sampled_from([s.local_part for s in preview] or ["x"]),
                                   max_size=10)))
    try:
        out = suggest_batch(p, rows, set(taken))
    except NamingError:
        return
    locals_ = [s.local_part for s in out]
    assert len(out) == len(rows)
    assert len(set(locals_)) == len(locals_)
    assert not set(locals_) & taken
    for s in out:
        assert LOCAL_RE.fullmatch(s.local_part)
        assert len(s.local_part) <= p.naming.max_local_part


@pytest.mark.parametrize("name", PROFILES)
@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURES)
@given(full_name=st.text(max_size=30), agency=st.one_of(st.none(), st.text(max_size=8)))
def test_any_text_gives_a_suggestion_or_naming_error(
    name: str, full_name: str, agency: str | None
) -> None:
    p = profile(name)
    try:
        s = suggest_person(p, full_name, agency=agency, taken=["ab", "ab@x"])
    except NamingError as exc:
        assert exc.message
        return
    assert LOCAL_RE.fullmatch(s.local_part)
