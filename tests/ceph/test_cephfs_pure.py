"""`ceph.FsDirectory`'s declaration: the diff is pure (quota in place; file system or path replaces)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers.ceph.cephfs import FsDirectoryArgs, FsDirectoryProvider

OLD = {"fs_name": "cephfs", "path": "/xcp/pool-a", "quota_bytes": 100, "allow_delete_with_data": False,
       "fs_id": 1, "entries": ["0b7f"]}
NEW = {"fs_name": "cephfs", "path": "/xcp/pool-a", "quota_bytes": 100}


@pytest.mark.parametrize(
    ("change", "changed", "replaces"),
    [
        ({}, False, []),
        ({"quota_bytes": 200}, True, []),
        ({"quota_bytes": 100.0}, False, []),  # the engine's numbers are floats
        ({"quota_bytes": UNKNOWN}, True, []),
        ({"path": "/xcp/pool-b"}, True, ["path"]),
        ({"path": UNKNOWN}, True, ["path"]),
        ({"fs_name": "other"}, True, ["fs_name"]),
        ({"allow_delete_with_data": True}, True, []),
    ],
)
def test_diff(change: dict[str, Any], changed: bool, replaces: list[str]) -> None:
    p = FsDirectoryProvider()
    news = {**NEW, **change}
    checked = p.check({}, news)  # as the engine does first (defaults filled in; unknowns kept)
    d = p.diff("cephfs:/xcp/pool-a", OLD, {**dict(checked.inputs), **{k: v for k, v in change.items() if v == UNKNOWN}})
    assert bool(d.changes) is changed and sorted(d.replaces or []) == replaces
    assert d.delete_before_replace is True or not replaces


def test_table() -> None:
    table = FsDirectoryArgs.table()
    assert [f.name for f in table.inputs] == ["fs_name", "path", "quota_bytes", "allow_delete_with_data"]
    assert list(table.secrets) == []
