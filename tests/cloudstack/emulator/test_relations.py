"""Relations between objects, refused as the real management server refuses them."""

from __future__ import annotations

from typing import Any

import cs
import pytest

from lab.cloudstack import CloudStackLab
from tests.cloudstack.emulator.conftest import SR_NAME, XAPI_PASSWORD, Pool, build_zone, s3_details

ZONE = {"name": "zone-1", "networktype": "Advanced", "dns1": "8.8.8.8", "internaldns1": "10.10.0.2"}


def refused(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(cs.CloudStackApiException) as e:
        call(**params)
    error = e.value.error
    assert isinstance(error, dict)
    return error


def test_zone_with_a_pod_cannot_be_deleted(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    pod = client.createPod(zoneid=zone["id"], name="p", gateway="10.10.0.1", netmask="255.255.255.0",
                           startip="10.10.0.10")["pod"]
    error = refused(client.deleteZone, id=zone["id"])
    assert error == {"uuidList": [], "errorcode": 530, "cserrorcode": 4250,
                     "errortext": "The zone cannot be deleted because there are pods in this zone."}
    client.deletePod(id=pod["id"])
    client.deleteZone(id=zone["id"])


def test_zone_enable_needs_management_and_public_traffic(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    error = refused(client.updateZone, id=zone["id"], allocationstate="Enabled")
    assert error["errortext"] == ("Cannot enable this Zone since: Unable to find the default physical network "
                                  "with traffic=Management in the specified zone id")
    net = client.createPhysicalNetwork(zoneid=zone["id"], name="n")["physicalnetwork"]
    client.addTrafficType(physicalnetworkid=net["id"], traffictype="Management", xennetworklabel="mgmt")
    error = refused(client.updateZone, id=zone["id"], allocationstate="Enabled")
    assert "traffic=Public" in error["errortext"]
    client.addTrafficType(physicalnetworkid=net["id"], traffictype="Public", xennetworklabel="pub")
    assert client.updateZone(id=zone["id"], allocationstate="Enabled")["zone"]["allocationstate"] == "Enabled"
    # No Storage traffic was declared: the server adds one like Management's.
    types = {t["traffictype"]: t for t in client.listTrafficTypes(physicalnetworkid=net["id"])["traffictype"]}
    assert types["Storage"]["xennetworklabel"] == "mgmt"
    error = refused(client.createPhysicalNetwork, zoneid=zone["id"], name="n2")
    assert error["errorcode"] == 531  # PermissionDeniedException: zone is enabled


def test_traffic_type_once_per_zone(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    a = client.createPhysicalNetwork(zoneid=zone["id"], name="a", tags="a")["physicalnetwork"]
    b = client.createPhysicalNetwork(zoneid=zone["id"], name="b", tags="b")["physicalnetwork"]
    client.addTrafficType(physicalnetworkid=a["id"], traffictype="Management")
    error = refused(client.addTrafficType, physicalnetworkid=b["id"], traffictype="Management")
    assert error["errortext"] == ("Fail to add the traffic type to physical network because Zone already has a "
                                  "physical network with this traffic type: Management")
    error = refused(client.addTrafficType, physicalnetworkid=a["id"], traffictype="Management")
    assert error["errortext"] == "This physical network already supports the traffic type: Management"


def test_router_provider_needs_its_element_enabled(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    net = client.createPhysicalNetwork(zoneid=zone["id"], name="n")["physicalnetwork"]
    nsp = client.listNetworkServiceProviders(physicalnetworkid=net["id"], name="VirtualRouter")
    error = refused(client.updateNetworkServiceProvider, id=nsp["networkserviceprovider"][0]["id"], state="Enabled")
    # an async job failure: cs reports the job's result
    assert error == {"errorcode": 530, "errortext": "Provider is not ready, cannot Enable the provider, please "
                                                    "configure the provider first"}


def test_pod_range_checks(client: cs.CloudStack) -> None:
    zone = client.createZone(**ZONE)["zone"]
    base = {"zoneid": zone["id"], "gateway": "10.10.0.1", "netmask": "255.255.255.0"}
    assert refused(client.createPod, name="p", **base, startip="10.20.0.5")["errortext"] == (
        "The start address of the IP range is not in the CIDR subnet.")
    assert refused(client.createPod, name="p", **base, startip="10.10.0.200", endip="10.10.0.100")["errortext"] == (
        "The start IP address must have a lower value than the end IP address.")
    assert refused(client.createPod, name="p", **base)["errortext"] == "Start ip is required parameter"
    assert refused(client.createPod, name="p", zoneid=zone["id"], gateway="10.10.0.1", netmask="255.0.255.0",
                   startip="10.10.0.5")["errortext"] == "The netmask is invalid"


def test_pod_update_ignores_the_ip_range(client: cs.CloudStack) -> None:
    """4.18's editPod(cmd) passes null start/end ip: a new range needs createManagementNetworkIpRange."""
    zone = client.createZone(**ZONE)["zone"]
    pod = client.createPod(zoneid=zone["id"], name="p", gateway="10.10.0.1", netmask="255.255.255.0",
                           startip="10.10.0.10", endip="10.10.0.20")["pod"]
    updated = client.updatePod(id=pod["id"], startip="10.10.0.30", endip="10.10.0.40")["pod"]
    assert (updated["startip"], updated["endip"]) == (["10.10.0.10"], ["10.10.0.20"])


def test_cloud_managed_cluster_starts_empty_and_add_host_discovers_the_pool(
    client: cs.CloudStack, pool: Pool, lab: CloudStackLab
) -> None:
    ids = build_zone(client)  # no pool: addCluster (CloudManaged) alone
    assert client.listHosts() == {}
    # addHost on the pool MEMBER: the discoverer follows HOST_IS_SLAVE to the master, adds every host
    added = client.addHost(zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, hypervisor="XenServer",
                           url=pool.member.url, username="root", password=XAPI_PASSWORD)
    assert added["count"] == 2
    xapi_methods = [c.method for c in pool.xapi.request_log]
    assert "session.login_with_password" in xapi_methods and "host.get_all_records" in xapi_methods
    # Adding the pool again finds only known hosts.
    error = refused(client.addHost, zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, hypervisor="XenServer",
                    url=pool.master.url, username="root", password=XAPI_PASSWORD)
    assert error["errortext"] == "Failed to add host"


def test_external_managed_cluster_is_discovered_at_add_cluster(client: cs.CloudStack, pool: Pool) -> None:
    ids = build_zone(client)
    cluster = client.addCluster(zoneid=ids.zone, podid=ids.pod, clustername="ext", clustertype="ExternalManaged",
                                hypervisor="XenServer", url=pool.master.url, username="root",
                                password=XAPI_PASSWORD)["cluster"][0]
    assert client.listHosts(clusterid=cluster["id"])["count"] == 2


def test_discovery_failures(client: cs.CloudStack, pool: Pool) -> None:
    ids = build_zone(client)
    add = {"zoneid": ids.zone, "podid": ids.pod, "clusterid": ids.cluster, "hypervisor": "XenServer",
           "username": "root"}
    assert refused(client.addHost, **add, url=pool.master.url, password="wrong") == {
        "uuidList": [], "errorcode": 530, "cserrorcode": 9999, "errortext": "Authentication error"}
    assert refused(client.addHost, **add, url="http://127.0.0.1:9/", password="x")["errortext"] == (
        "Unable to add the host: Cannot find the server resources at http://127.0.0.1:9/")
    error = refused(client.addCluster, zoneid=ids.zone, podid=ids.pod, clustername="ext", hypervisor="XenServer",
                    clustertype="ExternalManaged", url="http://127.0.0.1:9/", username="root", password="x")
    assert error["errortext"] == "Unable to add the external cluster"
    assert [c["name"] for c in client.listClusters()["cluster"]] == ["cluster-a"]  # the failed one is gone


def test_cluster_with_hosts_and_host_outside_maintenance(client: cs.CloudStack, pool: Pool,
                                                         lab: CloudStackLab) -> None:
    ids = build_zone(client, pool)
    cluster_dbid = lab.backend.compute.cluster(ids.cluster).dbid
    assert refused(client.deleteCluster, id=ids.cluster)["errortext"] == (
        f"Cluster: {cluster_dbid} cannot be removed. Cluster still has hosts")
    a, b = client.listHosts()["host"]
    assert refused(client.deleteHost, id=a["id"])["errortext"] == (
        f"Host {a['id']} cannot be deleted as it is not in maintenance mode. Either put the host into maintenance "
        "or perform a forced deletion.")
    lab.jobs.settle_reads = 1  # the host stays in PrepareForMaintenance for one more read
    client.prepareHostForMaintenance(id=a["id"])
    error = refused(client.prepareHostForMaintenance, id=b["id"])
    assert error["errortext"].startswith("There are other servers attempting migrations for maintenance.")
    assert client.listHosts(id=a["id"])["host"][0]["resourcestate"] == "PrepareForMaintenance"
    assert client.listHosts(id=a["id"])["host"][0]["resourcestate"] == "Maintenance"
    client.deleteHost(id=a["id"])
    client.deleteHost(id=b["id"], forced=True)
    client.deleteCluster(id=ids.cluster)


def test_primary_storage_rules(client: cs.CloudStack, pool: Pool, lab: CloudStackLab) -> None:
    ids = build_zone(client)
    where = {"zoneid": ids.zone, "podid": ids.pod, "clusterid": ids.cluster}
    error = refused(client.createStoragePool, **where, name="p", url=f"presetup://localhost/{SR_NAME}")
    assert error["errortext"].startswith("Failed to add data store: No host up to associate a storage pool")
    client.addHost(**{k: v for k, v in where.items()}, hypervisor="XenServer", url=pool.master.url,
                   username="root", password=XAPI_PASSWORD)
    error = refused(client.createStoragePool, **where, name="p", url="presetup://localhost/no-such-sr")
    assert error["errortext"].startswith("Failed to add data store: Can not see storage pool: no-such-sr")
    error = refused(client.createStoragePool, **where, name="r", url="rbd://admin:secret@10.0.0.9/rbd")
    assert error["errortext"].endswith("due to The pool type: RBD is not supported.")
    error = refused(client.createStoragePool, zoneid=ids.zone, name="z", url="nfs://10.0.0.5/x", scope="zone",
                    hypervisor="XenServer")
    assert error["errortext"] == "zone wide storage pool is not supported for hypervisor type XenServer"
    primary = client.createStoragePool(**where, name="p", url=f"presetup://localhost/{SR_NAME}")["storagepool"]
    dbid = lab.backend.storage.storage_pool(primary["id"]).dbid
    assert refused(client.deleteStoragePool, id=primary["id"])["errortext"] == (
        f"Unable to delete storage due to it is not in Maintenance state, id: {dbid}")
    assert refused(client.deleteCluster, id=ids.cluster)["errorcode"] == 530
    client.enableStorageMaintenance(id=primary["id"])
    assert client.cancelStorageMaintenance(id=primary["id"])["storagepool"]["state"] == "Up"


def test_image_store_rules(client: cs.CloudStack, lab: CloudStackLab) -> None:
    zone = client.createZone(**ZONE)["zone"]
    error = refused(client.addImageStore, provider="S3", name="s3", zoneid=zone["id"], details=s3_details())
    assert error["errortext"] == "Image store provider S3 does not support scope ZONE"
    assert refused(client.addImageStore, provider="S3", name="s3")["errortext"] == "Failed to add data store"
    client.addImageStore(provider="S3", name="s3", details=s3_details())
    error = refused(client.addImageStore, provider="NFS", zoneid=zone["id"], url="nfs://10.0.0.7/export/sec")
    assert error["errortext"] == "You can only add new image stores from the same provider S3 already added"
    dbid = lab.backend.zones.zone(zone["id"]).dbid
    assert lab.problems() == [f"zone zone-1: Can't find staging storage in zone {dbid}"]
    client.createSecondaryStagingStore(zoneid=zone["id"], url="nfs://127.0.0.1/export/staging")
    assert lab.problems() == []
    error = refused(client.createSecondaryStagingStore, zoneid=zone["id"], url="nfs://127.0.0.1/x", scope="region")
    assert error["errortext"] == "Only zone wide cache storage is supported"


def test_s3_details_as_a_plain_dict_lose_the_keys(client: cs.CloudStack, lab: CloudStackLab) -> None:
    """`cs` sends a dict as details[0].accesskey=...; the server reads only details[i].key/.value,
    so the store is added without keys and fails later, as on a real server."""
    client.addImageStore(provider="S3", name="s3",
                         details={"accesskey": "AK", "secretkey": "SK", "endpoint": "e", "bucket": "b"})
    assert lab.problems() == ["image store s3: S3 details missing accesskey, secretkey, endpoint, bucket"]


def test_update_host_password_is_per_cluster_on_xenserver(client: cs.CloudStack, pool: Pool,
                                                           lab: CloudStackLab) -> None:
    ids = build_zone(client, pool)
    host = client.listHosts()["host"][0]
    error = refused(client.updateHostPassword, hostid=host["id"], username="root", password="new")
    assert error["errortext"].startswith("Single host update is not supported by XenServer hypervisors.")
    client.updateHostPassword(clusterid=ids.cluster, username="root", password="rotated")
    assert lab.backend.compute.cluster(ids.cluster).xapi is not None
    # CloudStack stores what it is told: the next XAPI login (PreSetup's SR check) uses it and fails.
    error = refused(client.createStoragePool, zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, name="p",
                    url=f"presetup://localhost/{SR_NAME}")
    assert error["errortext"] == "Failed to add data store: Authentication error"


def test_pod_with_a_cluster_cannot_be_deleted(client: cs.CloudStack) -> None:
    ids = build_zone(client)
    assert refused(client.deletePod, id=ids.pod)["errortext"] == (
        "The pod cannot be deleted because there are clusters in this pod.")
    client.deleteCluster(id=ids.cluster)
    client.deletePod(id=ids.pod)
