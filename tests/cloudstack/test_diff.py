"""The pure diff of every CloudStack resource: update in place vs replace, normalisation, unknowns."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers._core import Table, diff, diff_fields
from providers.cloudstack.cluster import ClusterArgs
from providers.cloudstack.network import PhysicalNetworkArgs, PhysicalNetworkProvider
from providers.cloudstack.pod import PodArgs
from providers.cloudstack.storage import ImageStoreArgs, PrimaryStorageArgs, StagingStoreArgs
from providers.cloudstack.zone import ZoneArgs, ZoneEnablementArgs

CLUSTER, NETWORK, POD, ZONE = ClusterArgs.table(), PhysicalNetworkArgs.table(), PodArgs.table(), ZoneArgs.table()
IMAGE, PRIMARY, STAGING = ImageStoreArgs.table(), PrimaryStorageArgs.table(), StagingStoreArgs.table()
ENABLEMENT = ZoneEnablementArgs.table()

ZONE_OLD = {
    "name": "zone-1", "network_type": "Advanced", "dns1": "8.8.8.8", "internal_dns1": "10.0.0.2",
    "guest_cidr": "10.1.1.0/24", "allocation_state": "Disabled",
}
NET_OLD = {
    "zone_id": "z", "name": "phys", "isolation_method": "VLAN", "broadcast_domain_range": "ZONE",
    "vlan": "100-199", "traffic_labels": {"Management": "mgmt", "Guest": "guest"},
    "virtual_router_enabled": True, "enabled": True, "state": "Enabled", "tags": ["a", "b"],
}
POD_OLD = {"zone_id": "z", "name": "pod-1", "gateway": "10.0.0.1", "netmask": "255.255.255.0",
           "start_ip": "10.0.0.10", "end_ip": "10.0.0.20", "allocation_state": "Enabled"}
CLUSTER_OLD = {"zone_id": "z", "pod_id": "p", "name": "c1", "hypervisor": "XenServer", "url": "http://10.0.0.11",
               "username": "root", "password": "pw", "enabled": True, "host_ids": ["h1"]}
PRIMARY_OLD = {"zone_id": "z", "pod_id": "p", "cluster_id": "c", "name": "ps", "hypervisor": "XenServer",
               "type": "PreSetup", "url": "presetup://localhost/ceph-sr", "enabled": True, "state": "Up"}
S3_OLD = {"kind": "S3", "name": "s3", "bucket": "b", "endpoint": "rgw:7480", "access_key": "AK",
          "secret_key": "SK", "read_only": False, "protocol": "s3"}
STAGING_OLD = {"zone_id": "z", "url": "nfs://10.0.0.5/staging", "name": "nfs://10.0.0.5/staging"}


def inputs_of(table: Table, old: dict[str, Any]) -> dict[str, Any]:
    return table.input_props(old)


CASES = [
    # (id, table, old outputs, changes to the inputs, expected changed fields, expected replaces)
    ("zone same", ZONE, ZONE_OLD, {}, [], []),
    ("zone case of network type", ZONE, ZONE_OLD, {"network_type": "advanced"}, [], []),
    ("zone rename", ZONE, ZONE_OLD, {"name": "zone-2"}, ["name"], []),
    ("zone dns", ZONE, ZONE_OLD, {"dns1": "1.1.1.1", "dns2": "9.9.9.9"}, ["dns1", "dns2"], []),
    ("zone guest cidr", ZONE, ZONE_OLD, {"guest_cidr": "10.2.0.0/16"}, ["guest_cidr"], []),
    ("zone allocation state is an output", ZONE, ZONE_OLD, {"allocation_state": "Enabled"}, [], []),
    ("enablement other zone", ENABLEMENT, {"zone_id": "a", "allocation_state": "Enabled"}, {"zone_id": "b"},
     ["zone_id"], ["zone_id"]),
    ("net same", NETWORK, NET_OLD, {}, [], []),
    ("net tags as string", NETWORK, NET_OLD, {"tags": ["b", "a"]}, [], []),
    ("net isolation case", NETWORK, NET_OLD, {"isolation_method": "vlan"}, [], []),
    ("net vlan range", NETWORK, NET_OLD, {"vlan": "100-299"}, ["vlan"], []),
    ("net label", NETWORK, NET_OLD, {"traffic_labels": {"Management": "mgmt", "Guest": "guest2"}},
     ["traffic_labels"], []),
    ("net label key case", NETWORK, NET_OLD, {"traffic_labels": {"management": "mgmt", "guest": "guest"}}, [], []),
    ("net add public", NETWORK, NET_OLD,
     {"traffic_labels": {"Management": "mgmt", "Guest": "guest", "Public": "pub"}}, ["traffic_labels"], []),
    ("net router off", NETWORK, NET_OLD, {"virtual_router_enabled": False}, ["virtual_router_enabled"], []),
    ("net rename replaces", NETWORK, NET_OLD, {"name": "phys2"}, ["name"], ["name"]),
    ("net isolation replaces", NETWORK, NET_OLD, {"isolation_method": "VXLAN"}, ["isolation_method"],
     ["isolation_method"]),
    ("pod same", POD, POD_OLD, {}, [], []),
    ("pod range", POD, POD_OLD, {"end_ip": "10.0.0.30"}, ["end_ip"], []),
    ("pod rename", POD, POD_OLD, {"name": "pod-a"}, ["name"], []),
    ("pod other zone", POD, POD_OLD, {"zone_id": "z2"}, ["zone_id"], ["zone_id"]),
    ("cluster same", CLUSTER, CLUSTER_OLD, {}, [], []),
    ("cluster rename", CLUSTER, CLUSTER_OLD, {"name": "c2"}, ["name"], []),
    ("cluster password", CLUSTER, CLUSTER_OLD, {"password": "new"}, ["password"], []),
    ("cluster disable", CLUSTER, CLUSTER_OLD, {"enabled": False}, ["enabled"], []),
    ("cluster new master url", CLUSTER, CLUSTER_OLD, {"url": "http://10.0.0.12"}, ["url"], ["url"]),
    ("cluster other pod", CLUSTER, CLUSTER_OLD, {"pod_id": "p2"}, ["pod_id"], ["pod_id"]),
    ("primary same", PRIMARY, PRIMARY_OLD, {}, [], []),
    ("primary rename", PRIMARY, PRIMARY_OLD, {"name": "ps2"}, ["name"], []),
    ("primary tags", PRIMARY, PRIMARY_OLD, {"tags": ["ssd"]}, ["tags"], []),
    ("primary disable", PRIMARY, PRIMARY_OLD, {"enabled": False}, ["enabled"], []),
    ("primary type replaces", PRIMARY, PRIMARY_OLD, {"type": "NFS", "url": "nfs://1.2.3.4/x"}, ["type", "url"],
     ["type", "url"]),
    ("image same", IMAGE, S3_OLD, {}, [], []),
    ("image read only", IMAGE, S3_OLD, {"read_only": True}, ["read_only"], []),
    ("image new key replaces", IMAGE, S3_OLD, {"secret_key": "SK2"}, ["secret_key"], ["secret_key"]),
    ("image bucket replaces", IMAGE, S3_OLD, {"bucket": "b2"}, ["bucket"], ["bucket"]),
    ("staging same", STAGING, STAGING_OLD, {}, [], []),
    ("staging url replaces", STAGING, STAGING_OLD, {"url": "nfs://10.0.0.6/staging"}, ["url"], ["url"]),
]


@pytest.mark.parametrize(("table", "old", "change", "changed", "replaces"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_diff(table: Table, old: dict[str, Any], change: dict[str, Any], changed: list[str],
              replaces: list[str]) -> None:
    news = {**inputs_of(table, old), **change}
    assert [c.path for c in diff_fields(old, news, table)] == changed
    result = diff(old, news, table)
    assert result.changes is bool(changed)
    assert sorted(result.replaces or []) == sorted(replaces)
    if replaces:
        assert result.delete_before_replace is table.delete_before_replace


@pytest.mark.parametrize(
    ("table", "old", "field", "replace"),
    [
        (ZONE, ZONE_OLD, "dns1", False),
        (NETWORK, NET_OLD, "zone_id", True),
        (NETWORK, NET_OLD, "vlan", False),
        (POD, POD_OLD, "zone_id", True),
        (CLUSTER, CLUSTER_OLD, "pod_id", True),
        (CLUSTER, CLUSTER_OLD, "password", False),
        (PRIMARY, PRIMARY_OLD, "cluster_id", True),
        (IMAGE, S3_OLD, "access_key", True),
        (STAGING, STAGING_OLD, "zone_id", True),
        (ENABLEMENT, {"zone_id": "a"}, "zone_id", True),
    ],
)
def test_unknown_in_preview_is_a_change_and_a_replace_on_replace_only_fields(
    table: Table, old: dict[str, Any], field: str, replace: bool
) -> None:
    news = {**inputs_of(table, old), field: UNKNOWN}
    result = diff(old, news, table)
    assert result.changes is True
    assert (field in (result.replaces or [])) is replace


def test_replaced_names_are_deleted_first_because_create_adopts_by_name() -> None:
    """A replacement created beside the old object would adopt the old object by its name."""
    for table in (NETWORK, POD, CLUSTER, PRIMARY, IMAGE, STAGING):
        assert table.delete_before_replace, table.resource


def test_secrets_are_declared() -> None:
    assert CLUSTER.secrets == ["password"]
    assert sorted(IMAGE.secrets) == ["access_key", "secret_key"]


def test_values_cloudstack_fills_in_for_undeclared_inputs_are_not_managed() -> None:
    """A network speed CloudStack defaults, or Storage traffic it adds when the zone is enabled,
    is no drift when the program never declared it; declared, it is managed like any field."""

    p = PhysicalNetworkProvider()
    read = {**NET_OLD, "network_speed": "1G",
            "traffic_labels": {"Management": "mgmt", "Guest": "guest", "Storage": "mgmt"}}
    declared = inputs_of(NETWORK, NET_OLD)
    kept = p.managed(read, declared)
    assert "network_speed" not in kept
    assert kept["traffic_labels"] == {"Management": "mgmt", "Guest": "guest"}
    assert diff(kept, declared, NETWORK).changes is False
    with_storage = {**declared, "traffic_labels": {"Management": "mgmt", "Guest": "guest", "Storage": "stor"},
                    "network_speed": "10G"}
    kept = p.managed(read, with_storage)
    assert kept["network_speed"] == "1G"
    assert [c.path for c in diff_fields(kept, with_storage, NETWORK)] == ["network_speed", "traffic_labels"]
