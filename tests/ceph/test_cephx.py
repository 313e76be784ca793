"""`ceph.FsClient` against the lab's real Ceph, through the `ceph` CLI over a real SSH connection.

The choreography: create (a key, caps for one directory), create again (adopted, same key), a
change of the SSH fields changes nothing in Ceph, a path change is a replace, a revoked client
reads as gone (the engine makes a new one), delete, delete again. The key mounts the directory and
nothing else (libcephfs, as the XCP-ng hosts' driver does).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import ceph as lab_ceph
from lab.xapi.cephfs import CephFSDriver, MountError, Target
from providers.ceph.cephx import FsClientProvider
from tests.ceph.conftest import configured
from tests.engine.sshd import Sshd, unavailable_reason

pytestmark = [pytest.mark.ceph, pytest.mark.slow]


@pytest.fixture(scope="module")
def fs(ceph_lab: dict[str, Any]) -> dict[str, Any]:
    return {**ceph_lab, **lab_ceph.add_filesystem(Path(ceph_lab["state_dir"]))}


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no SSH server for the ceph CLI: {reason}")
    with Sshd.start(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def _as(fs: dict[str, Any], client: str, key: str, path: str) -> tuple[Path, Target]:
    dom0 = Path(tempfile.mkdtemp())
    (dom0 / "etc").mkdir()
    (dom0 / "etc" / "k.secret").write_text(key)
    host, port = fs["mon_addrs"][0].rsplit(":", 1)
    return dom0, Target.of({"server": host, "serverport": port, "serverpath": path,
                            "options": f"name={client},secretfile=/etc/k.secret"})


def mounts(fs: dict[str, Any], client: str, key: str, path: str) -> bool:
    try:
        CephFSDriver().mount(*_as(fs, client, key, path))
    except MountError:
        return False
    return True


def admin_mkdir(fs: dict[str, Any], key: str, parent: str, name: str) -> None:
    dom0, target = _as(fs, "admin", key, parent)
    if name not in CephFSDriver().mount(dom0, target)["entries"]:
        CephFSDriver().mount(dom0, target, "mkdir", name)


def test_client_choreography(fs: dict[str, Any], sshd: Sshd) -> None:
    c = lab_ceph.Cluster(Path(fs["state_dir"]))
    admin = c.ceph("auth", "get-key", "client.admin").strip()
    assert mounts(fs, "admin", admin, "/")
    p = configured(FsClientProvider(), fs)
    props = {"name": "xcp-pool-a", "fs_name": "cephfs", "path": "/xcp/pool-a", "host": "127.0.0.1",
             "port": sshd.port, "user": sshd.user, "private_key": sshd.private_key, "conf": str(c.conf)}
    checked = dict(p.check({}, props).inputs)
    made = p.create(checked)
    outs = dict(made.outs or {})
    assert made.id == "client.xcp-pool-a"
    assert outs["caps"]["mds"] == "allow rw fsname=cephfs path=/xcp/pool-a"
    assert (outs["fs_name"], outs["path"]) == ("cephfs", "/xcp/pool-a") and len(outs["key"]) == 40
    again = dict(p.create(checked).outs or {})
    assert again == outs  # adopted: the same key
    assert not p.diff(made.id, outs, checked).changes

    # Its directory and only it: Ceph refuses the root to this key.
    for parent, name in (("/", "xcp"), ("/xcp", "pool-a")):
        admin_mkdir(fs, admin, parent, name)
    assert mounts(fs, "xcp-pool-a", outs["key"], "/xcp/pool-a")
    assert not mounts(fs, "xcp-pool-a", outs["key"], "/")

    moved = {**checked, "path": "/xcp/pool-b"}
    assert p.diff(made.id, outs, moved).replaces == ["path"]
    assert not p.diff(made.id, outs, {**checked, "port": sshd.port}).changes

    c.ceph("auth", "rm", "client.xcp-pool-a")  # revoked by hand
    assert p.read(made.id, outs).id == ""  # gone: the engine makes it again
    remade = dict(p.create(checked).outs or {})
    assert remade["key"] != outs["key"]
    p.delete(made.id, remade)
    assert p.read(made.id, remade).id == ""
    p.delete(made.id, remade)  # again: nothing to do
