"""The management server's state and rules: what exists, what refers to what, what is refused.

One `Backend` per emulator holds every object (in insertion order) with its uuid and the internal
numeric id that the real server prints in some error texts. Methods raise `CloudStackError`
carrying the exception the real service layer raises; the texts are the ones in apache/cloudstack
(ConfigurationManagerImpl, NetworkServiceImpl, ResourceManagerImpl, StorageManagerImpl,
CloudStackPrimaryDataStoreLifeCycleImpl) wherever they were read, and say so where paraphrased.

Relations modelled (each with the real server's refusal):
- a zone with hosts, pods, physical networks or zone-scoped image stores cannot be deleted;
  enabling an Advanced zone needs physical networks carrying Management and (without security
  groups) Public traffic; a Storage traffic type is then added like Management's, as the server does;
- a physical network comes with the default providers of 4.18 (VirtualRouter with a disabled
  virtual router element, VpcVirtualRouter, InternalLbVm, SecurityGroupProvider, ...); the
  VirtualRouter provider can be Enabled only once its element is enabled;
- a pod with clusters cannot be deleted, a cluster with hosts or storage pools cannot either;
- `addCluster` of clustertype CloudManaged (what XenServer uses) creates an EMPTY cluster, as
  ResourceManagerImpl.discoverCluster does; the pool's hosts arrive with `addHost` on any host
  of the pool (XcpServerDiscoverer logs in over XAPI, follows HOST_IS_SLAVE to the master and adds
  every host of the pool). With clustertype ExternalManaged, addCluster runs the discoverer on
  its url. Either way the emulator really connects to the XAPI endpoint with the XenAPI library;
- a host is deleted only in Maintenance (or forced); maintenance goes Enabled ->
  PrepareForMaintenance -> Maintenance (the last step on a later read, as the server's
  background check does), and only one host per cluster may be preparing at a time;
- primary storage: NFS, iSCSI (LUN in the URL), PreSetup (the SR, named by the URL path, must
  exist on the cluster's XAPI pool; the pool's uuid IS that name, as in CloudStack); RBD on a
  XenServer cluster fails on the host as CloudStack does ("The pool type: RBD is not supported");
  cluster scope needs an Up host in the cluster; a pool is deleted only in Maintenance;
- image stores of different providers cannot coexist; S3 is region-wide (no zoneid), NFS is
  zone-wide; an S3 store needs an NFS staging store in each zone (reported by `problems()`).
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.jobs import Job, Jobs, now
from lab.cloudstack.xapi_discovery import PoolInfo, XapiDiscoveryError, discover_pool

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


def _valid_ip4(text: str | None) -> bool:
    try:
        ipaddress.IPv4Address(text or "")
    except ValueError:
        return False
    return True


def _valid_ip6(text: str | None) -> bool:
    try:
        ipaddress.IPv6Address(text or "")
    except ValueError:
        return False
    return True


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    """Gson leaves out null fields."""
    return {k: v for k, v in d.items() if v is not None}


@dataclass(eq=False)
class Resource:
    """Common to every stored object: uuid, internal id, name."""

    id: str
    dbid: int
    name: str

    def to_api(self, b: Backend) -> dict[str, Any]:
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

    def to_api(self, b: Backend) -> dict[str, Any]:
        return _drop_none({
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

    def to_api(self, b: Backend) -> dict[str, Any]:
        assert self.zone is not None
        return _drop_none({
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

    def to_api(self, b: Backend) -> dict[str, Any]:
        assert self.network is not None
        return _drop_none({
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

    def to_api(self, b: Backend) -> dict[str, Any]:
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

    def to_api(self, b: Backend) -> dict[str, Any]:
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

    def to_api(self, b: Backend) -> dict[str, Any]:
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

    def to_api(self, b: Backend) -> dict[str, Any]:
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

    def to_api(self, b: Backend) -> dict[str, Any]:
        c = self.cluster
        assert c is not None and c.pod is not None and c.pod.zone is not None
        return _drop_none({
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

    def to_api(self, b: Backend) -> dict[str, Any]:
        assert self.zone is not None
        return _drop_none({
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

    def to_api(self, b: Backend) -> dict[str, Any]:
        return _drop_none({
            "id": self.id, "name": self.name, "url": self.url, "protocol": self.protocol,
            "providername": self.providername, "scope": self.scope,
            "zoneid": self.zone.id if self.zone else None, "zonename": self.zone.name if self.zone else None,
            "readonly": self.readonly, "hasannotations": False,
        })


# --------------------------------------------------------------------------------------- backend


class Backend:
    """Every object of one management server, and the rules between them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs = Jobs(self.lock)
        self._objects: dict[str, Resource] = {}
        self._ids = itertools.count(1)
        # How XAPI is reached (replaceable in tests): (url, username, password) -> PoolInfo
        self.discover: Callable[[str, str, str], PoolInfo] = discover_pool

    # --- store ----------------------------------------------------------------------------------
    def exists(self, uid: str) -> bool:
        """Does a uuid name anything (an object or an async job)?"""
        return uid in self._objects or self.jobs.get(uid) is not None

    def new_id(self) -> tuple[str, int]:
        return str(uuid.uuid4()), next(self._ids)

    def add(self, obj: T) -> T:
        self._objects[obj.id] = obj
        return obj

    def remove(self, obj: Resource) -> None:
        self._objects.pop(obj.id, None)

    def all(self, cls: type[T]) -> list[T]:
        return [o for o in self._objects.values() if type(o) is cls]

    def get(self, cls: type[T], uid: str | None) -> T | None:
        obj = self._objects.get(uid or "")
        return obj if type(obj) is cls else None

    def listed(self, cls: type[T]) -> list[T]:
        """Every object of a kind, as a list* call reads it: pending transitions on them settle first."""
        out = self.all(cls)
        for o in out:
            self.jobs.settle(o)
        return out

    def submit(self, command: str, instance_type: str, instance_id: str | None,
               run: Callable[[], dict[str, Any]], *, fail_with: CloudStackError | None = None,
               on_fail: Callable[[], None] | None = None) -> Job:
        return self.jobs.submit(command, instance_type, instance_id, run, fail_with=fail_with, on_fail=on_fail)

    # --- zones ----------------------------------------------------------------------------------
    def _check_zone_parameters(self, p: dict[str, Any], check_name: str | None) -> None:
        """ConfigurationManagerImpl.checkZoneParameters."""
        if check_name is not None and any(z.name == check_name for z in self.all(Zone)):
            raise errors.invalid_parameter("A zone with that name already exists. Please specify a unique zone name.")
        for key, label in (("dns1", "DNS1"), ("dns2", "DNS2"), ("internaldns1", "internal DNS1"),
                           ("internaldns2", "internal DNS2")):
            if p.get(key) and not _valid_ip4(p[key]):
                raise errors.invalid_parameter(f"Please enter a valid IP address for {label}")
        for key, label in (("ip6dns1", "IP6 DNS1"), ("ip6dns2", "IP6 DNS2")):
            if p.get(key) and not _valid_ip6(p[key]):
                raise errors.invalid_parameter(f"Please enter a valid IPv6 address for {label}")
        state = p.get("allocationstate")
        if state and state not in ALLOCATION_STATES:
            raise errors.invalid_parameter(f"Unable to resolve Allocation State '{state}' to a supported state")

    @staticmethod
    def _check_guest_cidr(cidr: str | None) -> None:
        """NetUtils.validateGuestCidr: a private (RFC 1918) IPv4 CIDR."""
        if cidr is None:
            return
        try:
            net = ipaddress.IPv4Network(cidr, strict=False)
        except ValueError:
            raise errors.invalid_parameter("Please enter a valid guest cidr") from None
        if not net.is_private:
            raise errors.invalid_parameter("Please enter a valid guest cidr")

    def create_zone(self, p: dict[str, Any]) -> Zone:
        networktype = p["networktype"]
        if networktype not in ("Basic", "Advanced"):
            raise errors.invalid_parameter(f"Invalid network type {networktype}")
        self._check_zone_parameters(p, check_name=p["name"])
        self._check_guest_cidr(p.get("guestcidraddress"))
        uid, dbid = self.new_id()
        zone = Zone(
            uid, dbid, p["name"], networktype=networktype,
            dns1=p["dns1"] or None, dns2=p.get("dns2") or None, internaldns1=p["internaldns1"] or None,
            internaldns2=p.get("internaldns2") or None, ip6dns1=p.get("ip6dns1"), ip6dns2=p.get("ip6dns2"),
            guestcidraddress=(p.get("guestcidraddress") or "10.1.1.0/24") if networktype == "Advanced" else None,
            domain=p.get("domain"), allocationstate=p.get("allocationstate") or "Disabled",
            securitygroupsenabled=bool(p.get("securitygroupenabled", networktype == "Basic")),
            localstorageenabled=bool(p.get("localstorageenabled", False)),
        )
        return self.add(zone)

    def zone(self, uid: str | None, text: str | None = None) -> Zone:
        zone = self.get(Zone, uid)
        if zone is None:
            raise errors.invalid_parameter(text or f"unable to find zone by id {uid}")
        return zone

    def update_zone(self, p: dict[str, Any]) -> Zone:
        zone = self.zone(p["id"])
        details: dict[str, str] = {}
        for d in p.get("details") or []:
            if "key" not in d or "value" not in d:
                raise errors.invalid_parameter(
                    "Invalid Zone Detail specified, fields 'key' and 'value' cannot be null, please specify details "
                    "in the form:  details[0].key=XXX&details[0].value=YYY")
            details[d["key"]] = d["value"]
        self._check_guest_cidr(p.get("guestcidraddress"))
        name = p.get("name") or zone.name
        current = {k: getattr(zone, k) for k in ("dns1", "dns2", "internaldns1", "internaldns2", "ip6dns1", "ip6dns2")}
        self._check_zone_parameters({**current, **{k: v for k, v in p.items() if v is not None}},
                                    check_name=name if name != zone.name else None)
        state = p.get("allocationstate")
        if state == "Enabled":
            self._check_zone_enable(zone)
        zone.name = name
        for key in ("dns1", "dns2", "internaldns1", "internaldns2", "ip6dns1", "ip6dns2", "guestcidraddress"):
            if p.get(key) is not None:
                setattr(zone, key, p[key])
        if "localstorageenabled" in p:
            zone.localstorageenabled = p["localstorageenabled"]
        if p.get("domain") is not None:
            zone.domain = p["domain"] or None
        if state:
            zone.allocationstate = state
        if p.get("dhcpprovider"):
            zone.dhcpprovider = p["dhcpprovider"]
        zone.details.update(details)
        return zone

    def _networks_with_traffic(self, zone: Zone, traffic: str) -> list[PhysicalNetwork]:
        return [n for n in self.all(PhysicalNetwork)
                if n.zone is zone and any(t.network is n and t.name == traffic for t in self.all(TrafficType))]

    def _default_network(self, zone: Zone, traffic: str) -> PhysicalNetwork:
        """NetworkModelImpl.getDefaultPhysicalNetworkByZoneAndTrafficType."""
        nets = self._networks_with_traffic(zone, traffic)
        if not nets:
            raise errors.invalid_parameter(
                f"Unable to find the default physical network with traffic={traffic} in the specified zone id")
        if len(nets) > 1:
            raise errors.invalid_parameter(
                f"More than one physical networks exist in zone id={zone.dbid} with traffic type={traffic}")
        return nets[0]

    def _check_zone_enable(self, zone: Zone) -> None:
        """ConfigurationManagerImpl.editZone: what an Advanced zone needs before it is Enabled."""
        try:
            mgmt = self._default_network(zone, "Management")
            if zone.networktype == "Advanced" and not zone.securitygroupsenabled:
                self._default_network(zone, "Public")
            try:
                self._default_network(zone, "Storage")
            except CloudStackError:
                like = next(t for t in self.all(TrafficType) if t.network is mgmt and t.name == "Management")
                uid, dbid = self.new_id()
                self.add(TrafficType(uid, dbid, "Storage", network=mgmt, xennetworklabel=like.xennetworklabel,
                                     kvmnetworklabel=like.kvmnetworklabel, vmwarenetworklabel=like.vmwarenetworklabel,
                                     hypervnetworklabel=like.hypervnetworklabel, vlan=like.vlan))
        except CloudStackError as e:
            raise errors.invalid_parameter(f"Cannot enable this Zone since: {e.errortext}") from None

    def delete_zone(self, uid: str) -> None:
        zone = self.get(Zone, uid)
        if zone is None:
            raise errors.invalid_parameter(f"A zone with ID: {uid} does not exist.")
        why = "The zone cannot be deleted because "
        if any(h.cluster and h.cluster.pod and h.cluster.pod.zone is zone for h in self.all(Host)):
            raise errors.cloud_runtime(why + "there are servers in this zone.")
        if any(p.zone is zone for p in self.all(Pod)):
            raise errors.cloud_runtime(why + "there are pods in this zone.")
        if any(n.zone is zone for n in self.all(PhysicalNetwork)):
            raise errors.cloud_runtime(why + "there are physical networks in this zone.")
        if any(s.zone is zone and s.scope == "ZONE" and s.role == "Image" for s in self.all(ImageStore)):
            raise errors.cloud_runtime(why + "there are Secondary storages in this zone")
        for s in self.all(ImageStore):  # staging stores go with the zone
            if s.zone is zone:
                self.remove(s)
        self.remove(zone)

    # --- physical networks, traffic types, providers ---------------------------------------------
    def physical_network(self, uid: str | None) -> PhysicalNetwork:
        net = self.get(PhysicalNetwork, uid)
        if net is None:
            raise errors.invalid_parameter("Physical Network with specified id doesn't exist in the system")
        return net

    @staticmethod
    def _check_vlan_range(vlan: str, isolation: list[str]) -> None:
        """NetworkServiceImpl.validateVlanRange for VLAN isolation (1-4095)."""
        low, high = (1, 4095) if not {"VXLAN", "GRE"} & {m.upper() for m in isolation} else (0, 16777214)
        between = f" between {low} and {high}"
        for part in vlan.split(","):
            bounds = part.split("-")
            if len(bounds) == 1 and bounds[0] == "":
                continue
            if len(bounds) < 2:
                raise errors.invalid_parameter(
                    "Please provide valid vnet range. vnet range should be a comma separated list of vlan ranges. "
                    "example 500-500,600-601" + between)
            try:
                start, end = int(bounds[0]), int(bounds[1])
            except ValueError:
                raise errors.invalid_parameter(
                    "Please provide valid vnet range. The vnet range should be a comma separated list example "
                    "2001-2012,3000-3005." + between) from None
            if start < low or end > high:
                raise errors.invalid_parameter("Vnet range has to be" + between)
            if start > end:
                raise errors.invalid_parameter(
                    "Vnet range has to be" + between + " and start range should be lesser than or equal to stop range")

    def create_physical_network(self, p: dict[str, Any]) -> PhysicalNetwork:
        zone = self.zone(p["zoneid"], "Please specify a valid zone.")
        if zone.allocationstate == "Enabled":
            raise errors.permission_denied(
                f"Cannot create PhysicalNetwork since the Zone is currently enabled, zone id={zone.dbid}")
        if zone.networktype == "Basic" and any(n.zone is zone for n in self.all(PhysicalNetwork)):
            raise errors.cloud_runtime(
                f"Cannot add the physical network to basic zone id: {zone.dbid}, there is a physical network "
                "already existing in this basic Zone")
        tags, isolation = p.get("tags") or [], p.get("isolationmethods") or []
        if len(tags) > 1:
            raise errors.invalid_parameter("Only one tag can be specified for a physical network at this time")
        if len(isolation) > 1:
            raise errors.invalid_parameter(
                "Only one isolationMethod can be specified for a physical "
                "network at this time")
        if p.get("vlan") is not None and zone.networktype == "Basic":
            raise errors.invalid_parameter("Can't add vnet range to the physical network in the Basic zone")
        bdr = p.get("broadcastdomainrange")
        if bdr:
            if bdr.upper() not in ("POD", "ZONE"):
                raise errors.invalid_parameter(
                    f"Unable to resolve broadcastDomainRange '{bdr}' to a supported value {{Pod or Zone}}")
            if zone.networktype == "Advanced" and bdr.upper() != "ZONE":
                raise errors.invalid_parameter("Advance zone can have broadcast domain type of value ZONE only")
        if p.get("vlan"):
            self._check_vlan_range(p["vlan"], isolation)
        uid, dbid = self.new_id()
        net = self.add(PhysicalNetwork(
            uid, dbid, p["name"], zone=zone, vlan=p.get("vlan"), isolationmethods=list(isolation), tags=list(tags),
            networkspeed=p.get("networkspeed"), broadcastdomainrange=(bdr or "ZONE").upper()))
        for name, state in DEFAULT_PROVIDERS:
            if name == "SecurityGroupProvider" or zone.networktype == "Advanced":
                nsp = self._add_provider(net, name, state)
                if name in ("VirtualRouter", "VpcVirtualRouter"):
                    self.add(RouterElement(*self.new_id(), name, nsp=nsp))
        return net

    def _add_provider(self, net: PhysicalNetwork, name: str, state: str = "Disabled") -> ServiceProvider:
        uid, dbid = self.new_id()
        return self.add(ServiceProvider(uid, dbid, name, network=net, state=state,
                                        servicelist=list(PROVIDER_SERVICES.get(name, []))))

    def update_physical_network(self, p: dict[str, Any]) -> PhysicalNetwork:
        net = self.physical_network(p["id"])
        assert net.zone is not None
        if p.get("vlan") is not None and net.zone.networktype == "Basic":
            raise errors.invalid_parameter("Can't add vnet range to the physical network in the Basic zone")
        tags = p.get("tags")
        if tags is not None and len(tags) > 1:
            raise errors.invalid_parameter("Unable to support more than one tag on network yet")
        state = p.get("state")
        if state and state not in ("Enabled", "Disabled"):
            raise errors.invalid_parameter(
                f"Unable to resolve state '{state}' to a supported value "
                f"{{Enabled or Disabled}}")
        if p.get("vlan"):
            self._check_vlan_range(p["vlan"], net.isolationmethods)
            net.vlan = p["vlan"]
        if state:
            net.state = state
        if tags is not None:
            net.tags = list(tags)
        if p.get("networkspeed") is not None:
            net.networkspeed = p["networkspeed"]
        return net

    def delete_physical_network(self, net: PhysicalNetwork) -> None:
        """Removes the network with its providers, elements and traffic types, as the server does."""
        for nsp in [s for s in self.all(ServiceProvider) if s.network is net]:
            for el in [e for e in self.all(RouterElement) if e.nsp is nsp]:
                self.remove(el)
            self.remove(nsp)
        for t in [t for t in self.all(TrafficType) if t.network is net]:
            self.remove(t)
        self.remove(net)

    def add_traffic_type(self, p: dict[str, Any]) -> TrafficType:
        net = self.get(PhysicalNetwork, p["physicalnetworkid"])
        if net is None:
            raise errors.invalid_parameter(f"Physical Network id={p['physicalnetworkid']}doesn't exist in the system")
        assert net.zone is not None
        kind = p["traffictype"]
        if kind not in TRAFFIC_TYPES:
            raise errors.invalid_parameter(f"Unable to resolve trafficType '{kind}' to a supported value")
        if any(t.network is net and t.name == kind for t in self.all(TrafficType)):
            raise errors.cloud_runtime(f"This physical network already supports the traffic type: {kind}")
        if kind in ("Management", "Control", "Public", "Storage") and self._networks_with_traffic(net.zone, kind):
            raise errors.cloud_runtime(
                "Fail to add the traffic type to physical network because Zone already has a physical network with "
                f"this traffic type: {kind}")
        if not net.tags and len([n for n in self._networks_with_traffic(net.zone, kind) if not n.tags]) > 0:
            raise errors.cloud_runtime(
                f"There are more than 1 physical network without tags in the "
                f"zone= {net.zone.dbid}")
        uid, dbid = self.new_id()
        return self.add(TrafficType(
            uid, dbid, kind, network=net, xennetworklabel=p.get("xennetworklabel"),
            kvmnetworklabel=p.get("kvmnetworklabel"), vmwarenetworklabel=p.get("vmwarenetworklabel"),
            hypervnetworklabel=p.get("hypervnetworklabel"), ovm3networklabel=p.get("ovm3networklabel"),
            vlan=p.get("vlan"), isolationmethod=p.get("isolationmethod")))

    def traffic_type(self, uid: str) -> TrafficType:
        t = self.get(TrafficType, uid)
        if t is None:
            raise errors.invalid_parameter(f"Traffic Type with id={uid}doesn't exist in the system")
        return t

    def update_traffic_type(self, p: dict[str, Any]) -> TrafficType:
        t = self.traffic_type(p["id"])
        for key in ("xennetworklabel", "kvmnetworklabel", "vmwarenetworklabel", "hypervnetworklabel",
                    "ovm3networklabel"):
            if p.get(key) is not None:
                setattr(t, key, p[key] or None)  # "" clears the label
        return t

    def provider(self, uid: str) -> ServiceProvider:
        nsp = self.get(ServiceProvider, uid)
        if nsp is None:
            raise errors.invalid_parameter(f"Network Service Provider id={uid}doesn't exist in the system")
        return nsp

    def check_provider_update(self, p: dict[str, Any]) -> ServiceProvider:
        """Validation done before the job is queued (the rest runs in the job)."""
        nsp = self.provider(p["id"])
        state = p.get("state")
        if state and state not in ("Enabled", "Disabled", "Shutdown"):
            raise errors.invalid_parameter(
                f"Unable to resolve state '{state}' to a supported value "
                f"{{Enabled or Disabled}}")
        return nsp

    def update_provider(self, nsp: ServiceProvider, p: dict[str, Any]) -> ServiceProvider:
        """NetworkServiceImpl.updateNetworkServiceProvider (in the job)."""
        state = p.get("state")
        if state == "Enabled":
            if not self._provider_ready(nsp):
                raise errors.cloud_runtime(
                    "Provider is not ready, cannot Enable the provider, please configure the provider first")
            nsp.state = "Enabled"
        elif state == "Disabled":
            nsp.state = "Disabled"
        elif state == "Shutdown":
            raise errors.invalid_parameter("Updating the provider state to 'Shutdown' is not supported")
        if p.get("servicelist") is not None:
            if nsp.name not in ("VirtualRouter", "VpcVirtualRouter", "ConfigDrive"):
                raise errors.invalid_parameter(f"Cannot update set of Services for this Service Provider '{nsp.name}'")
            nsp.servicelist = list(p["servicelist"])
        return nsp

    def _provider_ready(self, nsp: ServiceProvider) -> bool:
        """element.isReady: the router providers need their element enabled; the others are ready."""
        if nsp.name in ("VirtualRouter", "VpcVirtualRouter", "InternalLbVm"):
            return any(e.nsp is nsp and e.enabled for e in self.all(RouterElement))
        return True

    def router_element(self, uid: str) -> RouterElement:
        el = self.get(RouterElement, uid)
        if el is None:
            raise errors.invalid_parameter(f"Can't find element with network service provider id {uid}")
        return el

    # --- pods -----------------------------------------------------------------------------------
    @staticmethod
    def _cidr(gateway: str, netmask: str) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)

    def _check_pod(self, zone: Zone, name: str, gateway: str, netmask: str, start: str | None, end: str | None,
                   state: str | None, pod: Pod | None) -> None:
        """ConfigurationManagerImpl.checkPodAttributes / checkIpRange."""
        if (pod is None or pod.name != name) and any(p.zone is zone and p.name == name for p in self.all(Pod)):
            raise errors.invalid_parameter(f"A pod with name: {name} already exists in zone {zone.dbid}. "
                                           "Please specify a different pod name. ")
        net = self._cidr(gateway, netmask)
        if start and not _valid_ip4(start):
            raise errors.invalid_parameter("The start address of the IP range is not a valid IP address.")
        if end and not _valid_ip4(end):
            raise errors.invalid_parameter("The end address of the IP range is not a valid IP address.")
        if start and ipaddress.IPv4Address(start) not in net:
            raise errors.invalid_parameter("The start address of the IP range is not in the CIDR subnet.")
        if end and ipaddress.IPv4Address(end) not in net:
            raise errors.invalid_parameter("The end address of the IP range is not in the CIDR subnet.")
        if start and end and ipaddress.IPv4Address(start) > ipaddress.IPv4Address(end):
            raise errors.invalid_parameter("The start IP address must have a lower value than the end IP address.")
        gw = ipaddress.IPv4Address(gateway)
        if start and end and ipaddress.IPv4Address(start) <= gw <= ipaddress.IPv4Address(end):
            raise errors.invalid_parameter("The gateway shouldn't overlap start/end ip addresses")
        for other in self.all(Pod):
            if other is pod or other.zone is not zone or not start or not end:
                continue
            for s, e in other.ranges:
                if not (ipaddress.IPv4Address(end) < ipaddress.IPv4Address(s)
                        or ipaddress.IPv4Address(start) > ipaddress.IPv4Address(e)):
                    raise errors.invalid_parameter(
                        f"The Start IP and EndIP address range overlap with private IP :{s}:{e}")
        if state and state not in ALLOCATION_STATES:
            raise errors.invalid_parameter(f"Unable to resolve Allocation State '{state}' to a supported state")

    def create_pod(self, p: dict[str, Any]) -> Pod:
        gateway, netmask = p.get("gateway"), p.get("netmask")
        if not _valid_ip4(gateway):
            raise errors.invalid_parameter("The gateway is invalid")
        assert gateway is not None
        if not netmask or not _valid_ip4(netmask) or not self._is_netmask(netmask):
            raise errors.invalid_parameter("The netmask is invalid")
        zone = self.zone(p["zoneid"], "Please specify a valid zone.")
        start, end = p.get("startip"), p.get("endip")
        if start and not end:
            end = str(self._cidr(gateway, netmask).broadcast_address - 1)
        self._check_pod(zone, p["name"], gateway, netmask, start, end, p.get("allocationstate"), None)
        if not start:
            raise errors.invalid_parameter("Start ip is required parameter")
        assert end is not None
        uid, dbid = self.new_id()
        return self.add(Pod(uid, dbid, p["name"], zone=zone, gateway=gateway, netmask=netmask, ranges=[(start, end)],
                            allocationstate=p.get("allocationstate") or "Enabled"))

    @staticmethod
    def _is_netmask(text: str) -> bool:
        try:
            ipaddress.IPv4Network(f"0.0.0.0/{text}")
        except ValueError:
            return False
        return True

    def pod(self, uid: str | None, text: str | None = None) -> Pod:
        pod = self.get(Pod, uid)
        if pod is None:
            raise errors.invalid_parameter(text or f"Unable to find pod by id {uid}")
        return pod

    def update_pod(self, p: dict[str, Any]) -> Pod:
        """editPod(cmd): startip/endip of updatePod are NOT applied by 4.18 (editPod gets null for them)."""
        pod = self.pod(p["id"])
        assert pod.zone is not None
        gateway = p.get("gateway") or pod.gateway
        netmask = p.get("netmask") or pod.netmask
        name = p.get("name") or pod.name
        self._check_pod(pod.zone, name, gateway, netmask, None, None, p.get("allocationstate"), pod)
        net = self._cidr(gateway, netmask)
        for s, e in pod.ranges:
            if ipaddress.IPv4Address(s) not in net:
                raise errors.invalid_parameter("The start address of the some IP range is not in the CIDR subnet.")
            if ipaddress.IPv4Address(e) not in net:
                raise errors.invalid_parameter("The end address of the some IP range is not in the CIDR subnet.")
            if ipaddress.IPv4Address(s) <= ipaddress.IPv4Address(gateway) <= ipaddress.IPv4Address(e):
                raise errors.invalid_parameter("The gateway shouldn't overlap some start/end ip addresses")
        pod.name, pod.gateway, pod.netmask = name, gateway, netmask
        if p.get("allocationstate"):
            pod.allocationstate = p["allocationstate"]
        return pod

    def delete_pod(self, uid: str) -> None:
        pod = self.pod(uid, f"A pod with ID: {uid} does not exist.")
        why = "The pod cannot be deleted because "
        if any(h.cluster and h.cluster.pod is pod for h in self.all(Host)):
            raise errors.cloud_runtime(why + "there are servers in this pod.")
        if any(c.pod is pod for c in self.all(Cluster)):
            raise errors.cloud_runtime(why + "there are clusters in this pod.")
        self.remove(pod)

    # --- clusters and hosts ---------------------------------------------------------------------
    def cluster(self, uid: str | None) -> Cluster:
        c = self.get(Cluster, uid)
        if c is None:
            raise errors.invalid_parameter(f"Can't find cluster by id {uid}")
        return c

    def add_cluster(self, p: dict[str, Any]) -> Cluster:
        """ResourceManagerImpl.discoverCluster."""
        zone = self.zone(p["zoneid"], "Can't find zone by the id specified")
        pod = self.pod(p["podid"], f"Can't find pod by id {p['podid']}")
        if pod.zone is not zone:
            raise errors.invalid_parameter(f"Pod with specified id doesn't belong to the zone {zone.dbid}")
        name = p["clustername"]
        if not name:
            raise errors.invalid_parameter("Please specify cluster name")
        hypervisor = p["hypervisor"]
        canonical = next((h for h in HYPERVISORS if h.lower() == hypervisor.lower()), None)
        if canonical is None:
            raise errors.invalid_parameter(f"Unable to resolve {hypervisor} to a supported ")
        clustertype = p["clustertype"] or "CloudManaged"
        if clustertype not in ("CloudManaged", "ExternalManaged"):
            raise errors.cloud_runtime(f"No enum constant com.cloud.org.Cluster.ClusterType.{clustertype}")
        state = p.get("allocationstate") or "Enabled"
        if state not in ALLOCATION_STATES:
            raise errors.invalid_parameter(f"Unable to resolve Allocation State '{state}' to a supported state")
        if any(c.pod is pod and c.name == name for c in self.all(Cluster)):
            raise errors.cloud_runtime(f"Unable to create cluster {name} in pod and data center with specified ids")
        uid, dbid = self.new_id()
        cluster = self.add(Cluster(uid, dbid, name, pod=pod, hypervisor=canonical, clustertype=clustertype,
                                   allocationstate=state))
        if clustertype == "CloudManaged":
            return cluster  # no discovery: the hosts come with addHost
        try:
            url = p.get("url") or ""
            parsed = urllib.parse.urlsplit(url)
            if not parsed.scheme:
                raise errors.invalid_parameter(f"uri.scheme is null {url}, add http:// as a prefix")
            if parsed.scheme == "http" and (not parsed.hostname or not parsed.path):
                raise errors.invalid_parameter(
                    "Your host and/or path is wrong.  Make sure it's of the format http://hostname/path")
            hosts = self._discover_xenserver(cluster, url, p.get("username") or "", p.get("password") or "")
            if hosts is None:
                raise errors.internal_error("Unable to add the external cluster")
        except CloudStackError:
            self.remove(cluster)
            raise
        return cluster

    def _discover_xenserver(self, cluster: Cluster, url: str, username: str, password: str) -> list[Host] | None:
        """XcpServerDiscoverer.find + createHostAndAgent: every host of the pool behind `url`.

        None where the real discoverer returns null (any failure but bad credentials, which is
        "Authentication error"); the callers turn that into their generic message. A pool other
        than the cluster's (hosts already in it) is one of those silent failures.
        """
        if cluster.hypervisor != "XenServer" or urllib.parse.urlsplit(url).scheme != "http":
            return None
        try:
            info = self.discover(url, username, password)
        except XapiDiscoveryError as e:
            if str(e) == "Authentication error":
                raise errors.internal_error("Authentication error") from None
            return None
        members = [h for h in self.all(Host) if h.cluster is cluster]
        if cluster.guid is not None and members and cluster.guid != info.pool_uuid:
            return None  # "Please join the host ... to XS pool ... through XC/XS" (logged only)
        cluster.guid = info.pool_uuid
        cluster.xapi = (info.master_url, username, password)
        added = []
        for h in info.hosts:
            if any(existing.guid == h.uuid for existing in self.all(Host)):
                continue  # "Skipping <address> because <uuid> is already in the database."
            uid, dbid = self.new_id()
            added.append(self.add(Host(
                uid, dbid, h.hostname or h.name_label, cluster=cluster, ipaddress=h.address, guid=h.uuid,
                hypervisorversion=h.product_version, cpunumber=h.cpu_count, cpuspeed=h.cpu_speed,
                memorytotal=h.memory_total)))
        return added

    def add_host(self, p: dict[str, Any]) -> list[Host]:
        """ResourceManagerImpl.discoverHosts -> discoverHostsFull, hypervisor XenServer."""
        zone = self.zone(p["zoneid"], f"Can't find zone by id {p['zoneid']}")
        pod = self.pod(p["podid"], f"Can't find pod by id {p['podid']}")
        if pod.zone is not zone:
            raise errors.invalid_parameter(
                f"Pod with specified pod {pod.dbid} doesn't belong to the zone with specified zone {zone.dbid}")
        url = p["url"]
        if p.get("clustername") and p.get("clusterid"):
            raise errors.invalid_parameter("Can't specify cluster by both id and name")
        if not p.get("username") or not p.get("password"):
            raise errors.invalid_parameter("Username and Password need to be provided.")
        created = None
        if p.get("clusterid"):
            cluster = self.get(Cluster, p["clusterid"])
            if cluster is None:
                raise errors.invalid_parameter("can not find cluster for specified clusterId")
        else:
            name = p.get("clustername") or f"Standalone-{url}"
            found = next((c for c in self.all(Cluster) if c.pod is pod and c.name == name), None)
            cluster = found or self.add(Cluster(*self.new_id(), name, pod=pod, hypervisor=p["hypervisor"]))
            created = None if found else cluster
        if not urllib.parse.urlsplit(url).scheme:
            raise errors.invalid_parameter(f"uri.scheme is null {url}, add nfs:// (or cifs://) as a prefix")
        hosts = self._discover_xenserver(cluster, url, p["username"], p["password"])
        if hosts is None:
            if created is not None:
                self.remove(created)
            if p["hypervisor"].lower() != "xenserver":
                raise errors.internal_error(f"Do not support HypervisorType {p['hypervisor']} for {url}")
            raise errors.internal_error(f"Unable to add the host: Cannot find the server resources at {url}")
        if not hosts:  # every host of that pool is already known
            raise errors.internal_error("Failed to add host")
        for h in hosts:
            h.hosttags = list(p.get("hosttags") or [])
            if p.get("allocationstate") == "Disabled":
                h.resourcestate = "Disabled"
        return hosts

    def update_host_password(self, p: dict[str, Any]) -> None:
        """ManagementServerImpl.updateClusterPassword / updateHostPassword: stored credentials only."""
        if p.get("clusterid") is None:
            if p.get("hostid") is None:
                raise errors.invalid_parameter("You should provide an host id.")
            h = self.host(p["hostid"])
            if h.cluster is not None and h.cluster.hypervisor == "XenServer":
                raise errors.invalid_parameter(
                    "Single host update is not supported by XenServer hypervisors. Please try again specifying the "
                    "cluster.")
            return
        cluster = self.get(Cluster, p["clusterid"])
        if cluster is None or cluster.hypervisor not in ("XenServer", "KVM"):
            raise errors.invalid_parameter("This operation is not supported for this hypervisor type")
        if cluster.xapi is not None:
            cluster.xapi = (cluster.xapi[0], p["username"], p["password"])

    def host(self, uid: str | None) -> Host:
        h = self.get(Host, uid)
        if h is None:
            raise errors.invalid_parameter(f"Host with id {uid} doesn't exist")
        return h

    def update_cluster(self, p: dict[str, Any]) -> Cluster:
        c = self.cluster(p["id"])
        if p.get("clustername"):
            c.name = p["clustername"]
        if p.get("hypervisor"):
            canonical = next((h for h in HYPERVISORS if h.lower() == p["hypervisor"].lower()), None)
            if canonical is None:
                raise errors.invalid_parameter(f"Unable to resolve {p['hypervisor']} to a supported type")
            c.hypervisor = canonical
        if p.get("clustertype"):
            if p["clustertype"] not in ("CloudManaged", "ExternalManaged"):
                raise errors.invalid_parameter(f"Unable to resolve {p['clustertype']} to a supported type")
            c.clustertype = p["clustertype"]
        state = p.get("allocationstate")
        if state:
            if state not in ALLOCATION_STATES:
                raise errors.invalid_parameter(f"Unable to resolve Allocation State '{state}' to a supported state")
            c.allocationstate = state
        managed = p.get("managedstate")
        if managed:
            if managed not in ("Managed", "Unmanaged"):
                raise errors.invalid_parameter(f"Unable to resolve Managed State '{managed}' to a supported state")
            c.managedstate = managed
        return c

    def delete_cluster(self, uid: str) -> None:
        c = self.get(Cluster, uid)
        if c is None:
            raise errors.cloud_runtime(f"Cluster: {uid} does not exist")
        if any(h.cluster is c for h in self.all(Host)):
            raise errors.cloud_runtime(f"Cluster: {c.dbid} cannot be removed. Cluster still has hosts")
        if any(s.cluster is c for s in self.all(StoragePool)):
            raise errors.cloud_runtime(f"Cluster: {c.dbid} cannot be removed. Cluster still has storage pools")
        self.remove(c)

    def update_host(self, p: dict[str, Any]) -> Host:
        h = self.host(p["id"])
        state = p.get("allocationstate")
        if state:
            if state not in ("Enable", "Disable"):
                raise errors.invalid_parameter(
                    f"Invalid allocation state: {state}, only Enable/Disable are allowed")
            if h.resourcestate in IN_MAINTENANCE:
                raise errors.cloud_runtime(
                    f"Cannot transit {h.resourcestate} to {state}d state by event "
                    f"{'AdminEnable' if state == 'Enable' else 'AdminDisable'}")
            h.resourcestate = "Enabled" if state == "Enable" else "Disabled"
        if p.get("hosttags") is not None:
            h.hosttags = list(p["hosttags"])
        if p.get("name"):
            h.name = p["name"]
        if p.get("annotation") is not None:
            h.annotation = p["annotation"] or None
        return h

    def check_maintain(self, h: Host) -> None:
        """ResourceManagerImpl.maintain(cmd): checks made before the host changes state."""
        if h.resourcestate not in MAINTENANCE_FROM:
            raise errors.cloud_runtime(
                f"Host is already in state {h.resourcestate}. Cannot recall for maintenance until resolved.")
        if any(o.cluster is h.cluster and o.resourcestate in ("PrepareForMaintenance", "ErrorInPrepareForMaintenance")
               for o in self.all(Host)):
            assert h.cluster is not None
            raise errors.cloud_runtime(
                "There are other servers attempting migrations for maintenance. Found hosts in PrepareForMaintenance "
                f"OR ErrorInPrepareForMaintenance STATUS in cluster {h.cluster.dbid}")

    def maintain(self, h: Host) -> Host:
        self.check_maintain(h)
        h.resourcestate = "PrepareForMaintenance"
        # No VMs to migrate: the server's maintenance check moves it on by itself.
        self.jobs.later(h, "resourcestate", "PrepareForMaintenance", "Maintenance")
        return h

    def cancel_maintenance(self, h: Host) -> Host:
        if h.resourcestate not in IN_MAINTENANCE:
            raise errors.cloud_runtime(
                f"Cannot perform cancelMaintenance when resource state is {h.resourcestate}, hostId = {h.dbid}")
        h.resourcestate = "Enabled"
        return h

    def delete_host(self, p: dict[str, Any]) -> None:
        h = self.host(p["id"])
        if h.resourcestate not in ("Maintenance", "Degraded") and not p.get("forced"):
            raise errors.cloud_runtime(
                f"Host {h.id} cannot be deleted as it is not in maintenance mode. Either put the host into maintenance "
                "or perform a forced deletion.")
        cluster = h.cluster
        self.remove(h)
        if cluster is not None and not any(o.cluster is cluster for o in self.all(Host)):
            cluster.guid = None

    # --- primary storage ------------------------------------------------------------------------
    def storage_pool(self, uid: str | None) -> StoragePool:
        s = self.get(StoragePool, uid)
        if s is None:
            raise errors.invalid_parameter(f"Unable to find pool by id {uid}")
        return s

    def create_storage_pool(self, p: dict[str, Any]) -> StoragePool:
        """StorageManagerImpl.createPool + CloudStackPrimaryDataStoreLifeCycleImpl (initialize, attachCluster)."""
        zone = self.zone(p["zoneid"], f"Could not find zone by ID: {p['zoneid']}")
        scope = (p.get("scope") or "CLUSTER").upper()
        if scope not in ("CLUSTER", "ZONE"):
            raise errors.invalid_parameter(f"invalid scope for pool {p.get('scope')}")
        cluster = pod = None
        if scope == "CLUSTER":
            if p.get("clusterid") and not p.get("podid"):
                raise errors.invalid_parameter("Cluster id requires pod id")
            if not p.get("clusterid") or not p.get("podid"):
                raise errors.invalid_parameter("cluster id or pod id is null when scope is cluster")
            cluster = self.cluster(p["clusterid"])
            pod = self.pod(p["podid"])
        else:
            hv = p.get("hypervisor")
            if not hv:
                raise errors.invalid_parameter("hypervisor type can't be null for zone wide primary storage")
            if hv not in ("KVM", "VMware", "Hyperv", "LXC", "Any", "Simulator"):
                raise errors.invalid_parameter(f"zone wide storage pool is not supported for hypervisor type {hv}")
        url = p["url"]
        parsed = urllib.parse.urlsplit(url)
        scheme = parsed.scheme.lower()
        if not scheme:
            raise errors.invalid_parameter(f"scheme is null {url}, add nfs:// as a prefix")
        host, path = parsed.hostname or "", urllib.parse.unquote(parsed.path)
        if scheme == "nfs":
            if not host or not path.strip():
                raise errors.invalid_parameter("host or path is null, should be nfs://hostname/path")
            kind = "NetworkFilesystem"
        elif scheme == "iscsi":
            lun = path.rstrip("/").rsplit("/", 1)[-1]
            if not lun.isdigit():
                raise errors.cloud_runtime("Failed to add data store: iSCSI needs to have LUN number")
            kind = "IscsiLUN"
        elif scheme == "presetup":
            kind = "PreSetup"
        elif scheme == "rbd":
            if not path:
                raise errors.invalid_parameter("host or path is null, should be rbd://hostname/pool")
            kind, path = "RBD", path.lstrip("/")
        else:
            raise errors.cloud_runtime(f"Failed to add data store: Unable to figure out the scheme for URI: {url}")
        # The pool uuid: PreSetup takes the SR name; others a name-based UUID of host + path.
        pool_uuid = path.replace("/", "") if kind == "PreSetup" else str(uuid.uuid3(uuid.NAMESPACE_URL, host + path))
        if any(s.id == pool_uuid for s in self.all(StoragePool)):
            raise errors.cloud_runtime(
                "Failed to add data store: Another active pool with the same "
                "uuid already exists")
        if cluster is not None:
            hosts = [h for h in self.all(Host) if h.cluster is cluster and h.state == "Up"
                     and h.resourcestate == "Enabled"]
            if not hosts:
                raise errors.cloud_runtime(f"Failed to add data store: No host up to associate a storage pool with in "
                                           f"cluster {cluster.dbid}")
            if kind == "RBD" and cluster.hypervisor == "XenServer":
                raise errors.cloud_runtime(
                    f"Failed to add data store: Can not create storage pool through host {hosts[0].dbid} due to "
                    "The pool type: RBD is not supported.")
            if kind == "PreSetup" and cluster.hypervisor == "XenServer":
                self._check_presetup_sr(cluster, pool_uuid, hosts[0])
        pool = StoragePool(
            pool_uuid, next(self._ids), p["name"], zone=zone, pod=pod, cluster=cluster, scope=scope, type=kind,
            ipaddress=host or "localhost", path=path, hypervisor=cluster.hypervisor if cluster else p.get("hypervisor"),
            provider=p.get("provider") or "DefaultPrimary", tags=[t for t in (p.get("tags") or "").split(",") if t],
            capacitybytes=p.get("capacitybytes") or 0, capacityiops=p.get("capacityiops"))
        return self.add(pool)

    def _check_presetup_sr(self, cluster: Cluster, sr_name: str, host: Host) -> None:
        """The XenServer resource looks the SR up by name-label on the pool (SR.get_by_name_label)."""
        assert cluster.xapi is not None
        url, username, password = cluster.xapi
        try:
            info = self.discover(url, username, password)
        except XapiDiscoveryError as e:
            raise errors.cloud_runtime(f"Failed to add data store: {e}") from None
        if sr_name not in info.sr_names:
            raise errors.cloud_runtime(
                f"Failed to add data store: Can not see storage pool: {sr_name} from on host:{host.guid}")

    def update_storage_pool(self, p: dict[str, Any]) -> StoragePool:
        s = self.storage_pool(p["id"])
        if p.get("name"):
            s.name = p["name"]
        if p.get("tags") is not None:
            s.tags = list(p["tags"])
        if p.get("capacitybytes") is not None:
            s.capacitybytes = p["capacitybytes"]
        if p.get("capacityiops") is not None:
            s.capacityiops = p["capacityiops"]
        if "enabled" in p:
            if p["enabled"]:
                if s.state == "Disabled":
                    s.state = "Up"
            elif s.state == "Up":
                s.state = "Disabled"
        return s

    def check_storage_maintenance(self, s: StoragePool) -> None:
        if s.state not in ("Up", "ErrorInMaintenance"):
            raise errors.invalid_parameter(
                f"Primary storage with id {s.dbid} is not ready for migration, as the status is:{s.state}")

    def check_cancel_storage_maintenance(self, s: StoragePool) -> None:
        if s.state not in ("Maintenance", "ErrorInMaintenance", "PrepareForMaintenance"):
            raise errors.invalid_parameter(
                f"Primary storage with id {s.dbid} is not ready to complete migration, as the status is:{s.state}")

    def delete_storage_pool(self, p: dict[str, Any]) -> None:
        s = self.storage_pool(p["id"])
        if s.state != "Maintenance" and not p.get("forced"):
            raise errors.invalid_parameter(
                f"Unable to delete storage due to it is not in Maintenance state, id: {s.dbid}")
        self.remove(s)

    # --- secondary storage ----------------------------------------------------------------------
    def image_store(self, uid: str | None, role: str = "Image") -> ImageStore:
        s = self.get(ImageStore, uid)
        if s is None or s.role != role:
            what = "Image store" if role == "Image" else "Cache store"
            raise errors.invalid_parameter(f"{what} with id {uid} doesn't exist")
        return s

    def add_image_store(self, provider: str, url: str | None, name: str | None, zoneid: str | None,
                        details: dict[str, str]) -> ImageStore:
        """StorageManagerImpl.discoverImageStore."""
        canonical = {"nfs": "NFS", "s3": "S3", "swift": "Swift"}.get(provider.lower(), "NFS")
        scope = "ZONE" if zoneid else "REGION"
        name = name or url
        if name and any(s.name == name for s in self.all(ImageStore)):
            raise errors.invalid_parameter(
                f"The image store with name {name} already exists, try "
                f"creating with another name")
        supported = {"NFS": ("ZONE",), "S3": ("REGION",), "Swift": ("REGION",)}[canonical]
        if scope not in supported:
            raise errors.invalid_parameter(f"Image store provider {canonical} does not support scope {scope}")
        for other in self.all(ImageStore):
            if other.role == "Image" and other.providername.lower() != canonical.lower():
                raise errors.invalid_parameter(
                    f"You can only add new image stores from the same provider {other.providername} already added")
        zone = self.zone(zoneid, f"Can't find zone by id {zoneid}") if zoneid else None
        if canonical == "S3":
            missing = [k for k in ("accesskey", "secretkey", "endpoint", "bucket") if not details.get(k)]
            if missing:
                raise errors.cloud_runtime("Failed to add data store")
            https = details.get("usehttps", "").lower() == "true"
            protocol = "https" if https else "http"
            url = url or f"{protocol}://{details['endpoint']}/{details['bucket']}"
        else:
            parsed = urllib.parse.urlsplit(url or "")
            if parsed.scheme.lower() != "nfs" or not parsed.hostname or not parsed.path:
                raise errors.cloud_runtime("Failed to add data store")
            protocol = "nfs"
        uid, dbid = self.new_id()
        return self.add(ImageStore(uid, dbid, name or url or uid, role="Image", zone=zone, url=url or "",
                                   protocol=protocol, providername=canonical, scope=scope, details=dict(details)))

    def delete_image_store(self, uid: str) -> None:
        self.remove(self.image_store(uid))

    def create_staging_store(self, p: dict[str, Any]) -> ImageStore:
        """StorageManagerImpl.createSecondaryStagingStore (NFS cache store, zone-wide)."""
        scope = p.get("scope")
        if scope is not None:
            if scope.upper() not in ("ZONE", "CLUSTER", "HOST", "REGION", "GLOBAL"):
                raise errors.invalid_parameter(f"invalid scope for cache store {scope}")
            if scope.upper() != "ZONE":
                raise errors.invalid_parameter("Only zone wide cache storage is supported")
            if not p.get("zoneid"):
                raise errors.invalid_parameter("zone id can't be null, if scope is zone")
        zone = self.zone(p.get("zoneid"), f"Can't find zone by id {p.get('zoneid')}")
        url = p["url"]
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme.lower() != "nfs" or not parsed.hostname or not parsed.path:
            raise errors.internal_error("Failed to add data store")
        uid, dbid = self.new_id()
        details = {d.get("key", ""): d.get("value", "") for d in p.get("details") or []}
        return self.add(ImageStore(uid, dbid, url, role="ImageCache", zone=zone, url=url, protocol="nfs",
                                   providername="NFS", scope="ZONE", details=details))

    def delete_staging_store(self, uid: str) -> None:
        self.remove(self.image_store(uid, role="ImageCache"))

    # --- readiness ------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What a real zone would complain about later (template copies, system VMs), in its words."""
        out = []
        s3 = [s for s in self.all(ImageStore) if s.role == "Image" and s.providername == "S3"]
        for zone in self.all(Zone):
            staging = [s for s in self.all(ImageStore) if s.role == "ImageCache" and s.zone is zone]
            if s3 and not staging:
                out.append(f"zone {zone.name}: Can't find staging storage in zone {zone.dbid}")
        return out


__all__ = [
    "Backend", "Cluster", "Host", "ImageStore", "PhysicalNetwork", "Pod", "Resource", "RouterElement",
    "ServiceProvider", "StoragePool", "TrafficType", "Zone",
]
