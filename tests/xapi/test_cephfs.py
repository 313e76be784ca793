"""The `cephfs` SR type against the lab's real Ceph: XCP-ng's driver's device-config, errors and plug.

A real cluster (lab.ceph, free ports, a temporary directory) with a CephFS file system and an
active MDS; one CephX client per pool whose caps allow only its directory. Each emulated host's
dom0 is a directory of its own (its /etc/ceph holds the secret files, /usr/bin/ceph the client);
the emulator mounts as that client with libcephfs, so what Ceph refuses, the plug refuses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import XenAPI

from lab import ceph as lab_ceph
from lab.xapi import XapiLab
from lab.xapi.cephfs import CephFSDriver, MountError, Target, backend_failure
from lab.xapi.conformance import check_calls
from tests.xapi.conftest import PASSWORD

pytestmark = [pytest.mark.ceph, pytest.mark.slow]

HOSTS = ["xcp-01", "xcp-02", "xcp-03"]
CLIENT = "xcp-pool-a"
DIR = "/pools/pool-a"


def failure(call: Callable[[], Any]) -> list[str]:
    with pytest.raises(XenAPI.Failure) as e:
        call()
    return list(e.value.details)


class Cephfs:
    """The lab cluster with its file system, and helpers acting as its administrator."""

    def __init__(self, state_dir: Path, info: dict[str, Any], root: Path) -> None:
        self.state_dir = state_dir
        self.cluster = lab_ceph.Cluster(state_dir)
        self.host, self.port = info["mon_addrs"][0].rsplit(":", 1)
        self.admin = root / "admin"
        make_dom0(self.admin)
        self.write_secret(self.admin, "admin", self.cluster.ceph("auth", "get-key", "client.admin").strip())
        self.driver = CephFSDriver()

    def config(self, client: str = CLIENT, path: str = DIR) -> dict[str, str]:
        return {"server": self.host, "serverport": self.port, "serverpath": path,
                "options": f"name={client},secretfile=/etc/ceph/{client}.secret"}

    @staticmethod
    def write_secret(dom0: Path, client: str, key: str) -> None:
        path = dom0 / "etc" / "ceph" / f"{client}.secret"
        path.write_text(key + "\n")
        path.chmod(0o600)

    def listing(self, path: str) -> list[str]:
        """What the administrator sees in `path`."""
        answer = self.driver.mount(self.admin, Target.of(self.config("admin", path)))
        return list(answer["entries"])

    def mkdir(self, parent: str, name: str) -> None:
        self.driver.mount(self.admin, Target.of(self.config("admin", parent)), "mkdir", name)

    def authorize(self, client: str = CLIENT, path: str = DIR) -> str:
        """A client whose caps allow only `path` (Ceph's `fs authorize`); its key."""
        self.cluster.ceph("fs", "authorize", "cephfs", f"client.{client}", path, "rw")
        return self.cluster.ceph("auth", "get-key", f"client.{client}").strip()

    def revoke(self, client: str = CLIENT) -> None:
        self.cluster.ceph("auth", "rm", f"client.{client}")

    @staticmethod
    def driver_failure(lab: XapiLab, host: str) -> str:
        """Why the latest mount on `host` failed (the wire carries only the driver's words)."""
        return next(reason for (h, _), reason in reversed(lab.world.cephfs.failures.items()) if h == host)


def make_dom0(root: Path, *, ceph: bool = True) -> Path:
    (root / "etc" / "ceph").mkdir(parents=True, exist_ok=True)
    if ceph:
        (root / "usr" / "bin").mkdir(parents=True, exist_ok=True)
        (root / "usr" / "bin" / "ceph").symlink_to("/usr/bin/ceph")
    return root


@pytest.fixture(scope="module")
def cephfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cephfs]:
    reason = lab_ceph.unavailable_reason()
    if reason:
        print(f"\n*** SKIPPING cephfs SR tests: {reason} ***", file=sys.stderr)
        pytest.skip(f"this machine cannot run the Ceph lab: {reason}")
    state_dir = tmp_path_factory.mktemp("ceph-lab")
    try:
        lab_ceph.start(state_dir)
        info = lab_ceph.add_filesystem(state_dir)
        fs = Cephfs(state_dir, info, tmp_path_factory.mktemp("dom0"))
        fs.mkdir("/", "pools")
        fs.mkdir("/pools", "pool-a")
        yield fs
    finally:
        lab_ceph.stop(state_dir)


@pytest.fixture
def dom0s(tmp_path: Path) -> dict[str, Path]:
    return {h: make_dom0(tmp_path / h) for h in HOSTS}


@pytest.fixture
def xapi(dom0s: dict[str, Path]) -> Iterator[XapiLab]:
    lab = XapiLab.start(hosts=HOSTS, password=PASSWORD, dom0=dom0s)
    try:
        yield lab
    finally:
        lab.stop()


def session(lab: XapiLab, i: int) -> Any:
    s = XenAPI.Session(lab.hosts[i].url)
    s.xenapi.login_with_password("root", PASSWORD, "1.0", "tests")
    return s.xenapi


def pool_of(lab: XapiLab, n: int) -> Any:
    for i in range(1, n):
        session(lab, i).pool.join(lab.hosts[0].address, "root", PASSWORD)
    return session(lab, 0)


def attached(x: Any, sr: str) -> dict[str, bool]:
    hosts = x.host.get_all_records()
    return {hosts[p["host"]]["name_label"]: p["currently_attached"]
            for p in x.PBD.get_all_records().values() if p["SR"] == sr}


def test_create_plug_everywhere_and_destroy(cephfs: Cephfs, xapi: XapiLab, dom0s: dict[str, Path]) -> None:
    key = cephfs.authorize()
    for d in dom0s.values():
        cephfs.write_secret(d, CLIENT, key)
    x = pool_of(xapi, 3)
    master = x.pool.get_master(x.pool.get_all()[0])
    assert "cephfs" in x.SR.get_supported_types()
    sr = x.SR.create(master, cephfs.config(), "0", "pool-a", "", "cephfs", "user", True, {})
    uuid = x.SR.get_uuid(sr)
    assert uuid in cephfs.listing(DIR)  # the SR's directory, made in CephFS by the driver
    assert attached(x, sr) == dict.fromkeys(HOSTS, True)
    for p in x.SR.get_PBDs(sr):
        x.PBD.unplug(p)
    x.SR.destroy(sr)
    assert uuid not in cephfs.listing(DIR)
    assert check_calls(xapi.request_log) == []


def test_the_drivers_errors(cephfs: Cephfs, xapi: XapiLab, dom0s: dict[str, Path]) -> None:
    key = cephfs.authorize()
    x = session(xapi, 0)
    (host,) = x.host.get_all()
    create = lambda config: lambda: x.SR.create(host, config, "0", "a", "", "cephfs", "user", True, {})  # noqa: E731
    no_server = {k: v for k, v in cephfs.config().items() if k != "server"}
    assert failure(create(no_server)) == [
        "SR_BACKEND_FAILURE", "101", "", "The request is missing the server parameter"]
    mount_error = ["SR_BACKEND_FAILURE", "111", "", "CephFS mount error [opterr=mount failed with return code 32]"]
    # No secret file in this host's dom0.
    assert failure(create(cephfs.config())) == mount_error
    assert "secret file /etc/ceph/xcp-pool-a.secret" in cephfs.driver_failure(xapi, "xcp-01")
    # A wrong key.
    cephfs.write_secret(dom0s["xcp-01"], CLIENT, "AQBhJhRnAAAAABAAjGvbW3j7m7Jx3p0cY0lN9Q==")
    assert failure(create(cephfs.config())) == mount_error
    # The right key, but a directory outside the client's caps, and one that does not exist.
    cephfs.write_secret(dom0s["xcp-01"], CLIENT, key)
    assert failure(create(cephfs.config(path="/pools"))) == mount_error
    assert "Operation not permitted" in cephfs.driver_failure(xapi, "xcp-01")
    cephfs.authorize("xcp-admin-like", "/")
    cephfs.write_secret(dom0s["xcp-01"], "xcp-admin-like",
                        cephfs.cluster.ceph("auth", "get-key", "client.xcp-admin-like").strip())
    assert failure(create(cephfs.config("xcp-admin-like", "/pools/nope"))) == mount_error
    assert "No such file or directory" in cephfs.driver_failure(xapi, "xcp-01")
    # No ceph client in dom0.
    xapi.set_dom0("xcp-01", make_dom0(dom0s["xcp-01"].parent / "bare", ceph=False))
    assert failure(create(cephfs.config())) == [
        "SR_BACKEND_FAILURE", "47", "", "The SR is not available [opterr=ceph is not installed]"]
    assert not [r for r in x.SR.get_all_records().values() if r["type"] == "cephfs"]  # nothing left behind


def test_sr_exists_on_a_directory_with_disks(cephfs: Cephfs, dom0s: dict[str, Path]) -> None:
    key = cephfs.authorize()
    cephfs.write_secret(dom0s["xcp-01"], CLIENT, key)
    driver = CephFSDriver()
    uuid = "0b7f0a5a-0000-4000-8000-00000000c3f5"
    cephfs.mkdir(DIR, uuid)
    cephfs.mkdir(DIR, f"{uuid}/disk.vhd")
    with pytest.raises(type(backend_failure(42, ""))) as e:
        driver.create("xcp-01", dom0s["xcp-01"], cephfs.config(), uuid)
    assert list(e.value.params) == ["42", "", "The SR already exists"]
    with pytest.raises(MountError):
        driver.mount(dom0s["xcp-01"], Target.of(cephfs.config(path="/pools/pool-b")))


def test_a_revoked_key_unplugs_and_a_new_one_plugs(cephfs: Cephfs, xapi: XapiLab, dom0s: dict[str, Path]) -> None:
    key = cephfs.authorize()
    for d in dom0s.values():
        cephfs.write_secret(d, CLIENT, key)
    x = pool_of(xapi, 3)
    master = x.pool.get_master(x.pool.get_all()[0])
    sr = x.SR.create(master, cephfs.config(), "0", "pool-a", "", "cephfs", "user", True, {})
    cephfs.revoke()
    assert attached(x, sr) == dict.fromkeys(HOSTS, False)  # the next read of the PBDs shows it
    assert "Permission denied" in cephfs.driver_failure(xapi, "xcp-02")
    pbd = x.SR.get_PBDs(sr)[0]
    assert failure(lambda: x.PBD.plug(pbd)) == ["SR_BACKEND_FAILURE", "12", "", "mount failed with return code 32"]
    key = cephfs.authorize()  # a new key: written again, the PBDs plug
    for d in dom0s.values():
        cephfs.write_secret(d, CLIENT, key)
    for p in x.SR.get_PBDs(sr):
        x.PBD.plug(p)
    assert attached(x, sr) == dict.fromkeys(HOSTS, True)
    assert check_calls(xapi.request_log) == []


def test_a_joining_host_plugs_once_it_has_the_secret(cephfs: Cephfs, xapi: XapiLab,
                                                     dom0s: dict[str, Path]) -> None:
    key = cephfs.authorize()
    for h in HOSTS[:2]:
        cephfs.write_secret(dom0s[h], CLIENT, key)
    x = pool_of(xapi, 2)
    master = x.pool.get_master(x.pool.get_all()[0])
    sr = x.SR.create(master, cephfs.config(), "0", "pool-a", "", "cephfs", "user", True, {})
    session(xapi, 2).pool.join(xapi.hosts[0].address, "root", PASSWORD)
    assert attached(x, sr) == {"xcp-01": True, "xcp-02": True, "xcp-03": False}  # no secret in its dom0
    cephfs.write_secret(dom0s["xcp-03"], CLIENT, key)
    hosts = {r["name_label"]: ref for ref, r in x.host.get_all_records().items()}
    (pbd,) = [r for r, p in x.PBD.get_all_records().items() if p["SR"] == sr and p["host"] == hosts["xcp-03"]]
    x.PBD.plug(pbd)
    assert attached(x, sr) == dict.fromkeys(HOSTS, True)
