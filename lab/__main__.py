"""The lab command: every backend of a region on 127.0.0.1, and the region's servers as hosts.

    python -m lab install                  # install what the pieces need (idempotent)
    python -m lab up [--only ironic,ceph]  # start (already running pieces are left alone)
    python -m lab status                   # which pieces run, by their recorded PIDs
    python -m lab env [--format json|pulumi]
    python -m lab down                     # stop everything by the PIDs recorded at start

The dev profile uses fixed ports and throwaway credentials, so the committed dev stack
(Pulumi.dev.yaml) can name them. State, logs and PIDs live in $PRIVATECLOUD_LAB_DIR (default
.lab/ in the checkout). Every fresh start of a piece writes a new id to <lab dir>/generation:
what was deployed on an earlier lab is gone.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from lab import procs

REPO = Path(__file__).resolve().parent.parent
PIECES = ("ironic", "ceph", "hosts", "xapi", "cloudstack")
# What `up` starts by default: the dev region forms its own Ceph cluster on the storage hosts
# (privatecloud:cephBootstrap), so the lab's single-node Ceph starts only when asked for (--only ceph)
# for stacks that name an existing cluster. `install` still installs Ceph's packages: they are the
# storage servers' image. Likewise the management server runs on the controller server ctl-01 once
# Ironic deploys it (lab/hosts.py); the `cloudstack` piece (a management server of its own on
# 127.0.0.1) starts only when asked for (--only cloudstack).
UP_DEFAULT = ("ironic", "hosts", "xapi")
# A piece that must start again when one it uses did (the XAPI emulator reads the hosts' dom0s).
USES = {"xapi": ("hosts",)}

# The dev profile: fixed ports and throwaway credentials (Pulumi.dev.yaml names them).
DEV: dict[str, dict[str, Any]] = {
    "ironic": {"port": 16385, "deploy_delay": "1"},
    "ceph": {
        "dashboard_port": 18080,
        "rgw_port": 17480,
        "mon_port": 16789,
        "dashboard_password": "lab-dashboard-pass-1",
        "rgw_access_key": "LABRGWADMINACCESS001",
        "rgw_secret_key": "lab-rgw-admin-secret-key-0000000000000001",
    },
    # The compute servers' XCP-ng: XAPI on each compute host's own address (port 80), as a real
    # host serves it; its SR drivers see that host's dom0 (lab/hosts.py).
    "xapi": {
        "hosts": [{"name": f"cmp-{i:02d}", "address": f"127.0.1.{10 + i}"} for i in range(1, 7)],
        "password": "lab-xcp-root-1",
    },
    # Only with --only cloudstack: the dev region's management server runs on its controller (hosts).
    "cloudstack": {"port": 18096, "fresh": True},
    # The dev region's servers as hosts (lab/hosts.py): SSH once deployed; the controller also
    # runs the management server (a fresh install) on its address, port 8080.
    "hosts": {
        "hosts": [
            *({"name": f"cmp-{i:02d}", "address": f"127.0.1.{10 + i}"} for i in range(1, 7)),
            {"name": "sto-01", "address": "127.0.1.21"},
            {"name": "sto-02", "address": "127.0.1.22"},
            {"name": "sto-03", "address": "127.0.1.23"},
            {"name": "ctl-01", "address": "127.0.1.31", "management_server_port": 8080},
        ],
    },
}


def piece_settings(name: str) -> dict[str, Any]:
    """The dev profile's settings of a piece, with what it needs of the others (hosts: Ironic)."""
    if name == "hosts":
        return {**DEV["hosts"], "ironic": f"http://127.0.0.1:{DEV['ironic']['port']}",
                "ironic_db": state_dir() / "ironic" / "ironic.sqlite"}
    if name == "xapi":
        return {**DEV["xapi"], "dom0": compute_dom0s()}
    return DEV[name]


def compute_dom0s() -> dict[str, Path]:
    """The running compute hosts' filesystems (their dom0 for the XAPI emulator's SR drivers)."""
    from lab import hosts

    out = {}
    for h in DEV["xapi"]["hosts"]:
        try:
            out[h["name"]] = hosts.dom0(state_dir() / "hosts", h["name"])
        except (hosts.HostLabError, OSError):
            print(f"lab: WARNING: host {h['name']} is not running: its cephfs SRs cannot plug", file=sys.stderr)
    return out


def state_dir() -> Path:
    return Path(os.environ.get("PRIVATECLOUD_LAB_DIR", REPO / ".lab"))


def piece(name: str) -> ModuleType:
    return importlib.import_module(f"lab.{name}")


def info_file(name: str) -> Path:
    return state_dir() / name / "endpoints.json"


def running(name: str) -> bool:
    """A piece runs when every PID it recorded is alive."""
    d = state_dir() / name
    pids = [procs.pid_of(p.stem, d) for p in d.glob("*.pid")] if d.exists() else []
    return bool(pids) and all(p is not None and procs.alive(p) for p in pids)


def generation_file() -> Path:
    """Changes whenever a piece starts afresh: state kept about the lab's objects is then stale."""
    return state_dir() / "generation"


def up(names: list[str]) -> dict[str, Any]:
    endpoints: dict[str, Any] = {}
    fresh: set[str] = set()
    for name in names:
        if running(name) and info_file(name).exists() and not fresh & set(USES.get(name, ())):
            print(f"lab: {name} already running", file=sys.stderr)
            endpoints[name] = json.loads(info_file(name).read_text())
            continue
        started = time.monotonic()
        mod = piece(name)
        mod.stop(state_dir() / name)  # clear what a crashed run left
        info = mod.start(state_dir() / name, **piece_settings(name))
        info_file(name).write_text(json.dumps(info, indent=2))
        generation_file().write_text(f"{uuid.uuid4()}\n")
        print(f"lab: {name} ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
        endpoints[name] = info
        fresh.add(name)
    return endpoints


def down(names: list[str]) -> None:
    for name in reversed(names):
        piece(name).stop(state_dir() / name)
        info_file(name).unlink(missing_ok=True)
        print(f"lab: {name} stopped", file=sys.stderr)


def current() -> dict[str, Any]:
    return {n: json.loads(info_file(n).read_text()) for n in PIECES if info_file(n).exists()}


def pulumi_config(endpoints: dict[str, Any]) -> dict[str, Any]:
    """The lab's endpoints in the form the stack config reads (privatecloud:<section>)."""
    out: dict[str, Any] = {}
    if "ironic" in endpoints:
        out["ironic"] = {"endpoint": endpoints["ironic"]["endpoint"]}
    if "ceph" in endpoints:
        c = endpoints["ceph"]
        out["ceph"] = {
            "dashboardUrl": c["dashboard_url"],
            "dashboardUser": c["dashboard_user"],
            "dashboardPassword": c["dashboard_password"],
            "rgwUrl": c["rgw_url"],
            "rgwAccessKey": c["rgw_access_key"],
            "rgwSecretKey": c["rgw_secret_key"],
        }
    if "cloudstack" in endpoints:
        c = endpoints["cloudstack"]
        out["cloudstack"] = {"endpoint": c["endpoint"]}
        if "api_key" in c:
            out["cloudstack"].update(apiKey=c["api_key"], secretKey=c["secret_key"])
        else:  # a fresh install: the program logs in and registers its keys
            out["managementServer"] = {"adminUser": c["admin_user"], "adminPassword": c["admin_password"]}
    for host in endpoints.get("hosts", {}).get("hosts", []):
        if "management_server" in host:  # the controller's, once Ironic has deployed it
            m = host["management_server"]
            out["cloudstack"] = {"endpoint": m["endpoint"]}
            out["managementServer"] = {"adminUser": m["admin_user"], "adminPassword": m["admin_password"]}
    if "xapi" in endpoints:
        out["xcpngHosts"] = [{"name": h["name"], "address": h["address"]} for h in endpoints["xapi"]["hosts"]]
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["install", "up", "down", "status", "env"])
    ap.add_argument("--only", help="comma-separated pieces (default: all; for up: all but ceph)")
    ap.add_argument("--profile", choices=["dev"], default="dev")
    ap.add_argument("--format", choices=["json", "pulumi"], default="json")
    args = ap.parse_args(argv)
    default = UP_DEFAULT if args.command == "up" else PIECES
    names = [n for n in args.only.split(",") if n] if args.only else list(default)
    unknown = set(names) - set(PIECES)
    if unknown:
        ap.error(f"--only: unknown pieces {sorted(unknown)}; known: {', '.join(PIECES)}")

    if args.command == "install":
        # A piece this machine cannot install (no root for Ceph's packages, say) is reported loudly
        # and left out: its tests skip saying why, and `lab up` fails on it with the real error.
        for name in names:
            try:
                piece(name).install()
            except Exception as e:
                print(f"lab: WARNING: could not install {name}: {e}", file=sys.stderr)
        return 0
    if args.command == "up":
        endpoints = up(names)
        print(json.dumps(endpoints, indent=2))
        return 0
    if args.command == "down":
        down(names)
        return 0
    if args.command == "status":
        for name in names:
            print(f"{name}: {'running' if running(name) else 'stopped'}")
        return 0
    endpoints = current()
    print(json.dumps(endpoints if args.format == "json" else pulumi_config(endpoints), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
