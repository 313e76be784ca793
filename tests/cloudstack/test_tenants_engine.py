"""The tenants layer (components.tenants.Tenants) through the real Pulumi engine, against the
emulators: a reseller, its customer with an API user, offerings, a template and limits; up again
changes nothing; a change CloudStack cannot make in place is a replace at preview; the keys stay
secret in state; and with the keys the program exported, the customer runs a VM on the pool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import XenAPI
from cs import CloudStack

from tests.cloudstack.conftest import SR_NAME, XAPI_PASSWORD
from tests.enginekit import EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PROGRAM = """
import json
import pulumi
from components.config import Tenants as TenantsConfig
from components.tenants import Tenants, TenantsArgs

cfg = pulumi.Config()
tenants = Tenants("tenants", TenantsArgs(tenants=TenantsConfig.model_validate(json.loads(cfg.require("tenants"))),
                                         zone_id=cfg.require("zoneId")))
pulumi.export("api_keys", tenants.api_keys)
pulumi.export("offerings", {n: o.id for n, o in tenants.compute_offerings.items()})
pulumi.export("templates", {n: t.id for n, t in tenants.templates.items()})
"""

TENANTS: dict[str, Any] = {
    "roles": [{"name": "Customer", "type": "User", "description": "a customer of a reseller"}],
    "computeOfferings": [
        {"name": "small", "displayText": "1 vCPU, 1 GiB", "cpus": 1, "memoryMb": 1024},
        {"name": "medium", "displayText": "2 vCPU, 4 GiB", "cpus": 2, "cpuSpeedMhz": 2000, "memoryMb": 4096},
    ],
    "diskOfferings": [{"name": "data-50", "sizeGb": 50}],
    "templates": [{"name": "debian-12", "displayText": "Debian 12", "url": "http://127.0.0.1:8000/debian-12.vhd",
                   "osType": "Debian GNU/Linux 12 (64-bit)"}],
    "domains": [{
        "name": "reseller-a", "limits": {"instances": 20, "cpus": 40},
        "accounts": [{
            "name": "customer-1", "role": "Customer",
            "owner": {"username": "alice", "firstName": "Alice", "lastName": "C", "email": "alice@c1.example"},
            "users": [{"username": "c1-api", "firstName": "API", "lastName": "Robot", "email": "api@c1.example"}],
            "limits": {"instances": 2, "cpus": 4},
        }],
    }],
}


def test_tenants_through_the_engine_and_a_vm_with_their_keys(
    tmp_path: Path, engine_bin: Path, cs_lab: Any, xapi_lab: Any
) -> None:
    admin = CloudStack(endpoint=cs_lab.endpoint, key=cs_lab.api_key, secret=cs_lab.secret_key, poll_interval=0.01,
                       job_timeout=10, fetch_result=True)
    zone_id = _build_zone(admin, xapi_lab)
    config = {"cloudstack": json.dumps({"endpoint": cs_lab.endpoint, "apiKey": cs_lab.api_key,
                                        "secretKey": cs_lab.secret_key, "pollInterval": 0.01, "jobTimeout": 60})}
    st = EngineStack.create(tmp_path, engine_bin, program=PROGRAM, secrets=config,
                            config={"tenants": json.dumps(TENANTS), "zoneId": zone_id})
    made = 1 + 1 + 2 + 1 + 1 + 1 + 1 + 1 + 2 + 2  # component, role, offerings, disk, template, domain, account,
    # user, limits
    assert st.preview().changes == {"create": made + 1}
    assert st.up().changes == {"create": made + 1}
    again = st.up()
    assert again.changes == {}, [(s.name, s.diffs) for s in again.steps if s.op != "same"]

    keys = st.outputs(show_secrets=True)["api_keys"]["reseller-a/customer-1/c1-api"]
    state = json.dumps(st.export())
    assert keys["secretKey"] not in state and cs_lab.secret_key not in state

    # CloudStack cannot change an offering's memory: a replace, known at preview
    changed = json.loads(json.dumps(TENANTS))
    changed["computeOfferings"][0]["memoryMb"] = 2048
    st.set_config("tenants", json.dumps(changed))
    preview = st.preview()
    replaced = {s.name: s.diffs for s in preview.steps if s.op == "replace"}
    assert list(replaced) == ["tenants-offering-small"] and "memory" in replaced["tenants-offering-small"]
    assert st.up().changes.get("replace") == 1

    # the customer, with the keys the program exported, runs a VM from the template with the offering
    tenant = CloudStack(endpoint=cs_lab.endpoint, key=keys["apiKey"], secret=keys["secretKey"], poll_interval=0.01,
                        job_timeout=10, fetch_result=True)
    outs = st.outputs()
    offer = admin.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingWithSourceNatService")["networkoffering"]
    network = tenant.createNetwork(name="web", displaytext="web", networkofferingid=offer[0]["id"],
                                   zoneid=zone_id)["network"]
    vm = tenant.deployVirtualMachine(zoneid=zone_id, serviceofferingid=outs["offerings"]["small"],
                                     templateid=outs["templates"]["debian-12"], networkids=network["id"],
                                     name="web-1")["virtualmachine"]
    assert (vm["state"], vm["account"], vm["domain"]) == ("Running", "customer-1", "reseller-a")
    (account,) = tenant.listAccounts()["account"]
    assert account["rolename"] == "Customer"
    session = XenAPI.Session(xapi_lab.hosts[0].url)
    session.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "test")
    try:
        x = session.xenapi
        (ref,) = x.VM.get_by_name_label(vm["instancename"])
        assert x.VM.get_power_state(ref) == "Running"
        vdi = x.VBD.get_VDI(x.VM.get_VBDs(ref)[0])
        assert x.SR.get_name_label(x.VDI.get_SR(vdi)) == SR_NAME
    finally:
        session.xenapi.session.logout()

    # the program's account limit holds (instances: 2)
    tenant.deployVirtualMachine(zoneid=zone_id, serviceofferingid=outs["offerings"]["small"],
                                templateid=outs["templates"]["debian-12"], networkids=network["id"], name="web-2")
    with pytest.raises(Exception) as over:
        tenant.deployVirtualMachine(zoneid=zone_id, serviceofferingid=outs["offerings"]["small"],
                                    templateid=outs["templates"]["debian-12"], networkids=network["id"],
                                    name="web-3")
    assert "Maximum number of resources of type 'user_vm' for account name=customer-1" in str(over.value)

    # destroy: the account goes with its VMs and network; everything the program made is gone
    assert st.destroy().changes == {"delete": made + 1}
    assert admin.listAccounts(name="customer-1", listall=True) == {}
    assert [r["name"] for r in admin.listRoles()["role"]] == ["Root Admin", "Resource Admin", "Domain Admin", "User"]
    assert admin.listTemplates(templatefilter="all") == {}
    assert admin.listServiceOfferings(name="small") == {}


def _build_zone(admin: CloudStack, xapi_lab: Any) -> str:
    """A zone as the infrastructure layer leaves it: enabled, with the pool as a cluster, its SR as
    primary storage and an NFS image store."""
    zone = admin.createZone(name="zone-1", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.2",
                            guestcidraddress="10.1.0.0/16")["zone"]
    net = admin.createPhysicalNetwork(zoneid=zone["id"], name="physnet-1", isolationmethods="VLAN",
                                      vlan="100-199")["physicalnetwork"]
    for traffic, label in (("Management", "xenbr0"), ("Guest", "cloud-guest"), ("Public", "cloud-public")):
        admin.addTrafficType(physicalnetworkid=net["id"], traffictype=traffic, xennetworklabel=label)
    nsp = admin.listNetworkServiceProviders(physicalnetworkid=net["id"], name="VirtualRouter")
    element = admin.listVirtualRouterElements(nspid=nsp["networkserviceprovider"][0]["id"])
    admin.configureVirtualRouterElement(id=element["virtualrouterelement"][0]["id"], enabled=True)
    admin.updateNetworkServiceProvider(id=nsp["networkserviceprovider"][0]["id"], state="Enabled")
    admin.updatePhysicalNetwork(id=net["id"], state="Enabled")
    pod = admin.createPod(zoneid=zone["id"], name="pod-1", gateway="10.10.0.1", netmask="255.255.255.0",
                          startip="10.10.0.100", endip="10.10.0.199")["pod"]
    cluster = admin.addCluster(zoneid=zone["id"], podid=pod["id"], clustername="pool-1", clustertype="CloudManaged",
                               hypervisor="XenServer")["cluster"][0]
    admin.addHost(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], hypervisor="XenServer",
                  url=xapi_lab.hosts[0].url, username="root", password=XAPI_PASSWORD)
    admin.createStoragePool(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], name="primary",
                            url=f"presetup://localhost/{SR_NAME}")
    admin.addImageStore(provider="NFS", name="secondary", zoneid=zone["id"], url="nfs://127.0.0.1/export/secondary")
    admin.updateZone(id=zone["id"], allocationstate="Enabled")
    return str(zone["id"])
