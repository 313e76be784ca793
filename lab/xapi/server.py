"""One HTTP endpoint per emulated host, on the lab core's loopback server (lab.emu.server).

XML-RPC is accepted by POST at `/`, `/RPC2` and `/xmlrpc`; JSON-RPC (v1.0 and v2.0) at `/jsonrpc`.
Results use XenAPI's envelope ({Status: Success, Value} / {Status: Failure, ErrorDescription}),
never XML-RPC faults; a body that does not parse gets an HTTP 500 HTML page, as xapi answers.
"""

from __future__ import annotations

import json
import xmlrpc.client
from typing import Any

from lab.emu.server import Handler, LoopbackServer
from lab.xapi.errors import XapiError
from lab.xapi.responses import Dispatcher, Drop

XMLRPC_PATHS = ("/", "/RPC2", "/xmlrpc")
JSONRPC_PATH = "/jsonrpc"
ERROR_PAGE = (
    "<html><body><h1>HTTP 500 internal server error</h1>An unexpected error occurred; please wait a while "
    "and try again. If the problem persists, please contact your support representative.<h1> Additional "
    "information </h1>{detail}</body></html>"
)


class _Handler(Handler):
    server: HostServer

    def do_GET(self) -> None:
        self.send(200, "text/html", b"<html><body>XCP-ng (XAPI emulator)</body></html>")

    def do_POST(self) -> None:
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        try:
            if path == JSONRPC_PATH:
                self._jsonrpc(body)
            elif path in XMLRPC_PATHS:
                self._xmlrpc(body)
            else:
                self.send(404, "text/html", b"<html><body><h1>HTTP 404 not found</h1></body></html>")
        except Drop:
            self.drop()

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
        self.send(200, "text/xml", out.encode())

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
        self.send(200, "application/json", json.dumps(answer).encode())

    def _error_page(self, detail: str) -> None:
        page = ERROR_PAGE.format(detail=xmlrpc.client.escape(detail)).encode()
        self.close_connection = True
        self.send(500, "text/html", page, {"Connection": "close", "Cache-Control": "no-cache, no-store"})


class HostServer(LoopbackServer):
    """One emulated host's endpoint on a loopback address (`port=0`: a free port)."""

    def __init__(self, dispatcher: Dispatcher, port: int = 0, *, host: str = "127.0.0.1") -> None:
        self.dispatcher = dispatcher
        super().__init__(_Handler, port, host=host, name=f"xapi-{dispatcher.node_name}")
