"""The dev region's graph, checked under Pulumi's mocks in milliseconds (no engine, no backend).

What the engine tests (tests/region) prove against real systems, these pin down cheaply: which
resources the components declare, their names and types, who parents whom, and the order the
dependencies impose (the cluster's secrets before the storage servers' config drives, bare metal
before everything that runs on it, Ceph formed before its pools, the pool before its networks and
SR, the zone's management server first and the zone enabled, then ready, before its tenants).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from components.config import StackConfig, load_stack_file
from tests.components.conftest import GENERATED_SECRETS, REPO, SECRET_SIG, Graph, declare_region

DYN = "pulumi-python:dynamic"
POOLS = ("pool-a", "pool-b")
STORAGE_SERVERS = ["sto-01", "sto-02", "sto-03"]
SERVERS = [f"cmp-0{i}" for i in range(1, 7)] + STORAGE_SERVERS + ["ctl-01"]
KEYGEN = "dev-ceph-secrets-keygen"
CEPH_COMMANDS = (
    {f"dev-ceph-{step}-{s}" for step in ("node", "mon", "osd") for s in STORAGE_SERVERS}
    | {"dev-ceph-mgr", "dev-ceph-dashboard-user", "dev-ceph-rgw", "dev-ceph-rgw-admin-user", "dev-ceph-mds"}
)
CEPH_READY = ({"dev-ceph-dashboard-user", "dev-ceph-rgw-admin-user", "dev-ceph-mds"}
              | {f"dev-ceph-osd-{s}" for s in STORAGE_SERVERS})
"""The steps the cluster's outputs (dashboard and RGW URLs, keys) wait for: the cluster is usable."""
CEPH_PROVIDER = "dev-ceph-provider"
POOL_HOSTS = {"pool-a": ["cmp-01", "cmp-02", "cmp-03"], "pool-b": ["cmp-04", "cmp-05", "cmp-06"]}


def secret_files(pool: str) -> set[str]:
    """A pool's cephfs secret file on each of its hosts (pulumi_command over SSH)."""
    return {f"dev-{pool}-secret-{h}" for h in POOL_HOSTS[pool]}


def pool_children(pool: str) -> set[str]:
    return ({f"dev-{pool}-{n}" for n in ("pool", "guest", "storage", "sr", "cephfs-dir", "cephfs-client")}
            | secret_files(pool))
MGMT = "dev-cloud-management"
TENANT_USER = "dev-tenants-user-reseller-a-customer-1-customer-1-api"
TENANTS = {
    "dev-tenants-offering-small", "dev-tenants-offering-medium", "dev-tenants-disk-data-50",
    "dev-tenants-template-debian-12", "dev-tenants-domain-reseller-a",
    "dev-tenants-account-reseller-a-customer-1", TENANT_USER,
    *(f"dev-tenants-domain-reseller-a-limit-{t}" for t in ("instances", "cpus", "memory-mb")),
    *(f"dev-tenants-account-reseller-a-customer-1-limit-{t}" for t in ("instances", "cpus", "memory-mb")),
}


def test_the_region_declares_each_resource_once_with_its_type(region_graph: Graph) -> None:
    types = Counter(r.type for r in region_graph.by_name.values())
    assert types == {
        "privatecloud:region:Region": 1,
        "privatecloud:baremetal:BareMetal": 1,
        "privatecloud:storage:ClusterSecrets": 1,
        "privatecloud:storage:CephCluster": 1,
        "privatecloud:storage:Storage": 1,
        "privatecloud:hypervisor:Pool": 2,
        "privatecloud:cloud:CloudZone": 1,
        "privatecloud:cloud:Tenants": 1,
        "command:local:Command": 1,  # the cluster's secrets, generated once
        # 3 nodes, 3 monitors, 3 OSDs, mgr, dashboard user, RGW, its admin user, the MDS; and the
        # pools' Ceph secret files, one per compute host
        "command:remote:Command": 20,
        "pulumi:providers:pulumi-python": 1,  # the explicit provider of the ceph.* resources
        f"{DYN}/ironic:Node": 10,
        f"{DYN}/ironic:Fleet": 1,
        f"{DYN}/ceph:Pool": 1,
        f"{DYN}/ceph:RgwUser": 1,
        f"{DYN}/ceph:Bucket": 1,
        f"{DYN}/ceph:FsDirectory": 2,  # one per pool's cephfs SR
        f"{DYN}/ceph:FsClient": 2,
        f"{DYN}/xcpng:Pool": 2,
        f"{DYN}/xcpng:Network": 4,
        f"{DYN}/xcpng:SharedSR": 2,
        f"{DYN}/cloudstack:ManagementServer": 1,
        f"{DYN}/cloudstack:Zone": 1,
        f"{DYN}/cloudstack:PhysicalNetwork": 1,
        f"{DYN}/cloudstack:Pod": 1,
        f"{DYN}/cloudstack:Cluster": 2,
        f"{DYN}/cloudstack:PrimaryStorage": 2,
        f"{DYN}/cloudstack:StagingStore": 1,
        f"{DYN}/cloudstack:ImageStore": 1,
        f"{DYN}/cloudstack:PublicIpRange": 1,
        f"{DYN}/cloudstack:StorageNetworkIpRange": 1,
        f"{DYN}/cloudstack:NetworkServiceProvider": 1,
        f"{DYN}/cloudstack:GlobalSettings": 1,
        f"{DYN}/cloudstack:ZoneEnablement": 1,
        f"{DYN}/cloudstack:ZoneReadiness": 1,
        f"{DYN}/cloudstack:ComputeOffering": 2,
        f"{DYN}/cloudstack:DiskOffering": 1,
        f"{DYN}/cloudstack:Template": 1,
        f"{DYN}/cloudstack:Domain": 1,
        f"{DYN}/cloudstack:Account": 1,
        f"{DYN}/cloudstack:User": 1,
        f"{DYN}/cloudstack:ResourceLimit": 6,  # 3 on the domain, 3 on its account
    }
    components = {r.name for r in region_graph.by_name.values() if not r.custom}
    assert components == {
        "dev", "dev-ceph-secrets", "dev-baremetal", "dev-ceph", "dev-storage", "dev-pool-a", "dev-pool-b",
        "dev-cloud", "dev-tenants",
    }


def test_every_resource_is_parented_to_the_layer_that_owns_it(region_graph: Graph) -> None:
    g = region_graph
    assert g["dev"].parent.endswith("::pulumi:pulumi:Stack::privatecloud-dev")
    assert g.children("dev") == {
        "dev-ceph-secrets", "dev-baremetal", "dev-ceph", CEPH_PROVIDER, "dev-storage", "dev-pool-a", "dev-pool-b",
        "dev-cloud", "dev-tenants",
    }
    assert g.children("dev-ceph-secrets") == {KEYGEN}
    assert g.children("dev-baremetal") == {f"dev-baremetal-{s}" for s in SERVERS} | {"dev-baremetal-fleet"}
    assert g.children("dev-ceph") == CEPH_COMMANDS
    assert g.children("dev-storage") == {
        "dev-storage-vm-disks", "dev-storage-user-cloudstack-secondary", "dev-storage-bucket-cloudstack-secondary"
    }
    for pool in POOLS:
        assert g.children(f"dev-{pool}") == pool_children(pool)
    assert g.children("dev-cloud") == {
        MGMT, "dev-cloud-zone", "dev-cloud-physnet-1", "dev-cloud-pod-1", "dev-cloud-pool-a", "dev-cloud-pool-b",
        "dev-cloud-pool-a-primary", "dev-cloud-pool-b-primary", "dev-cloud-staging", "dev-cloud-secondary-s3",
        "dev-cloud-public-0", "dev-cloud-storage-range", "dev-cloud-internallbvm", "dev-cloud-settings",
        "dev-cloud-enabled", "dev-cloud-ready",
    }
    assert g.children("dev-tenants") == TENANTS


def _deps(g: Graph, name: str) -> set[str]:
    by_urn = {r.urn: r.name for r in g.by_name.values()}
    return {by_urn[u] for u in g[name].dependencies}


def _waits_for(g: Graph, name: str) -> set[str]:
    """Everything `name` waits for, directly or through what it waits for."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for dep in _deps(g, todo.pop()) - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


FLEET = "dev-baremetal-fleet"
STORAGE = {"dev-storage-vm-disks", "dev-storage-user-cloudstack-secondary", "dev-storage-bucket-cloudstack-secondary"}


def test_bare_metal_is_deployed_before_the_layers_that_run_on_it(region_graph: Graph) -> None:
    """Every resource of the storage and hypervisor layers waits for the fleet itself: Pulumi does
    not hand a component's `depends_on` down to its children (pulumi/pulumi#8721)."""
    g = region_graph
    # The cluster's secrets come first: the deploy key's public half is in the servers' config drives.
    assert _deps(g, KEYGEN) == set()
    assert _deps(g, FLEET) == {f"dev-baremetal-{s}" for s in SERVERS} | {KEYGEN}
    for layer in ("dev-pool-a", "dev-pool-b"):
        assert _deps(g, layer) == {FLEET}, layer
        for child in g.children(layer):
            assert FLEET in _deps(g, child), child
    # Ceph is formed over SSH once the servers are deployed: the first step on each server waits for
    # the fleet itself, and every later step (and so the storage layer) waits for it through them.
    for server in STORAGE_SERVERS:
        assert _deps(g, f"dev-ceph-node-{server}") == {FLEET, KEYGEN}
    for child in g.children("dev-ceph") | {CEPH_PROVIDER, "dev-storage"} | g.children("dev-storage"):
        assert FLEET in _waits_for(g, child), child
    # The deploy key is in the storage and compute servers' config drives (SSH to Ceph and to dom0).
    for server in [*STORAGE_SERVERS, "cmp-01"]:
        assert _deps(g, f"dev-baremetal-{server}") == {KEYGEN}


def test_ceph_is_formed_in_the_order_ceph_needs(region_graph: Graph) -> None:
    g = region_graph
    mons = {f"dev-ceph-mon-{s}" for s in STORAGE_SERVERS}
    osds = {f"dev-ceph-osd-{s}" for s in STORAGE_SERVERS}
    for server in STORAGE_SERVERS:
        assert _deps(g, f"dev-ceph-mon-{server}") == {f"dev-ceph-node-{server}", KEYGEN}
        assert _deps(g, f"dev-ceph-osd-{server}") == mons | {f"dev-ceph-node-{server}", KEYGEN}
    assert _deps(g, "dev-ceph-mgr") == mons | {KEYGEN}
    assert _deps(g, "dev-ceph-dashboard-user") == {"dev-ceph-mgr", KEYGEN}
    assert _deps(g, "dev-ceph-rgw") == osds | {KEYGEN}
    assert _deps(g, "dev-ceph-rgw-admin-user") == {"dev-ceph-rgw", KEYGEN}
    # The provider is configured from the cluster's outputs, which exist once the cluster is usable.
    assert _deps(g, CEPH_PROVIDER) == CEPH_READY | {KEYGEN}


def test_the_ceph_resources_take_the_clusters_provider(region_graph: Graph) -> None:
    g = region_graph
    provider = g[CEPH_PROVIDER]
    assert provider.type == "pulumi:providers:pulumi-python" and provider.custom
    assert provider.parent == g.urn("dev")
    assert set(provider.inputs) == {"privatecloud:ceph"}
    reference = f"{provider.urn}::{CEPH_PROVIDER}-id"
    # The storage layer waits for the whole cluster (its `depends_on`, handed down to every child).
    assert _deps(g, "dev-storage") == CEPH_COMMANDS
    assert _deps(g, "dev-storage-vm-disks") == CEPH_COMMANDS
    assert _deps(g, "dev-storage-user-cloudstack-secondary") == CEPH_COMMANDS
    assert _deps(g, "dev-storage-bucket-cloudstack-secondary") == CEPH_COMMANDS | {
        "dev-storage-user-cloudstack-secondary"
    }
    for r in g.by_name.values():
        if r.type.startswith(f"{DYN}/ceph:"):
            assert r.provider == reference, r.name
        else:  # everything else keeps its default provider
            assert r.provider == "", r.name


def test_a_pool_joins_before_its_networks_and_its_sr_comes_last(region_graph: Graph) -> None:
    g = region_graph
    for pool in POOLS:
        # Every host has the pool's Ceph secret file before it joins (its PBD plugs as it joins).
        assert _deps(g, f"dev-{pool}-pool") == {FLEET} | secret_files(pool)
        assert _deps(g, f"dev-{pool}-guest") == {FLEET, f"dev-{pool}-pool"}
        assert _deps(g, f"dev-{pool}-storage") == {FLEET, f"dev-{pool}-pool"}
        assert _deps(g, f"dev-{pool}-sr") == {FLEET, f"dev-{pool}-pool", f"dev-{pool}-guest", f"dev-{pool}-storage",
                                              f"dev-{pool}-cephfs-dir", f"dev-{pool}-cephfs-client",
                                              *secret_files(pool)}


def test_each_pools_cephfs_sr_is_declared_from_the_ceph_outputs(region_graph: Graph) -> None:
    """The directory and client on the formed cluster (its provider, after its MDS), the key
    written on each host's dom0 over SSH from stdin, the SR's device-config from those outputs."""
    g = region_graph
    for pool in POOLS:
        d, c = g[f"dev-{pool}-cephfs-dir"], g[f"dev-{pool}-cephfs-client"]
        assert d.inputs["path"] == f"/xcp/{pool}" and d.inputs["quota_bytes"] == 100 << 30
        assert d.inputs["fs_name"] == "cephfs"
        assert "dev-ceph-mds" in _deps(g, d.name) and FLEET in _deps(g, d.name)
        assert c.inputs["name"] == f"xcp-{pool}" and c.inputs["host"] == "127.0.1.21"
        assert f"dev-{pool}-cephfs-dir" in _deps(g, c.name)
        for i, host in enumerate(POOL_HOSTS[pool]):
            cmd = g[f"dev-{pool}-secret-{host}"]
            conn = cmd.inputs["connection"]["value"]  # secret: it holds the deploy key
            assert conn["host"] == f"127.0.1.{11 + i + (3 if pool == 'pool-b' else 0)}" and conn["port"] == 22
            assert f"/etc/ceph/xcp-{pool}.secret" in cmd.inputs["create"] and "umask 077" in cmd.inputs["create"]
            assert f"dev-{pool}-cephfs-client" in _deps(g, cmd.name)
        sr = g[f"dev-{pool}-sr"].inputs
        assert sr["type"] == "cephfs" and sr["name_label"] == f"cephfs-{pool[-1]}"
        assert sr["device_config"] == {
            "server": "127.0.1.21,127.0.1.22,127.0.1.23", "serverport": "3300", "serverpath": f"/xcp/{pool}",
            "options": f"name=xcp-{pool},secretfile=/etc/ceph/xcp-{pool}.secret"}


def test_the_zone_follows_cloudstacks_order_and_is_enabled_last(region_graph: Graph) -> None:
    g = region_graph
    # The zone layer waits for storage (the S3 keys), and so does each of its resources; the
    # management server's day 0 (login, keys) comes first, and every CloudStack call uses its keys.
    # The day 0 waits only for the deploys (the management server runs on the controller), not Ceph.
    assert _deps(g, "dev-cloud") == STORAGE
    assert _deps(g, MGMT) == {FLEET}
    after_login = STORAGE | {MGMT}
    assert _deps(g, "dev-cloud-zone") == after_login
    assert _deps(g, "dev-cloud-physnet-1") == after_login | {"dev-cloud-zone"}
    assert _deps(g, "dev-cloud-pod-1") == after_login | {"dev-cloud-zone", "dev-cloud-physnet-1"}
    for pool in POOLS:
        # A cluster is added once its whole XCP-ng pool exists (joins, networks, SR).
        zone = after_login | {"dev-cloud-zone", "dev-cloud-pod-1"}
        assert _deps(g, f"dev-cloud-{pool}") == zone | pool_children(pool)
        assert _deps(g, f"dev-cloud-{pool}-primary") >= {f"dev-cloud-{pool}", f"dev-{pool}-sr", MGMT}
    # Public ranges, the storage network range and the extra service providers need the physical network.
    assert _deps(g, "dev-cloud-public-0") == after_login | {"dev-cloud-zone", "dev-cloud-physnet-1"}
    assert _deps(g, "dev-cloud-storage-range") == after_login | {"dev-cloud-physnet-1", "dev-cloud-pod-1"}
    assert _deps(g, "dev-cloud-internallbvm") == after_login | {"dev-cloud-physnet-1"}
    assert _deps(g, "dev-cloud-settings") == after_login | {"dev-cloud-zone"}
    # S3 secondary storage needs its NFS staging store first, the RGW user and bucket, and RGW itself
    # (its endpoint is the cluster's RGW URL, known once the cluster is usable).
    assert _deps(g, "dev-cloud-secondary-s3") == after_login | {"dev-cloud-staging"} | CEPH_READY
    assert _deps(g, "dev-cloud-enabled") == STORAGE | g.children("dev-cloud") - {
        "dev-cloud-enabled", "dev-cloud-settings", "dev-cloud-ready"
    }
    # Ready (system VMs running) only after it is enabled and its settings are set.
    assert _deps(g, "dev-cloud-ready") == after_login | {"dev-cloud-enabled", "dev-cloud-settings"}


def test_tenants_come_after_the_zone_in_their_own_order(region_graph: Graph) -> None:
    g = region_graph
    assert _deps(g, "dev-tenants") == g.children("dev-cloud")  # the complete zone, ready included
    for child in g.children("dev-tenants"):
        assert MGMT in _deps(g, child), child  # they use the management server's keys
        assert FLEET in _waits_for(g, child), child
    assert _deps(g, "dev-tenants-template-debian-12") >= {"dev-cloud-enabled"}  # into the enabled zone's storage
    domain = "dev-tenants-domain-reseller-a"
    account = "dev-tenants-account-reseller-a-customer-1"
    domain_limits = {f"{domain}-limit-{t}" for t in ("instances", "cpus", "memory-mb")}
    zone = g.children("dev-cloud")  # every tenant resource waits for the complete zone (child_options)
    assert _deps(g, domain) == zone
    assert _deps(g, account) == zone | {domain}
    for limit in domain_limits:
        assert _deps(g, limit) == zone | {domain}
    for t in ("instances", "cpus", "memory-mb"):
        # An account's limit may not exceed its domain's: the domain's limits first.
        assert _deps(g, f"{account}-limit-{t}") == zone | {domain, account} | domain_limits
    assert _deps(g, TENANT_USER) == zone | {domain, account}


def test_every_tenant_resource_waits_for_the_complete_zone(region_graph: Graph) -> None:
    g = region_graph
    for child in g.children("dev-tenants"):
        assert "dev-cloud-ready" in _deps(g, child), child


def test_layers_pass_typed_outputs_not_strings_assembled_by_hand(region_graph: Graph) -> None:
    g = region_graph
    pool = g["dev-pool-a-pool"].inputs
    assert pool["master"] == "127.0.1.11"
    assert pool["hosts"] == ["127.0.1.11", "127.0.1.12", "127.0.1.13"]
    assert pool["name_label"] == "pool-a"
    # The SR's name-label reaches CloudStack through the SR's output, once the SR exists.
    assert g["dev-cloud-pool-a-primary"].inputs["url"] == "presetup://localhost/cephfs-a"
    assert g["dev-cloud-pool-a-primary"].inputs["type"] == "PreSetup"
    assert g["dev-cloud-pool-a-primary"].inputs["cluster_id"] == "dev-cloud-pool-a-id"
    assert g["dev-cloud-pod-1"].inputs["zone_id"] == "dev-cloud-zone-id"
    assert g["dev-cloud-zone"].inputs["dns1"] == "8.8.8.8"
    assert "dns2" not in g["dev-cloud-zone"].inputs
    assert g["dev-cloud-physnet-1"].inputs["traffic_labels"]["guest"] == "guest"
    assert g["dev-baremetal-cmp-01"].inputs["resource_class"] == "baremetal.compute"
    assert g["dev-baremetal-sto-01"].inputs["instance_info"] == {"image_source": "http://127.0.0.1:8000/debian-12-ceph.qcow2"}
    assert g["dev-baremetal-cmp-01"].inputs["instance_info"]["boot_iso"] == "http://127.0.0.1:8000/xcp-ng-8.3.0.iso"
    # The generated deploy key's public half reaches the storage servers' config drives...
    drive = g["dev-baremetal-sto-01"].inputs["config_drive"]["value"]
    assert drive["meta_data"] == {"hostname": "sto-01", "public_keys": {"deploy": "ssh-ed25519 AAAA lab"}}
    # ...and the compute servers' (root of their dom0, where the pools' Ceph secret files go).
    drive = g["dev-baremetal-cmp-01"].inputs["config_drive"]["value"]
    assert drive["meta_data"] == {"hostname": "cmp-01", "public_keys": {"deploy": "ssh-ed25519 AAAA lab"}}
    # Ceph's steps run on the servers' management addresses, with the generated key.
    conn = g["dev-ceph-node-sto-02"].inputs["connection"]["value"]
    assert (conn["host"], conn["user"]) == ("127.0.1.22", "root")
    assert conn["privateKey"] == GENERATED_SECRETS["sshPrivateKey"]
    assert g["dev-ceph-mgr"].inputs["connection"]["value"]["host"] == "127.0.1.21"
    assert "fsid = 00000000-0000-4000-8000-000000000000" in g["dev-ceph-node-sto-01"].inputs["create"]
    # The cluster's outputs configure the ceph.* provider, and its RGW is the S3 endpoint.
    settings = json.loads(g[CEPH_PROVIDER].inputs["privatecloud:ceph"]["value"])
    assert settings == {
        "dashboardUrl": "http://127.0.1.21:8080", "dashboardUser": "admin",
        "dashboardPassword": GENERATED_SECRETS["dashboardPassword"], "rgwUrl": "http://127.0.1.21:7480",
        "rgwAccessKey": "mock-rgw-access-key", "rgwSecretKey": GENERATED_SECRETS["secret_key"],
    }
    assert g["dev-cloud-secondary-s3"].inputs["endpoint"] == "http://127.0.1.21:7480"
    # The zone's ranges and tenants take the ids of what they belong to.
    assert g["dev-cloud-public-0"].inputs["zone_id"] == "dev-cloud-zone-id"
    assert g["dev-cloud-public-0"].inputs["physical_network_id"] == "dev-cloud-physnet-1-id"
    assert g["dev-cloud-storage-range"].inputs["pod_id"] == "dev-cloud-pod-1-id"
    assert g["dev-cloud-settings"].inputs["values"] == {"expunge.delay": "600", "network.throttling.rate": "400"}
    assert g["dev-tenants-template-debian-12"].inputs["zone_id"] == "dev-cloud-zone-id"
    assert g["dev-tenants-account-reseller-a-customer-1"].inputs["domain_id"] == "dev-tenants-domain-reseller-a-id"
    assert g[TENANT_USER].inputs["account"] == "customer-1"
    # Every CloudStack resource reaches the management server through its day-0 connection.
    for r in g.by_name.values():
        if r.type.startswith(f"{DYN}/cloudstack:") and r.name != MGMT:
            assert r.inputs["connection"]["value"]["endpoint"] == "http://127.0.1.31:8080/client/api", r.name


def _plain(value: object, secret: bool) -> list[str]:
    """The strings in an input value that travel in plaintext (outside any secret)."""
    if isinstance(value, dict):
        inner = secret or SECRET_SIG in value
        return [s for v in value.values() for s in _plain(v, inner)]
    if isinstance(value, list):
        return [s for v in value for s in _plain(v, secret)]
    return [str(value)] if isinstance(value, str) and not secret else []


def test_credentials_reach_the_resources_as_secrets(region_graph: Graph) -> None:
    g = region_graph
    node = g["dev-baremetal-cmp-01"]
    assert node.inputs["driver_info"]["value"] == {  # the secret's value, as the mocks received it
        "ipmi_address": "10.0.0.11", "ipmi_username": "admin", "ipmi_password": "(encrypted)"
    }
    for name, keys in {
        "dev-baremetal-cmp-01": {"driver_info"},
        "dev-baremetal-sto-01": {"driver_info", "config_drive"},
        "dev-pool-a-pool": {"password"},
        "dev-pool-a-guest": {"password"},
        "dev-pool-a-sr": {"password"},
        "dev-ceph-node-sto-01": {"connection", "stdin"},  # the deploy key; the monitor and admin keys
        "dev-ceph-mon-sto-01": {"connection", "stdin"},
        "dev-ceph-mgr": {"connection"},
        "dev-ceph-dashboard-user": {"connection", "stdin"},  # the dashboard password
        CEPH_PROVIDER: {"privatecloud:ceph"},
        "dev-storage-bucket-cloudstack-secondary": {"access_key", "secret_key"},
        MGMT: {"password", "new_password"},
        "dev-cloud-pool-a": {"password", "connection"},
        "dev-cloud-secondary-s3": {"secret_key", "connection"},
        "dev-tenants-domain-reseller-a": {"connection"},
    }.items():
        assert keys <= g[name].secrets, (name, g[name].secrets)
    assert g["dev-cloud-zone"].secrets == frozenset({"connection"})  # the zone itself holds no secret
    # What the engine keeps secret in state: generated secrets, keys and the commands' input scripts.
    for name, keys in {
        KEYGEN: {"stdout"},
        "dev-ceph-node-sto-01": {"stdin"},
        "dev-ceph-rgw-admin-user": {"stdout", "stdin"},
        "dev-storage-user-cloudstack-secondary": {"access_key", "secret_key"},
        MGMT: {"api_key", "secret_key"},
        TENANT_USER: {"api_key", "secret_key"},
    }.items():
        assert keys <= g[name].secret_outputs, (name, g[name].secret_outputs)
    assert g[KEYGEN].inputs["logging"] == "none"  # the generated secrets are never logged
    # Nothing secret travels in plaintext anywhere: neither the stack config's (encrypted) values
    # nor what the day-0 commands generated.
    for r in g.by_name.values():
        for text in _plain({k: v for k, v in r.inputs.items() if k not in r.secrets and k != "__provider"}, False):
            assert "(encrypted)" not in text, r.name
            for key, value in GENERATED_SECRETS.items():
                assert value not in text, (r.name, key)
    # Components register their secret outputs as secrets, and nothing else as one.
    assert {k for k, secret in g.component_outputs["dev"].items() if secret} == {"tenant_api_keys"}
    assert {k for k, secret in g.component_outputs["dev-tenants"].items() if secret} == {"api_keys"}
    for name in ("dev-ceph-secrets", "dev-ceph", "dev-storage", "dev-cloud"):
        assert not any(g.component_outputs[name].values()), name


def test_the_stack_outputs_are_keyed_by_server_and_by_pool(region_graph: Graph) -> None:
    out = region_graph.outputs
    assert set(out["node_uuids"]) == set(SERVERS)
    assert out["host_ids"] == {"pool-a": [], "pool-b": []}  # no host joined under the mocks
    assert out["zone_id"] == "dev-cloud-zone-id"
    assert out["ceph_dashboard_url"] == "http://127.0.1.21:8080"  # the first storage server's
    assert set(out["tenant_api_keys"]) == {"reseller-a/customer-1/customer-1-api"}  # by domain/account/user
    assert set(region_graph.component_outputs["dev"]) == {"zone_id", "s3_endpoint", "pool_hosts", "tenant_api_keys"}
    assert set(region_graph.component_outputs["dev-ceph"]) == {"fsid", "mon_addresses", "dashboard_url", "rgw_url"}


def test_every_dynamic_resource_carries_its_provider_unrun(region_graph: Graph) -> None:
    """The provider travels pickled in `__provider`; the mocks answered, the provider never ran.
    The day-0 commands are pulumi-command's (a plugin, no pickle), and the explicit provider is a
    provider resource, not a dynamic one."""
    kinds: Counter[str] = Counter()
    for r in region_graph.by_name.values():
        if not r.custom:
            continue
        if r.type.startswith(f"{DYN}/"):
            assert isinstance(r.inputs.get("__provider"), str) and r.inputs["__provider"], r.name
            kinds["dynamic"] += 1
        else:
            assert r.type.startswith("command:") or r.type == "pulumi:providers:pulumi-python", r.name
            assert "__provider" not in r.inputs, r.name
            kinds[r.type] += 1
    # 26 of bare metal, Ceph pools and file system directories and clients, and XCP-ng, 17 of the
    # zone, 12 of its tenants; 13 day-0 commands and 6 secret files
    assert kinds == {"dynamic": 55, "command:local:Command": 1, "command:remote:Command": 20,
                     "pulumi:providers:pulumi-python": 1}


@pytest.fixture(scope="module")
def nfs_config(tmp_path_factory: pytest.TempPathFactory) -> StackConfig:
    doc = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    zone = doc["config"]["privatecloud:region"]["zone"]
    zone["secondaryStorage"] = {"type": "nfs", "nfsUrl": "nfs://127.0.0.1/export/secondary"}
    zone.pop("stagingStoreUrl")
    path: Path = tmp_path_factory.mktemp("nfs") / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_stack_file(str(path))


def test_nfs_secondary_storage_is_a_zone_wide_image_store_without_staging(nfs_config: StackConfig) -> None:
    g = declare_region(nfs_config)
    assert "dev-cloud-staging" not in g.by_name and "dev-cloud-secondary-s3" not in g.by_name
    store = g["dev-cloud-secondary-nfs"]
    assert store.inputs["kind"] == "NFS"
    assert store.inputs["url"] == "nfs://127.0.0.1/export/secondary"
    assert _deps(g, "dev-cloud-secondary-nfs") == STORAGE | {MGMT, "dev-cloud-zone"}
    assert "dev-cloud-secondary-nfs" in _deps(g, "dev-cloud-enabled")
