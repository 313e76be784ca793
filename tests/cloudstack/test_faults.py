"""Faults injected in the emulator: held jobs hit their deadline, failed jobs keep CloudStack's words,
slow answers are retried where that is safe, maintenance failures stop a delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cs import CloudStack

from providers._core import ProviderError, Timeout
from providers.cloudstack.cluster import ClusterProvider
from providers.cloudstack.network import PhysicalNetworkProvider
from providers.cloudstack.storage import PrimaryStorageProvider
from providers.cloudstack.zone import ZoneProvider
from tests.cloudstack.choreography import normalised
from tests.cloudstack.conftest import LABELS, ZONE


def test_a_job_that_never_finishes_hits_its_deadline(cs_lab: Any, raw: CloudStack, configured: Callable[..., Any],
                                                      zone_id: str) -> None:
    nets = configured(PhysicalNetworkProvider)
    assert nets._settings is not None
    nets.configure_with(nets._settings.model_copy(update={"job_timeout": 0.2}))
    cs_lab.jobs.hold()
    with pytest.raises(Timeout) as e:
        nets.create(normalised(nets, {"zone_id": zone_id, "name": "physnet-1", "traffic_labels": LABELS}))
    assert "creation of the physical network (job " in str(e.value) and "jobstatus 0" in str(e.value)
    cs_lab.jobs.release()
    cs_lab.jobs.advance()
    # the job finished after all: the next create adopts the network instead of making a second one
    nets.configure_with(nets._settings.model_copy(update={"job_timeout": 60}))
    made = nets.create(normalised(nets, {"zone_id": zone_id, "name": "physnet-1", "traffic_labels": LABELS}))
    assert [n["id"] for n in raw.listPhysicalNetworks(zoneid=zone_id)["physicalnetwork"]] == [made.id]


def test_slow_answers_to_reads_are_retried(cs_lab: Any, configured: Callable[..., Any]) -> None:
    zones = configured(ZoneProvider)
    zone = zones.create(normalised(zones, ZONE))
    assert zones._settings is not None
    zones.configure_with(zones._settings.model_copy(update={"http_timeout": 1}))
    cs_lab.faults.latency(3.0, command="listZones", times=1)
    assert zones.read(zone.id, zone.outs).id == zone.id
    assert [r.command for r in cs_lab.request_log].count("listZones") >= 2


def test_host_maintenance_failure_stops_the_cluster_delete(
    cs_lab: Any, raw: CloudStack, configured: Callable[..., Any], cluster_id: str
) -> None:
    clusters = configured(ClusterProvider)
    outs = clusters.read(cluster_id, {"password": "x"}).outs
    cs_lab.faults.fail_job("prepareHostForMaintenance", "Unable to prepare for maintenance host 7", 530)
    with pytest.raises(ProviderError) as e:
        clusters.delete(cluster_id, outs)
    assert "prepareHostForMaintenance: Unable to prepare for maintenance host 7 (errorcode 530)" in str(e.value)
    assert raw.listClusters(id=cluster_id)["cluster"]  # nothing deleted past the failure
    clusters.delete(cluster_id, outs)  # the fault is spent: the delete completes
    assert clusters.read(cluster_id, outs).id == ""


def test_storage_pool_delete_goes_through_maintenance_even_when_it_is_slow(
    cs_lab: Any, configured: Callable[..., Any], zone_id: str, pod_id: str, cluster_id: str
) -> None:
    pools = configured(PrimaryStorageProvider)
    made = pools.create(normalised(pools, {"zone_id": zone_id, "pod_id": pod_id, "cluster_id": cluster_id,
                                           "name": "nfs-1", "type": "NFS", "url": "nfs://10.0.0.5/primary"}))
    cs_lab.jobs.complete_after(3)  # every job answers pending three times
    cs_lab.jobs.settle_reads = 2  # and the pool reaches Maintenance two reads after its job
    pools.delete(made.id, made.outs)
    commands = [r.command for r in cs_lab.request_log if r.error is None]
    assert commands.index("enableStorageMaintenance") < commands.index("deleteStoragePool")
    assert pools.read(made.id, made.outs).id == ""
