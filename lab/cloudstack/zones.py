"""Zones, physical networks, traffic types, network service providers and the VR element.

Rules and texts from ConfigurationManagerImpl (createZone, editZone, deleteZone) and
NetworkServiceImpl (createPhysicalNetwork, addTrafficTypeToPhysicalNetwork,
updateNetworkServiceProvider, deletePhysicalNetwork).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.objects import (
    ALLOCATION_STATES,
    DEFAULT_PROVIDERS,
    PROVIDER_SERVICES,
    TRAFFIC_TYPES,
    Host,
    ImageStore,
    PhysicalNetwork,
    Pod,
    RouterElement,
    ServiceProvider,
    TrafficType,
    Zone,
    valid_ip4,
    valid_ip6,
)
from lab.cloudstack.store import Store


class Zones:
    """Zones and their physical networks, traffic types, providers and VR elements."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- zones ----------------------------------------------------------------------------------
    def _check_zone_parameters(self, p: dict[str, Any], check_name: str | None) -> None:
        """ConfigurationManagerImpl.checkZoneParameters."""
        if check_name is not None and any(z.name == check_name for z in self.store.all(Zone)):
            raise errors.invalid_parameter("A zone with that name already exists. Please specify a unique zone name.")
        for key, label in (("dns1", "DNS1"), ("dns2", "DNS2"), ("internaldns1", "internal DNS1"),
                           ("internaldns2", "internal DNS2")):
            if p.get(key) and not valid_ip4(p[key]):
                raise errors.invalid_parameter(f"Please enter a valid IP address for {label}")
        for key, label in (("ip6dns1", "IP6 DNS1"), ("ip6dns2", "IP6 DNS2")):
            if p.get(key) and not valid_ip6(p[key]):
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
        """ConfigurationManagerImpl.createZone(cmd): the guest CIDR is stored as given (no default)."""
        kind = p["networktype"]
        if kind.lower() not in ("basic", "advanced"):
            raise errors.invalid_parameter("Invalid zone type; only Advanced and Basic values are supported")
        networktype = "Basic" if kind.lower() == "basic" else "Advanced"
        if networktype == "Basic" and p.get("guestcidraddress") is not None:
            raise errors.invalid_parameter("guestCidrAddress parameter is not supported for Basic zone")
        self._check_guest_cidr(p.get("guestcidraddress"))
        self._check_zone_parameters(p, check_name=p["name"])
        uid, dbid = self.store.new_id()
        zone = Zone(
            uid, dbid, p["name"], networktype=networktype,
            dns1=p["dns1"] or None, dns2=p.get("dns2") or None, internaldns1=p["internaldns1"] or None,
            internaldns2=p.get("internaldns2") or None, ip6dns1=p.get("ip6dns1"), ip6dns2=p.get("ip6dns2"),
            guestcidraddress=p.get("guestcidraddress"),
            domain=p.get("domain"), allocationstate=p.get("allocationstate") or "Disabled",
            securitygroupsenabled=networktype == "Basic" or bool(p.get("securitygroupenabled", False)),
            localstorageenabled=bool(p.get("localstorageenabled", False)),
        )
        return self.store.add(zone)

    def zone(self, uid: str | None, text: str | None = None) -> Zone:
        zone = self.store.get(Zone, uid)
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
        return [n for n in self.store.all(PhysicalNetwork)
                if n.zone is zone and any(t.network is n and t.name == traffic for t in self.store.all(TrafficType))]

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
                like = next(t for t in self.store.all(TrafficType) if t.network is mgmt and t.name == "Management")
                uid, dbid = self.store.new_id()
                self.store.add(TrafficType(uid, dbid, "Storage", network=mgmt, xennetworklabel=like.xennetworklabel,
                                     kvmnetworklabel=like.kvmnetworklabel, vmwarenetworklabel=like.vmwarenetworklabel,
                                     hypervnetworklabel=like.hypervnetworklabel, vlan=like.vlan))
        except CloudStackError as e:
            raise errors.invalid_parameter(f"Cannot enable this Zone since: {e.errortext}") from None

    def delete_zone(self, uid: str) -> None:
        zone = self.store.get(Zone, uid)
        if zone is None:
            raise errors.invalid_parameter(f"A zone with ID: {uid} does not exist.")
        why = "The zone cannot be deleted because "
        if any(h.cluster and h.cluster.pod and h.cluster.pod.zone is zone for h in self.store.all(Host)):
            raise errors.cloud_runtime(why + "there are servers in this zone.")
        if any(p.zone is zone for p in self.store.all(Pod)):
            raise errors.cloud_runtime(why + "there are pods in this zone.")
        if any(n.zone is zone for n in self.store.all(PhysicalNetwork)):
            raise errors.cloud_runtime(why + "there are physical networks in this zone.")
        if any(s.zone is zone and s.scope == "ZONE" and s.role == "Image" for s in self.store.all(ImageStore)):
            raise errors.cloud_runtime(why + "there are Secondary storages in this zone")
        for s in self.store.all(ImageStore):  # staging stores go with the zone
            if s.zone is zone:
                self.store.remove(s)
        self.store.remove(zone)

    # --- physical networks, traffic types, providers ---------------------------------------------
    def physical_network(self, uid: str | None) -> PhysicalNetwork:
        net = self.store.get(PhysicalNetwork, uid)
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
        if zone.networktype == "Basic" and any(n.zone is zone for n in self.store.all(PhysicalNetwork)):
            raise errors.cloud_runtime(
                f"Cannot add the physical network to basic zone id: {zone.dbid}, there is a physical network "
                "already existing in this basic Zone")
        tags, isolation = p.get("tags") or [], p.get("isolationmethods") or []
        bdr = self._check_new_network(zone, p, tags, isolation)
        uid, dbid = self.store.new_id()
        net = self.store.add(PhysicalNetwork(
            uid, dbid, p["name"], zone=zone, vlan=p.get("vlan"), isolationmethods=list(isolation), tags=list(tags),
            networkspeed=p.get("networkspeed"), broadcastdomainrange=(bdr or "ZONE").upper()))
        for name, state in DEFAULT_PROVIDERS:
            if name == "SecurityGroupProvider" or zone.networktype == "Advanced":
                nsp = self.add_provider(net, name, state)
                if name in ("VirtualRouter", "VpcVirtualRouter"):
                    self.store.add(RouterElement(*self.store.new_id(), name, nsp=nsp))
        return net

    def _check_new_network(self, zone: Zone, p: dict[str, Any], tags: list[str], isolation: list[str]) -> str | None:
        """createPhysicalNetwork's checks on its parameters; the broadcast domain range given, if any."""
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
        return bdr

    def add_provider(self, net: PhysicalNetwork, name: str, state: str = "Disabled") -> ServiceProvider:
        uid, dbid = self.store.new_id()
        return self.store.add(ServiceProvider(uid, dbid, name, network=net, state=state,
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
        for nsp in [s for s in self.store.all(ServiceProvider) if s.network is net]:
            for el in [e for e in self.store.all(RouterElement) if e.nsp is nsp]:
                self.store.remove(el)
            self.store.remove(nsp)
        for t in [t for t in self.store.all(TrafficType) if t.network is net]:
            self.store.remove(t)
        self.store.remove(net)

    def add_traffic_type(self, p: dict[str, Any]) -> TrafficType:
        net = self.store.get(PhysicalNetwork, p["physicalnetworkid"])
        if net is None:
            raise errors.invalid_parameter(f"Physical Network id={p['physicalnetworkid']}doesn't exist in the system")
        assert net.zone is not None
        kind = p["traffictype"]
        if kind not in TRAFFIC_TYPES:
            raise errors.invalid_parameter(f"Unable to resolve trafficType '{kind}' to a supported value")
        if any(t.network is net and t.name == kind for t in self.store.all(TrafficType)):
            raise errors.cloud_runtime(f"This physical network already supports the traffic type: {kind}")
        if kind in ("Management", "Control", "Public", "Storage") and self._networks_with_traffic(net.zone, kind):
            raise errors.cloud_runtime(
                "Fail to add the traffic type to physical network because Zone already has a physical network with "
                f"this traffic type: {kind}")
        if not net.tags and len([n for n in self._networks_with_traffic(net.zone, kind) if not n.tags]) > 0:
            raise errors.cloud_runtime(
                f"There are more than 1 physical network without tags in the "
                f"zone= {net.zone.dbid}")
        uid, dbid = self.store.new_id()
        return self.store.add(TrafficType(
            uid, dbid, kind, network=net, xennetworklabel=p.get("xennetworklabel"),
            kvmnetworklabel=p.get("kvmnetworklabel"), vmwarenetworklabel=p.get("vmwarenetworklabel"),
            hypervnetworklabel=p.get("hypervnetworklabel"), ovm3networklabel=p.get("ovm3networklabel"),
            vlan=p.get("vlan"), isolationmethod=p.get("isolationmethod")))

    def traffic_type(self, uid: str) -> TrafficType:
        t = self.store.get(TrafficType, uid)
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
        nsp = self.store.get(ServiceProvider, uid)
        if nsp is None:
            raise errors.invalid_parameter(f"Network Service Provider id={uid}doesn't exist in the system")
        return nsp

    def add_network_service_provider(self, p: dict[str, Any]) -> ServiceProvider:
        """NetworkServiceImpl.addProviderToPhysicalNetwork: one provider of a name per network."""
        net = self.physical_network(p["physicalnetworkid"])
        if any(s.network is net and s.name == p["name"] for s in self.store.all(ServiceProvider)):
            raise errors.cloud_runtime(
                f"The '{p['name']}' provider already exists on physical network : {net.dbid}")
        nsp = self.add_provider(net, p["name"])
        if p.get("servicelist") is not None:
            nsp.servicelist = list(p["servicelist"])
        return nsp

    def delete_provider(self, nsp: ServiceProvider) -> None:
        """The provider goes with its VR elements."""
        for el in [e for e in self.store.all(RouterElement) if e.nsp is nsp]:
            self.store.remove(el)
        self.store.remove(nsp)

    def update_provider(self, nsp: ServiceProvider, p: dict[str, Any]) -> ServiceProvider:
        """NetworkServiceImpl.updateNetworkServiceProvider (in the job)."""
        state = p.get("state")
        if state and state not in ("Enabled", "Disabled", "Shutdown"):
            raise errors.invalid_parameter(
                f"Unable to resolve state '{state}' to a supported value {{Enabled or Disabled}}")
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
            return any(e.nsp is nsp and e.enabled for e in self.store.all(RouterElement))
        return True

    def router_element(self, uid: str) -> RouterElement:
        el = self.store.get(RouterElement, uid)
        if el is None:
            raise errors.invalid_parameter(f"Can't find element with network service provider id {uid}")
        return el

    def create_router_element(self, p: dict[str, Any]) -> RouterElement:
        nsp = self.provider(p["nspid"])
        if any(e.nsp is nsp for e in self.store.all(RouterElement)):
            raise errors.invalid_parameter(
                f"There is already a virtual router element with service provider id {nsp.dbid}")
        return self.store.add(RouterElement(*self.store.new_id(), nsp.name, nsp=nsp))

    def configure_router_element(self, el: RouterElement, p: dict[str, Any]) -> RouterElement:
        el.enabled = p["enabled"]
        return el
