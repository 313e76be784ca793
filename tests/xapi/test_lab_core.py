"""The lab core (lab.emu) the two emulators share, and the structure of lab/: no import cycle."""

from __future__ import annotations

import ast
import socket
import urllib.request
from pathlib import Path

import pytest

from lab import procs
from lab.emu.clock import Clock
from lab.emu.errors import ApiError
from lab.emu.faults import Fault, Faults
from lab.emu.registry import Registry
from lab.emu.server import Handler, LoopbackServer

LAB = Path(__file__).resolve().parents[2] / "lab"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LAB.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The lab modules `path` imports (anywhere in it, TYPE_CHECKING blocks and functions included)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for a in node.names:
                target = f"{base}.{a.name}"
                out.add(target if target in modules else base)
    return {m for m in out if m in modules and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n):], n]
            if n not in state and (found := visit(n)) is not None:
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)) is not None:
            return found
    return None


def test_no_import_cycle_in_lab() -> None:
    paths = sorted(LAB.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imports(p, modules) for p in paths}
    assert "lab.cloudstack.models" in graph["lab.cloudstack.commands"]  # the walk sees imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_registry_refuses_unknown_and_duplicate_names() -> None:
    reg: Registry[int] = Registry("thing", lambda n: None if n.startswith("ok") else "not an ok name")
    reg.add("ok.one", 1)
    with pytest.raises(ValueError, match="not an ok name"):
        reg.add("bad", 2)
    with pytest.raises(ValueError, match="already registered"):
        reg("ok.one")(3)
    assert dict(reg) == {"ok.one": 1}


def test_faults_match_fire_count_and_expire() -> None:
    faults = Faults(lambda target, call: call.endswith(target))
    faults.add(Fault("error", "join", host="h1", times=2, error=ValueError("boom")))
    assert faults.take("error", "pool.join", host="h2") is None  # another host
    assert faults.take("latency", "pool.join", host="h1") is None  # another kind
    assert faults.take("error", "pool.join", host="h1") is not None
    assert faults.take("error", "Async.pool.join", host="h1") is not None
    assert faults.take("error", "pool.join", host="h1") is None  # fired twice: spent
    assert faults.active == []
    assert [(f.kind, f.host, f.method) for f in faults.fired] == [("error", "h1", "pool.join"),
                                                                 ("error", "h1", "Async.pool.join")]


def test_virtual_clock_moves_only_when_told_and_tells_listeners() -> None:
    clock = Clock()
    seen: list[float] = []
    clock.on_change(lambda: seen.append(clock.now()))
    assert clock.now() == 0.0
    clock.advance(30)
    assert clock.now() == 30.0 and seen == [30.0]
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_error_base_checks_the_code() -> None:
    class Err(ApiError):
        @classmethod
        def check(cls, code: object, _args: tuple[object, ...]) -> None:
            if code != "KNOWN":
                raise ValueError(f"{code} is not a code of this API")

    assert Err("KNOWN", "text").code == "KNOWN"
    with pytest.raises(ValueError):
        Err("INVENTED", "text")


class _Hello(Handler):
    def do_GET(self) -> None:
        self.send(200, "text/plain", b"hello")


def test_loopback_server_binds_a_free_loopback_port_and_stops() -> None:
    server = LoopbackServer(_Hello)
    assert server.server_address[0] == "127.0.0.1" and server.port > 0
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/") as r:
            assert r.read() == b"hello"
    finally:
        server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass


class _Echo(Handler):
    handled: list[bytes] = []

    def do_POST(self) -> None:
        body = self.read_body()
        _Echo.handled.append(body)
        self.send(200, "text/plain", body)


def test_a_body_cut_short_is_never_handled() -> None:
    """A POST whose connection closes before its body is all there (a restart's `stop` closing it
    mid-request) reaches no handler: the CloudStack emulator once logged such a request as one
    with no command."""
    server = LoopbackServer(_Echo)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as c:
            c.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\ncommand=list")
            c.shutdown(socket.SHUT_WR)
            assert c.recv(100) == b""  # no answer: the connection is closed
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as c:
            c.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nwhole")
            answer = b""
            while chunk := c.recv(1000):  # headers and body are separate writes: read to the close
                answer += chunk
            assert answer.endswith(b"\r\n\r\nwhol")
    finally:
        server.stop()
    assert _Echo.handled == [b"whol"]


def test_loopback_server_refuses_a_routable_address() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LoopbackServer(_Hello, host="0.0.0.0")


def test_free_ports_are_consecutive_free_and_outside_the_ephemeral_range() -> None:
    """Daemons that need their ports up front get `n` free ones from below the range the kernel
    hands out to client sockets, so no outgoing connection takes one before the daemon binds it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    base = procs.free_ports(3)
    assert base >= 20000 and base + 3 <= low
    with socket.socket() as a, socket.socket() as b, socket.socket() as c:
        for s, port in zip((a, b, c), range(base, base + 3), strict=True):
            s.bind(("127.0.0.1", port))
