"""``serving.admission``: what ``congvu serve`` puts in front of Django in both modes. At
most two requests per process run in Django at once (the others wait their turn, which
under load keeps every answer's time down: the benchmarks in docs/benchmarks.md), each
request's body is read before its turn (a slow upload never holds one), and an oversized
body is refused before the application sees it."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from congvu import serving

Environ = dict[str, Any]


def call(app: serving.WSGIApp, environ: Environ) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(code: str, _headers: list[tuple[str, str]]) -> None:
        status.append(code)

    body = b"".join(app(environ, start_response))
    return status[0], body


def request(body: bytes | None = None, *, chunked: bool = False,
            stream: Any = None) -> Environ:
    environ: Environ = {"REQUEST_METHOD": "POST" if body is not None or stream else "GET",
                        "wsgi.input": stream or io.BytesIO(body or b"")}
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    elif body is not None:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def echo(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers with the body, read as Django reads it (CONTENT_LENGTH bytes)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    start_response("200 OK", [])
    return [environ["wsgi.input"].read(length)]


def test_at_most_two_requests_are_in_the_application_at_once() -> None:
    inside, most = 0, 0
    lock = threading.Lock()

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)
        with lock:
            inside -= 1
        start_response("200 OK", [])
        return [b"ok"]

    admitted = serving.admission(app)
    answers: list[tuple[str, bytes]] = []
    threads = [threading.Thread(target=lambda: answers.append(call(admitted, request())))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert answers == [("200 OK", b"ok")] * 8
    assert most == serving.ACTIVE_PER_PROCESS == 2


class SlowUpload(io.RawIOBase):
    """A client sending its body slowly: half now, the rest when ``go`` is set."""

    def __init__(self, data: bytes, go: threading.Event) -> None:
        self.data, self.go, self.sent = data, go, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent >= len(self.data) // 2:
            self.go.wait(10)
        size = len(self.data) - self.sent if size < 0 else size
        chunk = self.data[self.sent:self.sent + min(size, len(self.data) // 2 or 1)]
        self.sent += len(chunk)
        return chunk


def test_a_slow_upload_does_not_hold_a_turn_and_arrives_whole() -> None:
    go = threading.Event()
    admitted = serving.admission(echo)
    data = bytes(range(256)) * 1000
    uploads: list[tuple[str, bytes]] = []

    def upload() -> None:
        environ = request(stream=SlowUpload(data, go))
        environ["CONTENT_LENGTH"] = str(len(data))
        uploads.append(call(admitted, environ))

    slow = [threading.Thread(target=upload) for _ in range(serving.ACTIVE_PER_PROCESS + 1)]
    for t in slow:
        t.start()
    time.sleep(0.2)  # every upload is now waiting for the rest of its body
    quick = call(admitted, request(b"name=value"))  # would block if an upload held a turn
    assert quick == ("200 OK", b"name=value")
    assert uploads == []
    go.set()
    for t in slow:
        t.join(10)
    assert uploads == [("200 OK", data)] * len(slow)


def test_a_chunked_body_is_read_to_its_end_and_given_a_length() -> None:
    seen: Environ = {}

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.update(environ)
        return echo(environ, start_response)

    body = b"x" * 200_000 + b"end"
    assert call(serving.admission(app), request(body, chunked=True)) == ("200 OK", body)
    assert seen["CONTENT_LENGTH"] == str(len(body))
    assert "HTTP_TRANSFER_ENCODING" not in seen


def test_a_body_above_the_limit_is_refused_before_the_application(monkeypatch) -> None:
    monkeypatch.setattr(serving, "MAX_BODY_BYTES", 1000)
    called: list[bool] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        called.append(True)
        return echo(environ, start_response)

    admitted = serving.admission(app)
    declared = request(b"")
    declared["CONTENT_LENGTH"] = "1001"  # refused without reading a byte
    status, text = call(admitted, declared)
    assert status.startswith("413") and "quá lớn" in text.decode()
    assert call(admitted, request(b"y" * 1001, chunked=True))[0].startswith("413")
    assert called == []
    assert call(admitted, request(b"y" * 1000)) == ("200 OK", b"y" * 1000)


@pytest.mark.parametrize("length", ["", "0", "abc"])
def test_no_body_or_a_malformed_length_goes_to_the_application_as_it_came(length) -> None:
    environ = request()
    environ["CONTENT_LENGTH"] = length
    stream = environ["wsgi.input"]
    seen: list[Any] = []

    def app(env: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(env["wsgi.input"])
        start_response("200 OK", [])
        return [b""]

    assert call(serving.admission(app), environ)[0] == "200 OK"
    assert seen == [stream]


class GunicornResponse:
    """What gunicorn passes as ``start_response``: a bound method of its response."""

    def __init__(self) -> None:
        self.closed = False

    def start_response(self, _status: str, _headers: list[tuple[str, str]]) -> None:
        pass

    def force_close(self) -> None:
        self.closed = True


def test_a_request_that_waited_closes_its_connection_so_the_client_moves_on() -> None:
    """With ``--workers``, a kept-alive client of a busy process is handed on: after
    waiting for a turn its connection closes, and its next one goes to the process that
    accepts first. A request that found a free turn keeps its connection."""
    release = threading.Event()

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("hold"):
            release.wait(10)
        start_response("200 OK", [])
        return [b"ok"]

    admitted = serving.admission(app)
    free = GunicornResponse()
    admitted(request(), free.start_response)
    assert not free.closed
    holders = [threading.Thread(target=admitted, args=({**request(), "hold": True},
                                                       GunicornResponse().start_response))
               for _ in range(serving.ACTIVE_PER_PROCESS)]
    for t in holders:
        t.start()
    time.sleep(0.2)
    waited = GunicornResponse()
    waiter = threading.Thread(target=admitted, args=(request(), waited.start_response))
    waiter.start()
    time.sleep(0.2)
    release.set()
    for t in [*holders, waiter]:
        t.join(10)
    assert waited.closed


def test_gunicorn_still_gives_its_response_as_start_response_s_owner() -> None:
    """The hand-on above relies on gunicorn's ``start_response`` being a method of its
    ``Response``, which has ``force_close``: an upgrade that changes this fails here."""
    from gunicorn.http import wsgi

    assert callable(wsgi.Response.force_close)
    assert callable(wsgi.Response.start_response)
    response = wsgi.Response.__new__(wsgi.Response)
    assert response.start_response.__self__ is response
