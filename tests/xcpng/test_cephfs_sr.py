"""`xcpng.SharedSR` of type cephfs: the pool's SR on a directory of the lab's real CephFS.

The emulated hosts have dom0 views (a directory each); the secret file is written there as the
hosts' setup would. A key revoked in Ceph reads at refresh as the SR no longer in effect on every
host (its PBDs unplugged) and the next update plugs it again once the hosts have the new key; a
host that joins later gets its PBD plugged by the next update once it has the secret file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import XenAPI

from lab import ceph as lab_ceph
from lab.xapi import XapiLab
from lab.xapi.cephfs import CephFSDriver, Target
from providers.xcpng import SharedSRProvider

from .conftest import HOSTS, PASSWORD, connection, out_of

pytestmark = [pytest.mark.ceph, pytest.mark.slow]

CLIENT = "xcp-pool-a"
DIR = "/xcp/pool-a"


@pytest.fixture(scope="module")
def ceph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = lab_ceph.unavailable_reason()
    if reason:
        print(f"\n*** SKIPPING cephfs SR provider tests: {reason} ***", file=sys.stderr)
        pytest.skip(f"this machine cannot run the Ceph lab: {reason}")
    state_dir = tmp_path_factory.mktemp("ceph-lab")
    try:
        lab_ceph.start(state_dir)
        info = lab_ceph.add_filesystem(state_dir)
        c = lab_ceph.Cluster(state_dir)
        admin = tmp_path_factory.mktemp("admin")
        (admin / "k").write_text(c.ceph("auth", "get-key", "client.admin").strip())
        host, port = info["mon_addrs"][0].rsplit(":", 1)
        for parent, name in (("/", "xcp"), ("/xcp", "pool-a")):
            CephFSDriver().mount(admin, Target.of({"server": host, "serverport": port, "serverpath": parent,
                                                   "options": "name=admin,secretfile=/k"}), "mkdir", name)
        yield {"cluster": c, "host": host, "port": port}
    finally:
        lab_ceph.stop(state_dir)


@pytest.fixture
def dom0s(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for h in HOSTS:
        (tmp_path / h / "etc" / "ceph").mkdir(parents=True)
        (tmp_path / h / "usr" / "bin").mkdir(parents=True)
        (tmp_path / h / "usr" / "bin" / "ceph").symlink_to("/usr/bin/ceph")
        out[h] = tmp_path / h
    return out


@pytest.fixture
def lab(dom0s: dict[str, Path]) -> Iterator[XapiLab]:
    """The conftest's lab, with dom0 views (the `pool` fixture builds on it)."""
    lab = XapiLab.start(hosts=HOSTS, password=PASSWORD, dom0=dom0s)
    try:
        yield lab
    finally:
        lab.stop()


def authorize(ceph: dict[str, Any], dom0s: dict[str, Path], hosts: list[str]) -> None:
    c = ceph["cluster"]
    c.ceph("fs", "authorize", "cephfs", f"client.{CLIENT}", DIR, "rw")
    key = c.ceph("auth", "get-key", f"client.{CLIENT}").strip()
    for h in hosts:
        secret = dom0s[h] / "etc" / "ceph" / f"{CLIENT}.secret"
        secret.write_text(key)
        secret.chmod(0o600)


def sr_props(srs: SharedSRProvider, pool: dict[str, Any], ceph: dict[str, Any]) -> dict[str, Any]:
    props = {**connection(pool), "name_label": "pool-a-cephfs", "type": "cephfs",
             "device_config": {"server": ceph["host"], "serverport": ceph["port"], "serverpath": DIR,
                               "options": f"name={CLIENT},secretfile=/etc/ceph/{CLIENT}.secret"}}
    result = srs.check({}, props)
    assert not result.failures, [f.reason for f in result.failures]
    return dict(result.inputs)


def test_revoked_key_shows_at_refresh_and_the_next_update_repairs(
        ceph: dict[str, Any], dom0s: dict[str, Path], srs: SharedSRProvider, pool: dict[str, Any]) -> None:
    authorize(ceph, dom0s, list(HOSTS))
    props = sr_props(srs, pool, ceph)
    created = srs.create(props)
    outs = out_of(created)
    assert len(outs["host_uuids"]) == 3 and outs["device_config"] == props["device_config"]
    assert not srs.diff(created.id, outs, props).changes

    ceph["cluster"].ceph("auth", "rm", f"client.{CLIENT}")
    read = out_of(srs.read(created.id, outs))
    assert read["host_uuids"] == [] and read["device_config"] == {}
    assert srs.diff(created.id, read, props).changes

    authorize(ceph, dom0s, list(HOSTS))  # a new key, written to every host
    outs = out_of(srs.update(created.id, read, props))
    assert len(outs["host_uuids"]) == 3 and outs["device_config"] == props["device_config"]
    srs.delete(created.id, outs)


def test_a_host_without_the_secret_gets_its_pbd_once_it_has_it(
        ceph: dict[str, Any], dom0s: dict[str, Path], lab: XapiLab, srs: SharedSRProvider,
        pool: dict[str, Any]) -> None:
    authorize(ceph, dom0s, list(HOSTS[:2]))  # the third host has no secret file yet
    props = sr_props(srs, pool, ceph)
    with pytest.raises(Exception, match="SR_BACKEND_FAILURE"):
        srs.create(props)  # XAPI plugs the new SR on every host: the third cannot mount
    authorize(ceph, dom0s, [HOSTS[2]])
    created = srs.create(props)
    outs = out_of(created)
    assert len(outs["host_uuids"]) == 3

    # A host unplugged by hand and its secret file gone: read shows it, update plugs it back.
    (dom0s[HOSTS[2]] / "etc" / "ceph" / f"{CLIENT}.secret").unlink()
    s = XenAPI.Session(lab.hosts[0].url)
    s.xenapi.login_with_password("root", PASSWORD, "1.0", "test")
    host3 = next(r for r, h in s.xenapi.host.get_all_records().items() if h["name_label"] == HOSTS[2])
    (pbd,) = [r for r, p in s.xenapi.PBD.get_all_records().items() if p["host"] == host3
              and s.xenapi.SR.get_uuid(p["SR"]) == created.id]
    s.xenapi.PBD.unplug(pbd)
    s.xenapi.session.logout()
    read = out_of(srs.read(created.id, outs))
    assert len(read["host_uuids"]) == 2 and read["device_config"] == {}
    authorize(ceph, dom0s, [HOSTS[2]])
    outs = out_of(srs.update(created.id, read, props))
    assert len(outs["host_uuids"]) == 3
    srs.delete(created.id, outs)
