"""The tenant side's stored objects: domains, accounts, users, roles, offerings, templates and
ISOs, guest networks, virtual routers and user VMs, each serialised by `to_api()` as the 4.18
response class does (DomainResponse, AccountResponse, UserResponse, RoleResponse,
ServiceOfferingResponse, DiskOfferingResponse, NetworkOfferingResponse, TemplateResponse,
NetworkResponse, DomainRouterResponse, UserVmResponse); the conformance tests check every field
against listApis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.cloudstack.jobs import now
from lab.cloudstack.objects import Resource, Zone, drop_none

# Resource.ResourceType of 4.18: ordinal -> (name, account default, domain default). The defaults
# are the max.account.* / max.domain.* settings of a fresh install (-1 = unlimited).
RESOURCE_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("user_vm", 20, 40),
    1: ("public_ip", 20, 40),
    2: ("volume", 20, 40),
    3: ("snapshot", 20, 40),
    4: ("template", 20, 40),
    5: ("project", 5, 50),
    6: ("network", 20, 40),
    7: ("vpc", 20, 50),
    8: ("cpu", 40, 80),
    9: ("memory", 40960, 81920),
    10: ("primary_storage", 200, 400),
    11: ("secondary_storage", 400, 800),
}
TYPE_BY_NAME = {name: n for n, (name, _, _) in RESOURCE_TYPES.items()}
# AccountResponse / DomainResponse field prefixes of the limit figures, by resource type.
LIMIT_PREFIX = {0: "vm", 1: "ip", 2: "volume", 3: "snapshot", 4: "template", 5: "project", 6: "network",
                7: "vpc", 8: "cpu", 9: "memory", 10: "primarystorage", 11: "secondarystorage"}

ACCOUNT_TYPES = {0: "User", 1: "Admin", 2: "DomainAdmin", 3: "ResourceAdmin"}


def _limit_text(value: int) -> str:
    return "Unlimited" if value < 0 else str(value)


def limit_fields(limits: dict[int, int], counts: dict[int, int]) -> dict[str, Any]:
    """<prefix>limit / <prefix>total / <prefix>available, as AccountResponse and DomainResponse
    write them ("Unlimited" for -1)."""
    out: dict[str, Any] = {}
    for n, prefix in LIMIT_PREFIX.items():
        limit, total = limits[n], counts.get(n, 0)
        out[f"{prefix}limit"] = _limit_text(limit)
        out[f"{prefix}total"] = total
        out[f"{prefix}available"] = "Unlimited" if limit < 0 else str(max(limit - total, 0))
    return out


@dataclass(eq=False)
class Role(Resource):
    type: str = "User"
    description: str = ""
    isdefault: bool = False

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type, "description": self.description,
                "isdefault": self.isdefault}


@dataclass(eq=False)
class Domain(Resource):
    parent: Domain | None = None
    networkdomain: str | None = None
    state: str = "Active"
    created: str = field(default_factory=now)
    limits: dict[int, int] = field(default_factory=dict)  # explicit limits; the rest are defaults

    @property
    def level(self) -> int:
        return 0 if self.parent is None else self.parent.level + 1

    @property
    def path(self) -> str:
        return "ROOT" if self.parent is None else f"{self.parent.path}/{self.name}"

    def within(self, other: Domain) -> bool:
        """Is this domain `other` or one of its descendants?"""
        d: Domain | None = self
        while d is not None:
            if d is other:
                return True
            d = d.parent
        return False

    def limit(self, n: int) -> int:
        if n in self.limits:
            return self.limits[n]
        return -1 if self.parent is None else RESOURCE_TYPES[n][2]

    def api(self, haschild: bool, counts: dict[int, int]) -> dict[str, Any]:
        return drop_none({
            "id": self.id, "name": self.name, "level": self.level, "path": self.path,
            "parentdomainid": self.parent.id if self.parent else None,
            "parentdomainname": self.parent.name if self.parent else None,
            "haschild": haschild, "networkdomain": self.networkdomain, "state": self.state,
            "created": self.created, "hasannotations": False,
            **limit_fields({n: self.limit(n) for n in RESOURCE_TYPES}, counts),
        })

    def to_api(self) -> dict[str, Any]:
        return self.api(False, {})


@dataclass(eq=False)
class Account(Resource):
    domain: Domain | None = None
    accounttype: int = 0
    role: Role | None = None
    networkdomain: str | None = None
    state: str = "enabled"
    created: str = field(default_factory=now)
    limits: dict[int, int] = field(default_factory=dict)
    isdefault: bool = False

    def limit(self, n: int) -> int:
        if n in self.limits:
            return self.limits[n]
        return -1 if self.accounttype == 1 else RESOURCE_TYPES[n][1]

    def owner_fields(self, with_id: bool = False) -> dict[str, Any]:
        """account / domain / domainid (and accountid where the response has it), as owned objects answer them."""
        assert self.domain is not None
        out = {"account": self.name, "domain": self.domain.name, "domainid": self.domain.id}
        return {**out, "accountid": self.id} if with_id else out

    def api(self, users: list[User], counts: dict[int, int]) -> dict[str, Any]:
        assert self.domain is not None and self.role is not None
        return drop_none({
            "id": self.id, "name": self.name, "accounttype": self.accounttype, "roleid": self.role.id,
            "rolename": self.role.name, "roletype": self.role.type, "domainid": self.domain.id,
            "domain": self.domain.name, "domainpath": self.domain.path, "networkdomain": self.networkdomain,
            "state": self.state, "created": self.created, "isdefault": self.isdefault,
            "iscleanuprequired": False, "groups": [],
            "user": [u.to_api() for u in users],
            "vmrunning": counts.get(-1, 0), "vmstopped": counts.get(-2, 0),
            **limit_fields({n: self.limit(n) for n in RESOURCE_TYPES}, counts),
        })

    def to_api(self) -> dict[str, Any]:
        return self.api([], {})


@dataclass(eq=False)
class User(Resource):
    """`name` is the username."""

    account: Account | None = None
    firstname: str = ""
    lastname: str = ""
    email: str = ""
    password: str = ""  # never answered
    timezone: str | None = None
    state: str = "enabled"
    apikey: str | None = None
    secretkey: str | None = None  # answered only by registerUserKeys / getUserKeys
    created: str = field(default_factory=now)
    isdefault: bool = False

    def to_api(self) -> dict[str, Any]:
        a = self.account
        assert a is not None and a.domain is not None and a.role is not None
        return drop_none({
            "id": self.id, "username": self.name, "firstname": self.firstname, "lastname": self.lastname,
            "email": self.email, "created": self.created, "state": self.state, "account": a.name,
            "accountid": a.id, "accounttype": a.accounttype, "domainid": a.domain.id, "domain": a.domain.name,
            "roleid": a.role.id, "rolename": a.role.name, "roletype": a.role.type, "timezone": self.timezone,
            "apikey": self.apikey, "isdefault": self.isdefault, "iscallerchilddomain": False,
            "usersource": "native", "is2faenabled": False, "is2famandated": False,
        })


@dataclass(eq=False)
class ServiceOffering(Resource):
    displaytext: str = ""
    cpunumber: int | None = None
    cpuspeed: int | None = None
    memory: int | None = None
    storagetype: str = "shared"
    tags: str | None = None  # storage tags
    hosttags: str | None = None
    offerha: bool = False
    limitcpuuse: bool = False
    iscustomized: bool = False
    issystem: bool = False
    systemvmtype: str | None = None
    provisioningtype: str = "thin"
    rootdisksize: int | None = None
    domains: list[Domain] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    state: str = "Active"
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        return drop_none({
            "id": self.id, "name": self.name, "displaytext": self.displaytext, "cpunumber": self.cpunumber,
            "cpuspeed": self.cpuspeed, "memory": self.memory, "storagetype": self.storagetype,
            "storagetags": self.tags, "hosttags": self.hosttags, "offerha": self.offerha,
            "limitcpuuse": self.limitcpuuse, "iscustomized": self.iscustomized, "issystem": self.issystem,
            "systemvmtype": self.systemvmtype, "provisioningtype": self.provisioningtype,
            "rootdisksize": self.rootdisksize, "isvolatile": False, "defaultuse": False,
            "domainid": ",".join(d.id for d in self.domains) or None,
            "domain": ",".join(d.name for d in self.domains) or None,
            "zoneid": ",".join(z.id for z in self.zones) or None,
            "zone": ",".join(z.name for z in self.zones) or None,
            "created": self.created, "dynamicscalingenabled": True, "diskofferingstrictness": False,
            "encryptroot": False, "hasannotations": False, "iscustomizediops": False,
        })


@dataclass(eq=False)
class DiskOffering(Resource):
    displaytext: str = ""
    disksize: int = 0  # GB
    iscustomized: bool = False
    storagetype: str = "shared"
    tags: str | None = None
    provisioningtype: str = "thin"
    displayoffering: bool = True
    domains: list[Domain] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    state: str = "Active"
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        return drop_none({
            "id": self.id, "name": self.name, "displaytext": self.displaytext, "disksize": self.disksize,
            "iscustomized": self.iscustomized, "storagetype": self.storagetype, "tags": self.tags,
            "provisioningtype": self.provisioningtype, "displayoffering": self.displayoffering,
            "domainid": ",".join(d.id for d in self.domains) or None,
            "domain": ",".join(d.name for d in self.domains) or None,
            "zoneid": ",".join(z.id for z in self.zones) or None,
            "zone": ",".join(z.name for z in self.zones) or None,
            "created": self.created, "encrypt": False, "hasannotations": False, "iscustomizediops": False,
            "disksizestrictness": False,
        })


@dataclass(eq=False)
class NetworkOffering(Resource):
    displaytext: str = ""
    guestiptype: str = "Isolated"
    traffictype: str = "Guest"
    services: dict[str, str] = field(default_factory=dict)  # service -> provider
    specifyvlan: bool = False
    conservemode: bool = True
    egressdefaultpolicy: bool = False
    availability: str = "Optional"
    isdefault: bool = False
    ispersistent: bool = False
    state: str = "Disabled"
    networkrate: int | None = None
    domains: list[Domain] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        return drop_none({
            "id": self.id, "name": self.name, "displaytext": self.displaytext, "guestiptype": self.guestiptype,
            "traffictype": self.traffictype, "specifyvlan": self.specifyvlan, "conservemode": self.conservemode,
            "egressdefaultpolicy": self.egressdefaultpolicy, "availability": self.availability,
            "isdefault": self.isdefault, "ispersistent": self.ispersistent, "state": self.state,
            "networkrate": self.networkrate, "specifyipranges": False, "forvpc": False, "fortungsten": False,
            "supportspublicaccess": False, "supportsstrechedl2subnet": False, "internetprotocol": "IPv4",
            "service": [{"name": s, "provider": [{"name": p}]} for s, p in self.services.items()],
            "domainid": ",".join(d.id for d in self.domains) or None,
            "domain": ",".join(d.name for d in self.domains) or None,
            "zoneid": ",".join(z.id for z in self.zones) or None,
            "zone": ",".join(z.name for z in self.zones) or None,
            "created": self.created, "hasannotations": False,
        })


@dataclass(eq=False)
class OsType(Resource):
    """A row of guest_os; `name` is its description."""

    category: str = "Other"

    @property
    def description(self) -> str:
        return self.name

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.name, "oscategoryid": self.category, "isuserdefined": False}


@dataclass(eq=False)
class Template(Resource):
    """A template or (format ISO) an ISO, registered into one zone's secondary storage."""

    displaytext: str = ""
    url: str = ""
    zone: Zone | None = None
    owner: Account | None = None
    hypervisor: str | None = None
    format: str = "VHD"
    ostype: OsType | None = None
    ispublic: bool = False
    isfeatured: bool = False
    isextractable: bool = False
    passwordenabled: bool = False
    sshkeyenabled: bool = False
    isdynamicallyscalable: bool = False
    requireshvm: bool = True
    bootable: bool = True
    checksum: str | None = None
    templatetype: str = "USER"
    # The download into secondary storage (VMTemplateStorageResourceAssoc.Status)
    download_state: str = "NOT_DOWNLOADED"
    download_percent: int = 0
    errorstring: str | None = None
    size: int | None = None
    created: str = field(default_factory=now)

    @property
    def is_iso(self) -> bool:
        return self.format == "ISO"

    @property
    def isready(self) -> bool:
        return self.download_state == "DOWNLOADED"

    @property
    def status(self) -> str | None:
        """TemplateJoinDaoImpl's status text."""
        if self.download_state == "DOWNLOADED":
            return "Download Complete"
        if self.download_state == "DOWNLOAD_IN_PROGRESS":
            return "Installing Template" if self.download_percent == 100 else f"{self.download_percent}% Downloaded"
        if self.errorstring:
            return self.errorstring
        return None

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None and self.owner is not None
        return drop_none({
            "id": self.id, "name": self.name, "displaytext": self.displaytext, "url": self.url,
            "zoneid": self.zone.id, "zonename": self.zone.name, **self.owner.owner_fields(with_id=True),
            "hypervisor": self.hypervisor, "format": self.format,
            "ostypeid": self.ostype.id if self.ostype else None,
            "ostypename": self.ostype.description if self.ostype else None,
            "ispublic": self.ispublic, "isfeatured": self.isfeatured, "isextractable": self.isextractable,
            "passwordenabled": self.passwordenabled, "sshkeyenabled": self.sshkeyenabled,
            "isdynamicallyscalable": self.isdynamicallyscalable, "requireshvm": self.requireshvm,
            "bootable": self.bootable if self.is_iso else None, "checksum": self.checksum,
            "templatetype": self.templatetype, "isready": self.isready, "status": self.status,
            "size": self.size, "physicalsize": self.size, "created": self.created, "crossZones": False,
            "directdownload": False, "deployasis": False, "hasannotations": False, "tags": [],
            "downloaddetails": [{"datastore": "secondary", "downloadPercent": str(self.download_percent),
                                 "downloadState": self.download_state}],
        })


@dataclass(eq=False)
class GuestNetwork(Resource):
    displaytext: str = ""
    zone: Zone | None = None
    offering: NetworkOffering | None = None
    owner: Account | None = None
    physical_network_id: str | None = None
    cidr: str = ""
    gateway: str = ""
    netmask: str = "255.255.255.0"
    vlan: int | None = None  # assigned when the network is implemented
    networkdomain: str | None = None
    state: str = "Allocated"
    next_ip: int = 2
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None and self.offering is not None and self.owner is not None
        return drop_none({
            "id": self.id, "name": self.name, "displaytext": self.displaytext, "zoneid": self.zone.id,
            "zonename": self.zone.name, "networkofferingid": self.offering.id,
            "networkofferingname": self.offering.name, "networkofferingdisplaytext": self.offering.displaytext,
            "networkofferingavailability": self.offering.availability,
            "networkofferingconservemode": self.offering.conservemode, **self.owner.owner_fields(),
            "type": self.offering.guestiptype, "traffictype": "Guest", "state": self.state, "cidr": self.cidr,
            "gateway": self.gateway, "netmask": self.netmask, "physicalnetworkid": self.physical_network_id,
            "vlan": str(self.vlan) if self.vlan is not None else None,
            "broadcastdomaintype": "Vlan", "broadcasturi": f"vlan://{self.vlan}" if self.vlan is not None else None,
            "networkdomain": self.networkdomain, "acltype": "Account", "issystem": False, "isdefault": False,
            "ispersistent": False, "restartrequired": False, "specifyipranges": False, "canusefordeploy": True,
            "displaynetwork": True, "redundantrouter": False, "created": self.created, "hasannotations": False,
            "service": [{"name": s, "provider": [{"name": p}]} for s, p in self.offering.services.items()],
            "tags": [],
        })


@dataclass(eq=False)
class GuestVm(Resource):
    """A user VM or (kind "DomainRouter") a network's virtual router. `name` is the instance
    name (i-<account>-<id>-VM, r-<id>-VM); xapi_* say where it runs on the pool."""

    kind: str = "User"
    displayname: str = ""
    zone: Zone | None = None
    owner: Account | None = None
    offering: ServiceOffering | None = None
    template: Template | None = None
    network: GuestNetwork | None = None
    host: Any = None  # objects.Host while it runs
    state: str = "Stopped"
    ip: str = ""
    mac: str = ""
    hostname: str = ""
    xapi_vm: str | None = None  # uuid of the XAPI VM while it exists
    xapi_vdi: str | None = None  # uuid of the ROOT disk's VDI
    created: str = field(default_factory=now)

    def _host_fields(self) -> dict[str, Any]:
        if self.host is None:
            return {}
        return {"hostid": self.host.id, "hostname": self.host.name, "hypervisor": "XenServer"}

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None and self.owner is not None and self.network is not None
        if self.kind == "DomainRouter":
            return self._router_api()
        assert self.offering is not None and self.template is not None
        o, t = self.offering, self.template
        return drop_none({
            "id": self.id, "name": self.hostname, "displayname": self.displayname, "instancename": self.name,
            "state": self.state, "zoneid": self.zone.id, "zonename": self.zone.name, **self.owner.owner_fields(),
            "serviceofferingid": o.id, "serviceofferingname": o.name, "cpunumber": o.cpunumber,
            "cpuspeed": o.cpuspeed, "memory": o.memory, "templateid": t.id, "templatename": t.name,
            "templatedisplaytext": t.displaytext, "ostypeid": t.ostype.id if t.ostype else None,
            "osdisplayname": t.ostype.description if t.ostype else None, "guestosid": t.ostype.id if t.ostype else None,
            "passwordenabled": t.passwordenabled, "created": self.created, "haenable": o.offerha,
            "isdynamicallyscalable": False, "displayvm": True, "rootdeviceid": 0, "rootdevicetype": "ROOT",
            "pooltype": "PreSetup", "hasannotations": False, "tags": [], "affinitygroup": [], "securitygroup": [],
            "hypervisor": "XenServer", **self._host_fields(),
            "nic": [{"id": f"{self.id[:-12]}{self.network.id[-12:]}", "networkid": self.network.id,
                     "networkname": self.network.name, "ipaddress": self.ip, "macaddress": self.mac,
                     "gateway": self.network.gateway, "netmask": self.network.netmask, "isdefault": True,
                     "traffictype": "Guest", "type": "Isolated", "deviceid": "0",
                     "broadcasturi": f"vlan://{self.network.vlan}", "isolationuri": f"vlan://{self.network.vlan}"}],
        })

    def _router_api(self) -> dict[str, Any]:
        assert self.zone is not None and self.owner is not None and self.network is not None
        own = self.owner.owner_fields()
        host = self.host
        return drop_none({
            "id": self.id, "name": self.name, "state": self.state, "zoneid": self.zone.id,
            "zonename": self.zone.name, **own, "guestnetworkid": self.network.id,
            "guestnetworkname": self.network.name, "guestipaddress": self.ip, "guestmacaddress": self.mac,
            "guestnetmask": self.network.netmask, "gateway": self.network.gateway, "role": "VIRTUAL_ROUTER",
            "redundantstate": "UNKNOWN", "isredundantrouter": False, "requiresupgrade": False,
            "serviceofferingid": self.offering.id if self.offering else None,
            "serviceofferingname": self.offering.name if self.offering else None,
            "hostid": host.id if host else None, "hostname": host.name if host else None,
            "podid": host.cluster.pod.id if host else None, "podname": host.cluster.pod.name if host else None,
            "hypervisor": "XenServer", "created": self.created, "version": "4.18.0", "hasannotations": False,
            "healthchecksfailed": False,
        })
