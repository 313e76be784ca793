"""A pool's SR on CephFS in the stack config: `sr: {type: cephfs, quotaGib}` and the region's file system."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import load
from tests.unit.devstack import dev_raw, problems


@pytest.fixture()
def raw() -> dict[str, Any]:
    """The dev stack with NFS SRs and no file system, the baseline these tests change."""
    data = dev_raw()
    data["region"]["storage"].pop("fileSystem", None)
    for pool in data["region"]["hypervisorPools"]:
        pool["sr"] = {"name": f"{pool['name']}-nfs", "type": "nfs",
                      "deviceConfig": {"server": "127.0.0.1", "serverpath": f"/vm-disks/{pool['name']}"}}
    return data


def test_the_dev_stacks_pools_are_on_cephfs() -> None:
    cfg = load(dev_raw())
    assert cfg.region.storage.file_system is not None
    assert {p.name: (p.sr.type, p.sr.quota_gib) for p in cfg.region.hypervisor_pools} == {
        "pool-a": ("cephfs", 100), "pool-b": ("cephfs", 100)}


def test_a_cephfs_sr_needs_the_formed_cluster(raw: dict[str, Any]) -> None:
    """Its client is made on a storage server and its key written on the hosts with the deploy key."""
    raw["region"]["storage"]["fileSystem"] = {"name": "cephfs", "root": "/xcp"}
    raw["region"]["hypervisorPools"][0]["sr"] = {"name": "pool-a-cephfs", "type": "cephfs", "quotaGib": 512}
    raw.pop("cephBootstrap")
    raw["ceph"] = {"dashboardUrl": "http://d", "dashboardUser": "admin", "dashboardPassword": "x",
                   "rgwUrl": "http://r", "rgwAccessKey": "A", "rgwSecretKey": "y"}
    [p] = problems(raw)
    assert p.startswith("privatecloud:region.hypervisorPools[0].sr.type='cephfs': needs cephBootstrap")


def test_a_cephfs_sr_with_the_regions_file_system(raw: dict[str, Any]) -> None:
    raw["region"]["storage"]["fileSystem"] = {"name": "cephfs", "root": "/xcp"}
    raw["region"]["hypervisorPools"][0]["sr"] = {"name": "pool-a-cephfs", "type": "cephfs", "quotaGib": 512}
    cfg = load(raw)
    sr = cfg.region.hypervisor_pools[0].sr
    assert (sr.type, sr.quota_gib, sr.device_config, sr.allow_delete_with_data) == ("cephfs", 512, {}, False)
    assert cfg.region.hypervisor_pools[1].sr.type == "nfs"  # NFS stays available beside it


def test_a_cephfs_sr_needs_the_file_system_and_a_quota(raw: dict[str, Any]) -> None:
    raw["region"]["hypervisorPools"][0]["sr"] = {"name": "pool-a-cephfs", "type": "cephfs",
                                                  "deviceConfig": {"server": "10.0.0.1"}}
    raw["region"]["hypervisorPools"][1]["sr"]["quotaGib"] = 5
    assert problems(raw) == [
        "privatecloud:region.hypervisorPools[0].sr.deviceConfig.server='10.0.0.1': not a key of an SR of type "
        "'cephfs' (it takes [])",
        "privatecloud:region.hypervisorPools[0].sr.type='cephfs': the region has no Ceph file system: declare "
        "storage.fileSystem (or use an nfs or lvmoiscsi SR)",
        "privatecloud:region.hypervisorPools[0].sr.quotaGib=(missing): a cephfs SR's directory needs a quota (GiB)",
        "privatecloud:region.hypervisorPools[1].sr.quotaGib=5: only a cephfs SR has a quota here (its directory's)",
    ]


def test_the_file_systems_root_is_an_absolute_path(raw: dict[str, Any]) -> None:
    raw["region"]["storage"]["fileSystem"] = {"root": "xcp/../etc"}
    [p] = problems(raw)
    assert p.startswith("privatecloud:region.storage.fileSystem.root='xcp/../etc': String should match pattern")
