"""A region that forms its own Ceph cluster (privatecloud:cephBootstrap), through the real engine.

The lab runs no Ceph of its own here: the storage and compute servers are lab hosts that answer
SSH once Ironic deploys them (XAPI served on each compute host's own address, its SR drivers
seeing that host's dom0), and the program forms the cluster on them over SSH, then creates the
pools, the S3 user and the bucket through the cluster's outputs, and each XCP-ng pool's cephfs SR:
a directory of the cluster's CephFS, a CephX client for it, its key in every pool host's dom0,
the SR plugged on every host and registered in CloudStack as primary storage. A second `up` runs
no command; destroy leaves no Ceph daemon on the hosts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cs
import pytest
import XenAPI
import yaml

from lab import ceph as lab_ceph
from lab import hosts as lab_hosts
from lab.ephemeral import running_lab, stack_config
from lab.xapi.cephfs import CephFSDriver, Target
from tests.enginekit import REPO, EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.ironic, pytest.mark.ceph, pytest.mark.slow]

STORAGE = ["sto-01", "sto-02", "sto-03"]
COMPUTE = [f"cmp-{i:02d}" for i in range(1, 7)]
POOLS = {"pool-a": COMPUTE[:3], "pool-b": COMPUTE[3:]}
HEALTH_WAIT = 180.0


@pytest.fixture
def bootstrap_lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    reason = lab_ceph.unavailable_reason() or lab_hosts.unavailable_reason()
    if reason is not None:
        pytest.skip(f"REGION BOOTSTRAP TESTS SKIPPED: {reason}")
    with running_lab(tmp_path / "lab", xapi_hosts=COMPUTE, ironic_deploy_delay="1", storage_hosts=STORAGE,
                     with_ceph=False, compute_hosts=True) as lab:
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


def xapi_records(lab: dict[str, Any], host: str) -> dict[str, dict[str, Any]]:
    """host, SR and PBD records as the pool that `host` is master of sees them."""
    h = next(x for x in lab["xapi"]["hosts"] if x["name"] == host)
    session = XenAPI.Session(h["url"])
    session.xenapi.login_with_password(h["username"], h["password"], "1.0", "region-test")
    try:
        x = session.xenapi
        return {"host": x.host.get_all_records(), "SR": x.SR.get_all_records(), "PBD": x.PBD.get_all_records()}
    finally:
        session.xenapi.session.logout()


def assert_cephfs_srs(lab: dict[str, Any]) -> None:
    """Each pool's SR: cephfs, on its CephFS directory of the formed cluster (the client's caps
    allow that directory only), plugged on every host, registered in CloudStack."""
    storage = {h["name"]: h["address"] for h in lab["hosts"]["hosts"] if h["name"] in STORAGE}
    c = lab["cloudstack"]
    registered = cs.CloudStack(endpoint=c["endpoint"], key=c["api_key"], secret=c["secret_key"]).listStoragePools(
        fetch_list=True)
    for pool, members in POOLS.items():
        recs = xapi_records(lab, members[0])
        (sr_ref, sr), = [(r, x) for r, x in recs["SR"].items() if x["name_label"] == f"cephfs-{pool[-1]}"]
        assert sr["type"] == "cephfs" and sr["shared"]
        pbds = [p for p in recs["PBD"].values() if p["SR"] == sr_ref]
        assert {recs["host"][p["host"]]["name_label"]: p["currently_attached"] for p in pbds} == dict.fromkeys(
            members, True)
        config = pbds[0]["device_config"]
        assert config == {"server": ",".join(storage[s] for s in STORAGE), "serverport": "3300",
                          "serverpath": f"/xcp/{pool}",
                          "options": f"name=xcp-{pool},secretfile=/etc/ceph/xcp-{pool}.secret"}
        caps = json.loads(on_host(lab, "sto-01", "ceph", "auth", "get", f"client.xcp-{pool}", "--format", "json"))
        assert caps[0]["caps"]["mds"] == f"allow rw fsname=cephfs path=/xcp/{pool}"
        for host in members:  # the key in each host's dom0, 0600, never the machine's /etc
            secret = lab_hosts.dom0(Path(lab["dirs"]["hosts"]), host) / f"etc/ceph/xcp-{pool}.secret"
            assert secret.stat().st_mode & 0o777 == 0o600
            assert secret.read_text().strip() == caps[0]["key"]
        # The SR's own directory is in the pool's CephFS directory: mounted for real with the
        # pool's key from its master's dom0 (libcephfs).
        dom0 = lab_hosts.dom0(Path(lab["dirs"]["hosts"]), members[0])
        assert sr["uuid"] in CephFSDriver().mount(dom0, Target.of(config))["entries"]
        assert [p["type"] for p in registered if p["path"].rstrip("/").endswith(f"cephfs-{pool[-1]}")] == [
            "PreSetup"], registered


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
    assert json.loads(on_host(lab, "sto-01", "ceph", "fs", "ls", "--format", "json"))[0]["name"] == "cephfs"
    assert_cephfs_srs(lab)
    state = json.dumps(stack.export())
    for pool in POOLS:
        key = json.loads(on_host(lab, "sto-01", "ceph", "auth", "get", f"client.xcp-{pool}", "--format", "json"))
        assert key[0]["key"] not in state  # the clients' keys are secrets in state

    again = stack.up()
    assert again.changes == {}
    assert [s.name for s in again.steps if s.type.startswith("command:") and s.op != "same"] == []

    stack.destroy()
    for name in STORAGE:
        ps = on_host(lab, name, "ps", "-eo", "comm=").split()
        assert not [c for c in ps if c.startswith(("ceph-", "radosgw"))], name
