"""The API at /client/api (GET query or POST form), on the lab core's loopback server (lab.emu.server)."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from lab.cloudstack.responses import Answer, Responses
from lab.emu.server import LOOPBACK, Handler, LoopbackServer

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


class _Handler(Handler):
    server: Server
    server_version = "Apache-Coyote/1.1"
    sys_version = ""

    def _serve(self, body_params: dict[str, str]) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path.rstrip("/") != API_PATH:
            self.send(404, "text/plain", b"Not Found")
            return
        params = first_values(parsed.query)
        for k, v in body_params.items():
            params.setdefault(k, v)
        answer: Answer = self.server.responses.handle(params)
        if answer.delay:
            self.server.sleep(answer.delay)
        if answer.body is None:
            self.drop()
        elif answer.xml:
            self.send(answer.status, XML_CONTENT_TYPE, to_xml(answer.body), answer.headers)
        else:
            self.send(answer.status, CONTENT_TYPE, json.dumps(answer.body).encode(), answer.headers)

    def do_GET(self) -> None:
        self._serve({})

    def do_POST(self) -> None:
        raw = self.read_body().decode("utf-8", "replace")
        ctype = self.headers.get("Content-Type", "")
        self._serve(first_values(raw) if "application/x-www-form-urlencoded" in ctype or not ctype else {})


class Server(LoopbackServer):
    """The management server's HTTP endpoint on loopback (`port=0`: a free port)."""

    def __init__(self, responses: Responses, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__(_Handler, port, host=host, name="cloudstack")
        self.responses = responses
        self.sleep: Callable[[float], None] = time.sleep  # how a latency fault waits; tests swap it

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}{API_PATH}"
