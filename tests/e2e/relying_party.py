"""A relying party for the end-to-end tests: a private Apache with mod_auth_openidc, as a
province's shared application would be deployed in front of congvu's SSO provider.

``/protected/`` needs a signed-in person; ``/protected/index.shtml`` prints the claims
mod_auth_openidc hands to the application; ``/loggedout.html`` is the post-logout page."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from congvu.webmail.apache import ApacheInstance

MODULES = ["authz_user", "include", "auth_openidc"]

_OIDC = """\
DocumentRoot "{root}/htdocs"
LogLevel {log_level}
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {client_secret}
OIDCRedirectURI {url}/protected/redirect_uri
OIDCCryptoPassphrase {passphrase}
OIDCPKCEMethod S256
OIDCScope "openid email profile"
OIDCCacheType shm
OIDCSessionType server-cache
OIDCCookie {name}_session
OIDCStateCookiePrefix {name}_state_
OIDCDefaultLoggedOutURL {url}/loggedout.html
OIDCRedirectURLsAllowed ^{url_re}/
OIDCHTTPTimeoutShort 10
OIDCHTTPTimeoutLong 20
OIDCProviderMetadataRefreshInterval 3600
OIDCRemoteUserClaim email
OIDCPassClaimsAs environment

AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
DirectoryIndex index.shtml index.html
<Directory "{root}/htdocs">
    Options +IncludesNOEXEC
    Require all granted
</Directory>
<Location /protected/>
    AuthType openid-connect
    Require valid-user
</Location>
"""

#: ``/protected/live/`` re-validates the session with the provider on every request (a
#: refresh grant, and a local sign-out when it fails), the way an application guards a
#: sensitive page. A front-channel-only application learns of a suspension that way: no
#: browser visits the provider's logout page to carry the front-channel iframe.
_LIVE_CHECK = """
<Location /protected/live/>
    OIDCRefreshAccessTokenBeforeExpiry 31536000 logout_on_error
</Location>
"""

_PROTECTED = """\
<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1 id="app">{title}</h1>
<dl>
<dt>email</dt><dd id="email"><!--#echo var="OIDC_CLAIM_email" --></dd>
<dt>name</dt><dd id="name"><!--#echo encoding="none" var="OIDC_CLAIM_name" --></dd>
<dt>agency</dt><dd id="agency"><!--#echo var="OIDC_CLAIM_agency" --></dd>
<dt>sid</dt><dd id="sid"><!--#echo var="OIDC_CLAIM_sid" --></dd>
</dl>
<p><a id="logout" href="/protected/redirect_uri?logout={logout_target}">Đăng xuất</a></p>
</body></html>
"""

_LOGGED_OUT = """\
<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1 id="loggedout">Đã đăng xuất khỏi {title}</h1></body></html>
"""


@dataclass
class RelyingParty:
    name: str  # short, cookie-safe: "rp1"
    title: str  # the application's name, as registered with the provider
    port: int
    root: Path
    client_id: str = ""
    client_secret: str = ""
    apache: ApacheInstance | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/protected/redirect_uri"

    @property
    def home(self) -> str:
        """The page that shows who is signed in."""
        return f"{self.url}/protected/"

    @property
    def logged_out(self) -> str:
        return f"{self.url}/loggedout.html"

    @property
    def logout(self) -> str:
        """RP-initiated logout: mod_auth_openidc ends its session and sends the browser to
        the provider's end_session_endpoint, which comes back to ``logged_out``."""
        return f"{self.redirect_uri}?logout={quote(self.logged_out, safe='')}"

    @property
    def backchannel_logout_uri(self) -> str:
        return f"{self.redirect_uri}?logout=backchannel"

    @property
    def frontchannel_logout_uri(self) -> str:
        return f"{self.redirect_uri}?logout=get"

    @property
    def live(self) -> str:
        """The page that re-validates the session at every request."""
        return f"{self.url}/protected/live/"

    def start(self, issuer: str, *, log_level: str = "warn auth_openidc:info") -> None:
        """Render the site and start its Apache (congvu.webmail.apache)."""
        body = _OIDC.format(issuer=issuer, client_id=self.client_id,
                            client_secret=self.client_secret, url=self.url,
                            url_re=self.url.replace(".", r"\."), name=self.name,
                            passphrase=secrets.token_hex(24), root=self.root,
                            log_level=log_level) + _LIVE_CHECK
        docs = self.root / "htdocs"
        page = _PROTECTED.format(title=self.title, logout_target=quote(self.logged_out, safe=""))
        for folder in (docs / "protected", docs / "protected" / "live"):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "index.shtml").write_text(page, "utf-8")
        (docs / "loggedout.html").write_text(_LOGGED_OUT.format(title=self.title), "utf-8")
        # Apache's children run as www-data and read htdocs/ (mkdtemp makes 0700 folders).
        for path in (self.root, docs, docs / "protected", docs / "protected" / "live"):
            path.chmod(0o755)
        self.apache = ApacheInstance(self.root, self.port, MODULES, body)
        self.apache.start()

    def error_log(self) -> str:
        if self.apache is None:
            return ""
        try:
            return self.apache.error_log.read_text("utf-8", "replace")[-6000:]
        except OSError:
            return ""

    def access_log(self) -> str:
        if self.apache is None:
            return ""
        try:
            return self.apache.access_log.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.apache is not None:
            self.apache.stop()
