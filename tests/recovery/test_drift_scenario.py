"""Drift in every backend, then `bin/deploy`: one command converges, a second preview plans nothing.

Out of band: a server powered off and another put in maintenance (Ironic), the Ceph pool's size
and quota changed, the XCP-ng pool renamed, the CloudStack pod renamed. Then destroy gives the
XCP-ng master back its pool name of before. The refresh of the converged region is counted
(API calls per resource, benchmarks/apicount) and printed.

The scenario runs on a deployed region: the one the killed-deploy test has just recovered
(`drift_everywhere_then_converge`, called there, so the lab deploys the region once for both), and
on its own here when that test is not selected (conftest.py deselects this one otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.region import APICOUNT, api_calls
from lab import ceph
from providers.ironic._api import client as ironic_client
from tests.enginekit import REPO, EngineStack
from tests.recovery.regionkit import (
    backend_objects,
    bin_deploy,
    cloudstack,
    deploy_project,
    pending_operations,
    small_region,
    xapi_session,
)

pytestmark = [pytest.mark.engine, pytest.mark.ironic, pytest.mark.ceph, pytest.mark.slow]


def pool_detail(lab: dict[str, Any], name: str) -> dict[str, Any]:
    pools = json.loads(ceph.cli(Path(lab["dirs"]["ceph"]), "osd", "pool", "ls", "detail", "--format", "json"))
    return dict(next(p for p in pools if p["pool_name"] == name))


def master_pool_name(lab: dict[str, Any]) -> str:
    session = xapi_session(lab, 0)
    try:
        x = session.xenapi
        return str(x.pool.get_name_label(x.pool.get_all()[0]))
    finally:
        session.xenapi.session.logout()


def counted(stack: EngineStack, log: Path) -> None:
    """The stack's commands log their API calls to `log` (benchmarks/apicount)."""
    stack.env["PYTHONPATH"] = f"{APICOUNT}:{REPO}"
    stack.env["PRIVATECLOUD_API_LOG"] = str(log)


def drift_everywhere_then_converge(stack: EngineStack, lab: dict[str, Any], region: dict[str, Any],
                                   log: Path) -> None:
    """On the deployed `region`: a counted refresh (nothing drifted), drift in every backend, one
    `bin/deploy` converges it, a second preview plans nothing."""
    pool = region["storage"]["pools"][0]["name"]
    xcp_pool = region["hypervisorPools"][0]["name"]
    pod = region["zone"]["pod"]["name"]
    assert master_pool_name(lab) == xcp_pool

    # The converged region's refresh, counted.
    counted(stack, log)
    log.unlink(missing_ok=True)
    refreshed = stack.refresh()
    assert refreshed.drifted() == {}
    resources = len(stack.resources())
    calls = api_calls(log)
    total = sum(calls.values())
    print(f"\nrefresh of the small region: {total} API calls for {resources} resources "
          f"({total / resources:.2f} per resource) {dict(calls)}")

    # Drift in every backend.
    c = ironic_client(lab["ironic"]["endpoint"])
    servers = [s["name"] for s in region["servers"]]
    c.node.set_power_state(servers[0], "off")
    c.node.set_maintenance(servers[1], "true", maint_reason="by hand")
    ceph.cli(Path(lab["dirs"]["ceph"]), "osd", "pool", "set", pool, "size", "3")
    ceph.cli(Path(lab["dirs"]["ceph"]), "osd", "pool", "set-quota", pool, "max_objects", "1000")
    session = xapi_session(lab, 0)
    try:
        session.xenapi.pool.set_name_label(session.xenapi.pool.get_all()[0], "renamed-by-hand")
    finally:
        session.xenapi.session.logout()
    cs = cloudstack(lab)
    cs.updatePod(id=cs.listPods(fetch_list=True)[0]["id"], name="renamed-pod")

    # One command converges.
    again = bin_deploy(stack)
    assert again.returncode == 0, f"{again.stderr[-6000:]}\n{again.stdout[-3000:]}"
    assert stack.preview().changes == {}
    nodes = {n.name: n for n in c.node.list(fields=["name", "power_state", "maintenance"])}
    assert nodes[servers[0]].power_state == "power on"
    assert nodes[servers[1]].maintenance is False
    detail = pool_detail(lab, pool)
    assert (detail["size"], detail["quota_max_objects"]) == (region["storage"]["pools"][0]["size"], 0)
    assert master_pool_name(lab) == xcp_pool
    assert [p["name"] for p in cs.listPods(fetch_list=True)] == [pod]
    assert pending_operations(stack) == []


def destroyed_leaves_no_trace(lab: dict[str, Any]) -> None:
    """After the region's destroy: no node, pool or zone, and the master's pool name of before."""
    held = backend_objects(lab)
    assert not held["ironic"] and not held["ceph-pools"] and not held["cloudstack-zones"], held
    assert master_pool_name(lab) == ""  # the master's pool has its name of before again


def test_drift_everywhere_converges_with_one_deploy(tmp_path: Path, engine_bin: Path,
                                                    recovery_lab: dict[str, Any]) -> None:
    """Deselected (tests/recovery/conftest.py) when the killed-deploy test that runs it is selected."""
    lab = recovery_lab
    region = small_region()
    stack = deploy_project(tmp_path, engine_bin, lab, region)
    try:
        first = bin_deploy(stack)
        assert first.returncode == 0, f"{first.stderr[-6000:]}\n{first.stdout[-3000:]}"
        drift_everywhere_then_converge(stack, lab, region, tmp_path / "api.log")
    finally:
        stack.run("destroy", "--skip-preview")
    destroyed_leaves_no_trace(lab)
