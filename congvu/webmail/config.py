"""Rendering webmail: Roundcube (Debian's package, /usr/share/roundcube) configured as an
OpenID Connect client of congvu's SSO provider, opening the mailbox over IMAP and SMTP
with the OAuth access token (XOAUTH2), served by a private Apache with mod_php.

Everything lives in ``$CONGVU_HOME/webmail``:

- ``config/config.inc.php``: Roundcube's configuration (``ROUNDCUBE_CONFIG_DIR``), with the
  client secret and ``des_key``: 0640 root:www-data.
- ``root/``: an install tree of symbolic links to /usr/share/roundcube (Debian's
  /var/lib/roundcube layout, so nothing of the system's Roundcube set-up is used or
  changed), whose ``plugins/`` adds congvu's ``congvu_sso`` plugin; Apache serves
  ``root/public_html``.
- ``db/roundcube.sqlite``: Roundcube's own database (preferences, caches, sessions and
  the plugin's ``congvu_sso_sessions`` table); ``logs/`` and ``temp/``.
- ``apache/``: the private Apache instance (configuration, pid, logs).
- ``state.json``: what ``webmail up`` was asked for; ``secrets.json`` (0600): ``des_key``.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.template import Context, Engine

from congvu.profiles import Profile

_HERE = Path(__file__).parent
_ENGINE = Engine(dirs=[str(_HERE / "templates")], autoescape=False)

ROUNDCUBE = Path("/usr/share/roundcube")
PLUGIN_SOURCE = _HERE / "plugin" / "congvu_sso"
#: congvu's Roundcube plugins: single sign-on/out, and the eOffice hand-over button.
PLUGINS = ("congvu_sso", "congvu_eoffice")
#: Where the congvu_eoffice plugin posts the open message (with the user's access token).
HANDOVER_PATH = "/console/eoffice/intake/mail/handover/"
DEFAULT_PORT = 8025
#: Roundcube's OAuth callback (rcmail_oauth::get_redirect_uri).
REDIRECT_PATH = "/index.php/login/oauth"
#: Where the provider POSTs logout tokens (handled by the congvu_sso plugin).
BACKCHANNEL_PATH = "/index.php?_task=login&_action=congvu-backchannel-logout"
CLIENT_NAME = "webmail"
APACHE_MODULES = ["php", "rewrite", "headers"]
SSO_TABLE = """CREATE TABLE IF NOT EXISTS congvu_sso_sessions (
    sess_id TEXT, sid TEXT NOT NULL, sub TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL, ended INTEGER)"""
SSO_INDEXES = (
    "CREATE INDEX IF NOT EXISTS congvu_sso_sessions_sid ON congvu_sso_sessions (sid)",
    "CREATE INDEX IF NOT EXISTS congvu_sso_sessions_sub ON congvu_sso_sessions (sub)",
    "CREATE INDEX IF NOT EXISTS congvu_sso_sessions_sess ON congvu_sso_sessions (sess_id)",
)


@dataclass(frozen=True)
class WebmailPaths:
    home: Path

    @property
    def dir(self) -> Path:
        return self.home / "webmail"

    @property
    def config_dir(self) -> Path:
        return self.dir / "config"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.inc.php"

    @property
    def root(self) -> Path:
        return self.dir / "root"

    @property
    def public_html(self) -> Path:
        return self.root / "public_html"

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins"

    @property
    def db_dir(self) -> Path:
        return self.dir / "db"

    @property
    def db_file(self) -> Path:
        return self.db_dir / "roundcube.sqlite"

    @property
    def log_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def temp_dir(self) -> Path:
        return self.dir / "temp"

    @property
    def apache_dir(self) -> Path:
        return self.dir / "apache"

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def secrets_file(self) -> Path:
        return self.dir / "secrets.json"


@dataclass
class WebmailOptions:
    """What ``webmail up`` was asked for; kept in ``state.json`` for status/down."""

    port: int = DEFAULT_PORT
    listen: str = "127.0.0.1"
    public_url: str = ""

    @property
    def url(self) -> str:
        """The address users open; the OAuth redirect URI is built on it."""
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "url": self.url}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebmailOptions:
        return cls(port=int(data.get("port", DEFAULT_PORT)),
                   listen=str(data.get("listen", "127.0.0.1")),
                   public_url=str(data.get("public_url", "")))


@dataclass(frozen=True)
class Provider:
    """The SSO provider's endpoints as Roundcube and the plugin use them."""

    issuer: str

    def _at(self, path: str) -> str:
        return f"{self.issuer.rstrip('/')}{path}"

    @property
    def authorize(self) -> str:
        return self._at("/sso/authorize/")

    @property
    def token(self) -> str:
        return self._at("/sso/token/")

    @property
    def userinfo(self) -> str:
        return self._at("/sso/userinfo/")

    @property
    def jwks(self) -> str:
        return self._at("/sso/jwks.json")

    @property
    def end_session(self) -> str:
        return self._at("/sso/logout/")

    @property
    def introspection(self) -> str:
        return self._at("/sso/introspect/")


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class MailEndpoints:
    """Where Roundcube reaches the mail plane (STARTTLS on both)."""

    imap_host: str
    imap_port: int
    smtp_host: str
    smtp_port: int


def redirect_uri(options: WebmailOptions) -> str:
    return options.url + REDIRECT_PATH


def post_logout_uri(options: WebmailOptions) -> str:
    return options.url + "/"


def backchannel_uri(options: WebmailOptions) -> str:
    """Back-channel logout goes straight to this instance over loopback when it listens
    there, whatever the public URL."""
    host = "127.0.0.1" if options.listen in ("127.0.0.1", "all", "*", "0.0.0.0") \
        else options.listen  # noqa: S104
    return f"http://{host}:{options.port}{BACKCHANNEL_PATH}"


def load_options(paths: WebmailPaths) -> WebmailOptions | None:
    if not paths.state_file.is_file():
        return None
    return WebmailOptions.from_json(json.loads(paths.state_file.read_text("utf-8")))


def save_options(paths: WebmailPaths, options: WebmailOptions) -> None:
    paths.dir.mkdir(parents=True, exist_ok=True)
    paths.state_file.write_text(json.dumps(options.to_json(), indent=2), "utf-8")


def des_key(paths: WebmailPaths) -> str:
    """Roundcube's 24-character encryption key, made once and kept (sessions survive a
    restart)."""
    try:
        return str(json.loads(paths.secrets_file.read_text("utf-8"))["des_key"])
    except (OSError, ValueError, KeyError):
        pass
    alphabet = string.ascii_letters + string.digits
    key = "".join(secrets.choice(alphabet) for _ in range(24))
    paths.dir.mkdir(parents=True, exist_ok=True)
    paths.secrets_file.write_text(json.dumps({"des_key": key}), "utf-8")
    paths.secrets_file.chmod(0o600)
    return key


def php_string(value: str) -> str:
    """A PHP single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


def render_config(profile: Profile, paths: WebmailPaths, options: WebmailOptions,
                  provider: Provider, client: Client, mail: MailEndpoints,
                  key: str) -> str:
    context = {
        "profile": profile, "paths": paths, "options": options,
        "q": {  # every string the PHP file holds, quoted once here
            "db_dsn": php_string(f"sqlite:///{paths.db_file}?mode=0640"),
            "imap_host": php_string(f"tls://{mail.imap_host}:{mail.imap_port}"),
            "smtp_host": php_string(f"tls://{mail.smtp_host}:{mail.smtp_port}"),
            "des_key": php_string(key),
            "product_name": php_string(f"Thư điện tử công vụ · {profile.mail.domain}"),
            "username_domain": php_string(profile.mail.domain),
            "log_dir": php_string(str(paths.log_dir) + "/"),
            "temp_dir": php_string(str(paths.temp_dir) + "/"),
            "client_id": php_string(client.client_id),
            "client_secret": php_string(client.client_secret),
            "auth_uri": php_string(provider.authorize),
            "token_uri": php_string(provider.token),
            "identity_uri": php_string(provider.userinfo),
            "issuer": php_string(provider.issuer),
            "jwks_uri": php_string(provider.jwks),
            "end_session_uri": php_string(provider.end_session),
            "post_logout_uri": php_string(post_logout_uri(options)),
            "eoffice_url": php_string(provider.issuer.rstrip("/") + HANDOVER_PATH),
        },
        "eoffice_max_bytes": _eoffice_max_bytes(profile),
        "verify_imap": not is_loopback(mail.imap_host),
        "verify_smtp": not is_loopback(mail.smtp_host),
        "verify_oauth": provider.issuer.startswith("https://"),
    }
    return _ENGINE.get_template("webmail/config.inc.php").render(
        Context(context, autoescape=False))


def _eoffice_max_bytes(profile: Profile) -> int:
    """The largest message the hand-over button sends (congvu refuses larger ones too)."""
    from congvu.eoffice.mail_intake import max_message_bytes
    from congvu.eoffice.params import deployment_params

    try:
        return max_message_bytes(deployment_params(profile))
    except Exception:  # no deployment settings (rendering in a test): the default
        from congvu.eoffice.params import EofficeParams

        return max_message_bytes(EofficeParams())


def render_site(paths: WebmailPaths, options: WebmailOptions) -> str:
    """The Apache configuration body (after the generic head of ApacheInstance)."""
    from urllib.parse import urlsplit

    public = urlsplit(options.url)
    return _ENGINE.get_template("webmail/apache-site.conf").render(Context({
        "paths": paths, "options": options, "public_host": public.netloc,
        "public_host_re": public.netloc.replace(".", "\\.").replace("[", "\\[")
        .replace("]", "\\]"),
        "public_origin": f"{public.scheme}://{public.netloc}",
    }, autoescape=False))


def build_root(paths: WebmailPaths) -> None:
    """The install tree Apache serves: Debian's /var/lib/roundcube layout made of links
    to /usr/share/roundcube, plus congvu's plugin (copied, so www-data can read it
    wherever congvu is installed)."""
    root = paths.root
    for d in (root, paths.public_html, paths.public_html / "program", paths.plugins_dir,
              root / "skins"):
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)
    links = {
        root / "index.php": ROUNDCUBE / "index.php",
        root / "program": ROUNDCUBE / "program",
        root / "SQL": ROUNDCUBE / "SQL",
        root / "config": paths.config_dir,
        root / "logs": paths.log_dir,
        root / "temp": paths.temp_dir,
        paths.public_html / "program" / "js": ROUNDCUBE / "program" / "js",
        paths.public_html / "program" / "resources": ROUNDCUBE / "program" / "resources",
        paths.public_html / "skins": Path("../skins"),
        paths.public_html / "plugins": Path("../plugins"),
    }
    for skin in sorted((ROUNDCUBE / "skins").iterdir()):
        links[root / "skins" / skin.name] = skin
    for plugin in sorted((ROUNDCUBE / "plugins").iterdir()):
        if plugin.is_dir():
            links[paths.plugins_dir / plugin.name] = plugin
    for link, target in links.items():
        if link.is_symlink() and Path(link.readlink()) == target:
            continue
        if link.is_symlink() or link.is_file():
            link.unlink()
        link.symlink_to(target)
    (paths.public_html / "index.php").write_text(
        "<?php\n// congvu webmail: Roundcube's entry point, with this tree as INSTALL_PATH.\n"
        "define('INSTALL_PATH', realpath(__DIR__ . '/..') . '/');\n"
        "include INSTALL_PATH . 'index.php';\n", "utf-8")
    for name in PLUGINS:
        _copy_tree(_HERE / "plugin" / name, paths.plugins_dir / name)


def _copy_tree(source: Path, target: Path) -> None:
    """A plugin's files, copied (readable by www-data), its sub-folders too."""
    if target.is_symlink():
        target.unlink()
    target.mkdir(exist_ok=True)
    target.chmod(0o755)
    for item in source.iterdir():
        if item.is_dir():
            _copy_tree(item, target / item.name)
        elif item.is_file():
            (target / item.name).write_bytes(item.read_bytes())
            (target / item.name).chmod(0o644)


def init_database(paths: WebmailPaths) -> bool:
    """Roundcube's SQLite database from Debian's initial schema, once; and the plugin's
    table (idempotent). Returns whether the database was created."""
    paths.db_dir.mkdir(parents=True, exist_ok=True)
    created = not paths.db_file.exists()
    with sqlite3.connect(paths.db_file) as conn:
        if created:
            conn.executescript((ROUNDCUBE / "SQL" / "sqlite.initial.sql").read_text("utf-8"))
        conn.execute(SSO_TABLE)
        for statement in SSO_INDEXES:
            conn.execute(statement)
    conn.close()
    return created
