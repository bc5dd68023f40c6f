"""The eOffice agency fixture (``office``) of tests/eoffice, shared here; messages
checked in English whatever language an earlier test left active."""

from collections.abc import Iterator

import pytest
from django.utils import translation

from tests.eoffice.conftest import _cheap_password_hashing, office  # noqa: F401


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield
