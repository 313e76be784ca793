"""A `pulumi up` killed with `kill -9` mid-way, then `bin/deploy`: converged with no manual step.

Killed at two points: while Ironic deploys the servers, and while the CloudStack zone is being
built. The re-run must clear the dead process's lock, adopt what the killed run made (no twins),
leave no pending operations, and the backends must hold exactly the declared objects. The region
recovered from the first kill then goes through the drift scenario (test_drift_scenario.py) before
it is destroyed: the lab deploys the region once for both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.recovery.regionkit import (
    backend_objects,
    bin_deploy,
    cloudstack,
    deploy_project,
    ironic_nodes,
    lock_files,
    pending_operations,
    small_region,
    up_killed_when,
)
from tests.recovery.test_drift_scenario import destroyed_leaves_no_trace, drift_everywhere_then_converge

pytestmark = [pytest.mark.engine, pytest.mark.ironic, pytest.mark.ceph, pytest.mark.slow]


def declared(region: dict[str, Any]) -> dict[str, Any]:
    """What the backends must hold for `region` (pools, zone and names as the program makes them)."""
    pool = region["hypervisorPools"][0]
    zone = region["zone"]
    return {
        "ironic": Counter(s["name"] for s in region["servers"]),
        "ironic-states": ["active"],
        "ceph-pools": Counter(p["name"] for p in region["storage"]["pools"]),
        "cloudstack-zones": Counter([zone["name"]]),
        "cloudstack-pods": Counter([zone["pod"]["name"]]),
        "cloudstack-clusters": Counter([pool["name"]]),
        "xapi-pools": Counter({pool["name"]: 1 + len(pool["members"])}),
        "xapi-networks": Counter(["guest", "storage"]),
        "xapi-srs": Counter([pool["sr"]["name"]]),
    }


def deploying(lab: dict[str, Any]) -> Callable[[], bool]:
    return lambda: any(n["provision_state"] in ("deploying", "wait call-back") for n in ironic_nodes(lab))


def building_zone(lab: dict[str, Any]) -> Callable[[], bool]:
    return lambda: bool(cloudstack(lab).listPods(fetch_list=True))


@pytest.mark.parametrize("point", ["ironic-deploys", "cloudstack-zone"])
def test_killed_up_recovers_with_bin_deploy(point: str, tmp_path: Path, engine_bin: Path,
                                            recovery_lab: dict[str, Any]) -> None:
    lab = recovery_lab
    region = small_region()
    stack = deploy_project(tmp_path, engine_bin, lab, region)
    ready = deploying(lab) if point == "ironic-deploys" else building_zone(lab)
    try:
        up_killed_when(stack, ready, point)
        assert lock_files(stack), "the killed up left no lock: the kill came too late to test recovery"

        done = bin_deploy(stack)
        assert done.returncode == 0, f"bin/deploy failed:\n{done.stderr[-6000:]}\n{done.stdout[-3000:]}"
        assert "removed the lock of stack test" in done.stderr
        assert "process" in done.stderr and "is not running" in done.stderr

        assert pending_operations(stack) == []
        assert lock_files(stack) == []
        held = backend_objects(lab)
        want = declared(region)
        assert {k: held[k] for k in want} == want
        # The stack and the backends agree: a preview plans nothing.
        assert stack.preview().changes == {}
        if point == "ironic-deploys":
            # The recovered region is the drift scenario's deployed region (one deploy for both).
            drift_everywhere_then_converge(stack, lab, region, tmp_path / "api.log")
    finally:
        stack.run("destroy", "--skip-preview")
    destroyed_leaves_no_trace(lab)
