"""Tests of the address rules (spec §2: NB-5, KH-3, QN-4, NT-4) and the KH-3.1 fold."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from congvu.profiles import Profile, load_profile

PROFILES = ["ninh-binh", "khanh-hoa", "quang-nam", "ninh-thuan", "gia-lai"]
LOCAL_RE = re.compile(r"^[a-z0-9]+([._][a-z0-9]+)*$")


def profile(name: str, **naming: Any) -> Profile:
    """A shipped profile, optionally with some ``naming`` settings overridden."""
    base = load_profile(name)
    if not naming:
        return base
    return dataclasses.replace(base, naming=dataclasses.replace(base.naming, **naming))
