"""The objects a management server stores, each serialised for the wire by `to_api()`.

Field names and shapes follow the 4.18 response classes (ZoneResponse, PodResponse, HostResponse,
StoragePoolResponse, ImageStoreResponse, ...); every field `to_api()` writes is checked against
the listApis response description by the conformance tests. Gson leaves null fields out.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lab.cloudstack.jobs import now

T = TypeVar("T", bound="Resource")

VERSION = "4.18.0.0"
ALLOCATION_STATES = ("Enabled", "Disabled")
TRAFFIC_TYPES = ("Public", "Guest", "Storage", "Management", "Control", "Vpn", "None")
# NetworkServiceImpl.createPhysicalNetwork on 4.18, Advanced zone: the providers it adds itself.
DEFAULT_PROVIDERS = (
    ("VirtualRouter", "Disabled"),
    ("SecurityGroupProvider", "Disabled"),
    ("VpcVirtualRouter", "Disabled"),
    ("BaremetalPxeProvider", "Enabled"),
    ("InternalLbVm", "Disabled"),
    ("Tungsten", "Disabled"),
    ("ConfigDrive", "Enabled"),
)
VR_SERVICES = ["Vpn", "Dhcp", "Dns", "Firewall", "Lb", "UserData", "SourceNat", "StaticNat", "PortForwarding",
               "Gateway"]
PROVIDER_SERVICES: dict[str, list[str]] = {
    "VirtualRouter": VR_SERVICES,
    "VpcVirtualRouter": [*VR_SERVICES, "NetworkACL"],
    "SecurityGroupProvider": ["SecurityGroup"],
    "InternalLbVm": ["Lb"],
    "BaremetalPxeProvider": [],
    "Tungsten": [],
    "ConfigDrive": ["UserData"],
}
HYPERVISORS = ("XenServer", "KVM", "VMware", "Hyperv", "BareMetal", "Simulator", "Ovm", "Ovm3", "LXC")
MAINTENANCE_FROM = ("Enabled", "Disabled", "ErrorInMaintenance", "ErrorInPrepareForMaintenance")
IN_MAINTENANCE = ("Maintenance", "PrepareForMaintenance", "ErrorInMaintenance", "ErrorInPrepareForMaintenance")


def valid_ip4(text: str | None) -> bool:
    try:
        ipaddress.IPv4Address(text or "")
    except ValueError:
        return False
    return True


def valid_ip6(text: str | None) -> bool:
    try:
        ipaddress.IPv6Address(text or "")
    except ValueError:
        return False
    return True


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    """Gson leaves out null fields."""
    return {k: v for k, v in d.items() if v is not None}


@dataclass(eq=False)
class Resource:
    """Common to every stored object: uuid, internal id, name."""

    id: str
    dbid: int
    name: str

    def to_api(self) -> dict[str, Any]:
        raise NotImplementedError


# ------------------------------------------------------------------------------------- objects


@dataclass(eq=False)
class Zone(Resource):
    networktype: str = "Advanced"
    dns1: str | None = None
    dns2: str | None = None
    internaldns1: str | None = None
    internaldns2: str | None = None
    ip6dns1: str | None = None
    ip6dns2: str | None = None
    guestcidraddress: str | None = None
    domain: str | None = None
    allocationstate: str = "Disabled"
    securitygroupsenabled: bool = False
    localstorageenabled: bool = False
    dhcpprovider: str = "VirtualRouter"
    zonetoken: str = field(default_factory=lambda: str(uuid.uuid4()))
    details: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        return drop_none({
            "id": self.id, "name": self.name,
            "dns1": self.dns1, "dns2": self.dns2, "internaldns1": self.internaldns1,
            "internaldns2": self.internaldns2, "ip6dns1": self.ip6dns1, "ip6dns2": self.ip6dns2,
            "guestcidraddress": self.guestcidraddress, "domain": self.domain, "networktype": self.networktype,
            "securitygroupsenabled": self.securitygroupsenabled, "allocationstate": self.allocationstate,
            "zonetoken": self.zonetoken, "dhcpprovider": self.dhcpprovider,
            "localstorageenabled": self.localstorageenabled, "tags": [],
            "resourcedetails": dict(self.details) if self.details else None,
            "hasannotations": False, "allowuserspecifyvrmtu": False,
            "routerprivateinterfacemaxmtu": 1500, "routerpublicinterfacemaxmtu": 1500,
        })


@dataclass(eq=False)
class PhysicalNetwork(Resource):
    zone: Zone | None = None
    vlan: str | None = None
    isolationmethods: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    networkspeed: str | None = None  # PhysicalNetworkVO.speed: null unless given
    broadcastdomainrange: str = "ZONE"
    state: str = "Disabled"

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None
        return drop_none({
            "id": self.id, "name": self.name, "zoneid": self.zone.id, "zonename": self.zone.name,
            "vlan": self.vlan, "isolationmethods": ",".join(self.isolationmethods) if self.isolationmethods else None,
            "tags": ",".join(self.tags) if self.tags else None, "networkspeed": self.networkspeed,
            "broadcastdomainrange": self.broadcastdomainrange, "state": self.state,
        })


@dataclass(eq=False)
class TrafficType(Resource):
    network: PhysicalNetwork | None = None
    xennetworklabel: str | None = None
    kvmnetworklabel: str | None = None
    vmwarenetworklabel: str | None = None
    hypervnetworklabel: str | None = None
    ovm3networklabel: str | None = None
    vlan: str | None = None
    isolationmethod: str | None = None

    def to_api(self) -> dict[str, Any]:
        assert self.network is not None
        return drop_none({
            "id": self.id, "traffictype": self.name, "physicalnetworkid": self.network.id,
            "xennetworklabel": self.xennetworklabel, "kvmnetworklabel": self.kvmnetworklabel,
            "vmwarenetworklabel": self.vmwarenetworklabel, "hypervnetworklabel": self.hypervnetworklabel,
            "ovm3networklabel": self.ovm3networklabel,
        })


@dataclass(eq=False)
class ServiceProvider(Resource):
    network: PhysicalNetwork | None = None
    state: str = "Disabled"
    servicelist: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        assert self.network is not None
        return {
            "id": self.id, "name": self.name, "physicalnetworkid": self.network.id,
            "destinationphysicalnetworkid": "0", "state": self.state, "servicelist": list(self.servicelist),
            "canenableindividualservice": self.name in ("VirtualRouter", "VpcVirtualRouter", "ConfigDrive"),
        }


@dataclass(eq=False)
class RouterElement(Resource):
    """VirtualRouterProviderVO: one per VirtualRouter / VpcVirtualRouter provider."""

    nsp: ServiceProvider | None = None
    enabled: bool = False

    def to_api(self) -> dict[str, Any]:
        assert self.nsp is not None
        return {"id": self.id, "nspid": self.nsp.id, "enabled": self.enabled, "account": "system",
                "domainid": ROOT_DOMAIN_ID, "domain": "ROOT"}


ROOT_DOMAIN_ID = "f3c3a6e2-0000-4000-8000-000000000003"


@dataclass(eq=False)
class Pod(Resource):
    zone: Zone | None = None
    gateway: str = ""
    netmask: str = ""
    ranges: list[tuple[str, str]] = field(default_factory=list)
    allocationstate: str = "Enabled"

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None
        return {
            "id": self.id, "name": self.name, "zoneid": self.zone.id, "zonename": self.zone.name,
            "gateway": self.gateway, "netmask": self.netmask,
            "startip": [r[0] for r in self.ranges], "endip": [r[1] for r in self.ranges],
            "forsystemvms": ["0" for _ in self.ranges], "vlanid": ["vlan://untagged" for _ in self.ranges],
            "ipranges": [{"startip": s, "endip": e, "forsystemvms": "0", "vlanid": "vlan://untagged"}
                         for s, e in self.ranges],
            "allocationstate": self.allocationstate, "hasannotations": False,
        }


@dataclass(eq=False)
class Cluster(Resource):
    pod: Pod | None = None
    hypervisor: str = "XenServer"
    clustertype: str = "CloudManaged"
    allocationstate: str = "Enabled"
    managedstate: str = "Managed"
    guid: str | None = None  # the XAPI pool uuid once a host is discovered
    xapi: tuple[str, str, str] | None = None  # master url, username, password (from discovery)

    def to_api(self) -> dict[str, Any]:
        assert self.pod is not None and self.pod.zone is not None
        return {
            "id": self.id, "name": self.name, "podid": self.pod.id, "podname": self.pod.name,
            "zoneid": self.pod.zone.id, "zonename": self.pod.zone.name, "hypervisortype": self.hypervisor,
            "clustertype": self.clustertype, "allocationstate": self.allocationstate,
            "managedstate": self.managedstate, "cpuovercommitratio": "1.0", "memoryovercommitratio": "1.0",
            "resourcedetails": {"cpuOvercommitRatio": "1.0", "memoryOvercommitRatio": "1.0"},
            "hasannotations": False,
        }


@dataclass(eq=False)
class Host(Resource):
    cluster: Cluster | None = None
    ipaddress: str = ""
    guid: str = ""  # the XAPI host uuid
    hypervisorversion: str = ""
    cpunumber: int = 0
    cpuspeed: int = 0
    memorytotal: int = 0
    state: str = "Up"
    resourcestate: str = "Enabled"
    hosttags: list[str] = field(default_factory=list)
    annotation: str | None = None
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        c = self.cluster
        assert c is not None and c.pod is not None and c.pod.zone is not None
        return drop_none({
            "id": self.id, "name": self.name, "type": "Routing", "state": self.state,
            "resourcestate": self.resourcestate, "ipaddress": self.ipaddress, "hypervisor": c.hypervisor,
            "hypervisorversion": self.hypervisorversion, "version": VERSION,
            "zoneid": c.pod.zone.id, "zonename": c.pod.zone.name, "podid": c.pod.id, "podname": c.pod.name,
            "clusterid": c.id, "clustername": c.name, "clustertype": c.clustertype,
            "cpunumber": self.cpunumber, "cpuspeed": self.cpuspeed, "memorytotal": self.memorytotal,
            "hosttags": ",".join(self.hosttags) if self.hosttags else None, "annotation": self.annotation,
            "created": self.created, "islocalstorageactive": False, "hahost": False, "disconnected": None,
            "lastpinged": "1970-01-01T00:00:00+0000", "hasannotations": False,
            "outofbandmanagement": {"enabled": False, "powerstate": "Disabled"},
        })


@dataclass(eq=False)
class StoragePool(Resource):
    zone: Zone | None = None
    pod: Pod | None = None
    cluster: Cluster | None = None
    scope: str = "CLUSTER"
    type: str = "NetworkFilesystem"
    ipaddress: str = ""
    path: str = ""
    hypervisor: str | None = None
    provider: str = "DefaultPrimary"
    tags: list[str] = field(default_factory=list)
    capacitybytes: int = 0
    capacityiops: int | None = None
    state: str = "Up"
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None
        return drop_none({
            "id": self.id, "name": self.name, "zoneid": self.zone.id, "zonename": self.zone.name,
            "podid": self.pod.id if self.pod else None, "podname": self.pod.name if self.pod else None,
            "clusterid": self.cluster.id if self.cluster else None,
            "clustername": self.cluster.name if self.cluster else None,
            "scope": self.scope, "type": self.type, "ipaddress": self.ipaddress, "path": self.path,
            "hypervisor": self.hypervisor, "provider": self.provider,
            "tags": ",".join(self.tags) if self.tags else None, "state": self.state, "created": self.created,
            "disksizetotal": self.capacitybytes, "disksizeallocated": 0, "disksizeused": 0,
            "capacityiops": self.capacityiops, "overprovisionfactor": "2.0", "hasannotations": False,
        })


@dataclass(eq=False)
class ImageStore(Resource):
    """An image store (role Image) or a secondary staging store (role ImageCache)."""

    role: str = "Image"
    zone: Zone | None = None
    url: str = ""
    protocol: str = "nfs"
    providername: str = "NFS"
    scope: str = "ZONE"
    readonly: bool = False
    details: dict[str, str] = field(default_factory=dict)  # S3 keys: never serialised

    def to_api(self) -> dict[str, Any]:
        return drop_none({
            "id": self.id, "name": self.name or None, "url": self.url or None, "protocol": self.protocol,
            "providername": self.providername, "scope": self.scope,
            "zoneid": self.zone.id if self.zone else None, "zonename": self.zone.name if self.zone else None,
            "readonly": self.readonly, "hasannotations": False,
        })


