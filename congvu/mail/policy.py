"""The Postfix policy service: NB-7.2b, the limit on mail to addresses outside the domain.

Postfix asks at every ``RCPT TO`` (``check_policy_service``, protocol in Postfix's
SMTPD_POLICY_README): a request is ``name=value`` lines ended by an empty line; the
answer is ``action=...`` and an empty line; a connection carries many requests.

NB-7.2b: an account may not send to more than ``profile.mail.external_limit`` (250 in
Ninh Bình) recipients outside ``profile.mail.domain`` within
``profile.mail.external_window_minutes`` (10). Reading (spec section 3): each external
recipient counts as one mail, in a sliding window; only ``@<domain>`` exactly is
internal (a subdomain or another province is outside). The recipient that would go past
the limit is refused with ``REJECT 5.7.1`` and the sender suspended once
(:func:`congvu.mail.actions.do_suspend_for_sending`); a suspended sender's further
recipients are refused too. A limit of 0 means not regulated.

The counters live in memory (one process; Redis when scaled out, see the architecture),
bounded: entries older than the window are dropped on every touch and at most
``max_senders`` senders are tracked (least recently active evicted first). Database work
runs in a worker thread with fresh connections. Anything unexpected answers
``DEFER_IF_PERMIT`` and is logged; malformed input drops that connection only.

Run alone with ``python -m congvu.mail.policy --listen 127.0.0.1:10040``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from django.db import close_old_connections
from django.utils.translation import gettext as _

from congvu import clock
from congvu.deployment import deployment_profile
from congvu.profiles import Profile

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_LINE = 10 * 1024
MAX_ATTRIBUTES = 100
MAX_SENDERS = 100_000
#: Under Postfix's ``timeout=10s`` on the check_policy_service line.
DB_TIMEOUT = 5.0
#: Postfix closes an idle policy connection after ``smtpd_policy_service_max_idle`` (300 s).
IDLE_TIMEOUT = 600.0
#: Once a request has started, each further line must come within this time.
LINE_TIMEOUT = 30.0

DUNNO = "DUNNO"
TEMPFAIL = "DEFER_IF_PERMIT 4.3.0 congvu policy service temporary error"

#: The rule behind the external-recipient limit. Only Ninh Bình regulates it and the
#: profile has no field for its rule ID yet; a ``mail.external_rule`` value, once the
#: profile schema has one, takes precedence (see :func:`external_limit_rule`).
EXTERNAL_LIMIT_RULE = "NB-7.2b"
_MAX_ADDRESS = 320


def external_limit_rule(profile: Profile) -> str:
    """The rule ID cited when the external-recipient limit refuses or suspends (NB-7.2b)."""
    value = getattr(profile.mail, "external_rule", "")
    return value if isinstance(value, str) and value else EXTERNAL_LIMIT_RULE


def normalise_address(text: object, domain: str) -> str | None:
    """The account address a login or SASL user name refers to: trimmed, lowercase, the
    profile's domain added to a bare name. ``None`` for anything that cannot be an
    address (not a string, empty, too long, spaces or control characters inside)."""
    if not isinstance(text, str):
        return None
    value = text.strip().lower()
    if not value or len(value) > _MAX_ADDRESS or not value.isprintable() or " " in value:
        return None
    if "@" not in value:
        value = f"{value}@{domain}"
    return value if len(value) <= _MAX_ADDRESS else None


def is_internal(recipient: str, domain: str) -> bool:
    """NB-7.2b: is ``recipient`` inside the province's domain? Exactly ``@<domain>``
    (any case, a trailing dot ignored) is internal; subdomains and every other domain are
    external. Reading: an address without a domain can only reach a local mailbox, so it
    is internal."""
    address = recipient.strip().lower()
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    _local, at, host = address.rpartition("@")
    if not at:
        return True
    return host.rstrip(".") == domain.lower().rstrip(".")


def smtp_text(text: str) -> str:
    """SMTP reply text must be printable ASCII (Postfix replaces anything else with
    ``?``): drop Vietnamese tone marks and diacritics (đ → d), keep the case."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    out = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" else "?" for c in out)


class ExternalCounter:
    """NB-7.2b sliding windows of external recipients per sender, in memory and bounded.

    Times are POSIX seconds. Each sender holds at most ``limit`` times (a refused
    recipient is not recorded); senders whose newest entry left the window are dropped
    whenever any sender is touched, and beyond ``max_senders`` the least recently active
    sender is evicted.
    """

    def __init__(self, max_senders: int = MAX_SENDERS) -> None:
        self.max_senders = max(1, max_senders)
        self._senders: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._senders)

    def __contains__(self, sender: object) -> bool:
        return sender in self._senders

    def _expire(self, cutoff: float) -> None:
        senders = self._senders
        while senders:
            oldest = next(iter(senders.values()))
            if oldest and oldest[-1] > cutoff:
                return
            senders.popitem(last=False)

    def count(self, sender: str, now: float, window: float) -> int:
        """External recipients of ``sender`` in the window ending at ``now``."""
        times = self._senders.get(sender)
        return sum(1 for t in times if t > now - window) if times else 0

    def try_add(self, sender: str, now: float, window: float, limit: int) -> tuple[bool, int]:
        """Record one external recipient of ``sender`` at ``now`` unless that makes more
        than ``limit`` in the last ``window`` seconds. Returns (accepted, count) where
        ``count`` includes this recipient, accepted or not."""
        cutoff = now - window
        self._expire(cutoff)
        times = self._senders.get(sender)
        if times is None:
            times = self._senders[sender] = deque()
            while len(self._senders) > self.max_senders:
                self._senders.popitem(last=False)
        else:
            self._senders.move_to_end(sender)
        while times and times[0] <= cutoff:
            times.popleft()
        if len(times) >= limit:
            return False, len(times) + 1
        times.append(now)
        return True, len(times)


class DbRunner(Protocol):
    """Runs a blocking database function and awaits its result."""

    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


def _with_connections(fn: Callable[[], T]) -> T:
    close_old_connections()
    try:
        return fn()
    finally:
        close_old_connections()


async def in_thread(fn: Callable[[], T]) -> T:
    """The default :class:`DbRunner`: a worker thread, stale connections closed around
    the call (the ORM is synchronous; the event loop must never wait on it)."""
    return await asyncio.to_thread(_with_connections, fn)


def _suspend_in_db(profile: Profile, address: str, now: dt.datetime, count: int) -> bool:
    from congvu.mail.actions import do_suspend_for_sending

    return do_suspend_for_sending(profile=profile, address=address, now=now, count=count)


def _state_in_db(address: str) -> str | None:
    from congvu.accounts.models import Account

    state: str | None = (Account.objects.filter(address=address)
                         .values_list("state", flat=True).first())
    return state


class PolicyService:
    """The decisions of the policy service, apart from the sockets (tests call
    :meth:`answer` directly). Every collaborator is injected: the profile, the clock, how
    database work runs, and the two database operations."""

    def __init__(
        self,
        *,
        profile_loader: Callable[[], Profile] = deployment_profile,
        now: Callable[[], dt.datetime] = clock.now,
        run_db: DbRunner = in_thread,
        suspend: Callable[[Profile, str, dt.datetime, int], bool] = _suspend_in_db,
        account_state: Callable[[str], str | None] = _state_in_db,
        max_senders: int = MAX_SENDERS,
        db_timeout: float = DB_TIMEOUT,
    ) -> None:
        self.profile_loader = profile_loader
        self.now = now
        self.run_db = run_db
        self.suspend = suspend
        self.account_state = account_state
        self.db_timeout = db_timeout
        self.counter = ExternalCounter(max_senders)
        #: Senders this service suspended (NB-7.2b) -> when it last confirmed it.
        self.suspended: OrderedDict[str, float] = OrderedDict()

    async def _db(self, fn: Callable[[], T]) -> T:
        return await asyncio.wait_for(self.run_db(fn), timeout=self.db_timeout)

    async def answer(self, attrs: Mapping[str, str]) -> str:
        """The action for one request (without ``action=``). Never raises: an internal
        error answers ``DEFER_IF_PERMIT`` and is logged."""
        try:
            return await self._decide(attrs)
        except Exception:
            log.exception("policy request failed: %r", _summary(attrs))
            return TEMPFAIL

    async def _decide(self, attrs: Mapping[str, str]) -> str:
        if attrs.get("request") != "smtpd_access_policy":
            return DUNNO
        if attrs.get("protocol_state", "").upper() != "RCPT":
            return DUNNO
        login = attrs.get("sasl_username", "")
        if not login.strip():
            return DUNNO
        profile = self.profile_loader()
        mail = profile.mail
        limit, window = mail.external_limit, mail.external_window_minutes * 60.0
        if limit <= 0 or window <= 0:
            return DUNNO
        sender = normalise_address(login, mail.domain)
        if sender is None:
            return DUNNO
        now = self.now()
        moment = now.timestamp()
        if sender in self.suspended and await self._still_suspended(sender, moment, window):
            return "REJECT 5.7.1 " + smtp_text(
                _("Account %(address)s is suspended; contact the mail operator.")
                % {"address": sender})
        if is_internal(attrs.get("recipient", ""), mail.domain):
            return DUNNO
        accepted, count = self.counter.try_add(sender, moment, window, limit)
        if accepted:
            return DUNNO
        rule = external_limit_rule(profile)
        if sender not in self.suspended:
            await self._suspend(profile, sender, now, count)
        return "REJECT 5.7.1 " + smtp_text(
            _("%(rule)s: sending to more than %(limit)d recipients outside %(domain)s within "
              "%(window)d minutes is not allowed; the account is suspended, contact the mail "
              "operator.") % {"rule": rule, "limit": limit, "domain": mail.domain,
                              "window": mail.external_window_minutes})

    def _mark(self, sender: str, moment: float) -> None:
        self.suspended[sender] = moment
        self.suspended.move_to_end(sender)
        while len(self.suspended) > self.counter.max_senders:
            self.suspended.popitem(last=False)

    async def _suspend(self, profile: Profile, sender: str, now: dt.datetime,
                       count: int) -> None:
        """NB-7.2b: suspend once (marked before the database call, so parallel
        connections do not suspend twice; unmarked again if the call fails)."""
        self._mark(sender, now.timestamp())
        try:
            done = await self._db(lambda: self.suspend(profile, sender, now, count))
        except Exception:
            self.suspended.pop(sender, None)
            log.exception("NB-7.2b: could not suspend %s", sender)
            return
        if done:
            log.warning("NB-7.2b: suspended %s after %d external recipients in %d minutes",
                        sender, count, profile.mail.external_window_minutes)

    async def _still_suspended(self, sender: str, moment: float, window: float) -> bool:
        """A sender this service suspended stays refused for a window without asking the
        database; after that the database says whether it is still not active (the
        operator may have restored it, NB-7.3)."""
        if moment - self.suspended[sender] < window:
            return True
        state = await self._db(lambda: self.account_state(sender))
        if state is not None and state != "active":
            self._mark(sender, moment)
            return True
        self.suspended.pop(sender, None)
        return False


def _summary(attrs: Mapping[str, str]) -> dict[str, str]:
    keys = ("protocol_state", "sasl_username", "sender", "recipient", "client_address")
    return {k: attrs[k][:200] for k in keys if k in attrs}


#: Key marking a request that had a line without ``=`` (no real attribute name is empty).
MALFORMED = ""


class PolicyProtocolError(Exception):
    """The peer broke the protocol: close this connection."""


async def read_policy_request(reader: asyncio.StreamReader,
                        idle_timeout: float) -> dict[str, str] | None:
    """One request, or None when the peer closed the connection (cleanly or mid-request).
    A line without ``=`` makes the request malformed: it is answered DUNNO. Raises
    :class:`PolicyProtocolError` for over-long lines, too many attributes or a stalled peer.

    One timer for the idle wait and one for the rest of the request (not one per line:
    a Postfix request has ~30 lines, and per-line timers were half the service's CPU)."""
    try:
        first = await asyncio.wait_for(reader.readline(), idle_timeout)
        async with asyncio.timeout(LINE_TIMEOUT):
            return await _read_attributes(reader, first)
    except ValueError as exc:  # a line is longer than the reader's limit
        raise PolicyProtocolError("line too long") from exc
    except TimeoutError as exc:
        raise PolicyProtocolError("timeout") from exc


async def _read_attributes(reader: asyncio.StreamReader, raw: bytes) -> dict[str, str] | None:
    attrs: dict[str, str] = {}
    malformed = False
    lines = 0
    while True:
        if not raw.endswith(b"\n"):
            return None
        line = raw[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            return {MALFORMED: ""} if malformed else attrs
        lines += 1
        if lines > MAX_ATTRIBUTES:
            raise PolicyProtocolError("too many attributes")
        name, sep, value = line.decode("utf-8", "replace").partition("=")
        if not sep or not name:
            malformed = True
        else:
            attrs[name] = value
        raw = await reader.readline()


class TrackedServer(asyncio.AbstractServer):
    """An asyncio server whose ``close()`` also closes the connections it accepted, so
    ``wait_closed()`` never waits on an idle Postfix or Dovecot connection."""

    def __init__(self) -> None:
        self._server: asyncio.AbstractServer | None = None
        self.sockets: tuple[Any, ...] = ()
        self.writers: set[asyncio.StreamWriter] = set()

    def attach(self, server: asyncio.Server) -> TrackedServer:
        self._server = server
        self.sockets = tuple(server.sockets)
        return self

    @property
    def server(self) -> asyncio.AbstractServer:
        assert self._server is not None
        return self._server

    @property
    def port(self) -> int:
        """The port it listens on (useful after binding port 0)."""
        return int(self.sockets[0].getsockname()[1])

    def close(self) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.server.get_loop()

    def is_serving(self) -> bool:
        return self.server.is_serving()

    async def start_serving(self) -> None:
        await self.server.start_serving()

    async def serve_forever(self) -> None:
        await self.server.serve_forever()

    async def wait_closed(self) -> None:
        await self.server.wait_closed()


async def close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), timeout=5)


async def serve_policy(host: str, port: int, *,
                       profile_loader: Callable[[], Profile] = deployment_profile,
                       now: Callable[[], dt.datetime] = clock.now,
                       service: PolicyService | None = None,
                       idle_timeout: float = IDLE_TIMEOUT) -> TrackedServer:
    """Start the policy service on ``host:port`` (port 0: any free port, see
    :attr:`TrackedServer.port`) and return the listening server."""
    policy = service or PolicyService(profile_loader=profile_loader, now=now)
    tracked = TrackedServer()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tracked.writers.add(writer)
        try:
            while True:
                attrs = await read_policy_request(reader, idle_timeout)
                if attrs is None:
                    return
                action = DUNNO if MALFORMED in attrs else await policy.answer(attrs)
                writer.write(f"action={action}\n\n".encode("ascii", "replace"))
                await writer.drain()
        except (PolicyProtocolError, ConnectionError):
            pass
        except Exception:
            log.exception("policy connection failed")
        finally:
            tracked.writers.discard(writer)
            await close_writer(writer)

    server = await asyncio.start_server(connection, host, port, limit=MAX_LINE)
    return tracked.attach(server)


def listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a pair."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def setup_django() -> None:
    """Django settings, apps and the deployment's language, for a server process."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django
    from django.apps import apps
    from django.conf import settings
    from django.utils import translation

    if not apps.ready:
        django.setup()
    translation.activate(os.environ.get("CONGVU_LANG") or settings.LANGUAGE_CODE)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")


async def serve_until_signalled(*starts: Callable[[], Awaitable[asyncio.AbstractServer]]) -> None:
    """Start the servers, run until SIGTERM or SIGINT, then close them cleanly."""
    servers = [await start() for start in starts]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        for server in servers:
            server.close()
        for server in servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=10)


def run_standalone(name: str, default_port: int,
                   factory: Callable[[str, int], Awaitable[asyncio.AbstractServer]],
                   argv: list[str] | None = None) -> None:
    """``python -m congvu.mail.<server> --listen HOST:PORT``: one server until SIGTERM."""
    parser = argparse.ArgumentParser(description=f"congvu's {name}.")
    parser.add_argument("--listen", type=listen_address, default=("127.0.0.1", default_port),
                        metavar="HOST:PORT", help=f"default 127.0.0.1:{default_port}")
    host, port = parser.parse_args(argv).listen
    setup_django()
    log.warning("congvu %s listening on %s:%d", name, host, port)
    asyncio.run(serve_until_signalled(lambda: factory(host, port)))


def main(argv: list[str] | None = None) -> None:
    run_standalone("Postfix policy service (NB-7.2b)", 10040, serve_policy, argv)


if __name__ == "__main__":
    main()
