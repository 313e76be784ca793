"""`CephCluster` through the real engine: a Ceph cluster formed over SSH on lab hosts.

The test plays the operator: it deploys the storage servers with Ironic (the config drive carries
its public key) and gives the program the private key as a secret. Then: from nothing to a
healthy cluster (three monitors, one OSD per server, a manager with the dashboard, RGW with an
Admin Ops user); a second `up` runs no command; a fourth server adds one OSD; removing it again is
named by the policy pack's preview, and its OSD is purged only once Ceph has moved its placement
groups (objects of a one-replica pool survive); an OSD whose placement groups cannot move is not
stopped; destroy leaves no Ceph daemon on any host. Needs root (lab hosts, Ceph's packages);
elsewhere it skips, saying so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.keygen import ssh_key_pair
from lab import ceph as lab_ceph
from lab import hosts as lab_hosts
from lab import ironic as lab_ironic
from providers.ceph._rgw import AdminOps
from tests.enginekit import EngineStack, descendants, reap
from tests.hosts.test_hosts import Ironic
from tests.policy.kit import PACK, violations

pytestmark = [pytest.mark.engine, pytest.mark.ceph, pytest.mark.slow]

NAMES = ["sto-a", "sto-b", "sto-c", "sto-d"]
HEALTH_WAIT = 180.0

PROGRAM = """
import json
import pulumi
from components.cephcluster import CephCluster, CephClusterArgs, CephHost

cfg = pulumi.Config()
hosts = [CephHost(h["name"], h["address"]) for h in json.loads(cfg.require("hosts"))]
c = CephCluster("ceph", CephClusterArgs(hosts=hosts, private_key=cfg.require_secret("deployKey"), lab=True,
                                        allow_osd_purge=True, osd_drain_timeout=cfg.get_int("drainTimeout") or 600))
for k in ("fsid", "mon_addresses", "dashboard_url", "dashboard_user", "dashboard_password", "rgw_url",
          "rgw_access_key", "rgw_secret_key"):
    pulumi.export(k, getattr(c, k))
"""


@pytest.fixture
def hosts_lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    reason = lab_hosts.unavailable_reason() or lab_ceph.unavailable_reason()
    if reason:
        pytest.skip(f"CEPH CLUSTER ENGINE TESTS SKIPPED: {reason}")
    lab_ceph.install()
    info = lab_ironic.start(tmp_path / "ironic")
    try:
        addresses = dict(zip(NAMES, lab_hosts.free_addresses(len(NAMES)), strict=True))
        lab_hosts.start(tmp_path / "hosts", hosts=[{"name": n, "address": a} for n, a in addresses.items()],
                        ironic=info["endpoint"], ironic_db=tmp_path / "ironic" / "ironic.sqlite",
                        poll_interval=0.5)
        try:
            ironic = Ironic(info["endpoint"])
            private, public = ssh_key_pair()
            for n in NAMES:
                ironic.enroll(n)
            yield {"ironic": ironic, "addresses": addresses, "private": private, "public": public,
                   "dir": tmp_path / "hosts"}
        finally:
            lab_hosts.stop(tmp_path / "hosts")
    finally:
        lab_ironic.stop(tmp_path / "ironic")


def on(lab: dict[str, Any], name: str, *argv: str) -> str:
    out = lab_hosts.run(lab["dir"], name, *argv)
    assert out.returncode == 0, f"{argv} on {name}: {out.stderr}"
    return out.stdout


def ceph_status(lab: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = json.loads(on(lab, "sto-a", "ceph", "--connect-timeout", "30", "status",
                                           "--format", "json"))
    return status


def wait_healthy(lab: dict[str, Any], osds: int, mons: int = 3) -> dict[str, Any]:
    """HEALTH_OK with `mons` monitors in quorum, `osds` OSDs up and in, all PGs active+clean."""
    deadline = time.monotonic() + HEALTH_WAIT
    while True:
        s = ceph_status(lab)
        osdmap = s["osdmap"].get("osdmap", s["osdmap"])
        pgmap = s["pgmap"]
        clean = sum(x["count"] for x in pgmap.get("pgs_by_state", []) if x["state_name"] == "active+clean")
        if (s["health"]["status"] == "HEALTH_OK" and len(s["quorum_names"]) == mons
                and osdmap["num_up_osds"] == osds and osdmap["num_in_osds"] == osds
                and clean == pgmap["num_pgs"] and s["mgrmap"]["available"]):
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"cluster not healthy with {osds} OSDs within {HEALTH_WAIT} s: "
                                 f"{json.dumps(s['health'])[:1500]} osdmap={osdmap} pgs={pgmap.get('pgs_by_state')}")
        time.sleep(1)


def ceph_daemons(lab: dict[str, Any], name: str) -> list[str]:
    ps = on(lab, name, "ps", "-eo", "comm=")
    return [c for c in ps.split() if c.startswith(("ceph-", "radosgw"))]


def commands_run(result: Any) -> list[str]:
    return sorted(s.name for s in result.steps
                  if s.type.startswith("command:") and s.op not in ("same", "read", "refresh"))


def test_bootstrap_idempotence_growth_and_destroy(tmp_path: Path, engine_bin: Path,
                                                   hosts_lab: dict[str, Any]) -> None:
    lab = hosts_lab
    for n in NAMES[:3]:
        lab["ironic"].deploy(n, lab["public"])
    three = [{"name": n, "address": lab["addresses"][n]} for n in NAMES[:3]]
    st = EngineStack.create(tmp_path / "engine", engine_bin, program=PROGRAM,
                            config={"hosts": json.dumps(three)}, secrets={"deployKey": lab["private"]})

    started = time.monotonic()
    first = st.up()
    print(f"day-0 up (3 servers): {time.monotonic() - started:.1f} s")
    steps = commands_run(first)
    assert steps == sorted(["ceph-secrets-keygen", "ceph-mgr", "ceph-dashboard-user", "ceph-rgw", "ceph-rgw-admin-user",
                            *[f"ceph-{k}-{n}" for n in NAMES[:3] for k in ("node", "mon", "osd")]])
    status = wait_healthy(lab, osds=3)
    assert sorted(status["quorum_names"]) == NAMES[:3]

    out = st.outputs(show_secrets=True)
    assert out["mon_addresses"] == [f"{h['address']}:3300" for h in three]
    assert out["fsid"] == status["fsid"]
    # The dashboard takes the generated password; RGW's Admin Ops API takes the admin user's keys.
    req = urllib.request.Request(
        f"{out['dashboard_url']}/api/auth", method="POST",
        data=json.dumps({"username": out["dashboard_user"], "password": out["dashboard_password"]}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/vnd.ceph.api.v1.0+json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 201
    rgw = AdminOps(out["rgw_url"], out["rgw_access_key"], out["rgw_secret_key"])
    assert rgw.get_user("test", "admin-ops")["user_id"] == "admin-ops"

    # Secrets: masked in outputs, absent from state in plaintext.
    plain = st.outputs()
    assert plain["dashboard_password"] == "[secret]" and plain["rgw_secret_key"] == "[secret]"
    exported = json.dumps(st.export())
    for secret in (out["dashboard_password"], out["rgw_secret_key"], lab["private"].splitlines()[1]):
        assert secret not in exported

    # Again: no command runs.
    again = st.up()
    assert again.changes == {} and commands_run(again) == []

    # A fourth storage server: its node step and one OSD, nothing else.
    lab["ironic"].deploy("sto-d", lab["public"])
    four = [*three, {"name": "sto-d", "address": lab["addresses"]["sto-d"]}]
    st.set_config("hosts", json.dumps(four))
    grown = st.up()
    assert commands_run(grown) == ["ceph-node-sto-d", "ceph-osd-sto-d"]
    wait_healthy(lab, osds=4)

    # Objects in a pool of one replica, some of them on sto-d's OSD (osd.3).
    on(lab, "sto-a", "ceph", "osd", "pool", "create", "solo", "8", "8")
    on(lab, "sto-a", "ceph", "osd", "pool", "application", "enable", "solo", "rados")
    for i in range(32):
        on(lab, "sto-a", "rados", "-p", "solo", "put", f"obj-{i}", "/etc/hostname")
    placed = [json.loads(on(lab, "sto-a", "ceph", "osd", "map", "solo", f"obj-{i}", "--format", "json"))["acting"]
              for i in range(32)]
    assert any(3 in acting for acting in placed), placed

    # sto-d removed from the config: the preview says its OSD leaves and is purged.
    st.set_config("hosts", json.dumps(three))
    advice = [v for v in violations(st.run("preview", "--policy-pack", str(PACK))) if v.policy == "ceph-osd-removal"]
    assert [v.level for v in advice] == ["advisory"], advice
    assert "Ceph osd.3 on storage server 'sto-d' leaves the cluster" in advice[0].message, advice
    assert "then purges it" in advice[0].message
    # The up purges it only once its placement groups are active+clean elsewhere: nothing is lost.
    shrunk = st.up()
    assert commands_run(shrunk) == ["ceph-node-sto-d", "ceph-osd-sto-d"]
    said = "".join(shrunk.diagnostics())
    assert "osd.3: its placement groups are active+clean on other OSDs" in said, said[-3000:]
    status = wait_healthy(lab, osds=3)
    assert status["osdmap"].get("osdmap", status["osdmap"])["num_osds"] == 3  # purged from the map
    for i in range(32):
        on(lab, "sto-a", "rados", "-p", "solo", "stat", f"obj-{i}")

    # Destroy: no Ceph daemon left on any host.
    st.destroy()
    for n in NAMES:
        assert ceph_daemons(lab, n) == [], n


def test_rerun_after_killing_the_engine_mid_bootstrap_converges(tmp_path: Path, engine_bin: Path,
                                                                hosts_lab: dict[str, Any]) -> None:
    lab = hosts_lab
    for n in NAMES[:3]:
        lab["ironic"].deploy(n, lab["public"])
    three = [{"name": n, "address": lab["addresses"][n]} for n in NAMES[:3]]
    st = EngineStack.create(tmp_path / "engine", engine_bin, program=PROGRAM,
                            config={"hosts": json.dumps(three)}, secrets={"deployKey": lab["private"]})

    # `pulumi up` in a session of its own (its plugins too), killed once the monitors run.
    proc = subprocess.Popen(
        ["pulumi", "--non-interactive", "up", "--yes", "--skip-preview", "--stack", st.name],
        cwd=st.workdir, env={**os.environ, **st.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + HEALTH_WAIT
        while "ceph-mon" not in ceph_daemons(lab, "sto-a"):
            assert proc.poll() is None, "pulumi up ended before the monitors started"
            assert time.monotonic() < deadline, "the monitors did not start"
            time.sleep(0.2)
    finally:
        # its language host and plugins run in process groups of their own: recorded, then reaped
        tree = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        left = reap(tree)
    assert left == [], f"processes of the killed up still run: {left}"

    # What the killed run left is cleared as `bin/deploy` does (its lock, and a state file's
    # metadata sidecar when the kill cut its write: engine/recovery.py; its pending creates: a
    # refresh that clears them), and the re-run converges: every step checks before it acts.
    st.recover().check()
    st.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates").check()
    st.up()
    wait_healthy(lab, osds=3)
    assert st.up().changes == {}
    st.destroy()
    for n in NAMES[:3]:
        assert ceph_daemons(lab, n) == [], n


def test_a_second_server_adds_a_monitor_and_an_osd(tmp_path: Path, engine_bin: Path,
                                                   hosts_lab: dict[str, Any]) -> None:
    lab = hosts_lab
    for n in NAMES[:2]:
        lab["ironic"].deploy(n, lab["public"])
    one = [{"name": "sto-a", "address": lab["addresses"]["sto-a"]}]
    st = EngineStack.create(tmp_path / "engine", engine_bin, program=PROGRAM,
                            config={"hosts": json.dumps(one)}, secrets={"deployKey": lab["private"]})
    st.up()
    assert wait_healthy(lab, osds=1, mons=1)["quorum_names"] == ["sto-a"]

    two = [*one, {"name": "sto-b", "address": lab["addresses"]["sto-b"]}]
    st.set_config("hosts", json.dumps(two))
    grown = st.up()
    # The new server's steps; sto-a's conf and monitor step re-run (they name the new monitor)
    # and change nothing there.
    assert commands_run(grown) == ["ceph-mon-sto-a", "ceph-mon-sto-b", "ceph-node-sto-a", "ceph-node-sto-b",
                                   "ceph-osd-sto-b"]
    assert sorted(wait_healthy(lab, osds=2, mons=2)["quorum_names"]) == ["sto-a", "sto-b"]

    # A pool of two replicas on two servers: removing one, its placement groups have nowhere to go.
    on(lab, "sto-a", "ceph", "osd", "pool", "create", "pair", "8", "8")
    on(lab, "sto-a", "ceph", "osd", "pool", "application", "enable", "pair", "rados")
    on(lab, "sto-a", "ceph", "osd", "pool", "set", "pair", "size", "2")
    wait_healthy(lab, osds=2, mons=2)
    # The delete step that runs is the one recorded at the last up: a shorter drain first.
    st.set_config("drainTimeout", "20")
    assert commands_run(st.up()) == ["ceph-osd-sto-a", "ceph-osd-sto-b"]
    st.set_config("hosts", json.dumps(one))
    refused = st.run("up", "--skip-preview")
    assert refused.returncode != 0
    errors = "".join(refused.diagnostics())
    assert "osd.1: refusing to stop it: Ceph did not move its placement groups to other OSDs within 20 s" in errors
    assert "It is marked in again" in errors
    # Nothing was stopped: both OSDs are up and in again, the pools healthy.
    wait_healthy(lab, osds=2, mons=2)
    assert "ceph-osd" in ceph_daemons(lab, "sto-b")
    # With room for its data (the pool down to one replica), the removal converges. Its placement
    # groups now move while the OSD drains, as long as recovery takes: the drain gets its default
    # bound back first (recorded by an up that still has both servers).
    on(lab, "sto-a", "ceph", "osd", "pool", "set", "pair", "size", "1", "--yes-i-really-mean-it")
    st.set_config("hosts", json.dumps(two))
    st.set_config("drainTimeout", "600")
    assert "ceph-osd-sto-b" in commands_run(st.up())
    st.set_config("hosts", json.dumps(one))
    shrunk = st.up()
    assert "ceph-osd-sto-b" in commands_run(shrunk)
    assert wait_healthy(lab, osds=1, mons=1)["quorum_names"] == ["sto-a"]
    st.destroy()
    for n in NAMES[:2]:
        assert ceph_daemons(lab, n) == [], n
