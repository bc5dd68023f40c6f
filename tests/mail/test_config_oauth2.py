"""Dovecot's configuration for OAuth access tokens (XOAUTH2, OAUTHBEARER) checked by
congvu's token introspection, beside the password passdb and the auth policy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from congvu.mail.config import (
    MailOptions,
    MailPaths,
    MailPorts,
    OAuth2Introspection,
    fill_internal_ports,
    render,
)
from congvu.profiles import load_profile

NB = load_profile("ninh-binh")
OAUTH2 = OAuth2Introspection(introspection_url="http://127.0.0.1:8000/sso/introspect/",
                             client_id="mail-id", client_secret="s/cr:t")


@pytest.fixture(autouse=True)
def _sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded default (SQLite) unless a test says otherwise, whatever database the
    suite itself runs on: the configuration differs per driver."""
    import congvu.mail.config as config

    monkeypatch.setattr(config, "database", lambda: {
        "driver": "sqlite", "path": str(tmp_path / "congvu.sqlite3")})


def _render(tmp_path: Path, oauth2: OAuth2Introspection | None) -> MailPaths:
    paths = MailPaths(tmp_path)
    options = MailOptions(ports=fill_internal_ports(MailPorts(2525, 2587, 2143)),
                          listen="127.0.0.1", nonce="n")
    render(NB, paths, options, oauth2)
    return paths


def test_introspection_url_carries_the_client_credentials() -> None:
    assert OAUTH2.url_with_credentials == (
        "http://mail-id:s%2Fcr%3At@127.0.0.1:8000/sso/introspect/")


def test_token_mechanisms_use_the_oauth2_passdb(tmp_path: Path) -> None:
    paths = _render(tmp_path, OAUTH2)
    conf = paths.dovecot_conf.read_text()
    assert "auth_mechanisms = plain login xoauth2 oauthbearer" in conf
    # Passwords: SQL only; tokens: introspection, then the account must still be active.
    sql, oauth2, token_sql = conf.split("passdb {")[1:4]
    assert "driver = sql" in sql and "mechanisms = plain login" in sql
    assert "driver = oauth2" in oauth2 and "mechanisms = xoauth2 oauthbearer" in oauth2
    assert "driver = sql" in token_sql and "skip = unauthenticated" in token_sql
    assert "dovecot-sql-token.conf.ext" in token_sql
    # NB-7.2a still counts every sign-in, whatever the mechanism.
    assert "auth_policy_server_url = http://127.0.0.1:" in conf

    args = paths.dovecot_dir / "dovecot-oauth2.conf.ext"
    text = args.read_text()
    assert "introspection_mode = post" in text
    assert ("introspection_url = http://mail-id:s%2Fcr%3At@127.0.0.1:8000/sso/introspect/"
            in text)
    assert "username_attribute = username" in text
    assert "active_attribute = active" in text and "active_value = true" in text
    assert args.stat().st_mode & 0o777 == 0o600  # the client secret
    token_query = (paths.dovecot_dir / "dovecot-sql-token.conf.ext").read_text()
    assert "'Y' AS nopassword" in token_query and "state = 'active'" in token_query


def test_without_sso_only_passwords(tmp_path: Path) -> None:
    _render(tmp_path, OAUTH2)
    paths = _render(tmp_path, None)
    conf = paths.dovecot_conf.read_text()
    assert "auth_mechanisms = plain login\n" in conf
    assert "oauth2" not in conf
    assert not (paths.dovecot_dir / "dovecot-oauth2.conf.ext").exists()


@pytest.mark.skipif(shutil.which("doveconf") is None, reason="Dovecot is not installed")
def test_dovecot_accepts_the_configuration(tmp_path: Path) -> None:
    paths = _render(tmp_path, OAUTH2)
    paths.tls_dir.mkdir(parents=True)
    for name in ("cert.pem", "key.pem"):
        (paths.tls_dir / name).write_text("")
    out = subprocess.run(["doveconf", "-c", str(paths.dovecot_conf), "-n"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "mechanisms = xoauth2 oauthbearer" in out.stdout


def test_postgresql_checks_tokens_in_sql(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Dovecot 2.3.19's auth process aborts with the oauth2 passdb and pgsql together:
    on PostgreSQL the token's checksum is looked up instead (same rules as introspection)."""
    import congvu.mail.config as config

    monkeypatch.setattr(config, "database", lambda: {
        "driver": "pgsql", "host": "127.0.0.1", "port": 5432, "user": "postgres",
        "password": "", "name": "congvu"})
    paths = _render(tmp_path, OAUTH2)
    conf = paths.dovecot_conf.read_text()
    assert "auth_mechanisms = plain login xoauth2 oauthbearer" in conf
    assert "driver = oauth2" not in conf
    assert not (paths.dovecot_dir / "dovecot-oauth2.conf.ext").exists()
    token = conf.split("passdb {")[2]
    assert "driver = sql" in token and "mechanisms = xoauth2 oauthbearer" in token
    query = (paths.dovecot_dir / "dovecot-sql-token.conf.ext").read_text()
    assert "driver = pgsql" in query
    assert "encode(sha256(convert_to('%w', 'UTF8')), 'hex')" in query
    assert "t.expires > CURRENT_TIMESTAMP" in query and "a.state = 'active'" in query
