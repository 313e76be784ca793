"""Zone and ZoneEnablement against the CloudStack emulator, over HTTP through `cs`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cs import CloudStack
from pydantic import SecretStr

from providers._core import NotFound, Permanent, Retryable
from providers.cloudstack.network import PhysicalNetworkProvider
from providers.cloudstack.zone import ZoneEnablementProvider, ZoneProvider
from tests.cloudstack.choreography import choreography, commands, normalised

ZONE = {"name": "zone-1", "dns1": "8.8.8.8", "internal_dns1": "10.0.0.2", "guest_cidr": "10.1.1.0/24",
        "domain": "cloud.internal"}


def test_zone_choreography(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    outcome = choreography(
        zones, ZONE,
        create_command="createZone",
        update={"dns1": "1.1.1.1", "dns2": "9.9.9.9", "name": "zone-one"},
        out_of_band=lambda zid: raw.updateZone(id=zid, internaldns1="10.0.0.3"),
        drifted=["internal_dns1"],
        log=cs_lab.request_log,
        delete=False,
    )
    zone = raw.listZones(id=outcome.id)["zone"][0]
    assert zone["allocationstate"] == "Disabled"  # created disabled; ZoneEnablement enables it
    assert (zone["name"], zone["dns1"], zone["dns2"], zone["internaldns1"]) == (
        "zone-one", "1.1.1.1", "9.9.9.9", "10.0.0.2")
    zones.delete(outcome.id, outcome.outputs)
    assert raw.listZones(name="zone-one") == {}


def test_zone_enablement_lifecycle(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any]) -> None:
    zones, enablement = configured(ZoneProvider), configured(ZoneEnablementProvider)
    nets = configured(PhysicalNetworkProvider)
    zone = zones.create(normalised(zones, ZONE))
    # CloudStack refuses to enable an advanced zone without Management and Public traffic
    with pytest.raises(Permanent, match="Cannot enable this Zone"):
        enablement.create({"zone_id": zone.id})
    net = nets.create(normalised(nets, {"zone_id": zone.id, "name": "physnet-1", "traffic_labels": {
        "Management": "xenbr0", "Guest": "cloud-guest", "Public": "cloud-public"}}))
    on = enablement.create({"zone_id": zone.id})
    assert raw.listZones(id=zone.id)["zone"][0]["allocationstate"] == "Enabled"
    assert enablement.read(on.id, on.outs).id == on.id
    # create again changes nothing
    before = commands(cs_lab.request_log, "updateZone")
    assert enablement.create({"zone_id": zone.id}).id == on.id
    assert commands(cs_lab.request_log, "updateZone") == before
    # disabled out of band: the enablement reads as gone, so the next `up` enables it again
    raw.updateZone(id=zone.id, allocationstate="Disabled")
    assert enablement.read(on.id, on.outs).id == ""
    enablement.create({"zone_id": zone.id})
    assert raw.listZones(id=zone.id)["zone"][0]["allocationstate"] == "Enabled"
    # delete disables; delete again is quiet
    enablement.delete(on.id, on.outs)
    enablement.delete(on.id, on.outs)
    assert raw.listZones(id=zone.id)["zone"][0]["allocationstate"] == "Disabled"
    nets.delete(net.id, net.outs)
    zones.delete(zone.id, zone.outs)
    enablement.delete(on.id, on.outs)  # zone gone too: still quiet


def test_zone_vanished_out_of_band_reads_as_empty_id(cs_lab: Any, raw: CloudStack,
                                                       configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    zone = zones.create(normalised(zones, ZONE))
    raw.deleteZone(id=zone.id)
    assert zones.read(zone.id, zone.outs).id == ""
    zones.delete(zone.id, zone.outs)  # nothing to delete: quiet


def test_cloudstack_refusal_carries_its_own_words_and_codes(cs_lab: Any, configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    cs_lab.faults.error("createZone", "Please enter a valid guest cidr", 431, 4350)
    with pytest.raises(Permanent) as e:
        zones.create(normalised(zones, ZONE))
    assert str(e.value) == ("cloudstack.Zone 'zone-1': createZone: Please enter a valid guest cidr "
                            "(errorcode 431, cserrorcode 4350)")


def test_dropped_connection_on_create_is_retried_after_a_fresh_look(cs_lab: Any, raw: CloudStack,
                                                                     configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    cs_lab.faults.drop("createZone", times=1)
    zone = zones.create(normalised(zones, ZONE))
    assert len(raw.listZones(name="zone-1")["zone"]) == 1
    assert zone.id == raw.listZones(name="zone-1")["zone"][0]["id"]
    assert [r.command for r in cs_lab.request_log].count("listZones") >= 2  # looked again before retrying


def test_listing_survives_dropped_connections(cs_lab: Any, configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    zone = zones.create(normalised(zones, ZONE))
    cs_lab.faults.drop("listZones", times=2)
    assert zones.read(zone.id, zone.outs).id == zone.id


def test_bad_keys_are_a_permanent_error_naming_the_config(cs_lab: Any, configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    assert zones._settings is not None

    zones.configure_with(zones._settings.model_copy(update={"secret_key": SecretStr("wrong")}))
    with pytest.raises(Permanent) as e:
        zones.create(normalised(zones, ZONE))
    assert "errorcode 401" in str(e.value) and "secretKey" in str(e.value)
    assert "wrong" not in str(e.value)


def test_not_found_and_retryable_are_distinct(cs_lab: Any, configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    api = zones.client(ZONE)
    with pytest.raises(NotFound):
        api.call("deleteZone", id="8d4c5c3a-0000-4000-8000-000000000000")
    cs_lab.faults.error("updateZone", "Unable to acquire lock", 530, 4300, times=None)
    zone = zones.create(normalised(zones, ZONE))
    with pytest.raises(Retryable):
        api.call("updateZone", id=zone.id, dns1="1.1.1.1")
    cs_lab.faults.clear()


def test_operations_share_the_process_client_and_its_connection(settings: Any, configured: Any) -> None:
    """Every operation's `Api` (a refresh reads each resource in one) sends through the process's
    `cs` client for its settings, over the connection the one before kept open; the reads of
    concurrent threads share it too."""
    import threading

    from providers.cloudstack.api import Api

    zones = configured(ZoneProvider)
    created = zones.create(normalised(zones, ZONE))
    try:
        apis = [Api(settings, f"read {i}") for i in range(3)]
        threads = [threading.Thread(target=zones.read, args=(created.id, created.outs)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [a.call("listZones", id=created.id)["zone"][0]["id"] for a in apis] == [created.id] * 3
        client = apis[0]._cs
        assert all(a._cs is client for a in apis)
        container = client.session.adapters["http://"].poolmanager.pools
        pools = [container[k] for k in container.keys()]  # noqa: SIM118 (it has no safe iteration)
        assert len(pools) == 1 and pools[0].num_connections <= 4  # at most one per thread at once
        before = pools[0].num_connections
        for a in apis:
            a.call("listZones", id=created.id)
        assert pools[0].num_connections == before  # one after the other: the kept connection
    finally:
        zones.delete(created.id, created.outs)
