"""Vietnamese text folding: the KH-3.1 conversion every address rule uses (spec §2).

``fold`` turns Vietnamese text into lowercase ASCII the way KH-3.1 spells it: drop the
tone marks (huyền, sắc, hỏi, ngã, nặng); ă, â → a; đ → d; ê → e; ô, ơ → o; ư → u;
uppercase likewise. Input may be precomposed (NFC) or decomposed (NFD, as some
keyboards and macOS file names produce): both fold to the same text.

Pure Python, no Django. ``fold`` caches per word because address generation folds the
same few thousand name syllables over and over.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold", "split_words"]

# Invisible characters that copy-paste from Word/PDF/web forms leaves inside names.
# Reading: they are removed (not treated as spaces); the soft hyphen is one of them.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def _build_table() -> dict[int, str | None]:
    """Translation table for the KH-3.1 conversion of precomposed letters.

    Every Latin letter in U+00C0..U+1EFF whose canonical decomposition is an ASCII
    letter plus combining marks maps to that ASCII letter (this covers all Vietnamese
    vowels with any tone: à ả ã á ạ ă ằ ẳ ẵ ắ ặ â ầ ... ư ừ ử ữ ứ ự, and ĩ, ũ, ý ...).
    Combining diacritics (U+0300..U+036F) are deleted so NFD input folds the same way.
    """
    table: dict[int, str | None] = {}
    for cp in range(0x00C0, 0x1F00):
        decomposed = unicodedata.normalize("NFD", chr(cp))
        base = decomposed[0]
        if (
            len(decomposed) > 1
            and base.isascii()
            and base.isalpha()
            and all(unicodedata.category(c) == "Mn" for c in decomposed[1:])
        ):
            table[cp] = base
    # KH-3.1: đ → d (đ has no decomposition). Reading: the Icelandic eth Ð/ð, which
    # legacy TCVN3/VNI converters often produce instead of Đ/đ, folds the same way.
    for ch in "đĐðÐ":
        table[ord(ch)] = "D" if ch.isupper() else "d"
    for cp in range(0x0300, 0x0370):
        table[cp] = None
    return table


_TABLE = _build_table()


@lru_cache(maxsize=1 << 16)
def _fold_word(word: str) -> str:
    out = word.translate(_TABLE)
    if not out.isascii():
        # Rare path: marks outside U+0300..U+036F or letters only reachable via NFD.
        decomposed = unicodedata.normalize("NFD", word)
        out = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        out = out.translate(_TABLE)
    return out.lower()


def fold(text: str) -> str:
    """KH-3.1 conversion: drop tone marks, ă/â→a, đ→d, ê→e, ô/ơ→o, ư→u, lowercase.

    Accepts NFC and NFD input alike; spacing is kept as given. Characters that have no
    a–z equivalent (Chinese, Cyrillic, emoji, punctuation) are kept unchanged, so a
    caller can tell which character could not be converted.
    """
    if text.isascii():
        return text.lower()
    return " ".join([_fold_word(word) for word in text.split(" ")])


def split_words(text: str) -> list[str]:
    """Normalise (NFKC) and split on any whitespace, collapsing runs of it.

    Non-breaking spaces, tabs, line breaks and other Unicode spaces separate words;
    invisible zero-width characters are dropped. Words come back precomposed (NFC),
    with full-width letters and digits turned into ordinary ones.
    """
    if text.isascii():
        return text.split()
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    return unicodedata.normalize("NFKC", text).split()
