"""The parts of a region's design (`privatecloud:region`): servers and their BMCs, Ceph storage,
the XCP-ng hypervisor pools with their networks and shared SRs, the CloudStack zone, the images
and Ironic's deadlines.

Each part checks what it can see on its own (a VLAN range, a netmask, a BMC address); what spans
parts is checked by the `Region` that holds them (components/config/region.py).
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from components.config.base import Model, Name
from components.config.day0 import ExtraProvider, IpRange, PublicIpRange, StorageIpRange
from providers._core.types import (
    CephPoolName,
    CloudStackName,
    Count,
    DeviceName,
    HttpUrl,
    ImageUrl,
    IpHostPort,
    IPv4,
    IPv4Cidr,
    Mac,
    NfsUrl,
    RgwUserId,
    S3BucketName,
    Seconds,
    SingleLine,
    XapiNameLabel,
    split_host_port,
)

# CloudStack's hypervisor capabilities cap the hosts of a XenServer cluster (one XCP-ng pool);
# 16 is the value CloudStack ships for the XenServer versions XCP-ng reports.
XENSERVER_MAX_HOSTS_PER_CLUSTER = 16

# The networks a freshly installed XCP-ng host has, one per physical NIC.
BUILTIN_NETWORK_LABEL = "Pool-wide network associated with {device}"
BUILTIN_NETWORK_LABELS = {BUILTIN_NETWORK_LABEL.format(device=f"eth{n}") for n in range(4)}

DAY = 86400.0
Timeout = Annotated[Seconds, Field(gt=0, le=DAY)]


# --- the region's design ----------------------------------------------------------------------

Role = Literal["compute", "storage", "controller"]
Mtu = Annotated[Count, Field(ge=576, le=9216)]


class Bmc(Model):
    driver: Literal["fake-hardware", "ipmi", "redfish"] = "ipmi"
    address: SingleLine = Field(
        description="BMC address: an IP address, or IP:port; redfish also takes an https:// URL"
    )
    username: Annotated[SingleLine, Field(min_length=1, max_length=64)] = "admin"

    @field_validator("address")
    @classmethod
    def _address(cls, value: str, info: ValidationInfo) -> str:
        if "://" in value:
            if info.data.get("driver") != "redfish":
                raise ValueError("a URL is a redfish BMC's address; ipmi and fake-hardware take an IP address")
            return _checked(HttpUrl, value)
        split_host_port(value)
        return value


class Server(Model):
    name: Name
    role: Role = Field(description="exactly one role per server")
    bmc: Bmc
    macs: list[Mac] = Field(min_length=1, description="MAC addresses of the server's NICs (Ironic ports)")
    cpus: Annotated[Count, Field(gt=0, le=4096)] = 16
    memory_mb: Annotated[Count, Field(gt=0, le=64 * 1024 * 1024)] = 65536
    local_gb: Annotated[Count, Field(gt=0, le=1024 * 1024)] = 480
    management_address: IpHostPort | None = Field(
        default=None,
        description="the address (IP or IP:port) the deployed server answers on: XAPI on a compute server, "
        "SSH on a storage or controller server",
    )
    power: Literal["managed", "unmanaged"] = Field(
        default="managed",
        description="managed: the server is kept powered on and out of Ironic's maintenance mode (a server "
        "powered off by hand is drift that refresh shows and up repairs); unmanaged: its power state is "
        "left to the operator (recorded, never changed); maintenance mode is managed either way",
    )


class CephPool(Model):
    name: CephPoolName
    size: Annotated[Count, Field(ge=1, le=10)] = Field(default=3, description="replicas")
    min_size: Annotated[Count, Field(ge=1, le=10)] | None = None
    pg_num: Annotated[Count, Field(ge=1, le=65536)] | None = Field(default=None, description="unset: autoscale")
    application: Literal["rbd", "rgw", "cephfs"] = "rbd"


class S3Settings(Model):
    user: RgwUserId = Field(default="cloudstack-secondary", description="RGW user CloudStack writes with")
    bucket: S3BucketName = Field(default="cloudstack-secondary", description="bucket for secondary storage")


class FileSystem(Model):
    """A CephFS file system on the region's cluster: one directory per XCP-ng pool with a cephfs SR."""

    name: CephPoolName = Field(default="cephfs", description="the CephFS file system's name")
    root: SingleLine = Field(default="/xcp", pattern=r"^(/[A-Za-z0-9._-]+)+$",
                             description="the directory holding one directory per pool (<root>/<pool name>)")


class Storage(Model):
    pools: list[CephPool] = Field(default_factory=list)
    s3: S3Settings = Field(default_factory=S3Settings)
    file_system: FileSystem | None = Field(
        default=None, description="CephFS for the pools' cephfs SRs (metadata servers on the storage servers)")
    allow_pool_delete: bool = Field(
        default=False, strict=True,
        description="pools hold data: `pulumi destroy` deletes them only when this is true",
    )


class Vlan(Model):
    name: XapiNameLabel = Field(description="network name-label; CloudStack traffic labels refer to it")
    device: DeviceName = Field(description="PIF device carrying the VLAN, e.g. eth1")
    tag: Annotated[Count, Field(ge=1, le=4094)]
    mtu: Mtu = 1500


class Bond(Model):
    name: XapiNameLabel = Field(description="network name-label of the bond")
    devices: list[DeviceName] = Field(min_length=2, max_length=4)
    mode: Literal["balance-slb", "active-backup", "lacp"] = "active-backup"
    mtu: Mtu = 1500


SR_DEVICE_CONFIG: dict[str, tuple[set[str], set[str]]] = {
    # SR type: (required keys, optional keys), as the SR drivers of XCP-ng read them.
    "nfs": ({"server", "serverpath"}, {"nfsversion"}),
    "lvmoiscsi": ({"target", "targetIQN", "SCSIid"}, {"port"}),
    "cephfs": (set(), set()),  # all of it from the region's Ceph: monitors, the pool's directory and client
}


class SharedSr(Model):
    name: XapiNameLabel = Field(description="SR name-label; PreSetup primary storage names it")
    type: Literal["cephfs", "nfs", "lvmoiscsi"]
    device_config: dict[str, SingleLine] = Field(
        default_factory=dict,
        description="nfs: server, serverpath (nfsversion); lvmoiscsi: target, targetIQN, SCSIid (port); "
        "cephfs: none (the monitors, the pool's directory and its client come from the region's Ceph)",
    )
    quota_gib: Annotated[Count, Field(ge=1)] | None = Field(
        default=None, description="cephfs: the byte quota of the pool's directory, in GiB (required)")
    allow_delete_with_data: bool = Field(
        default=False, strict=True,
        description="cephfs: removing the pool deletes its directory even when it holds disks")


class HypervisorPool(Model):
    name: Name
    master: Name = Field(description="the compute server that is pool master")
    members: list[Name] = Field(default_factory=list, description="the other compute servers")
    vlans: list[Vlan] = Field(default_factory=list)
    bonds: list[Bond] = Field(default_factory=list)
    sr: SharedSr

    @property
    def hosts(self) -> list[str]:
        return [self.master, *self.members]

    @property
    def network_labels(self) -> set[str]:
        return BUILTIN_NETWORK_LABELS | {v.name for v in self.vlans} | {b.name for b in self.bonds}


class TrafficLabels(Model):
    """XenServer network labels per traffic type: each must equal a network name-label of every pool."""

    management: XapiNameLabel
    guest: XapiNameLabel
    public: XapiNameLabel = Field(
        description="an Advanced zone without security groups is enabled only with Public traffic"
    )
    storage: XapiNameLabel | None = None


def vlan_bounds(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high)


def _vlan_range(value: str) -> str:
    low, high = vlan_bounds(value)
    if not (1 <= low <= 4094 and 1 <= high <= 4094):
        raise ValueError("VLAN numbers are 1..4094")
    if low > high:
        raise ValueError(f"reversed: {low} is above {high}")
    return value


class PhysicalNetwork(Model):
    name: CloudStackName = "physnet-1"
    isolation: Literal["VLAN", "VXLAN"] = "VLAN"
    vlan_range: Annotated[str, Field(pattern=r"^\d{1,5}-\d{1,5}$"), AfterValidator(_vlan_range)] = Field(
        default="100-199", description="guest VLANs CloudStack hands to tenants, e.g. 1000-1999"
    )
    traffic: TrafficLabels


class Pod(IpRange):
    name: CloudStackName = "pod-1"


class PrimaryStorage(Model):
    type: Literal["presetup", "nfs", "iscsi", "rbd"] = Field(
        description="presetup: the pool's shared SR, named by sr.name"
    )
    url: SingleLine | None = Field(default=None, description="nfs://server/path or iscsi://target/iqn/lun")


class SecondaryStorage(Model):
    type: Literal["s3", "nfs"] = "s3"
    nfs_url: NfsUrl | None = Field(default=None, description="nfs://server/path when type is nfs")


class Zone(Model):
    name: CloudStackName
    dns: list[IPv4] = Field(min_length=1, max_length=2)
    internal_dns: list[IPv4] = Field(min_length=1, max_length=2)
    guest_cidr: IPv4Cidr
    physical_network: PhysicalNetwork
    pod: Pod
    primary_storage: PrimaryStorage
    secondary_storage: SecondaryStorage = Field(default_factory=SecondaryStorage)
    staging_store_url: NfsUrl | None = Field(default=None, description="nfs:// URL of the staging store S3 needs")
    # day 0 (models in components/config/day0.py)
    public_ip_ranges: list[PublicIpRange] = Field(default_factory=list, description="system VMs need one")
    storage_ip_range: StorageIpRange | None = None
    network_service_providers: list[ExtraProvider] = Field(default_factory=list)
    settings: dict[str, str] = Field(default_factory=dict, description="management-server settings")
    readiness_timeout: Timeout = Field(default=900.0, description="seconds to wait for the system VMs")


class Images(Model):
    hypervisor_iso: ImageUrl = Field(description="XCP-ng installer ISO (compute servers boot it with an answer file)")
    hypervisor_kernel_params: SingleLine = Field(
        default="", description="kernel parameters for the installer, e.g. answerfile=http://.../answer.xml"
    )
    storage_image: ImageUrl = Field(description="disk image for storage servers")
    controller_image: ImageUrl = Field(description="disk image for the controller (CloudStack management)")


class DeployTimeouts(Model):
    """Ironic deadlines per phase in seconds (unset: the provider's defaults for real hardware)."""

    manage: Timeout | None = None
    clean: Timeout | None = None
    deploy: Timeout | None = None
    undeploy: Timeout | None = None
    poll_interval: Annotated[Seconds, Field(gt=0, le=600)] | None = None


def _checked(kind: Any, value: str) -> str:
    """Run a value type's validator outside a model (raises ValueError with the reason)."""
    for meta in typing.get_args(kind)[1:]:
        if isinstance(meta, AfterValidator):
            value = meta.func(value)  # type: ignore[call-arg]
    return value
