"""A region that forms its own Ceph cluster (privatecloud:cephBootstrap), through the real engine.

The lab runs no Ceph of its own here: the storage servers are lab hosts that answer SSH once
Ironic deploys them, and the program forms the cluster on them over SSH, then creates the pools,
the S3 user and the bucket through the cluster's outputs. A second `up` runs no command; destroy
leaves no Ceph daemon on the hosts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab import ceph as lab_ceph
from lab import hosts as lab_hosts
from lab.ephemeral import running_lab, stack_config
from tests.enginekit import REPO, EngineStack
from tests.region.conftest import HOSTS

pytestmark = [pytest.mark.engine, pytest.mark.ironic, pytest.mark.ceph, pytest.mark.slow]

STORAGE = ["sto-01", "sto-02", "sto-03"]
HEALTH_WAIT = 180.0


@pytest.fixture
def bootstrap_lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    reason = lab_ceph.unavailable_reason() or lab_hosts.unavailable_reason()
    if reason is not None:
        pytest.skip(f"REGION BOOTSTRAP TESTS SKIPPED: {reason}")
    with running_lab(tmp_path / "lab", xapi_hosts=HOSTS, ironic_deploy_delay="1", storage_hosts=STORAGE,
                     with_ceph=False) as lab:
        yield lab


def on_host(lab: dict[str, Any], name: str, *argv: str) -> str:
    out = lab_hosts.run(Path(lab["dirs"]["hosts"]), name, *argv)
    assert out.returncode == 0, f"{argv} on {name}: {out.stderr}"
    return out.stdout


def healthy(lab: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + HEALTH_WAIT
    while True:
        s: dict[str, Any] = json.loads(on_host(lab, "sto-01", "ceph", "status", "--format", "json"))
        pgmap = s["pgmap"]
        clean = sum(x["count"] for x in pgmap.get("pgs_by_state", []) if x["state_name"] == "active+clean")
        if s["health"]["status"] == "HEALTH_OK" and clean == pgmap["num_pgs"]:
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"not HEALTH_OK within {HEALTH_WAIT} s: {json.dumps(s['health'])[:1500]}")
        time.sleep(1)


def test_region_forms_its_ceph_cluster(tmp_path: Path, engine_bin: Path, bootstrap_lab: dict[str, Any]) -> None:
    lab = bootstrap_lab
    region = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["privatecloud:region"]
    region["deployTimeouts"] = {"manage": 60, "clean": 120, "deploy": 300, "undeploy": 300, "pollInterval": 0.5}
    config = stack_config(lab, region)
    assert "ceph" not in config["secret"]  # the stack config names no Ceph endpoint or credential
    config["plain"]["cephBootstrap"] = json.dumps({"lab": True})
    stack = EngineStack.create(
        tmp_path / "engine", engine_bin, project="privatecloud", program=(REPO / "__main__.py").read_text(),
        config=config["plain"], secrets=config["secret"],
    )

    started = time.monotonic()
    first = stack.up()
    print(f"region up from nothing (bootstrap): {time.monotonic() - started:.1f} s")
    assert first.changes.keys() == {"create"}
    status = healthy(lab)
    assert sorted(status["quorum_names"]) == STORAGE
    osdmap = status["osdmap"].get("osdmap", status["osdmap"])
    assert osdmap["num_up_osds"] == 3 and osdmap["num_in_osds"] == 3
    # The pools, S3 user and bucket were made on this cluster, through its outputs.
    assert "vm-disks" in on_host(lab, "sto-01", "ceph", "osd", "pool", "ls").split()
    user = json.loads(on_host(lab, "sto-01", "radosgw-admin", "user", "info", "--uid=cloudstack-secondary"))
    assert user["user_id"] == "cloudstack-secondary"
    buckets = json.loads(on_host(lab, "sto-01", "radosgw-admin", "bucket", "list"))
    assert "cloudstack-secondary" in buckets
    out = stack.outputs()
    assert out["ceph"]["fsid"] == status["fsid"] and out["s3Bucket"] == "cloudstack-secondary"

    again = stack.up()
    assert again.changes == {}
    assert [s.name for s in again.steps if s.type.startswith("command:") and s.op != "same"] == []

    stack.destroy()
    for name in STORAGE:
        ps = on_host(lab, name, "ps", "-eo", "comm=").split()
        assert not [c for c in ps if c.startswith(("ceph-", "radosgw"))], name
