"""Async jobs advance only under the test's control; faults fire exactly as asked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cs
import pytest
import requests

from lab.cloudstack import CloudStackLab

ZONE = {"name": "zone-1", "networktype": "Advanced", "dns1": "8.8.8.8", "internaldns1": "10.10.0.2"}


def query(raw: cs.CloudStack, jobid: str) -> dict[str, Any]:
    result: dict[str, Any] = raw.queryAsyncJobResult(jobid=jobid)
    return result


def new_network(raw: cs.CloudStack) -> tuple[str, dict[str, Any]]:
    zone = raw.createZone(**ZONE)["zone"]
    answer = raw.createPhysicalNetwork(zoneid=zone["id"], name="physnet-1")
    return zone["id"], answer


def test_async_create_answers_id_and_jobid_and_completes_on_first_poll(raw: cs.CloudStack) -> None:
    _, answer = new_network(raw)
    assert set(answer) == {"id", "jobid"}
    job = query(raw, answer["jobid"])
    assert (job["jobstatus"], job["jobresultcode"], job["jobresulttype"]) == (1, 0, "object")
    assert job["jobresult"]["physicalnetwork"]["id"] == answer["id"]
    assert job["cmd"] == "org.apache.cloudstack.api.command.admin.network.CreatePhysicalNetworkCmd"
    assert job["jobinstancetype"] == "PhysicalNetwork" and job["jobinstanceid"] == answer["id"]


def test_jobs_complete_after_n_polls(raw: cs.CloudStack, lab: CloudStackLab) -> None:
    lab.jobs.complete_after(2)
    _, answer = new_network(raw)
    statuses = [query(raw, answer["jobid"])["jobstatus"] for _ in range(4)]
    assert statuses == [0, 0, 1, 1]
    pending = query(raw, answer["jobid"])
    assert "jobresult" in pending


def test_held_jobs_wait_for_advance_and_their_effect_is_invisible_until_then(
    raw: cs.CloudStack, lab: CloudStackLab
) -> None:
    _, answer = new_network(raw)
    query(raw, answer["jobid"])
    lab.jobs.hold()
    update = raw.updatePhysicalNetwork(id=answer["id"], state="Enabled")
    for _ in range(5):
        assert query(raw, update["jobid"])["jobstatus"] == 0
    assert raw.listPhysicalNetworks(id=answer["id"])["physicalnetwork"][0]["state"] == "Disabled"
    assert [j.id for j in lab.jobs.pending()] == [update["jobid"]]
    assert lab.jobs.advance() == [update["jobid"]]
    assert query(raw, update["jobid"])["jobstatus"] == 1
    assert raw.listPhysicalNetworks(id=answer["id"])["physicalnetwork"][0]["state"] == "Enabled"


def test_a_failing_job_fault(raw: cs.CloudStack, lab: CloudStackLab) -> None:
    lab.faults.fail_job("createPhysicalNetwork", "Unable to create physical network on the backend", 530)
    zone_id, answer = new_network(raw)
    job = query(raw, answer["jobid"])
    assert (job["jobstatus"], job["jobresultcode"]) == (2, 530)
    assert job["jobresult"] == {"errorcode": 530, "errortext": "Unable to create physical network on the backend"}
    assert raw.listPhysicalNetworks(zoneid=zone_id) == {}  # the async create was rolled back
    _, again = new_network_in(raw, zone_id)
    assert query(raw, again["jobid"])["jobstatus"] == 1  # fired once only


def new_network_in(raw: cs.CloudStack, zone_id: str) -> tuple[str, dict[str, Any]]:
    return zone_id, raw.createPhysicalNetwork(zoneid=zone_id, name="physnet-2")


def test_cs_reports_a_failed_job(client: cs.CloudStack, lab: CloudStackLab) -> None:
    zone = client.createZone(**ZONE)["zone"]
    lab.faults.fail_job("createPhysicalNetwork", "boom", 431)
    with pytest.raises(cs.CloudStackApiException) as e:
        client.createPhysicalNetwork(zoneid=zone["id"], name="n")
    assert e.value.error == {"errorcode": 431, "errortext": "boom"}


def test_an_error_fault_answers_instead_of_running(client: cs.CloudStack, lab: CloudStackLab) -> None:
    lab.faults.error("createZone", "Resource is unavailable", 534, times=2)
    for _ in range(2):
        with pytest.raises(cs.CloudStackApiException) as e:
            client.createZone(**ZONE)
        assert e.value.response.status_code == 534
        assert e.value.error == {"uuidList": [], "errorcode": 534, "cserrorcode": 9999,
                                 "errortext": "Resource is unavailable"}
        assert e.value.response.headers["X-Description"] == "Resource is unavailable"
    assert client.listZones() == {}
    assert client.createZone(**ZONE)["zone"]["name"] == "zone-1"
    assert [r.error.errorcode if r.error else None for r in lab.request_log] == [534, 534, None, None]


def test_latency_fault_delays_the_answer(client: cs.CloudStack, lab: CloudStackLab) -> None:
    slept: list[float] = []
    lab.server.sleep = slept.append
    lab.faults.latency(2.5, command="listZones", times=1)
    client.listPods()
    client.listZones()
    client.listZones()
    assert slept == [2.5]


def test_dropped_connection(lab: CloudStackLab) -> None:
    c = cs.CloudStack(endpoint=lab.endpoint, key=lab.api_key, secret=lab.secret_key)
    lab.faults.drop("listZones")
    with pytest.raises(requests.exceptions.ConnectionError):
        c.listZones()
    assert c.listZones() == {}
    assert [r.dropped for r in lab.request_log] == [True, False]


def test_host_maintenance_settles_under_control(client: cs.CloudStack, lab: CloudStackLab) -> None:
    """PrepareForMaintenance -> Maintenance happens on a later read, never on a timer."""
    from lab.cloudstack.models import Host

    with lab.backend.lock:
        zone = lab.backend.zones.create_zone({**ZONE, "dns2": None, "internaldns2": None})
        pod = lab.backend.compute.create_pod(spec_params("createPod", zoneid=zone.id, name="p", gateway="10.0.0.1",
                                                 netmask="255.255.255.0", startip="10.0.0.10"))
        from lab.cloudstack.models import Cluster

        cluster = lab.backend.store.add(Cluster(*lab.backend.store.new_id(), "c", pod=pod))
        host = lab.backend.store.add(Host(*lab.backend.store.new_id(), "h", cluster=cluster, guid="g"))
    lab.jobs.settle_reads = 3
    client.prepareHostForMaintenance(id=host.id)
    states = [client.listHosts(id=host.id)["host"][0]["resourcestate"] for _ in range(5)]
    assert states == ["PrepareForMaintenance"] * 3 + ["Maintenance"] * 2


def spec_params(command: str, **values: Any) -> Any:
    from lab.cloudstack import spec

    return spec.Params(spec.apis()[command], values)


def test_a_service_error_inside_a_job_is_530(client: cs.CloudStack) -> None:
    """ApiAsyncJobDispatcher keeps only a ServerApiException's code; the rest fail with 530."""
    zone = client.createZone(**ZONE)["zone"]
    net = client.createPhysicalNetwork(zoneid=zone["id"], name="n")["physicalnetwork"]
    with pytest.raises(cs.CloudStackApiException) as e:
        client.updatePhysicalNetwork(id=net["id"], state="Bogus")
    assert e.value.error == {"errorcode": 530,
                             "errortext": "Unable to resolve state 'Bogus' to a supported value {Enabled or Disabled}"}


def test_signatures_expire_on_the_labs_clock(lab: CloudStackLab, client: cs.CloudStack) -> None:
    """`cs` signs with signatureVersion 3 and an expiry 10 minutes ahead; the lab's clock (lab.emu)
    follows the wall clock, and a test moves it on instead of waiting."""
    client.listZones()
    lab.clock.advance(601)
    with pytest.raises(cs.CloudStackApiException) as e:
        client.listZones()
    assert e.value.error["errorcode"] == 401
    assert [r.error is None for r in lab.request_log] == [True, False]


def test_dates_come_from_the_labs_clock(lab: CloudStackLab) -> None:
    """Jobs' dates (and hosts', storage pools') are stamped on the lab's clock: a year on, a year later."""
    client = cs.CloudStack(endpoint=lab.endpoint, key=lab.api_key, secret=lab.secret_key, expiration=-1)
    lab.clock.advance(366 * 86400)
    zone = client.createZone(name="z", networktype="Advanced", dns1="10.0.0.2", internaldns1="10.0.0.3")["zone"]
    job = client.createPhysicalNetwork(zoneid=zone["id"], name="p")
    created = client.queryAsyncJobResult(jobid=job["jobid"])["created"]
    assert int(created[:4]) > datetime.now(UTC).year
