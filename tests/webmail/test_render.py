"""Rendering webmail: Roundcube's configuration, the Apache site, the install tree and
Roundcube's database; and the generic private Apache instance."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from congvu.profiles import load_profile
from congvu.webmail.apache import ApacheInstance, module_line
from congvu.webmail.config import (
    ROUNDCUBE,
    Client,
    MailEndpoints,
    Provider,
    WebmailOptions,
    WebmailPaths,
    backchannel_uri,
    build_root,
    init_database,
    php_string,
    post_logout_uri,
    redirect_uri,
    render_config,
    render_site,
)

PHP = shutil.which("php")
HAS_APACHE = Path("/usr/sbin/apache2").exists()
HAS_ROUNDCUBE = (ROUNDCUBE / "index.php").exists()
NB = load_profile("ninh-binh")
PROVIDER = Provider("http://127.0.0.1:8000")
CLIENT = Client("cid-123", "s3cr'et\\x")
LOOPBACK_MAIL = MailEndpoints("127.0.0.1", 2143, "127.0.0.1", 2587)


def _config(tmp_path: Path, mail: MailEndpoints = LOOPBACK_MAIL,
            options: WebmailOptions | None = None) -> str:
    return render_config(NB, WebmailPaths(tmp_path), options or WebmailOptions(port=8025),
                         PROVIDER, CLIENT, mail, "k" * 24)


def test_urls_follow_the_options() -> None:
    options = WebmailOptions(port=9025)
    assert options.url == "http://127.0.0.1:9025"
    assert redirect_uri(options) == "http://127.0.0.1:9025/index.php/login/oauth"
    assert post_logout_uri(options) == "http://127.0.0.1:9025/"
    assert backchannel_uri(options) == ("http://127.0.0.1:9025/index.php?_task=login"
                                        "&_action=congvu-backchannel-logout")
    public = WebmailOptions(port=9025, public_url="https://mail.ninhbinh.gov.vn/")
    assert redirect_uri(public) == "https://mail.ninhbinh.gov.vn/index.php/login/oauth"
    # The provider posts logout tokens to the instance itself, over loopback.
    assert backchannel_uri(public).startswith("http://127.0.0.1:9025/")
    assert WebmailOptions.from_json(public.to_json()) == public


def test_php_strings_are_quoted() -> None:
    assert php_string("a'b\\c") == "'a\\'b\\\\c'"


def test_roundcube_config_signs_in_through_congvu(tmp_path: Path) -> None:
    text = _config(tmp_path)
    assert "$config['oauth_provider'] = 'generic';" in text
    assert "$config['oauth_auth_uri'] = 'http://127.0.0.1:8000/sso/authorize/';" in text
    assert "$config['oauth_token_uri'] = 'http://127.0.0.1:8000/sso/token/';" in text
    assert "$config['oauth_identity_uri'] = 'http://127.0.0.1:8000/sso/userinfo/';" in text
    assert "$config['oauth_identity_fields'] = ['email'];" in text
    assert "$config['oauth_scope'] = 'openid profile email';" in text
    assert "$config['oauth_login_redirect'] = true;" in text
    assert "$config['oauth_client_secret'] = 's3cr\\'et\\\\x';" in text
    assert "$config['plugins'] = ['congvu_sso', 'congvu_eoffice'];" in text
    assert "$config['congvu_sso_jwks_uri'] = 'http://127.0.0.1:8000/sso/jwks.json';" in text
    assert "$config['congvu_sso_end_session_uri'] = 'http://127.0.0.1:8000/sso/logout/';" \
        in text
    assert "$config['imap_host'] = 'tls://127.0.0.1:2143';" in text
    assert "$config['smtp_host'] = 'tls://127.0.0.1:2587';" in text
    assert f"sqlite:///{tmp_path}/webmail/db/roundcube.sqlite" in text
    assert "$config['session_name'] = 'congvu_webmail_8025';" in text


def test_certificates_are_checked_except_on_loopback(tmp_path: Path) -> None:
    assert "verify_peer' => false" in _config(tmp_path)
    remote = MailEndpoints("mail.ninhbinh.gov.vn", 143, "mail.ninhbinh.gov.vn", 587)
    text = _config(tmp_path, remote)
    assert "verify_peer' =>" not in text and "conn_options" not in text
    assert "$config['oauth_verify_peer'] = false;" in text  # http issuer on loopback


@pytest.mark.skipif(PHP is None, reason="PHP's command line is not installed")
def test_roundcube_config_is_valid_php(tmp_path: Path) -> None:
    assert PHP is not None
    target = tmp_path / "config.inc.php"
    target.write_text(_config(tmp_path))
    out = subprocess.run([PHP, "-r", f"include '{target}'; echo json_encode($config);"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import json

    config = json.loads(out.stdout)
    assert config["oauth_client_secret"] == "s3cr'et\\x"
    assert config["des_key"] == "k" * 24
    assert config["oauth_login_redirect"] is True


def test_site_serves_only_roundcubes_entry_point(tmp_path: Path) -> None:
    paths = WebmailPaths(tmp_path)
    site = render_site(paths, WebmailOptions(port=8025))
    assert f'DocumentRoot "{paths.public_html}"' in site
    assert f'SetEnv ROUNDCUBE_CONFIG_DIR "{paths.config_dir}"' in site
    assert '<Files "index.php">' in site
    assert r"RewriteCond %{HTTP_HOST} !^127\.0\.0\.1:8025$" in site


def test_apache_instance_is_private(tmp_path: Path) -> None:
    a = ApacheInstance(tmp_path / "a", 18081, ["rewrite"], "# body A")
    b = ApacheInstance(tmp_path / "b", 18082, [], "# body B")
    text = a.config_text()
    assert "ServerRoot /etc/apache2" in text
    assert "Include" not in text  # nothing from /etc/apache2
    assert f"PidFile {tmp_path}/a/run/apache2.pid" in text
    assert f"Mutex file:{tmp_path}/a/run default" in text
    assert "Listen 127.0.0.1:18081" in text
    assert "LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so" in text
    assert "LoadModule rewrite_module" in text and "# body A" in text
    assert "User www-data" in text and "Group www-data" in text
    assert a.pid_file != b.pid_file and a.error_log != b.error_log
    assert not a.running()


@pytest.mark.skipif(not HAS_APACHE, reason="Debian's apache2 is not installed")
def test_apache_accepts_the_webmail_configuration(tmp_path: Path) -> None:
    paths = WebmailPaths(tmp_path)
    paths.public_html.mkdir(parents=True)
    site = ApacheInstance(paths.apache_dir, 18083, ["php", "rewrite", "headers"],
                          render_site(paths, WebmailOptions(port=18083)))
    assert module_line("php").startswith("LoadModule php_module /usr/lib/apache2/modules/")
    site.render()
    site.check()  # apache2 -t on the file: raises with Apache's message


@pytest.mark.skipif(not HAS_ROUNDCUBE, reason="Debian's roundcube is not installed")
def test_install_tree_links_to_debians_roundcube(tmp_path: Path) -> None:
    paths = WebmailPaths(tmp_path)
    build_root(paths)
    build_root(paths)  # idempotent
    assert (paths.root / "index.php").resolve() == (ROUNDCUBE / "index.php").resolve()
    assert (paths.root / "program").resolve() == (ROUNDCUBE / "program").resolve()
    assert (paths.public_html / "program" / "js").is_symlink()
    assert (paths.plugins_dir / "jqueryui").is_symlink()  # required by Roundcube
    plugin = paths.plugins_dir / "congvu_sso" / "congvu_sso.php"
    assert plugin.is_file() and not plugin.is_symlink()
    entry = (paths.public_html / "index.php").read_text()
    assert "define('INSTALL_PATH', realpath(__DIR__ . '/..') . '/');" in entry


@pytest.mark.skipif(not HAS_ROUNDCUBE, reason="Debian's roundcube is not installed")
def test_database_is_initialised_once(tmp_path: Path) -> None:
    paths = WebmailPaths(tmp_path)
    assert init_database(paths) is True
    with sqlite3.connect(paths.db_file) as conn:
        conn.execute("INSERT INTO congvu_sso_sessions (sess_id, sid, created) "
                     "VALUES ('s', 'sid', 1)")
    assert init_database(paths) is False
    with sqlite3.connect(paths.db_file) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"users", "session", "congvu_sso_sessions"} <= tables
        assert conn.execute("SELECT count(*) FROM congvu_sso_sessions").fetchone() == (1,)


def test_mail_plane_must_be_set_up_first(tmp_path: Path) -> None:
    from congvu.errors import CongvuError
    from congvu.webmail.services import mail_endpoints

    with pytest.raises(CongvuError, match="mail up"):
        mail_endpoints(tmp_path)


@pytest.mark.ci_may_skip
@pytest.mark.skipif(os.geteuid() == 0, reason="checks the refusal for non-root users")
def test_webmail_needs_root() -> None:
    from congvu.errors import CongvuError
    from congvu.webmail.services import require_webmail

    with pytest.raises(CongvuError):
        require_webmail()
