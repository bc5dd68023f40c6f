"""A tiny SMTP server on loopback standing in for "the Internet" in tests."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class Sink:
    port: int
    messages: list[Received] = field(default_factory=list)
    server: socketserver.ThreadingTCPServer | None = None

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def recipients(self) -> list[str]:
        return [r for m in self.messages for r in m.recipients]


def start_sink(port: int = 0) -> Sink:
    sink = Sink(port=port)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            out = self.wfile
            out.write(b"220 sink ESMTP\r\n")
            sender, rcpts = "", []
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").strip()
                verb = cmd[:4].upper()
                if verb in ("EHLO", "HELO"):
                    out.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif verb == "MAIL":
                    sender, rcpts = cmd.split(":", 1)[1].strip().split()[0].strip("<>"), []
                    out.write(b"250 ok\r\n")
                elif verb == "RCPT":
                    rcpts.append(cmd.split(":", 1)[1].strip().split()[0].strip("<>"))
                    out.write(b"250 ok\r\n")
                elif verb == "DATA":
                    out.write(b"354 go\r\n")
                    chunks = []
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        chunks.append(chunk)
                    sink.messages.append(Received(sender, rcpts, b"".join(chunks)))
                    out.write(b"250 queued\r\n")
                elif verb == "QUIT":
                    out.write(b"221 bye\r\n")
                    return
                else:
                    out.write(b"250 ok\r\n")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    sink.server, sink.port = server, server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return sink
