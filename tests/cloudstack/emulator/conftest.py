"""Fixtures for the CloudStack emulator's own tests: a fresh emulator, the stock `cs` client, an
XCP-ng pool on the XAPI emulator, and a helper that builds a zone the way an operator would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cs
import pytest
import XenAPI

from lab.cloudstack import CloudStackLab

XAPI_PASSWORD = "xcp-root-secret-1"
SR_NAME = "ceph-nfs-a"


@pytest.fixture
def lab() -> Iterator[CloudStackLab]:
    """A fresh emulator on 127.0.0.1 with a free port and generated keys."""
    emulator = CloudStackLab.start()
    try:
        yield emulator
    finally:
        emulator.stop()
    # A handler that read a parameter its command does not declare answered "emulator bug".
    bugs = [r for r in emulator.request_log if r.error and "CloudStack emulator bug" in r.error.errortext]
    assert bugs == [], bugs


@pytest.fixture
def client(lab: CloudStackLab) -> cs.CloudStack:
    """The stock `cs` client, unmodified; async results are awaited by `cs` itself (fetch_result)."""
    return cs.CloudStack(endpoint=lab.endpoint, key=lab.api_key, secret=lab.secret_key, poll_interval=0.01,
                         job_timeout=10, fetch_result=True)


@pytest.fixture
def raw(lab: CloudStackLab) -> cs.CloudStack:
    """`cs` without waiting for jobs: answers carry the jobid, the test polls."""
    return cs.CloudStack(endpoint=lab.endpoint, key=lab.api_key, secret=lab.secret_key, method="post")


@dataclass
class Pool:
    """Two XCP-ng hosts joined in one pool with a shared NFS SR named SR_NAME."""

    xapi: Any
    master: Any
    member: Any


@pytest.fixture
def pool() -> Iterator[Pool]:
    from lab.xapi import XapiLab

    xapi = XapiLab.start(hosts=["xcp-01", "xcp-02"], password=XAPI_PASSWORD)
    try:
        master, member = xapi.hosts
        joiner = XenAPI.Session(member.url)
        joiner.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "test")
        joiner.xenapi.pool.join(master.address, "root", XAPI_PASSWORD)
        s = XenAPI.Session(master.url)
        s.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "test")
        host = s.xenapi.host.get_all()[0]
        s.xenapi.SR.create(host, {"server": "127.0.0.1", "serverpath": "/vm-disks/a"}, 0, SR_NAME, "", "nfs",
                           "user", True, {})
        s.xenapi.session.logout()
        yield Pool(xapi, master, member)
    finally:
        xapi.stop()


@dataclass
class ZoneIds:
    zone: str
    physical_network: str
    pod: str
    cluster: str


def build_zone(c: cs.CloudStack, pool: Pool | None = None) -> ZoneIds:
    """Zone, physical network with traffic types, VR provider enabled, pod, XenServer cluster
    (and its hosts when a pool is given), in the order the CloudStack UI's zone wizard uses."""
    zone = c.createZone(name="zone-1", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.10.0.2",
                        guestcidraddress="10.1.0.0/16")["zone"]
    net = c.createPhysicalNetwork(zoneid=zone["id"], name="physnet-1", isolationmethods="VLAN",
                                  vlan="100-199")["physicalnetwork"]
    for traffic, label in (("Management", "Pool-wide network associated with eth0"), ("Guest", "guest"),
                           ("Public", "public"), ("Storage", "storage")):
        c.addTrafficType(physicalnetworkid=net["id"], traffictype=traffic, xennetworklabel=label)
    nsp = c.listNetworkServiceProviders(physicalnetworkid=net["id"], name="VirtualRouter")["networkserviceprovider"][0]
    element = c.listVirtualRouterElements(nspid=nsp["id"])["virtualrouterelement"][0]
    c.configureVirtualRouterElement(id=element["id"], enabled=True)
    c.updateNetworkServiceProvider(id=nsp["id"], state="Enabled")
    c.updatePhysicalNetwork(id=net["id"], state="Enabled")
    pod = c.createPod(zoneid=zone["id"], name="pod-1", gateway="10.10.0.1", netmask="255.255.255.0",
                      startip="10.10.0.100", endip="10.10.0.199")["pod"]
    cluster = c.addCluster(zoneid=zone["id"], podid=pod["id"], clustername="cluster-a", clustertype="CloudManaged",
                           hypervisor="XenServer")["cluster"][0]
    if pool is not None:
        c.addHost(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], hypervisor="XenServer",
                  url=pool.master.url, username="root", password=XAPI_PASSWORD)
    return ZoneIds(zone["id"], net["id"], pod["id"], cluster["id"])


def s3_details(**over: str) -> list[dict[str, str]]:
    """S3 image store details as CloudStack reads them: details[i].key / details[i].value."""
    values = {"accesskey": "AK", "secretkey": "SK", "endpoint": "127.0.0.1:17480", "bucket": "secondary", **over}
    return [{"key": k, "value": v} for k, v in values.items()]
