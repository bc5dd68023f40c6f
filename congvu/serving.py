"""How ``congvu serve`` runs the web console and the SSO provider.

One process (the default) is waitress with its threads, and the tasks worker as a
thread. Python runs one thread at a time per process, so one process uses one core at
most (issue 5: the sign-in and refresh targets need every core). ``--workers N`` runs N
gunicorn processes with threads (``gthread``) sharing the listening socket, and the
tasks worker as ONE separate ``congvu worker`` process, so logout deliveries and session
expiry still run once. SIGTERM stops the workers gracefully, then the tasks process.

Both modes treat a reverse proxy the same way: only with an https public URL, and only
from 127.0.0.1, is ``X-Forwarded-Proto`` believed; every other proxy header is dropped.

Both modes also admit at most :data:`ACTIVE_PER_PROCESS` requests into Django at once per
process (:func:`admission`), the other threads waiting their turn with the request's body
already read. Python runs one thread at a time: eight requests sharing a core each take
eight times as long and the switching costs more besides, where taken in turn most
finish sooner (issue 6 and 7 benchmarks: the p95 under load fell by a quarter). Reading
the body first keeps a slow upload (a scan sent from a phone) from holding a turn.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Where a TLS-terminating reverse proxy connects from.
TRUSTED_PROXY = "127.0.0.1"
#: What waitress's ``clear_untrusted_proxy_headers`` removes (WSGI names).
PROXY_HEADERS = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST",
                 "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_BY")
#: In-flight requests get this long after SIGTERM (the tests wait 20 s in all).
GRACEFUL_SECONDS = 10
#: How long the tasks process gets to finish its round after SIGTERM.
TASKS_STOP_SECONDS = 8


#: Requests running in Django at once in one server process (one may wait on the
#: database while the other computes).
ACTIVE_PER_PROCESS = 2
#: A body larger than this is refused (413) before the application sees it. The eOffice's
#: file limit is a setting (GL-3.4, 50 MB by default); this is far above any sane value.
MAX_BODY_BYTES = 512 * 1024 * 1024
#: Bodies up to this size are buffered in memory, larger ones in a temporary file.
BODY_IN_MEMORY = 1024 * 1024
_CHUNK = 64 * 1024


def _read_body(environ: dict[str, Any]) -> bool:
    """Replace ``wsgi.input`` by the whole body, read now; False if it is too large."""
    length_text = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked and length_text in ("", "0"):
        return True
    try:
        length = int(length_text) if length_text else -1
    except ValueError:
        return True  # the application answers a malformed length itself
    if length > MAX_BODY_BYTES:
        return False
    source = environ["wsgi.input"]
    body = tempfile.SpooledTemporaryFile(max_size=BODY_IN_MEMORY)  # noqa: SIM115
    size, left = 0, length
    while left != 0:
        chunk = source.read(_CHUNK if left < 0 else min(_CHUNK, left))
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            body.close()
            return False
        body.write(chunk)
        left = left - len(chunk) if left > 0 else left
    body.seek(0)
    environ["wsgi.input"] = body
    environ["CONTENT_LENGTH"] = str(size)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return True


def _close_after(start_response: Callable[..., Any]) -> None:
    """Close this connection after the response (gunicorn's ``Response.force_close``;
    waitress serves one process, where there is no other to hand the client to)."""
    close = getattr(getattr(start_response, "__self__", None), "force_close", None)
    if callable(close):
        close()


def admission(app: WSGIApp, slots: int = ACTIVE_PER_PROCESS, *,
              read_bodies: bool = True) -> WSGIApp:
    """At most ``slots`` requests in ``app`` at once; each body is read before its turn
    (``read_bodies``; waitress has read it already, within ``MAX_BODY_BYTES`` too).

    The turn ends when the application returns its response: Django has built it by
    then (a streamed download is sent outside the turn). A request that had to wait has
    its connection closed after the answer: the client's next request then goes to
    whichever process accepts it first, the idlest, rather than staying on a kept-alive
    connection to a busy one (with ``--workers``, one process had otherwise kept most
    clients while another idled)."""
    gate = threading.BoundedSemaphore(slots)

    def admitted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if read_bodies and not _read_body(environ):
            start_response("413 Request Entity Too Large",
                           [("Content-Type", "text/plain; charset=utf-8")])
            return ["Nội dung yêu cầu quá lớn. Request body too large.\n".encode()]
        if not gate.acquire(blocking=False):  # busy: wait, then hand the client on
            _close_after(start_response)
            gate.acquire()
        try:
            return app(environ, start_response)
        finally:
            gate.release()

    return admitted


def serve_single(app: WSGIApp, *, host: str, port: int, threads: int, secure: bool,
                 run_tasks: bool) -> None:
    """One waitress process; the tasks worker as a thread of it."""
    from waitress import serve

    if run_tasks:
        from congvu.tasks import start_threads

        start_threads()
    proxy: dict[str, object] = {}
    if secure:
        # TLS ends at a reverse proxy on this machine, which says so in X-Forwarded-Proto.
        proxy = {"trusted_proxy": TRUSTED_PROXY, "trusted_proxy_headers": {"x-forwarded-proto"}}
    serve(admission(app, read_bodies=False), host=host, port=port, threads=threads,
          ident="congvu", max_request_body_size=MAX_BODY_BYTES, **proxy)


def proxy_headers_filter(app: WSGIApp) -> WSGIApp:
    """waitress's rule for gunicorn: X-Forwarded-Proto from the trusted proxy only (it
    sets the scheme), no other forwarding header from anyone. Django's
    ``SECURE_PROXY_SSL_HEADER`` reads that header, so a client connecting directly must
    not be able to send it."""

    def filtered(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        trusted = environ.get("REMOTE_ADDR") == TRUSTED_PROXY
        for name in PROXY_HEADERS:
            if not (trusted and name == "HTTP_X_FORWARDED_PROTO"):
                environ.pop(name, None)
        proto = environ.get("HTTP_X_FORWARDED_PROTO", "").strip().lower()
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
        return app(environ, start_response)

    return filtered


def _die_with_parent() -> None:
    """In the tasks process before exec: SIGTERM it if serve dies, even by SIGKILL."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_tasks_process() -> subprocess.Popen[bytes]:
    """``congvu worker`` for this deployment (same environment, same output)."""
    return subprocess.Popen([sys.executable, "-m", "congvu.cli.main", "worker"],
                            env=os.environ.copy(), preexec_fn=_die_with_parent)


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def serve_workers(app: WSGIApp, *, bind: str, workers: int, threads: int, secure: bool,
                  run_tasks: bool) -> None:
    """``workers`` gunicorn processes (threaded) on ``bind``, plus the tasks process."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    # Forked workers must not share the parent's database connections.
    connections.close_all()
    tasks: subprocess.Popen[bytes] | None = None

    def on_exit(_arbiter: object) -> None:
        stop_process(tasks, TASKS_STOP_SECONDS)

    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        "graceful_timeout": GRACEFUL_SECONDS,
        "keepalive": 5,
        "proc_name": "congvu",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # gunicorn >= 25.1 would open a control socket in $HOME, shared by every serve.
        "control_socket_disable": True,
        # Proxy handling as in one-process mode (see proxy_headers_filter).
        "forwarded_allow_ips": TRUSTED_PROXY if secure else "",
        "secure_scheme_headers": {"X-FORWARDED-PROTO": "https"} if secure else {},
        "on_exit": on_exit,
    }
    wsgi = admission(proxy_headers_filter(app) if secure else app)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # older gunicorn lacks some settings
                    self.cfg.set(key, value)

        def load(self) -> WSGIApp:
            return wsgi

    server = Server()
    _server_header()
    if run_tasks:
        tasks = start_tasks_process()
    try:
        server.run()  # returns by SystemExit once the workers have stopped
    finally:
        stop_process(tasks, TASKS_STOP_SECONDS)


def _server_header() -> None:
    """Say ``Server: congvu`` as waitress does, not the server's name and version."""
    from gunicorn.http import wsgi

    if hasattr(wsgi, "SERVER"):
        wsgi.SERVER = "congvu"
