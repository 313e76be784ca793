"""Compute (service), disk and network offerings: ConfigurationManagerImpl's rules.

What an update cannot change is not a parameter of the update command (listApis 4.18):
updateServiceOffering takes name, displaytext, sortkey, hosttags, storagetags, domainid and
zoneid only (cpu, speed, memory, storage type, HA are fixed); updateDiskOffering not the size
or storage type; updateNetworkOffering not the services. Offerings are soft-deleted (state
Inactive) and then no longer listed. A new network offering is Disabled until updated to
Enabled; the default isolated offering with source NAT ships Enabled.
"""

from __future__ import annotations

from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.store import Store
from lab.cloudstack.tenant_objects import Account, DiskOffering, Domain, NetworkOffering, ServiceOffering
from lab.cloudstack.tenants import Tenants
from lab.cloudstack.zones import Zones

P = dict[str, Any]
INT_MAX = 2**31 - 1
DEFAULT_ISOLATED = "DefaultIsolatedNetworkOfferingWithSourceNatService"
DEFAULT_ISOLATED_ID = "f3c3a6e2-0000-4000-8000-0000000000b1"
ROUTER_OFFERING_ID = "f3c3a6e2-0000-4000-8000-0000000000b2"
ISOLATED_SERVICES = {"Dhcp": "VirtualRouter", "Dns": "VirtualRouter", "UserData": "VirtualRouter",
                     "Firewall": "VirtualRouter", "Gateway": "VirtualRouter", "Lb": "VirtualRouter",
                     "PortForwarding": "VirtualRouter", "SourceNat": "VirtualRouter", "StaticNat": "VirtualRouter",
                     "Vpn": "VirtualRouter"}
GUEST_IP_TYPES = ("Isolated", "Shared", "L2")


class Offerings:
    def __init__(self, store: Store, zones: Zones, tenants: Tenants) -> None:
        self.store = store
        self.zones = zones
        self.tenants = tenants
        store.add(NetworkOffering(
            DEFAULT_ISOLATED_ID, store.next_dbid(), DEFAULT_ISOLATED,
            "Offering for Isolated networks with Source Nat service enabled", services=dict(ISOLATED_SERVICES),
            isdefault=True, state="Enabled", networkrate=200))
        self.router_offering = store.add(ServiceOffering(
            ROUTER_OFFERING_ID, store.next_dbid(), "System Offering For Software Router",
            "System Offering For Software Router", 1, 500, 256, issystem=True, systemvmtype="domainrouter"))

    # --- scope ------------------------------------------------------------------------------------
    def _domains(self, p: P) -> list[Domain]:
        ids = p.get("domainid") or []
        ids = ids if isinstance(ids, list) else [ids]
        return [self.tenants.domain(i) for i in ids if i and i != "public"]

    def _zones(self, p: P) -> list[Any]:
        ids = p.get("zoneid") or []
        ids = ids if isinstance(ids, list) else [ids]
        return [self.zones.zone(i) for i in ids if i and i != "all"]

    def offered_to(self, caller: Account, offering: Any) -> bool:
        """Public offerings, or those of a domain the caller's domain belongs to (or, for a domain
        admin, below it)."""
        if self.tenants.is_root_admin(caller) or not offering.domains:
            return True
        assert caller.domain is not None
        return any(caller.domain.within(d) or (caller.accounttype == 2 and d.within(caller.domain))
                   for d in offering.domains)

    # --- service offerings ------------------------------------------------------------------------
    def service_offering(self, uid: str | None) -> ServiceOffering:
        o = self.store.get(ServiceOffering, uid)
        if o is None or o.state != "Active":
            raise errors.invalid_parameter(f"unable to find service offering {uid}")
        return o

    def create_service_offering(self, p: P) -> ServiceOffering:
        name = p["name"]
        cpu, speed, memory = p.get("cpunumber"), p.get("cpuspeed"), p.get("memory")
        customized = p.get("customized", cpu is None and memory is None)
        if cpu is not None and not 1 <= cpu <= INT_MAX:
            raise errors.invalid_parameter(
                f"Failed to create service offering {name}: specify the cpu number value between 1 and {INT_MAX}")
        if speed is not None and not 0 <= speed <= INT_MAX:
            raise errors.invalid_parameter(
                f"Failed to create service offering {name}: specify the cpu speed value between 0 and {INT_MAX}")
        if memory is not None and not 32 <= memory <= INT_MAX:
            raise errors.invalid_parameter(
                f"Failed to create service offering {name}: specify the memory value between 32 and {INT_MAX} MB")
        if not customized and (cpu is None or speed is None or memory is None):
            raise errors.invalid_parameter(
                "For creating a custom compute offering cpu, cpu speed and memory all should be null")
        storage = (p.get("storagetype") or "shared").lower()
        if storage not in ("local", "shared"):
            raise errors.invalid_parameter(
                f"Invalid storage type {p.get('storagetype')} specified, valid types are: 'local' and 'shared'")
        uid, dbid = self.store.new_id()
        return self.store.add(ServiceOffering(
            uid, dbid, name, p.get("displaytext") or name, cpu, speed, memory, storage, p.get("tags"),
            p.get("hosttags"), bool(p.get("offerha", False)), bool(p.get("limitcpuuse", False)), bool(customized),
            provisioningtype=p.get("provisioningtype") or "thin", rootdisksize=p.get("rootdisksize"),
            domains=self._domains(p), zones=self._zones(p)))

    def update_service_offering(self, p: P) -> ServiceOffering:
        o = self.service_offering(p["id"])
        if o.issystem:
            raise errors.invalid_parameter(f"Unable to update system service offering {o.name}")
        self._update_common(o, p)
        if "hosttags" in p:
            o.hosttags = p["hosttags"] or None
        if "storagetags" in p:
            o.tags = p["storagetags"] or None
        return o

    def _update_common(self, o: Any, p: P) -> None:
        if p.get("name"):
            o.name = p["name"]
        if p.get("displaytext"):
            o.displaytext = p["displaytext"]
        if "domainid" in p:
            o.domains = self._domains(p)
        if "zoneid" in p:
            o.zones = self._zones(p)

    def delete_service_offering(self, p: P) -> None:
        o = self.service_offering(p["id"])
        if o.issystem:
            raise errors.invalid_parameter(f"Unable to delete system service offering {o.name}")
        o.state = "Inactive"

    # --- disk offerings ----------------------------------------------------------------------------
    def disk_offering(self, uid: str | None) -> DiskOffering:
        o = self.store.get(DiskOffering, uid)
        if o is None or o.state != "Active":
            raise errors.invalid_parameter(f"Unable to find disk offering by id {uid}")
        return o

    def create_disk_offering(self, p: P) -> DiskOffering:
        customized = bool(p.get("customized", False))
        size = p.get("disksize")
        if size is None and not customized:
            raise errors.invalid_parameter("Disksize is required for a non-customized disk offering")
        if size is not None and size <= 0:
            raise errors.invalid_parameter(
                "Please specify a disk size of at least 1 GB.")
        storage = (p.get("storagetype") or "shared").lower()
        if storage not in ("local", "shared"):
            raise errors.invalid_parameter(
                f"Invalid storage type {p.get('storagetype')} specified, valid types are: 'local' and 'shared'")
        uid, dbid = self.store.new_id()
        return self.store.add(DiskOffering(
            uid, dbid, p["name"], p.get("displaytext") or p["name"], size or 0, customized, storage, p.get("tags"),
            p.get("provisioningtype") or "thin", p.get("displayoffering", True), self._domains(p), self._zones(p)))

    def update_disk_offering(self, p: P) -> DiskOffering:
        o = self.disk_offering(p["id"])
        self._update_common(o, p)
        if "tags" in p:
            o.tags = p["tags"] or None
        if "displayoffering" in p:
            o.displayoffering = bool(p["displayoffering"])
        return o

    def delete_disk_offering(self, p: P) -> None:
        self.disk_offering(p["id"]).state = "Inactive"

    # --- network offerings -------------------------------------------------------------------------
    def network_offering(self, uid: str | None) -> NetworkOffering:
        o = self.store.get(NetworkOffering, uid)
        if o is None:
            raise errors.invalid_parameter(f"Unable to find network offering by id {uid}")
        return o

    def create_network_offering(self, p: P) -> NetworkOffering:
        guest = p.get("guestiptype") or ""
        if guest not in GUEST_IP_TYPES:
            raise errors.invalid_parameter(f"Invalid guest ip type; can have Isolated, Shared or L2 value: {guest}")
        if (p.get("traffictype") or "").lower() != "guest":
            raise errors.invalid_parameter("Only traffic type GUEST is supported by the network offering")
        services = list(p.get("supportedservices") or [])
        providers = {d.get("service"): d.get("provider") for d in (p.get("serviceproviderlist") or [])}
        for svc in providers:
            if svc not in services:
                raise errors.invalid_parameter(f"Service {svc} is not enabled for the network offering, can't add a "
                                               "provider to it")
        unknown = [s for s in services if s not in ISOLATED_SERVICES and s not in ("NetworkACL", "SecurityGroup")]
        if unknown:
            raise errors.invalid_parameter(f"Invalid service {unknown[0]}")
        if guest == "Isolated" and "SourceNat" in services and providers.get("SourceNat") not in (None,
                                                                                                  "VirtualRouter"):
            raise errors.invalid_parameter("Provider for SourceNat service is not supported")
        uid, dbid = self.store.new_id()
        return self.store.add(NetworkOffering(
            uid, dbid, p["name"], p.get("displaytext") or p["name"], guest, "Guest",
            {s: providers.get(s) or "VirtualRouter" for s in services}, bool(p.get("specifyvlan", False)),
            bool(p.get("conservemode", True)), bool(p.get("egressdefaultpolicy", False)),
            p.get("availability") or "Optional", ispersistent=bool(p.get("ispersistent", False)),
            state="Enabled" if p.get("enable") else "Disabled", networkrate=p.get("networkrate"),
            domains=self._domains(p), zones=self._zones(p)))

    def update_network_offering(self, p: P) -> NetworkOffering:
        o = self.network_offering(p["id"])
        if o.isdefault and (p.get("state") == "Disabled"):
            raise errors.invalid_parameter("Can't disable the default network offering")
        if p.get("state") is not None:
            if p["state"] not in ("Enabled", "Disabled"):
                raise errors.invalid_parameter(f"Incorrect state value: {p['state']}")
            o.state = p["state"]
        if p.get("availability") is not None:
            o.availability = p["availability"]
        self._update_common(o, p)
        return o

    def delete_network_offering(self, p: P, in_use: bool) -> None:
        o = self.network_offering(p["id"])
        if o.isdefault:
            raise errors.invalid_parameter("Default network offering can't be deleted")
        if in_use:
            raise errors.invalid_parameter("Can't delete network offering " + o.id + " as its used by networks. "
                                           "To make the network offering unavailable, disable it")
        self.store.remove(o)
