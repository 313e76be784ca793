"""Lab hosts against the real Ironic: SSH only once deployed, with the config drive's key.

Compute servers are lab hosts too: their dom0 answers SSH once deployed, and the XAPI emulator
serves each on the host's own address with that host's dom0 view (`pool.join` takes a bare address).

Each test starts its own Ironic and hosts on free loopback addresses (stopped by recorded PIDs).
Needs root (namespaces, overlays, sshd); elsewhere the suite skips saying so.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import XenAPI

from components.keygen import ssh_key_pair
from lab import hosts as lab_hosts
from lab import ironic as lab_ironic
from lab.xapi import XapiLab

pytestmark = pytest.mark.ironic

WAIT = 60.0


class Ironic:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def call(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(
            self.endpoint + path, method=method,
            headers={"X-OpenStack-Ironic-API-Version": "latest", "Content-Type": "application/json"},
            data=json.dumps(body).encode() if body is not None else None,
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            return json.loads(text) if text else None

    def settle(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            node: dict[str, Any] = self.call("GET", f"/v1/nodes/{name}")
            if node["target_provision_state"] is None:
                return node
            time.sleep(0.1)
        raise AssertionError(f"node {name} did not settle within {WAIT} s")

    def enroll(self, name: str) -> None:
        self.call("POST", "/v1/nodes", {"name": name, "driver": "fake-hardware"})
        for verb in ("manage", "provide"):
            self.call("PUT", f"/v1/nodes/{name}/states/provision", {"target": verb})
            self.settle(name)
        self.call("PATCH", f"/v1/nodes/{name}",
                  [{"op": "add", "path": "/instance_info/image_source", "value": "http://image/debian.qcow2"}])

    def deploy(self, name: str, public_key: str) -> None:
        drive = {"meta_data": {"hostname": name, "public_keys": {"deploy": public_key}}}
        self.call("PUT", f"/v1/nodes/{name}/states/provision", {"target": "active", "configdrive": drive})
        assert self.settle(name)["provision_state"] == "active"

    def undeploy(self, name: str) -> None:
        self.call("PUT", f"/v1/nodes/{name}/states/provision", {"target": "deleted"})
        assert self.settle(name)["provision_state"] == "available"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    reason = lab_hosts.unavailable_reason()
    if reason:
        pytest.skip(f"LAB HOST TESTS SKIPPED: {reason}")
    info = lab_ironic.start(tmp_path / "ironic")
    try:
        addresses = lab_hosts.free_addresses(2)
        names = ["sto-a", "sto-b"]
        specs = [{"name": n, "address": a} for n, a in zip(names, addresses, strict=True)]
        lab_hosts.start(tmp_path / "hosts", hosts=specs,
                        ironic=info["endpoint"], ironic_db=tmp_path / "ironic" / "ironic.sqlite", poll_interval=0.2)
        try:
            ironic = Ironic(info["endpoint"])
            for n in names:
                ironic.enroll(n)
            key = tmp_path / "id_deploy"
            private, public = ssh_key_pair()
            key.write_text(private)
            key.chmod(0o600)
            yield {"ironic": ironic, "hosts": dict(zip(names, addresses, strict=True)), "key": key, "public": public,
                   "dir": tmp_path / "hosts"}
        finally:
            lab_hosts.stop(tmp_path / "hosts")
    finally:
        lab_ironic.stop(tmp_path / "ironic")


def ssh(address: str, key: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
         f"root@{address}", command],
        capture_output=True, text=True, timeout=30,
    )


def listening(address: str) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((address, lab_hosts.SSH_PORT)) == 0


def wait_until(what: str, probe: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT} s")
        time.sleep(0.1)


def test_ssh_only_once_deployed_with_the_config_drive_key(lab: dict[str, Any]) -> None:
    a, b = lab["hosts"]["sto-a"], lab["hosts"]["sto-b"]
    # Enrolled and available, not deployed: nothing answers SSH.
    assert not listening(a) and not listening(b)

    lab["ironic"].deploy("sto-a", lab["public"])
    wait_until("sshd on sto-a", lambda: listening(a))
    out = ssh(a, lab["key"], "hostname; cat /etc/hostname")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["sto-a", "sto-a"]
    assert not listening(b)  # its node is still undeployed

    # A key the config drive did not carry is refused.
    other = lab["key"].parent / "id_other"
    other.write_text(ssh_key_pair()[0])
    other.chmod(0o600)
    refused = ssh(a, other, "true")
    assert refused.returncode == 255 and "Permission denied" in refused.stderr


def test_hosts_have_their_own_etc_var_lib_and_run(lab: dict[str, Any]) -> None:
    ironic, key = lab["ironic"], lab["key"]
    for name, address in lab["hosts"].items():
        ironic.deploy(name, lab["public"])
        wait_until(f"sshd on {name}", lambda address=address: listening(address))
    a, b = lab["hosts"]["sto-a"], lab["hosts"]["sto-b"]
    write = ssh(a, key, "echo a > /etc/lab-marker && mkdir -p /var/lib/ceph/x && echo a > /run/lab-marker")
    assert write.returncode == 0, write.stderr
    seen = ssh(b, key, "cat /etc/lab-marker /run/lab-marker; ls /var/lib/ceph; hostname")
    assert "No such file" in seen.stderr and seen.stdout.split() == ["sto-b"]
    assert not Path("/etc/lab-marker").exists() and not Path("/var/lib/ceph/x").exists()
    assert ssh(a, key, "cat /etc/lab-marker /run/lab-marker").stdout.split() == ["a", "a"]


def test_undeploy_stops_sshd_and_every_process_of_the_host(lab: dict[str, Any]) -> None:
    ironic, key = lab["ironic"], lab["key"]
    a = lab["hosts"]["sto-a"]
    ironic.deploy("sto-a", lab["public"])
    wait_until("sshd on sto-a", lambda: listening(a))
    # Something the host runs beyond sshd (as a Ceph daemon would): a detached process.
    assert ssh(a, key, "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > /run/sleeper").returncode == 0
    sshd_pid = lab_hosts.status(lab["dir"], "sto-a")["sshd_pid"]
    assert sshd_pid

    ironic.undeploy("sto-a")
    # The supervisor reports a state other than active once it has powered the host off.
    wait_until("sto-a powered off",
               lambda: lab_hosts.status(lab["dir"], "sto-a").get("provision_state") not in ("active", None))
    assert not listening(a)
    ps = lab_hosts.run(lab["dir"], "sto-a", "ps", "-eo", "pid=,comm=")
    others = [line.split() for line in ps.stdout.splitlines() if line.split()[0] != "1"]
    assert [comm for _, comm in others] == ["ps"], ps.stdout  # only the host's init and this ps
    # The disk was wiped: nothing written while deployed survives.
    assert lab_hosts.run(lab["dir"], "sto-a", "ls", "/run/sleeper").returncode != 0

    # Deployed again: it answers again, with a fresh disk.
    ironic.deploy("sto-a", lab["public"])
    wait_until("sshd on sto-a again", lambda: listening(a))
    assert ssh(a, key, "hostname").stdout.strip() == "sto-a"


# --- compute hosts: their dom0 over SSH, XAPI on their own address ------------------------------

XAPI_PASSWORD = "lab-xcp-root"


@pytest.fixture
def compute_lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Two compute servers as lab hosts, with the XAPI emulator serving each on its address."""
    reason = lab_hosts.unavailable_reason()
    if reason:
        pytest.skip(f"LAB HOST TESTS SKIPPED: {reason}")
    info = lab_ironic.start(tmp_path / "ironic")
    names = ["cmp-a", "cmp-b"]
    try:
        addresses = dict(zip(names, lab_hosts.free_addresses(2, ports=(lab_hosts.SSH_PORT, 80)), strict=True))
        lab_hosts.start(tmp_path / "hosts", hosts=[{"name": n, "address": a} for n, a in addresses.items()],
                        ironic=info["endpoint"], ironic_db=tmp_path / "ironic" / "ironic.sqlite", poll_interval=0.2)
        try:
            dom0s = {n: lab_hosts.dom0(tmp_path / "hosts", n) for n in names}
            with XapiLab.start(hosts=names, password=XAPI_PASSWORD, addresses=addresses, dom0=dom0s) as xapi:
                ironic = Ironic(info["endpoint"])
                for n in names:
                    ironic.enroll(n)
                key = tmp_path / "id_deploy"
                private, public = ssh_key_pair()
                key.write_text(private)
                key.chmod(0o600)
                yield {"ironic": ironic, "hosts": addresses, "key": key, "public": public, "xapi": xapi,
                       "dir": tmp_path / "hosts"}
        finally:
            lab_hosts.stop(tmp_path / "hosts")
    finally:
        lab_ironic.stop(tmp_path / "ironic")


def xapi_session(address: str) -> Any:
    s = XenAPI.Session(f"http://{address}/")
    s.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "test")
    return s


def test_a_compute_hosts_dom0_answers_ssh_once_deployed_and_is_what_xapi_sees(compute_lab: dict[str, Any]) -> None:
    lab = compute_lab
    a, b = lab["hosts"]["cmp-a"], lab["hosts"]["cmp-b"]
    assert not listening(a) and not listening(b)
    lab["ironic"].deploy("cmp-a", lab["public"])
    wait_until("sshd on cmp-a", lambda: listening(a))
    assert not listening(b)
    # A file written in dom0 over SSH (as the region writes a pool's Ceph secret file) is in that
    # host's dom0 view, the one the XAPI emulator's SR drivers read; not the machine's, not cmp-b's.
    out = ssh(a, lab["key"], "umask 077 && mkdir -p /etc/ceph && cat > /etc/ceph/t.secret <<< k; hostname")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "cmp-a"
    dom0 = lab["xapi"].world.nodes["cmp-a"].dom0
    assert dom0 is not None and (dom0 / "etc/ceph/t.secret").read_text() == "k\n"
    assert (dom0 / "etc/ceph/t.secret").stat().st_mode & 0o777 == 0o600
    assert not Path("/etc/ceph/t.secret").exists()
    assert not (lab["xapi"].world.nodes["cmp-b"].dom0 / "etc/ceph/t.secret").exists()


def test_xapi_on_the_hosts_own_address_and_pool_join_takes_a_bare_address(compute_lab: dict[str, Any]) -> None:
    lab = compute_lab
    a, b = lab["hosts"]["cmp-a"], lab["hosts"]["cmp-b"]
    # Each host serves XAPI on its own address (port 80), not on 127.0.0.1: host.address is bare.
    assert [h.url for h in lab["xapi"].hosts] == [f"http://{a}/", f"http://{b}/"]
    sa = xapi_session(a)
    try:
        (host,) = sa.xenapi.host.get_all_records().values()
        assert (host["address"], host["hostname"]) == (a, "cmp-a")
    finally:
        sa.xenapi.session.logout()
    # pool.join takes the master's bare address, as real XAPI does.
    sb = xapi_session(b)
    task = sb.xenapi.Async.pool.join(a, "root", XAPI_PASSWORD)
    wait_until("the join task", lambda: sb.xenapi.task.get_status(task) != "pending")
    assert sb.xenapi.task.get_status(task) == "success", sb.xenapi.task.get_error_info(task)
    assert lab["xapi"].pool_members("cmp-a") == ["cmp-a", "cmp-b"]
    # The joined host refuses logins naming its master by that bare address.
    with pytest.raises(XenAPI.Failure) as e:
        xapi_session(b)
    assert e.value.details == ["HOST_IS_SLAVE", a]
    sm = xapi_session(a)
    try:
        assert sorted(h["address"] for h in sm.xenapi.host.get_all_records().values()) == sorted([a, b])
    finally:
        sm.xenapi.session.logout()
