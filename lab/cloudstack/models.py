"""The management server's state and rules: what exists, what refers to what, what is refused.

One `Backend` per emulator holds every object in insertion order with its uuid and the internal
numeric id the real server prints in some error texts. Methods raise `CloudStackError` carrying
the exception the real service layer raises (texts from apache/cloudstack ConfigurationManagerImpl,
NetworkServiceImpl, ResourceManagerImpl, StorageManagerImpl where read; see the report for the
few that are paraphrased). Serialising an object for the wire is its `to_api()`.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.jobs import Job, Jobs, now

T = TypeVar("T", bound="Resource")


@dataclass
class Resource:
    """Common to every stored object: uuid, internal id, name."""

    id: str
    dbid: int
    name: str

    kind = "resource"

    def to_api(self, backend: Backend) -> dict[str, Any]:
        raise NotImplementedError


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


# ------------------------------------------------------------------------------------------ zone


ALLOCATION_STATES = ("Enabled", "Disabled")


@dataclass
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

    kind = "zone"

    def to_api(self, backend: Backend) -> dict[str, Any]:
        return _drop_none({
            "id": self.id,
            "name": self.name,
            "dns1": self.dns1,
            "dns2": self.dns2,
            "internaldns1": self.internaldns1,
            "internaldns2": self.internaldns2,
            "ip6dns1": self.ip6dns1,
            "ip6dns2": self.ip6dns2,
            "guestcidraddress": self.guestcidraddress,
            "domain": self.domain,
            "networktype": self.networktype,
            "securitygroupsenabled": self.securitygroupsenabled,
            "allocationstate": self.allocationstate,
            "zonetoken": self.zonetoken,
            "dhcpprovider": self.dhcpprovider,
            "localstorageenabled": self.localstorageenabled,
            "tags": [],
            "resourcedetails": dict(self.details) if self.details else None,
            "hasannotations": False,
            "allowuserspecifyvrmtu": False,
            "routerprivateinterfacemaxmtu": 1500,
            "routerpublicinterfacemaxmtu": 1500,
        })


# -------------------------------------------------------------------------------------- backend


class Backend:
    """Every object of one management server, and the rules between them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs = Jobs(self.lock)
        self._objects: dict[str, Resource] = {}
        self._ids = itertools.count(1)
        self.xapi_connect: Callable[[str, str, str], Any] | None = None

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
        return [o for o in self._objects.values() if isinstance(o, cls)]

    def get(self, cls: type[T], uid: str | None) -> T | None:
        obj = self._objects.get(uid or "")
        return obj if isinstance(obj, cls) else None

    def read(self, objs: Iterable[T]) -> list[T]:
        """Objects about to be answered: pending transitions on them settle first."""
        out = list(objs)
        for o in out:
            self.jobs.settle(o)
        return out

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
        if networktype == "Advanced" and not p.get("guestcidraddress"):
            p = {**p, "guestcidraddress": "10.1.1.0/24"}  # ConfigurationManagerImpl's default
        uid, dbid = self.new_id()
        zone = Zone(
            uid, dbid, p["name"], networktype=networktype,
            dns1=p["dns1"], dns2=p.get("dns2"), internaldns1=p["internaldns1"], internaldns2=p.get("internaldns2"),
            ip6dns1=p.get("ip6dns1"), ip6dns2=p.get("ip6dns2"),
            guestcidraddress=p.get("guestcidraddress") if networktype == "Advanced" else None,
            domain=p.get("domain"), allocationstate=p.get("allocationstate") or "Disabled",
            securitygroupsenabled=bool(p.get("securitygroupenabled", networktype == "Basic")),
            localstorageenabled=bool(p.get("localstorageenabled", False)),
        )
        return self.add(zone)

    def zone(self, uid: str | None, what: str = "zone") -> Zone:
        zone = self.get(Zone, uid)
        if zone is None:
            raise errors.invalid_parameter(f"unable to find {what} by id {uid}")
        return zone

    def update_zone(self, p: dict[str, Any]) -> Zone:
        zone = self.get(Zone, p["id"])
        if zone is None:
            raise errors.invalid_parameter(f"unable to find zone by id {p['id']}")
        details: dict[str, str] = {}
        for d in p.get("details") or []:
            if "key" not in d or "value" not in d:
                raise errors.invalid_parameter(
                    "Invalid Zone Detail specified, fields 'key' and 'value' cannot be null, please specify details "
                    "in the form:  details[0].key=XXX&details[0].value=YYY")
            details[d["key"]] = d["value"]
        self._check_guest_cidr(p.get("guestcidraddress"))
        name = p.get("name") or zone.name
        self._check_zone_parameters(
            {**{k: getattr(zone, k) for k in ("dns1", "dns2", "internaldns1", "internaldns2", "ip6dns1", "ip6dns2")},
             **{k: v for k, v in p.items() if v is not None}},
            check_name=name if name != zone.name else None,
        )
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

    def _check_zone_enable(self, zone: Zone) -> None:
        """editZone: an enabled zone needs Management (and Public unless SG) traffic somewhere."""
        hook = getattr(self, "_zone_enable_hook", None)
        if hook is not None:
            hook(zone)

    def delete_zone(self, uid: str) -> None:
        zone = self.get(Zone, uid)
        if zone is None:
            raise errors.invalid_parameter(f"A zone with ID: {uid} does not exist.")
        for reason in self._zone_dependents(zone):
            raise errors.cloud_runtime(f"The zone cannot be deleted because {reason}")
        self.remove(zone)

    def _zone_dependents(self, zone: Zone) -> list[str]:
        hook = getattr(self, "_zone_dependents_hook", None)
        return list(hook(zone)) if hook is not None else []

    # --- async ----------------------------------------------------------------------------------
    def submit(self, command: str, instance_type: str, instance_id: str | None,
               run: Callable[[], dict[str, Any]], *, fail_with: CloudStackError | None = None,
               on_fail: Callable[[], None] | None = None) -> Job:
        return self.jobs.submit(command, instance_type, instance_id, run, fail_with=fail_with, on_fail=on_fail)


__all__ = ["Backend", "Resource", "Zone", "now"]
