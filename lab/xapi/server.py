"""One threaded HTTP server per emulated host, on 127.0.0.1.

XML-RPC is accepted by POST at `/`, `/RPC2` and `/xmlrpc`; JSON-RPC (v1.0 and v2.0) at `/jsonrpc`.
Results use XenAPI's envelope ({Status: Success, Value} / {Status: Failure, ErrorDescription}),
never XML-RPC faults; a body that does not parse gets an HTTP 500 HTML page, as xapi answers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lab.xapi.errors import XapiError
from lab.xapi.responses import Dispatcher, Drop

log = logging.getLogger("lab.xapi")
XMLRPC_PATHS = ("/", "/RPC2", "/xmlrpc")
JSONRPC_PATH = "/jsonrpc"
ERROR_PAGE = (
    "<html><body><h1>HTTP 500 internal server error</h1>An unexpected error occurred; please wait a while "
    "and try again. If the problem persists, please contact your support representative.<h1> Additional "
    "information </h1>{detail}</body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: HostServer

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.server.dispatcher.node_name, format % args)

    def do_GET(self) -> None:
        self._send(200, "text/html", b"<html><body>XCP-ng (XAPI emulator)</body></html>")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        try:
            if path == JSONRPC_PATH:
                self._jsonrpc(body)
            elif path in XMLRPC_PATHS:
                self._xmlrpc(body)
            else:
                self._send(404, "text/html", b"<html><body><h1>HTTP 404 not found</h1></body></html>")
        except Drop:
            self.close_connection = True
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _xmlrpc(self, body: bytes) -> None:
        try:
            params, method = xmlrpc.client.loads(body)
            if not method:
                raise ValueError("no methodName")
        except Exception as e:  # malformed XML-RPC: xapi answers with an HTML 500 page
            self._error_page(f"Xmlrpc.Parse_error({e!s})")
            return
        try:
            value = self.server.dispatcher.call(method, list(params), "xml")
            result: dict[str, Any] = {"Status": "Success", "Value": value}
        except XapiError as e:
            result = {"Status": "Failure", "ErrorDescription": e.description}
        out = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
        self._send(200, "text/xml", out.encode())

    def _jsonrpc(self, body: bytes) -> None:
        try:
            req = json.loads(body)
            method, params, rid = req["method"], req.get("params", []), req["id"]
            if rid is None or not isinstance(params, list):
                raise ValueError("id must not be null and params must be an array")
        except Exception as e:
            self._error_page(f"Jsonrpc.Parse_error({e!s})")
            return
        v2 = req.get("jsonrpc") == "2.0"
        try:
            value = self.server.dispatcher.call(method, params, "json")
            answer: dict[str, Any] = (
                {"jsonrpc": "2.0", "result": value, "id": rid} if v2 else {"result": value, "error": None, "id": rid}
            )
        except XapiError as e:
            answer = (
                {"jsonrpc": "2.0", "error": {"code": 1, "message": e.code, "data": list(e.params)}, "id": rid}
                if v2
                else {"result": None, "error": e.description, "id": rid}
            )
        self._send(200, "application/json", json.dumps(answer).encode())

    def _error_page(self, detail: str) -> None:
        page = ERROR_PAGE.format(detail=xmlrpc.client.escape(detail)).encode()
        self.close_connection = True
        self._send(500, "text/html", page, extra={"Connection": "close", "Cache-Control": "no-cache, no-store"})

    def _send(self, status: int, ctype: str, body: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class HostServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, dispatcher: Dispatcher, port: int = 0) -> None:
        self.dispatcher = dispatcher
        self.connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), _Handler)
        self.thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name=f"xapi-{dispatcher.node_name}", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stop accepting, and close kept-alive client connections so no handler outlives the server."""
        self.shutdown()
        self.server_close()
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)
