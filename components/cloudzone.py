"""The cloud zone: CloudStack's zone, network, pod, one cluster per XCP-ng pool, storage, enabled last.

Order follows CloudStack's own rules: the physical network (traffic labels = XAPI network
name-labels, virtual router enabled) and the pod come after the zone; a cluster is added from its
pool master once the pool is complete; primary storage is the pool's shared SR (PreSetup, cluster
scope); secondary storage is S3 on RGW with the NFS staging store it needs, or NFS; the zone is
enabled only when everything else exists.

Day 0 (issue 14): with `management`, a `ManagementServer` waits (bounded) until the freshly
installed management server answers (it runs on the controller server: after the controller's
deploy, `ManagementAccess.ready`, and not after the storage this layer otherwise waits for), logs
in with the admin password, registers the program's API keys and hands them, as a
secret `connection`, to every CloudStack resource here (no keys in the stack config; a key rotation
updates them in place and replaces nothing). The zone's public IP ranges, storage network range and
extra network service providers exist before it is enabled; the settings the config names are set
(zone-scoped where CloudStack scopes them); and `ZoneReadiness` waits, after the zone is enabled,
until its secondary storage VM and console proxy run, failing with CloudStack's reason otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.config import StackConfig
from components.config import Zone as ZoneConfig
from components.options import child_options
from providers.cloudstack.cluster import Cluster, ClusterArgs
from providers.cloudstack.globalsettings import GlobalSettings, GlobalSettingsArgs
from providers.cloudstack.ipranges import (
    PublicIpRange,
    PublicIpRangeArgs,
    StorageNetworkIpRange,
    StorageNetworkIpRangeArgs,
)
from providers.cloudstack.management import ManagementServer, ManagementServerArgs
from providers.cloudstack.network import PhysicalNetwork, PhysicalNetworkArgs
from providers.cloudstack.pod import Pod, PodArgs
from providers.cloudstack.readiness import (
    NetworkServiceProvider,
    NetworkServiceProviderArgs,
    ZoneReadiness,
    ZoneReadinessArgs,
)
from providers.cloudstack.storage import (
    ImageStore,
    ImageStoreArgs,
    PrimaryStorage,
    PrimaryStorageArgs,
    StagingStore,
    StagingStoreArgs,
)
from providers.cloudstack.zone import Zone, ZoneArgs, ZoneEnablement, ZoneEnablementArgs

TYPE = "privatecloud:cloud:CloudZone"


@dataclass
class ClusterSource:
    """One XCP-ng pool as CloudStack sees it."""

    name: str
    """Cluster name (the pool's name)."""
    master_url: pulumi.Input[str]
    """http://<master address>: CloudStack discovers the pool's hosts through it."""
    password: pulumi.Input[str]
    """root password of the pool (secret)."""
    sr_name: pulumi.Input[str]
    """name-label of the pool's shared SR, registered as PreSetup primary storage."""
    members: pulumi.Input[list[str]] | None = None
    """Addresses of the pool's hosts: hosts joining or leaving the pool join or leave the cluster."""
    ready: Sequence[pulumi.Resource] = ()
    """Resources that must exist before the cluster is added (joins, networks, the SR)."""


@dataclass
class S3Store:
    endpoint: pulumi.Input[str]
    bucket: pulumi.Input[str]
    access_key: pulumi.Input[str]
    secret_key: pulumi.Input[str]


@dataclass
class ManagementAccess:
    """A management server as its install left it: the program logs in and registers its own keys."""

    endpoint: pulumi.Input[str]
    """API URL of the management server."""
    password: pulumi.Input[str]
    """The admin's password as installed (secret)."""
    username: str = "admin"
    new_password: pulumi.Input[str] | None = None
    """The admin's password from now on (secret); None: left as it is."""
    key_version: int = 1
    """Bump to rotate the program's API keys."""
    ready: Sequence[pulumi.Resource] = ()
    """What runs the management server (the controller's deploy): the day 0 waits for it alone."""
    answer_timeout: float = 300.0
    """Seconds the day 0 waits, after `ready`, for the management server to answer."""


def management_access(cfg: StackConfig, ready: Sequence[pulumi.Resource] = ()) -> ManagementAccess | None:
    """Day 0 from the stack config's `managementServer` section (None: the `cloudstack` keys are used)."""
    m = cfg.management_server
    if m is None:
        return None
    new = m.new_admin_password
    return ManagementAccess(
        endpoint=cfg.cloudstack.endpoint,
        username=m.admin_user,
        password=pulumi.Output.secret(m.admin_password.get_secret_value()),
        new_password=pulumi.Output.secret(new.get_secret_value()) if new is not None else None,
        key_version=m.key_version,
        ready=ready,
    )


@dataclass
class CloudZoneArgs:
    zone: ZoneConfig
    """The zone's design from the stack config."""
    clusters: Sequence[ClusterSource]
    """One per XCP-ng pool."""
    s3: S3Store | None = None
    """S3 secondary storage on RGW (needs `zone.staging_store_url`)."""
    management: ManagementAccess | None = None
    """Day 0 of the management server; None: the stack config's `cloudstack` keys are used."""


class CloudZone(pulumi.ComponentResource):
    zone: Zone
    physical_network: PhysicalNetwork
    pod: Pod
    clusters: dict[str, Cluster]
    primary_storage: dict[str, PrimaryStorage]
    enablement: ZoneEnablement
    readiness: ZoneReadiness
    management_server: ManagementServer | None
    connection: pulumi.Output[dict[str, str]] | None
    zone_id: pulumi.Output[str]
    host_ids: pulumi.Output[dict[str, list[str]]]

    def __init__(self, name: str, args: CloudZoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        z = args.zone
        child = child_options(self, opts)
        self._opts = opts
        self.management_server, self.connection = None, None
        if args.management is not None:
            m = args.management
            self.management_server = ManagementServer(
                f"{name}-management",
                ManagementServerArgs(endpoint=m.endpoint, username=m.username, password=m.password,
                                     new_password=m.new_password, key_version=m.key_version,
                                     answer_timeout=m.answer_timeout),
                pulumi.ResourceOptions(parent=self, depends_on=list(m.ready) or None),
            )
            self.connection = self.management_server.connection()
        conn = self.connection
        self.zone = Zone(
            f"{name}-zone",
            ZoneArgs(
                name=z.name,
                dns1=str(z.dns[0]),
                dns2=str(z.dns[1]) if len(z.dns) > 1 else None,
                internal_dns1=str(z.internal_dns[0]),
                internal_dns2=str(z.internal_dns[1]) if len(z.internal_dns) > 1 else None,
                guest_cidr=str(z.guest_cidr),
            ),
            child,
            connection=conn,
        )
        zone_id = self.zone.id
        labels = z.physical_network.traffic.model_dump(exclude_none=True)
        self.physical_network = PhysicalNetwork(
            f"{name}-{z.physical_network.name}",
            PhysicalNetworkArgs(
                zone_id=zone_id,
                name=z.physical_network.name,
                traffic_labels=labels,
                isolation_method=z.physical_network.isolation,
                vlan=z.physical_network.vlan_range,
            ),
            child,
            connection=conn,
        )
        self.pod = Pod(
            f"{name}-{z.pod.name}",
            PodArgs(
                zone_id=zone_id,
                name=z.pod.name,
                gateway=str(z.pod.gateway),
                netmask=str(z.pod.netmask),
                start_ip=str(z.pod.start_ip),
                end_ip=str(z.pod.end_ip),
            ),
            child_options(self, opts, [self.physical_network]),
            connection=conn,
        )
        self.clusters, self.primary_storage = {}, {}
        for src in args.clusters:
            cluster = Cluster(
                f"{name}-{src.name}",
                ClusterArgs(zone_id=zone_id, pod_id=self.pod.id, name=src.name, url=src.master_url,
                            password=src.password, members=src.members),
                child_options(self, opts, src.ready),
                connection=conn,
            )
            self.clusters[src.name] = cluster
            self.primary_storage[src.name] = PrimaryStorage(
                f"{name}-{src.name}-primary",
                PrimaryStorageArgs(
                    zone_id=zone_id,
                    pod_id=self.pod.id,
                    cluster_id=cluster.id,
                    name=src.sr_name,
                    type=_primary_type(z.primary_storage.type),
                    url=_primary_url(z, src.sr_name),
                ),
                child,
                connection=conn,
            )
        stores: list[pulumi.Resource] = []
        if z.secondary_storage.type == "s3" and args.s3 is not None:
            if z.staging_store_url:
                stores.append(StagingStore(f"{name}-staging", StagingStoreArgs(zone_id=zone_id,
                                                                            url=z.staging_store_url), child,
                                           connection=conn))
            stores.append(
                ImageStore(
                    f"{name}-secondary-s3",
                    ImageStoreArgs(
                        kind="S3",  # region-wide in CloudStack: S3 image stores take no zone
                        name=f"{z.name}-s3",
                        bucket=args.s3.bucket,
                        endpoint=args.s3.endpoint,
                        access_key=args.s3.access_key,
                        secret_key=args.s3.secret_key,
                    ),
                    child_options(self, opts, list(stores)),  # the staging store first
                    connection=conn,
                )
            )
        elif z.secondary_storage.nfs_url:
            stores.append(
                ImageStore(
                    f"{name}-secondary-nfs",
                    ImageStoreArgs(kind="NFS", name=f"{z.name}-nfs", zone_id=zone_id, url=z.secondary_storage.nfs_url),
                    child,
                    connection=conn,
                )
            )
        everything: list[pulumi.Resource] = [
            self.physical_network, self.pod, *self.clusters.values(), *self.primary_storage.values(), *stores,
            *self._zone_networking(name, z),
        ]
        self.enablement = ZoneEnablement(
            f"{name}-enabled", ZoneEnablementArgs(zone_id=zone_id),
            child_options(self, opts, everything),
            connection=conn,
        )
        self.readiness = self._readiness(name, z)
        self.zone_id = self.enablement.zone_id
        hosts = {n: c.host_ids for n, c in self.clusters.items()}
        self.host_ids = (pulumi.Output.all(**hosts) if hosts else pulumi.Output.from_input({})).apply(
            lambda by_cluster: {n: list(ids or []) for n, ids in by_cluster.items()}
        )
        self.register_outputs({"zone_id": self.zone_id, "host_ids": self.host_ids,
                               "system_vms": self.readiness.secondary_storage_vm})

    def _zone_networking(self, name: str, z: ZoneConfig) -> list[pulumi.Resource]:
        """Public ranges, the storage network range and the extra network service providers: what
        the zone needs before it is enabled."""
        conn = self.connection
        made: list[pulumi.Resource] = []
        after_network = child_options(self, self._opts, [self.physical_network])
        for i, r in enumerate(z.public_ip_ranges):
            made.append(PublicIpRange(
                f"{name}-public-{i}",
                PublicIpRangeArgs(zone_id=self.zone.id, physical_network_id=self.physical_network.id, vlan=r.vlan,
                                  gateway=str(r.gateway), netmask=str(r.netmask), start_ip=str(r.start_ip),
                                  end_ip=str(r.end_ip)),
                after_network, connection=conn))
        s = z.storage_ip_range
        if s is not None:
            made.append(StorageNetworkIpRange(
                f"{name}-storage-range",
                StorageNetworkIpRangeArgs(pod_id=self.pod.id, gateway=str(s.gateway), netmask=str(s.netmask),
                                          start_ip=str(s.start_ip), end_ip=str(s.end_ip), vlan=s.vlan),
                after_network, connection=conn))
        for provider in z.network_service_providers:
            made.append(NetworkServiceProvider(
                f"{name}-{provider.lower()}",
                NetworkServiceProviderArgs(physical_network_id=self.physical_network.id, name=provider),
                after_network, connection=conn))
        return made

    def _readiness(self, name: str, z: ZoneConfig) -> ZoneReadiness:
        """The settings the config names, then the wait for the system VMs of the enabled zone."""
        after: list[pulumi.Resource] = [self.enablement]
        if z.settings:
            after.append(GlobalSettings(
                f"{name}-settings", GlobalSettingsArgs(values=dict(z.settings), zone_id=self.zone.id),
                child_options(self, self._opts), connection=self.connection))
        return ZoneReadiness(
            f"{name}-ready", ZoneReadinessArgs(zone_id=self.enablement.zone_id, timeout=z.readiness_timeout),
            child_options(self, self._opts, after), connection=self.connection)


def _primary_type(kind: str) -> str:
    return {"presetup": "PreSetup", "nfs": "NFS", "iscsi": "iSCSI", "rbd": "RBD"}[kind]


def _primary_url(z: ZoneConfig, sr_name: pulumi.Input[str]) -> pulumi.Input[str]:
    if z.primary_storage.type == "presetup":
        return pulumi.Output.from_input(sr_name).apply(lambda sr: f"presetup://localhost/{sr}")
    return z.primary_storage.url or ""
