"""Pods, clusters and hosts; XenServer hosts are discovered over XAPI as XcpServerDiscoverer does.

Rules and texts from ConfigurationManagerImpl (createPod, editPod, deletePod) and
ResourceManagerImpl (discoverCluster, discoverHosts, maintain, doDeleteHost, deleteCluster).
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.objects import (
    ALLOCATION_STATES,
    HYPERVISORS,
    IN_MAINTENANCE,
    MAINTENANCE_FROM,
    Cluster,
    Host,
    Pod,
    StoragePool,
    Zone,
    valid_ip4,
)
from lab.cloudstack.store import Store
from lab.cloudstack.xapi_discovery import XapiDiscoveryError
from lab.cloudstack.zones import Zones


class Compute:
    """Pods, clusters and hosts; hosts are discovered over XAPI."""

    def __init__(self, store: Store, zones: Zones) -> None:
        self.store = store
        self.zones = zones

    # --- pods -----------------------------------------------------------------------------------
    @staticmethod
    def _cidr(gateway: str, netmask: str) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)

    def _check_pod(self, zone: Zone, name: str, gateway: str, netmask: str, start: str | None, end: str | None,
                   state: str | None, pod: Pod | None) -> None:
        """ConfigurationManagerImpl.checkPodAttributes / checkIpRange."""
        if (pod is None or pod.name != name) and any(p.zone is zone and p.name == name for p in self.store.all(Pod)):
            raise errors.invalid_parameter(f"A pod with name: {name} already exists in zone {zone.dbid}. "
                                           "Please specify a different pod name. ")
        self._check_range(self._cidr(gateway, netmask), gateway, start, end)
        for other in self.store.all(Pod):
            if other is pod or other.zone is not zone or not start or not end:
                continue
            for s, e in other.ranges:
                if not (ipaddress.IPv4Address(end) < ipaddress.IPv4Address(s)
                        or ipaddress.IPv4Address(start) > ipaddress.IPv4Address(e)):
                    raise errors.invalid_parameter(
                        f"The Start IP and EndIP address range overlap with private IP :{s}:{e}")
        if state and state not in ALLOCATION_STATES:
            raise errors.invalid_parameter(f"Unable to resolve Allocation State '{state}' to a supported state")

    @staticmethod
    def _check_range(net: ipaddress.IPv4Network, gateway: str, start: str | None, end: str | None) -> None:
        """ConfigurationManagerImpl.checkIpRange: the range inside the CIDR, in order, clear of the gateway."""
        if start and not valid_ip4(start):
            raise errors.invalid_parameter("The start address of the IP range is not a valid IP address.")
        if end and not valid_ip4(end):
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

    def create_pod(self, p: dict[str, Any]) -> Pod:
        gateway, netmask = p.get("gateway"), p.get("netmask")
        if not valid_ip4(gateway):
            raise errors.invalid_parameter("The gateway is invalid")
        assert gateway is not None
        if not netmask or not valid_ip4(netmask) or not self._is_netmask(netmask):
            raise errors.invalid_parameter("The netmask is invalid")
        zone = self.zones.zone(p["zoneid"], "Please specify a valid zone.")
        start, end = p.get("startip"), p.get("endip")
        if start and not end:
            end = str(self._cidr(gateway, netmask).broadcast_address - 1)
        self._check_pod(zone, p["name"], gateway, netmask, start, end, p.get("allocationstate"), None)
        if not start:
            raise errors.invalid_parameter("Start ip is required parameter")
        assert end is not None
        uid, dbid = self.store.new_id()
        return self.store.add(Pod(uid, dbid, p["name"], zone=zone, gateway=gateway, netmask=netmask,
                                  ranges=[(start, end)], allocationstate=p.get("allocationstate") or "Enabled"))

    @staticmethod
    def _is_netmask(text: str) -> bool:
        try:
            ipaddress.IPv4Network(f"0.0.0.0/{text}")
        except ValueError:
            return False
        return True

    def pod(self, uid: str | None, text: str | None = None) -> Pod:
        pod = self.store.get(Pod, uid)
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
        if any(h.cluster and h.cluster.pod is pod for h in self.store.all(Host)):
            raise errors.cloud_runtime(why + "there are servers in this pod.")
        if any(c.pod is pod for c in self.store.all(Cluster)):
            raise errors.cloud_runtime(why + "there are clusters in this pod.")
        self.store.remove(pod)

    # --- pod management IP ranges (createManagementNetworkIpRange & co, async) ---------------------
    @staticmethod
    def _ip(text: str) -> ipaddress.IPv4Address:
        return ipaddress.IPv4Address(text)

    def create_pod_ip_range(self, p: dict[str, Any]) -> Pod:
        """ConfigurationManagerImpl.createPodIpRange."""
        pod = self.pod(p["podid"], f"Unable to find pod by ID: {p['podid']}")
        gateway, netmask, start = p["gateway"], p["netmask"], p["startip"]
        end = p.get("endip") or start
        if not valid_ip4(gateway):
            raise errors.invalid_parameter("The gateway IP address is invalid.")
        if not self._is_netmask(netmask):
            raise errors.invalid_parameter("The netmask IP address is invalid.")
        if gateway != pod.gateway:
            raise errors.invalid_parameter(
                f"Multiple gateways for the POD: {pod.dbid} are not allowed. The Gateway should be same as the "
                f"existing Gateway {pod.gateway}")
        if netmask != pod.netmask:
            raise errors.invalid_parameter(
                f"Multiple subnets for the POD: {pod.dbid} are not allowed. The Netmask should be same as the "
                f"existing Netmask {pod.netmask}")
        assert pod.zone is not None
        net = self._cidr(pod.gateway, pod.netmask)
        for label, ip in (("start", start), ("end", end)):
            if not valid_ip4(ip):
                raise errors.invalid_parameter(f"The {label} address of the IP range is not a valid IP address.")
            if self._ip(ip) not in net:
                raise errors.invalid_parameter(f"The {label} address of the IP range is not in the CIDR subnet.")
        if self._ip(start) > self._ip(end):
            raise errors.invalid_parameter("The start IP address must have a lower value than the end IP address.")
        if self._ip(start) <= self._ip(gateway) <= self._ip(end):
            raise errors.invalid_parameter("The gateway shouldn't overlap start/end ip addresses")
        for s, e in pod.ranges:
            if not (self._ip(end) < self._ip(s) or self._ip(start) > self._ip(e)):
                raise errors.invalid_parameter(
                    "The new range overlaps with existing range. Please add a mutually exclusive range.")
        pod.ranges.append((start, end))
        return pod

    def delete_pod_ip_range(self, p: dict[str, Any]) -> None:
        """ConfigurationManagerImpl.deletePodIpRange (no IP is ever allocated in the emulator)."""
        pod = self.pod(p["podid"])
        start, end = p["startip"], p["endip"]
        for label, ip in (("start", start), ("end", end)):
            if not valid_ip4(ip):
                raise errors.invalid_parameter(f"The {label} address of the IP range is not a valid IP address.")
        if self._ip(start) > self._ip(end):
            raise errors.invalid_parameter("The start IP address must have a lower value than the end IP address.")
        vlan = p["vlan"].removeprefix("vlan://")
        if (start, end) not in pod.ranges or vlan != "untagged":
            raise errors.invalid_parameter(
                f"The input IP range: {start}-{end} of pod: {pod.dbid}is not present. Please input an existing range.")
        pod.ranges.remove((start, end))

    def update_pod_ip_range(self, p: dict[str, Any]) -> None:
        """ConfigurationManagerImpl.updatePodIpRange: the new range is not checked against the CIDR."""
        pod = self.pod(p["podid"], f"Unable to find pod by id: {p['podid']}")
        cur_start, cur_end = p["currentstartip"], p["currentendip"]
        new_start, new_end = p.get("newstartip") or cur_start, p.get("newendip") or cur_end
        if (new_start, new_end) == (cur_start, cur_end):
            raise errors.invalid_parameter(
                "New starting and ending IP address are the same as current starting and ending IP address")
        for s, e in ((cur_start, cur_end), (new_start, new_end)):
            for ip in (s, e):
                if not valid_ip4(ip):
                    raise errors.invalid_parameter(
                        f"The current {'start' if ip == s else 'end'} address of the IP range {ip} is not a valid IP "
                        "address.")
            if self._ip(s) > self._ip(e):
                raise errors.invalid_parameter(
                    "The start IP address must have a lower value than the end IP address.")
        if (cur_start, cur_end) not in pod.ranges:
            raise errors.invalid_parameter(
                f"The input IP range: {cur_start}-{cur_end} of pod: {pod.dbid} is not present. Please input an "
                "existing range.")
        for s, e in pod.ranges:
            if (s, e) != (cur_start, cur_end) and not (
                    self._ip(new_end) < self._ip(s) or self._ip(new_start) > self._ip(e)):
                raise errors.invalid_parameter(
                    f"The Start and End IP address range: ({new_start}-{new_end}) overlap with the pod IP range: "
                    f"{s}-{e}-0-untagged")
        pod.ranges[pod.ranges.index((cur_start, cur_end))] = (new_start, new_end)

    # --- clusters and hosts ---------------------------------------------------------------------
    def cluster(self, uid: str | None) -> Cluster:
        c = self.store.get(Cluster, uid)
        if c is None:
            raise errors.invalid_parameter(f"Can't find cluster by id {uid}")
        return c

    def add_cluster(self, p: dict[str, Any]) -> Cluster:
        """ResourceManagerImpl.discoverCluster."""
        zone = self.zones.zone(p["zoneid"], "Can't find zone by the id specified")
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
        if any(c.pod is pod and c.name == name for c in self.store.all(Cluster)):
            raise errors.cloud_runtime(f"Unable to create cluster {name} in pod and data center with specified ids")
        uid, dbid = self.store.new_id()
        cluster = self.store.add(Cluster(uid, dbid, name, pod=pod, hypervisor=canonical, clustertype=clustertype,
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
            self.store.remove(cluster)
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
            info = self.store.discover(url, username, password)
        except XapiDiscoveryError as e:
            if str(e) == "Authentication error":
                raise errors.internal_error("Authentication error") from None
            return None
        members = [h for h in self.store.all(Host) if h.cluster is cluster]
        if cluster.guid is not None and members and cluster.guid != info.pool_uuid:
            return None  # "Please join the host ... to XS pool ... through XC/XS" (logged only)
        cluster.guid = info.pool_uuid
        cluster.xapi = (info.master_url, username, password)
        added = []
        for h in info.hosts:
            if any(existing.guid == h.uuid for existing in self.store.all(Host)):
                continue  # "Skipping <address> because <uuid> is already in the database."
            uid, dbid = self.store.new_id()
            added.append(self.store.add(Host(
                uid, dbid, h.hostname or h.name_label, cluster=cluster, ipaddress=h.address, guid=h.uuid,
                hypervisorversion=h.product_version, cpunumber=h.cpu_count, cpuspeed=h.cpu_speed,
                memorytotal=h.memory_total, created=self.store.stamp())))
        return added

    def _host_cluster(self, p: dict[str, Any], pod: Pod) -> tuple[Cluster, Cluster | None]:
        """addHost's cluster: by id, or by name (made when missing: then also returned as created)."""
        if p.get("clusterid"):
            cluster = self.store.get(Cluster, p["clusterid"])
            if cluster is None:
                raise errors.invalid_parameter("can not find cluster for specified clusterId")
            return cluster, None
        name = p.get("clustername") or f"Standalone-{p['url']}"
        found = next((c for c in self.store.all(Cluster) if c.pod is pod and c.name == name), None)
        if found is not None:
            return found, None
        cluster = self.store.add(Cluster(*self.store.new_id(), name, pod=pod, hypervisor=p["hypervisor"]))
        return cluster, cluster

    def add_host(self, p: dict[str, Any]) -> list[Host]:
        """ResourceManagerImpl.discoverHosts -> discoverHostsFull, hypervisor XenServer."""
        zone = self.zones.zone(p["zoneid"], f"Can't find zone by id {p['zoneid']}")
        pod = self.pod(p["podid"], f"Can't find pod by id {p['podid']}")
        if pod.zone is not zone:
            raise errors.invalid_parameter(
                f"Pod with specified pod {pod.dbid} doesn't belong to the zone with specified zone {zone.dbid}")
        url = p["url"]
        if p.get("clustername") and p.get("clusterid"):
            raise errors.invalid_parameter("Can't specify cluster by both id and name")
        if not p.get("username") or not p.get("password"):
            raise errors.invalid_parameter("Username and Password need to be provided.")
        cluster, created = self._host_cluster(p, pod)
        if not urllib.parse.urlsplit(url).scheme:
            raise errors.invalid_parameter(f"uri.scheme is null {url}, add nfs:// (or cifs://) as a prefix")
        hosts = self._discover_xenserver(cluster, url, p["username"], p["password"])
        if hosts is None:
            if created is not None:
                self.store.remove(created)
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
        cluster = self.store.get(Cluster, p["clusterid"])
        if cluster is None or cluster.hypervisor not in ("XenServer", "KVM"):
            raise errors.invalid_parameter("This operation is not supported for this hypervisor type")
        if cluster.xapi is not None:
            cluster.xapi = (cluster.xapi[0], p["username"], p["password"])

    def host(self, uid: str | None) -> Host:
        h = self.store.get(Host, uid)
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
        c = self.store.get(Cluster, uid)
        if c is None:
            raise errors.cloud_runtime(f"Cluster: {uid} does not exist")
        if any(h.cluster is c for h in self.store.all(Host)):
            raise errors.cloud_runtime(f"Cluster: {c.dbid} cannot be removed. Cluster still has hosts")
        if any(s.cluster is c for s in self.store.all(StoragePool)):
            raise errors.cloud_runtime(f"Cluster: {c.dbid} cannot be removed. Cluster still has storage pools")
        self.store.remove(c)

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
               for o in self.store.all(Host)):
            assert h.cluster is not None
            raise errors.cloud_runtime(
                "There are other servers attempting migrations for maintenance. Found hosts in PrepareForMaintenance "
                f"OR ErrorInPrepareForMaintenance STATUS in cluster {h.cluster.dbid}")

    def maintain(self, h: Host) -> Host:
        self.check_maintain(h)
        h.resourcestate = "PrepareForMaintenance"
        # No VMs to migrate: the server's maintenance check moves it on by itself.
        self.store.jobs.later(h, "resourcestate", "PrepareForMaintenance", "Maintenance")
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
        self.store.remove(h)
        if cluster is not None and not any(o.cluster is cluster for o in self.store.all(Host)):
            cluster.guid = None

