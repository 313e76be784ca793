"""`ceph.FsClient`: a CephX client whose caps allow one CephFS directory; its key a secret output.

Interface: the `ceph` CLI on a storage server over SSH (the day-0 path: `CephCluster` put ceph.conf
and the admin keyring there). Ceph 16's dashboard has no CephX user API (it came in Reef), and a
monitor command from the machine running Pulumi would need librados and the admin keyring there;
over SSH the admin key never leaves the cluster. Only the client's own key travels back, on the
command's stdout, and is kept as a secret output; no key is ever in a command line.

- create: `ceph fs authorize <fs> client.<name> <path> rw` (the caps Ceph itself writes for a
  CephFS client: mon `allow r fsname=<fs>`, mds `allow rw fsname=<fs> path=<path>`, osd
  `allow rw tag cephfs data=<fs>`); a client already there with the same caps is adopted.
- read: `ceph auth get client.<name>`: a revoked (removed) client reads as gone, so the engine
  makes it again with a new key; caps changed by hand show as a different `path` or `fs_name`.
- the name, file system or path replaces the client; the SSH fields change nothing in Ceph.
- delete: `ceph auth rm client.<name>`.

SSH host keys are not verified (as pulumi-command's remote connections): the address comes from
the program's own servers.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from typing_extensions import override

from providers._core import Change, NotFound, Permanent, Retryable
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj
from providers._core.resource import Declared

from ._base import CephProvider

RESOURCE = "ceph.FsClient"
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
PATH = r"^(/[A-Za-z0-9._-]+)+$"
MDS_PATH = re.compile(r"path=(\S+)")
FS_NAME = re.compile(r"fsname=(\S+)|data=(\S+)")
SSH_TIMEOUT = 30.0
ENOENT = 2


class FsClientArgs(Args, resource=RESOURCE, delete_before_replace=True):
    """A CephX client for one CephFS directory."""

    name: pulumi.Input[str] = arg(change=Change.REPLACE, pattern=NAME)
    """Client name without `client.` (e.g. xcp-pool-a); changing it replaces the client."""
    fs_name: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=1)
    """The CephFS file system; changing it replaces the client."""
    path: pulumi.Input[str] = arg(change=Change.REPLACE, pattern=PATH)
    """The only directory the client may use (read-write); changing it replaces the client."""
    host: pulumi.Input[str] = arg(min_length=1)
    """SSH address of a storage server with ceph.conf and the admin keyring (the day-0 path)."""
    private_key: pulumi.Input[str] = arg(secret=True, min_length=1)
    """root's SSH private key on that server (OpenSSH format; secret)."""
    port: pulumi.Input[int] | None = arg(22, ge=1, le=65535)
    """SSH port."""
    user: pulumi.Input[str] | None = arg("root", min_length=1)
    """SSH user."""
    conf: pulumi.Input[str] | None = arg("/etc/ceph/ceph.conf", min_length=1)
    """ceph.conf on that server."""
    key: pulumi.Output[str] = output(secret=True)
    """The client's CephX key (secret): what the XCP-ng hosts' secret files hold."""
    caps: pulumi.Output[dict[str, str]] = output()
    """The caps Ceph reports for the client."""


TRANSPORT = ("host", "private_key", "port", "user", "conf")


@dataclass
class Ssh:
    """The `ceph` CLI on one server over SSH (one connection per provider operation)."""

    resource: str
    props: Mapping[str, Any]

    def ceph(self, *args: str) -> tuple[int, str, str]:
        import paramiko  # type: ignore[import-untyped, unused-ignore]

        key = _private_key(self.props["private_key"])
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        where = f"{self.props.get('user', 'root')}@{self.props['host']}:{self.props.get('port', 22)}"
        try:
            client.connect(str(self.props["host"]), port=int(self.props.get("port") or 22),
                           username=str(self.props.get("user") or "root"), pkey=key, timeout=SSH_TIMEOUT,
                           allow_agent=False, look_for_keys=False)
            command = shlex.join(["ceph", "-c", str(self.props.get("conf") or "/etc/ceph/ceph.conf"),
                                  "--connect-timeout", "20", *args])
            _, out, err = client.exec_command(command, timeout=SSH_TIMEOUT * 2)
            status = out.channel.recv_exit_status()
            return status, out.read().decode(), err.read().decode()
        except (paramiko.SSHException, OSError) as e:
            raise Retryable(self.resource, f"ssh {where}: {type(e).__name__}: {e}") from e
        finally:
            client.close()

    def ok(self, *args: str) -> str:
        status, out, err = self.ceph(*args)
        if status != 0:
            raise Permanent(self.resource, f"`ceph {' '.join(args)}` exited {status}: {err.strip()[-500:]}")
        return out


def _private_key(text: str) -> Any:
    import paramiko  # type: ignore[import-untyped, unused-ignore]

    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise Permanent(RESOURCE, "private_key: not an OpenSSH Ed25519, ECDSA or RSA private key")


def parse_caps(caps: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(file system, path) the caps allow, as `fs authorize` writes them."""
    path = MDS_PATH.search(caps.get("mds", ""))
    fs = FS_NAME.search(caps.get("mds", "")) or FS_NAME.search(caps.get("osd", ""))
    return (fs.group(1) or fs.group(2) if fs else None), (path.group(1) if path else None)


class FsClientProvider(CephProvider[Ssh]):
    args = FsClientArgs

    @override
    def client(self, props: Mapping[str, Any]) -> Ssh:
        return Ssh(self.label(props), props)

    @override
    def obj_id(self, obj: Obj) -> str:
        return f"client.{obj['name']}"

    @override
    def fetch(self, client: Ssh, obj_id: str) -> Obj | None:
        status, out, err = client.ceph("auth", "get", obj_id, "--format", "json")
        if status == ENOENT or "ENOENT" in err:
            return None
        if status != 0:
            raise Permanent(client.resource, f"`ceph auth get {obj_id}` exited {status}: {err.strip()[-500:]}")
        (entry,) = json.loads(out)
        caps = {str(k): str(v) for k, v in (entry.get("caps") or {}).items()}
        fs_name, path = parse_caps(caps)
        return {"name": obj_id.removeprefix("client."), "fs_name": fs_name, "path": path, "caps": caps,
                "key": str(entry["key"])}

    @override
    def make(self, client: Ssh, wanted: Obj) -> Obj:
        client.ok("fs", "authorize", wanted["fs_name"], self.obj_id(wanted), wanted["path"], "rw")
        made = self.fetch(client, self.obj_id(wanted))
        if made is None:
            raise NotFound(client.resource, f"{self.obj_id(wanted)} is not there after `fs authorize`")
        return made

    @override
    def apply(self, client: Ssh, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        if changed - set(TRANSPORT):
            return super().apply(client, obj_id, changed, current, wanted)
        return None  # how the server is reached changes nothing in Ceph

    @override
    def outputs(self, client: Ssh, obj: Obj, carried: Obj) -> Obj:
        return {**{k: obj[k] for k in ("name", "fs_name", "path", "caps", "key")},
                **{k: carried[k] for k in TRANSPORT if carried.get(k) is not None}}

    @override
    def destroy(self, client: Ssh, obj: Obj) -> None:
        client.ok("auth", "rm", self.obj_id(obj))


class FsClient(Declared[FsClientArgs], module="ceph", name="FsClient"):
    """A CephX client whose caps allow only one CephFS directory; its key is a secret output."""

    provider_type = FsClientProvider
