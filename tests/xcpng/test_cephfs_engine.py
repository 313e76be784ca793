"""The cephfs chain through the real Pulumi engine: CephFS directory and CephX client on the lab's
real Ceph, the key written to every host's dom0 over SSH (pulumi_command, on stdin, mode 0600),
the pool's cephfs SR with device-config from those outputs, plugged on every host.

A key revoked in Ceph shows at refresh (the client gone, the SR not in effect on every host) and
the next up repairs it (a new key, written again, the SR plugged again); a host joining the pool
gets its secret file first and its PBD plugged when it joins; destroying the stack
refuses to delete the pool's directory while it holds the SR's directory, unless allowed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import XenAPI

from lab import ceph as lab_ceph
from lab.xapi import XapiLab
from tests.ceph.conftest import stack_config
from tests.engine.sshd import Sshd
from tests.engine.sshd import unavailable_reason as no_sshd
from tests.enginekit import EngineStack

from .conftest import HOSTS, PASSWORD, addresses

pytestmark = [pytest.mark.engine, pytest.mark.ceph, pytest.mark.slow]

SETTINGS = {"scheme": "http", "pollInterval": 0.05, "taskTimeout": 60, "joinTimeout": 60, "retryTimeout": 5}

PROGRAM = """
import json
import pulumi
from pulumi_command import remote
from providers import ceph, xcpng

cfg = pulumi.Config()
ssh_key = cfg.require_secret("sshKey")
directory = ceph.FsDirectory("dir", ceph.FsDirectoryArgs(
    fs_name="cephfs", path="/xcp/pool-a", quota_bytes=cfg.require_int("quota"),
    allow_delete_with_data=cfg.get_bool("allowDelete") or False))
client = ceph.FsClient("client", ceph.FsClientArgs(
    name="xcp-pool-a", fs_name="cephfs", path=directory.path, host="127.0.0.1",
    port=cfg.require_int("sshPort"), user=cfg.require("sshUser"), private_key=ssh_key,
    conf=cfg.require("cephConf")))
conn = remote.ConnectionArgs(host="127.0.0.1", port=cfg.require_int("sshPort"), user=cfg.require("sshUser"),
                             private_key=ssh_key)
secrets = []
dom0s = json.loads(cfg.require("dom0s"))
for host in json.loads(cfg.require("poolHosts")):  # each host ready before it joins
    root = dom0s[host]
    secret = f"{root}/etc/ceph/xcp-pool-a.secret"
    secrets.append(remote.Command(
        f"secret-{host}", connection=conn,
        create=f"umask 077 && mkdir -p {root}/etc/ceph && cat > {secret}.new && mv {secret}.new {secret}",
        delete=f"rm -f {secret}", stdin=client.key, triggers=[client.key],
        # the old file's delete must not run after the new key is written
        opts=pulumi.ResourceOptions(delete_before_replace=True)))
pool = xcpng.Pool("pool", xcpng.PoolArgs(
    name_label="pool-a", master=cfg.require("master"), hosts=json.loads(cfg.require("hosts")),
    password=cfg.require_secret("rootPassword")), pulumi.ResourceOptions(depends_on=secrets))
sr = xcpng.SharedSR("sr", xcpng.SharedSRArgs(
    address=pool.master_address, password=cfg.require_secret("rootPassword"), pool_uuid=pool.pool_uuid,
    name_label="pool-a-cephfs", type="cephfs",
    device_config={"server": cfg.require("monHost"), "serverport": cfg.require("monPort"),
                   "serverpath": directory.path,
                   "options": client.name.apply(lambda n: f"name={n},secretfile=/etc/ceph/{n}.secret")},
    make_default=True), pulumi.ResourceOptions(depends_on=secrets))
pulumi.export("hosts", sr.host_uuids)
pulumi.export("entries", directory.entries)
"""


@pytest.fixture(scope="module")
def ceph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = lab_ceph.unavailable_reason()
    if reason:
        print(f"\n*** SKIPPING the cephfs engine chain: {reason} ***", file=sys.stderr)
        pytest.skip(f"this machine cannot run the Ceph lab: {reason}")
    state_dir = tmp_path_factory.mktemp("ceph-lab")
    try:
        info = lab_ceph.start(state_dir)
        fs = lab_ceph.add_filesystem(state_dir)
        yield {**info, **fs, "state_dir": state_dir}
    finally:
        lab_ceph.stop(state_dir)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    reason = no_sshd()
    if reason:
        pytest.skip(f"NO SSHD: the hosts' secret files are written over SSH: {reason}")
    with Sshd.start(tmp_path / "sshd") as server:
        yield server


@pytest.fixture
def dom0s(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for h in HOSTS:
        (tmp_path / "dom0" / h / "usr" / "bin").mkdir(parents=True)
        (tmp_path / "dom0" / h / "usr" / "bin" / "ceph").symlink_to("/usr/bin/ceph")
        out[h] = tmp_path / "dom0" / h
    return out


@pytest.fixture
def xapi(dom0s: dict[str, Path]) -> Iterator[XapiLab]:
    lab = XapiLab.start(hosts=HOSTS, password=PASSWORD, dom0=dom0s)
    try:
        yield lab
    finally:
        lab.stop()


def plugged(lab: XapiLab) -> dict[str, bool]:
    s = XenAPI.Session(lab.hosts[0].url)
    s.xenapi.login_with_password("root", PASSWORD, "1.0", "test")
    try:
        x = s.xenapi
        hosts = x.host.get_all_records()
        srs = {r for r, sr in x.SR.get_all_records().items() if sr["type"] == "cephfs"}
        return {hosts[p["host"]]["name_label"]: p["currently_attached"]
                for p in x.PBD.get_all_records().values() if p["SR"] in srs}
    finally:
        s.xenapi.session.logout()


def test_the_chain(tmp_path: Path, engine_bin: Path, ceph: dict[str, Any], sshd: Sshd, xapi: XapiLab,
                   dom0s: dict[str, Path]) -> None:
    mon_host, mon_port = ceph["mon_addrs"][0].rsplit(":", 1)
    a = addresses(xapi)
    st = EngineStack.create(
        tmp_path / "stack", engine_bin, program=PROGRAM,
        config={"xcpng": json.dumps(SETTINGS), "master": a[0], "hosts": json.dumps(a[:2]), "quota": str(10 << 30),
                "poolHosts": json.dumps(HOSTS[:2]),
                "sshPort": str(sshd.port), "sshUser": sshd.user, "cephConf": str(Path(ceph["ceph_conf"])),
                "dom0s": json.dumps({h: str(d) for h, d in dom0s.items()}), "monHost": mon_host,
                "monPort": mon_port},
        secrets={"ceph": json.dumps(stack_config(ceph)), "rootPassword": PASSWORD, "sshKey": sshd.private_key},
    )
    assert st.up().changes == {"create": 7}  # stack, directory, client, 2 secret files, pool, SR
    assert plugged(xapi) == dict.fromkeys(HOSTS[:2], True)

    # A host joins: its secret file is written before the join, its PBD plugs as it joins.
    st.set_config("hosts", json.dumps(a))
    st.set_config("poolHosts", json.dumps(HOSTS))
    joined = st.up()
    assert joined.changes == {"create": 1, "update": 1}, joined.changes  # its secret file; the pool
    assert plugged(xapi) == dict.fromkeys(HOSTS, True)
    for d in dom0s.values():
        secret = d / "etc" / "ceph" / "xcp-pool-a.secret"
        assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_text().strip()) == 40
    key = (dom0s[HOSTS[0]] / "etc" / "ceph" / "xcp-pool-a.secret").read_text().strip()
    exported = json.dumps(st.export())
    assert key not in exported and ceph["dashboard_password"] not in exported
    assert st.up().changes == {}

    # A key revoked in Ceph: refresh shows the client gone and the SR unplugged; up repairs both.
    lab_ceph.cli(ceph["state_dir"], "auth", "rm", "client.xcp-pool-a")
    refreshed = st.refresh()
    assert refreshed.changes == {"delete": 1, "update": 1}, refreshed.changes
    assert plugged(xapi) == dict.fromkeys(HOSTS, False)
    repaired = st.up()
    assert plugged(xapi) == dict.fromkeys(HOSTS, True), repaired.changes
    assert (dom0s[HOSTS[0]] / "etc" / "ceph" / "xcp-pool-a.secret").read_text().strip() != key
    assert st.up().changes == {}

    # Removing the pool's storage refuses to delete a directory holding the SR's directory...
    destroyed = st.run("destroy", "--skip-preview")
    assert destroyed.returncode != 0
    assert "allow_delete_with_data" in destroyed.stdout + destroyed.stderr
    assert "dir" in st.resources()
    # ...unless the config allows it.
    st.set_config("allowDelete", "true")
    st.up()
    st.destroy()
    assert st.resources() == {}
