"""The ``From:`` header check on SMTP submission, as a milter (KH-15.1).

Rule: on SMTP submission, the envelope sender and ``From:`` must belong to the signed-in
account, or to a mailbox delegated to it (KH-15.1). Postfix checks the envelope sender
itself (``smtpd_sender_login_maps`` + ``reject_sender_login_mismatch``); this milter checks
the ``From:`` header. Postfix's submission service calls it with
``smtpd_milters = inet:127.0.0.1:PORT`` and ``milter_default_action = tempfail``.

The protocol is the Sendmail milter protocol, version 6, as Postfix speaks it
(MILTER_README, libmilter's ``mfdef.h``): every packet is a 4-byte big-endian length, a
command byte and its data. The milter asks only for what it needs (no connect, HELO, RCPT,
DATA, unknown-command or body events; no reply per header) and for the ``{auth_authen}``
macro with MAIL FROM (it also arrives with Postfix's default ``milter_mail_macros``).

An address may be used in ``From:`` by the signed-in account when it is the account's own
address, one of its aliases, or a mailbox delegated to it: the same relation as
``sender-logins.cf`` (:func:`congvu.mail.config.postfix_queries`), compared without
regard to case. At the end of the headers, every address of every ``From:`` header must
pass, or the message is refused with ``550 5.7.1 From: <addr> does not belong to the
signed-in account <login>`` (plain ASCII: Postfix mangles anything else).

Readings:

- A message without a ``From:`` header is allowed: the only sender it carries is the
  envelope sender, which Postfix has already checked (and from which Postfix builds the
  ``From:`` it adds, where it adds one).
- Sessions without ``{auth_authen}`` are never judged (the milter is only wired on the
  submission port, where signing in is required).
- Display names are free text and never judged; RFC 2047 encoded display names are not
  decoded before parsing (decoding could turn a name into something that parses as an
  address). The addresses are those of :func:`email.utils.getaddresses` *and* of the
  stricter parser of :mod:`email.headerregistry`: where the two disagree, every address
  either finds must pass, so an ambiguous header cannot smuggle an address past one of
  them. A ``From:`` header in which no address can be read (empty, ``<>``, a syntax error)
  is refused, as are ``From:`` headers too long to check (over 4 KiB together, or more
  than 32 of them). ``"local"@domain`` with quotes that are not needed is ``local@domain``.
- The signed-in account's own address always passes. Like ``sender-logins.cf``, the
  relation looks neither at the state of a delegated mailbox nor at an alias's
  ``expires_at`` (``aliases.cf`` does, for delivery).
- A database failure or timeout answers ``451 4.3.0`` (try again later), as does an
  internal error: Postfix's ``milter_default_action = tempfail`` does the same when the
  milter cannot be reached.

Malformed, oversized (over 1 MiB) or unknown packets and stalled or vanished peers close
that connection only; the server keeps serving the others.

Run alone with ``python -m congvu.mail.milter --listen 127.0.0.1:10042``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.headerregistry import HeaderRegistry
from email.utils import getaddresses

from congvu.deployment import deployment_profile
from congvu.mail.policy import (
    DB_TIMEOUT,
    DbRunner,
    TrackedServer,
    close_writer,
    in_thread,
    normalise_address,
    run_standalone,
    smtp_text,
)
from congvu.profiles import Profile

log = logging.getLogger(__name__)

#: Packets larger than this close the connection (Postfix's largest are body chunks of
#: 64 KiB and headers up to ``header_size_limit``, 100 KiB by default).
MAX_PACKET = 1024 * 1024
#: ``From:`` text kept per message (all its From: headers together); beyond it the
#: message is refused as unreadable. A real From: is well under 1 KiB, and the stdlib
#: parsers are slow on long hostile input (quadratic on some).
MAX_FROM_BYTES = 4096
MAX_FROM_HEADERS = 32
#: Postfix keeps the milter connection for the whole SMTP session; between two messages
#: it may wait up to ``smtpd_timeout`` (300 s) for the client.
IDLE_TIMEOUT = 900.0
#: Once a packet has started, the rest of it must come within this time.
PACKET_TIMEOUT = 30.0
_MAX_SHOWN = 100

MILTER_VERSION = 6

# Commands from the MTA (mfdef.h SMFIC_*).
ABORT, BODY, CONNECT, MACRO, BODYEOB = b"A", b"B", b"C", b"D", b"E"
HELO, QUIT_NC, HEADER, MAIL, EOH = b"H", b"K", b"L", b"M", b"N"
OPTNEG, QUIT, RCPT, DATA, UNKNOWN = b"O", b"Q", b"R", b"T", b"U"

# Replies to the MTA (SMFIR_*).
CONTINUE, REPLYCODE = b"c", b"y"

# Protocol flags (SMFIP_*): events the milter does not want, replies it will not send.
SMFIP_NOCONNECT = 0x01
SMFIP_NOHELO = 0x02
SMFIP_NOMAIL = 0x04
SMFIP_NORCPT = 0x08
SMFIP_NOBODY = 0x10
SMFIP_NOHDRS = 0x20
SMFIP_NOEOH = 0x40
SMFIP_NR_HDR = 0x80
SMFIP_NOUNKNOWN = 0x100
SMFIP_NODATA = 0x200
SMFIP_NR_EOH = 0x40000
#: What this milter asks the MTA to leave out (only the flags the MTA offers are kept).
WANTED_FLAGS = (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOBODY
                | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HDR)
#: Action flag (SMFIF_SETSYMLIST): the milter sends the macro lists it wants.
SMFIF_SETSYMLIST = 0x100
# Macro stages (SMFIM_*).
SMFIM_ENVFROM = 2
SMFIM_EOH = 6
#: Macros asked for at negotiation (they replace Postfix's lists for this milter).
WANTED_MACROS = ((SMFIM_ENVFROM, "{auth_authen}"), (SMFIM_EOH, "i {auth_authen}"))

AUTH_MACRO = "{auth_authen}"
QUEUE_ID_MACRO = "i"

TEMPFAIL_TEXT = "451 4.3.0 congvu From: check temporarily unavailable, try again later"


class MilterProtocolError(Exception):
    """The peer broke the protocol: close this connection."""


def packet(command: bytes, data: bytes = b"") -> bytes:
    """One packet on the wire: length (command byte included), command, data."""
    return struct.pack(">I", len(command) + len(data)) + command + data


def reply_code(text: str) -> bytes:
    """A ``y`` (SMFIR_REPLYCODE) packet. Postfix reads a single ``%`` as an escape, so
    each is doubled; the text must already be printable ASCII."""
    return packet(REPLYCODE, text.replace("%", "%%").encode("ascii", "replace") + b"\0")


async def read_packet(reader: asyncio.StreamReader,
                      idle_timeout: float = IDLE_TIMEOUT) -> tuple[bytes, bytes] | None:
    """The next (command, data), or None when the peer closed the connection between
    packets. Raises :class:`MilterProtocolError` for an empty or oversized packet, a
    packet cut short, or a peer that stalls."""
    try:
        head = await asyncio.wait_for(reader.readexactly(4), idle_timeout)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise MilterProtocolError("connection closed inside a packet length") from exc
    except TimeoutError as exc:
        raise MilterProtocolError("idle timeout") from exc
    (length,) = struct.unpack(">I", head)
    if length < 1:
        raise MilterProtocolError("empty packet")
    if length > MAX_PACKET:
        raise MilterProtocolError(f"packet of {length} bytes is too large")
    try:
        body = await asyncio.wait_for(reader.readexactly(length), PACKET_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        raise MilterProtocolError("connection closed inside a packet") from exc
    except TimeoutError as exc:
        raise MilterProtocolError("packet timeout") from exc
    return body[:1], body[1:]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def parse_macros(data: bytes) -> tuple[bytes, dict[str, str]]:
    """``D``: the command the macros belong to, then NUL-separated name/value pairs. A
    name without a value is ignored."""
    if not data:
        raise MilterProtocolError("macro packet without a command")
    items = data[1:].split(b"\0")
    if items and items[-1] == b"":
        items.pop()
    macros = {_text(items[i]): _text(items[i + 1]) for i in range(0, len(items) - 1, 2)}
    return data[:1], macros


def parse_header(data: bytes) -> tuple[str, str]:
    """``L``: ``name\\0value\\0``."""
    name, sep, value = data.partition(b"\0")
    if not sep:
        raise MilterProtocolError("header packet without a NUL after the name")
    if value.endswith(b"\0"):
        value = value[:-1]
    return _text(name), _text(value)


def parse_optneg(data: bytes) -> tuple[int, int, int]:
    """``O``: version, actions and protocol flags offered by the MTA."""
    if len(data) < 12:
        raise MilterProtocolError("option negotiation packet too short")
    version, actions, flags = struct.unpack(">III", data[:12])
    return version, actions, flags


def unfold(value: str) -> str:
    """A header value on one line (Postfix sends folded lines separated by newlines)."""
    value = re.sub(r"\r?\n(?=[ \t])", "", value)
    return re.sub(r"[\r\n]", " ", value)


_REGISTRY = HeaderRegistry()


def _strict_addresses(value: str) -> list[str] | None:
    """Addresses as the RFC 5322 parser of :mod:`email.headerregistry` reads them; None
    if it fails outright."""
    try:
        header = _REGISTRY("from", value)
        return [a.addr_spec for a in header.addresses]  # type: ignore[attr-defined]
    except Exception:
        return None


_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _canonical(address: str) -> str:
    """``"local"@domain`` with a plain dot-atom between the quotes is ``local@domain``
    (RFC 5321: the same mailbox); anything else is kept as written."""
    local, at, domain = address.strip().rpartition("@")
    if (at and len(local) > 2 and local[0] == local[-1] == '"'
            and _DOT_ATOM.fullmatch(local[1:-1])):
        return f"{local[1:-1]}@{domain}"
    return address.strip()


def from_addresses(values: Iterable[str]) -> list[str] | None:
    """Every address named by the given ``From:`` header values, in order, each once,
    as written (not lowercased). None when a header names no readable address."""
    found: list[str] = []
    for raw in values:
        value = unfold(raw)
        try:
            pairs = getaddresses([value])
        except Exception:  # e.g. RecursionError on deeply nested groups
            return None
        loose = [a for a in (_canonical(address) for _name, address in pairs) if a]
        strict = _strict_addresses(value)
        if not loose or strict is None:
            return None
        for address in loose + [a for a in map(_canonical, strict) if a]:
            if address not in found:
                found.append(address)
    return found


def _shown(text: str) -> str:
    out = smtp_text(text).replace("<", "?").replace(">", "?")
    return out if len(out) <= _MAX_SHOWN else out[:_MAX_SHOWN] + "..."


def not_owned_reply(address: str, login: str) -> str:
    return (f"550 5.7.1 From: <{_shown(address)}> does not belong to the signed-in "
            f"account <{_shown(login)}>")


def unreadable_reply(login: str) -> str:
    return (f"550 5.7.1 From: header has no readable address; it must name the signed-in "
            f"account <{_shown(login)}>")


def allowed_senders_in_db(login: str) -> set[str]:
    """The addresses ``login`` may send as, lowercase: the account's own address, its
    aliases and the mailboxes delegated to it (KH-15.1), as in ``sender-logins.cf``."""
    from congvu.accounts.models import Account, Alias, Delegation

    own = Account.objects.filter(address=login).values_list("address", flat=True)
    aliases = Alias.objects.filter(account__address=login).values_list("address", flat=True)
    delegated = (Delegation.objects.filter(delegate__address=login)
                 .values_list("mailbox__address", flat=True))
    return {a.lower() for a in (*own, *aliases, *delegated)}


class FromHeaderCheck:
    """The decision, apart from the protocol (tests call :meth:`judge` directly). The
    profile (for the domain of a bare login), how database work runs and the lookup of
    the addresses a login may send as are injected."""

    def __init__(
        self,
        *,
        profile_loader: Callable[[], Profile] = deployment_profile,
        allowed_senders: Callable[[str], set[str]] | None = None,
        run_db: DbRunner = in_thread,
        db_timeout: float = DB_TIMEOUT,
    ) -> None:
        self.profile_loader = profile_loader
        self.allowed_senders = allowed_senders or allowed_senders_in_db
        self.run_db = run_db
        self.db_timeout = db_timeout

    async def judge(self, login: str | None, from_values: list[str], *,
                    overflow: bool = False, queue_id: str = "") -> str | None:
        """None to let the message through, else the SMTP reply. Never raises: an
        internal error answers ``451 4.3.0``."""
        if login is None or not login.strip():
            return None  # not signed in: never judged (Reading)
        if not from_values and not overflow:
            return None  # no From: header (Reading)
        try:
            return await self._judge(login, from_values, overflow, queue_id)
        except Exception:
            log.exception("From: check failed for %r", login[:200])
            return TEMPFAIL_TEXT

    async def _judge(self, login: str, from_values: list[str], overflow: bool,
                     queue_id: str) -> str | None:
        domain = self.profile_loader().mail.domain
        account = normalise_address(login, domain)
        shown_login = account or login.strip()
        # Parsing runs in a thread: hostile headers must not stall other sessions.
        addresses = None if overflow else await asyncio.to_thread(from_addresses,
                                                                  from_values)
        if addresses is None:
            log.warning("From: refused for %s (queue %s): no readable address in %r",
                        shown_login[:200], queue_id or "?", [v[:200] for v in from_values[:3]])
            return unreadable_reply(shown_login)
        allowed: set[str] = set()
        if account is not None:
            found = await asyncio.wait_for(
                self.run_db(lambda: self.allowed_senders(account)), timeout=self.db_timeout)
            allowed = {a.strip().lower() for a in found} | {account}
        for address in addresses:
            if address.lower() not in allowed:
                log.warning("From: <%s> refused for %s (queue %s): not its own address, "
                            "alias or delegated mailbox", address[:200], shown_login[:200],
                            queue_id or "?")
                return not_owned_reply(address, shown_login)
        return None


@dataclass
class Message:
    """What one message has told the milter so far."""

    login: str | None = None
    queue_id: str = ""
    from_values: list[str] = field(default_factory=list)
    from_bytes: int = 0
    overflow: bool = False
    judged: bool = False
    verdict: str | None = None


class MilterSession:
    """One MTA connection: negotiation, then messages. :meth:`handle` takes one packet
    and returns the reply packet (None when the protocol expects no reply); it raises
    :class:`MilterProtocolError` when the connection must be closed."""

    def __init__(self, check: FromHeaderCheck) -> None:
        self.check = check
        self.negotiated = False
        self.flags = 0
        self.closed = False
        self.message = Message()

    def _continue(self, no_reply_flag: int = 0) -> bytes | None:
        return None if self.flags & no_reply_flag else packet(CONTINUE)

    async def handle(self, command: bytes, data: bytes) -> bytes | None:
        if command == OPTNEG:
            return self._negotiate(data)
        if not self.negotiated:
            raise MilterProtocolError(f"command {command!r} before option negotiation")
        if command == MACRO:
            self._macros(data)
            return None
        if command == HEADER:
            self._header(data)
            return self._continue(SMFIP_NR_HDR)
        if command == EOH:
            return await self._verdict(SMFIP_NR_EOH)
        if command == BODYEOB:
            reply = await self._verdict()
            self.message = Message()
            return reply
        if command == ABORT:
            self.message = Message()
            return None
        if command in (MAIL, CONNECT, HELO, RCPT, DATA, UNKNOWN, BODY):
            return packet(CONTINUE)
        if command == QUIT:
            self.closed = True
            return None
        if command == QUIT_NC:  # the MTA reuses the connection for a new SMTP session
            self.message = Message()
            return None
        raise MilterProtocolError(f"unknown command {command!r}")

    def _negotiate(self, data: bytes) -> bytes:
        version, actions, offered = parse_optneg(data)
        if version < 2:
            raise MilterProtocolError(f"milter protocol version {version} is not supported")
        version = min(version, MILTER_VERSION)
        self.flags = WANTED_FLAGS & offered
        self.negotiated = True
        self.message = Message()
        # Ask for the macros this milter reads, where the MTA lets milters choose.
        symlist = version >= MILTER_VERSION and bool(actions & SMFIF_SETSYMLIST)
        reply = struct.pack(">III", version, SMFIF_SETSYMLIST if symlist else 0, self.flags)
        if symlist:
            for stage, names in WANTED_MACROS:
                reply += struct.pack(">I", stage) + names.encode("ascii") + b"\0"
        return packet(OPTNEG, reply)

    def _macros(self, data: bytes) -> None:
        stage, macros = parse_macros(data)
        if stage == MAIL:  # a new message starts with the MAIL FROM macros
            self.message = Message()
        login = macros.get(AUTH_MACRO, "")
        if login.strip():
            self.message.login = login
        queue_id = macros.get(QUEUE_ID_MACRO, "")
        if queue_id:
            self.message.queue_id = "".join(c for c in queue_id[:40] if c.isalnum())

    def _header(self, data: bytes) -> None:
        name, value = parse_header(data)
        if name.strip().lower() != "from":
            return
        msg = self.message
        msg.from_bytes += len(value)
        if (msg.overflow or msg.from_bytes > MAX_FROM_BYTES
                or len(msg.from_values) >= MAX_FROM_HEADERS):
            msg.overflow = True  # refused as unreadable at the end of the headers
            msg.from_values = []
            return
        msg.from_values.append(value)

    async def _verdict(self, no_reply_flag: int = 0) -> bytes | None:
        msg = self.message
        if not msg.judged:
            msg.verdict = await self.check.judge(msg.login, msg.from_values,
                                                 overflow=msg.overflow, queue_id=msg.queue_id)
            msg.judged = True
        if msg.verdict is not None:
            return reply_code(msg.verdict)
        return self._continue(no_reply_flag)


async def serve_milter(host: str, port: int, *,
                       profile_loader: Callable[[], Profile] = deployment_profile,
                       allowed_senders: Callable[[str], set[str]] | None = None,
                       run_db: DbRunner = in_thread,
                       check: FromHeaderCheck | None = None,
                       idle_timeout: float = IDLE_TIMEOUT) -> TrackedServer:
    """Start the milter on ``host:port`` (port 0: any free port, see
    :attr:`TrackedServer.port`) and return the listening server. ``allowed_senders(login)``
    (default: the database) gives the lowercase addresses a login may send as; it runs
    through ``run_db`` (default: a worker thread)."""
    judge = check or FromHeaderCheck(profile_loader=profile_loader,
                                     allowed_senders=allowed_senders, run_db=run_db)
    tracked = TrackedServer()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tracked.writers.add(writer)
        session = MilterSession(judge)
        try:
            while not session.closed:
                received = await read_packet(reader, idle_timeout)
                if received is None:
                    return
                reply = await session.handle(*received)
                if reply is not None:
                    writer.write(reply)
                    await writer.drain()
        except MilterProtocolError as exc:
            log.warning("milter connection closed: %s", exc)
        except ConnectionError:
            pass
        except Exception:
            log.exception("milter connection failed")
        finally:
            tracked.writers.discard(writer)
            await close_writer(writer)

    server = await asyncio.start_server(connection, host, port)
    return tracked.attach(server)


def main(argv: list[str] | None = None) -> None:
    run_standalone("From: header milter for submission (KH-15.1)", 10042, serve_milter, argv)


if __name__ == "__main__":
    main()
