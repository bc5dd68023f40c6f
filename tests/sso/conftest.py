from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from congvu.sso import keys


@pytest.fixture(autouse=True)
def _fresh_throttle_and_keys() -> Iterator[None]:
    """Each test starts with an empty cache and re-reads keys from its database."""
    cache.clear()
    keys.forget()
    yield
    cache.clear()
    keys.forget()
