"""A real Ceph cluster on 127.0.0.1: monitor, manager with the dashboard, one OSD and RGW.

Debian 12's Ceph 16.2.15 packages, run as root without systemd (../shared/notes/ceph.md). All
state (config, keyrings, monitor store, OSD, logs, PIDs) lives in the state directory, so two
clusters can run side by side on different ports (the dev lab on fixed ports, tests on free ones).

    install()                 # apt-get the packages (idempotent, a no-op when present)
    info = start(state_dir, dashboard_port=..., rgw_port=..., mon_port=...)
    stop(state_dir)           # by the PIDs recorded at start

Ready means (the notes' definition): the monitor answers, the OSD is up and in, the manager is
available, RGW and the dashboard answer HTTP, and every placement group is active+clean in both
`ceph pg stat` and `ceph status`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lab import procs

# ceph-mds: CephFS's metadata server (the pools' SRs); python3-cephfs: libcephfs for the XAPI
# emulator's cephfs SR driver, which mounts as a client in userspace.
PACKAGES = ("ceph-mon", "ceph-mgr", "ceph-osd", "radosgw", "ceph-common", "ceph-mgr-dashboard", "ceph-mds",
            "python3-cephfs")
BINARIES = ("ceph-mon", "ceph-mgr", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "ceph-authtool",
            "monmaptool", "ceph-mds")
DASHBOARD_MODULE = Path("/usr/share/ceph/mgr/dashboard")
DAEMONS = ("ceph-mds", "radosgw", "ceph-osd", "ceph-mgr", "ceph-mon")  # stop order

MON_ID = "a"
MGR_ID = "x"
RGW_NAME = "client.rgw.lab"
RGW_ADMIN_UID = "lab-admin"
RGW_ADMIN_CAPS = "users=*;buckets=*;metadata=*;usage=*;zone=*"
DASHBOARD_USER = "admin"
RGW_POOLS = (
    ".rgw.root",
    "default.rgw.control",
    "default.rgw.meta",
    "default.rgw.log",
    "default.rgw.buckets.index",
    "default.rgw.buckets.data",
    "default.rgw.buckets.non-ec",
)
READY_TIMEOUT = 180.0
POOL_DEFAULTS = {
    "osd_pool_default_size": "1",
    "osd_pool_default_min_size": "1",
    "osd_pool_default_pg_num": "8",
    "osd_pool_default_pg_autoscale_mode": "off",
}


class CephLabError(RuntimeError):
    """The lab cluster could not be installed or brought up; the message says which step."""


# ---------------------------------------------------------------------------------------- install


def installed() -> bool:
    return all(shutil.which(b) for b in BINARIES) and (DASHBOARD_MODULE / "module.py").exists()


def install() -> None:
    """Install Debian's Ceph packages if any piece is missing (needs root and the network)."""
    if installed():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES], check=True, env=env
    )
    if not installed():
        raise CephLabError(f"installed {PACKAGES} but some of {BINARIES} or the dashboard are missing")


def unavailable_reason() -> str | None:
    """Why this machine cannot run the lab cluster, or None when it can (tests skip on a reason)."""
    if os.geteuid() != 0:
        return "the Ceph lab runs its daemons as root (mon/osd data, apt-get) and this is not root"
    if not installed() and shutil.which("apt-get") is None:
        return "Ceph is not installed and there is no apt-get to install Debian's packages"
    return None


# ------------------------------------------------------------------------------------ the cluster


class Cluster:
    """Paths and CLI of one lab cluster rooted at `state_dir`."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir.resolve()
        self.conf = self.dir / "ceph.conf"
        self.keys = self.dir / "keys"

    def keyring(self, name: str) -> Path:
        return self.keys / f"{name}.keyring"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("CEPH_KEYRING", "CEPH_ARGS")}
        env["CEPH_CONF"] = str(self.conf)
        return env

    def run(self, *argv: str, input: str | None = None, timeout: float = 60) -> str:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, env=self.env, input=input, timeout=timeout
        )
        if proc.returncode != 0:
            raise CephLabError(
                f"`{' '.join(argv)}` exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()}"
            )
        return proc.stdout

    def ceph(self, *args: str, input: str | None = None, timeout: float = 60) -> str:
        return self.run("ceph", "-c", str(self.conf), "--connect-timeout", "20", *args,
                        input=input, timeout=timeout)

    def ceph_json(self, *args: str) -> Any:
        return json.loads(self.ceph(*args, "--format", "json"))

    def start(self, name: str, argv: list[str]) -> None:
        procs.start(name, argv, self.dir, env=self.env)


def write_conf(c: Cluster, fsid: str, mon_port: int, rgw_port: int, objectstore: str) -> None:
    d = c.dir
    c.conf.write_text(
        f"""[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{mon_port}]
mon initial members = {MON_ID}
public network = 127.0.0.0/8
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
run dir = {d}/run
pid file = {d}/run/$name.pid
log file = {d}/log/$name.log
admin socket = {d}/run/$name.asok
keyring = {c.keys}/$name.keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
auth allow insecure global id reclaim = false
ms bind msgr1 = false
ms bind msgr2 = true

[client]
admin socket =

[mon]
mon data = {d}/mon/$cluster-$id
mgr initial modules = iostat nfs dashboard
mon cluster log file = {d}/log/cluster.log

[mgr]
mgr data = {d}/mgr/$cluster-$id

[osd]
osd data = {d}/osd/$cluster-$id
osd objectstore = {objectstore}
osd fast shutdown = false
memstore device bytes = 2147483648
bluestore block path = {d}/osd/block-$id
bluestore block create = true
bluestore block size = 4294967296

[{RGW_NAME}]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw data = {d}/rgw
rgw enable usage log = true
"""
    )


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return None


def wait(what: str, probe: Callable[[], bool], timeout: float, state: Cluster) -> None:
    """Poll `probe` (exceptions count as not yet) until true; say what and where to look if not."""
    deadline = time.monotonic() + timeout
    last = "not yet"
    while True:
        try:
            if probe():
                return
        except (CephLabError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            last = str(e)
        if time.monotonic() > deadline:
            raise CephLabError(f"{what}: not ready after {timeout:g} s ({last}); logs in {state.dir}/log")
        time.sleep(0.25)


def pgs_clean(c: Cluster) -> bool:
    """All PGs active+clean in `ceph pg stat` and `ceph status` alike (the latter lags)."""
    pools = c.ceph_json("osd", "pool", "ls", "detail")
    want = sum(int(p["pg_num"]) for p in pools)

    def clean(states: list[dict[str, Any]]) -> int:
        # `pg stat` says name/num, `status` says state_name/count.
        return sum(
            int(s.get("num", s.get("count", 0)))
            for s in states
            if s.get("name", s.get("state_name")) == "active+clean"
        )

    stat = c.ceph_json("pg", "stat")
    by_state = stat.get("pg_summary", stat).get("num_pg_by_state", [])
    status = c.ceph_json("status")
    pgmap = status["pgmap"]
    return (
        clean(by_state) == want
        and clean(pgmap.get("pgs_by_state", [])) == want
        and int(pgmap.get("num_pgs", -1)) == want
    )


def start(  # noqa: C901  (the bring-up in the notes' order, one step after another)
    state_dir: Path,
    *,
    dashboard_port: int | None = None,
    rgw_port: int | None = None,
    mon_port: int | None = None,
    dashboard_password: str = "lab-dashboard-pass-1",
    rgw_access_key: str = "LABRGWADMINACCESS001",
    rgw_secret_key: str = "lab-rgw-admin-secret-key-0000000000000001",
    objectstore: str = "memstore",
) -> dict[str, Any]:
    """Bring up a fresh cluster in `state_dir` (wiped first) and return its endpoints once ready."""
    reason = unavailable_reason()
    if reason:
        raise CephLabError(reason)
    install()
    stop(state_dir)
    if state_dir.exists():
        shutil.rmtree(state_dir)
    c = Cluster(state_dir)
    for sub in ("keys", "run", "log", "mon", "mgr", "osd", "rgw"):
        (c.dir / sub).mkdir(parents=True, exist_ok=True)
    mon_port = mon_port or procs.free_port()
    rgw_port = rgw_port or procs.free_port()
    dashboard_port = dashboard_port or procs.free_port()
    fsid = str(uuid.uuid4())
    write_conf(c, fsid, mon_port, rgw_port, objectstore)

    # Monitor: keyrings, a monmap, mkfs, start.
    mon_kr, admin_kr = c.keyring("mon."), c.keyring("client.admin")
    c.run("ceph-authtool", "--create-keyring", str(mon_kr), "--gen-key", "-n", "mon.", "--cap", "mon", "allow *")
    c.run("ceph-authtool", "--create-keyring", str(admin_kr), "--gen-key", "-n", "client.admin",
          "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mds", "allow *",
          "--cap", "mgr", "allow *")
    c.run("ceph-authtool", str(mon_kr), "--import-keyring", str(admin_kr))
    monmap = c.dir / "monmap"
    c.run("monmaptool", "--create", "--addv", MON_ID, f"[v2:127.0.0.1:{mon_port}]", "--fsid", fsid, str(monmap))
    c.run("ceph-mon", "-c", str(c.conf), "--mkfs", "-i", MON_ID, "--monmap", str(monmap), "--keyring", str(mon_kr))
    c.start("ceph-mon", ["ceph-mon", "-c", str(c.conf), "-f", "-i", MON_ID])
    wait("monitor", lambda: bool(c.ceph("mon", "stat", timeout=30)), 60, c)

    # Settings the tests toggle or that must precede the manager (notes: config database).
    c.ceph("config", "set", "mon", "mon_allow_pool_delete", "true")
    # Pool defaults also in the configuration database, where the dashboard API can read them
    # (ceph.conf is invisible to it): `ceph.Pool` resets removed values to these.
    for option, value in POOL_DEFAULTS.items():
        c.ceph("config", "set", "global", option, value)
    for key, value in (("ssl", "false"), ("server_addr", "127.0.0.1"), ("server_port", str(dashboard_port))):
        c.ceph("config", "set", "mgr", f"mgr/dashboard/{key}", value, "--force")

    # Manager.
    c.ceph("auth", "get-or-create", f"mgr.{MGR_ID}", "mon", "allow profile mgr", "osd", "allow *",
           "mds", "allow *", "-o", str(c.keyring(f"mgr.{MGR_ID}")))
    (c.dir / "mgr" / f"ceph-{MGR_ID}").mkdir(parents=True, exist_ok=True)
    c.start("ceph-mgr", ["ceph-mgr", "-c", str(c.conf), "-f", "-i", MGR_ID])

    # One OSD.
    osd_uuid = str(uuid.uuid4())
    secret = c.run("ceph-authtool", "--gen-print-key").strip()
    osd_id = c.ceph("osd", "new", osd_uuid, "0", "-i", "-",
                    input=json.dumps({"cephx_secret": secret})).strip()
    (c.dir / "osd" / f"ceph-{osd_id}").mkdir(parents=True, exist_ok=True)
    c.run("ceph-authtool", "--create-keyring", str(c.keyring(f"osd.{osd_id}")), "--name", f"osd.{osd_id}",
          "--add-key", secret)
    c.run("ceph-osd", "-c", str(c.conf), "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid, timeout=120)
    c.start("ceph-osd", ["ceph-osd", "-c", str(c.conf), "-f", "-i", osd_id])

    # RGW: its key and its pools (created in parallel: the first start is slow otherwise).
    c.ceph("auth", "get-or-create", RGW_NAME, "mon", "allow rw", "osd", "allow rwx",
           "-o", str(c.keyring(RGW_NAME)))

    def make_pool(name: str) -> None:
        c.ceph("osd", "pool", "create", name, "8", "8")
        c.ceph("osd", "pool", "application", "enable", name, "rgw")

    with ThreadPoolExecutor(max_workers=len(RGW_POOLS)) as ex:
        list(ex.map(make_pool, RGW_POOLS))
    c.start("radosgw", ["radosgw", "-c", str(c.conf), "-f", "-n", RGW_NAME])
    rgw_url = f"http://127.0.0.1:{rgw_port}"
    wait("RGW", lambda: http_status(rgw_url) is not None, READY_TIMEOUT, c)

    # The RGW admin user (Admin Ops API) and the dashboard user.
    c.run("radosgw-admin", "-c", str(c.conf), "user", "create", f"--uid={RGW_ADMIN_UID}",
          "--display-name=Lab RGW admin", f"--access-key={rgw_access_key}", f"--secret={rgw_secret_key}",
          f"--caps={RGW_ADMIN_CAPS}")
    dashboard_url = f"http://127.0.0.1:{dashboard_port}"
    wait("dashboard", lambda: http_status(f"{dashboard_url}/api/health/minimal") is not None, READY_TIMEOUT, c)
    pw_file = c.dir / "dashboard.pw"
    pw_file.write_text(dashboard_password)

    def dashboard_cli(*args: str) -> bool:
        # The dashboard answers HTTP a moment before its CLI commands reach the monitor's
        # command table ("no valid command found"): that case is retried, anything else is not.
        try:
            c.ceph("dashboard", *args)
        except CephLabError as e:
            if "already exists" in str(e):
                return True
            if "no valid command found" in str(e):
                return False
            raise
        return True

    wait("dashboard user", lambda: dashboard_cli("ac-user-create", DASHBOARD_USER, "-i", str(pw_file),
                                                 "administrator"), 60, c)
    pw_file.unlink()
    # The dashboard talks to RGW with the admin user (for its own RGW pages).
    for key, value in (("access-key", rgw_access_key), ("secret-key", rgw_secret_key)):
        kf = c.dir / "rgw.key"
        kf.write_text(value)
        command = f"set-rgw-api-{key}"
        wait(f"dashboard RGW {key}", lambda: dashboard_cli(command, "-i", str(kf)), 60, c)  # noqa: B023
        kf.unlink()

    def ready() -> bool:
        status = c.ceph_json("status")
        osdmap = status["osdmap"].get("osdmap", status["osdmap"])
        return (
            bool(status["mgrmap"].get("available"))
            and int(osdmap["num_up_osds"]) == 1
            and int(osdmap["num_in_osds"]) == 1
            and http_status(rgw_url) == 200
            and http_status(f"{dashboard_url}/api/health/minimal") in (200, 401)
            and pgs_clean(c)
        )

    wait("cluster (mgr available, OSD up+in, RGW and dashboard answering, PGs active+clean)", ready,
         READY_TIMEOUT, c)
    info = {
        "dashboard_url": dashboard_url,
        "dashboard_user": DASHBOARD_USER,
        "dashboard_password": dashboard_password,
        "rgw_url": rgw_url,
        "rgw_access_key": rgw_access_key,
        "rgw_secret_key": rgw_secret_key,
        "fsid": fsid,
        "ceph_conf": str(c.conf),
    }
    return info


MDS_ID = "a"


def add_filesystem(state_dir: Path, name: str = "cephfs", timeout: float = READY_TIMEOUT) -> dict[str, Any]:
    """A CephFS file system on the running lab cluster in `state_dir`: its two pools, `ceph fs new`
    and one metadata server, ready when the MDS is active (idempotent). Returns the file system's
    name and the monitors' addresses as a CephFS client names them."""
    c = Cluster(state_dir)
    if name not in [f["name"] for f in c.ceph_json("fs", "ls")]:
        for pool in (f"{name}.meta", f"{name}.data"):
            c.ceph("osd", "pool", "create", pool, "8")
        c.ceph("fs", "new", name, f"{name}.meta", f"{name}.data")
    keyring = c.keyring(f"mds.{MDS_ID}")
    if not keyring.exists():
        c.ceph("auth", "get-or-create", f"mds.{MDS_ID}", "mon", "allow profile mds", "osd", "allow rwx",
               "mds", "allow *", "mgr", "allow profile mds", "-o", str(keyring))
    (c.dir / "mds" / f"ceph-{MDS_ID}").mkdir(parents=True, exist_ok=True)
    pid = procs.pid_of("ceph-mds", c.dir)
    if pid is None or not procs.alive(pid):
        c.start("ceph-mds", ["ceph-mds", "-c", str(c.conf), "-f", "-i", MDS_ID,
                             "--mds-data", str(c.dir / "mds" / f"ceph-{MDS_ID}"), "--keyring", str(keyring)])

    def active() -> bool:
        fs = c.ceph_json("fs", "status", name)
        return any(m.get("state") == "active" for m in fs.get("mdsmap", []))

    wait(f"CephFS {name} (an active MDS)", active, timeout, c)
    mons = c.ceph_json("mon", "dump")["mons"]
    addrs = [a["addr"] for m in mons for a in m["public_addrs"]["addrvec"] if a["type"] == "v2"]
    return {"fs_name": name, "mon_addrs": addrs}


def stop(state_dir: Path) -> None:
    """Stop the daemons by their recorded PIDs (RGW first, the monitor last); keep the files."""
    for name in DAEMONS:
        procs.stop(name, state_dir)


def cli(state_dir: Path, *args: str) -> str:
    """Run the `ceph` CLI against the lab cluster in `state_dir` (for out-of-band changes in tests)."""
    return Cluster(state_dir).ceph(*args)
