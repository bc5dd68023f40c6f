"""Rendering the mail plane's configuration: Postfix and Dovecot read the congvu database
through SQL maps, so a state change committed by congvu is what the next SMTP or IMAP
transaction sees (no reload per account change)."""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.template import Context, Engine

from congvu.profiles import Profile

_TEMPLATES = Path(__file__).parent / "templates"
_ENGINE = Engine(dirs=[str(_TEMPLATES)], autoescape=False)

#: Where congvu's own databases tables live, for the SQL the daemons run.
RECEIVING = "('active', 'suspended')"  # NB-7.1, NT-6.1: suspended mailboxes still receive


@dataclass(frozen=True)
class MailPaths:
    """Everything under ``$CONGVU_HOME/mail`` (plus a short socket folder in /run: unix
    socket paths are limited to 108 bytes)."""

    home: Path

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    @property
    def postfix_dir(self) -> Path:
        return self.mail_dir / "postfix"

    @property
    def queue_dir(self) -> Path:
        return self.mail_dir / "spool"

    @property
    def postfix_data_dir(self) -> Path:
        return self.mail_dir / "postfix-data"

    @property
    def dovecot_dir(self) -> Path:
        return self.mail_dir / "dovecot"

    @property
    def dovecot_state(self) -> Path:
        return self.mail_dir / "dovecot-state"

    @property
    def dovecot_run(self) -> Path:
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path("/run/congvu") / digest

    @property
    def vmail_dir(self) -> Path:
        return self.mail_dir / "vmail"

    @property
    def log_dir(self) -> Path:
        return self.mail_dir / "log"

    @property
    def tls_dir(self) -> Path:
        return self.mail_dir / "tls"

    @property
    def tls_cert(self) -> Path:
        return self.tls_dir / "cert.pem"

    @property
    def tls_key(self) -> Path:
        return self.tls_dir / "key.pem"

    @property
    def state_file(self) -> Path:
        return self.mail_dir / "state.json"

    @property
    def daemon_pid(self) -> Path:
        return self.mail_dir / "congvu-mail.pid"

    @property
    def dovecot_conf(self) -> Path:
        return self.dovecot_dir / "dovecot.conf"


@dataclass
class MailPorts:
    smtp: int = 25
    submission: int = 587
    imap: int = 143
    lmtp: int = 0
    auth: int = 0
    quota_status: int = 0
    policy: int = 0
    auth_policy: int = 0
    milter: int = 0


@dataclass
class MailOptions:
    """What ``mail up`` was asked for; kept in ``state.json`` for status/down/restart."""

    ports: MailPorts
    listen: str = "all"
    relay: tuple[str, int] | None = None
    nonce: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"ports": asdict(self.ports), "listen": self.listen,
                "relay": list(self.relay) if self.relay else None, "nonce": self.nonce}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MailOptions:
        relay = data.get("relay")
        return cls(ports=MailPorts(**data["ports"]), listen=data.get("listen", "all"),
                   relay=(relay[0], int(relay[1])) if relay else None,
                   nonce=data.get("nonce", ""))


@dataclass(frozen=True)
class OAuth2Introspection:
    """How Dovecot checks OAuth access tokens (XOAUTH2, OAUTHBEARER): congvu's RFC 7662
    introspection endpoint, called as a confidential resource-server client."""

    introspection_url: str  # without credentials, e.g. http://127.0.0.1:8000/sso/introspect/
    client_id: str
    client_secret: str
    username_attribute: str = "username"
    tls_ca_cert_file: str = ""

    @property
    def url_with_credentials(self) -> str:
        """The URL Dovecot posts to: HTTP Basic credentials in the user-info part."""
        parts = urlsplit(self.introspection_url)
        creds = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return urlunsplit(parts._replace(netloc=f"{creds}@{parts.netloc}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill_internal_ports(ports: MailPorts) -> MailPorts:
    """Loopback ports for the internal services, chosen once and kept."""
    for name in ("lmtp", "auth", "quota_status", "policy", "auth_policy", "milter"):
        if not getattr(ports, name):
            setattr(ports, name, free_port())
    return ports


def load_options(paths: MailPaths) -> MailOptions | None:
    if not paths.state_file.is_file():
        return None
    return MailOptions.from_json(json.loads(paths.state_file.read_text(encoding="utf-8")))


def save_options(paths: MailPaths, options: MailOptions) -> None:
    paths.state_file.write_text(json.dumps(options.to_json(), indent=2), encoding="utf-8")


def database() -> dict[str, Any]:
    """The congvu database as the daemons must reach it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return {"driver": "sqlite", "path": str(db["NAME"])}
    return {"driver": "pgsql", "host": db.get("HOST") or "127.0.0.1",
            "port": db.get("PORT") or 5432, "user": db.get("USER") or "postgres",
            "password": db.get("PASSWORD") or "", "name": db["NAME"]}


def postfix_queries() -> dict[str, tuple[str, str]]:
    """File name → (purpose, query). ``%s`` is the key Postfix looks up (quoted by it)."""
    return {
        "domains.cf": ("virtual_mailbox_domains", (
            "SELECT domain FROM accounts_reservedname WHERE domain = '%s' LIMIT 1")),
        "mailboxes.cf": ("virtual_mailbox_maps: receiving mailboxes (NB-7.1)", (
            "SELECT a.address FROM accounts_account a JOIN accounts_mailbox m "
            "ON m.account_id = a.id WHERE a.address = '%s' "
            f"AND a.state IN {RECEIVING}")),
        "aliases.cf": ("virtual_alias_maps: aliases and forwarding (NB-4.5)", (
            "SELECT a.address FROM accounts_alias al JOIN accounts_account a "
            "ON a.id = al.account_id WHERE al.address = '%s' "
            f"AND a.state IN {RECEIVING} "
            "AND (al.expires_at IS NULL OR al.expires_at > CURRENT_TIMESTAMP) "
            "UNION SELECT f.target FROM accounts_forward f JOIN accounts_account a "
            f"ON a.id = f.account_id WHERE a.address = '%s' AND a.state IN {RECEIVING} "
            "UNION SELECT a.address FROM accounts_account a WHERE a.address = '%s' "
            f"AND a.state IN {RECEIVING} AND EXISTS "
            "(SELECT 1 FROM accounts_forward f WHERE f.account_id = a.id AND f.keep_copy)")),
        "recipient-access.cf": ("locked, deleted and tombstoned recipients (NB-7.4)", (
            "SELECT CASE WHEN state = 'locked' THEN '550 5.2.1 Mailbox locked: the "
            "holder has left the agency (' || reason || ')' ELSE '550 5.1.1 Mailbox "
            "deleted: this address is no longer in use (' || reason || ')' END "
            "FROM accounts_account WHERE address = '%s' AND state IN ('locked', 'deleted') "
            "UNION ALL SELECT '550 5.1.1 This address is no longer in use (its holder "
            "was deleted)' FROM accounts_reservedname r WHERE r.domain = '%d' "
            "AND r.local_part = '%u' AND r.tombstoned_at IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM accounts_account a WHERE a.address = '%s' "
            "AND a.state IN ('locked', 'deleted'))")),
        "sender-logins.cf": ("smtpd_sender_login_maps: who may send as an address "
                             "(own address, aliases, delegated mailboxes KH-15.1)", (
            "SELECT a.address FROM accounts_account a WHERE a.address = '%s' "
            "UNION SELECT a.address FROM accounts_alias al JOIN accounts_account a "
            "ON a.id = al.account_id WHERE al.address = '%s' "
            "AND (al.expires_at IS NULL OR al.expires_at > CURRENT_TIMESTAMP) "
            "UNION SELECT d.address FROM accounts_delegation dl JOIN accounts_account m "
            "ON m.id = dl.mailbox_id JOIN accounts_account d ON d.id = dl.delegate_id "
            "WHERE m.address = '%s'")),
    }


def dovecot_queries() -> dict[str, str]:
    return {
        # Only active accounts may sign in (IMAP, submission).
        "password_query": (
            "SELECT address AS user, '{ARGON2ID}' || substr(password, 7) AS password "
            "FROM accounts_account WHERE address = '%u' AND state = 'active' "
            "AND password LIKE 'argon2$argon2id$%%'"),
        "user_query": (
            "SELECT a.address AS user, '*:bytes=' || m.quota_bytes AS quota_rule "
            "FROM accounts_account a JOIN accounts_mailbox m ON m.account_id = a.id "
            f"WHERE a.address = '%u' AND a.state IN {RECEIVING}"),
        # After an OAuth access token was accepted: the account must still be active.
        "token_password_query": (
            "SELECT address AS user, NULL AS password, 'Y' AS nopassword "
            "FROM accounts_account WHERE address = '%u' AND state = 'active'"),
        # PostgreSQL only (see TOKENS_IN_SQL): the token itself (%w), checked as congvu's
        # introspection endpoint does: issued to this active account, not expired, not
        # revoked (revoked and ended-session tokens are deleted by the provider).
        "token_sql_query": (
            "SELECT a.address AS user, NULL AS password, 'Y' AS nopassword "
            "FROM accounts_account a WHERE a.address = '%u' AND a.state = 'active' "
            "AND EXISTS (SELECT 1 FROM oauth2_provider_accesstoken t "
            "WHERE t.user_id = a.id AND t.expires > CURRENT_TIMESTAMP "
            "AND t.token_checksum = encode(sha256(convert_to('%w', 'UTF8')), 'hex'))"),
        "iterate_query": (
            "SELECT a.address AS user FROM accounts_account a JOIN accounts_mailbox m "
            f"ON m.account_id = a.id WHERE a.state IN {RECEIVING}"),
    }


def tokens_in_sql(db: dict[str, Any]) -> bool:
    """Whether Dovecot checks OAuth tokens with SQL instead of the oauth2 passdb.

    Debian 12's Dovecot 2.3.19 aborts its auth process when the oauth2 passdb (an HTTP
    client) and the pgsql driver live in it together ("Panic: file http-client.c: line
    646 (http_client_context_close): assertion failed: (cctx->clients_list == NULL)",
    dovecot/core pull request 200). SQLite lookups run in auth-worker processes, so
    SQLite deployments use the oauth2 passdb and congvu's introspection endpoint;
    PostgreSQL deployments look the token's checksum up in the provider's table, with
    the same conditions the introspection endpoint applies."""
    return bool(db["driver"] == "pgsql")


def message_size_limit(profile: Profile) -> int:
    """The attachment limit (NB-8.1b 30 MB, KH-9.2 10 MB, QN-9 20 MB) as a message size:
    base64 grows attachments by 4/3; plus 1 MiB for headers and text (Reading)."""
    return profile.mail.max_message_mb * 1024 * 1024 * 4 // 3 + 1024 * 1024


def render(profile: Profile, paths: MailPaths, options: MailOptions,
           oauth2: OAuth2Introspection | None = None) -> list[Path]:
    """Write every configuration file; returns the files written. With ``oauth2``,
    Dovecot also accepts OAuth access tokens (XOAUTH2, OAUTHBEARER) for IMAP and, through
    Dovecot SASL, for submission."""
    db = database()
    map_type = "sqlite" if db["driver"] == "sqlite" else "pgsql"
    context = {
        "profile": profile, "paths": paths, "ports": options.ports, "relay": options.relay,
        "listen": options.listen, "map_type": map_type, "db": db,
        "dovecot_listen": "*" if options.listen == "all" else options.listen,
        "hostname": f"mail.{profile.mail.domain}",
        "instance": "congvu-" + hashlib.sha256(str(paths.home).encode()).hexdigest()[:8],
        "nonce": options.nonce or secrets.token_hex(16),
        "message_size_limit": message_size_limit(profile),
        "tokens_in_sql": tokens_in_sql(db),
        "oauth2": {"client_id": oauth2.client_id,
                   "introspection_url": oauth2.url_with_credentials,
                   "username_attribute": oauth2.username_attribute,
                   "tls_ca_cert_file": oauth2.tls_ca_cert_file} if oauth2 else None,
        **dovecot_queries(),
    }
    written: list[Path] = []

    def write(target: Path, template: str, extra: dict[str, Any] | None = None) -> None:
        text = _ENGINE.get_template(template).render(
            Context({**context, **(extra or {})}, autoescape=False))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)

    write(paths.postfix_dir / "main.cf", "mail/postfix/main.cf")
    write(paths.postfix_dir / "master.cf", "mail/postfix/master.cf")
    for name, (purpose, query) in postfix_queries().items():
        write(paths.postfix_dir / name, "mail/postfix/sqlmap.cf",
              {"purpose": purpose, "query": query})
    write(paths.dovecot_conf, "mail/dovecot/dovecot.conf")
    write(paths.dovecot_dir / "dovecot-sql.conf.ext", "mail/dovecot/dovecot-sql.conf.ext")
    oauth2_file = paths.dovecot_dir / "dovecot-oauth2.conf.ext"
    token_sql = paths.dovecot_dir / "dovecot-sql-token.conf.ext"
    if oauth2:
        write(token_sql, "mail/dovecot/dovecot-sql-token.conf.ext")
        if tokens_in_sql(db):
            oauth2_file.unlink(missing_ok=True)
        else:
            write(oauth2_file, "mail/dovecot/dovecot-oauth2.conf.ext")
            oauth2_file.chmod(0o600)  # the client secret; read by Dovecot's auth as root
    else:
        oauth2_file.unlink(missing_ok=True)
        token_sql.unlink(missing_ok=True)
    return written
