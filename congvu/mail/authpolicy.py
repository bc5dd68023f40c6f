"""The Dovecot auth-policy endpoint: NB-7.2a, consecutive wrong passwords.

Dovecot (``auth_policy_server_url``) POSTs a JSON object to ``<url>?command=allow``
before authentication and to ``<url>?command=report`` after it, the report carrying
``success`` and ``policy_reject`` (booleans, always present) and, from Dovecot 2.4 or
when configured, ``fail_type`` (``credentials``, ``account``, ``expired``, ``disabled``,
``policy``, ``internal``...). The object's other keys are those of
``auth_policy_request_attributes``; congvu's configuration sends ``login``, ``remote``,
``protocol``, ``session_id`` and ``mech``.

- ``allow``: always ``{"status": 0}``; the passdb itself refuses accounts that are not
  active, and refusing here would only add a second place that decides.
- ``report`` with success: the sign-in is recorded and the NB-7.2a count reset
  (:func:`congvu.mail.actions.do_record_auth_success`); over IMAP or POP3 it is also a
  mailbox check (NB-9.2, KH-10: :mod:`congvu.mail.checks`).
- ``report`` with a wrong password: :func:`congvu.mail.actions.do_record_auth_failure`
  counts it and suspends past the profile's limit (NB-7.2a: more than 12 consecutive).
  Every sign-in path goes through Dovecot's auth (IMAP, SMTP submission via Postfix's
  Dovecot SASL) or calls the same action (SSO), so one count covers them all.
  Reading: Dovecot 2.3 (Debian 12) has no ``fail_type``; a failed report without one
  (or with the 2.3 placeholder ``UNSUPPORTED_VARIABLE_fail_type``) counts as a wrong
  password when the login names an existing account. With a ``fail_type``, only
  ``credentials`` counts.
- A refused OAuth access token (``mech`` XOAUTH2 or OAUTHBEARER, issue 5) is not a
  password guess: webmail retries with a token that has just expired or been revoked,
  and that must not suspend anyone. The password behind a token is typed only at the
  SSO sign-in page, which counts its own failures.

The HTTP/1.1 server is deliberately small: ``Content-Length`` bodies up to 64 kB,
keep-alive, ``Expect: 100-continue``; anything else is answered 400 (or 405, 411, 413,
431) and the connection closed. It never crashes on input.

Run alone with ``python -m congvu.mail.authpolicy --listen 127.0.0.1:10041``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

from congvu import clock
from congvu.deployment import deployment_profile
from congvu.mail.policy import (
    DB_TIMEOUT,
    DbRunner,
    TrackedServer,
    close_writer,
    in_thread,
    normalise_address,
    run_standalone,
)
from congvu.profiles import Profile

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BODY = 64 * 1024
MAX_LINE = 8 * 1024
MAX_HEADERS = 100
#: Waiting for the next request on a kept-alive connection (Dovecot drops idle ones
#: after 10 s).
IDLE_TIMEOUT = 60.0
#: Once a request has started, the rest of it must come within this time.
REQUEST_TIMEOUT = 10.0

ACCEPT: dict[str, Any] = {"status": 0, "msg": ""}
#: SASL mechanisms that carry an OAuth access token, not a password.
TOKEN_MECHANISMS = frozenset({"xoauth2", "oauthbearer"})
#: Dovecot's ``fail_type`` values (2.4+); only ``credentials`` is a wrong password.
FAIL_TYPES = frozenset(
    {"credentials", "account", "expired", "disabled", "policy", "client", "internal"})

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_REASONS = {
    100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found",
    405: "Method Not Allowed", 411: "Length Required", 413: "Content Too Large",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
}

Outcome = Literal["success", "failure"]


def _flag(value: object) -> bool | None:
    """A JSON boolean, tolerating ``"true"``/``"1"``-style strings and 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0 if value in (0, 1) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
    return None


def classify_report(report: dict[str, Any]) -> Outcome | None:
    """What a ``command=report`` says for NB-7.2a: a sign-in, a wrong password, or
    nothing to count (None: a refusal by policy, an unknown kind of failure, garbage)."""
    success = _flag(report.get("success"))
    if success is None:
        return None
    if success:
        return "success"
    if _flag(report.get("policy_reject")):
        return None
    if _text(report.get("mech")).lower() in TOKEN_MECHANISMS:
        return None  # a stale token, not a guessed password (module docstring)
    fail_type = report.get("fail_type")
    if (not isinstance(fail_type, str) or not fail_type
            or fail_type.startswith("UNSUPPORTED_VARIABLE")):
        return "failure"  # Dovecot 2.3: no fail_type (Reading, see the module docstring)
    return "failure" if fail_type == "credentials" else None


def _text(value: object, limit: int = 64) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value[:limit] if c.isprintable())


def _failure_in_db(profile: Profile, address: str, now: dt.datetime, remote: str,
                   protocol: str) -> bool:
    from congvu.mail.actions import do_record_auth_failure

    return do_record_auth_failure(profile=profile, address=address, now=now, remote=remote,
                                  protocol=protocol)


def _success_in_db(profile: Profile, address: str, now: dt.datetime, protocol: str) -> bool:
    from congvu.mail.actions import do_record_auth_success

    return do_record_auth_success(address=address, now=now, protocol=protocol,
                                  profile=profile)


class BadRequest(Exception):
    """Answered with ``status`` and the connection closed."""

    def __init__(self, status: int = 400, detail: str = "") -> None:
        super().__init__(detail or _REASONS.get(status, "error"))
        self.status = status
        self.detail = detail or _REASONS.get(status, "error")


class AuthPolicyService:
    """The decisions of the endpoint, apart from HTTP (tests call :meth:`handle`). The
    profile, the clock, how database work runs and the two actions are injected."""

    def __init__(
        self,
        *,
        profile_loader: Callable[[], Profile] = deployment_profile,
        now: Callable[[], dt.datetime] = clock.now,
        run_db: DbRunner = in_thread,
        record_failure: Callable[[Profile, str, dt.datetime, str, str], bool] = _failure_in_db,
        record_success: Callable[[Profile, str, dt.datetime, str], bool] = _success_in_db,
        db_timeout: float = DB_TIMEOUT,
    ) -> None:
        self.profile_loader = profile_loader
        self.now = now
        self.run_db = run_db
        self.record_failure = record_failure
        self.record_success = record_success
        self.db_timeout = db_timeout

    async def _db(self, fn: Callable[[], T]) -> T:
        return await asyncio.wait_for(self.run_db(fn), timeout=self.db_timeout)

    async def handle(self, command: str, payload: object) -> dict[str, Any]:
        """The JSON answer to one command. ``allow`` and ``report`` always answer status
        0 (a report's failure to be recorded is logged, never refused); any other command
        raises :class:`BadRequest`."""
        if command == "allow":
            return dict(ACCEPT)
        if command == "report":
            try:
                await self.report(payload)
            except Exception:
                log.exception("auth-policy report failed")
            return dict(ACCEPT)
        raise BadRequest(400, "unknown command")

    async def report(self, payload: object) -> None:
        """NB-7.2a: record a sign-in or count a wrong password (see the module docstring)."""
        if not isinstance(payload, dict):
            return
        outcome = classify_report(payload)
        if outcome is None:
            return
        profile = self.profile_loader()
        address = normalise_address(payload.get("login"), profile.mail.domain)
        if address is None:
            return
        now = self.now()
        remote, protocol = _text(payload.get("remote")), _text(payload.get("protocol"))
        if outcome == "success":
            # An IMAP/POP3 sign-in is also a mailbox check (NB-9.2, KH-10).
            await self._db(lambda: self.record_success(profile, address, now, protocol))
            return
        suspended = await self._db(
            lambda: self.record_failure(profile, address, now, remote, protocol))
        if suspended:
            log.warning("%s: suspended %s after too many failed sign-ins (last from %s, %s)",
                        profile.lifecycle.failed_login_rule, address, remote or "?",
                        protocol or "?")


@dataclass
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


class PeerGone(Exception):
    """The peer went away or stalled: close without answering."""


async def _line(reader: asyncio.StreamReader, timeout: float) -> bytes | None:
    """One CRLF (or LF) line without its ending; None at a clean end of stream."""
    try:
        raw = await asyncio.wait_for(reader.readline(), timeout)
    except ValueError as exc:  # longer than the reader's limit
        raise BadRequest(431) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise PeerGone from exc
    if not raw:
        return None
    if not raw.endswith(b"\n"):
        raise PeerGone
    raw = raw[:-1]
    return raw[:-1] if raw.endswith(b"\r") else raw


async def read_http_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                            *, idle_timeout: float = IDLE_TIMEOUT) -> HttpRequest | None:
    """Read one request. None when the peer closed the connection between requests;
    :class:`BadRequest` for anything malformed; ``PeerGone`` when the peer vanished or
    stalled mid-request. ``writer`` (if given) receives ``100 Continue`` when asked."""
    first = await _line(reader, idle_timeout)
    blank = 0
    while first == b"":  # RFC 9112 2.2: ignore empty lines before a request line
        blank += 1
        if blank > 4:
            raise BadRequest(400, "empty lines")
        first = await _line(reader, REQUEST_TIMEOUT)
    if first is None:
        return None
    parts = first.split(b" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1].isascii():
        raise BadRequest(400, "bad request line")
    method, target, version = (p.decode("ascii", "replace") for p in parts)
    if version not in ("HTTP/1.0", "HTTP/1.1") or not target or not target.isprintable():
        raise BadRequest(400, "bad request line")
    request = HttpRequest(method=method, target=target, version=version)
    for _count in range(MAX_HEADERS + 1):
        line = await _line(reader, REQUEST_TIMEOUT)
        if line is None:
            raise PeerGone
        if not line:
            break
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.match(name):
            raise BadRequest(400, "bad header")
        key = name.decode("ascii").lower()
        text = value.strip(b" \t").decode("latin-1")
        if key in request.headers:
            if key == "content-length" and request.headers[key] != text:
                raise BadRequest(400, "conflicting Content-Length")
            text = f"{request.headers[key]}, {text}" if key != "content-length" else text
        request.headers[key] = text
    else:
        raise BadRequest(431)
    if "transfer-encoding" in request.headers:
        raise BadRequest(400, "only Content-Length bodies")
    length_text = request.headers.get("content-length")
    if length_text is None:
        if method == "POST":
            raise BadRequest(411)
        return request
    if not length_text.isdigit() or not length_text.isascii():
        raise BadRequest(400, "bad Content-Length")
    length = int(length_text)
    if length > MAX_BODY:
        raise BadRequest(413)
    if (writer is not None and length
            and request.headers.get("expect", "").lower() == "100-continue"):
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    try:
        request.body = await asyncio.wait_for(reader.readexactly(length), REQUEST_TIMEOUT)
    except (asyncio.IncompleteReadError, TimeoutError, ConnectionError) as exc:
        raise PeerGone from exc
    return request


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After an error answer, read (and drop) what the client still sends for a moment
    before closing, so the answer is not lost to a TCP reset."""
    try:
        if writer.can_write_eof():
            writer.write_eof()
        total = 0
        while total < 4 * MAX_BODY:
            chunk = await asyncio.wait_for(reader.read(65536), 1.0)
            if not chunk:
                return
            total += len(chunk)
    except Exception:  # noqa: S110 - best effort: the connection is closed next anyway
        pass


def http_response(status: int, payload: dict[str, Any], *, keep_alive: bool,
                  headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
             "Content-Type: application/json",
             f"Content-Length: {len(body)}",
             f"Connection: {'keep-alive' if keep_alive else 'close'}",
             *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


async def route(service: AuthPolicyService, request: HttpRequest) -> tuple[int, dict[str, Any]]:
    """Status and JSON answer for a parsed request; :class:`BadRequest` for a bad one."""
    if request.method != "POST":
        raise BadRequest(405)
    query = parse_qs(urlsplit(request.target).query, keep_blank_values=True)
    commands = query.get("command", [])
    if len(commands) != 1:
        raise BadRequest(400, "command=allow or command=report expected")
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(400, "the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise BadRequest(400, "the body is not a JSON object")
    return 200, await service.handle(commands[0], payload)


async def serve_auth_policy(host: str, port: int, *,
                            profile_loader: Callable[[], Profile] = deployment_profile,
                            now: Callable[[], dt.datetime] = clock.now,
                            service: AuthPolicyService | None = None,
                            idle_timeout: float = IDLE_TIMEOUT) -> TrackedServer:
    """Start the auth-policy endpoint on ``host:port`` (port 0: any free port, see
    :attr:`TrackedServer.port`) and return the listening server."""
    policy = service or AuthPolicyService(profile_loader=profile_loader, now=now)
    tracked = TrackedServer()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tracked.writers.add(writer)
        try:
            while True:
                try:
                    request = await read_http_request(reader, writer, idle_timeout=idle_timeout)
                    if request is None:
                        return
                    keep = request.keep_alive
                    status, payload = await route(policy, request)
                except BadRequest as exc:
                    writer.write(http_response(exc.status, {"status": 0, "msg": exc.detail},
                                               keep_alive=False,
                                               headers={"Allow": "POST"} if exc.status == 405
                                               else None))
                    await writer.drain()
                    await _linger(reader, writer)
                    return
                except PeerGone:
                    return
                except Exception:
                    log.exception("auth-policy request failed")
                    writer.write(http_response(500, dict(ACCEPT), keep_alive=False))
                    await writer.drain()
                    return
                writer.write(http_response(status, payload, keep_alive=keep))
                await writer.drain()
                if not keep:
                    return
        except ConnectionError:
            pass
        except Exception:
            log.exception("auth-policy connection failed")
        finally:
            tracked.writers.discard(writer)
            await close_writer(writer)

    # The reader's limit bounds one header line; bodies are read with readexactly.
    server = await asyncio.start_server(connection, host, port, limit=MAX_LINE)
    return tracked.attach(server)


def main(argv: list[str] | None = None) -> None:
    run_standalone("Dovecot auth-policy endpoint (NB-7.2a)", 10041, serve_auth_policy, argv)


if __name__ == "__main__":
    main()
