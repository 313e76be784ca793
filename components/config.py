"""The stack configuration of a region: one strict pydantic model, validated once in `__main__.py`.

Stack config follows Pulumi's conventions: everything lives in the project's namespace
(`privatecloud:`), keys are camelCase, and credentials are set with `pulumi config set --secret`
(nested ones with `--path`, e.g. `pulumi config set --secret --path privatecloud:ceph.dashboardPassword`).

| key | what |
|---|---|
| `privatecloud:region` | the region's design: servers by role, storage, hypervisor pools, the zone |
| `privatecloud:ironic` | the Ironic API endpoint |
| `privatecloud:ceph` | dashboard and RGW Admin Ops endpoints and credentials |
| `privatecloud:cloudstack` | management-server API endpoint, API key and secret key |
| `privatecloud:managementServer` | day 0: the admin password; the program registers its own API keys |
| `privatecloud:xcpng` | XAPI transport (https by default) and deadlines |
| `privatecloud:credentials` | secrets the program hands to resources: BMC and XCP-ng root passwords |

Invariants that span layers are checked here, before any API call, and every error names the
config path, the value and the reason (`python -m components.config Pulumi.<stack>.yaml` checks a
stack file without the engine; `python -m components.config --schema` prints the JSON Schema).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

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

from providers.ceph import settings as ceph_settings
from providers.cloudstack import settings as cloudstack_settings
from providers.ironic import settings as ironic_settings
from providers.xcpng import settings as xcpng_settings

PROJECT = "privatecloud"

# CloudStack's hypervisor capabilities cap the hosts of a XenServer cluster (one XCP-ng pool);
# 16 is the value CloudStack ships for the XenServer versions XCP-ng reports.
XENSERVER_MAX_HOSTS_PER_CLUSTER = 16

# The networks a freshly installed XCP-ng host has, one per physical NIC.
BUILTIN_NETWORK_LABEL = "Pool-wide network associated with {device}"

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class ConfigError(Exception):
    """The stack config is invalid: every line names a config path, the value and the reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack config:\n  " + "\n  ".join(problems))


def _name(value: str) -> str:
    if not NAME.match(value):
        raise ValueError("must be lower-case letters, digits and '-', at most 63 characters")
    return value


Name = Annotated[str, AfterValidator(_name)]


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


class Bmc(Model):
    driver: Literal["fake-hardware", "ipmi", "redfish"] = "ipmi"
    address: str = Field(description="BMC address (ipmi_address / redfish_address)")
    username: str = "admin"


class Server(Model):
    name: Name
    role: Role = Field(description="exactly one role per server")
    bmc: Bmc
    macs: list[str] = Field(min_length=1, description="MAC addresses of the server's NICs (Ironic ports)")
    cpus: int = Field(default=16, gt=0)
    memory_mb: int = Field(default=65536, gt=0)
    local_gb: int = Field(default=480, gt=0)
    management_address: str | None = Field(
        default=None,
        description="compute: the XAPI address the host answers on once XCP-ng is installed",
    )


class CephPool(Model):
    name: Name
    size: int = Field(default=3, ge=1, le=10, description="replicas")
    min_size: int | None = Field(default=None, ge=1, le=10)
    pg_num: int | None = Field(default=None, ge=1, le=65536, description="unset: autoscale")
    application: Literal["rbd", "rgw", "cephfs"] = "rbd"


class S3Settings(Model):
    user: Name = Field(default="cloudstack-secondary", description="RGW user CloudStack writes with")
    bucket: str = Field(default="cloudstack-secondary", description="bucket for secondary storage")


class Storage(Model):
    pools: list[CephPool] = Field(default_factory=list)
    s3: S3Settings = Field(default_factory=S3Settings)
    allow_pool_delete: bool = Field(
        default=False, description="pools hold data: `pulumi destroy` deletes them only when this is true"
    )


class Vlan(Model):
    name: str = Field(description="network name-label; CloudStack traffic labels refer to it")
    device: str = Field(description="PIF device carrying the VLAN, e.g. eth1")
    tag: int = Field(ge=1, le=4094)
    mtu: int = Field(default=1500, ge=576, le=9216)


class Bond(Model):
    name: str = Field(description="network name-label of the bond")
    devices: list[str] = Field(min_length=2)
    mode: Literal["balance-slb", "active-backup", "lacp"] = "active-backup"
    mtu: int = Field(default=1500, ge=576, le=9216)


class SharedSr(Model):
    name: str = Field(description="SR name-label; PreSetup primary storage names it")
    type: Literal["nfs", "lvmoiscsi"]
    device_config: dict[str, str] = Field(description="nfs: server, serverpath; lvmoiscsi: target, targetIQN, SCSIid")


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

    management: str
    guest: str
    public: str = Field(description="an Advanced zone without security groups is enabled only with Public traffic")
    storage: str | None = None


class PhysicalNetwork(Model):
    name: str = "physnet-1"
    isolation: Literal["VLAN", "VXLAN"] = "VLAN"
    vlan_range: str = Field(default="100-199", pattern=r"^\d+-\d+$")
    traffic: TrafficLabels


class Pod(Model):
    name: str = "pod-1"
    gateway: ipaddress.IPv4Address
    netmask: ipaddress.IPv4Address
    start_ip: ipaddress.IPv4Address
    end_ip: ipaddress.IPv4Address

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.gateway}/{self.netmask}", strict=False)


class PrimaryStorage(Model):
    type: Literal["presetup", "nfs", "iscsi", "rbd"] = Field(
        description="presetup: the pool's shared SR, named by sr.name"
    )
    url: str | None = Field(default=None, description="nfs://server/path or iscsi://target/iqn/lun")


class SecondaryStorage(Model):
    type: Literal["s3", "nfs"] = "s3"
    nfs_url: str | None = Field(default=None, description="nfs://server/path when type is nfs")


class Zone(Model):
    name: str
    dns: list[ipaddress.IPv4Address] = Field(min_length=1)
    internal_dns: list[ipaddress.IPv4Address] = Field(min_length=1)
    guest_cidr: ipaddress.IPv4Network
    physical_network: PhysicalNetwork
    pod: Pod
    primary_storage: PrimaryStorage
    secondary_storage: SecondaryStorage = Field(default_factory=SecondaryStorage)
    staging_store_url: str | None = Field(default=None, description="nfs:// URL of the staging store S3 needs")
    # day 0 (models at the end of this module)
    public_ip_ranges: list[PublicIpRange] = Field(default_factory=list, description="system VMs need one")
    storage_ip_range: StorageIpRange | None = None
    network_service_providers: list[ExtraProvider] = Field(default_factory=list)
    settings: dict[str, str] = Field(default_factory=dict, description="management-server settings")
    readiness_timeout: float = Field(default=900.0, gt=0, description="seconds to wait for the system VMs")


class Images(Model):
    hypervisor_iso: str = Field(description="XCP-ng installer ISO (compute servers boot it with an answer file)")
    hypervisor_kernel_params: str = Field(
        default="", description="kernel parameters for the installer, e.g. answerfile=http://.../answer.xml"
    )
    storage_image: str = Field(description="disk image for storage servers")
    controller_image: str = Field(description="disk image for the controller (CloudStack management)")


class DeployTimeouts(Model):
    """Ironic deadlines per phase in seconds (unset: the provider's defaults for real hardware)."""

    manage: float | None = Field(default=None, gt=0)
    clean: float | None = Field(default=None, gt=0)
    deploy: float | None = Field(default=None, gt=0)
    undeploy: float | None = Field(default=None, gt=0)
    poll_interval: float | None = Field(default=None, gt=0)


class Region(Model):
    name: Name
    servers: list[Server] = Field(min_length=1)
    images: Images
    storage: Storage = Field(default_factory=Storage)
    hypervisor_pools: list[HypervisorPool] = Field(min_length=1)
    zone: Zone
    max_hosts_per_cluster: int = Field(default=XENSERVER_MAX_HOSTS_PER_CLUSTER, ge=1)
    deploy_timeouts: DeployTimeouts = Field(default_factory=lambda: DeployTimeouts())

    def servers_by_role(self, role: Role) -> list[Server]:
        return [s for s in self.servers if s.role == role]

    def server(self, name: str) -> Server:
        return next(s for s in self.servers if s.name == name)

    @model_validator(mode="after")
    def _invariants(self, info: ValidationInfo) -> Region:
        problems = list(region_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self


def region_problems(r: Region) -> Iterator[str]:
    """Cross-layer invariants, each as `<path>=<value>: <reason>` (paths as in the stack file)."""
    names = [s.name for s in r.servers]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield f"servers[{names.index(name)}].name={name!r}: two servers have this name"
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
    for s in r.servers_by_role("compute"):
        if s.name not in placed:
            yield f"servers[{names.index(s.name)}]={s.name!r}: compute server in no hypervisor pool"

    storage_hosts = len(r.servers_by_role("storage"))
    for i, p in enumerate(r.storage.pools):
        if p.size > storage_hosts:
            yield (
                f"storage.pools[{i}].size={p.size}: more replicas than storage servers ({storage_hosts}); "
                "Ceph could never place them"
            )
        if p.min_size is not None and p.min_size > p.size:
            yield f"storage.pools[{i}].minSize={p.min_size}: above size={p.size}"

    z = r.zone
    if z.primary_storage.type == "rbd":
        yield (
            "zone.primaryStorage.type='rbd': CloudStack supports RBD primary storage on KVM only; an "
            "XCP-ng (XenServer) cluster takes NFS, iSCSI or PreSetup, so present Ceph to the pool as an "
            "SR (NFS or iSCSI gateway) and register it as presetup"
        )
    if z.primary_storage.type in ("nfs", "iscsi") and not z.primary_storage.url:
        yield f"zone.primaryStorage.url=None: required for type {z.primary_storage.type!r}"
    if z.secondary_storage.type == "s3" and not z.staging_store_url:
        yield (
            "zone.stagingStoreUrl=None: S3 secondary storage needs an NFS secondary staging store in the "
            "zone (CloudStack: \"Can't find staging storage in zone\")"
        )
    if z.secondary_storage.type == "nfs" and not z.secondary_storage.nfs_url:
        yield "zone.secondaryStorage.nfsUrl=None: required for type 'nfs'"

    for field_name, label in z.physical_network.traffic.model_dump(exclude_none=True).items():
        for i, pool in enumerate(r.hypervisor_pools):
            if label not in pool.network_labels:
                yield (
                    f"zone.physicalNetwork.traffic.{to_camel(field_name)}={label!r}: pool "
                    f"hypervisorPools[{i}]={pool.name!r} has no network with this name-label "
                    f"(it has {sorted(pool.network_labels)})"
                )

    pod = z.pod
    if not (pod.start_ip in pod.network and pod.end_ip in pod.network):
        yield f"zone.pod: reserved range {pod.start_ip}-{pod.end_ip} is outside the pod network {pod.network}"
    if int(pod.start_ip) > int(pod.end_ip):
        yield f"zone.pod.startIp={pod.start_ip}: after endIp={pod.end_ip}"
    if pod.start_ip <= pod.gateway <= pod.end_ip:
        yield f"zone.pod.gateway={pod.gateway}: inside the reserved range {pod.start_ip}-{pod.end_ip}"
    if z.guest_cidr.overlaps(pod.network):
        yield f"zone.guestCidr={z.guest_cidr}: overlaps the pod network {pod.network}"
    yield from zone_day0_problems(z)


class StackConfig(Model):
    """Everything a region stack's config holds (the JSON Schema editors use is generated from it)."""

    region: Region
    ironic: IronicSettings
    ceph: CephSettings
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


def _format(e: ValidationError) -> Iterator[str]:
    for err in e.errors():
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "value_error" and path == "region":
            # The cross-layer invariants: one line each, already `<path>=<value>: <reason>`.
            yield from (f"region.{line}" for line in msg.split("\n"))
            continue
        shown = "(missing)" if err["type"] == "missing" else _show(path, err.get("input"))
        yield f"{path}={shown}: {msg}"


def _show(path: str, value: Any) -> str:
    if any(s in path.lower() for s in ("password", "secret")):
        return "(secret)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load(raw: dict[str, Any]) -> StackConfig:
    """Validate raw stack config (keys without the project namespace; values as Pulumi gives them:
    objects as JSON strings, secrets decrypted)."""
    data = {}
    for key, value in raw.items():
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        data[key] = value
    try:
        return StackConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(list(_format(e))) from None


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
            "config": {
                "type": "object",
                "properties": props,
                "required": [f"{PROJECT}:{k}" for k in inner.pop("required", [])],
                "additionalProperties": True,
            },
        },
        "$defs": inner.get("$defs", {}),
    }


def load_stack_file(path: str) -> StackConfig:
    """Validate a Pulumi.<stack>.yaml without the engine (encrypted values stand in as secrets)."""
    import yaml  # PyYAML arrives with the pulumi SDK

    with open(path) as f:
        doc = yaml.safe_load(f) or {}

    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            if set(v) == {"secure"}:
                return "(encrypted)"
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    raw = {}
    for key, value in (doc.get("config") or {}).items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            raw[name] = plain(value)
    return load(raw)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--schema"]:
        print(json.dumps(json_schema(), indent=2))
        return 0
    status = 0
    for path in argv:
        try:
            cfg = load_stack_file(path)
        except ConfigError as e:
            print(f"{path}: {e}")
            status = 1
        else:
            print(f"{path}: ok (region {cfg.region.name}: {len(cfg.region.servers)} servers, "
                  f"{len(cfg.region.hypervisor_pools)} hypervisor pools)")
    return status



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


for _model in (Zone, Region, StackConfig):
    _model.model_rebuild()


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
