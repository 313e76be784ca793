"""The Ceph modes of the stack config: an existing cluster (ceph) or one the program forms (cephBootstrap)."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import load
from tests.unit.devstack import dev_raw, problems


@pytest.fixture()
def raw() -> dict[str, Any]:
    return dev_raw()


def test_dev_bootstraps_with_a_generated_key(raw: dict[str, Any]) -> None:
    cfg = load(raw)
    assert cfg.ceph is None and cfg.ceph_bootstrap is not None
    assert cfg.ceph_bootstrap.lab and cfg.ceph_bootstrap.deploy_key is None
    assert [s.management_address for s in cfg.region.servers_by_role("storage")] == [
        "127.0.1.21", "127.0.1.22", "127.0.1.23"]


def test_exactly_one_ceph_mode(raw: dict[str, Any]) -> None:
    both = {**raw, "ceph": {"dashboardUrl": "http://d", "dashboardUser": "admin", "dashboardPassword": "x",
                            "rgwUrl": "http://r", "rgwAccessKey": "A", "rgwSecretKey": "y"}}
    [p] = problems(both)
    assert p.startswith("privatecloud:ceph=(set): set exactly one of ceph (an existing cluster) and cephBootstrap")
    neither = {k: v for k, v in raw.items() if k != "cephBootstrap"}
    [p] = problems(neither)
    assert p.startswith("privatecloud:ceph=None: set exactly one of ceph")


def test_storage_servers_need_an_ssh_address(raw: dict[str, Any]) -> None:
    raw["region"]["servers"][7]["managementAddress"] = None
    [p] = problems(raw)
    assert p == ("privatecloud:region.servers[7].managementAddress=None: storage server 'sto-02' needs the address it "
                 "answers SSH on")


def test_real_regions_name_each_osd_device(raw: dict[str, Any]) -> None:
    raw["cephBootstrap"] = {"osdDevices": {"sto-01": "/dev/sdb", "sto-09": "/dev/sdb"}, "publicNetwork": "10.0.0.0/33"}
    assert problems(raw) == [
        "privatecloud:cephBootstrap.osdDevices.sto-02=(missing): the OSD device of storage server 'sto-02'",
        "privatecloud:cephBootstrap.osdDevices.sto-03=(missing): the OSD device of storage server 'sto-03'",
        "privatecloud:cephBootstrap.osdDevices.sto-09='/dev/sdb': no storage server has this name",
        "privatecloud:cephBootstrap.publicNetwork='10.0.0.0/33': '10.0.0.0/33' does not appear to be an IPv4 or "
        "IPv6 network",
    ]


def test_the_deploy_key_is_secret(raw: dict[str, Any]) -> None:
    raw["cephBootstrap"] = {"lab": True, "deployKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"}
    cfg = load(raw)
    assert cfg.ceph_bootstrap is not None and "abc" not in repr(cfg.ceph_bootstrap)
