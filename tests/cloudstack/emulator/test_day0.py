"""Day 0 of a management server on the emulator: a fresh install's login and keys, global
settings, public and storage network IP ranges, system VMs with their events and alerts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cs
import pytest
import requests

from lab.cloudstack import CloudStackLab
from tests.cloudstack.emulator.conftest import Pool, ZoneIds, build_zone, s3_details
from tests.cloudstack.emulator.test_conformance import _fields_ok


@pytest.fixture
def fresh() -> Iterator[CloudStackLab]:
    lab = CloudStackLab.start(fresh=True)
    try:
        yield lab
    finally:
        lab.stop()


def login(lab: CloudStackLab, password: str = "password") -> tuple[requests.Session, dict[str, Any]]:
    s = requests.Session()
    r = s.post(lab.endpoint, data={"command": "login", "username": "admin", "password": password,
                                   "response": "json"}, timeout=10)
    return s, {"status": r.status_code, **r.json()["loginresponse"]}


def session_call(s: requests.Session, lab: CloudStackLab, key: str, **params: str) -> tuple[int, dict[str, Any]]:
    r = s.post(lab.endpoint, data={**params, "sessionkey": key, "response": "json"}, timeout=10)
    return r.status_code, next(iter(r.json().values()))


def client(lab: CloudStackLab, key: str | None = None, secret: str | None = None) -> cs.CloudStack:
    return cs.CloudStack(endpoint=lab.endpoint, key=key or lab.api_key, secret=secret or lab.secret_key,
                         poll_interval=0.01, job_timeout=10, fetch_result=True)


# ------------------------------------------------------------------------------- login and keys


def test_a_fresh_install_has_no_keys_and_answers_signed_calls_401(fresh: CloudStackLab) -> None:
    assert fresh.responses.api_key is None and fresh.info()["admin_password"] == "password"
    with pytest.raises(cs.CloudStackApiException) as e:
        client(fresh, "some-key", "some-secret").listZones()
    assert e.value.error["errorcode"] == 401


def test_login_is_post_only_and_refuses_a_wrong_password(fresh: CloudStackLab) -> None:
    r = requests.get(fresh.endpoint, params={"command": "login", "username": "admin", "password": "password",
                                             "response": "json"}, timeout=10)
    assert r.status_code == 405
    assert r.json()["loginresponse"]["errortext"] == "Please use HTTP POST to authenticate using this API"
    _, answer = login(fresh, "wrong")
    assert answer["status"] == 531 and "cserrorcode" not in answer
    assert answer["errortext"] == "Failed to authenticate user admin in domain 1; please provide valid credentials"
    assert all(r.params.get("password") in (None, "(not shown)") for r in fresh.request_log)


def test_login_session_registers_keys_and_a_new_pair_revokes_the_old(fresh: CloudStackLab) -> None:
    s, answer = login(fresh)
    assert answer["status"] == 200 and answer["username"] == "admin" and answer["type"] == "1"
    assert {"JSESSIONID", "sessionkey"} <= set(s.cookies.keys())
    status, zones = session_call(s, fresh, answer["sessionkey"], command="listZones")
    assert (status, zones) == (200, {})
    status, refused = session_call(s, fresh, "not-the-key", command="listZones")
    assert status == 401 and refused["errortext"] == "unable to verify user credentials"
    s, answer = login(fresh)  # that session was invalidated
    status, keys = session_call(s, fresh, answer["sessionkey"], command="registerUserKeys", id=answer["userid"])
    assert status == 200 and set(keys["userkeys"]) == {"apikey", "secretkey"}
    first = keys["userkeys"]
    assert client(fresh, first["apikey"], first["secretkey"]).listZones() == {}
    _, keys = session_call(s, fresh, answer["sessionkey"], command="registerUserKeys", id=answer["userid"])
    second = keys["userkeys"]
    assert client(fresh, second["apikey"], second["secretkey"]).listZones() == {}
    with pytest.raises(cs.CloudStackApiException):
        client(fresh, first["apikey"], first["secretkey"]).listZones()
    assert fresh.api_key == second["apikey"]


def test_the_admin_password_changes_with_update_user(fresh: CloudStackLab) -> None:
    s, answer = login(fresh)
    status, body = session_call(s, fresh, answer["sessionkey"], command="updateUser", id=answer["userid"],
                                password="n3w-secret")
    assert status == 200 and body["user"]["username"] == "admin" and not _fields_ok("updateUser", body)
    assert login(fresh)[1]["status"] == 531
    assert login(fresh, "n3w-secret")[1]["status"] == 200


# ------------------------------------------------------------------------------- global settings


def test_global_and_zone_scoped_settings(lab: CloudStackLab) -> None:
    c = client(lab)
    zone = c.createZone(name="z", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.2")["zone"]
    listed = c.listConfigurations(name="expunge.delay")["configuration"]
    assert [(x["name"], x["value"], x["isdynamic"]) for x in listed] == [("expunge.delay", "86400", False)]
    assert c.updateConfiguration(name="expunge.delay", value="600")["configuration"]["value"] == "600"
    scoped = c.updateConfiguration(name="network.throttling.rate", value="500", zoneid=zone["id"])["configuration"]
    assert (scoped["value"], scoped["scope"], scoped["id"], scoped["isdynamic"]) == ("500", "zone", zone["id"], True)
    assert c.listConfigurations(name="network.throttling.rate")["configuration"][0]["value"] == "200"
    in_zone = c.listConfigurations(zoneid=zone["id"], name="network.throttling.rate")["configuration"]
    assert in_zone[0]["value"] == "500"
    for kwargs, text in (
        ({"name": "no.such.setting", "value": "1"}, "Config parameter with name no.such.setting doesn't exist"),
        ({"name": "expunge.delay", "value": "1", "zoneid": zone["id"]},
         "Invalid scope id provided for the parameter expunge.delay"),
        ({"name": "expunge.delay", "value": "soon"},
         "There was an error trying to parse the integer value for configuration parameter: expunge.delay"),
        ({"name": "system.vm.use.local.storage", "value": "yes", "zoneid": zone["id"]},
         "Please enter either 'true' or 'false'."),
    ):
        with pytest.raises(cs.CloudStackApiException) as e:
            c.updateConfiguration(**kwargs)
        assert (e.value.error["errorcode"], e.value.error["errortext"]) == (431, text)
    assert c.resetConfiguration(name="network.throttling.rate", zoneid=zone["id"])["configuration"]["value"] == "200"
    assert c.resetConfiguration(name="expunge.delay")["configuration"]["value"] == "86400"
    assert not _fields_ok("listConfigurations", c.listConfigurations(zoneid=zone["id"]))


# ------------------------------------------------------------------------------- IP ranges


def test_public_ranges_refuse_overlaps_and_move_within_their_subnet(lab: CloudStackLab) -> None:
    c = client(lab)
    ids = build_zone(c)
    rng = c.createVlanIpRange(zoneid=ids.zone, vlan="untagged", gateway="192.0.2.1", netmask="255.255.255.0",
                              startip="192.0.2.10", endip="192.0.2.20", forvirtualnetwork=True)["vlan"]
    assert (rng["vlan"], rng["cidr"], rng["physicalnetworkid"]) == ("vlan://untagged", "192.0.2.0/24",
                                                                    ids.physical_network)
    assert not _fields_ok("createVlanIpRange", {"vlan": rng})
    for kwargs, text in (
        ({"startip": "192.0.2.15", "endip": "192.0.2.30"}, "The IP range already has IPs that overlap with the new "
                                                           "range. Please specify a different start IP/end IP."),
        ({"startip": "192.0.3.15", "endip": "192.0.3.30"},
         "Please ensure that your start IP is in the same subnet as your IP range's gateway, as per the IP range's "
         "netmask."),
    ):
        with pytest.raises(cs.CloudStackApiException) as e:
            c.createVlanIpRange(zoneid=ids.zone, gateway="192.0.2.1", netmask="255.255.255.0", **kwargs)
        assert e.value.error["errortext"] == text
    with pytest.raises(cs.CloudStackApiException) as e:
        c.createVlanIpRange(zoneid=ids.zone, gateway="10.10.0.1", netmask="255.255.255.0", startip="10.10.0.150",
                            endip="10.10.0.160")
    assert "overlap with private IP :10.10.0.100:10.10.0.199" in e.value.error["errortext"]
    moved = c.updateVlanIpRange(id=rng["id"], endip="192.0.2.40")["vlan"]
    assert moved["endip"] == "192.0.2.40"
    assert [r["id"] for r in c.listVlanIpRanges(zoneid=ids.zone)["vlaniprange"]] == [rng["id"]]
    c.deleteVlanIpRange(id=rng["id"])
    assert c.listVlanIpRanges(zoneid=ids.zone) == {}


def test_storage_network_ranges_are_jobs_checked_against_the_pod(lab: CloudStackLab) -> None:
    c = client(lab)
    ids = build_zone(c)
    made = c.createStorageNetworkIpRange(podid=ids.pod, gateway="10.20.0.1", netmask="255.255.255.0",
                                         startip="10.20.0.10", endip="10.20.0.20", vlan=200)["storagenetworkiprange"]
    assert (made["startip"], made["vlan"], made["zoneid"]) == ("10.20.0.10", 200, ids.zone)
    with pytest.raises(cs.CloudStackException) as e:
        c.createStorageNetworkIpRange(podid=ids.pod, gateway="10.10.0.1", netmask="255.255.255.0",
                                      startip="10.10.0.120", endip="10.10.0.130")
    assert "The Storage network Start IP and endIP address range overlap with private IP :10.10.0.100:10.10.0.199" \
        in str(e.value)
    c.updateStorageNetworkIpRange(id=made["id"], endip="10.20.0.30")
    listed = c.listStorageNetworkIpRange(podid=ids.pod)["storagenetworkiprange"]
    assert [r["endip"] for r in listed] == ["10.20.0.30"]
    assert not _fields_ok("listStorageNetworkIpRange", {"x": listed})
    c.deleteStorageNetworkIpRange(id=made["id"])
    assert c.listStorageNetworkIpRange(podid=ids.pod) == {}


def test_the_internal_lb_provider_is_enabled_through_its_element(lab: CloudStackLab) -> None:
    c = client(lab)
    ids = build_zone(c)
    nsp = c.listNetworkServiceProviders(physicalnetworkid=ids.physical_network,
                                        name="InternalLbVm")["networkserviceprovider"][0]
    with pytest.raises(cs.CloudStackException):
        c.updateNetworkServiceProvider(id=nsp["id"], state="Enabled")
    element = c.listInternalLoadBalancerElements(nspid=nsp["id"])["internalloadbalancerelement"][0]
    assert element == {"id": element["id"], "nspid": nsp["id"], "enabled": False}
    c.configureInternalLoadBalancerElement(id=element["id"], enabled=True)
    assert c.updateNetworkServiceProvider(id=nsp["id"], state="Enabled")["networkserviceprovider"]["state"] == \
        "Enabled"
    assert all(e["nspid"] != nsp["id"] for e in c.listVirtualRouterElements()["virtualrouterelement"])


# ------------------------------------------------------------------------------- system VMs


def ready_zone(c: cs.CloudStack, pool: Pool) -> ZoneIds:
    ids = build_zone(c, pool)
    c.createStoragePool(zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, name="primary",
                        url="presetup://localhost/ceph-nfs-a")
    c.addImageStore(provider="S3", name="s3", details=s3_details())
    c.createSecondaryStagingStore(zoneid=ids.zone, url="nfs://127.0.0.1/export/staging")
    return ids


def system_vms(c: cs.CloudStack, zone: str) -> dict[str, dict[str, Any]]:
    return {v["systemvmtype"]: v for v in c.listSystemVms(zoneid=zone).get("systemvm", [])}


def test_system_vms_wait_for_a_public_range_then_boot_on_the_clock(lab: CloudStackLab, pool: Pool) -> None:
    lab.backend.systemvms.boot_seconds = 60  # the test moves the clock (signatures expire after 600 s)
    c = client(lab)
    ids = ready_zone(c, pool)
    assert c.listSystemVms(zoneid=ids.zone) == {}  # a disabled zone has none
    c.updateZone(id=ids.zone, allocationstate="Enabled")
    vms = system_vms(c, ids.zone)
    assert {k: v["state"] for k, v in vms.items()} == {"secondarystoragevm": "Stopped", "consoleproxy": "Stopped"}
    alerts = c.listAlerts(keyword="zone-1")["alert"]
    assert {a["name"] for a in alerts} == {"ALERT.SERVICE.SSVM", "ALERT.SERVICE.CONSOLEPROXY"}
    assert all(a["description"].endswith("Error details: Insufficient address capacity") for a in alerts)
    errors = c.listEvents(level="ERROR")["event"]
    assert {e["type"] for e in errors} == {"SSVM.START", "PROXY.START"}
    c.createVlanIpRange(zoneid=ids.zone, gateway="192.0.2.1", netmask="255.255.255.0", startip="192.0.2.10",
                        endip="192.0.2.20")
    vms = system_vms(c, ids.zone)
    assert {v["state"] for v in vms.values()} == {"Starting"}
    assert {v["publicip"] for v in vms.values()} == {"192.0.2.10", "192.0.2.11"}
    lab.clock.advance(60)
    vms = system_vms(c, ids.zone)
    assert {(v["state"], v["agentstate"]) for v in vms.values()} == {("Running", "Up")}
    assert not _fields_ok("listSystemVms", {"systemvm": list(vms.values())})
    assert not _fields_ok("listEvents", c.listEvents())
    assert not _fields_ok("listAlerts", c.listAlerts())
    with pytest.raises(cs.CloudStackApiException) as e:  # the range is in use while the zone is enabled
        c.deleteVlanIpRange(id=c.listVlanIpRanges(zoneid=ids.zone)["vlaniprange"][0]["id"])
    assert "allocated public IP addresses: 192.0.2.10, 192.0.2.11" in e.value.error["errortext"]
    c.updateZone(id=ids.zone, allocationstate="Disabled")
    assert c.listSystemVms(zoneid=ids.zone) == {}
    c.deleteVlanIpRange(id=c.listVlanIpRanges(zoneid=ids.zone)["vlaniprange"][0]["id"])


def test_without_the_systemvm_template_nothing_is_created(lab: CloudStackLab, pool: Pool) -> None:
    lab.backend.systemvms.seed_templates = False
    c = client(lab)
    ids = ready_zone(c, pool)
    c.createVlanIpRange(zoneid=ids.zone, gateway="192.0.2.1", netmask="255.255.255.0", startip="192.0.2.10",
                        endip="192.0.2.20")
    c.updateZone(id=ids.zone, allocationstate="Enabled")
    assert c.listSystemVms(zoneid=ids.zone) == {}
    zone_dbid = lab.backend.zones.zone(ids.zone).dbid
    assert sorted(a["description"] for a in c.listAlerts()["alert"]) == [
        f"Console proxy creation failure. Zone [zone-1]. Error details: Not able to find the System templates or "
        f"not downloaded in zone {zone_dbid}",
        f"Secondary Storage Vm creation failure in zone [zone-1]. Error details: Not able to find the System "
        f"templates or not downloaded in zone {zone_dbid}",
    ]


# ------------------------------------------------------------------------------- listApis


def test_list_apis_answers_what_a_418_server_answers(lab: CloudStackLab) -> None:
    c = client(lab)
    every = c.listApis()
    assert every["count"] == len(every["api"]) == 705
    one = c.listApis(name="createVlanIpRange")["api"]
    assert [a["name"] for a in one] == ["createVlanIpRange"] and one[0]["isasync"] is False
    assert {p["name"] for p in one[0]["params"]} >= {"zoneid", "gateway", "netmask", "startip", "endip", "vlan"}
    assert all(p.get("description") for p in one[0]["params"])
    with pytest.raises(cs.CloudStackApiException) as e:
        c.listApis(name="noSuchApi")
    assert e.value.error["errorcode"] == 530
