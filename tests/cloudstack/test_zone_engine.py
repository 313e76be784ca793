"""A zone that really works, through the real Pulumi engine: the `CloudZone` component against a
freshly installed (emulated) management server and an emulated XCP-ng pool.

- the program logs in with the admin password and registers its own keys (no keys in config);
- without a public range the zone's readiness fails with CloudStack's reason, and adding a range
  repairs it on the next up;
- a global setting changed by hand shows at refresh, and the next up puts it back;
- rotating the keys is an in-place update of the management server that replaces nothing and
  changes nothing else in CloudStack (the other resources only take the new connection).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from lab.cloudstack import CloudStackLab
from tests.cloudstack.conftest import SR_NAME, XAPI_PASSWORD
from tests.enginekit import EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PROGRAM = """
import json

import pulumi

from components.cloudzone import CloudZone, CloudZoneArgs, ClusterSource, ManagementAccess
from components.config import Zone as ZoneConfig

cfg = pulumi.Config()
xapi = cfg.require_secret_object("xapi")
zone = ZoneConfig.model_validate(json.loads(cfg.require("zone")))
cloud = CloudZone("cloud", CloudZoneArgs(
    zone=zone,
    clusters=[ClusterSource(name="pool-1", master_url=xapi["url"], password=xapi["password"],
                            sr_name=cfg.require("srName"))],
    management=ManagementAccess(endpoint=cfg.require("endpoint"), password=cfg.require_secret("adminPassword"),
                                new_password=cfg.require_secret("newAdminPassword"),
                                key_version=int(cfg.get("keyVersion") or "1")),
))
pulumi.export("zone_id", cloud.zone_id)
pulumi.export("cloudstack", cloud.connection)
"""

NEW_PASSWORD = "n3w-admin-password-0001"
ZONE: dict[str, Any] = {
    "name": "zone-1", "dns": ["8.8.8.8"], "internalDns": ["10.0.0.2"], "guestCidr": "10.1.0.0/16",
    "physicalNetwork": {"name": "physnet-1", "vlanRange": "100-199",
                        "traffic": {"management": "xenbr0", "guest": "cloud-guest", "public": "cloud-public"}},
    "pod": {"name": "pod-1", "gateway": "192.168.10.1", "netmask": "255.255.255.0", "startIp": "192.168.10.100",
            "endIp": "192.168.10.150"},
    "primaryStorage": {"type": "presetup"},
    "secondaryStorage": {"type": "nfs", "nfsUrl": "nfs://10.0.0.5/secondary"},
    "settings": {"network.throttling.rate": "300"},
    "readinessTimeout": 3,
}
PUBLIC = {"gateway": "192.0.2.1", "netmask": "255.255.255.0", "startIp": "192.0.2.10", "endIp": "192.0.2.20"}


@pytest.fixture
def fresh() -> Iterator[CloudStackLab]:
    lab = CloudStackLab.start(fresh=True)
    lab.backend.systemvms.boot_seconds = 0.5
    try:
        yield lab
    finally:
        lab.stop()


def names(result: Any) -> dict[str, str]:
    return {k: v for k, v in result.ops_by_name().items() if k != "default"}


def errors(result: Any) -> str:
    return "".join(result.diagnostics("error"))


def test_a_zone_that_really_works(tmp_path: Path, engine_bin: Path, fresh: CloudStackLab, xapi_lab: Any) -> None:
    st = EngineStack.create(
        tmp_path, engine_bin, program=PROGRAM,
        config={"endpoint": fresh.endpoint, "srName": SR_NAME, "zone": json.dumps(ZONE)},
        secrets={"xapi": json.dumps({"url": xapi_lab.hosts[0].url, "password": XAPI_PASSWORD}),
                 "adminPassword": "password", "newAdminPassword": NEW_PASSWORD},
    )

    # no public range: everything is made, the zone is enabled, and readiness fails with the reason
    failed = st.run("up", "--skip-preview")
    assert failed.returncode != 0
    assert "Insufficient address capacity" in errors(failed), errors(failed)
    assert fresh.admin_password == NEW_PASSWORD  # the program set it, and registered its keys
    raw = CloudStack(endpoint=fresh.endpoint, key=fresh.api_key, secret=fresh.secret_key, method="post")
    zone_id = raw.listZones(name="zone-1")["zone"][0]["id"]
    assert raw.listZones(id=zone_id)["zone"][0]["allocationstate"] == "Enabled"

    # a public range repairs it on the next up
    st.set_config("zone", json.dumps({**ZONE, "publicIpRanges": [PUBLIC], "readinessTimeout": 60}))
    planned = names(st.preview())
    assert (planned["cloud-public-0"], planned["cloud-ready"]) == ("create", "create")
    st.up()
    vms = raw.listSystemVms(zoneid=zone_id)["systemvm"]
    assert {(v["systemvmtype"], v["state"]) for v in vms} == {("secondarystoragevm", "Running"),
                                                              ("consoleproxy", "Running")}
    assert st.up().changes == {}
    outputs = st.outputs(show_secrets=True)
    assert outputs["zone_id"] == zone_id
    assert outputs["cloudstack"] == {"endpoint": fresh.endpoint, "apiKey": fresh.api_key,
                                     "secretKey": fresh.secret_key}

    # a setting CloudStack applies only after a restart is named in the preview
    st.set_config("zone", json.dumps({**ZONE, "publicIpRanges": [PUBLIC], "readinessTimeout": 60,
                                      "settings": {**ZONE["settings"], "expunge.delay": "600"}}))
    planned_steps = {s.name: s for s in st.preview().steps}
    assert planned_steps["cloud-settings"].op == "update"
    assert planned_steps["cloud-settings"].diffs == ["restart_required", "values"]
    assert st.up().changes == {"update": 1}
    assert st.up().changes == {}

    # a setting changed by hand shows at refresh; the next up puts it back
    raw.updateConfiguration(name="network.throttling.rate", value="999", zoneid=zone_id)
    refreshed = st.refresh()
    assert refreshed.drifted() == {"cloud-settings": ["values"]}
    assert st.up().changes == {"update": 1}
    value = raw.listConfigurations(name="network.throttling.rate", zoneid=zone_id)["configuration"][0]["value"]
    assert value == "300"

    # key rotation: the management server changes in place, nothing is replaced or touched in CloudStack
    before = {n: r["id"] for n, r in st.resources().items()}
    zones_before = raw.listZones(id=zone_id)
    old_keys = (fresh.api_key, fresh.secret_key)
    st.set_config("keyVersion", "2")
    preview = st.preview()
    ops = names(preview)
    assert ops["cloud-management"] == "update"
    assert set(ops.values()) <= {"same", "update"}, ops
    assert {s.name: s.diffs for s in preview.steps if s.op == "update" and s.name != "cloud-management"} == {
        n: ["connection"] for n, op in ops.items() if op == "update" and n != "cloud-management"}
    logged = len(fresh.request_log)
    rotated = st.up()
    assert set(rotated.changes) == {"update"}
    mutations = {r.command for r in fresh.request_log[logged:]
                 if not r.command.startswith(("list", "query")) and r.command not in ("login", "logout")}
    assert mutations == {"registerUserKeys"}
    assert {n: r["id"] for n, r in st.resources().items()} == before
    assert (fresh.api_key, fresh.secret_key) != old_keys
    with pytest.raises(CloudStackApiException):
        raw.listZones()  # the old pair is revoked
    raw = CloudStack(endpoint=fresh.endpoint, key=fresh.api_key, secret=fresh.secret_key, method="post")
    assert raw.listZones(id=zone_id) == zones_before
    assert st.up().changes == {}
    assert st.refresh().changes == {}

    # no secret in plain text in state
    state = json.dumps(st.export())
    for secret in (NEW_PASSWORD, XAPI_PASSWORD, fresh.api_key, fresh.secret_key, old_keys[1]):
        assert secret not in state

    # destroy: everything goes, the program's keys are revoked
    st.destroy()
    fresh_raw = CloudStack(endpoint=fresh.endpoint, key=fresh.api_key, secret=fresh.secret_key, method="post")
    assert fresh_raw.listZones() == {}
