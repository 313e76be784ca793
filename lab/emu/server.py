"""A threaded HTTP server on loopback for an emulator, and the request-handler base.

`LoopbackServer(handler_class, port=0)` binds 127.0.0.1 (any 127.0.0.0/8 address; never a
routable one) on a free port unless told one, serves from a background thread after `start()`,
and `stop()` also closes kept-alive client connections so no handler outlives it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("lab.emu")
LOOPBACK = "127.0.0.1"


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; answers with `send`, or closes the connection with `drop`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: LoopbackServer

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.server.name, format % args)

    def read_body(self) -> bytes:
        """The request's body. A body cut short (the client went away, or `stop` closed the
        connection while it was sent) ends the request unhandled, as a real server never
        dispatches it: a `ConnectionError`, which the server treats as a lost client."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            raise ConnectionResetError(f"the body ended after {len(body)} of {length} bytes")
        return body

    def send(self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v.replace("\n", " ").replace("\r", " "))
        self.end_headers()
        self.wfile.write(body)

    def drop(self) -> None:
        """Close the socket with no answer at all (the client sees a connection error)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler_class: type[Handler], port: int = 0, *, host: str = LOOPBACK,
                 name: str = "emulator") -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"host {host!r}: an emulator binds a loopback address only")
        self.name = name
        self.connections: set[socket.socket] = set()
        super().__init__((host, port), handler_class)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a reset, a broken pipe: a dropped-connection fault, a stopped
        test) is routine; anything else is reported as socketserver does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("%s: connection from %s lost", self.name, client_address)
            return
        super().handle_error(request, client_address)

    def start(self) -> None:
        """Serve from a daemon thread (the poll interval bounds how long `stop` waits)."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name=f"{self.name}-{self.port}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close the listening socket and every kept-alive client connection."""
        if self._thread is not None:
            self.shutdown()
        self.server_close()
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
