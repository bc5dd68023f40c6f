"""Starting, checking and stopping webmail (Roundcube behind a private Apache) of one
deployment. ``up`` registers (or re-keys) the ``webmail`` client at congvu's SSO
provider, renders ``$CONGVU_HOME/webmail`` and starts Apache on ``--port``."""

from __future__ import annotations

import datetime as dt
import grp
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.errors import CongvuError
from congvu.mail.config import MailPaths
from congvu.mail.config import load_options as load_mail_options
from congvu.profiles import Profile
from congvu.webmail.apache import APACHE, ApacheError, ApacheInstance, module_line
from congvu.webmail.config import (
    APACHE_MODULES,
    CLIENT_NAME,
    ROUNDCUBE,
    Client,
    MailEndpoints,
    Provider,
    WebmailOptions,
    WebmailPaths,
    backchannel_uri,
    build_root,
    des_key,
    init_database,
    load_options,
    post_logout_uri,
    redirect_uri,
    render_config,
    render_site,
    save_options,
)

WEBMAIL_ACTOR = Actor(kind="system", label="system:webmail")
WEB_USER = "www-data"


def require_webmail() -> None:
    """Root (Apache binds the port and switches to www-data) and Debian's apache2,
    libapache2-mod-php and roundcube packages (scripts/setup installs them)."""
    if os.geteuid() != 0:
        raise CongvuError(_("Webmail must be started as root (Apache switches to the "
                            "www-data user)."))
    missing = [str(p) for p in (Path(APACHE), ROUNDCUBE / "index.php") if not p.exists()]
    try:
        module_line("php")
    except ApacheError:
        missing.append("libapache2-mod-php")
    if missing:
        raise CongvuError(_("Missing %(what)s: run scripts/setup as root to install Apache, "
                            "PHP and Roundcube.") % {"what": ", ".join(missing)})


def apache(paths: WebmailPaths, options: WebmailOptions) -> ApacheInstance:
    listen = "0.0.0.0" if options.listen == "all" else options.listen  # noqa: S104
    return ApacheInstance(paths.apache_dir, options.port, APACHE_MODULES,
                          render_site(paths, options), listen=listen)


def mail_endpoints(home: Path) -> MailEndpoints:
    """The mail plane's IMAP and submission ports, as ``mail up`` recorded them."""
    mail = load_mail_options(MailPaths(home))
    if mail is None:
        raise CongvuError(_("The mail plane is not set up in %(home)s: run 'congvu mail up' "
                            "first.") % {"home": home})
    host = "127.0.0.1" if mail.listen in ("all", "*", "0.0.0.0") else mail.listen  # noqa: S104
    return MailEndpoints(imap_host=host, imap_port=mail.ports.imap, smtp_host=host,
                         smtp_port=mail.ports.submission)


def register_client(options: WebmailOptions, now: dt.datetime) -> Client:
    """Create or update the ``webmail`` client at the provider; a new secret each time.
    Roundcube 1.6 cannot do PKCE; it is a confidential client (secret at the token
    endpoint)."""
    from congvu.sso.actions import do_ensure_internal_client

    client_id, secret = do_ensure_internal_client(
        actor=WEBMAIL_ACTOR, name=CLIENT_NAME, redirect_uris=[redirect_uri(options)],
        post_logout_uris=[post_logout_uri(options)],
        backchannel_logout_uri=backchannel_uri(options), require_pkce=False, now=now)
    return Client(client_id=client_id, client_secret=secret)


def provider() -> Provider:
    from congvu.sso.issuer import public_url

    return Provider(issuer=public_url())


def _prepare_dirs(paths: WebmailPaths) -> None:
    web = pwd.getpwnam(WEB_USER)
    web_gid = grp.getgrnam(WEB_USER).gr_gid
    # www-data only traverses $CONGVU_HOME (the deployment's files stay unreadable).
    paths.home.chmod(paths.home.stat().st_mode & 0o7777 | 0o001)
    paths.dir.mkdir(parents=True, exist_ok=True)
    paths.dir.chmod(0o755)
    paths.config_dir.mkdir(exist_ok=True)
    os.chown(paths.config_dir, 0, web_gid)
    paths.config_dir.chmod(0o750)
    for d in (paths.db_dir, paths.log_dir, paths.temp_dir):
        d.mkdir(exist_ok=True)
        os.chown(d, web.pw_uid, web_gid)
        d.chmod(0o700)
    for name in ("defaults.inc.php", "mimetypes.php"):
        link, target = paths.config_dir / name, Path("/etc/roundcube") / name
        if target.exists() and not link.is_symlink():
            link.symlink_to(target)


def _check_reachable(paths: WebmailPaths) -> None:
    """Apache's children (www-data) must traverse every folder above webmail/."""
    for folder in [paths.home, *paths.home.parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            raise CongvuError(_("The web server's user %(user)s cannot reach %(dir)s: "
                                "%(folder)s is not traversable (chmod o+x).") % {
                "user": WEB_USER, "dir": paths.dir, "folder": folder})


def _write_config(paths: WebmailPaths, text: str) -> None:
    tmp = paths.config_file.with_suffix(".tmp")
    tmp.write_text(text, "utf-8")
    os.chown(tmp, 0, grp.getgrnam(WEB_USER).gr_gid)
    tmp.chmod(0o640)  # the client secret and des_key
    tmp.replace(paths.config_file)


def _own_database(paths: WebmailPaths) -> None:
    web = pwd.getpwnam(WEB_USER)
    for f in paths.db_dir.iterdir():
        os.chown(f, web.pw_uid, web.pw_gid)
        f.chmod(0o600)


@dataclass
class WebmailStatus:
    running: bool
    options: WebmailOptions | None
    error_log: Path | None = None

    def to_json(self) -> dict[str, object]:
        return {"running": self.running,
                **(self.options.to_json() if self.options else {}),
                "error_log": str(self.error_log) if self.error_log else None}


def up(profile: Profile, home: Path, *, port: int | None, listen: str | None,
       public_url: str | None, now: dt.datetime) -> WebmailStatus:
    """Register the client, render everything and start (or gracefully restart) Apache."""
    require_webmail()
    paths = WebmailPaths(home)
    options = load_options(paths) or WebmailOptions()
    if port:
        options.port = port
    if listen:
        options.listen = listen
    if public_url is not None:
        from congvu.sso.issuer import check_url

        options.public_url = check_url(public_url, what=_("Public URL")).rstrip("/") \
            if public_url else ""
    mail = mail_endpoints(home)
    _prepare_dirs(paths)
    _check_reachable(paths)
    build_root(paths)
    init_database(paths)
    _own_database(paths)
    client = register_client(options, now)
    _write_config(paths, render_config(profile, paths, options, provider(), client, mail,
                                       des_key(paths)))
    save_options(paths, options)
    instance = apache(paths, options)
    try:
        instance.start()
    except ApacheError as exc:
        raise CongvuError(_("Apache did not start for webmail: %(error)s") % {
            "error": str(exc)[-1500:]}) from exc
    return status(home)


def status(home: Path) -> WebmailStatus:
    paths = WebmailPaths(home)
    options = load_options(paths)
    if options is None:
        return WebmailStatus(running=False, options=None)
    instance = apache(paths, options)
    return WebmailStatus(running=instance.running(), options=options,
                         error_log=instance.error_log)


def down(home: Path) -> WebmailStatus:
    """Stop Apache; configuration, database and sessions stay for the next ``up``."""
    paths = WebmailPaths(home)
    options = load_options(paths)
    if options is not None:
        apache(paths, options).stop()
    return status(home)
