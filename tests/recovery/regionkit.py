"""A small region on the recovery lab, deployed through bin/deploy, and what the backends hold.

`deploy_project` makes a project directory that looks like a checkout (bin/, engine/, the program,
.venv as links to this one) so that the tests run `bin/deploy <stack>` itself, the operator's path,
against the lab's endpoints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cs
import requests
import XenAPI

from benchmarks.region import region_design
from lab import ceph
from lab.ephemeral import stack_config
from tests.enginekit import REPO, EngineStack, descendants, reap

LINKED = ["bin", "engine", "components", "providers", "lab", "policy", "requirements.txt", "requirements-dev.txt",
          ".venv"]


def small_region() -> dict[str, Any]:
    """One XCP-ng pool of two hosts, two storage servers (pool size 2), the controller: 5 Ironic nodes."""
    region = region_design(1, 2, 2)
    region["deployTimeouts"] = {"manage": 60, "clean": 120, "deploy": 300, "undeploy": 300, "pollInterval": 0.5}
    return region


def deploy_project(root: Path, engine_bin: Path, lab: dict[str, Any], region: dict[str, Any],
                   extra_env: dict[str, str] | None = None) -> EngineStack:
    config = stack_config(lab, region)
    stack = EngineStack.create(root, engine_bin, project="privatecloud", program=(REPO / "__main__.py").read_text(),
                               config=config["plain"], secrets=config["secret"], extra_env=extra_env)
    for name in LINKED:
        (stack.workdir / name).symlink_to(REPO / name)
    # bin/deploy enforces the policy pack: this is a lab stack (one XCP-ng pool of two hosts, pools
    # of two replicas), so the production-only rules do not apply to it.
    stack.set_config("privatecloud-policy:production", "false")
    return stack


def bin_deploy(stack: EngineStack) -> subprocess.CompletedProcess[str]:
    """`bin/deploy <stack>` as an operator runs it, in the project directory."""
    return subprocess.run([str(stack.workdir / "bin" / "deploy"), stack.name], cwd=stack.workdir,
                          env={**os.environ, **stack.env}, capture_output=True, text=True, timeout=1800)


def up_killed_when(stack: EngineStack, ready: Callable[[], bool], what: str) -> str:
    """Start `pulumi up`, and `kill -9` it (then what it started) once `ready()` holds. Its output.

    The engine starts its language host and its providers each in a process group of its own, so
    they outlive a `kill -9` of the engine's group: their PIDs are recorded just before the kill and
    killed by PID (and group) after it, as on a crashed machine where nothing of the run survives.
    """
    proc = subprocess.Popen(
        ["pulumi", "--non-interactive", "up", "--yes", "--skip-preview", "--stack", stack.name],
        cwd=stack.workdir, env={**os.environ, **stack.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    tree: list[int] = []
    try:
        while not ready():
            if proc.poll() is not None:
                raise AssertionError(f"pulumi up ended ({proc.returncode}) before {what}:\n{proc.stdout.read()}")  # type: ignore[union-attr]
            time.sleep(0.2)
        tree = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        tree = sorted(set(tree) | set(descendants(proc.pid)))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        left = reap(tree)
    assert tree, "the killed engine had started no process (no language host, no provider)"
    assert left == [], f"processes of the killed up still run: {left}"
    return proc.stdout.read() if proc.stdout else ""


# What the backends hold.

def ironic_nodes(lab: dict[str, Any]) -> list[dict[str, Any]]:
    r = requests.get(f"{lab['ironic']['endpoint']}/v1/nodes?fields=name,provision_state,power_state,maintenance",
                     headers={"X-OpenStack-Ironic-API-Version": "latest"}, timeout=10)
    r.raise_for_status()
    return list(r.json()["nodes"])


def cloudstack(lab: dict[str, Any]) -> cs.CloudStack:
    c = lab["cloudstack"]
    return cs.CloudStack(endpoint=c["endpoint"], key=c["api_key"], secret=c["secret_key"])


def xapi_session(lab: dict[str, Any], host: int) -> Any:
    h = lab["xapi"]["hosts"][host]
    session = XenAPI.Session(h["url"])
    session.xenapi.login_with_password(h["username"], h["password"], "1.0", "recovery-test")
    return session


def backend_objects(lab: dict[str, Any]) -> dict[str, Any]:
    """Every object the region makes, by backend and kind, as (name, count) multisets."""
    out: dict[str, Any] = {}
    out["ironic"] = Counter(n["name"] for n in ironic_nodes(lab))
    out["ironic-states"] = sorted({n["provision_state"] for n in ironic_nodes(lab)})
    pools = ceph.cli(Path(lab["dirs"]["ceph"]), "osd", "pool", "ls").split()
    out["ceph-pools"] = Counter(p for p in pools if not p.startswith((".", "default.rgw", "device_health_metrics")))
    client = cloudstack(lab)
    for kind, call in [("zones", "listZones"), ("pods", "listPods"), ("clusters", "listClusters"),
                       ("primary", "listStoragePools"), ("imagestores", "listImageStores"),
                       ("staging", "listSecondaryStagingStores"), ("physnets", "listPhysicalNetworks")]:
        out[f"cloudstack-{kind}"] = Counter(o["name"] for o in getattr(client, call)(fetch_list=True))
    hosts: Counter[str] = Counter()
    networks: Counter[str] = Counter()
    srs: Counter[str] = Counter()
    seen_pools: set[str] = set()
    for i in range(len(lab["xapi"]["hosts"])):
        try:
            session = xapi_session(lab, i)
        except XenAPI.Failure as e:
            if e.details[0] == "HOST_IS_SLAVE":
                continue  # its pool is counted through its master
            raise
        try:
            x = session.xenapi
            pool = x.pool.get_all()[0]
            if pool in seen_pools:
                continue
            seen_pools.add(pool)
            hosts[x.pool.get_name_label(pool)] += len(x.host.get_all())
            networks.update(x.network.get_name_label(n) for n in x.network.get_all())
            srs.update(x.SR.get_name_label(s) for s in x.SR.get_all())
        finally:
            session.xenapi.session.logout()
    out["xapi-pools"] = hosts
    out["xapi-networks"] = Counter({k: v for k, v in networks.items() if k in ("guest", "storage")})
    out["xapi-srs"] = Counter({k: v for k, v in srs.items() if k.startswith("ceph-")})
    return out


def pending_operations(stack: EngineStack) -> list[Any]:
    return list(stack.export()["deployment"].get("pending_operations") or [])


def lock_files(stack: EngineStack) -> list[Path]:
    state = Path(stack.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    return sorted((state / ".pulumi" / "locks").rglob("*.json"))
