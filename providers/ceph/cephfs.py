"""`ceph.FsDirectory`: a CephFS directory with a byte quota, the home of one XCP-ng pool's SR.

Interface: the manager dashboard's REST API, which Ceph 16 (Pacific) has for exactly this
(`/api/cephfs`: the file systems; `/api/cephfs/<id>/ls_dir`, `POST|DELETE .../tree`,
`GET|PUT .../quota`). It is the interface the region already configures for `ceph.Pool` (URL,
user, password through `configure()`), needs no Ceph client library or keyring on the machine
running Pulumi, and works the same for a cluster the program formed and an existing one. (The key
whose caps allow one directory is `ceph.FsClient`'s, made with the `ceph` CLI: `cephx.py`.)

- create: the directory is made with its parents (`mkdirs`: an existing one is adopted), then
  its quota (`ceph.quota.max_bytes`) set.
- update: the quota in place; the file system or the path replaces the directory.
- read: the directory by its id `<fs_name>:<path>`; a quota changed by hand shows as drift; a
  directory gone reads as gone (the engine recreates it). One `ls_dir` of the parent, two levels
  down, answers whether the directory is there, its quota and what it holds: the dashboard takes
  about a second for any `ls_dir` that finds directories (one per request, whatever their
  number), so a read makes one, and the directories of a refresh under one parent share it.
- delete: a directory that holds anything (an SR's directory, with its VHD disks) is refused
  unless `allow_delete_with_data` is set; then its sub-directories go depth-first (the dashboard
  removes directories, not files: a file left makes Ceph refuse with "Directory not empty", which
  is reported).
"""

from __future__ import annotations

import posixpath
from typing import Any

import pulumi
from typing_extensions import override

from providers._core import LISTINGS, Change, Permanent
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj
from providers._core.resource import Declared

from ._base import DashboardProvider
from ._http import Dashboard

RESOURCE = "ceph.FsDirectory"
PATH = r"^(/[A-Za-z0-9._-]+)+$"


def _int(value: Any) -> int:
    return int(value or 0)


class FsDirectoryArgs(Args, resource=RESOURCE, delete_before_replace=True):
    """A CephFS directory with a byte quota."""

    fs_name: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=1)
    """Name of the CephFS file system; changing it replaces the directory."""
    path: pulumi.Input[str] = arg(change=Change.REPLACE, pattern=PATH)
    """Absolute path in the file system (e.g. /xcp/pool-a); changing it replaces the directory."""
    quota_bytes: pulumi.Input[int] = arg(normalize=_int, ge=1)
    """Byte quota (`ceph.quota.max_bytes`); changed in place."""
    allow_delete_with_data: pulumi.Input[bool] | None = arg(False)
    """A directory holding disks is removed on delete only when this is true (never sent to Ceph)."""
    fs_id: pulumi.Output[int] = output(normalize=_int)
    """The file system's id (fscid)."""
    entries: pulumi.Output[list[str]] = output()
    """What the directory holds (the SRs' directories), as Ceph reports it."""


class FsDirectoryProvider(DashboardProvider):
    args = FsDirectoryArgs

    # --- the dashboard calls --------------------------------------------------------------------
    def _fs_id(self, api: Dashboard, fs_name: str) -> int | None:
        listed = LISTINGS.get((api.cfg.dashboard_url, "cephfs"), lambda: api.call(RESOURCE, "GET", "/api/cephfs"))
        for fs in listed or []:
            if fs.get("mdsmap", {}).get("fs_name") == fs_name:
                return int(fs["id"])
        return None

    @staticmethod
    def _ls(api: Dashboard, fs_id: int, path: str, depth: int = 1) -> list[dict[str, Any]]:
        found = api.call(RESOURCE, "GET", f"/api/cephfs/{fs_id}/ls_dir", params={"path": path, "depth": str(depth)})
        return list(found or [])

    def _tree(self, api: Dashboard, fs_id: int, parent: str) -> list[dict[str, Any]]:
        """The directories under `parent` and theirs, each with its quotas (shared by a refresh)."""
        return LISTINGS.get((api.cfg.dashboard_url, "ls_dir", fs_id, parent), lambda: self._ls(api, fs_id, parent, 2))

    @override
    def obj_id(self, obj: Obj) -> str:
        return f"{obj['fs_name']}:{obj['path']}"

    @override
    def fetch(self, client: Dashboard, obj_id: str) -> Obj | None:
        fs_name, _, path = obj_id.partition(":")
        fs_id = self._fs_id(client, fs_name)
        if fs_id is None:
            return None
        tree = self._tree(client, fs_id, posixpath.dirname(path))
        found = next((d for d in tree if d.get("path") == path), None)
        if found is None:
            return None
        entries = sorted(str(d["name"]) for d in tree if d.get("parent") == path)
        return {"fs_name": fs_name, "path": path, "fs_id": fs_id,
                "quota_bytes": _int((found.get("quotas") or {}).get("max_bytes")), "entries": entries}

    @override
    def settle(self, created: bool, wanted: Obj) -> bool:
        return True  # a directory made here still needs its quota; an adopted one may differ

    @override
    def make(self, client: Dashboard, wanted: Obj) -> Obj:
        fs_id = self._fs_id(client, wanted["fs_name"])
        if fs_id is None:
            raise Permanent(self.label(wanted), f"no CephFS file system named {wanted['fs_name']!r}")
        client.call(RESOURCE, "POST", f"/api/cephfs/{fs_id}/tree", {"path": wanted["path"]})
        made = self.fetch(client, self.obj_id(wanted))
        if made is None:
            raise Permanent(self.label(wanted), f"{wanted['path']} is not there after it was made")
        return made

    @override
    def apply(self, client: Dashboard, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        if changed - {"quota_bytes", "allow_delete_with_data"}:
            return super().apply(client, obj_id, changed, current, wanted)
        if "quota_bytes" in changed:
            client.call(RESOURCE, "PUT", f"/api/cephfs/{current['fs_id']}/quota",
                        {"path": wanted["path"], "max_bytes": int(wanted["quota_bytes"])})
        return None

    @override
    def outputs(self, client: Dashboard, obj: Obj, carried: Obj) -> Obj:
        out = {k: obj[k] for k in ("fs_name", "path", "fs_id", "quota_bytes", "entries")}
        out["allow_delete_with_data"] = bool(carried.get("allow_delete_with_data", False))
        return out

    @override
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client(props)
        obj = self.fetch(client, id_)
        if obj is None:
            return
        if obj["entries"] and not props.get("allow_delete_with_data"):
            raise Permanent(
                self.label(props),
                f"{obj['path']} holds {obj['entries']} (the pool's SR and its disks); set "
                "allow_delete_with_data to delete them with it, or move them first",
            )
        self.destroy(client, obj)

    @override
    def destroy(self, client: Dashboard, obj: Obj) -> None:
        below = self._ls(client, obj["fs_id"], obj["path"], depth=64)
        for path in [*sorted((str(d["path"]) for d in below), key=lambda p: -p.count("/")), obj["path"]]:
            client.call(RESOURCE, "DELETE", f"/api/cephfs/{obj['fs_id']}/tree", params={"path": path})
        if self.fetch(client, self.obj_id(obj)) is not None:
            raise Permanent(RESOURCE, f"{obj['path']} is still there after its removal")


class FsDirectory(Declared[FsDirectoryArgs], module="ceph", name="FsDirectory"):
    """A CephFS directory with a byte quota (one XCP-ng pool's SR lives in it)."""

    provider_type = FsDirectoryProvider
