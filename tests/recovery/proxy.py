"""A forwarding HTTP proxy the fault matrix owns, in front of a real backend (the lab's Ceph, an Ironic).

It forwards every request to `upstream` and relays the answer, unless a switch says otherwise:
`refuse(method, path_prefix, status, body)` answers matching requests itself (as the backend
would answer an internal error or a conflict); `drop(method, path_prefix)` closes their connection
with no answer, before forwarding them; `late(method, path_prefix, seconds)` forwards them and
relays the answer `seconds` later (after the client's timeout: the backend did the work). A prefix
may hold `*` (`/v1/nodes/*/states`). `stop()` closes it: the backend is unreachable through it;
`start_again()` listens on the same port again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase

import requests

from lab.emu.server import Handler, LoopbackServer

# Not relayed. The Host header is: S3 and RGW admin requests are signed with it.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class Refusal:
    method: str
    prefix: str
    status: int  # 0: drop the connection
    body: bytes
    fired: int = 0
    delay: float = 0.0  # late: forward, then relay the answer this many seconds later


class _Forward(Handler):
    server: Proxy

    def _any(self) -> None:
        body = self.read_body()
        refusal = self.server.refusal_for(self.command, self.path)
        if refusal is not None and refusal.status == 0 and not refusal.delay:
            self.drop()
            return
        if refusal is not None and not refusal.delay:
            self.send(refusal.status, "application/json", refusal.body)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = requests.request(self.command, self.server.upstream + self.path, headers=headers,
                                  data=body or None, timeout=120, allow_redirects=False)
        if refusal is not None:
            time.sleep(refusal.delay)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP | {"content-type"}}
        with contextlib.suppress(OSError):  # a late answer's client may have gone
            self.send(answer.status_code, answer.headers.get("Content-Type", "application/octet-stream"),
                      answer.content, kept)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any


class Proxy(LoopbackServer):
    def __init__(self, upstream: str, port: int = 0) -> None:
        super().__init__(_Forward, port, name="fault-proxy")
        self.upstream = upstream.rstrip("/")
        self.refusals: list[Refusal] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def refuse(self, method: str, prefix: str, status: int, body: bytes) -> Refusal:
        with self.lock:
            self.refusals.append(Refusal(method, prefix, status, body))
            return self.refusals[-1]

    def drop(self, method: str, prefix: str) -> Refusal:
        return self.refuse(method, prefix, 0, b"")

    def late(self, method: str, prefix: str, seconds: float) -> Refusal:
        with self.lock:
            self.refusals.append(Refusal(method, prefix, 0, b"", delay=seconds))
            return self.refusals[-1]

    def refusal_for(self, method: str, path: str) -> Refusal | None:
        with self.lock:
            for r in self.refusals:
                if r.method == method and fnmatchcase(path.split("?")[0], r.prefix + "*"):
                    r.fired += 1
                    return r
        return None

    def clear(self) -> None:
        with self.lock:
            self.refusals.clear()

    @classmethod
    def started(cls, upstream: str, port: int = 0) -> Proxy:
        proxy = cls(upstream, port)
        proxy.start()
        return proxy

    def start_again(self) -> Proxy:
        """A new proxy on this one's port (after `stop()`), with no refusals."""
        return Proxy.started(self.upstream, self.port)

