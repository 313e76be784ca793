"""`check`: bad input fails before any call, naming the field, the value and the reason."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers._core import InputError, TableProvider
from providers.cloudstack.cluster import ClusterProvider
from providers.cloudstack.ipranges import PublicIpRangeProvider, StorageNetworkIpRangeProvider
from providers.cloudstack.network import PhysicalNetworkProvider
from providers.cloudstack.pod import PodProvider
from providers.cloudstack.storage import (
    RBD_ON_XENSERVER,
    ImageStoreProvider,
    PrimaryStorageProvider,
    StagingStoreProvider,
)
from providers.cloudstack.zone import ZoneEnablementProvider, ZoneProvider

ZONE = {"name": "zone-1", "dns1": "8.8.8.8", "internal_dns1": "10.0.0.2", "guest_cidr": "10.1.1.0/24"}
NET = {"zone_id": "z", "name": "phys", "vlan": "100-199",
       "traffic_labels": {"Management": "xenbr0", "Guest": "xenbr1"}}
POD = {"zone_id": "z", "name": "pod-1", "gateway": "10.0.0.1", "netmask": "255.255.255.0",
       "start_ip": "10.0.0.10", "end_ip": "10.0.0.20"}
PUBLIC = {"zone_id": "z", "gateway": "192.0.2.1", "netmask": "255.255.255.0", "start_ip": "192.0.2.10",
          "end_ip": "192.0.2.20"}
STORAGE_RANGE = {**{k: v for k, v in PUBLIC.items() if k != "zone_id"}, "pod_id": "p"}
CLUSTER = {"zone_id": "z", "pod_id": "p", "name": "c1", "url": "http://10.0.0.11", "password": "pw"}
PRIMARY = {"zone_id": "z", "pod_id": "p", "cluster_id": "c", "name": "ps", "type": "PreSetup",
           "url": "presetup://localhost/ceph-sr"}
S3 = {"kind": "S3", "name": "s3", "bucket": "b", "endpoint": "rgw:7480", "access_key": "AK", "secret_key": "SK"}
NFS = {"kind": "NFS", "name": "nfs", "zone_id": "z", "url": "nfs://10.0.0.5/secondary"}
STAGING = {"zone_id": "z", "url": "nfs://10.0.0.5/staging"}

VALID = [
    (ZoneProvider, ZONE),
    (ZoneEnablementProvider, {"zone_id": "z"}),
    (PhysicalNetworkProvider, NET),
    (PodProvider, POD),
    (ClusterProvider, CLUSTER),
    (PrimaryStorageProvider, PRIMARY),
    (PrimaryStorageProvider, {**PRIMARY, "type": "nfs", "url": "nfs://10.0.0.5/primary"}),
    (PrimaryStorageProvider, {**PRIMARY, "type": "iSCSI", "url": "iscsi://10.0.0.6/iqn.2024-01.x:t/0"}),
    (PrimaryStorageProvider, {**PRIMARY, "hypervisor": "KVM", "type": "RBD", "url": "rbd://admin@ceph/pool"}),
    (ImageStoreProvider, S3),
    (ImageStoreProvider, NFS),
    (StagingStoreProvider, STAGING),
]


@pytest.mark.parametrize(("provider", "props"), VALID, ids=lambda v: getattr(v, "__name__", ""))
def test_valid_inputs_pass_and_are_normalised(provider: type[TableProvider], props: dict[str, Any]) -> None:
    result = provider().check({}, {"__provider": "x", **props})
    assert result.failures == []
    assert "__provider" not in result.inputs


INVALID = [
    # (provider, inputs, field, reason fragment)
    (ZoneProvider, {**ZONE, "dns1": "8.8.8"}, "dns1", "IPv4"),
    (ZoneProvider, {**ZONE, "guest_cidr": "10.1.1.5/24"}, "guest_cidr", "not a valid IPv4 network"),
    (ZoneProvider, {**ZONE, "network_type": "Basic"}, "network_type", "Advanced"),
    (ZoneProvider, {**ZONE, "colour": "blue"}, "colour", "Extra inputs"),
    (ZoneProvider, {k: v for k, v in ZONE.items() if k != "internal_dns1"}, "internal_dns1", "required"),
    (PhysicalNetworkProvider, {**NET, "vlan": "300-200"}, "vlan", "ascending"),
    (PhysicalNetworkProvider, {**NET, "vlan": "100-5000"}, "vlan", "1-4094"),
    (PhysicalNetworkProvider, {**NET, "vlan": "vlan100"}, "vlan", "pattern"),
    (PhysicalNetworkProvider, {**NET, "isolation_method": "VPN"}, "isolation_method", "VLAN"),
    (PhysicalNetworkProvider, {**NET, "traffic_labels": {"Management": "xenbr0"}}, "traffic_labels", "Guest"),
    (PhysicalNetworkProvider, {**NET, "traffic_labels": {"Management": "a", "Guest": "b", "Backup": "c"}},
     "traffic_labels.Backup.[key]", "Management"),
    (PodProvider, {**POD, "end_ip": "10.0.1.20"}, "end_ip", "outside the pod network"),
    (PodProvider, {**POD, "start_ip": "10.0.0.30"}, "end_ip", "before start_ip"),
    (PodProvider, {**POD, "gateway": "10.0.0.15"}, "end_ip", "includes the gateway"),
    (PodProvider, {**POD, "netmask": "255.0.255.0"}, "netmask", "contiguous"),
    (PodProvider, {**POD, "netmask": "0.0.0.255"}, "netmask", "contiguous"),  # a host mask
    (PodProvider, {**POD, "gateway": 167772161}, "gateway", "written as text"),
    (PublicIpRangeProvider, {**PUBLIC, "netmask": "0.0.0.255"}, "netmask", "contiguous"),
    (StorageNetworkIpRangeProvider, {**STORAGE_RANGE, "netmask": "255.0.255.0"}, "netmask", "contiguous"),
    (ZoneProvider, {**ZONE, "dns1": True}, "dns1", "written as text"),
    (ClusterProvider, {**CLUSTER, "hypervisor": "KVM"}, "hypervisor", "XenServer"),
    (ClusterProvider, {**CLUSTER, "url": "10.0.0.11"}, "url", "http://"),
    (ClusterProvider, {**CLUSTER, "password": ""}, "password", "at least 1"),
    (PrimaryStorageProvider, {**PRIMARY, "type": "NFS"}, "url", "nfs://"),
    (PrimaryStorageProvider, {**PRIMARY, "type": "CLVM"}, "type", "PreSetup"),
    (ImageStoreProvider, {**S3, "secret_key": None}, "secret_key", "required for a S3 image store"),
    (ImageStoreProvider, {k: v for k, v in S3.items() if k != "bucket"}, "bucket", "required"),
    (ImageStoreProvider, {**NFS, "url": "smb://x/y"}, "url", "nfs://"),
    (ImageStoreProvider, {k: v for k, v in NFS.items() if k != "zone_id"}, "zone_id", "required"),
    (StagingStoreProvider, {**STAGING, "url": "s3://bucket"}, "url", "pattern"),
]


@pytest.mark.parametrize(("provider", "props", "field", "reason"), INVALID,
                         ids=[f"{c[0].__name__}-{c[2]}-{c[3]}" for c in INVALID])
def test_invalid_inputs_name_field_value_and_reason(
    provider: type[TableProvider], props: dict[str, Any], field: str, reason: str
) -> None:
    failures = provider().check({}, props).failures
    assert len(failures) >= 1
    first = failures[0]
    assert first.property == field
    assert first.reason.startswith(f"{field}=")  # the field and the value shown
    assert reason in first.reason


@pytest.mark.parametrize("spelling", ["RBD", "rbd"])
def test_rbd_on_a_xenserver_cluster_is_refused_with_cloudstacks_rule(spelling: str) -> None:
    props = {**PRIMARY, "type": spelling, "url": "rbd://admin@ceph/pool"}
    failures = PrimaryStorageProvider().check({}, props).failures
    assert [f.property for f in failures] == ["type"]
    assert RBD_ON_XENSERVER in failures[0].reason
    assert "KVM only" in failures[0].reason and "PreSetup" in failures[0].reason


def test_rbd_refusal_also_at_create_time_without_calling_cloudstack() -> None:
    """The CRUD path re-validates (a value unknown at preview is known by then)."""
    provider = PrimaryStorageProvider()
    with pytest.raises(InputError) as e:
        provider.inputs({**PRIMARY, "type": "RBD", "url": "rbd://admin@ceph/pool"})
    assert e.value.field == "type"
    assert "KVM only" in e.value.reason


def test_unknown_values_at_preview_are_not_failures() -> None:
    result = PodProvider().check({}, {**POD, "zone_id": UNKNOWN, "gateway": UNKNOWN})
    assert result.failures == []
    result = PrimaryStorageProvider().check({}, {**PRIMARY, "cluster_id": UNKNOWN, "url": UNKNOWN})
    assert result.failures == []


def test_crud_without_configuration_says_what_to_set() -> None:
    with pytest.raises(InputError) as e:
        ZoneProvider().create(ZONE)
    assert "cloudstack" in str(e.value) and "secretKey" in str(e.value)
