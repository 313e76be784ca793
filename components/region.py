"""A region, from bare metal to an enabled CloudStack zone, as one typed dependency graph.

    bare metal (Ironic)  ->  storage (Ceph pools, S3 user and bucket)
                         ->  hypervisor pools (XCP-ng: joins, networks, shared SR)
                         ->  cloud zone (CloudStack: zone, network, pod, clusters, storage, enabled)

Layers pass typed outputs to each other (the pool master's URL, the SR's name-label, the S3 keys),
never strings assembled by hand, and every child is parented to the layer that owns it.
"""

from __future__ import annotations

import pulumi

from components.baremetal import BareMetal, BareMetalArgs
from components.cloudzone import CloudZone, CloudZoneArgs, ClusterSource, S3Store
from components.config import StackConfig
from components.hypervisors import HypervisorPool, HypervisorPoolArgs
from components.storage import Storage, StorageArgs
from components.tenants import Tenants, TenantsArgs

TYPE = "privatecloud:region:Region"


class Region(pulumi.ComponentResource):
    baremetal: BareMetal
    storage: Storage
    pools: dict[str, HypervisorPool]
    cloud: CloudZone
    tenants: Tenants | None

    def __init__(self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        r = cfg.region
        creds = cfg.credentials
        root_password = pulumi.Output.secret(creds.xcpng_root_password.get_secret_value())

        self.baremetal = BareMetal(
            f"{name}-baremetal",
            BareMetalArgs(
                servers=r.servers,
                images=r.images,
                bmc_password=pulumi.Output.secret(creds.bmc_password.get_secret_value()),
                bmc_passwords={
                    k: pulumi.Output.secret(v.get_secret_value()) for k, v in creds.bmc_passwords.items()
                },
                timeouts=r.deploy_timeouts,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        deployed = pulumi.ResourceOptions(parent=self, depends_on=[self.baremetal.fleet])

        self.storage = Storage(
            f"{name}-storage",
            StorageArgs(pools=r.storage.pools, s3=r.storage.s3, s3_endpoint=cfg.ceph.rgw_url,
                        allow_pool_delete=r.storage.allow_pool_delete),
            deployed,
        )

        self.pools = {}
        for pool in r.hypervisor_pools:
            self.pools[pool.name] = HypervisorPool(
                f"{name}-{pool.name}",
                HypervisorPoolArgs(
                    pool=pool,
                    host_addresses=[r.server(h).management_address or "" for h in pool.hosts],
                    root_password=root_password,
                ),
                deployed,
            )

        self.cloud = CloudZone(
            f"{name}-cloud",
            CloudZoneArgs(
                zone=r.zone,
                clusters=[
                    ClusterSource(
                        name=pool_name,
                        master_url=hp.master_url,
                        password=root_password,
                        sr_name=hp.sr_name,
                        members=hp.host_addresses,
                        ready=[hp],
                    )
                    for pool_name, hp in self.pools.items()
                ],
                s3=S3Store(
                    endpoint=self.storage.s3_endpoint,
                    bucket=self.storage.s3_bucket,
                    access_key=self.storage.s3_access_key,
                    secret_key=self.storage.s3_secret_key,
                )
                if r.zone.secondary_storage.type == "s3"
                else None,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[self.storage]),
        )

        # The zone's tenants, once the zone is complete and enabled (templates need its storage).
        self.tenants = None if r.tenants is None else Tenants(
            f"{name}-tenants", TenantsArgs(tenants=r.tenants, zone_id=self.cloud.zone_id),
            pulumi.ResourceOptions(parent=self, depends_on=[self.cloud]))

        self.register_outputs(
            {
                "zone_id": self.cloud.zone_id,
                "s3_endpoint": self.storage.s3_endpoint,
                "pool_hosts": {n: p.host_addresses for n, p in self.pools.items()},
                "tenant_api_keys": self.tenants.api_keys if self.tenants else {},
            }
        )
