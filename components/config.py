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
    tenants: Tenants | None = Field(default=None, description="domains, accounts, offerings, templates, limits")

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


class StackConfig(Model):
    """Everything a region stack's config holds (the JSON Schema editors use is generated from it)."""

    region: Region
    ironic: IronicSettings
    ceph: CephSettings
    cloudstack: CloudStackSettings
    credentials: Credentials
    xcpng: XcpngSettings = Field(default_factory=XcpngSettings)


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


# --- tenants (issue 15) -------------------------------------------------------------------------
# What the zone offers its tenants and who they are. Additive: the models above refer to
# `Tenants` from `Region.tenants` only.

GUEST_SERVICES = ("Dhcp", "Dns", "Firewall", "Gateway", "Lb", "PortForwarding", "SourceNat", "StaticNat",
                  "UserData", "Vpn")


def _unique(what: str, key: str, names: list[str]) -> None:
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
        _unique("users of the account", "usernames", [self.owner.username] + [u.username for u in self.users])
        return self


class TenantDomain(Model):
    """A reseller: a domain under ROOT with its customers' accounts."""

    name: Name
    network_domain: str | None = None
    limits: TenantLimits | None = None
    accounts: list[TenantAccount] = Field(default_factory=list)

    @model_validator(mode="after")
    def _accounts(self) -> TenantDomain:
        _unique("accounts of the domain", "accounts", [a.name for a in self.accounts])
        _unique("users of the domain", "usernames",
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
            _unique(what, key, [i.name for i in items])
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


Region.model_rebuild()
StackConfig.model_rebuild()


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
