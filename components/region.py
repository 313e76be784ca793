"""A region, from bare metal to an enabled CloudStack zone, as one typed dependency graph.

    bare metal (Ironic)  ->  storage (Ceph pools, S3 user and bucket)
                         ->  hypervisor pools (XCP-ng: joins, networks, shared SR)
                         ->  cloud zone (CloudStack: zone, network, pod, clusters, storage, enabled)

Layers pass typed outputs to each other (the pool master's URL, the SR's name-label, the S3 keys),
never strings assembled by hand, and every child is parented to the layer that owns it.
"""

from __future__ import annotations

import dataclasses

import pulumi

from components.baremetal import BareMetal, BareMetalArgs
from components.cephcluster import CephCluster, CephClusterArgs, CephHost, ClusterSecrets, provider_config
from components.cloudzone import CloudZone, CloudZoneArgs, ClusterSource, S3Store, management_access
from components.config import PROJECT, StackConfig
from components.hypervisors import CephFsAccess, HypervisorPool, HypervisorPoolArgs
from components.keygen import public_key_of
from components.quiesce import faster_output_wait
from components.stacktrace import faster_stack_trace
from components.storage import Storage, StorageArgs
from components.tenants import Tenants, TenantsArgs
from providers._core.types import split_host_port

TYPE = "privatecloud:region:Region"


class Region(pulumi.ComponentResource):
    baremetal: BareMetal
    storage: Storage
    pools: dict[str, HypervisorPool]
    cloud: CloudZone
    tenants: Tenants | None
    ceph: CephCluster | None
    ceph_dashboard_url: pulumi.Output[str]

    def __init__(self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        faster_stack_trace()  # the SDK's own costs about 1 ms of CPU per resource (components.stacktrace)
        faster_output_wait()  # the SDK's exit wait made a pass over every pending output per completion
        super().__init__(TYPE, name, None, opts)
        r = cfg.region
        creds = cfg.credentials
        root_password = pulumi.Output.secret(creds.xcpng_root_password.get_secret_value())
        boot = cfg.ceph_bootstrap
        deploy_key = pulumi.Output.secret(boot.deploy_key.get_secret_value()) if boot and boot.deploy_key else None
        secrets = (
            ClusterSecrets(f"{name}-ceph-secrets", generate_ssh_key=deploy_key is None,
                           opts=pulumi.ResourceOptions(parent=self))
            if boot else None
        )
        if secrets is None:
            public_key = None
        elif deploy_key is None:
            public_key = secrets.ssh_public_key
        else:
            public_key = pulumi.Output.unsecret(deploy_key.apply(public_key_of))

        self.baremetal = BareMetal(
            f"{name}-baremetal",
            BareMetalArgs(
                servers=r.servers,
                images=r.images,
                # Plain strings: each node's whole driver_info is secret (ironic.Node), and a section
                # holding no Output is made secret without unwrapping it key by key.
                bmc_password=creds.bmc_password.get_secret_value(),
                bmc_passwords={k: v.get_secret_value() for k, v in creds.bmc_passwords.items()},
                timeouts=r.deploy_timeouts,
                storage_public_key=public_key,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        deployed = pulumi.ResourceOptions(parent=self, depends_on=[self.baremetal.fleet])

        # Ceph: formed here over SSH (cephBootstrap), its outputs configuring the ceph.* providers
        # through an explicit provider; or an existing cluster named by the stack config.
        self.ceph = None
        provider: pulumi.ProviderResource | None = None
        storage_opts = deployed
        if boot is not None and secrets is not None:
            self.ceph = CephCluster(
                f"{name}-ceph",
                CephClusterArgs(
                    hosts=[CephHost(s.name, s.management_address or "", boot.osd_devices.get(s.name))
                           for s in r.servers_by_role("storage")],
                    private_key=deploy_key, public_network=boot.public_network, lab=boot.lab,
                    allow_osd_purge=boot.allow_osd_purge,
                    depends_on=[self.baremetal.fleet], secrets=secrets,
                    file_system=r.storage.file_system.name if r.storage.file_system else None,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            provider = pulumi.ProviderResource(
                "pulumi-python", f"{name}-ceph-provider", {f"{PROJECT}:ceph": provider_config(self.ceph)},
                pulumi.ResourceOptions(parent=self),
            )
            storage_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.ceph], providers=[provider])
            s3_endpoint: pulumi.Input[str] = self.ceph.rgw_url
            self.ceph_dashboard_url = self.ceph.dashboard_url
        else:
            assert cfg.ceph is not None  # the config allows exactly one mode
            s3_endpoint = cfg.ceph.rgw_url
            self.ceph_dashboard_url = pulumi.Output.from_input(cfg.ceph.dashboard_url)

        self.storage = Storage(
            f"{name}-storage",
            StorageArgs(pools=r.storage.pools, s3=r.storage.s3, s3_endpoint=s3_endpoint,
                        allow_pool_delete=r.storage.allow_pool_delete),
            storage_opts,
        )

        # The pools' cephfs SRs: on the file system the cluster made, over the deploy key's SSH.
        fs = r.storage.file_system
        cephfs = None
        if fs is not None and self.ceph is not None and secrets is not None and provider is not None:
            cephfs = CephFsAccess(
                fs_name=self.ceph.file_system.apply(lambda n: n or fs.name), root=fs.root,
                monitors=self.ceph.mon_addresses,
                admin_host=split_host_port(r.servers_by_role("storage")[0].management_address or "")[0],
                private_key=deploy_key if deploy_key is not None else secrets.ssh_private_key,
                provider=provider, ready=[self.ceph],
            )

        self.pools = {}
        for pool in r.hypervisor_pools:
            self.pools[pool.name] = HypervisorPool(
                f"{name}-{pool.name}",
                HypervisorPoolArgs(
                    pool=pool,
                    host_addresses=[r.server(h).management_address or "" for h in pool.hosts],
                    root_password=root_password,
                    cephfs=(dataclasses.replace(cephfs, host_names=list(pool.hosts))
                            if cephfs is not None and pool.sr.type == "cephfs" else None),
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
                management=management_access(cfg, ready=[self.baremetal.fleet]),
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[self.storage]),
        )

        # The zone's tenants, once the zone is complete and enabled (templates need its storage).
        self.tenants = None if r.tenants is None else Tenants(
            f"{name}-tenants",
            TenantsArgs(tenants=r.tenants, zone_id=self.cloud.zone_id, connection=self.cloud.connection),
            pulumi.ResourceOptions(parent=self, depends_on=[self.cloud]))

        self.register_outputs(
            {
                "zone_id": self.cloud.zone_id,
                "s3_endpoint": self.storage.s3_endpoint,
                "pool_hosts": {n: p.host_addresses for n, p in self.pools.items()},
                "tenant_api_keys": self.tenants.api_keys if self.tenants else {},
            }
        )
