"""A tenant runs a VM end to end: with the tenant's own API keys (not the admin's), deploy a VM
from a registered template with a compute offering in the tenant's isolated network, see it
Running in CloudStack and in XAPI (on a host of the zone's pool, its disk on the pool's SR, its
network's virtual router beside it), destroy it and see it gone from both; over the instance
limit, CloudStack's error. The CloudStack and XAPI emulators talk over real HTTP/XML-RPC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cs
import pytest
import XenAPI

from lab.cloudstack import CloudStackLab
from lab.cloudstack.conformance import problems
from lab.cloudstack.objects import Host
from tests.cloudstack.emulator.conftest import SR_NAME, XAPI_PASSWORD, Pool, ZoneIds, build_zone, pool  # noqa: F401
from tests.cloudstack.emulator.test_conformance import _fields_ok

LINUX = "f3c3a6e2-0000-4000-8000-000000000102"  # CentOS 7 in the emulator's guest OS table


@dataclass
class Tenant:
    ids: ZoneIds
    admin: cs.CloudStack
    user: cs.CloudStack  # signed with the tenant user's own keys
    account: dict[str, Any]
    offering: str
    template: str
    network: str


@pytest.fixture
def lab() -> Iterator[CloudStackLab]:
    emulator = CloudStackLab.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def _client(lab: CloudStackLab, key: str, secret: str) -> cs.CloudStack:
    return cs.CloudStack(endpoint=lab.endpoint, key=key, secret=secret, poll_interval=0.01, job_timeout=10,
                         fetch_result=True)


@pytest.fixture
def tenant(lab: CloudStackLab, pool: Pool) -> Tenant:  # noqa: F811
    admin = _client(lab, lab.api_key, lab.secret_key)
    ids = build_zone(admin, pool)
    admin.createStoragePool(zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, name="primary",
                            url=f"presetup://localhost/{SR_NAME}")
    admin.addImageStore(provider="NFS", name="secondary", zoneid=ids.zone, url="nfs://127.0.0.1/export/secondary")
    admin.updateZone(id=ids.zone, allocationstate="Enabled")
    reseller = admin.createDomain(name="reseller-a")["domain"]
    account = admin.createAccount(domainid=reseller["id"], account="customer-1", username="alice",
                                  firstname="Alice", lastname="Tenant", email="alice@example.com",
                                  password="not-used-here", accounttype=0)["account"]
    keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    offering = admin.createServiceOffering(name="small", displaytext="1 vCPU, 1 GiB", cpunumber=1, cpuspeed=1000,
                                           memory=1024)["serviceoffering"]
    user = _client(lab, keys["apikey"], keys["secretkey"])
    template = user.registerTemplate(name="debian-12", displaytext="Debian 12", url="http://127.0.0.1/d12.vhd",
                                     zoneid=ids.zone, hypervisor="XenServer", format="VHD",
                                     ostypeid=LINUX)["template"][0]
    for _ in range(5):  # the download advances as the template is read
        listed = user.listTemplates(templatefilter="self", id=template["id"])["template"][0]
        if listed["isready"]:
            break
    assert listed["status"] == "Download Complete"
    offer = admin.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingWithSourceNatService")["networkoffering"]
    network = user.createNetwork(name="web", displaytext="web tier", networkofferingid=offer[0]["id"],
                                 zoneid=ids.zone)["network"]
    return Tenant(ids, admin, user, account, offering["id"], template["id"], network["id"])


def _xapi(p: Pool) -> Any:
    s = XenAPI.Session(p.master.url)
    s.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "test")
    return s


def test_a_tenant_runs_a_vm_with_its_own_keys(lab: CloudStackLab, pool: Pool, tenant: Tenant) -> None:  # noqa: F811
    t = tenant
    vm = t.user.deployVirtualMachine(zoneid=t.ids.zone, serviceofferingid=t.offering, templateid=t.template,
                                     networkids=t.network, name="web-1")["virtualmachine"]
    assert vm["state"] == "Running" and vm["account"] == "customer-1" and vm["domain"] == "reseller-a"
    assert _fields_ok("deployVirtualMachine", {"virtualmachine": vm}) == []
    (listed,) = t.user.listVirtualMachines()["virtualmachine"]
    assert (listed["id"], listed["state"], listed["templateid"], listed["serviceofferingid"]) == (
        vm["id"], "Running", t.template, t.offering)
    # the request was the tenant's: signed with its keys, refused the admin's commands
    deploys = [r for r in lab.request_log if r.command == "deployVirtualMachine"]
    assert deploys and deploys[-1].error is None
    with pytest.raises(cs.CloudStackApiException) as denied:
        t.user.listHosts()
    assert denied.value.error["errorcode"] == 432
    assert "The API [listHosts] does not exist or is not available for the account" in denied.value.error["errortext"]

    session = _xapi(pool)
    try:
        x = session.xenapi
        # CloudStack's hosts of the cluster are the pool's hosts (their guid is the XAPI host uuid)
        in_cluster = {h["id"] for h in t.admin.listHosts(clusterid=t.ids.cluster)["host"]}
        host_uuids = {h.guid for h in lab.backend.store.all(Host) if h.id in in_cluster}
        assert host_uuids == {x.host.get_uuid(h) for h in x.host.get_all()}
        (ref,) = x.VM.get_by_name_label(vm["instancename"])
        rec = x.VM.get_record(ref)
        assert rec["power_state"] == "Running" and rec["other_config"]["vm_uuid"] == vm["id"]
        assert x.host.get_uuid(rec["resident_on"]) in host_uuids
        (vbd,) = rec["VBDs"]
        sr = x.VDI.get_SR(x.VBD.get_VDI(vbd))
        assert x.SR.get_name_label(sr) == SR_NAME
        (vif,) = rec["VIFs"]
        net = x.network.get_name_label(x.VIF.get_network(vif))
        (nw,) = t.user.listNetworks(id=t.network)["network"]
        assert nw["state"] == "Implemented" and net.endswith(f"-{nw['vlan']}")
        # the network's virtual router runs on the pool too, on the same guest VLAN
        (router,) = t.admin.listRouters(networkid=t.network)["router"]
        assert router["state"] == "Running" and _fields_ok("listRouters", {"router": [router]}) == []
        (rref,) = x.VM.get_by_name_label(router["name"])
        assert x.VM.get_power_state(rref) == "Running"
        assert x.VIF.get_network(x.VM.get_VIFs(rref)[0]) == x.VIF.get_network(vif)

        # destroy: gone for the tenant and from XAPI; the disk stays until the VM is expunged
        vdi = x.VBD.get_VDI(vbd)
        t.user.destroyVirtualMachine(id=vm["id"])
        assert t.user.listVirtualMachines() == {}
        assert x.VM.get_by_name_label(vm["instancename"]) == []
        assert x.VDI.get_uuid(vdi)
        t.admin.expungeVirtualMachine(id=vm["id"])
        assert t.admin.listVirtualMachines(listall=True) == {}
        with pytest.raises(XenAPI.Failure):
            x.VDI.get_uuid(vdi)
    finally:
        session.xenapi.session.logout()
    assert problems([(r.command, r.params) for r in lab.request_log]) == []


def test_over_the_instance_limit_a_tenant_gets_cloudstacks_error(lab: CloudStackLab, tenant: Tenant) -> None:
    t = tenant
    t.admin.updateResourceLimit(account="customer-1", domainid=t.account["domainid"], resourcetype=0, max=1)
    t.user.deployVirtualMachine(zoneid=t.ids.zone, serviceofferingid=t.offering, templateid=t.template,
                                networkids=t.network, name="web-1")
    with pytest.raises(cs.CloudStackApiException) as over:
        t.user.deployVirtualMachine(zoneid=t.ids.zone, serviceofferingid=t.offering, templateid=t.template,
                                    networkids=t.network, name="web-2")
    domain_dbid = next(a.domain.dbid for a in lab.backend.store.all(type(lab.backend.tenants.admin))
                       if a.name == "customer-1" and a.domain is not None)
    assert over.value.error == {
        "uuidList": [], "errorcode": 535, "cserrorcode": 9999,
        "errortext": f"Maximum number of resources of type 'user_vm' for account name=customer-1 in domain "
                     f"id={domain_dbid} has been exceeded."}
    (limit,) = t.user.listResourceLimits(resourcetype=0)["resourcelimit"]
    assert (limit["max"], limit["resourcetypename"]) == (1, "user_vm")
    assert len(t.user.listVirtualMachines()["virtualmachine"]) == 1
