"""Where the provider is: the public URL given to ``congvu serve`` is the issuer.

Recorded in ``$CONGVU_HOME/sso/public_url`` so other commands (``mail up``, ``webmail
up``) render configurations pointing at it. ``http://`` is accepted only for a loopback
host (development and tests); any other host needs https.
"""

from __future__ import annotations

import functools
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from congvu import deployment
from congvu.errors import CongvuError

DEFAULT = "http://127.0.0.1:8000"


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, what: str) -> str:
    """An absolute http(s) URL without fragment; http only for a loopback host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CongvuError(_("%(what)s %(url)r is not an absolute http(s) URL.") % {
            "what": what, "url": url})
    if parts.fragment:
        raise CongvuError(_("%(what)s %(url)r must not have a fragment (#...).") % {
            "what": what, "url": url})
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise CongvuError(_("%(what)s %(url)r uses http:// for a host that is not loopback; "
                            "use https://.") % {"what": what, "url": url})
    return url.strip()


def _path() -> Path:
    return deployment.home() / "sso" / "public_url"


@functools.cache
def public_url() -> str:
    """The issuer, without a trailing slash."""
    try:
        text = _path().read_text("utf-8").strip()
    except OSError:
        return DEFAULT
    return text.rstrip("/") or DEFAULT


def record_public_url(url: str) -> str:
    url = check_url(url, what=_("Public URL")).rstrip("/")
    if urlsplit(url).path not in ("", "/"):
        raise CongvuError(_("Public URL %(url)r must not have a path.") % {"url": url})
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(url + "\n", "utf-8")
    public_url.cache_clear()
    return url


def is_secure(url: str) -> bool:
    return urlsplit(url).scheme == "https"
