"""The dev region's graph, checked under Pulumi's mocks in milliseconds (no engine, no backend).

What the engine tests (tests/region) prove against real systems, these pin down cheaply: which
resources the components declare, their names and types, who parents whom, and the order the
dependencies impose (bare metal before everything, the pool before its networks and SR, the
zone enabled last).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from components.config import StackConfig, load_stack_file
from tests.components.conftest import REPO, Graph, declare_region

DYN = "pulumi-python:dynamic"
POOLS = ("pool-a", "pool-b")
SERVERS = [f"cmp-0{i}" for i in range(1, 7)] + ["sto-01", "sto-02", "sto-03", "ctl-01"]


def test_the_region_declares_each_resource_once_with_its_type(region_graph: Graph) -> None:
    types = Counter(r.type for r in region_graph.by_name.values())
    assert types == {
        "privatecloud:region:Region": 1,
        "privatecloud:baremetal:BareMetal": 1,
        "privatecloud:storage:Storage": 1,
        "privatecloud:hypervisor:Pool": 2,
        "privatecloud:cloud:CloudZone": 1,
        f"{DYN}/ironic:Node": 10,
        f"{DYN}/ironic:Fleet": 1,
        f"{DYN}/ceph:Pool": 1,
        f"{DYN}/ceph:RgwUser": 1,
        f"{DYN}/ceph:Bucket": 1,
        f"{DYN}/xcpng:Pool": 2,
        f"{DYN}/xcpng:Network": 4,
        f"{DYN}/xcpng:SharedSR": 2,
        f"{DYN}/cloudstack:Zone": 1,
        f"{DYN}/cloudstack:PhysicalNetwork": 1,
        f"{DYN}/cloudstack:Pod": 1,
        f"{DYN}/cloudstack:Cluster": 2,
        f"{DYN}/cloudstack:PrimaryStorage": 2,
        f"{DYN}/cloudstack:StagingStore": 1,
        f"{DYN}/cloudstack:ImageStore": 1,
        f"{DYN}/cloudstack:ZoneEnablement": 1,
    }
    components = {r.name for r in region_graph.by_name.values() if not r.custom}
    assert components == {"dev", "dev-baremetal", "dev-storage", "dev-pool-a", "dev-pool-b", "dev-cloud"}


def test_every_resource_is_parented_to_the_layer_that_owns_it(region_graph: Graph) -> None:
    g = region_graph
    assert g["dev"].parent.endswith("::pulumi:pulumi:Stack::privatecloud-dev")
    assert g.children("dev") == {"dev-baremetal", "dev-storage", "dev-pool-a", "dev-pool-b", "dev-cloud"}
    assert g.children("dev-baremetal") == {f"dev-baremetal-{s}" for s in SERVERS} | {"dev-baremetal-fleet"}
    assert g.children("dev-storage") == {
        "dev-storage-vm-disks", "dev-storage-user-cloudstack-secondary", "dev-storage-bucket-cloudstack-secondary"
    }
    for pool in POOLS:
        assert g.children(f"dev-{pool}") == {f"dev-{pool}-{n}" for n in ("pool", "guest", "storage", "sr")}
    assert g.children("dev-cloud") == {
        "dev-cloud-zone", "dev-cloud-physnet-1", "dev-cloud-pod-1", "dev-cloud-pool-a", "dev-cloud-pool-b",
        "dev-cloud-pool-a-primary", "dev-cloud-pool-b-primary", "dev-cloud-staging", "dev-cloud-secondary-s3",
        "dev-cloud-enabled",
    }


def _deps(g: Graph, name: str) -> set[str]:
    by_urn = {r.urn: r.name for r in g.by_name.values()}
    return {by_urn[u] for u in g[name].dependencies}


FLEET = "dev-baremetal-fleet"
STORAGE = {"dev-storage-vm-disks", "dev-storage-user-cloudstack-secondary", "dev-storage-bucket-cloudstack-secondary"}


def test_bare_metal_is_deployed_before_the_layers_that_run_on_it(region_graph: Graph) -> None:
    """Every resource of the storage and hypervisor layers waits for the fleet itself: Pulumi does
    not hand a component's `depends_on` down to its children (pulumi/pulumi#8721)."""
    g = region_graph
    assert _deps(g, FLEET) == {f"dev-baremetal-{s}" for s in SERVERS}
    for layer in ("dev-storage", "dev-pool-a", "dev-pool-b"):
        assert _deps(g, layer) == {FLEET}, layer
        for child in g.children(layer):
            assert FLEET in _deps(g, child), child
    assert _deps(g, "dev-baremetal-cmp-01") == set()


def test_a_pool_joins_before_its_networks_and_its_sr_comes_last(region_graph: Graph) -> None:
    g = region_graph
    for pool in POOLS:
        assert _deps(g, f"dev-{pool}-pool") == {FLEET}
        assert _deps(g, f"dev-{pool}-guest") == {FLEET, f"dev-{pool}-pool"}
        assert _deps(g, f"dev-{pool}-storage") == {FLEET, f"dev-{pool}-pool"}
        assert _deps(g, f"dev-{pool}-sr") == {FLEET, f"dev-{pool}-pool", f"dev-{pool}-guest", f"dev-{pool}-storage"}


def test_the_zone_follows_cloudstacks_order_and_is_enabled_last(region_graph: Graph) -> None:
    g = region_graph
    # The zone layer waits for storage (the S3 keys), and so does each of its resources.
    assert _deps(g, "dev-cloud") == STORAGE
    assert _deps(g, "dev-cloud-zone") == STORAGE
    assert _deps(g, "dev-cloud-physnet-1") == STORAGE | {"dev-cloud-zone"}
    assert _deps(g, "dev-cloud-pod-1") == STORAGE | {"dev-cloud-zone", "dev-cloud-physnet-1"}
    for pool in POOLS:
        # A cluster is added once its whole XCP-ng pool exists (joins, networks, SR).
        assert _deps(g, f"dev-cloud-{pool}") == STORAGE | {
            "dev-cloud-zone", "dev-cloud-pod-1",
            f"dev-{pool}-pool", f"dev-{pool}-guest", f"dev-{pool}-storage", f"dev-{pool}-sr",
        }
        assert _deps(g, f"dev-cloud-{pool}-primary") >= {f"dev-cloud-{pool}", f"dev-{pool}-sr"}
    # S3 secondary storage needs its NFS staging store first, and the RGW user and bucket.
    assert _deps(g, "dev-cloud-secondary-s3") == STORAGE | {"dev-cloud-staging"}
    assert _deps(g, "dev-cloud-enabled") == STORAGE | g.children("dev-cloud") - {"dev-cloud-enabled"}


def test_layers_pass_typed_outputs_not_strings_assembled_by_hand(region_graph: Graph) -> None:
    g = region_graph
    pool = g["dev-pool-a-pool"].inputs
    assert pool["master"] == "127.0.0.1:19101"
    assert pool["hosts"] == ["127.0.0.1:19101", "127.0.0.1:19102", "127.0.0.1:19103"]
    assert pool["name_label"] == "pool-a"
    # The SR's name-label reaches CloudStack through the SR's output, once the SR exists.
    assert g["dev-cloud-pool-a-primary"].inputs["url"] == "presetup://localhost/ceph-nfs-a"
    assert g["dev-cloud-pool-a-primary"].inputs["type"] == "PreSetup"
    assert g["dev-cloud-pool-a-primary"].inputs["cluster_id"] == "dev-cloud-pool-a-id"
    assert g["dev-cloud-pod-1"].inputs["zone_id"] == "dev-cloud-zone-id"
    assert g["dev-cloud-zone"].inputs["dns1"] == "8.8.8.8"
    assert "dns2" not in g["dev-cloud-zone"].inputs
    assert g["dev-cloud-physnet-1"].inputs["traffic_labels"]["guest"] == "guest"
    assert g["dev-baremetal-cmp-01"].inputs["resource_class"] == "baremetal.compute"
    assert g["dev-baremetal-sto-01"].inputs["instance_info"] == {"image_source": "http://127.0.0.1:8000/debian-12-ceph.qcow2"}
    assert g["dev-baremetal-cmp-01"].inputs["instance_info"]["boot_iso"] == "http://127.0.0.1:8000/xcp-ng-8.3.0.iso"


def test_credentials_reach_the_resources_as_secrets(region_graph: Graph) -> None:
    g = region_graph
    node = g["dev-baremetal-cmp-01"]
    assert node.inputs["driver_info"]["value"] == {  # the secret's value, as the mocks received it
        "ipmi_address": "10.0.0.11", "ipmi_username": "admin", "ipmi_password": "(encrypted)"
    }
    for name, keys in {
        "dev-baremetal-cmp-01": {"driver_info"},
        "dev-pool-a-pool": {"password"},
        "dev-pool-a-guest": {"password"},
        "dev-pool-a-sr": {"password"},
        "dev-cloud-pool-a": {"password"},
        "dev-cloud-secondary-s3": {"secret_key"},
    }.items():
        assert keys <= g[name].secrets, (name, g[name].secrets)
    assert g["dev-cloud-zone"].secrets == frozenset()


def test_the_stack_outputs_are_keyed_by_server_and_by_pool(region_graph: Graph) -> None:
    out = region_graph.outputs
    assert set(out["node_uuids"]) == set(SERVERS)
    assert out["host_ids"] == {"pool-a": [], "pool-b": []}  # no host joined under the mocks
    assert out["zone_id"] == "dev-cloud-zone-id"


def test_every_dynamic_resource_carries_its_provider_unrun(region_graph: Graph) -> None:
    """The provider travels pickled in `__provider`; the mocks answered, the provider never ran."""
    for r in region_graph.by_name.values():
        if r.custom:
            assert isinstance(r.inputs.get("__provider"), str) and r.inputs["__provider"], r.name


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
    assert _deps(g, "dev-cloud-secondary-nfs") == STORAGE | {"dev-cloud-zone"}
    assert "dev-cloud-secondary-nfs" in _deps(g, "dev-cloud-enabled")
