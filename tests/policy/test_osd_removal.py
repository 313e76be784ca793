"""`ceph-osd-removal`: preview names each Ceph OSD that leaves the cluster and whether it is purged.

Pure: the rule reads the last deployment's `CephCluster` OSD steps (their recorded delete script
is the one that runs) and the planned resources. The engine-level check (a real preview with the
pack, a fourth storage server removed) is in tests/hosts/test_cephcluster_engine.py.
"""

from __future__ import annotations

from components.cephcluster import CephCluster
from policy.rules import Res, osd_removals

CMD = "command:remote:Command"
URN = ("urn:pulumi:dev::privatecloud::privatecloud:region:Region$privatecloud:storage:CephCluster"
       "$command:remote:Command::")


def step(name: str, *, osd: str = "3\n", purge: bool) -> Res:
    return Res(CMD, URN + name, {"stdout": osd, "delete": CephCluster._osd_delete(purge, 600)})


def test_a_removed_servers_osd_is_named_with_what_its_delete_does() -> None:
    old = [step("dev-ceph-osd-sto-01", osd="0\n", purge=True), step("dev-ceph-osd-sto-04", purge=True),
           Res(CMD, URN + "dev-ceph-mon-sto-04", {"stdout": "mon.sto-04\n"})]
    new = [old[0]]
    [(urn, message)] = osd_removals(old, new)
    assert urn == URN + "dev-ceph-osd-sto-04"
    assert message.startswith("Ceph osd.3 on storage server 'sto-04' leaves the cluster: it is marked out, "
                              "its placement groups move to the other OSDs (bounded wait; the removal is "
                              "refused if they cannot), then purges it")
    assert "allowOsdPurge is true" in message


def test_without_allow_osd_purge_preview_says_the_osd_is_kept() -> None:
    [(_, message)] = osd_removals([step("dev-ceph-osd-sto-04", purge=False)], [])
    assert "then stops it; it is not purged and keeps its store (allowOsdPurge is false)" in message


def test_nothing_removed_nothing_said() -> None:
    old = [step("dev-ceph-osd-sto-01", purge=True), Res("pulumi-python:dynamic/ceph:Pool", URN + "x-osd-y", {})]
    assert osd_removals(old, old[:1]) == []
