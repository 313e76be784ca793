"""Lab hosts: the region's servers as machines that answer SSH once Ironic has deployed them.

Each host is a process tree in Linux namespaces of its own (`unshare`): a mount namespace where
/etc, /var/lib and /root are overlays of the machine's (the "image": Debian with openssh-server
and Ceph's packages, installed once by `python -m lab install`) over a per-host directory and
/run is a fresh tmpfs; a UTS namespace with the server's hostname; a PID namespace whose init is
this module's `boot` supervisor, so stopping the host (its recorded PID) stops everything that
ran on it. The network namespace is the machine's: each host has its own loopback address
(127.0.0.0/8 reaches only this machine), where its sshd listens.

The supervisor plays the hardware and cloud-init: it watches its Ironic node; when the node is
`active` it reads the public keys the node's config drive carried (meta_data `public_keys`, as
cloud-init installs them), writes them as root's authorized keys and starts sshd; when the node
leaves `active` (undeploy) it stops sshd and every other process of the host, and wipes the
host's disk (its overlay layers), as cleaning would.

A host given a `management_server_port` is the region's controller: once deployed it also runs
the CloudStack management server (the emulator, `python -m lab.cloudstack serve --fresh`) on its
own address and that port, in the state of a fresh install (the ROOT `admin` with the initial
password `password`, no API keys), as the controller image's first boot would leave it; undeploy
stops it with the rest of the host, and the next deploy is a fresh install again.

    install()                                    # openssh-server, genisoimage (idempotent)
    info = start(state_dir, hosts=[{"name", "address"}], ironic=endpoint, ironic_db=sqlite_file)
    stop(state_dir)                              # by the PIDs recorded at start
    run(state_dir, name, *argv)                  # run a command on a host (tests, out of band)
    dom0(state_dir, name)                        # its filesystem view (/proc/<init>/root)

Compute servers are hosts too: their "dom0", reached over SSH once deployed (the region writes
their Ceph secret files there); the XAPI emulator serves each on the host's own address and reads
its dom0 through `dom0()`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab import procs

PACKAGES = ("openssh-server", "genisoimage")
SSHD = "/usr/sbin/sshd"
ISOINFO = "isoinfo"
# What each host has of its own, over the machine's: (mount point, overlay?).
PRIVATE_DIRS = ("/etc", "/var/lib", "/root")
SSH_PORT = 22
POLL_INTERVAL = 1.0
MANAGEMENT_SERVER_PORT = 8080  # where CloudStack's management server serves /client/api
BOOT_TIMEOUT = 60.0


class HostLabError(RuntimeError):
    """A lab host could not be installed, started or reached; the message says which and why."""


# ---------------------------------------------------------------------------------------- install


def installed() -> bool:
    return Path(SSHD).exists() and shutil.which(ISOINFO) is not None and shutil.which("unshare") is not None


def install() -> None:
    """Debian's openssh-server (the hosts' sshd) and genisoimage (Ironic builds config drives
    with it; `isoinfo` reads them back). Needs root and the package registry."""
    if installed():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES], check=True, env=env)
    if not installed():
        raise HostLabError(f"installed {PACKAGES} but {SSHD} or {ISOINFO} is missing")


def unavailable_reason() -> str | None:
    """Why this machine cannot run lab hosts, or None (tests skip with this reason)."""
    if os.geteuid() != 0:
        return "lab hosts need root (mount, UTS and PID namespaces, overlay mounts, sshd as root)"
    if not installed() and shutil.which("apt-get") is None:
        return "openssh-server is not installed and there is no apt-get to install it"
    return None


# ------------------------------------------------------------------------------------ addresses


def address_free(address: str, port: int = SSH_PORT) -> bool:
    with socket.socket() as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def free_addresses(n: int, *, prefix: str = "127.77", ports: Sequence[int] = (SSH_PORT,)) -> list[str]:
    """`n` loopback addresses where nothing listens on `ports` (for tests' own hosts; a compute
    host also needs XAPI's port 80 free)."""
    found: list[str] = []
    if n <= 0:
        return found
    start = os.getpid() % 200
    for third in [*range(start, 250), *range(start)]:
        for fourth in range(2, 254):
            address = f"{prefix}.{third}.{fourth}"
            if all(address_free(address, port) for port in ports):
                found.append(address)
                if len(found) == n:
                    return found
    raise HostLabError(f"no {n} free loopback addresses under {prefix}.0.0/16")


# ------------------------------------------------------------------------------- start and stop


def host_dir(state_dir: Path, name: str) -> Path:
    return state_dir.resolve() / name


def start(
    state_dir: Path,
    *,
    hosts: Sequence[dict[str, Any]],
    ironic: str,
    ironic_db: Path,
    poll_interval: float = POLL_INTERVAL,
) -> dict[str, Any]:
    """Boot `hosts` ({"name", "address"}, name = the Ironic node's name) with fresh disks; a host
    with "management_server_port" runs the CloudStack management server there once deployed.

    `ironic` is the Ironic API (provision states); `ironic_db` its conductor's SQLite database,
    where the hosts find their config drives."""
    reason = unavailable_reason()
    if reason:
        raise HostLabError(reason)
    install()
    stop(state_dir)
    state_dir = state_dir.resolve()
    for h in hosts:
        d = host_dir(state_dir, h["name"])
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        procs.start(
            f"host-{h['name']}",
            ["unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc", "--kill-child",
             "--propagation", "private",
             sys.executable, "-m", "lab.hosts", "boot", "--dir", str(d), "--name", h["name"],
             "--address", h["address"], "--ironic", ironic, "--ironic-db", str(ironic_db.resolve()),
             "--poll-interval", str(poll_interval), *_controller_args(h)],
            state_dir,
            cwd=Path(__file__).resolve().parent.parent,
        )
    for h in hosts:
        d = host_dir(state_dir, h["name"])
        procs.wait_for_file(f"host-{h['name']}", state_dir, d / "booted", timeout=BOOT_TIMEOUT,
                            what=f"lab host {h['name']} ({h['address']})")
    return {"hosts": [{"name": h["name"], "address": h["address"], "ssh_port": SSH_PORT, **management_server_info(h)}
                      for h in hosts]}


def _controller_args(h: dict[str, Any]) -> list[str]:
    port = h.get("management_server_port")
    return [] if port is None else ["--management-server-port", str(int(port))]


def management_server_info(h: dict[str, Any]) -> dict[str, Any]:
    """Where the controller's management server answers once deployed, and its install's login."""
    port = h.get("management_server_port")
    if port is None:
        return {}
    return {"management_server": {"endpoint": f"http://{h['address']}:{int(port)}/client/api",
                                  "admin_user": "admin", "admin_password": "password"}}


def stop(state_dir: Path) -> None:
    """Power every host off: SIGTERM its init (recorded PID); the kernel ends the rest of it."""
    if not state_dir.exists():
        return
    for pid_file in sorted(state_dir.glob("host-*.pid")):
        procs.stop(pid_file.stem, state_dir)


def status(state_dir: Path, name: str) -> dict[str, Any]:
    """What the host's supervisor last reported: provision state, sshd PID, processes."""
    f = host_dir(state_dir, name) / "status.json"
    return json.loads(f.read_text()) if f.exists() else {}


def init_pid(state_dir: Path, name: str) -> int:
    """The host's init as seen from the machine (the child of the recorded `unshare`)."""
    pid = procs.pid_of(f"host-{name}", state_dir)
    if pid is None or not procs.alive(pid):
        raise HostLabError(f"lab host {name} is not running")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if not children:
        raise HostLabError(f"lab host {name}: unshare {pid} has no init")
    return int(children[0])


def dom0(state_dir: Path, name: str) -> Path:
    """Host `name`'s filesystem as its own processes see it (its /etc, /var/lib, /root, /run):
    a compute host's dom0 for the XAPI emulator's SR drivers (cephfs reads its secret file there)."""
    return Path(f"/proc/{init_pid(state_dir, name)}/root")


def run(state_dir: Path, name: str, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `argv` on host `name` (its namespaces), as the console would: for tests' checks."""
    return subprocess.run(
        ["nsenter", "-t", str(init_pid(state_dir, name)), "-m", "-u", "-p", "--", *argv],
        capture_output=True, text=True, timeout=timeout,
    )


# ------------------------------------------------------------------------------ the supervisor


def _node(ironic: str, name: str) -> dict[str, Any] | None:
    req = urllib.request.Request(
        f"{ironic}/v1/nodes/{name}", headers={"X-OpenStack-Ironic-API-Version": "latest"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            node: dict[str, Any] = json.loads(resp.read())
            return node
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def stored_configdrive(db: Path, name: str) -> str | dict[str, Any] | None:
    """The config drive Ironic keeps for node `name` (its API masks it: policy
    `show_instance_secrets`). Real hardware reads it from the partition or virtual media the
    deploy wrote; the lab's hardware reads it where the conductor stored it."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        row = conn.execute("SELECT instance_info FROM nodes WHERE name = ?", (name,)).fetchone()
    info = json.loads(row[0]) if row and row[0] else {}
    value = info.get("configdrive")
    return value if isinstance(value, (str, dict)) else None


def public_keys(configdrive: str | dict[str, Any]) -> list[str]:
    """The public keys in a config drive as Ironic keeps it: the {meta_data, user_data} it was
    given (until a deploy interface builds the image), or the image (gzipped, base64 ISO 9660)."""
    if isinstance(configdrive, dict):
        return _keys(configdrive.get("meta_data") or {})
    with tempfile.NamedTemporaryFile(suffix=".iso") as iso:
        iso.write(gzip.decompress(base64.b64decode(configdrive)))
        iso.flush()
        out = subprocess.run(
            [ISOINFO, "-i", iso.name, "-R", "-x", "/openstack/latest/meta_data.json"],
            capture_output=True, check=True,
        ).stdout
    return _keys(json.loads(out or b"{}"))


def _keys(meta: dict[str, Any]) -> list[str]:
    keys = meta.get("public_keys") or {}
    return [str(k).strip() for k in (keys.values() if isinstance(keys, dict) else keys)]


class Host:
    """The supervisor, running as PID 1 of the host's namespaces."""

    def __init__(self, d: Path, name: str, address: str, ironic: str, ironic_db: Path,
                 management_port: int | None = None) -> None:
        self.dir, self.name, self.address, self.ironic, self.ironic_db = d, name, address, ironic, ironic_db
        self.sshd: subprocess.Popen[bytes] | None = None
        self.management_port = management_port
        self.management_server: subprocess.Popen[bytes] | None = None
        self.state = "unknown"

    def mount_disk(self) -> None:
        """Fresh overlays for the private dirs and a tmpfs for /run (a wiped, re-imaged disk)."""
        disk = self.dir / "disk"
        for mp in PRIVATE_DIRS:
            key = mp.strip("/").replace("/", "-")
            upper, work = disk / key / "upper", disk / key / "work"
            upper.mkdir(parents=True, exist_ok=True)
            work.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir={mp},upperdir={upper},workdir={work}", mp], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
        Path("/etc/hostname").write_text(f"{self.name}\n")
        hosts = "".join(line for line in Path("/etc/hosts").read_text().splitlines(keepends=True)
                        if self.name not in line)
        Path("/etc/hosts").write_text(f"{hosts}{self.address}\t{self.name}\n")
        # The image's own state that is not this host's: no machine-wide Ceph data or config.
        for leftover in ("/etc/ceph", "/var/lib/ceph"):
            shutil.rmtree(leftover, ignore_errors=True)
            Path(leftover).mkdir(parents=True)
        self.sshd_config()

    def unmount_disk(self) -> None:
        for mp in ("/run", *reversed(PRIVATE_DIRS)):
            subprocess.run(["umount", "-l", mp], check=False)
        shutil.rmtree(self.dir / "disk", ignore_errors=True)

    def sshd_config(self) -> None:
        ssh = Path("/etc/ssh")
        for key in ssh.glob("ssh_host_*"):
            key.unlink()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / "ssh_host_ed25519_key")],
                       check=True)
        (ssh / "sshd_config").write_text(
            f"""# lab host {self.name}
ListenAddress {self.address}:{SSH_PORT}
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
UsePAM no
PrintMotd no
AcceptEnv LANG LC_* PULUMI_COMMAND_*
Subsystem sftp internal-sftp
"""
        )

    def install_keys(self, keys: list[str]) -> None:
        """As cloud-init does with meta_data public_keys: root's authorized_keys."""
        ssh = Path("/root/.ssh")
        ssh.mkdir(mode=0o700, exist_ok=True)
        (ssh / "authorized_keys").write_text("".join(f"{k}\n" for k in keys))
        (ssh / "authorized_keys").chmod(0o600)

    def power_on(self) -> None:
        configdrive = stored_configdrive(self.ironic_db, self.name)
        keys = public_keys(configdrive) if configdrive else []
        self.install_keys(keys)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = open(self.dir / "sshd.log", "ab")  # noqa: SIM115 - handed to the child
        self.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", "/etc/ssh/sshd_config"],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def start_management_server(self) -> None:
        """The controller's first boot: a fresh management server on the host's own address. It is
        started once per deploy (a crash is not papered over by a new, empty install)."""
        info = self.dir / "management-server.json"
        info.unlink(missing_ok=True)
        log = open(self.dir / "management-server.log", "ab")  # noqa: SIM115 - handed to the child
        self.management_server = subprocess.Popen(
            [sys.executable, "-m", "lab.cloudstack", "serve", "--fresh", "--host", self.address,
             "--port", str(self.management_port), "--info", str(info)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()

    def power_off(self) -> None:
        """Undeployed: every process of the host ends (sshd first), the disk is wiped."""
        self.sshd = None
        self.management_server = None
        for _ in range(3):
            pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != 1]
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.reap()
            time.sleep(0.1)
        self.unmount_disk()
        self.mount_disk()

    def reap(self) -> None:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass

    def step(self) -> None:
        try:
            node = _node(self.ironic, self.name)
        except (OSError, ValueError) as e:
            self.report(f"ironic unreachable: {e}")
            return
        state = (node or {}).get("provision_state") or "enrolled-not"
        deployed = state == "active"
        if deployed and (self.sshd is None or self.sshd.poll() is not None):
            self.power_on()
        elif not deployed and self.state == "active":
            self.power_off()
        if deployed and self.management_port is not None and self.management_server is None:
            self.start_management_server()
        self.state = state
        self.report()

    def report(self, error: str | None = None) -> None:
        status = {"provision_state": self.state, "sshd_pid": self.sshd.pid if self.sshd else None,
                  "management_server_pid": self.management_server.pid if self.management_server else None,
                  "error": error}
        tmp = self.dir / "status.json.tmp"
        tmp.write_text(json.dumps(status))
        tmp.replace(self.dir / "status.json")


def boot(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.hosts boot")
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--address", required=True)
    ap.add_argument("--ironic", required=True)
    ap.add_argument("--ironic-db", type=Path, required=True)
    ap.add_argument("--poll-interval", type=float, default=POLL_INTERVAL)
    ap.add_argument("--management-server-port", type=int, default=None)
    a = ap.parse_args(argv)
    # As PID 1 of its namespace, this process gets only the signals it handles: SIGTERM ends the
    # host (the kernel then kills every other process in the namespace).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socket.sethostname(a.name)
    host = Host(a.dir, a.name, a.address, a.ironic, a.ironic_db, a.management_server_port)
    host.mount_disk()
    host.step()
    (a.dir / "booted").write_text(f"{os.getpid()}\n")
    while True:
        time.sleep(a.poll_interval)
        host.reap()
        host.step()


if __name__ == "__main__":
    if sys.argv[1:2] == ["boot"]:
        sys.exit(boot(sys.argv[2:]))
    sys.exit("usage: python -m lab.hosts boot --dir D --name N --address A --ironic URL")
