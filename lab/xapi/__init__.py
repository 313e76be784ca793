"""XAPI (XCP-ng) emulator: several hosts, each with its own endpoint and root password.

In-process, for tests::

    lab = XapiLab.start(hosts=["xcp-01", "xcp-02"], password="s3cret")
    XenAPI.Session(lab.hosts[0].url).xenapi.login_with_password("root", "s3cret")
    lab.request_log, lab.faults, lab.clock
    lab.stop()

Hosts on addresses of their own, as real XCP-ng hosts serve XAPI on theirs (the lab's compute
hosts, `lab/hosts.py`): `XapiLab.start(hosts=[...], addresses={"cmp-01": "127.0.1.11"})` serves
each such host on its address, port 80 (XAPI's HTTP port) unless `port` says otherwise; its
`host.address` is then the bare address, which is what `pool.join` takes as the master's.

As a daemon, for the lab CLI: `start(state_dir, hosts=[...], base_port=19101, password=...)`
(or `hosts=[{"name", "address"}]` and `dom0={name: dir}`) runs `python -m lab.xapi serve`
through `lab.procs` and returns the endpoints; `stop(state_dir)`.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import procs
from lab.emu import daemon
from lab.xapi import vms as _vms  # noqa: F401  (registers the VM, VDI, VBD and VIF handlers)
from lab.xapi.control import Clock, Faults
from lab.xapi.errors import XapiError
from lab.xapi.messages import check_conformance
from lab.xapi.models import World
from lab.xapi.responses import Call, Dispatcher
from lab.xapi.server import HostServer

__all__ = ["Call", "Clock", "Faults", "HostInfo", "XapiError", "XapiLab", "install", "read_log", "start", "stop"]

REPO = Path(__file__).resolve().parents[2]
DAEMON = "xapi"
REQUEST_LOG = "requests.jsonl"
XAPI_HTTP_PORT = 80  # where a real host answers XAPI over plain HTTP (443: HTTPS)


@dataclass(frozen=True)
class HostInfo:
    name: str
    address: str  # host.address and the parameter of HOST_IS_SLAVE: "127.0.1.11" or "127.0.0.1:PORT"
    url: str
    username: str
    password: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address, "url": self.url, "username": self.username,
                "password": self.password}


class XapiLab:
    """Emulated XCP-ng hosts served from threads of this process."""

    def __init__(self, world: World, servers: list[HostServer], hosts: list[HostInfo], log: list[Call]) -> None:
        self.world = world
        self.servers = servers
        self.hosts = hosts
        self.request_log = log

    @property
    def clock(self) -> Clock:
        return self.world.clock

    @property
    def faults(self) -> Faults:
        return self.world.faults

    def host(self, name: str) -> HostInfo:
        return next(h for h in self.hosts if h.name == name)

    def master_of(self, name: str) -> str:
        """The name of the master of the pool host `name` is in (itself when alone)."""
        with self.world.lock:
            node = self.world.nodes[name]
            return self.world.node_of_host(node.db, node.db.master_ref).name

    def set_dom0(self, name: str, root: Path | None) -> None:
        """Give host `name` its dom0 filesystem view (or take it away: no `ceph` there then)."""
        with self.world.lock:
            self.world.nodes[name].dom0 = root

    def pool_members(self, name: str) -> list[str]:
        """Names of the hosts in the same pool as `name` (itself included), in start order."""
        with self.world.lock:
            db = self.world.nodes[name].db
            return [n.name for n in self.world.nodes.values() if n.db is db]

    @classmethod
    def start(
        cls,
        hosts: Sequence[str] = ("xcp-01",),
        password: str = "password",
        *,
        passwords: dict[str, str] | None = None,
        base_port: int | None = None,
        username: str = "root",
        realtime: bool = False,
        log_file: Path | None = None,
        log_limit: int | None = None,
        dom0: dict[str, Path] | None = None,
        addresses: Mapping[str, str] | None = None,
        port: int = XAPI_HTTP_PORT,
    ) -> XapiLab:
        """Start one server per host (port 0, or base_port + i); every host a master of its own pool.

        A host named in `addresses` is served on its own loopback address instead, on `port`
        (XAPI's port 80 by default: binding it needs root); its address is then bare (no port)
        when `port` is 80, as a real host's is.

        `log_file` also appends every call as a JSON line (for a daemon's request log);
        `log_limit` keeps only the latest calls in memory; `dom0` gives hosts their dom0 filesystem
        (a directory that is the host's root, e.g. a lab host's /proc/<pid>/root), which SR drivers
        that run commands in dom0 see (cephfs: lab/xapi/cephfs.py).
        """
        problems = check_conformance(World().dm)
        if problems:
            raise RuntimeError("XAPI emulator handlers differ from the datamodel: " + "; ".join(problems))
        world = World(Clock(realtime=realtime), Faults())
        log: list[Call] = []
        sink = _JsonlSink(log_file) if log_file is not None else None
        servers: list[HostServer] = []
        infos: list[HostInfo] = []
        try:
            for i, name in enumerate(hosts):
                dispatcher = Dispatcher(world, name, log, sink, log_limit)
                own = (addresses or {}).get(name)
                if own:
                    server = HostServer(dispatcher, port, host=own)
                    address = own if port == XAPI_HTTP_PORT else f"{own}:{server.port}"
                else:
                    server = HostServer(dispatcher, 0 if base_port is None else base_port + i)
                    address = f"127.0.0.1:{server.port}"
                pw = (passwords or {}).get(name, password)
                world.add_host(name, address, pw, username, (dom0 or {}).get(name))
                servers.append(server)
                infos.append(HostInfo(name, address, f"http://{address}/", username, pw))
            for s in servers:
                s.start()
        except Exception:
            for s in servers:
                s.server_close()
            raise
        return cls(world, servers, infos, log)

    def restart(self, name: str) -> None:
        """Restart host `name`'s toolstack, as `xe-toolstack-restart` does: its endpoint closes
        (open connections too), its sessions and pending tasks are gone (XAPI keeps them in memory
        only), its database stays; it answers again on the same port."""
        i = next(i for i, h in enumerate(self.hosts) if h.name == name)
        old = self.servers[i]
        old.stop()
        world = self.world
        with world.lock:
            node = world.nodes[name]
            for ref in node.db.refs("session", this_host=node.host_ref):
                world.logout(node.db, ref)
            for ref, run in list(world.pending.items()):
                task = run.db.get("task", ref) if run.db.has("task", ref) else None
                if task is not None and task.get("resident_on") == node.host_ref:
                    world.pending.pop(ref, None)
                    run.db.delete("task", ref)
        server = HostServer(old.dispatcher, old.port)
        server.start()
        self.servers[i] = server

    def stop(self) -> None:
        """Stop every server (in parallel: each waits up to one poll interval)."""
        threads = [threading.Thread(target=s.stop) for s in self.servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def __enter__(self) -> XapiLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _JsonlSink:
    """Appends each call to a file as one JSON line (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, call: Call) -> None:
        line = json.dumps({"host": call.host, "method": call.method, "params": call.params}, default=str)
        with self.lock, self.path.open("a") as f:
            f.write(line + "\n")


def read_log(path: Path) -> list[Call]:
    """The calls a daemon wrote to its request log (`<state_dir>/requests.jsonl`)."""
    if not Path(path).exists():
        return []
    return [Call(d["host"], d["method"], d["params"]) for d in map(json.loads, Path(path).read_text().splitlines())]


# --- the lab CLI's piece interface ------------------------------------------------------------


def install() -> None:
    """Nothing to install: the emulator is pure Python from this repository."""


def start(
    state_dir: Path,
    *,
    hosts: Sequence[str | Mapping[str, str]] = ("xcp-01", "xcp-02", "xcp-03"),
    base_port: int = 19101,
    password: str = "password",
    dom0: Mapping[str, Path] | None = None,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """Run the emulator as a daemon; return its hosts' endpoints and credentials.

    `hosts`: names (served on 127.0.0.1, base_port + i) or {"name", "address"} (served on that
    address, port 80, as the lab's compute hosts are); `dom0`: host name -> its dom0 filesystem."""
    state_dir = Path(state_dir)
    info = state_dir / "xapi-hosts.json"
    names = [h if isinstance(h, str) else h["name"] for h in hosts]
    argv = [sys.executable, "-m", "lab.xapi", "serve", "--hosts", ",".join(names), "--base-port", str(base_port),
            "--password", password, "--write", str(info), "--log", str(state_dir / REQUEST_LOG)]
    argv += [f"--address={h['name']}={h['address']}" for h in hosts if not isinstance(h, str) and h.get("address")]
    argv += [f"--dom0={name}={root}" for name, root in (dom0 or {}).items()]
    endpoints = daemon.start(DAEMON, argv, state_dir, info, env={"PYTHONPATH": str(REPO)}, cwd=REPO,
                             timeout=timeout, what="the XAPI emulator")
    for h in endpoints["hosts"]:
        procs.wait_http(h["url"], timeout=timeout, what=f"XAPI emulator host {h['name']}")
    return endpoints


def stop(state_dir: Path) -> None:
    procs.stop(DAEMON, Path(state_dir))
