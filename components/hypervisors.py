"""Hypervisor pools: XCP-ng hosts joined into a pool, its networks, and its shared SR.

Order matters and is encoded in the graph: the pool (all joins) first, because a host with a
bond cannot join; then the VLANs and bonds on the pool, whose name-labels CloudStack's traffic
labels refer to; then the shared SR (how Ceph reaches XCP-ng: cephfs, NFS or iSCSI) with a PBD on
every host, made the pool's default.

A cephfs SR is XCP-ng's own driver on a directory of the region's CephFS, and its chain is
declared here from the Ceph outputs (`CephFsAccess`), nothing written by hand:
- `ceph.FsDirectory` <root>/<pool> with the pool's quota (the dashboard API);
- `ceph.FsClient` `xcp-<pool>`, caps on that directory only (`ceph fs authorize` over SSH on
  the first storage server); its key is a secret output;
- on every host of the pool, over SSH to its dom0 with the deploy key (pulumi_command): the key
  written to /etc/ceph/xcp-<pool>.secret, mode 0600, from stdin (never a command line or log);
  re-written when the key changes; a host added to the pool gets its file before it joins;
- the SR: device-config `server` = the monitors' addresses, `serverport`, `serverpath` = the
  directory, `options` = name=<client>,secretfile=<file>; a PBD plugged on every host.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_command import remote

from components.config import HypervisorPool as PoolConfig
from components.options import child_options
from providers._core.types import split_host_port
from providers.ceph import FsClient, FsClientArgs, FsDirectory, FsDirectoryArgs
from providers.xcpng import Network, NetworkArgs, Pool, PoolArgs, SharedSR, SharedSRArgs

TYPE = "privatecloud:hypervisor:Pool"
GIB = 1 << 30
SECRET_DIR = "/etc/ceph"
SSH_PORT = 22


@dataclass
class CephFsAccess:
    """What a pool's cephfs SR needs of the region's Ceph (the CephCluster's outputs)."""

    fs_name: pulumi.Input[str]
    """The file system (an output of the cluster: known once its MDS runs)."""
    root: str
    """The directory holding one directory per pool."""
    monitors: pulumi.Input[list[str]]
    """The monitors' "address:port" (the cluster's `mon_addresses`)."""
    admin_host: pulumi.Input[str]
    """A storage server with the admin keyring, where the pool's CephX client is made (SSH)."""
    private_key: pulumi.Input[str]
    """The region's deploy key: root on the storage servers and the compute hosts' dom0 (secret)."""
    provider: pulumi.ProviderResource
    """The ceph.* resources' provider, configured with the cluster's outputs."""
    ready: Sequence[pulumi.Resource]
    """What the ceph.* resources wait for (the formed cluster, its file system's MDS)."""
    host_names: Sequence[str] = field(default_factory=list)
    """The pool's hosts' server names (resource names of their secret files), as `host_addresses`."""


def client_name(pool: str) -> str:
    return f"xcp-{pool}"


def secret_file(client: str) -> str:
    return f"{SECRET_DIR}/{client}.secret"


def _device_config(monitors: list[str], path: str, client: str) -> dict[str, pulumi.Input[str]]:
    hosts = [split_host_port(m) for m in monitors]
    ports = {port for _, port in hosts}
    if len(ports) != 1 or None in ports:
        raise ValueError(f"the Ceph monitors {monitors}: a cephfs SR needs one port for every monitor")
    return {"server": ",".join(h for h, _ in hosts), "serverport": str(ports.pop()), "serverpath": path,
            "options": f"name={client},secretfile={secret_file(client)}"}


@dataclass
class HypervisorPoolArgs:
    pool: PoolConfig
    """The pool's design from the stack config."""
    host_addresses: Sequence[str]
    """XAPI addresses of the hosts once XCP-ng is installed: master first, then the members.
    The caller orders the pool after the bare-metal deploys (`depends_on` the Ironic fleet)."""
    root_password: pulumi.Input[str]
    """root password of every host (secret)."""
    cephfs: CephFsAccess | None = None
    """The region's Ceph file system, for a cephfs SR (required then)."""


class HypervisorPool(pulumi.ComponentResource):
    pool: Pool
    directory: FsDirectory
    client: FsClient
    secret_files: list[remote.Command]
    cephfs_device_config: pulumi.Output[dict[str, pulumi.Input[str]]]
    networks: dict[str, Network]
    sr: SharedSR
    master_url: pulumi.Output[str]
    host_addresses: pulumi.Output[list[str]]
    sr_name: pulumi.Output[str]

    def __init__(self, name: str, args: HypervisorPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        cfg = args.pool
        master = args.host_addresses[0]
        if cfg.sr.type == "cephfs" and args.cephfs is None:
            raise ValueError(f"pool {cfg.name}: sr.type='cephfs' needs the region's Ceph file system "
                             "(storage.fileSystem and cephBootstrap)")
        secrets = self._cephfs_chain(name, cfg, args, opts) if args.cephfs is not None else []
        self.pool = Pool(
            f"{name}-pool",
            PoolArgs(
                name_label=cfg.name,
                master=master,
                hosts=list(args.host_addresses),
                password=args.root_password,
            ),
            # A host's secret file is there before it joins, so its PBD plugs as it joins.
            child_options(self, opts, secrets),
        )
        joined = child_options(self, opts, [self.pool])
        master_address, pool_uuid, password = self.pool.master_address, self.pool.pool_uuid, args.root_password
        self.networks = {}
        for vlan in cfg.vlans:
            self.networks[vlan.name] = Network(
                f"{name}-{vlan.name}",
                NetworkArgs(address=master_address, password=password, pool_uuid=pool_uuid,
                            name_label=vlan.name, device=vlan.device, vlan=vlan.tag, mtu=vlan.mtu),
                joined,
            )
        for bond in cfg.bonds:
            self.networks[bond.name] = Network(
                f"{name}-{bond.name}",
                NetworkArgs(address=master_address, password=password, pool_uuid=pool_uuid,
                            name_label=bond.name, bond_devices=list(bond.devices), bond_mode=bond.mode, mtu=bond.mtu),
                joined,
            )
        device_config: pulumi.Input[dict[str, pulumi.Input[str]]] = (
            self.cephfs_device_config if args.cephfs is not None else dict(cfg.sr.device_config.items()))
        self.sr = SharedSR(
            f"{name}-sr",
            SharedSRArgs(address=master_address, password=password, pool_uuid=pool_uuid, name_label=cfg.sr.name,
                         type=cfg.sr.type, device_config=device_config, make_default=True),
            child_options(self, opts, [self.pool, *self.networks.values(), *secrets]),
        )
        self.master_url = self.pool.master_url
        self.host_addresses = self.pool.host_addresses
        self.sr_name = self.sr.id.apply(lambda _: cfg.sr.name)
        self.register_outputs(
            {"master_url": self.master_url, "host_addresses": self.host_addresses, "sr_name": self.sr_name}
        )

    def _cephfs_chain(self, name: str, cfg: PoolConfig, args: HypervisorPoolArgs,
                      opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
        """The pool's directory and client on Ceph, and the client's secret file on every host."""
        fs = args.cephfs
        assert fs is not None and cfg.sr.quota_gib is not None  # the config requires both
        ceph_opts = pulumi.ResourceOptions.merge(child_options(self, opts, list(fs.ready)),
                                                 pulumi.ResourceOptions(provider=fs.provider))
        self.directory = FsDirectory(
            f"{name}-cephfs-dir",
            FsDirectoryArgs(fs_name=fs.fs_name, path=f"{fs.root.rstrip('/')}/{cfg.name}",
                            quota_bytes=cfg.sr.quota_gib * GIB,
                            allow_delete_with_data=cfg.sr.allow_delete_with_data),
            ceph_opts,
        )
        client = client_name(cfg.name)
        self.client = FsClient(
            f"{name}-cephfs-client",
            FsClientArgs(name=client, fs_name=fs.fs_name, path=self.directory.path, host=fs.admin_host,
                         private_key=fs.private_key, port=SSH_PORT, user="root", conf=f"{SECRET_DIR}/ceph.conf"),
            ceph_opts,
        )
        target = shlex.quote(secret_file(client))
        names = list(fs.host_names) or [f"host-{i}" for i in range(len(args.host_addresses))]
        self.secret_files = [
            remote.Command(
                f"{name}-secret-{host}",
                connection=remote.ConnectionArgs(host=split_host_port(address)[0], port=SSH_PORT, user="root",
                                                 private_key=fs.private_key,
                                                 # its sshd starts once the host has seen its deploy
                                                 dial_error_limit=60, per_dial_timeout=10),
                create=(f"umask 077 && mkdir -p {SECRET_DIR} && cat > {target}.new && chmod 600 {target}.new"
                        f" && mv {target}.new {target}"),
                delete=f"rm -f {target}",
                stdin=self.client.key,
                triggers=[self.client.key],
                logging=remote.Logging.NONE,
                # the old file's delete must not run after the new key is written
                opts=pulumi.ResourceOptions.merge(child_options(self, opts),
                                                  pulumi.ResourceOptions(delete_before_replace=True)),
            )
            for host, address in zip(names, args.host_addresses, strict=True)
        ]
        self.cephfs_device_config = pulumi.Output.all(fs.monitors, self.directory.path, self.client.name).apply(
            lambda v: _device_config(list(v[0]), str(v[1]), str(v[2])))
        return list(self.secret_files)
