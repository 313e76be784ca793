"""A threaded HTTP server on 127.0.0.1 serving the API at /client/api (GET query or POST form)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from lab.cloudstack.responses import Answer, Responses

API_PATH = "/client/api"
CONTENT_TYPE = "application/json; charset=UTF-8"
XML_CONTENT_TYPE = "text/xml; charset=UTF-8"
VERSION = "4.18.0.0"


def _xml_value(key: str, value: Any) -> str:
    if isinstance(value, list):
        return "".join(_xml_value(key, v) for v in value)
    if isinstance(value, dict):
        inner = "".join(_xml_value(k, v) for k, v in value.items())
        return f"<{key}>{inner}</{key}>"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"<{key}>{xml_escape(text)}</{key}>"


def to_xml(body: dict[str, Any]) -> bytes:
    """The serialiser's XML form: <cmdresponse cloud-stack-version="..."> with one element per field."""
    [(name, inner)] = body.items()
    fields = "".join(_xml_value(k, v) for k, v in inner.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><{name} cloud-stack-version="{VERSION}">{fields}</{name}>'
            ).encode()


def first_values(query: str) -> dict[str, str]:
    """Only the first value of a repeated parameter counts, as in ApiServer."""
    out: dict[str, str] = {}
    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
        out.setdefault(k, v)
    return out


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "Apache-Coyote/1.1"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, body_params: dict[str, str]) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path.rstrip("/") != API_PATH:
            self._write(404, b"Not Found", "text/plain")
            return
        params = first_values(parsed.query)
        for k, v in body_params.items():
            params.setdefault(k, v)
        answer: Answer = self.server.responses.handle(params)
        if answer.delay:
            self.server.sleep(answer.delay)
        if answer.body is None:
            self._drop()
            return
        if answer.xml:
            self._write(answer.status, to_xml(answer.body), XML_CONTENT_TYPE, answer.headers)
        else:
            self._write(answer.status, json.dumps(answer.body).encode(), CONTENT_TYPE, answer.headers)

    def _drop(self) -> None:
        """Close the socket with no answer at all (the client sees a connection error)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v.replace("\n", " ").replace("\r", " "))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        ctype = self.headers.get("Content-Type", "")
        self._serve(first_values(raw) if "application/x-www-form-urlencoded" in ctype or not ctype else {})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], responses: Responses) -> None:
        super().__init__(address, _Handler)
        self.responses = responses
        self.sleep: Callable[[float], None] = time.sleep  # replaceable: tests record latency faults


class Server:
    """The HTTP server in a background thread; `port=0` picks a free port."""

    def __init__(self, responses: Responses, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = _Server((host, port), responses)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name=f"cloudstack-{self.port}",
                                        daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}{API_PATH}"

    def start(self) -> None:
        self._thread.start()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    @property
    def sleep(self) -> Callable[[float], None]:
        """How a latency fault waits (time.sleep); tests swap it to observe the delay."""
        return self._httpd.sleep

    @sleep.setter
    def sleep(self, fn: Callable[[float], None]) -> None:
        self._httpd.sleep = fn

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
