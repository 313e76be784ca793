"""Issue 5: what the provider sends holds only commands and parameters CloudStack 4.18 has.

A whole zone is built, changed and torn down through the providers; the emulator's request log
is then checked against listApis 4.18, and must cover every command the provider can send on
these paths. (Every other test's log is checked the same way by the `cs_lab` fixture.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from providers._core import Permanent
from providers.cloudstack.cluster import ClusterProvider
from providers.cloudstack.globalsettings import GlobalSettingsProvider
from providers.cloudstack.ipranges import PublicIpRangeProvider, StorageNetworkIpRangeProvider
from providers.cloudstack.management import ManagementServerProvider
from providers.cloudstack.network import PhysicalNetworkProvider
from providers.cloudstack.pod import PodProvider
from providers.cloudstack.readiness import NetworkServiceProviderProvider, ZoneReadinessProvider
from providers.cloudstack.storage import ImageStoreProvider, PrimaryStorageProvider, StagingStoreProvider
from providers.cloudstack.zone import ZoneEnablementProvider, ZoneProvider
from tests.cloudstack.apispec import all_problems, problems
from tests.cloudstack.choreography import normalised
from tests.cloudstack.conftest import LABELS, POD, SR_NAME, XAPI_PASSWORD, ZONE
from tests.cloudstack.test_errors import CALL, SOURCE, used_commands

# Sent only when CloudStack's state is unusual (a provider without its virtual router element).
RARE = {"createVirtualRouterElement"}
# The tenant layer's commands are sent by its own tests (tests/cloudstack/test_tenants*.py).
TENANT_MODULES = ("tenants.py", "offerings.py", "templates.py")
TENANT_ONLY = {name for m in TENANT_MODULES for _, name, _ in CALL.findall((SOURCE / m).read_text())}


def test_a_whole_zone_sends_only_what_cloudstack_418_takes(cs_lab: Any, configured: Callable[..., Any],
                                                            xapi_lab: Any) -> None:
    kinds = (ZoneProvider, PhysicalNetworkProvider, PodProvider, ClusterProvider, PrimaryStorageProvider,
             StagingStoreProvider, ImageStoreProvider, ZoneEnablementProvider, NetworkServiceProviderProvider,
             StorageNetworkIpRangeProvider, GlobalSettingsProvider, ZoneReadinessProvider, PublicIpRangeProvider)
    cs_lab.backend.systemvms.boot_seconds = 0
    p: dict[type, Any] = {cls: configured(cls) for cls in kinds}
    made: list[tuple[Any, Any]] = []

    def create(cls: type, props: dict[str, Any]) -> Any:
        result = p[cls].create(normalised(p[cls], props))
        made.append((p[cls], result))
        return result

    zone = create(ZoneProvider, ZONE)
    net = create(PhysicalNetworkProvider, {"zone_id": zone.id, "name": "physnet-1", "vlan": "100-199",
                                           "traffic_labels": {**LABELS, "Storage": "cloud-storage"}})
    pod = create(PodProvider, {**POD, "zone_id": zone.id})
    cluster_props = {"zone_id": zone.id, "pod_id": pod.id, "name": "pool-1", "url": xapi_lab.hosts[0].url,
                     "password": XAPI_PASSWORD}
    cluster = create(ClusterProvider, cluster_props)
    primary_props = {"zone_id": zone.id, "pod_id": pod.id, "cluster_id": cluster.id,
                                    "name": SR_NAME, "type": "PreSetup", "url": f"presetup://localhost/{SR_NAME}"}
    primary = create(PrimaryStorageProvider, primary_props)
    create(StagingStoreProvider, {"zone_id": zone.id, "url": "nfs://10.0.0.5/staging"})
    s3_props = {"kind": "S3", "name": "rgw", "bucket": "b", "endpoint": "127.0.0.1:7480", "access_key": "AK",
                "secret_key": "SK"}
    images = create(ImageStoreProvider, s3_props)
    create(NetworkServiceProviderProvider, {"physical_network_id": net.id, "name": "InternalLbVm"})
    storage_range = {"pod_id": pod.id, "gateway": "10.20.0.1", "netmask": "255.255.255.0", "start_ip": "10.20.0.10",
                     "end_ip": "10.20.0.20"}
    storage_ips = create(StorageNetworkIpRangeProvider, storage_range)
    ranges = p[StorageNetworkIpRangeProvider]  # changed while the secondary storage VM holds none of it
    ranges.update(storage_ips.id, storage_ips.outs, normalised(ranges, {**storage_range, "end_ip": "10.20.0.30"}))
    settings = create(GlobalSettingsProvider, {"zone_id": zone.id, "values": {"expunge.delay": "600"}})
    enabled = create(ZoneEnablementProvider, {"zone_id": zone.id})
    ready = p[ZoneReadinessProvider]
    with pytest.raises(Permanent):  # no public range yet
        ready.create(normalised(ready, {"zone_id": zone.id, "timeout": 0.01}))
    public_props = {"zone_id": zone.id, "gateway": "192.0.2.1", "netmask": "255.255.255.0",
                    "start_ip": "192.0.2.10", "end_ip": "192.0.2.20"}
    public = create(PublicIpRangeProvider, public_props)
    create(ZoneReadinessProvider, {"zone_id": zone.id})

    # the in-place changes
    nets, clusters, pods = p[PhysicalNetworkProvider], p[ClusterProvider], p[PodProvider]
    nets.update(net.id, net.outs, normalised(nets, {"zone_id": zone.id, "name": "physnet-1", "vlan": "100-299",
                                                    "traffic_labels": {**LABELS, "Guest": "g2"},
                                                    "virtual_router_enabled": False, "enabled": False}))
    clusters.update(cluster.id, cluster.outs, normalised(clusters, {**cluster_props, "name": "pool-one",
                                                                    "enabled": False}))
    new_password = {**cluster_props, "password": XAPI_PASSWORD}
    clusters.update(cluster.id, {**cluster.outs, "password": "old"}, normalised(clusters, new_password))
    pods.update(pod.id, pod.outs, normalised(pods, {**POD, "zone_id": zone.id, "name": "pod-a",
                                                    "end_ip": "192.168.10.160"}))
    pools = p[PrimaryStorageProvider]
    pools.update(primary.id, primary.outs, normalised(pools, {**primary_props, "tags": ["ceph"]}))
    stores = p[ImageStoreProvider]
    stores.update(images.id, images.outs, normalised(stores, {**s3_props, "read_only": True}))
    publics = p[PublicIpRangeProvider]
    publics.update(public.id, public.outs, normalised(publics, {**public_props, "end_ip": "192.0.2.30"}))
    gs = p[GlobalSettingsProvider]
    gs.update(settings.id, settings.outs, normalised(gs, {"zone_id": zone.id,
                                                          "values": {"cpu.overprovisioning.factor": "2.0"}}))
    # with the zone disabled again, a traffic type is dropped
    p[ZoneEnablementProvider].delete(enabled.id, enabled.outs)
    net_outs = nets.read(net.id, net.outs).outs
    nets.update(net.id, net_outs, normalised(nets, {"zone_id": zone.id, "name": "physnet-1",
                                                    "traffic_labels": {"Management": "xenbr0", "Guest": "g2"}}))

    for provider, result in reversed(made):
        provider.delete(result.id, result.outs)

    # last, as it replaces the admin's keys: day 0 of the management server
    ms = ManagementServerProvider()
    ms_props = ms.check({}, {"endpoint": cs_lab.endpoint, "password": "password", "new_password": "n3w-admin-pw"})
    ms_made = ms.create(dict(ms_props.inputs))
    ms.read(ms_made.id, dict(ms_made.outs or {}))
    ms.delete(ms_made.id, dict(ms_made.outs or {}))

    log = [(r.command, r.params) for r in cs_lab.request_log]
    assert all_problems(log) == []
    sent = {command for command, _ in log}
    assert set(used_commands()) - RARE - TENANT_ONLY - sent == set()


def test_the_check_itself_catches_what_cloudstack_would_refuse() -> None:
    assert problems("createZone", {"name": "z", "dns1": "8.8.8.8", "internaldns1": "8.8.8.8",
                                   "networktype": "Advanced"}) == []
    assert problems("createZones", {}) == ["createZones: no such command in CloudStack 4.18"]
    assert problems("createZone", {"name": "z", "dns1": "8.8.8.8", "internaldns1": "8.8.8.8",
                                   "networktype": "Advanced", "dns3": "1.1.1.1"}) == [
        "createZone: takes no parameter 'dns3'"]
    assert problems("deleteZone", {}) == ["deleteZone: required parameter 'id' missing"]
    assert problems("deleteZone", {"id": "zone-1"}) == ["deleteZone: id='zone-1' is not a uuid"]
    assert problems("configureVirtualRouterElement", {"id": "5", "enabled": "yes"}) == [
        "configureVirtualRouterElement: enabled='yes' is not a boolean"]
    assert problems("addImageStore", {"provider": "S3", "details[0].key": "accesskey",
                                      "details[0].value": "AK"}) == []
    assert problems("addImageStoreS3", {"details[0].key": "x"})[0] == (
        "addImageStoreS3: takes no parameter 'details[0].key'")
