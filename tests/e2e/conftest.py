"""Fixtures for the SSO end-to-end tests: a real ``congvu serve`` on a loopback port with
a new deployment, accounts made with the real CLI, relying parties served by private
Apache instances with mod_auth_openidc, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.oidc_client import Client
from tests.e2e.oidc_client import Provider as OidcProvider

CONGVU = str(Path(sys.executable).parent / "congvu")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Khánh", "Lan",
         "Long", "Mai", "Minh", "Nga", "Ngọc", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang",
         "Tuấn", "Vy", "Yến", "Đạt", "Ánh", "Bảo", "Châu", "Diệp"]


#: What the browser tests with Apache relying parties need (scripts/setup installs it;
#: Apache's private instances run as root, like `congvu mail up`).
RP_BROWSER_READY = (os.geteuid() == 0 and Path("/usr/sbin/apache2").exists()
                    and Path("/usr/lib/apache2/modules/mod_auth_openidc.so").exists()
                    and Path(CHROMIUM).exists())
RP_BROWSER_SKIP = pytest.mark.skipif(
    not RP_BROWSER_READY, reason="needs root, Debian's apache2, libapache2-mod-auth-openidc "
    "and chromium (scripts/setup installs them)")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (its own browser download cannot work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_password() -> str:
    """Meets every profile's policy and contains no part of any name."""
    return "Kx7#" + uuid.uuid4().hex[:10] + "Q!"


def eventually(check: Callable[[], bool], seconds: float = 30) -> bool:
    """``check()`` became true within ``seconds`` (for what the provider does a moment
    later by design: the logout outbox, a key rotation reaching the serving process)."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


@dataclass
class Account:
    address: str
    password: str  # the current one: one-time until changed
    full_name: str
    must_change: bool = True


@dataclass
class LiveProvider:
    """``congvu serve`` on a new deployment, and the CLI pointed at the same deployment."""

    env: dict[str, str]
    home: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    names: Iterator[str] = field(default_factory=lambda: iter(GIVEN))

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def oidc(self) -> OidcProvider:
        return OidcProvider(self.issuer)

    def cli(self, *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([CONGVU, *args], input=stdin, capture_output=True, text=True,
                              env=self.env, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"congvu {' '.join(args)} (exit {proc.returncode}): "
                                 f"{proc.stderr.strip()}")
        return proc

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args).stdout)

    def account(self, agency: str = "skhcn") -> Account:
        """A new civil servant with the one-time password ``account create`` prints: the
        provider makes them change it at the first sign-in."""
        full_name = f"Phạm Văn {next(self.names)}"
        made = self.cli_json("account", "create", "--agency", agency, "--full-name",
                             full_name, "--json")
        return Account(made["address"], made["one_time_password"], full_name)

    def ready_account(self, agency: str = "skhcn") -> Account:
        """A civil servant who has already chosen their password (through the CLI)."""
        acc = self.account(agency)
        password = new_password()
        self.cli("account", "change-password", acc.address, stdin=f"{acc.password}\n{password}\n")
        return Account(acc.address, password, acc.full_name, must_change=False)

    def add_client(self, name: str, redirect_uri: str, *options: str) -> Client:
        made = self.cli_json("sso", "client", "add", "--name", name, "--redirect-uri",
                             redirect_uri, *options, "--json")
        return Client(made["client_id"], made["client_secret"], redirect_uri, made["name"])

    def django(self, code: str) -> str:
        """Run Python with Django set up on this deployment (state a test cannot reach
        through the CLI, e.g. a token's expiry moved into the past); returns stdout."""
        prelude = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
                   "'congvu.settings'); django.setup()\n")
        proc = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                              text=True, env=self.env, timeout=120)
        if proc.returncode != 0:
            raise AssertionError(f"python on the deployment: {proc.stderr.strip()}")
        return proc.stdout

    def sessions(self, address: str) -> list[dict[str, Any]]:
        """The open SSO sessions ``congvu sso sessions ADDRESS --json`` lists."""
        return list(self.cli_json("sso", "sessions", address, "--json")["sessions"])

    def log(self) -> str:
        try:
            return (self.home / "serve.log").read_text("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def start(self) -> None:
        log = (self.home / "serve.log").open("ab")
        self.proc = subprocess.Popen(
            [CONGVU, "serve", "--bind", f"127.0.0.1:{self.port}", "--public-url", self.issuer],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"congvu serve exited {self.proc.returncode}:\n"
                                     f"{self.log()}")
            try:
                if requests.get(f"{self.issuer}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"congvu serve did not answer /healthz:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _drop_database(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def live_provider(cls: type[LiveProvider], prefix: str) -> Iterator[LiveProvider]:
    """A provider on a new deployment (the module-scoped twin of ``fresh_home``: SQLite,
    or a fresh PostgreSQL database when the suite has DATABASE_URL), removed after."""
    home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    env = {**os.environ, "CONGVU_HOME": str(home / "home"), "CONGVU_LANG": "vi"}
    base = os.environ.get("DATABASE_URL", "")
    dbname = ""
    if base.startswith("postgres"):
        dbname = f"congvu_{prefix}_{uuid.uuid4().hex[:10]}"
        env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + dbname
    else:
        env["DATABASE_URL"] = ""
    live = cls(env, home, free_port())
    try:
        live.cli("init", "--profile", "ninh-binh")
        live.cli("org", "add", "--abbr", "skhcn", "--name", "Sở Khoa học và Công nghệ")
        live.start()
        yield live
    finally:
        live.stop()
        shutil.rmtree(home, ignore_errors=True)
        if dbname:
            _drop_database(base, dbname)


@pytest.fixture(scope="module")
def provider() -> Iterator[LiveProvider]:
    """The provider of one test module, at http://127.0.0.1:PORT."""
    with live_provider(LiveProvider, "cvsso") as live:
        yield live


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: $CONGVU_ARTIFACTS (kept by CI) or a temporary folder."""
    path = Path(os.environ.get("CONGVU_ARTIFACTS") or tempfile.mkdtemp(prefix="congvu-art-"))
    path = path / "sso-e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


class LocalhostProvider(LiveProvider):
    """``congvu serve`` whose public URL is http://localhost:PORT: WebAuthn takes no IP
    address as RP ID, so passkeys need a host name (localhost is a secure context)."""

    @property
    def issuer(self) -> str:
        return f"http://localhost:{self.port}"


@pytest.fixture(scope="module")
def localhost_provider() -> Iterator[LiveProvider]:
    """Like ``provider``, at http://localhost:PORT (still bound to 127.0.0.1)."""
    with live_provider(LocalhostProvider, "cvpk") as live:
        yield live


@pytest.fixture
def browser(chromium: Any, provider: LiveProvider, artifacts: Path,
            request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new browser context (its own cookies) on ``provider``, Vietnamese, with the last
    screen kept as an artefact."""
    from tests.e2e.browser import Browser

    context = chromium.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    b = Browser(page, provider, artifacts, request.node.name)
    try:
        yield b
    finally:
        with contextlib.suppress(Exception):  # the last screen, kept with the others
            b.shot("cuoi")
        context.close()
