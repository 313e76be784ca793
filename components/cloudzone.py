"""The cloud zone: CloudStack's zone, network, pod, one cluster per XCP-ng pool, storage, enabled last.

Order follows CloudStack's own rules: the physical network (traffic labels = XAPI network
name-labels, virtual router enabled) and the pod come after the zone; a cluster is added from its
pool master once the pool is complete; primary storage is the pool's shared SR (PreSetup, cluster
scope); secondary storage is S3 on RGW with the NFS staging store it needs, or NFS; the zone is
enabled only when everything else exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.config import Zone as ZoneConfig
from components.options import child_options
from providers.cloudstack import (
    Cluster,
    ClusterArgs,
    ImageStore,
    ImageStoreArgs,
    PhysicalNetwork,
    PhysicalNetworkArgs,
    Pod,
    PodArgs,
    PrimaryStorage,
    PrimaryStorageArgs,
    StagingStore,
    StagingStoreArgs,
    Zone,
    ZoneArgs,
    ZoneEnablement,
    ZoneEnablementArgs,
)

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
class CloudZoneArgs:
    zone: ZoneConfig
    """The zone's design from the stack config."""
    clusters: Sequence[ClusterSource]
    """One per XCP-ng pool."""
    s3: S3Store | None = None
    """S3 secondary storage on RGW (needs `zone.staging_store_url`)."""


class CloudZone(pulumi.ComponentResource):
    zone: Zone
    physical_network: PhysicalNetwork
    pod: Pod
    clusters: dict[str, Cluster]
    primary_storage: dict[str, PrimaryStorage]
    enablement: ZoneEnablement
    zone_id: pulumi.Output[str]
    host_ids: pulumi.Output[dict[str, list[str]]]

    def __init__(self, name: str, args: CloudZoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        z = args.zone
        child = child_options(self, opts)
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
        )
        self.clusters, self.primary_storage = {}, {}
        for src in args.clusters:
            cluster = Cluster(
                f"{name}-{src.name}",
                ClusterArgs(zone_id=zone_id, pod_id=self.pod.id, name=src.name, url=src.master_url,
                            password=src.password, members=src.members),
                child_options(self, opts, src.ready),
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
            )
        stores: list[pulumi.Resource] = []
        if z.secondary_storage.type == "s3" and args.s3 is not None:
            if z.staging_store_url:
                stores.append(StagingStore(f"{name}-staging", StagingStoreArgs(zone_id=zone_id,
                                                                            url=z.staging_store_url), child))
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
                )
            )
        elif z.secondary_storage.nfs_url:
            stores.append(
                ImageStore(
                    f"{name}-secondary-nfs",
                    ImageStoreArgs(kind="NFS", name=f"{z.name}-nfs", zone_id=zone_id, url=z.secondary_storage.nfs_url),
                    child,
                )
            )
        everything: list[pulumi.Resource] = [
            self.physical_network, self.pod, *self.clusters.values(), *self.primary_storage.values(), *stores
        ]
        self.enablement = ZoneEnablement(
            f"{name}-enabled", ZoneEnablementArgs(zone_id=zone_id),
            child_options(self, opts, everything),
        )
        self.zone_id = self.enablement.zone_id
        hosts = {n: c.host_ids for n, c in self.clusters.items()}
        self.host_ids = (pulumi.Output.all(**hosts) if hosts else pulumi.Output.from_input({})).apply(
            lambda by_cluster: {n: list(ids or []) for n, ids in by_cluster.items()}
        )
        self.register_outputs({"zone_id": self.zone_id, "host_ids": self.host_ids})


def _primary_type(kind: str) -> str:
    return {"presetup": "PreSetup", "nfs": "NFS", "iscsi": "iSCSI", "rbd": "RBD"}[kind]


def _primary_url(z: ZoneConfig, sr_name: pulumi.Input[str]) -> pulumi.Input[str]:
    if z.primary_storage.type == "presetup":
        return pulumi.Output.from_input(sr_name).apply(lambda sr: f"presetup://localhost/{sr}")
    return z.primary_storage.url or ""
