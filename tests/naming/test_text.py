"""KH-3.1 conversion (``congvu.text.fold``) and word splitting."""

from __future__ import annotations

import unicodedata

import pytest

from congvu.text import fold, split_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn Ngọc Thành", "nguyen ngoc thanh"),
        ("Lê Đức Phương", "le duc phuong"),
        ("ă â đ ê ô ơ ư", "a a d e o o u"),
        ("Ă Â Đ Ê Ô Ơ Ư", "a a d e o o u"),
        ("à á ả ã ạ ằ ắ ẳ ẵ ặ ầ ấ ẩ ẫ ậ", "a a a a a a a a a a a a a a a"),
        ("ờ ớ ở ỡ ợ ừ ứ ử ữ ự ỳ ý ỷ ỹ ỵ", "o o o o o u u u u u y y y y y"),
        ("ĨŨỸ ĩũỹ", "iuy iuy"),
        ("Hoà Hòa HOÀ", "hoa hoa hoa"),
        ("ÐỨC", "duc"),  # Icelandic Eth from legacy converters (Reading)
        ("plain ASCII", "plain ascii"),
        ("", ""),
    ],
)
def test_kh_3_1_fold_examples(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize("text", ["Nguyễn Ngọc Thành", "Lê Đức Phương", "Trương Thị Ưng Ẩn"])
def test_kh_3_1_fold_nfd_equals_nfc(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert fold(nfd) == fold(text) == fold(unicodedata.normalize("NFC", nfd))


def test_kh_3_1_fold_keeps_unconvertible_characters_visible() -> None:
    assert fold("Lê 中文") == "le 中文"
    assert "😀" in fold("An 😀")


def test_fold_keeps_spacing() -> None:
    assert fold("  Lê\tVăn  ") == "  le\tvan  "


def test_fold_is_cached_and_stable() -> None:
    assert fold("Tuấn") == fold("Tuấn") == "tuan"


def test_split_words_collapses_any_whitespace() -> None:
    text = "  Nguyễn\u00a0\tVăn \u3000 Nam\n"
    assert split_words(text) == ["Nguyễn", "Văn", "Nam"]


def test_split_words_normalises_nfd_to_nfc() -> None:
    words = split_words(unicodedata.normalize("NFD", "Nguyễn Văn Nam"))
    assert words == ["Nguyễn", "Văn", "Nam"]
    assert all(unicodedata.is_normalized("NFC", w) for w in words)


def test_split_words_drops_zero_width_characters() -> None:
    assert split_words("Ng\u200buyễn\ufeff Nam") == ["Nguyễn", "Nam"]


def test_split_words_full_width_letters() -> None:
    assert split_words("Ｎａｍ") == ["Nam"]


def test_split_words_empty() -> None:
    assert split_words(" \t\u00a0 ") == []
