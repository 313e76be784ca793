"""The CloudStack resources through the real Pulumi engine, against the emulators.

The emulators run in this test process (threaded servers on 127.0.0.1); the engine's provider
process reaches them over HTTP with the endpoint and keys from the secret stack-config object
`enginetest:cloudstack`. Preview must show an update where CloudStack changes in place and a
replace where it cannot, before anything is done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests.cloudstack.conftest import XAPI_PASSWORD
from tests.enginekit import EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.slow]

REGION = """
import pulumi
from providers.cloudstack.cluster import Cluster, ClusterArgs
from providers.cloudstack.network import PhysicalNetwork, PhysicalNetworkArgs
from providers.cloudstack.pod import Pod, PodArgs
from providers.cloudstack.storage import (ImageStore, ImageStoreArgs, PrimaryStorage, PrimaryStorageArgs,
                                         StagingStore, StagingStoreArgs)
from providers.cloudstack.zone import Zone, ZoneArgs, ZoneEnablement, ZoneEnablementArgs

cfg = pulumi.Config()
xapi = cfg.require_secret_object("xapi")
s3 = cfg.require_secret_object("s3")

zone = Zone("zone", ZoneArgs(
    name="zone-1", dns1=cfg.require("dns1"), internal_dns1="10.0.0.2", guest_cidr="10.1.1.0/24"))
net = PhysicalNetwork("physnet", PhysicalNetworkArgs(
    zone_id=zone.id, name="physnet-1", vlan=cfg.require("vlan"),
    traffic_labels={"Management": "xenbr0", "Guest": "cloud-guest", "Public": "cloud-public"}))
pod = Pod("pod", PodArgs(
    zone_id=zone.id, name="pod-1", gateway="192.168.10.1", netmask="255.255.255.0",
    start_ip="192.168.10.100", end_ip="192.168.10.150"))
cluster = Cluster("cluster", ClusterArgs(
    zone_id=zone.id, pod_id=pod.id, name=cfg.require("clusterName"), url=xapi["url"],
    username="root", password=xapi["password"]))
primary = PrimaryStorage("primary", PrimaryStorageArgs(
    zone_id=zone.id, pod_id=pod.id, cluster_id=cluster.id, name="ceph-sr", type="PreSetup",
    url="presetup://localhost/ceph-sr"))
staging = StagingStore("staging", StagingStoreArgs(
    zone_id=zone.id, url=cfg.require("stagingUrl")))
images = ImageStore("images", ImageStoreArgs(
    kind="S3", name="rgw", bucket="cloudstack-secondary", endpoint="127.0.0.1:7480",
    access_key=s3["accessKey"], secret_key=s3["secretKey"]), pulumi.ResourceOptions(depends_on=[staging]))
ZoneEnablement("enabled", ZoneEnablementArgs(zone_id=zone.id),
    pulumi.ResourceOptions(depends_on=[net, pod, cluster, primary, staging, images]))

pulumi.export("zone_id", zone.id)
pulumi.export("hosts", cluster.host_ids)
"""

S3_SECRET = "rgw-secret-key-do-not-leak-0001"


def names(result: Any) -> dict[str, str]:
    return {k: v for k, v in result.ops_by_name().items() if k != "default"}


def test_region_through_the_engine(tmp_path: Path, engine_bin: Path, cs_lab: Any, xapi_lab: Any,
                                   raw: CloudStack) -> None:
    config = {"cloudstack": json.dumps({"endpoint": cs_lab.endpoint, "apiKey": cs_lab.api_key,
                                        "secretKey": cs_lab.secret_key, "pollInterval": 0.01,
                                        "jobTimeout": 120}),
              "xapi": json.dumps({"url": xapi_lab.hosts[0].url, "password": XAPI_PASSWORD}),
              "s3": json.dumps({"accessKey": "RGWACCESS", "secretKey": S3_SECRET})}
    st = EngineStack.create(tmp_path, engine_bin, program=REGION, secrets=config,
                            config={"dns1": "8.8.8.8", "vlan": "100-199", "clusterName": "pool-1",
                                    "stagingUrl": "nfs://10.0.0.5/staging"})
    resources = ["zone", "physnet", "pod", "cluster", "primary", "staging", "images", "enabled"]

    preview = st.preview()
    assert preview.changes == {"create": len(resources) + 1}  # and the stack

    assert st.up().changes == {"create": len(resources) + 1}
    zone_id = st.outputs()["zone_id"]
    assert raw.listZones(id=zone_id)["zone"][0]["allocationstate"] == "Enabled"
    assert len(st.outputs()["hosts"]) == len(xapi_lab.hosts)

    # up again: nothing to do
    again = st.up()
    assert again.changes == {}
    assert set(names(again).values()) == {"same"}

    # secrets stay secret from config to state
    state = json.dumps(st.export())
    for secret in (cs_lab.secret_key, XAPI_PASSWORD, S3_SECRET):
        assert secret not in state

    # in place: DNS, the VLAN range and the cluster's name
    st.set_config("dns1", "1.1.1.1")
    st.set_config("vlan", "100-299")
    st.set_config("clusterName", "pool-one")
    preview = st.preview()
    ops = names(preview)
    assert (ops["zone"], ops["physnet"], ops["cluster"]) == ("update", "update", "update")
    assert {s.name: s.diffs for s in preview.steps if s.op == "update"} == {
        "zone": ["dns1"], "physnet": ["vlan"], "cluster": ["name"]}
    assert st.up().changes == {"update": 3}
    again = st.up()
    assert again.changes == {}, [(s.name, s.diffs) for s in again.steps if s.op != "same"]

    # a replace, known at preview: the staging store's URL (CloudStack cannot change it)
    st.set_config("stagingUrl", "nfs://10.0.0.6/staging")
    preview = st.preview()
    assert names(preview)["staging"] == "replace"
    assert names(preview)["zone"] == "same"
    assert st.up().changes.get("replace") == 1
    stores = raw.listSecondaryStagingStores(zoneid=zone_id)["imagestore"]
    assert [s["url"] for s in stores] == ["nfs://10.0.0.6/staging"]

    # an out-of-band change shows on refresh and the next up repairs it
    raw.updateZone(id=zone_id, dns1="4.4.4.4")
    refreshed = st.refresh()
    assert refreshed.changes == {"update": 1}
    assert names(st.preview())["zone"] == "update"
    assert st.up().changes == {"update": 1}
    assert raw.listZones(id=zone_id)["zone"][0]["dns1"] == "1.1.1.1"

    # an object removed out of band is dropped by refresh and recreated by the next up
    staging_id = st.resources()["staging"]["id"]
    raw.deleteSecondaryStagingStore(id=staging_id)
    assert st.refresh().changes == {"delete": 1}
    assert "staging" not in st.resources()
    assert names(st.preview())["staging"] == "create"
    assert st.up().changes == {"create": 1}
    assert st.up().changes == {}

    # still no secret in plain text after refreshes (read returns inputs with the secrets in them)
    state = json.dumps(st.export())
    for secret in (cs_lab.secret_key, XAPI_PASSWORD, S3_SECRET):
        assert secret not in state

    # destroy: everything goes (maintenance before delete), and destroy again is a no-op
    assert st.destroy().changes == {"delete": len(resources) + 1}
    assert raw.listZones() == {}
    assert st.destroy().changes == {}
