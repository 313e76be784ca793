"""Public IP ranges (`createVlanIpRange` & co, forvirtualnetwork) and storage network IP ranges
(`createStorageNetworkIpRange` & co), and the addresses system VMs take from them.

Rules and texts from ConfigurationManagerImpl (createVlanAndPublicIpRange, deleteVlanAndPublicIpRange,
updateVlanAndPublicIpRange) and StorageNetworkManagerImpl (createIpRange, updateIpRange,
deleteIpRange, acquireIpAddress).
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.objects import (
    ROOT_DOMAIN_ID,
    PhysicalNetwork,
    Pod,
    Resource,
    TrafficType,
    Zone,
    valid_ip4,
)
from lab.cloudstack.store import Store
from lab.cloudstack.zones import Zones

IP = ipaddress.IPv4Address


def _ips(start: str, end: str) -> range:
    return range(int(IP(start)), int(IP(end)) + 1)


def _overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """NetUtils.ipRangesOverlap."""
    return int(IP(a[0])) <= int(IP(b[1])) and int(IP(b[0])) <= int(IP(a[1]))


def public_network_id(zone: Zone) -> str:
    """The zone's system Public network (created with the zone; not modelled otherwise)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"public-network/{zone.id}"))


def vlan_uri(vlan: str | None) -> str:
    """The vlan tag as stored: vlan://untagged, vlan://100."""
    if vlan is None or vlan.lower() in ("", "untagged", "vlan://untagged"):
        return "vlan://untagged"
    return vlan if "://" in vlan else f"vlan://{vlan}"


@dataclass(eq=False)
class VlanIpRange(Resource):
    """A public range (VlanVO, VirtualNetwork); `used` maps an address to what holds it."""

    zone: Zone | None = None
    network: PhysicalNetwork | None = None
    vlan: str = "vlan://untagged"
    gateway: str = ""
    netmask: str = ""
    startip: str = ""
    endip: str = ""
    forsystemvms: bool = False
    used: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None and self.network is not None
        cidr = ipaddress.IPv4Network(f"{self.gateway}/{self.netmask}", strict=False)
        return {
            "id": self.id, "forvirtualnetwork": True, "zoneid": self.zone.id, "vlan": self.vlan,
            "domainid": ROOT_DOMAIN_ID, "domain": "ROOT", "gateway": self.gateway, "netmask": self.netmask,
            "cidr": str(cidr), "startip": self.startip, "endip": self.endip,
            "networkid": public_network_id(self.zone), "physicalnetworkid": self.network.id,
            "forsystemvms": self.forsystemvms,
        }


@dataclass(eq=False)
class StorageIpRange(Resource):
    """StorageNetworkIpRangeVO of a pod."""

    pod: Pod | None = None
    gateway: str | None = None
    netmask: str = ""
    startip: str = ""
    endip: str = ""
    vlan: int | None = None
    used: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        assert self.pod is not None and self.pod.zone is not None
        out: dict[str, Any] = {
            "id": self.id, "podid": self.pod.id, "zoneid": self.pod.zone.id, "startip": self.startip,
            "endip": self.endip, "netmask": self.netmask,
            "networkid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"storage-network/{self.pod.zone.id}")),
        }
        if self.gateway is not None:
            out["gateway"] = self.gateway
        if self.vlan is not None:
            out["vlan"] = self.vlan
        return out


class IpRanges:
    """Public and storage ranges of the zones, and allocation of their addresses."""

    def __init__(self, store: Store, zones: Zones) -> None:
        self.store = store
        self.zones = zones

    # --- public ranges -------------------------------------------------------------------------------
    def vlan_range(self, uid: str) -> VlanIpRange:
        r = self.store.get(VlanIpRange, uid)
        if r is None:
            raise errors.invalid_parameter(f"Please specify a valid IP range id. Unable to find vlan by id {uid}")
        return r

    def _public_network(self, zone: Zone, given: str | None) -> PhysicalNetwork:
        if given is not None:
            return self.zones.physical_network(given)
        nets = {t.network for t in self.store.all(TrafficType) if t.name == "Public" and t.network
                and t.network.zone is zone}
        if len(nets) != 1:
            raise errors.invalid_parameter(
                "Unable to find the default physical network with traffic=Public in the specified zone id")
        return nets.pop()

    @staticmethod
    def _check_addresses(gateway: str | None, netmask: str | None, start: str | None, end: str) -> None:
        if not gateway or not netmask or not start:
            raise errors.invalid_parameter(
                "Gateway, netmask and zoneId have to be passed in for virtual and direct untagged networks")
        for value, what in ((gateway, "gateway"), (netmask, "netmask"), (start, "start IP"), (end, "end IP")):
            if not valid_ip4(value):
                raise errors.invalid_parameter(f"Please specify a valid {what}")
        net = ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)
        for value, what in ((start, "start"), (end, "end")):
            if IP(value) not in net:
                raise errors.invalid_parameter(
                    f"Please ensure that your {what} IP is in the same subnet as your IP range's gateway, as per the "
                    "IP range's netmask.")
        if IP(start) > IP(end):
            raise errors.invalid_parameter("Please specify a valid IP range.")

    def _check_overlaps(self, zone: Zone, vlan: str, gateway: str, netmask: str, rng: tuple[str, str],
                        skip: VlanIpRange | None = None) -> None:
        net = ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)
        for other in self.store.all(VlanIpRange):
            if other is skip or other.zone is not zone:
                continue
            if other.vlan == vlan and _overlap(rng, (other.startip, other.endip)):
                raise errors.invalid_parameter(
                    "The IP range already has IPs that overlap with the new range. Please specify a different start "
                    "IP/end IP.")
            other_net = ipaddress.IPv4Network(f"{other.gateway}/{other.netmask}", strict=False)
            if other.vlan != vlan and net.overlaps(other_net):
                raise errors.invalid_parameter(
                    f"The IP range with tag: {other.vlan} in zone {zone.name} has overlapped with the subnet. Please "
                    "specify a different gateway/netmask.")
        for pod in self.store.all(Pod):
            for start, end in pod.ranges if pod.zone is zone else []:
                if _overlap(rng, (start, end)):
                    raise errors.invalid_parameter(
                        f"The Start IP and EndIP address range overlap with private IP :{start}:{end}")

    def create_vlan_range(self, p: dict[str, Any]) -> VlanIpRange:
        """A public range (forvirtualnetwork, the default) of an Advanced zone."""
        zone = self.zones.zone(p.get("zoneid"), "Please specify a valid zone.")
        if p.get("forvirtualnetwork") is False:
            raise errors.unsupported("The CloudStack emulator models public (forvirtualnetwork) ranges only")
        net = self._public_network(zone, p.get("physicalnetworkid"))
        end = p.get("endip") or p.get("startip") or ""
        self._check_addresses(p.get("gateway"), p.get("netmask"), p.get("startip"), end)
        vlan = vlan_uri(p.get("vlan"))
        self._check_overlaps(zone, vlan, p["gateway"], p["netmask"], (p["startip"], end))
        uid, dbid = self.store.new_id()
        return self.store.add(VlanIpRange(
            uid, dbid, "", zone=zone, network=net, vlan=vlan, gateway=p["gateway"], netmask=p["netmask"],
            startip=p["startip"], endip=end, forsystemvms=bool(p.get("forsystemvms", False))))

    def update_vlan_range(self, p: dict[str, Any]) -> VlanIpRange:
        """updateVlanIpRange: the range may move as long as the addresses in use stay inside it."""
        r = self.vlan_range(p["id"])
        assert r.zone is not None
        gateway, netmask = p.get("gateway") or r.gateway, p.get("netmask") or r.netmask
        start, end = p.get("startip") or r.startip, p.get("endip") or r.endip
        self._check_addresses(gateway, netmask, start, end)
        outside = sorted(ip for ip in r.used if int(IP(ip)) not in _ips(start, end))
        if outside:
            raise errors.invalid_parameter(
                f"The IP range can't be updated: the addresses {', '.join(outside)} are in use outside the new range "
                f"{start}-{end}")
        self._check_overlaps(r.zone, r.vlan, gateway, netmask, (start, end), skip=r)
        r.gateway, r.netmask, r.startip, r.endip = gateway, netmask, start, end
        if p.get("forsystemvms") is not None:
            r.forsystemvms = p["forsystemvms"]
        return r

    def delete_vlan_range(self, uid: str) -> None:
        r = self.vlan_range(uid)
        if r.used:
            raise errors.invalid_parameter(
                "The IP range can't be deleted because it has allocated public IP addresses: "
                + ", ".join(sorted(r.used)))
        self.store.remove(r)

    def take_public_ip(self, zone: Zone, holder: str) -> tuple[VlanIpRange, str] | None:
        """IpAddressManagerImpl.fetchNewPublicIp for a system VM: the first free address (None: none left)."""
        for r in self.store.all(VlanIpRange):
            if r.zone is not zone:
                continue
            for n in _ips(r.startip, r.endip):
                ip = str(IP(n))
                if ip not in r.used:
                    r.used[ip] = holder
                    return r, ip
        return None

    def release(self, holder: str) -> None:
        pools: list[dict[str, str]] = [r.used for r in self.store.all(VlanIpRange)]
        pools += [r.used for r in self.store.all(StorageIpRange)]
        for used in pools:
            for ip in [ip for ip, h in used.items() if h == holder]:
                del used[ip]

    # --- storage network ranges ----------------------------------------------------------------------
    def storage_range(self, uid: str) -> StorageIpRange:
        r = self.store.get(StorageIpRange, uid)
        if r is None:
            raise errors.cloud_runtime(f"Can not find storage network ip range {uid}")
        return r

    def _check_storage_overlaps(self, pod: Pod, start: str, end: str, skip: StorageIpRange | None = None) -> None:
        for s, e in pod.ranges:
            if _overlap((start, end), (s, e)):
                raise errors.invalid_parameter(
                    f"The Storage network Start IP and endIP address range overlap with private IP :{s}:{e}")
        for r in self.store.all(StorageIpRange):
            if r is not skip and r.pod is pod and _overlap((start, end), (r.startip, r.endip)):
                raise errors.invalid_parameter(
                    f"The Storage network Start IP and endIP address range overlap with private IP :{r.startip} - "
                    f"{r.endip}")

    @staticmethod
    def _check_netmask(netmask: str) -> None:
        try:
            ipaddress.IPv4Network(f"0.0.0.0/{netmask}")
        except ValueError:
            raise errors.cloud_runtime(f"Invalid netmask:{netmask}") from None

    def create_storage_range(self, p: dict[str, Any]) -> StorageIpRange:
        end = p.get("endip") or p["startip"]
        self._check_netmask(p["netmask"])
        pod = self.store.get(Pod, p["podid"])
        if pod is None or pod.zone is None:
            raise errors.cloud_runtime(f"Cannot find pod {p['podid']}")
        if not any(t.name == "Storage" and t.network and t.network.zone is pod.zone
                   for t in self.store.all(TrafficType)):
            raise errors.cloud_runtime(f"Cannot find storage network in zone {pod.zone.dbid}")
        self._check_storage_overlaps(pod, p["startip"], end)
        uid, dbid = self.store.new_id()
        return self.store.add(StorageIpRange(uid, dbid, "", pod=pod, gateway=p.get("gateway"), netmask=p["netmask"],
                                             startip=p["startip"], endip=end, vlan=p.get("vlan")))

    @staticmethod
    def _in_use(r: StorageIpRange) -> str:
        return f"Below IP of range {r.dbid} is still in use:" + "".join(f"{ip}," for ip in sorted(r.used))

    def update_storage_range(self, p: dict[str, Any]) -> StorageIpRange:
        r = self.storage_range(p["id"])
        assert r.pod is not None
        if p.get("netmask") is not None:
            self._check_netmask(p["netmask"])
        if r.used:
            raise errors.cloud_runtime("Cannot update the range," + self._in_use(r))
        start, end = p.get("startip") or r.startip, p.get("endip") or r.endip
        self._check_storage_overlaps(r.pod, start, end, skip=r)
        r.startip, r.endip = start, end
        if p.get("netmask") is not None:
            r.netmask = p["netmask"]
        if p.get("vlan") is not None:
            r.vlan = p["vlan"]
        return r

    def delete_storage_range(self, r: StorageIpRange) -> None:
        if r.used:
            raise errors.cloud_runtime(self._in_use(r))
        self.store.remove(r)

    def storage_ranges_of(self, zone: Zone) -> list[StorageIpRange]:
        return [r for r in self.store.all(StorageIpRange) if r.pod and r.pod.zone is zone]

    def take_storage_ip(self, zone: Zone, holder: str) -> str | None:
        """StorageNetworkManagerImpl.acquireIpAddress (any pod of the zone here)."""
        for r in self.storage_ranges_of(zone):
            for n in _ips(r.startip, r.endip):
                ip = str(IP(n))
                if ip not in r.used:
                    r.used[ip] = holder
                    return ip
        return None
