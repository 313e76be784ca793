"""The stock `cs` client completes create, read, update and delete on each kind of object."""

from __future__ import annotations

import cs
import pytest

from tests.cloudstack.emulator.conftest import SR_NAME, Pool, build_zone, s3_details

ZONE = {"name": "zone-1", "networktype": "Advanced", "dns1": "8.8.8.8", "internaldns1": "10.10.0.2"}


def test_zone(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE, guestcidraddress="10.1.0.0/16")["zone"]
    assert (zone["networktype"], zone["allocationstate"], zone["guestcidraddress"]) == (
        "Advanced", "Disabled", "10.1.0.0/16")
    updated = client.updateZone(id=zone["id"], dns2="8.8.4.4", name="zone-renamed")["zone"]
    assert (updated["dns2"], updated["name"]) == ("8.8.4.4", "zone-renamed")
    assert client.listZones(name="zone-renamed")["zone"][0]["id"] == zone["id"]
    client.deleteZone(id=zone["id"])
    assert client.listZones() == {}


def test_physical_network_and_traffic_types(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    net = client.createPhysicalNetwork(zoneid=zone["id"], name="physnet-1", isolationmethods="VLAN",
                                       vlan="100-199")["physicalnetwork"]
    assert (net["state"], net["isolationmethods"], net["vlan"]) == ("Disabled", "VLAN", "100-199")
    traffic = client.addTrafficType(physicalnetworkid=net["id"], traffictype="Guest",
                                    xennetworklabel="guest")["traffictype"]
    assert traffic["xennetworklabel"] == "guest"
    relabelled = client.updateTrafficType(id=traffic["id"], xennetworklabel="guest-2")["traffictype"]
    assert relabelled["xennetworklabel"] == "guest-2"
    listed = client.listTrafficTypes(physicalnetworkid=net["id"])
    assert [t["traffictype"] for t in listed["traffictype"]] == ["Guest"]
    client.updatePhysicalNetwork(id=net["id"], vlan="100-299")
    assert client.listPhysicalNetworks(id=net["id"])["physicalnetwork"][0]["vlan"] == "100-299"
    client.deleteTrafficType(id=traffic["id"])
    assert client.listTrafficTypes(physicalnetworkid=net["id"]) == {}
    client.deletePhysicalNetwork(id=net["id"])
    assert client.listPhysicalNetworks() == {}
    assert client.listNetworkServiceProviders() == {}  # the default providers went with it


def test_default_providers_and_router_element(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    net = client.createPhysicalNetwork(zoneid=zone["id"], name="physnet-1")["physicalnetwork"]
    providers = {p["name"]: p["state"] for p in
                 client.listNetworkServiceProviders(physicalnetworkid=net["id"])["networkserviceprovider"]}
    assert providers["VirtualRouter"] == "Disabled" and providers["ConfigDrive"] == "Enabled"
    assert {"VpcVirtualRouter", "InternalLbVm", "SecurityGroupProvider"} <= set(providers)
    vr = client.listNetworkServiceProviders(physicalnetworkid=net["id"], name="VirtualRouter")
    element = client.listVirtualRouterElements(nspid=vr["networkserviceprovider"][0]["id"])["virtualrouterelement"]
    assert len(element) == 1 and element[0]["enabled"] is False
    assert client.configureVirtualRouterElement(id=element[0]["id"], enabled=True)["virtualrouterelement"]["enabled"]
    nsp = client.updateNetworkServiceProvider(id=vr["networkserviceprovider"][0]["id"], state="Enabled")
    assert nsp["networkserviceprovider"]["state"] == "Enabled"


def test_pod(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    pod = client.createPod(zoneid=zone["id"], name="pod-1", gateway="10.10.0.1", netmask="255.255.255.0",
                           startip="10.10.0.100", endip="10.10.0.199")["pod"]
    assert (pod["startip"], pod["endip"], pod["allocationstate"]) == (["10.10.0.100"], ["10.10.0.199"], "Enabled")
    updated = client.updatePod(id=pod["id"], name="pod-one", allocationstate="Disabled")["pod"]
    assert (updated["name"], updated["allocationstate"]) == ("pod-one", "Disabled")
    assert client.listPods(zoneid=zone["id"])["count"] == 1
    client.deletePod(id=pod["id"])
    assert client.listPods() == {}


def test_cluster_hosts_and_primary_storage(client: cs.CloudStack, pool: Pool) -> None:
    ids = build_zone(client, pool)
    hosts = client.listHosts(clusterid=ids.cluster)["host"]
    assert sorted(h["name"] for h in hosts) == ["xcp-01", "xcp-02"]
    assert all(h["state"] == "Up" and h["resourcestate"] == "Enabled" and h["hypervisor"] == "XenServer"
               for h in hosts)
    cluster = client.updateCluster(id=ids.cluster, clustername="cluster-b", allocationstate="Disabled")["cluster"]
    assert (cluster["name"], cluster["allocationstate"]) == ("cluster-b", "Disabled")
    primary = client.createStoragePool(zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, name="primary",
                                       url=f"presetup://localhost/{SR_NAME}", tags="fast")["storagepool"]
    assert (primary["id"], primary["type"], primary["scope"], primary["state"]) == (
        SR_NAME, "PreSetup", "CLUSTER", "Up")  # a PreSetup pool's uuid is the SR name, as in CloudStack
    assert client.updateStoragePool(id=primary["id"], tags="fast,ssd")["storagepool"]["tags"] == "fast,ssd"
    nfs = client.createStoragePool(zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, name="nfs",
                                   url="nfs://10.0.0.5/export/primary")["storagepool"]
    assert nfs["type"] == "NetworkFilesystem" and nfs["ipaddress"] == "10.0.0.5"
    iscsi = client.createStoragePool(zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, name="iscsi",
                                     url="iscsi://10.0.0.6/iqn.2024-01.lab:target/0")["storagepool"]
    assert iscsi["type"] == "IscsiLUN"
    for pool_id in (primary["id"], nfs["id"], iscsi["id"]):
        assert client.enableStorageMaintenance(id=pool_id)["storagepool"]["state"] == "Maintenance"
        client.deleteStoragePool(id=pool_id)
    for host in hosts:
        client.prepareHostForMaintenance(id=host["id"])
        assert client.listHosts(id=host["id"])["host"][0]["resourcestate"] == "Maintenance"
        client.deleteHost(id=host["id"])
    client.deleteCluster(id=ids.cluster)
    assert client.listClusters() == {} and client.listHosts() == {} and client.listStoragePools() == {}


@pytest.mark.parametrize("via", ["addImageStore", "addImageStoreS3"])
def test_s3_image_store_and_staging_store(client: cs.CloudStack, via: str) -> None:
    zone = client.createZone(**ZONE)["zone"]
    if via == "addImageStore":
        store = client.addImageStore(provider="S3", name="s3", details=s3_details(usehttps="true"))["imagestore"]
        assert store["protocol"] == "https"
    else:
        store = client.addImageStoreS3(accesskey="AK", secretkey="SK", endpoint="127.0.0.1:17480",
                                       bucket="secondary")["imagestore"]
    assert (store["providername"], store["scope"]) == ("S3", "REGION")
    assert "secretkey" not in str(store) and "SK" not in str(store)  # keys are never answered
    readonly = client.updateImageStore(id=store["id"], readonly=True)["imagestore"]
    assert readonly["readonly"] is True
    staging = client.createSecondaryStagingStore(zoneid=zone["id"], url="nfs://127.0.0.1/export/staging")
    staging_id = staging["secondarystorage"]["id"]
    assert client.listSecondaryStagingStores(zoneid=zone["id"])["imagestore"][0]["id"] == staging_id
    assert client.listImageStores()["imagestore"][0]["id"] == store["id"]
    client.deleteSecondaryStagingStore(id=staging_id)
    client.deleteImageStore(id=store["id"])
    assert client.listImageStores() == {} and client.listSecondaryStagingStores() == {}


def test_nfs_image_store(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    store = client.addImageStore(provider="NFS", zoneid=zone["id"], url="nfs://10.0.0.7/export/secondary")
    assert (store["imagestore"]["scope"], store["imagestore"]["zoneid"]) == ("ZONE", zone["id"])
    client.deleteImageStore(id=store["imagestore"]["id"])


def test_pod_management_ip_ranges(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    pod = client.createPod(zoneid=zone["id"], name="pod-1", gateway="10.10.0.1", netmask="255.255.255.0",
                           startip="10.10.0.100", endip="10.10.0.149")["pod"]
    grown = client.createManagementNetworkIpRange(podid=pod["id"], gateway="10.10.0.1", netmask="255.255.255.0",
                                                  startip="10.10.0.150", endip="10.10.0.160")["pod"]
    assert grown["startip"] == ["10.10.0.100", "10.10.0.150"]
    client.updatePodManagementNetworkIpRange(podid=pod["id"], currentstartip="10.10.0.150",
                                             currentendip="10.10.0.160", newendip="10.10.0.170")
    assert client.listPods(id=pod["id"])["pod"][0]["endip"] == ["10.10.0.149", "10.10.0.170"]
    client.deleteManagementNetworkIpRange(podid=pod["id"], startip="10.10.0.150", endip="10.10.0.170",
                                          vlan="untagged")
    assert client.listPods(id=pod["id"])["pod"][0]["endip"] == ["10.10.0.149"]
    with pytest.raises(cs.CloudStackApiException) as e:
        client.createManagementNetworkIpRange(podid=pod["id"], gateway="10.10.0.1", netmask="255.255.255.0",
                                              startip="10.10.0.120", endip="10.10.0.130")
    assert e.value.error["errortext"] == (
        "The new range overlaps with existing range. Please add a mutually exclusive range.")


def test_service_provider_and_router_element_lifecycle(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    net = client.createPhysicalNetwork(zoneid=zone["id"], name="physnet-1")["physicalnetwork"]
    vr = client.listNetworkServiceProviders(physicalnetworkid=net["id"], name="VirtualRouter")
    nsp_id = vr["networkserviceprovider"][0]["id"]
    client.deleteNetworkServiceProvider(id=nsp_id)
    assert client.listVirtualRouterElements() != {}  # the VPC router's element remains
    nsp = client.addNetworkServiceProvider(physicalnetworkid=net["id"], name="VirtualRouter")["networkserviceprovider"]
    assert (nsp["name"], nsp["state"]) == ("VirtualRouter", "Disabled")
    element = client.createVirtualRouterElement(nspid=nsp["id"])["virtualrouterelement"]
    assert (element["nspid"], element["enabled"]) == (nsp["id"], False)
    with pytest.raises(cs.CloudStackApiException) as e:
        client.addNetworkServiceProvider(physicalnetworkid=net["id"], name="VirtualRouter")
    assert "provider already exists on physical network" in e.value.error["errortext"]


def test_host_maintenance_can_be_cancelled(client: cs.CloudStack, pool: Pool) -> None:
    build_zone(client, pool)
    host = client.listHosts()["host"][0]
    client.prepareHostForMaintenance(id=host["id"])
    assert client.listHosts(id=host["id"])["host"][0]["resourcestate"] == "Maintenance"
    assert client.cancelHostMaintenance(id=host["id"])["host"]["resourcestate"] == "Enabled"
    assert client.updateHost(id=host["id"], allocationstate="Disable")["host"]["resourcestate"] == "Disabled"
