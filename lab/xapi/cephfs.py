"""The `cephfs` SR driver, as XCP-ng's own (xcp-ng/sm `drivers/CephFSSR.py`) behaves, against real Ceph.

device-config (the driver's CONFIGURATION): `server` (monitor addresses, comma-separated),
`serverpath` (the CephFS directory), `serverport` (default 6789), `options`
(`name=<client>,secretfile=<path>`, passed to `mount -t ceph`). The driver mounts
`server:port:serverpath` and keeps the SR in the sub-directory named by the SR's uuid.

What the emulator does where the driver runs a command in dom0:

- `load`: no `ceph` executable in the host's dom0 -> SR_BACKEND_FAILURE 47 "The SR is not available
  [opterr=ceph is not installed]" (SRUnavailable); no `server` -> 101 (ConfigServerMissing).
- the mount: the secret file is read from the host's dom0 view (`Node.dom0`: a directory that is
  that host's root, e.g. `/proc/<pid>/root` of a lab host from `lab/hosts.py`), and the client
  really mounts `serverpath` with libcephfs (Debian's `python3-cephfs`, run by the system Python
  through `cephfs_mount.py`, the key on stdin). A missing secret file, a revoked or wrong key, a
  directory that does not exist or is outside the client's caps, or monitors that do not answer
  all fail the mount as `mount -t ceph` fails: exit status 32.
- `SR.create`: a failed mount is SR_BACKEND_FAILURE 111 "CephFS mount error [opterr=mount failed
  with return code 32]"; an SR directory that exists and is not empty is 42 (SRExists); otherwise
  the directory is made (for real, in CephFS).
- `PBD.plug` (attach): a failed mount is SR_BACKEND_FAILURE 12 with the driver's errstr (it raises
  `SROSError(12, ...)` there).
- `SR.destroy` (delete): the SR directory removed; only "not there" is tolerated, anything else is
  114 "Failed to remove CephFS mount point".

XAPI reports SM failures as `SR_BACKEND_FAILURE_<code>`; this emulator, like its NFS faults, sends
`SR_BACKEND_FAILURE` with the code as the first parameter (the error list it checks against).

Monitors: XCP-ng's dom0 kernel client speaks messenger v1 on `serverport`; the emulator connects
with v1 when the port is 6789 and v2 otherwise (the lab's monitors bind v2 only).

Why a mount can be lost: the emulator re-validates a plugged cephfs PBD when PBDs are read
(`PBD.get_all_records`, `get_record`, `get_currently_attached`) and marks it unplugged when its host
can no longer mount the directory (a key revoked, the directory gone), as a host does once its
mount is re-established and fails. The reason of the last failure per (host name, SR uuid) is kept
in `CephFSDriver.failures` for tests (the wire carries only the driver's words).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.xapi.errors import XapiError

TYPE = "cephfs"
REQUIRED_KEYS = ("server", "serverpath")
DEFAULT_PORT = "6789"
MOUNT_FAILED = 32  # mount(8): mount failure
HELPER = Path(__file__).with_name("cephfs_mount.py")
# The Python that has Debian's python3-cephfs (not the project's virtual environment); run isolated
# (-I): the script's own directory, which holds this module, must not shadow `cephfs`.
SYSTEM_PYTHON = os.environ.get("LAB_CEPHFS_PYTHON", "/usr/bin/python3")
MOUNT_TIMEOUT = 10
CEPH_PATHS = ("usr/bin", "bin", "usr/sbin", "usr/local/bin")


class MountError(Exception):
    """The client could not mount: `reason` says why (for tests), the wire says only the driver's words."""

    def __init__(self, reason: str, errno: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errno = errno


def backend_failure(code: int, text: str) -> XapiError:
    return XapiError("SR_BACKEND_FAILURE", str(code), "", text)


@dataclass(frozen=True)
class Target:
    """What `mount -t ceph` gets from a device-config."""

    servers: tuple[str, ...]
    port: str
    path: str
    options: dict[str, str]

    @classmethod
    def of(cls, device_config: dict[str, str]) -> Target:
        if not device_config.get("server"):
            raise backend_failure(101, "The request is missing the server parameter")
        if not device_config.get("serverpath"):
            raise backend_failure(101, "The request is missing the serverpath parameter")
        options = {}
        for item in device_config.get("options", "").split(","):
            key, _, value = item.partition("=")
            if key.strip():
                options[key.strip()] = value.strip()
        servers = tuple(s.strip() for s in device_config["server"].split(",") if s.strip())
        return cls(servers, device_config.get("serverport") or DEFAULT_PORT, device_config["serverpath"], options)

    @property
    def mon_host(self) -> str:
        proto = "v1" if self.port == DEFAULT_PORT else "v2"
        return ",".join(f"[{proto}:{f'[{s}]' if ':' in s else s}:{self.port}]" for s in self.servers)


def ceph_installed(dom0: Path | None) -> bool:
    """`util.find_executable('ceph')` in the host's dom0."""
    return dom0 is not None and any((dom0 / p / "ceph").is_file() for p in CEPH_PATHS)


def read_secret(dom0: Path, secretfile: str) -> str:
    """The key in the secret file, read in the host's dom0 view (as mount.ceph reads it)."""
    path = dom0 / secretfile.lstrip("/")
    try:
        key = path.read_text().strip()
    except OSError as e:
        raise MountError(f"secret file {secretfile}: {e.strerror}", e.errno or 0) from None
    if not key:
        raise MountError(f"secret file {secretfile} is empty")
    return key


@dataclass
class CephFSDriver:
    """The driver's operations, run for one host (its dom0 view) at a time."""

    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    timeout: int = MOUNT_TIMEOUT

    def load(self, dom0: Path | None, device_config: dict[str, str]) -> Target:
        if not ceph_installed(dom0):
            raise backend_failure(47, "The SR is not available [opterr=ceph is not installed]")
        return Target.of(device_config)

    def mount(self, dom0: Path, target: Target, op: str = "list", name: str = "") -> dict[str, Any]:
        """Mount `target` as its client (in userspace); run `op` on `name` below it; the listing."""
        client, secretfile = target.options.get("name", "guest"), target.options.get("secretfile")
        if not secretfile:
            raise MountError("no secretfile in options (and no secret=)")
        request = {"mon_host": target.mon_host, "client": client, "key": read_secret(dom0, secretfile),
                   "root": target.path, "op": op, "name": name, "timeout": self.timeout}
        try:
            done = subprocess.run([SYSTEM_PYTHON, "-I", str(HELPER)], input=json.dumps(request), capture_output=True,
                                  text=True, timeout=self.timeout * 3)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise MountError(f"the libcephfs client did not run: {e}") from None
        try:
            answer: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise MountError(f"the libcephfs client failed: {done.stderr.strip()[-300:]}") from None
        if not answer.get("ok"):
            raise MountError(str(answer.get("error")), int(answer.get("errno") or 0))
        return answer

    def _note(self, host: str, sr_uuid: str, reason: str | None) -> None:
        if reason is None:
            self.failures.pop((host, sr_uuid), None)
        else:
            self.failures[(host, sr_uuid)] = reason

    def create(self, host: str, dom0: Path | None, device_config: dict[str, str], sr_uuid: str) -> None:
        target = self.load(dom0, device_config)
        assert dom0 is not None  # load checked it
        try:
            listing = self.mount(dom0, target, "list", sr_uuid)
        except MountError as e:
            self._note(host, sr_uuid, e.reason)
            raise backend_failure(
                111, f"CephFS mount error [opterr=mount failed with return code {MOUNT_FAILED}]") from None
        if listing["sub"]:
            raise backend_failure(42, "The SR already exists")
        if listing["sub"] is None:
            try:
                self.mount(dom0, target, "mkdir", sr_uuid)
            except MountError as e:
                self._note(host, sr_uuid, e.reason)
                raise backend_failure(116, "Failed to create CephFS SR. remote directory creation error: "
                                      f"{os.strerror(e.errno) if e.errno else e.reason}") from None
        self._note(host, sr_uuid, None)

    def attach(self, host: str, dom0: Path | None, device_config: dict[str, str], sr_uuid: str) -> None:
        target = self.load(dom0, device_config)
        assert dom0 is not None
        try:
            self.mount(dom0, target)
        except MountError as e:
            self._note(host, sr_uuid, e.reason)
            raise backend_failure(12, f"mount failed with return code {MOUNT_FAILED}") from None
        self._note(host, sr_uuid, None)

    def delete(self, host: str, dom0: Path | None, device_config: dict[str, str], sr_uuid: str) -> None:
        target = self.load(dom0, device_config)
        assert dom0 is not None
        try:
            listing = self.mount(dom0, target)
            if sr_uuid in listing["entries"]:
                self.mount(dom0, target, "rmdir", sr_uuid)
        except MountError as e:
            self._note(host, sr_uuid, e.reason)
            if e.errno != 2:  # ENOENT
                raise backend_failure(114, "Failed to remove CephFS mount point") from None
