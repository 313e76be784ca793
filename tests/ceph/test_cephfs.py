"""`ceph.FsDirectory` against the lab's real Ceph with a CephFS file system (an active MDS).

The choreography: create, create again (adopted: no change), update the quota, update again
(no change), refresh after the quota was changed by hand, a path change is a replace (known from
the pure diff), delete refused while the directory holds an SR's directory, allowed, delete again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab import ceph as lab_ceph
from providers._core import Permanent
from providers.ceph.cephfs import FsDirectoryProvider
from tests.ceph.conftest import configured

pytestmark = [pytest.mark.ceph, pytest.mark.slow]

GIB = 1 << 30


@pytest.fixture(scope="module")
def fs(ceph_lab: dict[str, Any]) -> dict[str, Any]:
    return {**ceph_lab, **lab_ceph.add_filesystem(Path(ceph_lab["state_dir"]))}


def test_directory_choreography(fs: dict[str, Any]) -> None:
    p = configured(FsDirectoryProvider(), fs)
    props = {"fs_name": "cephfs", "path": "/xcp/pool-a", "quota_bytes": 100 * GIB}
    checked = p.check({}, props)
    assert checked.failures == []
    made = p.create(dict(checked.inputs))
    assert made.id == "cephfs:/xcp/pool-a"
    outs = dict(made.outs or {})
    assert outs["quota_bytes"] == 100 * GIB and outs["entries"] == [] and outs["fs_id"] >= 1
    again = p.create(dict(checked.inputs))  # adopted, nothing changes
    assert dict(again.outs or {}) == outs
    assert not p.diff(made.id, outs, dict(checked.inputs)).changes

    bigger = {**dict(checked.inputs), "quota_bytes": 200 * GIB}
    d = p.diff(made.id, outs, bigger)
    assert d.changes and not d.replaces
    outs = dict(p.update(made.id, outs, bigger).outs or {})
    assert outs["quota_bytes"] == 200 * GIB
    assert not p.diff(made.id, outs, bigger).changes

    # A quota changed by hand shows at refresh, and the declared one wins at the next update.
    dashboard = p.dashboard
    dashboard.call("test", "PUT", f"/api/cephfs/{outs['fs_id']}/quota",
                   {"path": "/xcp/pool-a", "max_bytes": 5 * GIB})
    read = p.read(made.id, outs)
    assert dict(read.outs or {})["quota_bytes"] == 5 * GIB
    assert p.diff(made.id, dict(read.outs or {}), bigger).changes

    moved = {**bigger, "path": "/xcp/pool-b"}
    assert p.diff(made.id, outs, moved).replaces == ["path"]

    # An SR's directory inside: delete refuses, unless allowed.
    dashboard.call("test", "POST", f"/api/cephfs/{outs['fs_id']}/tree", {"path": "/xcp/pool-a/sr-uuid/x"})
    held = dict(p.read(made.id, outs).outs or {})
    assert held["entries"] == ["sr-uuid"]
    with pytest.raises(Permanent, match=r"holds \['sr-uuid'\].*allow_delete_with_data"):
        p.delete(made.id, held)
    assert p.read(made.id, held).id == made.id
    p.delete(made.id, {**held, "allow_delete_with_data": True})
    assert p.read(made.id, held).id == ""  # gone: the engine would recreate it
    p.delete(made.id, {**held, "allow_delete_with_data": True})  # again: nothing to do


def test_a_file_system_that_does_not_exist(fs: dict[str, Any]) -> None:
    p = configured(FsDirectoryProvider(), fs)
    with pytest.raises(Permanent, match="no CephFS file system named 'nofs'"):
        p.create({"fs_name": "nofs", "path": "/xcp/pool-a", "quota_bytes": GIB})
    bad = p.check({}, {"fs_name": "cephfs", "path": "xcp/../etc", "quota_bytes": 0})
    assert sorted(f.property for f in bad.failures) == ["path", "quota_bytes"]


def test_the_reads_of_a_refresh_share_one_listing_of_the_parent(fs: dict[str, Any]) -> None:
    """A read asks the dashboard one `ls_dir` (the parent, two levels down: the directory, its
    quota, what it holds), and the directories under one parent share it within a refresh: the
    dashboard takes about a second for each `ls_dir` that finds directories."""
    p = configured(FsDirectoryProvider(), fs)
    made = {}
    for pool in ("pool-c", "pool-d"):
        props = dict(p.check({}, {"fs_name": "cephfs", "path": f"/shared/{pool}", "quota_bytes": GIB}).inputs)
        made[pool] = (p.create(props).id, props)
    paths: list[str] = []
    hook = lambda r, **_: paths.append(f"{r.request.method} {r.request.path_url}")  # noqa: E731
    p.dashboard.session.hooks["response"].append(hook)
    try:
        reads = {pool: dict(p.read(obj_id, props).outs or {}) for pool, (obj_id, props) in made.items()}
    finally:
        p.dashboard.session.hooks["response"].remove(hook)
    assert {pool: (r["quota_bytes"], r["entries"]) for pool, r in reads.items()} == {
        "pool-c": (GIB, []), "pool-d": (GIB, [])}
    assert [q.split("?")[0].rsplit("/", 1)[-1] for q in paths] == ["cephfs", "ls_dir"]
    for obj_id, props in made.values():
        p.delete(obj_id, props)
