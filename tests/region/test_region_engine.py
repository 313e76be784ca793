"""The whole region through the real engine on the lab: up, no-op up, previewed edits, refresh, destroy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cs
import pytest
import requests
import XenAPI
import yaml

from lab import ceph
from lab.ephemeral import BMC_PASSWORD, stack_config
from tests.enginekit import REPO, EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.ironic, pytest.mark.ceph, pytest.mark.slow]


def ironic_nodes(lab: dict[str, Any]) -> dict[str, str]:
    r = requests.get(f"{lab['ironic']['endpoint']}/v1/nodes", headers={"X-OpenStack-Ironic-API-Version": "latest"},
                     timeout=10)
    r.raise_for_status()
    return {n["name"]: n["provision_state"] for n in r.json()["nodes"]}


def ceph_pools(lab: dict[str, Any]) -> set[str]:
    out = ceph.cli(Path(lab["dirs"]["ceph"]), "osd", "pool", "ls")
    return {line for line in out.split() if not line.startswith(".") and line != "default.rgw.log"}


def cloudstack_client(lab: dict[str, Any]) -> cs.CloudStack:
    c = lab["cloudstack"]
    return cs.CloudStack(endpoint=c["endpoint"], key=c["api_key"], secret=c["secret_key"])


def xapi_session(lab: dict[str, Any], host: int) -> Any:
    h = lab["xapi"]["hosts"][host]
    session = XenAPI.Session(h["url"])
    session.xenapi.login_with_password(h["username"], h["password"], "1.0", "region-test")
    return session


def test_region_lifecycle(tmp_path: Path, engine_bin: Path, region_lab: dict[str, Any]) -> None:
    lab = region_lab
    region = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["privatecloud:region"]
    region["deployTimeouts"] = {"manage": 60, "clean": 120, "deploy": 300, "undeploy": 300, "pollInterval": 0.5}
    # An existing cluster (the lab's Ceph): stack_config makes the pools' SRs NFS (a cephfs SR's
    # chain needs the formed cluster's SSH path: tests/region/test_region_bootstrap.py).
    config = stack_config(lab, region)
    stack = EngineStack.create(
        tmp_path, engine_bin, project="privatecloud", program=(REPO / "__main__.py").read_text(),
        config=config["plain"], secrets=config["secret"],
    )

    # From nothing to an enabled zone.
    first = stack.up()
    # 32 dynamic resources (10 nodes and their fleet; a Ceph pool, S3 user and bucket; per XCP-ng pool
    # the pool, 2 networks and the SR; zone, network, pod, 2 clusters, 2 primary stores, staging
    # store, S3 store, enablement; the public and storage ranges, the InternalLbVm provider, the
    # zone's settings and its readiness), 6 components and the stack; the tenants (issue 15): 2
    # compute offerings, a disk offering, a template, a domain, an account, an API user, 6 limits
    # and their component.
    assert first.changes == {"create": 44 + 14}
    out = stack.outputs()
    assert out["zoneId"]
    assert set(out["pools"]) == {"pool-a", "pool-b"}
    assert all(state == "active" for state in ironic_nodes(lab).values())
    assert len(ironic_nodes(lab)) == 10
    assert {"vm-disks"} <= ceph_pools(lab)
    zones = cloudstack_client(lab).listZones(fetch_list=True)
    assert [(z["name"], z["allocationstate"]) for z in zones] == [("dev-zone-1", "Enabled")]
    accounts = cloudstack_client(lab).listAccounts(name="customer-1", listall=True, fetch_list=True)
    assert [(a["name"], a["domain"]) for a in accounts] == [("customer-1", "reseller-a")]

    # Secrets never appear in plaintext in state.
    state = json.dumps(stack.export())
    for secret in (BMC_PASSWORD, lab["ceph"]["rgw_secret_key"], lab["cloudstack"]["secret_key"],
                   lab["xapi"]["hosts"][0]["password"]):
        assert secret not in state

    # A second up changes nothing.
    assert stack.up().changes == {}

    # A config edit previews exactly the expected update and replace.
    region = json.loads(config["plain"]["region"])
    region["zone"]["dns"] = ["9.9.9.9"]
    region["hypervisorPools"][0]["vlans"][0]["tag"] = 101
    stack.set_config("region", json.dumps(region))
    preview = stack.preview()
    changed = {name: op for name, op in preview.ops_by_name().items() if op != "same"}
    assert changed == {"dev-cloud-zone": "update", "dev-pool-a-guest": "replace"}, changed
    assert stack.up().changes == {"update": 1, "replace": 1}

    # Out-of-band changes show up in refresh.
    ceph.cli(Path(lab["dirs"]["ceph"]), "osd", "pool", "set-quota", "vm-disks", "max_objects", "1000")
    client = cloudstack_client(lab)
    pod = client.listPods(fetch_list=True)[0]
    client.updatePod(id=pod["id"], name="renamed-pod")
    refreshed = stack.refresh()
    drifted = refreshed.drifted()
    assert set(drifted) == {"dev-storage-vm-disks", "dev-cloud-pod-1"}, drifted
    assert "quota_max_objects" in drifted["dev-storage-vm-disks"]
    assert "name" in drifted["dev-cloud-pod-1"]
    stack.up()  # converges back to the program
    assert stack.up().changes == {}

    # Destroy leaves every backend empty.
    stack.destroy()
    assert ironic_nodes(lab) == {}
    assert "vm-disks" not in ceph_pools(lab)
    assert cloudstack_client(lab).listZones(fetch_list=True) == []
    for i in range(6):
        session = xapi_session(lab, i)
        try:
            assert len(session.xenapi.host.get_all()) == 1  # every host is alone in its own pool again
            labels = {session.xenapi.network.get_name_label(n) for n in session.xenapi.network.get_all()}
            assert not labels & {"guest", "storage"}
        finally:
            session.xenapi.session.logout()
