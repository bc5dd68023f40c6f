"""Helpers shared by the mail-plane tests: a settable clock, an in-loop database runner
and a server running on its own event loop in a thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, sync_to_async

T = TypeVar("T")


class FakeClock:
    """``now()`` for the services; tests move it forward."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> dt.datetime:
        self.moment += dt.timedelta(**delta)
        return self.moment


async def inline_db(fn: Callable[[], T]) -> T:
    """Run (fake) database work right in the event loop."""
    return fn()


def sync_db(fn: Callable[[], T]) -> Awaitable[T]:
    """Run database work back in the test's own thread, on its connection, so it sees the
    test transaction; the event loop runs in another thread (see :func:`drive`)."""
    return sync_to_async(fn, thread_sensitive=True)()


def drive(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from a sync test the way Django does: the loop in a worker
    thread, ``sync_db`` calls back in this thread."""
    return async_to_sync(make)()


class ServerThread:
    """An asyncio server on a private loop in a daemon thread, for real socket sessions."""

    def __init__(self, start: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: Any = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.port: int = self.server.port

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def stop(self) -> None:
        async def _close() -> None:
            self.server.close()
            await asyncio.wait_for(self.server.wait_closed(), 5)

        asyncio.run_coroutine_threadsafe(_close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def read_until(sock: socket.socket, marker: bytes, limit: int = 1 << 20) -> bytes:
    """Bytes from ``sock`` up to and including ``marker``; what came if it closed first."""
    data = b""
    while marker not in data and len(data) < limit:
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the server has closed (reads EOF or a reset) within the socket timeout."""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except ConnectionError:
        return True
    except TimeoutError:
        return False
