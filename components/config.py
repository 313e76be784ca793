"""The stack configuration of a region: one strict pydantic model, validated once in `__main__.py`.

Stack config follows Pulumi's conventions: everything lives in the project's namespace
(`privatecloud:`), keys are camelCase, and credentials are set with `pulumi config set --secret`
(nested ones with `--path`, e.g. `pulumi config set --secret --path privatecloud:ceph.dashboardPassword`).

| key | what |
|---|---|
| `privatecloud:region` | the region's design: servers by role, storage, hypervisor pools, the zone |
| `privatecloud:ironic` | the Ironic API endpoint |
| `privatecloud:ceph` | an existing cluster: dashboard and RGW Admin Ops endpoints and credentials |
| `privatecloud:cephBootstrap` | or: the program forms the cluster on the storage servers over SSH |
| `privatecloud:cloudstack` | management-server API endpoint, API key and secret key |
| `privatecloud:managementServer` | day 0: the admin password; the program registers its own API keys |
| `privatecloud:xcpng` | XAPI transport (https by default) and deadlines |
| `privatecloud:credentials` | secrets the program hands to resources: BMC and XCP-ng root passwords |

Every mistake the config can show is refused here, before any API call, one line each naming the
config path, the value and the reason; secret values are masked by their position (a secret field,
anything under `credentials`, and whatever holds or sits beside them), never by a key's spelling.
The file itself is read as Pulumi reads it (YAML 1.2 scalars, no object-constructing tags, no
duplicate keys, bounded alias expansion), and the engine path (`load_config`, from `__main__.py`)
refuses exactly what the CLI validator refuses:

    python -m components.config Pulumi.<stack>.yaml   # check stack files without the engine (exit 1)
    python -m components.config --schema              # print the JSON Schema
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import json
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, Literal

import yaml  # PyYAML arrives with the pulumi SDK
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from providers._core.types import (
    CephPoolName,
    CloudStackName,
    Count,
    DeviceName,
    DnsLabel,
    HttpUrl,
    ImageUrl,
    IpHostPort,
    IscsiUrl,
    Mac,
    NfsUrl,
    RgwUserId,
    S3BucketName,
    Seconds,
    SingleLine,
    XapiNameLabel,
    control_character,
    split_host_port,
)
from providers.ceph import settings as ceph_settings
from providers.cloudstack import settings as cloudstack_settings
from providers.ironic import settings as ironic_settings
from providers.xcpng import settings as xcpng_settings

PROJECT = "privatecloud"
POLICY_NAMESPACE = f"{PROJECT}-policy"  # the CrossGuard pack's stack settings (policy/)

# CloudStack's hypervisor capabilities cap the hosts of a XenServer cluster (one XCP-ng pool);
# 16 is the value CloudStack ships for the XenServer versions XCP-ng reports.
XENSERVER_MAX_HOSTS_PER_CLUSTER = 16

# The networks a freshly installed XCP-ng host has, one per physical NIC.
BUILTIN_NETWORK_LABEL = "Pool-wide network associated with {device}"

DAY = 86400.0


class ConfigError(Exception):
    """The stack config is invalid: every line names a config path, the value and the reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack config:\n  " + "\n  ".join(problems))


Name = DnsLabel  # region, server and pool names: they also name Pulumi resources and Ironic nodes


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


# --- endpoints and credentials ----------------------------------------------------------------


# One settings model per backend, shared with the providers' configure() (providers/<backend>/settings.py).
IronicSettings = ironic_settings.IronicSettings
CephSettings = ceph_settings.CephSettings
CloudStackSettings = cloudstack_settings.CloudStackSettings
XcpngSettings = xcpng_settings.XcpngSettings


class Credentials(Model):
    bmc_password: SecretStr = Field(description="BMC password of every server (per-server: bmcPasswords)")
    bmc_passwords: dict[str, SecretStr] = Field(default_factory=dict, description="server name -> BMC password")
    xcpng_root_password: SecretStr = Field(description="root password of every XCP-ng host")


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
        builtin = {BUILTIN_NETWORK_LABEL.format(device=f"eth{i}") for i in range(4)}
        return builtin | {v.name for v in self.vlans} | {b.name for b in self.bonds}


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


def _netmask(value: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    try:
        ipaddress.IPv4Network(f"0.0.0.0/{value}")
    except ValueError:
        raise ValueError("not a contiguous netmask (ones, then zeros, e.g. 255.255.255.0)") from None
    return value


class PhysicalNetwork(Model):
    name: CloudStackName = "physnet-1"
    isolation: Literal["VLAN", "VXLAN"] = "VLAN"
    vlan_range: Annotated[str, Field(pattern=r"^\d{1,5}-\d{1,5}$"), AfterValidator(_vlan_range)] = Field(
        default="100-199", description="guest VLANs CloudStack hands to tenants, e.g. 1000-1999"
    )
    traffic: TrafficLabels


class Pod(Model):
    name: CloudStackName = "pod-1"
    gateway: ipaddress.IPv4Address
    netmask: Annotated[ipaddress.IPv4Address, AfterValidator(_netmask)]
    start_ip: ipaddress.IPv4Address
    end_ip: ipaddress.IPv4Address

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.gateway}/{self.netmask}", strict=False)


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
    dns: list[ipaddress.IPv4Address] = Field(min_length=1, max_length=2)
    internal_dns: list[ipaddress.IPv4Address] = Field(min_length=1, max_length=2)
    guest_cidr: ipaddress.IPv4Network
    physical_network: PhysicalNetwork
    pod: Pod
    primary_storage: PrimaryStorage
    secondary_storage: SecondaryStorage = Field(default_factory=SecondaryStorage)
    staging_store_url: NfsUrl | None = Field(default=None, description="nfs:// URL of the staging store S3 needs")
    # day 0 (models at the end of this module)
    public_ip_ranges: list[PublicIpRange] = Field(default_factory=list, description="system VMs need one")
    storage_ip_range: StorageIpRange | None = None
    network_service_providers: list[ExtraProvider] = Field(default_factory=list)
    settings: dict[str, str] = Field(default_factory=dict, description="management-server settings")
    readiness_timeout: float = Field(default=900.0, gt=0, description="seconds to wait for the system VMs")


class Images(Model):
    hypervisor_iso: ImageUrl = Field(description="XCP-ng installer ISO (compute servers boot it with an answer file)")
    hypervisor_kernel_params: SingleLine = Field(
        default="", description="kernel parameters for the installer, e.g. answerfile=http://.../answer.xml"
    )
    storage_image: ImageUrl = Field(description="disk image for storage servers")
    controller_image: ImageUrl = Field(description="disk image for the controller (CloudStack management)")


Timeout = Annotated[Seconds, Field(gt=0, le=DAY)]


class DeployTimeouts(Model):
    """Ironic deadlines per phase in seconds (unset: the provider's defaults for real hardware)."""

    manage: Timeout | None = None
    clean: Timeout | None = None
    deploy: Timeout | None = None
    undeploy: Timeout | None = None
    poll_interval: Annotated[Seconds, Field(gt=0, le=600)] | None = None


class Region(Model):
    name: Name
    servers: list[Server] = Field(min_length=1)
    images: Images
    storage: Storage = Field(default_factory=Storage)
    hypervisor_pools: list[HypervisorPool] = Field(min_length=1)
    zone: Zone
    max_hosts_per_cluster: Annotated[Count, Field(ge=1, le=1024)] = XENSERVER_MAX_HOSTS_PER_CLUSTER
    deploy_timeouts: DeployTimeouts = Field(default_factory=lambda: DeployTimeouts())
    tenants: Tenants | None = Field(default=None, description="domains, accounts, offerings, templates, limits")

    def servers_by_role(self, role: Role) -> list[Server]:
        return [s for s in self.servers if s.role == role]

    def server(self, name: str) -> Server:
        return next(s for s in self.servers if s.name == name)

    @model_validator(mode="after")
    def _invariants(self) -> Region:
        problems = list(region_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _checked(kind: Any, value: str) -> str:
    """Run a value type's validator outside a model (raises ValueError with the reason)."""
    for meta in typing.get_args(kind)[1:]:
        if isinstance(meta, AfterValidator):
            value = meta.func(value)  # type: ignore[call-arg]
    return value


# --- cross-layer invariants, one small check per layer ----------------------------------------
# Each yields `<path>=<value>: <reason>` with paths as in the stack file under `region`.


def _duplicates(items: list[tuple[str, Any]], what: str) -> Iterator[str]:
    """Each (path, value) whose value an earlier item already has."""
    first: dict[Any, str] = {}
    for path, value in items:
        if value in first:
            yield f"{path}={value!r}: {what} already at {first[value]}"
        else:
            first[value] = path


def _server_checks(r: Region) -> Iterator[str]:
    yield from _duplicates([(f"servers[{i}].name", s.name) for i, s in enumerate(r.servers)], "server name")
    yield from _duplicates(
        [(f"servers[{i}].macs[{j}]", m) for i, s in enumerate(r.servers) for j, m in enumerate(s.macs)],
        "MAC address",
    )
    yield from _duplicates([(f"servers[{i}].bmc.address", s.bmc.address) for i, s in enumerate(r.servers)],
                           "BMC address")
    yield from _duplicates(
        [(f"servers[{i}].managementAddress", s.management_address)
         for i, s in enumerate(r.servers) if s.management_address is not None],
        "management address",
    )


def _pool_membership_checks(r: Region) -> Iterator[str]:
    by_name = {s.name: s for s in r.servers}
    placed: dict[str, str] = {}
    for i, pool in enumerate(r.hypervisor_pools):
        for j, host in enumerate(pool.hosts):
            path = f"hypervisorPools[{i}]." + ("master" if j == 0 else f"members[{j - 1}]")
            server = by_name.get(host)
            if server is None:
                yield f"{path}={host!r}: no server has this name"
            elif server.role != "compute":
                yield f"{path}={host!r}: a hypervisor must be a compute server, this one is {server.role}"
            elif server.management_address is None:
                yield f"{path}={host!r}: the server has no managementAddress for XAPI"
            if host in placed:
                yield f"{path}={host!r}: already in pool {placed[host]!r}; a host joins one pool"
            placed.setdefault(host, pool.name)
        if len(pool.hosts) > r.max_hosts_per_cluster:
            yield (
                f"hypervisorPools[{i}]={pool.name!r}: {len(pool.hosts)} hosts exceed CloudStack's limit of "
                f"{r.max_hosts_per_cluster} hosts per XenServer cluster"
            )
    for i, s in enumerate(r.servers):
        if s.role == "compute" and s.name not in placed:
            yield f"servers[{i}]={s.name!r}: compute server in no hypervisor pool"


def _pool_network_checks(i: int, pool: HypervisorPool, guest_vlans: tuple[int, int]) -> Iterator[str]:
    p = f"hypervisorPools[{i}]"
    labels = [(f"{p}.vlans[{j}].name", v.name) for j, v in enumerate(pool.vlans)]
    labels += [(f"{p}.bonds[{j}].name", b.name) for j, b in enumerate(pool.bonds)]
    builtin = {BUILTIN_NETWORK_LABEL.format(device=f"eth{n}") for n in range(4)}
    for path, label in labels:
        if label in builtin:
            yield f"{path}={label!r}: the name-label of a network every XCP-ng host already has"
    yield from _duplicates(labels, "network name-label in this pool")
    tagged: dict[tuple[str, int], str] = {}
    for j, v in enumerate(pool.vlans):
        if (v.device, v.tag) in tagged:
            yield f"{p}.vlans[{j}].tag={v.tag}: {v.device} already carries this VLAN at {tagged[v.device, v.tag]}"
        tagged.setdefault((v.device, v.tag), f"{p}.vlans[{j}]")
    bonded: dict[str, str] = {}
    for j, b in enumerate(pool.bonds):
        for k, dev in enumerate(b.devices):
            path = f"{p}.bonds[{j}].devices[{k}]"
            if dev in b.devices[:k]:
                yield f"{path}={dev!r}: the bond names this device twice"
            elif dev in bonded:
                yield f"{path}={dev!r}: already in the bond at {bonded[dev]}; a device joins one bond"
            bonded.setdefault(dev, f"{p}.bonds[{j}]")
    for j, v in enumerate(pool.vlans):
        if v.device in bonded:
            yield (f"{p}.vlans[{j}].device={v.device!r}: a member of the bond at {bonded[v.device]}; "
                   "XAPI refuses a VLAN on a bond member (put it on the bond's network)")
        low, high = guest_vlans
        if low <= v.tag <= high:
            yield (f"{p}.vlans[{j}].tag={v.tag}: inside the zone's guest VLAN range {low}-{high} "
                   "(zone.physicalNetwork.vlanRange), which CloudStack hands to tenants")


def _cephfs_sr_checks(i: int, sr: SharedSr, r: Region) -> Iterator[str]:
    path = f"hypervisorPools[{i}].sr"
    if sr.type != "cephfs":
        if sr.quota_gib is not None:
            yield f"{path}.quotaGib={sr.quota_gib}: only a cephfs SR has a quota here (its directory's)"
        return
    if r.storage.file_system is None:
        yield (f"{path}.type='cephfs': the region has no Ceph file system: declare storage.fileSystem "
               "(or use an nfs or lvmoiscsi SR)")
    if sr.quota_gib is None:
        yield f"{path}.quotaGib=(missing): a cephfs SR's directory needs a quota (GiB)"


def _sr_checks(i: int, sr: SharedSr) -> Iterator[str]:
    path = f"hypervisorPools[{i}].sr.deviceConfig"
    required, optional = SR_DEVICE_CONFIG[sr.type]
    for key in sorted(required - set(sr.device_config)):
        yield f"{path}.{key}=(missing): required for an SR of type {sr.type!r}"
    for key in sorted(set(sr.device_config) - required - optional):
        yield (f"{path}.{key}={sr.device_config[key]!r}: not a key of an SR of type {sr.type!r} "
               f"(it takes {sorted(required | optional)})")
    dc = sr.device_config
    for key in ("server", "target"):
        if key in dc and not re.fullmatch(r"[A-Za-z0-9.:-]+", dc[key]):
            yield f"{path}.{key}={dc[key]!r}: not a host name or IP address"
    if "serverpath" in dc and (not dc["serverpath"].startswith("/") or ".." in dc["serverpath"].split("/")):
        yield f"{path}.serverpath={dc['serverpath']!r}: an absolute export path without '..'"
    if "targetIQN" in dc and not re.fullmatch(r"iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:\S+)?", dc["targetIQN"]):
        yield f"{path}.targetIQN={dc['targetIQN']!r}: not an iSCSI qualified name (iqn.yyyy-mm.authority:name)"
    if "SCSIid" in dc and not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", dc["SCSIid"]):
        yield f"{path}.SCSIid={dc['SCSIid']!r}: not a SCSI id (the LUN's WWID, e.g. 36001405...)"


def _pool_checks(r: Region) -> Iterator[str]:
    yield from _duplicates([(f"hypervisorPools[{i}].name", p.name) for i, p in enumerate(r.hypervisor_pools)],
                           "pool name")
    yield from _duplicates([(f"hypervisorPools[{i}].sr.name", p.sr.name) for i, p in enumerate(r.hypervisor_pools)],
                           "SR name-label (PreSetup storage finds the SR by it)")
    guest_vlans = vlan_bounds(r.zone.physical_network.vlan_range)
    for i, pool in enumerate(r.hypervisor_pools):
        yield from _pool_network_checks(i, pool, guest_vlans)
        yield from _sr_checks(i, pool.sr)
        yield from _cephfs_sr_checks(i, pool.sr, r)


def _storage_checks(r: Region) -> Iterator[str]:
    yield from _duplicates([(f"storage.pools[{i}].name", p.name) for i, p in enumerate(r.storage.pools)],
                           "Ceph pool name")
    storage_hosts = len(r.servers_by_role("storage"))
    for i, p in enumerate(r.storage.pools):
        if p.size > storage_hosts:
            yield (
                f"storage.pools[{i}].size={p.size}: more replicas than storage servers ({storage_hosts}); "
                "Ceph could never place them"
            )
        if p.size == 1:
            yield (f"storage.pools[{i}].size=1: the program could never restore size 1 once it drifted (Ceph's "
                   "dashboard API cannot confirm size 1); declare 2 or more")
        if p.min_size is not None and p.min_size > p.size:
            yield f"storage.pools[{i}].minSize={p.min_size}: above size={p.size}"
        if p.pg_num is not None and p.pg_num & (p.pg_num - 1):
            yield f"storage.pools[{i}].pgNum={p.pg_num}: not a power of two (Ceph warns POOL_PG_NUM_NOT_POWER_OF_TWO)"


def _zone_storage_checks(z: Zone) -> Iterator[str]:
    ps = z.primary_storage
    if ps.type == "rbd":
        yield (
            "zone.primaryStorage.type='rbd': CloudStack supports RBD primary storage on KVM only; an "
            "XCP-ng (XenServer) cluster takes NFS, iSCSI or PreSetup, so present Ceph to the pool as an "
            "SR (NFS or iSCSI gateway) and register it as presetup"
        )
    kinds: dict[str, Any] = {"nfs": NfsUrl, "iscsi": IscsiUrl}
    if ps.type in kinds and not ps.url:
        yield f"zone.primaryStorage.url=None: required for type {ps.type!r}"
    elif ps.type in kinds and ps.url:
        try:
            _checked(kinds[ps.type], ps.url)
        except ValueError as e:
            yield f"zone.primaryStorage.url={ps.url!r}: {e}"
    elif ps.url:
        yield f"zone.primaryStorage.url={ps.url!r}: type {ps.type!r} takes no url (the pool's SR is named by sr.name)"
    if z.secondary_storage.type == "s3" and not z.staging_store_url:
        yield (
            "zone.stagingStoreUrl=None: S3 secondary storage needs an NFS secondary staging store in the "
            "zone (CloudStack: \"Can't find staging storage in zone\")"
        )
    if z.secondary_storage.type == "nfs" and not z.secondary_storage.nfs_url:
        yield "zone.secondaryStorage.nfsUrl=None: required for type 'nfs'"


def _traffic_checks(r: Region) -> Iterator[str]:
    for field_name, label in r.zone.physical_network.traffic.model_dump(exclude_none=True).items():
        for i, pool in enumerate(r.hypervisor_pools):
            if label not in pool.network_labels:
                yield (
                    f"zone.physicalNetwork.traffic.{to_camel(field_name)}={label!r}: pool "
                    f"hypervisorPools[{i}]={pool.name!r} has no network with this name-label "
                    f"(it has {sorted(pool.network_labels)})"
                )


def _pod_checks(r: Region) -> Iterator[str]:
    z = r.zone
    pod = z.pod
    if not (pod.start_ip in pod.network and pod.end_ip in pod.network):
        yield f"zone.pod: reserved range {pod.start_ip}-{pod.end_ip} is outside the pod network {pod.network}"
    if int(pod.start_ip) > int(pod.end_ip):
        yield f"zone.pod.startIp={pod.start_ip}: after endIp={pod.end_ip}"
    if pod.start_ip <= pod.gateway <= pod.end_ip:
        yield f"zone.pod.gateway={pod.gateway}: inside the reserved range {pod.start_ip}-{pod.end_ip}"
    if pod.gateway not in pod.network or pod.gateway in (pod.network.network_address, pod.network.broadcast_address):
        yield f"zone.pod.gateway={pod.gateway}: not a host address of the pod network {pod.network}"
    if z.guest_cidr.overlaps(pod.network):
        yield f"zone.guestCidr={z.guest_cidr}: overlaps the pod network {pod.network}"
    for i, s in enumerate(r.servers):
        if s.management_address is None:
            continue
        ip = ipaddress.ip_address(split_host_port(s.management_address)[0])
        if ip == pod.gateway:
            yield f"servers[{i}].managementAddress={s.management_address!r}: the pod gateway's address"
        elif ip.version == 4 and pod.start_ip <= ip <= pod.end_ip:
            yield (f"servers[{i}].managementAddress={s.management_address!r}: inside the pod's reserved range "
                   f"{pod.start_ip}-{pod.end_ip} (CloudStack hands it to system VMs)")


REGION_CHECKS: list[Callable[[Region], Iterator[str]]] = [
    _server_checks,
    _pool_membership_checks,
    _pool_checks,
    _storage_checks,
    lambda r: _zone_storage_checks(r.zone),
    _traffic_checks,
    _pod_checks,
    lambda r: zone_day0_problems(r.zone),  # public and storage ranges, settings (end of this module)
]


def region_problems(r: Region) -> Iterator[str]:
    """Cross-layer invariants, each as `<path>=<value>: <reason>` (paths as in the stack file)."""
    for check in REGION_CHECKS:
        yield from check(r)


# --- Ceph formed by the program (day 0) --------------------------------------------------------


class CephBootstrap(Model):
    """The program forms the Ceph cluster on the storage servers over SSH (components/cephcluster.py):
    monitors on the first three, manager with dashboard and RGW on the first, one OSD per server."""

    deploy_key: SecretStr | None = Field(
        default=None,
        description="root's SSH private key on the servers (set with --secret); unset: the program "
        "generates one and keeps it secret in state. Its public half goes into the config drives.",
    )
    osd_devices: dict[str, str] = Field(
        default_factory=dict, description="storage server name -> the block device of its OSD, e.g. /dev/sdb"
    )
    public_network: str = Field(default="127.0.0.0/8", description="Ceph's public network (CIDR)")
    lab: bool = Field(
        default=False,
        description="lab cluster: memory-backed OSDs where no device is given, pools of one replica allowed",
    )
    allow_osd_purge: bool = Field(
        default=False,
        description="OSDs hold data: a removed storage server's OSD is purged only when this is true "
        "(otherwise it is marked out and stopped)",
    )


class StackConfig(Model):
    """Everything a region stack's config holds (the JSON Schema editors use is generated from it)."""

    region: Region
    ironic: IronicSettings
    ceph: CephSettings | None = Field(default=None, description="an existing cluster (or cephBootstrap)")
    ceph_bootstrap: CephBootstrap | None = Field(
        default=None, description="form the cluster on the storage servers (or ceph: an existing one)"
    )
    cloudstack: CloudStackSettings
    credentials: Credentials
    xcpng: XcpngSettings = Field(default_factory=XcpngSettings)
    management_server: ManagementServerSettings | None = Field(default=None, validate_default=True)  # day 0

    @field_validator("management_server")
    @classmethod
    def _cloudstack_access(cls, value: Any, info: ValidationInfo) -> Any:
        cs = info.data.get("cloudstack")
        if value is None and cs is not None and (cs.api_key is None or cs.secret_key is None):
            raise ValueError(CLOUDSTACK_ACCESS)
        return value

    @model_validator(mode="after")
    def _across_sections(self) -> StackConfig:
        problems = [*_credential_checks(self), *ceph_mode_problems(self)]
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _credential_checks(c: StackConfig) -> Iterator[str]:
    servers = [s.name for s in c.region.servers]
    for name in c.credentials.bmc_passwords:
        if name not in servers:
            near = difflib.get_close_matches(name, servers, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            yield f"{dotted(('credentials', 'bmcPasswords', name))}=(secret): no server has this name{hint}"


# --- where secrets sit, and how values are shown ----------------------------------------------

Path = tuple[str, ...]


def _inner_types(annotation: Any) -> list[Any]:
    """The types a field annotation can hold values of (unwrapping Annotated, unions and lists)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _inner_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) if a is not type(None) for t in _inner_types(a)]
    if origin is list:
        return _inner_types(typing.get_args(annotation)[0])
    return [annotation]


def _layout(model: type[BaseModel], prefix: Path = ()) -> Iterator[tuple[Path, str]]:
    """(path, kind) of every field of the stack config: kind is 'secret', 'model' or 'value';
    a dict's keys are '*'."""
    for name, f in model.model_fields.items():
        path = (*prefix, f.alias or name)
        for t in _inner_types(f.annotation):
            if typing.get_origin(t) is dict:
                value = typing.get_args(t)[1]
                yield (*path, "*"), ("secret" if value is SecretStr else "value")
                yield path, "value"
            elif t is SecretStr:
                yield path, "secret"
            elif isinstance(t, type) and issubclass(t, BaseModel):
                yield path, "model"
                yield from _layout(t, path)
            else:
                yield path, "value"


def _matches(pattern: Path, path: Path) -> bool:
    return len(pattern) == len(path) and all(p in ("*", q) for p, q in zip(pattern, path, strict=True))


def _under(path: Path, pattern: Path) -> bool:
    """`path` is `pattern` or lies below it."""
    return len(path) >= len(pattern) and _matches(pattern, path[: len(pattern)])


def _secret_layout() -> tuple[list[Path], set[Path]]:
    layout = list(_layout(StackConfig))
    secrets = [p for p, kind in layout if kind == "secret"]
    return [("credentials",), *secrets], {p for p, _ in layout}



def is_secret_position(path: tuple[str | int, ...]) -> bool:
    """Whether a value at `path` may hold a secret: a secret field or below one, anything that holds
    one, or an unknown key beside one (a misspelled secret field is still a secret)."""
    p = tuple(k for k in path if isinstance(k, str))
    for s in SECRET_PATHS:
        if _under(p, s) or _under(s, p):
            return True
    known = any(_matches(k, p) for k in KNOWN_PATHS)
    return bool(p) and not known and any(_under(s, p[:-1]) for s in SECRET_PATHS)


_USERINFO = re.compile(r"(?<=//)[^/@\s]*@")


def _show(path: tuple[str | int, ...], value: Any) -> str:
    if is_secret_position(path):
        return "(secret)"
    text = _USERINFO.sub("(credentials)@", repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def dotted(path: tuple[str | int, ...]) -> str:
    """A config path as `pulumi config set --path` takes it: privatecloud:region.servers[0].name."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not out:
            out = f"{PROJECT}:{part}"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out or f"{PROJECT}:"


def _fields_at(path: tuple[str | int, ...]) -> list[str]:
    """The field names the model accepts at `path` (for 'did you mean')."""
    p = tuple(k for k in path if isinstance(k, str))
    return [k[-1] for k in KNOWN_PATHS if len(k) == len(p) + 1 and _matches(k[:-1], p) and k[-1] != "*"]


def _nearest(word: str, options: list[str]) -> str:
    near = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not near:
        near = [o for o in options if o.lower() == word.lower()]
    return f"; did you mean {near[0]!r}?" if near else f" (it takes {sorted(options)})"


def _format(e: ValidationError) -> Iterator[tuple[str, str]]:
    """(path, line) per problem; the cross-layer invariants come as whole lines already."""
    for err in e.errors():
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "value_error" and loc in ((), ("region",)):
            prefix = f"{PROJECT}:region." if loc else ""
            yield from (("", f"{prefix}{line}") for line in msg.split("\n"))
            continue
        if err["type"] == "extra_forbidden":
            msg = "unknown key" + _nearest(str(loc[-1]), _fields_at(loc[:-1]))
        shown = "(missing)" if err["type"] == "missing" else _show(loc, err.get("input"))
        yield dotted(loc), f"{dotted(loc)}={shown}: {msg}"


MULTILINE_PATHS = {("cephBootstrap", "deployKey")}
"""Fields whose value is many lines by nature (a PEM private key): exempt from the one-line rule."""


def _text_problems(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    """Control characters anywhere (keys and values), which no field of the config may hold but
    the MULTILINE_PATHS."""
    if tuple(path) in MULTILINE_PATHS:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and (found := control_character(k)):
                yield dotted(path), f"{dotted(path)}: a key has {found}"
            yield from _text_problems(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _text_problems(v, (*path, i))
    elif isinstance(value, str) and (found := control_character(value)):
        yield dotted(path), f"{dotted(path)}={_show(path, value)}: has {found}; values are one line of printable text"


def _value_problems(raw: Mapping[str, Any]) -> tuple[StackConfig | None, list[str]]:
    data = {}
    for key, value in raw.items():
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        data[key] = value
    found = list(_text_problems(data, ()))
    seen = {path for path, _ in found}
    try:
        return StackConfig.model_validate(data), [line for _, line in found]
    except ValidationError as e:
        more = [(path, line) for path, line in _format(e) if not path or path not in seen]
        return None, [line for _, line in found + more]


def load(raw: dict[str, Any]) -> StackConfig:
    """Validate raw stack config (keys without the project namespace; values as Pulumi gives them:
    objects as JSON strings, secrets decrypted)."""
    cfg, problems = _value_problems(raw)
    if cfg is None or problems:
        raise ConfigError(problems)
    return cfg


# --- namespaces and plaintext credentials -----------------------------------------------------


def _namespace_problems(keys: list[str]) -> Iterator[str]:
    """Keys outside the project's namespace, or unknown in it, with the nearest valid key."""
    names = [f.alias or n for n, f in StackConfig.model_fields.items()]
    valid = [f"{PROJECT}:{n}" for n in names]
    for key in keys:
        namespace, colon, name = key.partition(":")
        if namespace == "pulumi" and colon:
            continue  # the engine's own settings (pulumi:tags, ...)
        if namespace == POLICY_NAMESPACE and colon:
            continue  # the policy pack's settings (policy/): the pack reads and checks them
        if namespace == PROJECT and name in names:
            continue
        if not colon:
            hint = _nearest(key, names).replace("'", f"'{PROJECT}:", 1) if key in names else _nearest(key, valid)
            yield f"{key}: a config key needs a namespace{hint}"
        elif namespace == PROJECT:
            yield f"{key}: unknown key of the project{_nearest(name, names)}"
        elif namespace in names:
            yield f"{key}: outside the project's namespace; did you mean {name!r} under {PROJECT}:{namespace}?"
        else:
            near = difflib.get_close_matches(key, valid, n=1, cutoff=0.8)
            hint = f"; did you mean {near[0]!r}?" if near else f" (this project reads only {PROJECT}:* keys)"
            yield f"{key}: outside the project's namespace{hint}"


Loc = tuple[str | int, ...]


def _secret_leaves(value: Any, pattern: Path, path: Loc = ()) -> Iterator[tuple[Loc, Any]]:
    """The values at a secret field's position (a '*' in the pattern is every key of a mapping)."""
    if not pattern:
        yield path, value
        return
    if not isinstance(value, dict):
        return
    head, rest = pattern[0], pattern[1:]
    for k, v in value.items():
        if head in ("*", k):
            yield from _secret_leaves(v, rest, (*path, k))


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _plaintext_problem(path: tuple[str | int, ...]) -> str:
    where = dotted(path)
    return (f"{where}=(secret): a plaintext credential in the stack config; encrypt it: "
            f"pulumi config set --secret --path '{where}' <value>")


def plaintext_problems(config: Mapping[str, Any], is_encrypted: Callable[[str, Any], bool]) -> Iterator[str]:
    """Secret fields whose value the stack config holds in plaintext.

    `is_encrypted(key, value)` says whether a leaf under a top-level key was given encrypted."""
    for s in SECRET_PATHS:
        if len(s) < 2:
            continue
        section = config.get(f"{PROJECT}:{s[0]}")
        if isinstance(section, str):
            with contextlib.suppress(json.JSONDecodeError):
                section = json.loads(section)
        for path, value in _secret_leaves(section, s[1:], (s[0],)):
            if value is not None and value != "" and not is_encrypted(f"{PROJECT}:{s[0]}", value):
                yield _plaintext_problem(path)


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def load_config(config: Mapping[str, Any], *, secret_keys: set[str], stack_file: str | None = None) -> StackConfig:
    """The engine's path: validate the stack config the engine hands the program (every key,
    namespaced, secrets decrypted; `secret_keys` the keys it marks secret). With the `stack_file`
    it came from, what only the file shows is checked too (a file Pulumi should not have read,
    plaintext where a credential should be `secure:`), so this refuses what the CLI refuses."""
    file_problems = read_stack_file(stack_file)[1] if stack_file else []
    return _checked_config(config, secret_keys, file_problems)


def _checked_config(config: Mapping[str, Any], secret_keys: set[str], file_problems: list[str]) -> StackConfig:
    problems = list(file_problems)
    problems += _namespace_problems(sorted(config))
    problems += plaintext_problems(config, lambda key, _: key in secret_keys)
    names = {f.alias or n for n, f in StackConfig.model_fields.items()}
    raw = {k.partition(":")[2]: v for k, v in config.items() if k.partition(":")[::2] in {(PROJECT, n) for n in names}}
    cfg, more = _value_problems(raw)
    problems = _unique(problems + more)
    if problems or cfg is None:
        raise ConfigError(problems)
    return cfg


# --- the stack file itself --------------------------------------------------------------------

MAX_FILE_BYTES = 1 << 20
MAX_EXPANDED = 100_000  # scalar and collection nodes after aliases are expanded (alias bombs)
MAX_DEPTH = 64
STACK_FILE_KEYS = ["config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"]
_TAG = "tag:yaml.org,2002:"
_CORE_SCALARS = {
    # YAML 1.2 core schema, as Pulumi (Go's yaml.v3) reads a stack file: `yes`, `on`, `010` and
    # `52:54:00:00:01:01` are a string, a string, ten and a string, not YAML 1.1's true, true, 8 and an int.
    f"{_TAG}bool": (r"true|True|TRUE|false|False|FALSE", "tTfF"),
    f"{_TAG}null": (r"~|null|Null|NULL|", "~nN"),
    f"{_TAG}int": (r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    f"{_TAG}float": (r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
                     "-+0123456789."),
    f"{_TAG}merge": (r"<<", "<"),
}
_ALLOWED_TAGS = {*_CORE_SCALARS, f"{_TAG}str", f"{_TAG}map", f"{_TAG}seq"}


class _StackFileLoader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]  # PyYAML ships no stubs here
    """PyYAML's safe loader with YAML 1.2 core scalars; nodes are checked before construction."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        return int(text, 0) if text.startswith(("0o", "0x")) else int(text, 10)


_StackFileLoader.yaml_implicit_resolvers = {}
for _tag, (_regexp, _first) in _CORE_SCALARS.items():
    _firsts = [*_first, ""] if _tag.endswith("null") else list(_first)  # '' : the empty scalar is null
    _StackFileLoader.add_implicit_resolver(_tag, re.compile(rf"^(?:{_regexp})$"), _firsts)
_StackFileLoader.add_constructor(f"{_TAG}int", _StackFileLoader.construct_yaml_int)


class _NodeCheck:
    """Walks the composed YAML graph once (aliases counted, not followed twice) before anything
    is constructed: tags, keys, depth and the expanded size."""

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}
        self.active: set[int] = set()

    def size(self, node: yaml.Node, depth: int = 0) -> int:
        if id(node) in self.sizes:
            return self.sizes[id(node)]
        line = node.start_mark.line + 1
        if id(node) in self.active or depth > MAX_DEPTH:
            raise ConfigError([f"line {line}: nested more than {MAX_DEPTH} levels deep (or an alias refers to itself)"])
        self._tag(node, line)
        self.active.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            self._keys(node)
            total += sum(self.size(k, depth + 1) + self.size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(self.size(v, depth + 1) for v in node.value)
        else:
            total += len(str(node.value)) // 100
        self.active.discard(id(node))
        if total > MAX_EXPANDED:
            raise ConfigError([f"line {line}: aliases expand this value beyond {MAX_EXPANDED} nodes (an alias bomb?)"])
        self.sizes[id(node)] = total
        return total

    @staticmethod
    def _tag(node: yaml.Node, line: int) -> None:
        if node.tag not in _ALLOWED_TAGS:
            raise ConfigError([f"line {line}: YAML tag {node.tag.replace(_TAG, '!!')!r} is not allowed in a "
                               "stack file (only strings, numbers, booleans, null, mappings and lists)"])
        if node.tag in _CORE_SCALARS and not re.fullmatch(_CORE_SCALARS[node.tag][0], str(node.value)):
            raise ConfigError([f"line {line}: {str(node.value)[:40]!r} is not a valid {node.tag.replace(_TAG, '!!')}"])

    @staticmethod
    def _keys(node: yaml.MappingNode) -> None:
        first: dict[str, int] = {}
        for key, _ in node.value:
            line = key.start_mark.line + 1
            if key.tag == f"{_TAG}merge":
                continue
            if not isinstance(key, yaml.ScalarNode) or key.tag != f"{_TAG}str":
                shown = f"key {str(key.value)[:40]!r}" if isinstance(key, yaml.ScalarNode) else f"a {key.id} as a key"
                raise ConfigError([f"line {line}: {shown} is not a string (quote it)"])
            if key.value in first:
                raise ConfigError([f"line {line}: duplicate key {key.value!r} (first at line {first[key.value]}); "
                                   "Pulumi refuses the file"])
            first[key.value] = line


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([f"line 1: the file has {len(data)} bytes; a stack file is at most {MAX_FILE_BYTES}"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError([f"line {line}: not UTF-8 (byte 0x{data[e.start]:02x}); save the file as UTF-8"]) from None
    text = text.removeprefix("\ufeff")
    for n, line_text in enumerate(text.splitlines(), 1):
        if "\t" in line_text:
            raise ConfigError([f"line {n}: a tab character; YAML indents with spaces and a value "
                               "never needs a tab"])
    return text


def _yaml_error(e: yaml.YAMLError, text: str) -> ConfigError:
    """A one-line error with the line number; never the offending text (it may be a secret)."""
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(p for p in (e.context, e.problem) if p)
        return ConfigError([f"line {line}: not valid YAML: {reason}"])
    if isinstance(e, yaml.reader.ReaderError):
        line = text[: e.position].count("\n") + 1
        return ConfigError([f"line {line}: a control character (#x{e.character:04x}) that YAML does not allow"])
    return ConfigError([f"line 1: not valid YAML: {type(e).__name__}"])


def parse_stack_file(data: bytes) -> Any:
    """The document of a stack file, or ConfigError with one `line N: reason` problem."""
    text = _decode(data)
    try:
        loader = _StackFileLoader(text)
    except yaml.YAMLError as e:
        raise _yaml_error(e, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _NodeCheck().size(node)
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        raise _yaml_error(e, text) from None
    except RecursionError:
        raise ConfigError([f"line 1: nested more than {MAX_DEPTH} levels deep"]) from None
    finally:
        loader.dispose()


def _key_line(text: str, key: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith((f"{key}:", f"'{key}':", f'"{key}":')):
            return n
    return 1


def _config_section(doc: Any, text: str) -> dict[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        line = next((n for n, t in enumerate(text.splitlines(), 1) if t.strip() and not t.startswith("#")), 1)
        raise ConfigError([f"line {line}: the top level is a {type(doc).__name__}; a stack file is a mapping "
                           "with a 'config' key"])
    unknown = [k for k in doc if k not in STACK_FILE_KEYS]
    if unknown:
        key = unknown[0]
        hint = _nearest(key, STACK_FILE_KEYS)
        raise ConfigError([f"line {_key_line(text, key)}: unknown top-level key {key!r}{hint}"])
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError([f"line {_key_line(text, 'config')}: 'config' is a {type(config).__name__}, not a mapping"])
    return config


def _placeholders(v: Any) -> Any:
    """Encrypted values stand in as a placeholder string (the validator cannot decrypt them)."""
    if _is_encrypted(v):
        return "(encrypted)"
    if isinstance(v, dict):
        return {k: _placeholders(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_placeholders(x) for x in v]
    return v


# Linux's cap on one environment string (MAX_ARG_STRLEN, its NUL included): Pulumi's Python host
# hands the program the whole stack config in one (`PULUMI_CONFIG`).
ENV_STRING_LIMIT = 128 * 1024


def _go_json(value: Any) -> str:
    """JSON as Go's `json.Marshal` writes it: compact, UTF-8, `<`, `>`, `&` escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def env_bytes(config: Mapping[str, Any]) -> int:
    """The bytes of the `PULUMI_CONFIG` environment string the program of `config` gets (namespaced
    keys; the engine sends each structured value as JSON, the host all of them as one JSON object).
    Measured on the file, an encrypted value counts its ciphertext: a little more."""
    values = {k: v if isinstance(v, str) else _go_json(v) for k, v in config.items()}
    return len(f"PULUMI_CONFIG={_go_json(values)}".encode()) + 1


def env_size_problems(size: int) -> Iterator[str]:
    """A config of `size` bytes (`env_bytes`) the program's environment cannot take."""
    if size > ENV_STRING_LIMIT:
        yield (f"config: {size:,} bytes reach the program in one environment variable (PULUMI_CONFIG), over "
               f"Linux's {ENV_STRING_LIMIT:,} for one: the engine could not start the program (argument list "
               "too long); split the region into stacks (one per set of pools)")


def read_stack_file(path: str) -> tuple[dict[str, Any], list[str], int]:
    """A stack file's config (namespaced keys, encrypted values as placeholders), the problems only
    the file shows (plaintext where a credential should be `secure:`), and the bytes the config
    takes in the program's environment (`env_bytes`, counted on the file as written)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError([f"cannot read the file: {e.strerror}"]) from None
    text = data.decode("utf-8", errors="replace")
    config = _config_section(parse_stack_file(data), text)
    problems = list(plaintext_problems(config, lambda _, value: _is_encrypted(value)))
    return {k: _placeholders(v) for k, v in config.items()}, problems, env_bytes(config)


def load_stack_file(path: str) -> StackConfig:
    """Validate a Pulumi.<stack>.yaml without the engine (encrypted values stand in as secrets)."""
    return check_stack_file(path)[0]


def check_stack_file(path: str) -> tuple[StackConfig, int]:
    """A valid Pulumi.<stack>.yaml's config and the bytes it takes in the program's environment;
    a file too large for that environment is refused with the rest.

    A section encrypted as a whole (`pulumi config set --secret privatecloud:ceph '{...}'`) is
    valid for the engine but unreadable here: it is reported as such, not as a wrong type."""
    config, problems, size = read_stack_file(path)
    problems += env_size_problems(size)
    sealed = [k for k, v in config.items() if v == "(encrypted)" and k.startswith(f"{PROJECT}:")]
    try:
        cfg = _checked_config(config, set(config), problems)
    except ConfigError as e:
        problems = [p for p in e.problems if not any(p.startswith(f"{k}=") for k in sealed)]
    else:
        if not sealed:
            return cfg, size
    problems += [
        f"{k}=(secret): encrypted as a whole, so only the engine can check it (pulumi preview); set its "
        f"values one by one to check it here: pulumi config set [--secret] --path '{k}.<key>' <value>"
        for k in sealed
    ]
    raise ConfigError(problems)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the stack config, keyed as in Pulumi.<stack>.yaml."""
    inner = StackConfig.model_json_schema(by_alias=True)
    props = {f"{PROJECT}:{k}": v for k, v in inner.pop("properties").items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Pulumi.<stack>.yaml of the privatecloud project",
        "type": "object",
        "properties": {
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
            "config": {
                "type": "object",
                "properties": props,
                "required": [f"{PROJECT}:{k}" for k in inner.pop("required", [])],
                "patternProperties": {"^pulumi:": {}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
        "$defs": inner.get("$defs", {}),
    }


def main(argv: list[str]) -> int:
    """`python -m components.config [--schema | Pulumi.<stack>.yaml ...]`: exit 0 when every file
    is valid, 1 when one is not (one line per problem, `<file>: <problem>`), 2 on bad usage."""
    if argv[:1] == ["--schema"]:
        print(json.dumps(json_schema(), indent=2))
        return 0
    if not argv or any(a.startswith("-") for a in argv):
        print("usage: python -m components.config [--schema | Pulumi.<stack>.yaml ...]")
        return 2
    status = 0
    for path in argv:
        try:
            cfg, size = check_stack_file(path)
        except ConfigError as e:
            for problem in e.problems:
                print(f"{path}: {problem}")
            status = 1
        else:
            print(f"{path}: ok (region {cfg.region.name}: {len(cfg.region.servers)} servers, "
                  f"{len(cfg.region.hypervisor_pools)} hypervisor pools; config {size / 1024:.0f} KiB of the "
                  f"{ENV_STRING_LIMIT // 1024} KiB the program's environment takes)")
    return status


def _cephfs_mode_problems(cfg: StackConfig) -> Iterator[str]:
    """A cephfs SR's chain runs over SSH with the deploy key: the client's key made on a storage
    server, its secret file written in each pool host's dom0. Only a formed cluster has that path."""
    for i, pool in enumerate(cfg.region.hypervisor_pools):
        if pool.sr.type == "cephfs" and cfg.ceph is not None and cfg.ceph_bootstrap is None:
            yield (f"{PROJECT}:region.hypervisorPools[{i}].sr.type='cephfs': needs cephBootstrap (the deploy key "
                   "reaches the storage servers, where the pool's CephX client is made, and the pool's hosts, "
                   "where its secret file is written); with an existing cluster (ceph) use an nfs or "
                   "lvmoiscsi SR")


def ceph_mode_problems(cfg: StackConfig) -> Iterator[str]:
    """Exactly one Ceph mode; a bootstrapped cluster needs SSH addresses and OSD devices."""
    if (cfg.ceph is None) == (cfg.ceph_bootstrap is None):
        yield (
            f"{PROJECT}:ceph={'(set)' if cfg.ceph else None}: set exactly one of ceph (an existing cluster) and "
            "cephBootstrap (the program forms one on the storage servers)"
        )
    yield from _cephfs_mode_problems(cfg)
    b = cfg.ceph_bootstrap
    if b is None:
        return
    names = [s.name for s in cfg.region.servers]
    storage = cfg.region.servers_by_role("storage")
    if not storage:
        yield f"{PROJECT}:cephBootstrap: the region has no storage server to form a cluster on"
    for s in storage:
        i = names.index(s.name)
        if not s.management_address:
            yield (f"{PROJECT}:region.servers[{i}].managementAddress=None: storage server {s.name!r} needs the "
                   "address it answers SSH on")
        if not b.lab and s.name not in b.osd_devices:
            yield f"{PROJECT}:cephBootstrap.osdDevices.{s.name}=(missing): the OSD device of storage server {s.name!r}"
    for name in sorted(set(b.osd_devices) - {s.name for s in storage}):
        yield f"{PROJECT}:cephBootstrap.osdDevices.{name}={b.osd_devices[name]!r}: no storage server has this name"
    try:
        ipaddress.ip_network(b.public_network)
    except ValueError as e:
        yield f"{PROJECT}:cephBootstrap.publicNetwork={b.public_network!r}: {e}"


# --- day 0 of the cloud zone (issue 14): public and storage ranges, settings, the management server ---

ExtraProvider = Literal["VpcVirtualRouter", "InternalLbVm"]  # VirtualRouter comes with the physical network
SETTING_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
CLOUDSTACK_ACCESS = (
    "missing: give cloudstack.apiKey and cloudstack.secretKey, or this section with the admin password "
    "(the program then registers its own keys)"
)


class IpRange(Model):
    gateway: ipaddress.IPv4Address
    netmask: ipaddress.IPv4Address
    start_ip: ipaddress.IPv4Address
    end_ip: ipaddress.IPv4Address

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.gateway}/{self.netmask}", strict=False)


class PublicIpRange(IpRange):
    """Public addresses of the zone (createVlanIpRange): system VMs and virtual routers take them."""

    vlan: str = Field(default="untagged", pattern=r"^(untagged|\d{1,4})$", description="a VLAN tag or untagged")


class StorageIpRange(IpRange):
    """The pod's addresses on the storage network, where storage traffic has a network of its own."""

    vlan: int | None = Field(default=None, ge=1, le=4094)


class ManagementServerSettings(Model):
    """`privatecloud:managementServer`: day 0 of a management server as its install left it."""

    admin_user: str = Field(default="admin", min_length=1)
    admin_password: SecretStr = Field(description="the install's admin password (CloudStack's initial one: password)")
    new_admin_password: SecretStr | None = Field(default=None, description="set the admin password to this")
    key_version: int = Field(default=1, ge=1, description="bump to rotate the program's API keys")


def _in_range(ip: ipaddress.IPv4Address, start: ipaddress.IPv4Address, end: ipaddress.IPv4Address) -> bool:
    return int(start) <= int(ip) <= int(end)


def _range_problems(path: str, r: IpRange, pod: Pod) -> Iterator[str]:
    if r.start_ip not in r.network or r.end_ip not in r.network:
        yield f"{path}: range {r.start_ip}-{r.end_ip} is outside its network {r.network}"
    if int(r.start_ip) > int(r.end_ip):
        yield f"{path}.startIp={r.start_ip}: after endIp={r.end_ip}"
    if _in_range(r.gateway, r.start_ip, r.end_ip):
        yield f"{path}.gateway={r.gateway}: inside the range {r.start_ip}-{r.end_ip}"
    if int(r.start_ip) <= int(pod.end_ip) and int(pod.start_ip) <= int(r.end_ip):
        yield f"{path}: range {r.start_ip}-{r.end_ip} overlaps the pod's reserved range {pod.start_ip}-{pod.end_ip}"


def zone_day0_problems(z: Zone) -> Iterator[str]:
    """Public and storage ranges against the pod range, the guest CIDR and each other; settings names."""
    for i, r in enumerate(z.public_ip_ranges):
        path = f"zone.publicIpRanges[{i}]"
        yield from _range_problems(path, r, z.pod)
        if r.network.overlaps(z.guest_cidr):
            yield f"{path}: network {r.network} overlaps the guest CIDR {z.guest_cidr}"
        for j, other in enumerate(z.public_ip_ranges[:i]):
            if int(r.start_ip) <= int(other.end_ip) and int(other.start_ip) <= int(r.end_ip):
                yield f"{path}: range {r.start_ip}-{r.end_ip} overlaps zone.publicIpRanges[{j}]"
    s = z.storage_ip_range
    if s is not None:
        yield from _range_problems("zone.storageIpRange", s, z.pod)
        if z.physical_network.traffic.storage is None:
            yield ("zone.storageIpRange: a storage network range needs storage traffic "
                   "(zone.physicalNetwork.traffic.storage)")
        for i, r in enumerate(z.public_ip_ranges):
            if int(s.start_ip) <= int(r.end_ip) and int(r.start_ip) <= int(s.end_ip):
                yield f"zone.storageIpRange: range {s.start_ip}-{s.end_ip} overlaps zone.publicIpRanges[{i}]"
    for name in z.settings:
        if not SETTING_NAME.match(name):
            yield f"zone.settings.{name}: not a CloudStack setting name (lower-case, dots, e.g. expunge.delay)"


# --- tenants (issue 15) -------------------------------------------------------------------------
# What the zone offers its tenants and who they are. Additive: the models above refer to
# `Tenants` from `Region.tenants` only.

GUEST_SERVICES = ("Dhcp", "Dns", "Firewall", "Gateway", "Lb", "PortForwarding", "SourceNat", "StaticNat",
                  "UserData", "Vpn")


def _unique_names(what: str, key: str, names: list[str]) -> None:
    """Names must be unique: the error names the second item by its path under the model."""
    for i, n in enumerate(names):
        if n in names[:i]:
            raise ValueError(f"{key}[{i}]={n!r}: two {what} are called {n!r} (also {key}[{names.index(n)}])")


class TenantLimits(Model):
    """Resource limits (-1: unlimited; an account's within its domain's)."""

    instances: int | None = Field(default=None, ge=-1)
    cpus: int | None = Field(default=None, ge=-1)
    memory_mb: int | None = Field(default=None, ge=-1)
    volumes: int | None = Field(default=None, ge=-1)
    public_ips: int | None = Field(default=None, ge=-1)
    networks: int | None = Field(default=None, ge=-1)
    primary_storage_gb: int | None = Field(default=None, ge=-1)

    def items(self) -> list[tuple[str, int]]:
        """(resource type, max) of the limits that are set."""
        return [(k, v) for k, v in self.model_dump().items() if v is not None]


class TenantUser(Model):
    """A user of an account."""

    username: str = Field(min_length=1)
    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")


class TenantRole(Model):
    """A custom role, starting from the permissions of a default role's type."""

    name: str = Field(min_length=1)
    type: Literal["User", "DomainAdmin", "ResourceAdmin", "Admin"] = "User"
    description: str | None = None


class TenantAccount(Model):
    name: Name
    type: Literal["user", "domain-admin", "admin"] = "user"
    role: str | None = Field(default=None, description="a role of tenants.roles (of the account type's kind)")
    owner: TenantUser = Field(description="the account's first user (CloudStack creates it with the account)")
    users: list[TenantUser] = Field(
        default_factory=list, description="further users, each with an API key pair (secret stack outputs)")
    limits: TenantLimits | None = None

    @model_validator(mode="after")
    def _users(self) -> TenantAccount:
        _unique_names("users of the account", "usernames", [self.owner.username] + [u.username for u in self.users])
        return self


class TenantDomain(Model):
    """A reseller: a domain under ROOT with its customers' accounts."""

    name: Name
    network_domain: str | None = None
    limits: TenantLimits | None = None
    accounts: list[TenantAccount] = Field(default_factory=list)

    @model_validator(mode="after")
    def _accounts(self) -> TenantDomain:
        _unique_names("accounts of the domain", "accounts", [a.name for a in self.accounts])
        _unique_names("users of the domain", "usernames",
                [u.username for a in self.accounts for u in [a.owner, *a.users]])
        return self


class ComputeOffering(Model):
    name: Name
    display_text: str | None = None
    cpus: int = Field(ge=1)
    cpu_speed_mhz: int = Field(default=1000, ge=1)
    memory_mb: int = Field(ge=32)
    storage_type: Literal["shared", "local"] = "shared"
    offer_ha: bool = False
    host_tags: str | None = None
    storage_tags: str | None = None


class DiskOffering(Model):
    name: Name
    display_text: str | None = None
    size_gb: int = Field(ge=1)
    storage_type: Literal["shared", "local"] = "shared"
    tags: str | None = None


def _services(value: list[str]) -> list[str]:
    unknown = [s for s in value if s not in GUEST_SERVICES]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a service the virtual router provides ({', '.join(GUEST_SERVICES)})")
    return value


class NetworkOffering(Model):
    """A custom isolated-network offering (CloudStack ships DefaultIsolatedNetworkOfferingWithSourceNatService)."""

    name: Name
    display_text: str | None = None
    services: Annotated[list[str], AfterValidator(_services)] = Field(min_length=1)
    egress_default_allow: bool = False


class TenantImage(Model):
    """A template (VHD for XenServer) or an ISO, registered from a URL into the zone."""

    name: Name
    display_text: str | None = None
    url: str = Field(pattern=r"^https?://")
    os_type: str = Field(min_length=1, description="listOsTypes description, e.g. 'Debian GNU/Linux 12 (64-bit)'")
    public: bool = True
    password_enabled: bool = False


ROLE_TYPE = {"user": "User", "domain-admin": "DomainAdmin", "admin": "Admin"}


class Tenants(Model):
    roles: list[TenantRole] = Field(default_factory=list)
    domains: list[TenantDomain] = Field(default_factory=list)
    compute_offerings: list[ComputeOffering] = Field(default_factory=list)
    disk_offerings: list[DiskOffering] = Field(default_factory=list)
    network_offerings: list[NetworkOffering] = Field(default_factory=list)
    templates: list[TenantImage] = Field(default_factory=list)
    isos: list[TenantImage] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> Tenants:
        for what, key, items in (
            ("domains", "domains", self.domains), ("compute offerings", "computeOfferings", self.compute_offerings),
            ("disk offerings", "diskOfferings", self.disk_offerings),
            ("network offerings", "networkOfferings", self.network_offerings),
            ("templates", "templates", self.templates), ("ISOs", "isos", self.isos), ("roles", "roles", self.roles),
        ):
            _unique_names(what, key, [i.name for i in items])
        roles = {r.name: r for r in self.roles}
        for d, domain in enumerate(self.domains):
            for a, account in enumerate(domain.accounts):
                if account.role is None:
                    continue
                where = f"domains[{d}].accounts[{a}].role={account.role!r}"
                if account.role not in roles:
                    raise ValueError(f"{where}: not one of tenants.roles ({', '.join(roles) or 'none declared'})")
                if roles[account.role].type != ROLE_TYPE[account.type]:
                    raise ValueError(f"{where}: a {roles[account.role].type} role for a {account.type} account")
        return self


for _model in (Zone, Region, StackConfig):
    _model.model_rebuild()

# Read once every model is complete: before, StackConfig's managementServer is a forward reference
# whose secrets (adminPassword, newAdminPassword) the layout cannot see.
SECRET_PATHS, KNOWN_PATHS = _secret_layout()


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))

