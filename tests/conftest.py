"""Test-wide set-up: an isolated $CONGVU_HOME, Vietnamese active by default."""

from __future__ import annotations

import os
import tempfile

# Before Django reads its settings: tests never touch a developer's ./var.
os.environ.setdefault("CONGVU_HOME", tempfile.mkdtemp(prefix="congvu-test-home-"))

import pytest  # noqa: E402
from django.utils import translation  # noqa: E402


@pytest.fixture(autouse=True)
def _vietnamese() -> object:
    with translation.override("vi"):
        yield
