"""Shared fixtures of the eOffice pages' tests: the agency of ``tests/eoffice`` (Sở
TT&TT Gia Lai with its Văn phòng and Phòng CNTT, and Sở Tài chính next door), on a
deployment of the Gia Lai profile so the console's pages see it, and a browser per person.

``web_office.clerk``, ``.director``, ``.deputy``, ``.head`` (Phòng CNTT), ``.vp_head``,
``.spec``, ``.spec2`` (CNTT), ``.vp_spec``, ``.other_clerk``, ``.other_director`` (Sở Tài
chính): each a ``Person`` with ``.account`` and ``.actor``. ``browser_of(person)`` is a
Django test client signed in as them (a real SSO session, no sign-in page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from congvu.profiles import Profile
from tests.console.conftest import logged_in
from tests.eoffice.conftest import Office, Person, build_office


@pytest.fixture(autouse=True)
def _cheap_password_hashing(settings: Any) -> None:
    """Accounts are test data here: hash their one-time passwords cheaply."""
    settings.ARGON2 = {"memory_cost": 8, "time_cost": 1, "parallelism": 1}


@pytest.fixture
def web_office(db: Any, use_profile: Callable[[str], Profile]) -> Office:
    return build_office(use_profile("gia-lai"))


@pytest.fixture
def browser_of() -> Callable[[Person], Client]:
    return lambda person: logged_in(person.account)
