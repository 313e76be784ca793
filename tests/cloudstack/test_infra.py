"""PhysicalNetwork, Pod, Cluster, PrimaryStorage, ImageStore, StagingStore against the emulators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import XenAPI
from cs import CloudStack

from providers._core import Permanent, ProviderError
from providers.cloudstack.cluster import ClusterProvider
from providers.cloudstack.network import PhysicalNetworkProvider
from providers.cloudstack.pod import PodProvider
from providers.cloudstack.storage import ImageStoreProvider, PrimaryStorageProvider, StagingStoreProvider
from tests.cloudstack.choreography import choreography, commands, normalised
from tests.cloudstack.conftest import LABELS, POD, XAPI_PASSWORD


def async_call(cs_lab: Any, raw: CloudStack, command: str, **params: Any) -> None:
    """An operator's async call, its job completed by the test (nobody else polls it)."""
    answer = getattr(raw, command)(**params)
    assert "jobid" in answer
    cs_lab.jobs.advance(answer["jobid"])


# --- physical network ----------------------------------------------------------------------


def test_physical_network_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                       zone_id: str) -> None:
    nets = configured(PhysicalNetworkProvider)
    props = {"zone_id": zone_id, "name": "physnet-1", "vlan": "100-199", "traffic_labels": LABELS}

    def relabel(net_id: str) -> None:
        guest = next(t for t in raw.listTrafficTypes(physicalnetworkid=net_id)["traffictype"]
                     if t["traffictype"] == "Guest")
        async_call(cs_lab, raw, "updateTrafficType", id=guest["id"], xennetworklabel="somebody-else")

    outcome = choreography(
        nets, props,
        create_command="createPhysicalNetwork",
        update={"vlan": "100-299", "traffic_labels": {**LABELS, "Guest": "cloud-guest-2", "Storage": "cloud-storage"}},
        out_of_band=relabel,
        drifted=["traffic_labels"],
        log=cs_lab.request_log,
        delete=False,
    )
    net = raw.listPhysicalNetworks(id=outcome.id)["physicalnetwork"][0]
    assert (net["state"], net["vlan"]) == ("Enabled", "100-299")
    labels = {t["traffictype"]: t["xennetworklabel"]
              for t in raw.listTrafficTypes(physicalnetworkid=outcome.id)["traffictype"]}
    assert labels == {**LABELS, "Guest": "cloud-guest-2", "Storage": "cloud-storage"}
    vr = raw.listNetworkServiceProviders(physicalnetworkid=outcome.id, name="VirtualRouter")
    assert vr["networkserviceprovider"][0]["state"] == "Enabled"
    element = raw.listVirtualRouterElements(nspid=vr["networkserviceprovider"][0]["id"])
    assert element["virtualrouterelement"][0]["enabled"] is True

    # a traffic type dropped from the declaration is removed
    outs = nets.update(outcome.id, outcome.outputs,
                       normalised(nets, {**props, "traffic_labels": {"Management": "xenbr0", "Guest": "g"}})).outs
    assert sorted(outs["traffic_labels"]) == ["Guest", "Management"]
    nets.delete(outcome.id, outs)
    nets.delete(outcome.id, outs)
    assert raw.listPhysicalNetworks(zoneid=zone_id) == {}


def test_physical_network_create_is_undone_when_a_traffic_type_fails(
    cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str
) -> None:
    nets = configured(PhysicalNetworkProvider)
    cs_lab.faults.fail_job("addTrafficType", "Failed to add traffic type Guest", 530)
    props = {"zone_id": zone_id, "name": "physnet-1", "traffic_labels": LABELS}
    with pytest.raises(ProviderError) as e:
        nets.create(normalised(nets, props))
    assert "addTrafficType: Failed to add traffic type Guest (errorcode 530)" in str(e.value)
    assert raw.listPhysicalNetworks(zoneid=zone_id) == {}  # nothing half-built left behind
    # and the next create starts clean
    assert nets.create(normalised(nets, props)).id


# --- pod -----------------------------------------------------------------------------------------


def test_pod_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str) -> None:
    choreography(
        configured(PodProvider), {**POD, "zone_id": zone_id},
        create_command="createPod",
        update={"name": "pod-a", "netmask": "255.255.254.0"},
        out_of_band=lambda pod: raw.updatePod(id=pod, name="renamed-by-hand"),
        drifted=["name"],
        log=cs_lab.request_log,
    )


def test_pod_reserved_range_changes_through_its_own_command(cs_lab: Any, raw: CloudStack,
                                                           configured: Callable[..., Any], zone_id: str) -> None:
    """4.18's updatePod ignores startip/endip; updatePodManagementNetworkIpRange changes the range."""
    pods = configured(PodProvider)
    made = pods.create(normalised(pods, {**POD, "zone_id": zone_id}))
    wanted = normalised(pods, {**POD, "zone_id": zone_id, "end_ip": "192.168.10.180"})
    assert pods.diff(made.id, made.outs, wanted).replaces == []
    outs = pods.update(made.id, made.outs, wanted).outs
    assert outs["end_ip"] == "192.168.10.180"
    ranges = [c for c, p in ((r.command, r.params) for r in cs_lab.request_log)
              if c == "updatePodManagementNetworkIpRange" and p["newendip"] == "192.168.10.180"]
    assert ranges


# --- cluster -------------------------------------------------------------------------------------


def test_cluster_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str,
                              pod_id: str, xapi_lab: Any) -> None:
    clusters = configured(ClusterProvider)
    props = {"zone_id": zone_id, "pod_id": pod_id, "name": "pool-1", "url": xapi_lab.hosts[0].url,
             "password": XAPI_PASSWORD}
    outcome = choreography(
        clusters, props,
        create_command="addCluster",
        update={"name": "pool-one", "enabled": False},
        out_of_band=lambda c: raw.updateCluster(id=c, clustername="renamed-by-hand"),
        drifted=["name"],
        log=cs_lab.request_log,
        delete=False,
    )
    assert len(outcome.outputs["host_ids"]) == 2  # the whole XCP-ng pool came in
    hosts = set(outcome.outputs["host_ids"])

    clusters.delete(outcome.id, outcome.outputs)
    order = [(r.command, r.params.get("id")) for r in cs_lab.request_log if r.error is None
             and r.command in ("prepareHostForMaintenance", "deleteHost", "deleteCluster")]
    for host in hosts:  # each host into maintenance before it is deleted, all before the cluster
        assert order.index(("prepareHostForMaintenance", host)) < order.index(("deleteHost", host))
    assert order[-1] == ("deleteCluster", outcome.id)
    clusters.delete(outcome.id, outcome.outputs)
    assert clusters.read(outcome.id, outcome.outputs).id == ""


def test_cluster_refused_by_cloudstack_carries_its_words(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                                        zone_id: str, pod_id: str, xapi_lab: Any) -> None:
    clusters = configured(ClusterProvider)
    props = {"zone_id": zone_id, "pod_id": pod_id, "name": "pool-1", "url": xapi_lab.hosts[0].url,
             "password": "not-the-password"}
    with pytest.raises(ProviderError) as e:
        clusters.create(normalised(clusters, props))
    assert "addHost: Authentication error (errorcode 530" in str(e.value)
    assert "not-the-password" not in str(e.value)
    assert raw.listClusters(zoneid=zone_id) == {}  # the empty cluster was undone


# --- primary storage ------------------------------------------------------------------------------


def test_primary_storage_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str,
                                      pod_id: str, cluster_id: str) -> None:
    pools = configured(PrimaryStorageProvider)
    props = {"zone_id": zone_id, "pod_id": pod_id, "cluster_id": cluster_id, "name": "ceph-sr",
             "type": "NFS", "url": "nfs://10.0.0.5/primary"}
    outcome = choreography(
        pools, props,
        create_command="createStoragePool",
        update={"name": "ceph-nfs", "tags": ["ceph"]},
        out_of_band=lambda p: raw.updateStoragePool(id=p, enabled=False),
        drifted=["enabled"],
        log=cs_lab.request_log,
    )
    order = [(r.command, r.params.get("id")) for r in cs_lab.request_log if r.error is None
             and r.command in ("enableStorageMaintenance", "deleteStoragePool")]
    assert order == [("enableStorageMaintenance", outcome.id), ("deleteStoragePool", outcome.id)]


def test_rbd_on_a_xenserver_cluster_never_reaches_cloudstack(cs_lab: Any, configured: Callable[..., Any],
                                                            zone_id: str, pod_id: str, cluster_id: str) -> None:
    pools = configured(PrimaryStorageProvider)
    props = {"zone_id": zone_id, "pod_id": pod_id, "cluster_id": cluster_id, "name": "rbd",
             "type": "RBD", "url": "rbd://admin@10.0.0.7/rbd"}
    assert [f.property for f in pools.check({}, props).failures] == ["type"]
    # declared as KVM to slip past check: the cluster's real hypervisor is looked up first
    with pytest.raises(ProviderError) as e:
        pools.create(normalised(pools, {**props, "hypervisor": "KVM"}))
    assert "runs XenServer" in str(e.value)
    assert commands(cs_lab.request_log, "createStoragePool") == 0


# --- secondary storage ----------------------------------------------------------------------------


def test_s3_image_store_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any]) -> None:
    stores = configured(ImageStoreProvider)
    # a zone given for S3 is not sent: CloudStack's S3 stores are region-wide
    props = {"kind": "S3", "name": "rgw", "bucket": "cloudstack-secondary", "endpoint": "127.0.0.1:7480",
             "access_key": "RGWACCESS", "secret_key": "rgw-secret", "zone_id": "ignored-for-s3"}
    outcome = choreography(
        stores, props,
        create_command="addImageStore",
        update={"read_only": True},
        out_of_band=lambda s: raw.updateImageStore(id=s, readonly=False),
        drifted=["read_only"],
        log=cs_lab.request_log,
        delete=False,
    )
    assert outcome.outputs["secret_key"] == "rgw-secret"  # kept from the input (secret), never read back
    store = raw.listImageStores(id=outcome.id)["imagestore"][0]
    assert store["providername"] == "S3"
    stores.delete(outcome.id, outcome.outputs)
    stores.delete(outcome.id, outcome.outputs)


def test_nfs_image_store_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                      zone_id: str) -> None:
    choreography(
        configured(ImageStoreProvider),
        {"kind": "NFS", "name": "nfs-secondary", "zone_id": zone_id, "url": "nfs://10.0.0.5/secondary"},
        create_command="addImageStore",
        update={"read_only": True},
        out_of_band=lambda s: raw.updateImageStore(id=s, readonly=False),
        drifted=["read_only"],
        log=cs_lab.request_log,
    )


def test_staging_store_lifecycle(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                 zone_id: str) -> None:
    """No update: CloudStack changes nothing of a staging store in place (every change is a replace)."""
    stores = configured(StagingStoreProvider)
    props = normalised(stores, {"zone_id": zone_id, "url": "nfs://10.0.0.5/staging"})
    made = stores.create(props)
    assert stores.create(props).id == made.id  # adopted by URL, not duplicated
    assert commands(cs_lab.request_log, "createSecondaryStagingStore") == 1
    read = stores.read(made.id, made.outs)
    assert read.id == made.id and read.inputs == props
    assert stores.diff(made.id, made.outs, {**props, "url": "nfs://10.0.0.6/staging"}).replaces == ["url"]
    raw.deleteSecondaryStagingStore(id=made.id)  # removed out of band: reads as gone
    assert stores.read(made.id, made.outs).id == ""
    again = stores.create(props)
    stores.delete(again.id, again.outs)
    stores.delete(again.id, again.outs)
    with pytest.raises(Permanent):
        stores.update(again.id, again.outs, props)


def test_cluster_follows_the_pools_membership(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                              zone_id: str, pod_id: str) -> None:
    """A host that joins the XCP-ng pool joins the cluster; one that leaves is removed from it."""
    from lab.xapi import XapiLab

    xapi = XapiLab.start(hosts=["xcp-a", "xcp-b", "xcp-c"], password=XAPI_PASSWORD)
    try:
        def join(i: int) -> None:
            s = XenAPI.Session(xapi.hosts[i].url)
            s.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "tests")
            s.xenapi.pool.join(xapi.hosts[0].address, "root", XAPI_PASSWORD)

        join(1)
        addresses = [h.address for h in xapi.hosts]
        clusters = configured(ClusterProvider)
        props = {"zone_id": zone_id, "pod_id": pod_id, "name": "pool-m", "url": xapi.hosts[0].url,
                 "password": XAPI_PASSWORD, "members": addresses[:2]}
        created = clusters.create(clusters.check({}, props).inputs)
        assert created.outs["members"] == sorted(addresses[:2])
        assert len(created.outs["host_ids"]) == 2

        join(2)
        grown = clusters.check({}, {**props, "members": addresses}).inputs
        assert clusters.diff(created.id, created.outs, grown).changes is True
        updated = clusters.update(created.id, created.outs, grown).outs
        assert updated["members"] == sorted(addresses)
        assert len(updated["host_ids"]) == 3
        assert clusters.diff(created.id, updated, grown).changes is False

        shrunk = clusters.check({}, {**props, "members": addresses[:2]}).inputs
        left = clusters.update(created.id, updated, shrunk).outs
        assert left["members"] == sorted(addresses[:2])
        gone = set(updated["host_ids"]) - set(left["host_ids"])
        assert len(gone) == 1
        [host] = gone
        order = [(r.command, r.params.get("id")) for r in cs_lab.request_log if r.error is None
                 and r.command in ("prepareHostForMaintenance", "deleteHost")]
        assert order.index(("prepareHostForMaintenance", host)) < order.index(("deleteHost", host))
        clusters.delete(created.id, left)
    finally:
        xapi.stop()
