"""ManagementServer, GlobalSettings, PublicIpRange, StorageNetworkIpRange, NetworkServiceProvider and
ZoneReadiness against the emulators, with the idempotency choreography where it applies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from lab.cloudstack import CloudStackLab
from providers._core import Permanent
from providers.cloudstack.base import CONNECTION
from providers.cloudstack.globalsettings import GlobalSettingsProvider
from providers.cloudstack.ipranges import PublicIpRangeProvider, StorageNetworkIpRangeProvider
from providers.cloudstack.management import ManagementServerProvider
from providers.cloudstack.network import PhysicalNetworkProvider
from providers.cloudstack.readiness import NetworkServiceProviderProvider, ZoneReadinessProvider
from providers.cloudstack.zone import ZoneProvider
from tests.cloudstack.choreography import choreography, commands, normalised
from tests.cloudstack.conftest import LABELS, SR_NAME, XAPI_PASSWORD, ZONE
from tests.cloudstack.test_infra import async_call

PUBLIC = {"gateway": "192.0.2.1", "netmask": "255.255.255.0", "start_ip": "192.0.2.10", "end_ip": "192.0.2.20"}


@pytest.fixture
def fresh() -> Iterator[CloudStackLab]:
    lab = CloudStackLab.start(fresh=True)
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def net_id(configured: Callable[..., Any], zone_id: str) -> str:
    nets = configured(PhysicalNetworkProvider)
    labels = {**LABELS, "Storage": "cloud-storage"}
    return str(nets.create(normalised(nets, {"zone_id": zone_id, "name": "physnet-1", "vlan": "100-199",
                                             "traffic_labels": labels})).id)


# --- the management server's day 0 --------------------------------------------------------------


def ms_inputs(ms: ManagementServerProvider, props: dict[str, Any]) -> dict[str, Any]:
    result = ms.check({}, props)
    assert result.failures == [], [f.reason for f in result.failures]
    return dict(result.inputs)


def signed(lab: CloudStackLab, outs: dict[str, Any]) -> CloudStack:
    return CloudStack(endpoint=lab.endpoint, key=outs["api_key"], secret=outs["secret_key"], method="post")


def test_management_server_bootstraps_rotates_and_revokes_keys(fresh: CloudStackLab) -> None:
    ms = ManagementServerProvider()
    props = ms_inputs(ms, {"endpoint": fresh.endpoint, "password": "password", "new_password": "n3w-admin-pw"})
    made = ms.create(props)
    outs = dict(made.outs or {})
    assert signed(fresh, outs).listZones() == {}
    assert fresh.admin_password == "n3w-admin-pw"
    # a re-run after the password changed still logs in (with the new one) and keeps the keys
    again = ms.update(str(made.id), outs, props)
    assert dict(again.outs or {})["api_key"] == outs["api_key"]
    assert ms.read(str(made.id), outs).id == made.id
    # rotation: a new pair, the old one refused at once
    rotated_props = {**props, "key_version": 2}
    assert ms.diff(str(made.id), outs, rotated_props).changes is True
    assert not ms.diff(str(made.id), outs, rotated_props).replaces
    rotated = dict(ms.update(str(made.id), outs, rotated_props).outs or {})
    assert rotated["api_key"] != outs["api_key"]
    assert signed(fresh, rotated).listZones() == {}
    with pytest.raises(CloudStackApiException):
        signed(fresh, outs).listZones()
    assert ms.read(str(made.id), outs).id == ""  # the old keys read as gone: the next up registers new ones
    # delete revokes the program's keys
    ms.delete(str(made.id), rotated)
    with pytest.raises(CloudStackApiException):
        signed(fresh, rotated).listZones()
    assert not any("n3w-admin-pw" in str(r.params) or "password=" in str(r.params) for r in fresh.request_log
                   if r.command != "login")


def test_management_server_refused_login_names_cloudstacks_words(fresh: CloudStackLab) -> None:
    ms = ManagementServerProvider()
    with pytest.raises(Permanent) as e:
        ms.create(ms_inputs(ms, {"endpoint": fresh.endpoint, "password": "not-it"}))
    assert "Failed to authenticate user admin in domain 1" in e.value.message and "not-it" not in str(e.value)


def test_resources_take_the_management_servers_connection(fresh: CloudStackLab) -> None:
    """No stack-config keys: a zone made with the connection output, read and deleted with it; a
    rotated connection is an in-place update that calls nothing."""
    ms = ManagementServerProvider()
    outs = dict(ms.create(ms_inputs(ms, {"endpoint": fresh.endpoint, "password": "password"})).outs or {})
    conn = {"endpoint": outs["endpoint"], "apiKey": outs["api_key"], "secretKey": outs["secret_key"],
            "pollInterval": 0.01}
    zones = ZoneProvider()  # not configured: the connection is the only way in
    props = normalised(zones, {**ZONE, CONNECTION: conn})
    made = ms_zone = zones.create(props)
    zone_outs = dict(made.outs or {})
    assert zone_outs[CONNECTION] == conn
    rotated = dict(ms.update(str(outs["user_id"]), outs, {**ms_inputs(ms, {"endpoint": fresh.endpoint,
                                                                              "password": "password"}),
                                                            "key_version": 2}).outs or {})
    new_conn = {**conn, "apiKey": rotated["api_key"], "secretKey": rotated["secret_key"]}
    new_props = normalised(zones, {**ZONE, CONNECTION: new_conn})
    planned = zones.diff(str(ms_zone.id), zone_outs, new_props)
    assert planned.changes is True and not planned.replaces
    before = len(fresh.request_log)
    updated = dict(zones.update(str(ms_zone.id), zone_outs, new_props).outs or {})
    assert {r.command for r in fresh.request_log[before:]} <= {"listZones"}
    assert updated[CONNECTION] == new_conn
    assert zones.read(str(ms_zone.id), updated).id == ms_zone.id
    zones.delete(str(ms_zone.id), updated)
    assert zones.read(str(ms_zone.id), updated).id == ""


# --- global settings ----------------------------------------------------------------------------


def test_global_settings_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                      zone_id: str) -> None:
    gs = configured(GlobalSettingsProvider)
    props = {"zone_id": zone_id, "values": {"expunge.delay": "600", "network.throttling.rate": "300"}}
    planned = normalised(gs, props)
    assert planned["restart_required"] == ["expunge.delay"]  # the preview note
    made = gs.create(planned)
    assert commands(cs_lab.request_log, "updateConfiguration") == 2
    assert dict(made.outs or {})["restart_required"] == ["expunge.delay"]
    assert gs.create(planned).id == made.id and commands(cs_lab.request_log, "updateConfiguration") == 2
    zone_value = raw.listConfigurations(zoneid=zone_id, name="network.throttling.rate")["configuration"][0]
    assert zone_value["value"] == "300"
    assert raw.listConfigurations(name="network.throttling.rate")["configuration"][0]["value"] == "200"
    outs = dict(made.outs or {})
    # changed by hand: the drift shows at refresh, an update repairs it
    raw.updateConfiguration(name="network.throttling.rate", value="999", zoneid=zone_id)
    read = gs.read(str(made.id), outs)
    assert dict(read.inputs or {})["values"]["network.throttling.rate"] == "999"
    assert gs.diff(str(made.id), dict(read.outs or {}), planned).changes is True
    outs = dict(gs.update(str(made.id), dict(read.outs or {}), planned).outs or {})
    assert gs.diff(str(made.id), outs, planned).changes is False
    # a setting removed from the program goes back to its default
    fewer = normalised(gs, {"zone_id": zone_id, "values": {"network.throttling.rate": "300"}})
    outs = dict(gs.update(str(made.id), outs, fewer).outs or {})
    assert raw.listConfigurations(name="expunge.delay")["configuration"][0]["value"] == "86400"
    assert outs["restart_required"] == []
    gs.delete(str(made.id), outs)
    assert raw.listConfigurations(zoneid=zone_id, name="network.throttling.rate")["configuration"][0]["value"] == \
        "200"


def test_an_unknown_setting_is_refused_in_cloudstacks_words(cs_lab: Any, configured: Callable[..., Any]) -> None:
    gs = configured(GlobalSettingsProvider)
    with pytest.raises(Permanent) as e:
        gs.create(normalised(gs, {"values": {"no.such.setting": "1"}}))
    assert "no setting named 'no.such.setting'" in e.value.message


# --- IP ranges ----------------------------------------------------------------------------------


def test_public_ip_range_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str,
                                      net_id: str) -> None:
    ranges = configured(PublicIpRangeProvider)
    assert [f.property for f in ranges.check({}, {**PUBLIC, "zone_id": zone_id, "end_ip": "192.0.3.5"}).failures] \
        == ["end_ip"]
    outcome = choreography(
        ranges, {**PUBLIC, "zone_id": zone_id},
        create_command="createVlanIpRange",
        update={"end_ip": "192.0.2.40"},
        out_of_band=lambda r: raw.updateVlanIpRange(id=r, endip="192.0.2.30"),
        drifted=["end_ip"],
        log=cs_lab.request_log,
    )
    assert outcome.outputs["cidr"] == "192.0.2.0/24" and outcome.outputs["vlan"] == "untagged"
    assert net_id


def test_storage_network_ip_range_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                               pod_id: str, net_id: str) -> None:
    del net_id  # the zone's Storage traffic
    choreography(
        configured(StorageNetworkIpRangeProvider),
        {"pod_id": pod_id, "gateway": "10.20.0.1", "netmask": "255.255.255.0", "start_ip": "10.20.0.10",
         "end_ip": "10.20.0.20", "vlan": 200},
        create_command="createStorageNetworkIpRange",
        update={"end_ip": "10.20.0.40"},
        out_of_band=lambda r: async_call(cs_lab, raw, "updateStorageNetworkIpRange", id=r, endip="10.20.0.30"),
        drifted=["end_ip"],
        log=cs_lab.request_log,
    )


def test_internal_lb_provider_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                           net_id: str) -> None:
    nsps = configured(NetworkServiceProviderProvider)
    outcome = choreography(
        nsps, {"physical_network_id": net_id, "name": "InternalLbVm"},
        create_command="configureInternalLoadBalancerElement",
        update={"enabled": False},
        out_of_band=lambda nsp: async_call(cs_lab, raw, "updateNetworkServiceProvider", id=nsp, state="Enabled"),
        drifted=["enabled"],
        log=cs_lab.request_log,
        delete=False,
    )
    nsps.delete(outcome.id, outcome.outputs)
    listed = raw.listNetworkServiceProviders(physicalnetworkid=net_id, name="InternalLbVm")["networkserviceprovider"]
    assert [(p["id"], p["state"]) for p in listed] == [(outcome.id, "Disabled")]  # it stays with the network


# --- readiness ----------------------------------------------------------------------------------


def _zone_without_public_range(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str,
                               net_id: str, pod_id: str, xapi_lab: Any) -> None:
    cluster = raw.addCluster(zoneid=zone_id, podid=pod_id, clustername="pool-1", clustertype="CloudManaged",
                             hypervisor="XenServer")["cluster"][0]
    raw.addHost(zoneid=zone_id, podid=pod_id, clusterid=cluster["id"], hypervisor="XenServer",
                url=xapi_lab.hosts[0].url, username="root", password=XAPI_PASSWORD)
    raw.createStoragePool(zoneid=zone_id, podid=pod_id, clusterid=cluster["id"], name="primary",
                          url=f"presetup://localhost/{SR_NAME}")
    raw.addImageStore(provider="NFS", name="secondary", zoneid=zone_id, url="nfs://10.0.0.5/secondary")
    raw.updateZone(id=zone_id, allocationstate="Enabled")
    del cs_lab, configured, net_id  # fixtures the zone needs made first


def test_readiness_fails_with_the_reason_and_a_public_range_repairs_it(
        cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], zone_id: str, net_id: str, pod_id: str,
        xapi_lab: Any) -> None:
    cs_lab.backend.systemvms.boot_seconds = 0.2
    _zone_without_public_range(cs_lab, raw, configured, zone_id, net_id, pod_id, xapi_lab)
    ready = configured(ZoneReadinessProvider)
    props = normalised(ready, {"zone_id": zone_id, "timeout": 0.3})
    with pytest.raises(Permanent) as e:
        ready.create(props)
    assert "Insufficient address capacity" in e.value.message and "[zone-1]" in e.value.message
    configured(PublicIpRangeProvider).create(normalised(configured(PublicIpRangeProvider),
                                                        {**PUBLIC, "zone_id": zone_id}))
    made = ready.create(normalised(ready, {"zone_id": zone_id, "timeout": 30}))
    outs = dict(made.outs or {})
    assert outs["secondary_storage_vm"].startswith("s-") and outs["console_proxy"].startswith("v-")
    assert ready.read(str(made.id), outs).id == made.id
    vm = raw.listSystemVms(zoneid=zone_id, systemvmtype="consoleproxy")["systemvm"][0]
    async_call(cs_lab, raw, "stopSystemVm", id=vm["id"])
    # a scan restarts it; until it runs, refresh reads readiness as gone
    stopped = [v for v in raw.listSystemVms(zoneid=zone_id)["systemvm"] if v["state"] != "Running"]
    assert stopped and ready.read(str(made.id), outs).id == ""
