"""Test-wide set-up: an isolated $CONGVU_HOME, Vietnamese active by default."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Before Django reads its settings: tests never touch a developer's ./var, and each
# process (xdist worker) has its own deployment folder.
os.environ["CONGVU_HOME"] = _HOME = tempfile.mkdtemp(prefix="congvu-test-home-")
atexit.register(shutil.rmtree, _HOME, True)

import pytest  # noqa: E402
from django.utils import translation  # noqa: E402


@pytest.fixture(autouse=True)
def _vietnamese() -> object:
    with translation.override("vi"):
        yield


import datetime as dt  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from congvu import deployment  # noqa: E402
from congvu.profiles import Profile, load_profile  # noqa: E402

PROFILES = ["ninh-binh", "khanh-hoa", "quang-nam", "ninh-thuan", "gia-lai"]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(text: str) -> dt.datetime:
    """A local moment, '2026-01-05' or '2026-01-05T09:00'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def use_profile() -> Iterator[Callable[[str], Profile]]:
    """Make the test's $CONGVU_HOME a deployment of the given profile (no database work:
    pytest-django provides the database)."""
    path = deployment.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)

    def _use(name: str, extra: str = "") -> Profile:
        path.write_text(f'profile_name = "{name}"\nsecret_key = "test"\n{extra}', "utf-8")
        deployment.reset_caches()
        return deployment.deployment_profile()

    yield _use
    path.unlink(missing_ok=True)
    deployment.reset_caches()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        import json

        return json.loads(self.stdout)


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run ``congvu ARGS`` in-process against the test database."""
    from congvu.cli.main import cli as group

    def _run(*args: str, input: str | None = None) -> CliResult:
        result = CliRunner().invoke(group, list(args), input=input, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return _run


@pytest.fixture
def nb(use_profile: Callable[[str], Profile]) -> Profile:
    return use_profile("ninh-binh")


def profile(name: str) -> Profile:
    return load_profile(name)


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a real `congvu` process on a new deployment: SQLite, or a fresh
    PostgreSQL database when the suite runs with DATABASE_URL."""
    env = {**os.environ, "CONGVU_HOME": str(tmp_path / "home"), "CONGVU_LANG": "vi"}
    base = os.environ.get("DATABASE_URL", "")
    name = ""
    if base.startswith("postgres"):
        name = f"congvu_e2e_{uuid.uuid4().hex[:12]}"
        env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name
    else:
        env["DATABASE_URL"] = ""
    yield env
    if name:
        import psycopg

        admin = base.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """In CI (``CI`` set), a test skipped for a missing piece (a Debian package, root,
    chromium) fails instead: CI installs everything through scripts/setup, so a skip
    there means an install step is broken, and a green run would hide it."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail") \
            and item.get_closest_marker("ci_may_skip") is None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI={os.environ['CI']}): {reason}"
