"""Guest networks, their virtual routers and user VMs, run on the zone's XenServer pools.

createNetwork allocates an isolated network (state Allocated) with an Enabled offering. The
first VM deployed in it implements it, as NetworkOrchestrator does: a VLAN from the physical
network's range, then the network's virtual router (r-<id>-VM, the system router offering) is
started like any guest; then the VM (i-<account>-<id>-VM) is started. Starting a guest on
XenServer is the StartCommand of xapi_guests.py on a host chosen by the planner (an Up, Enabled
host of a XenServer cluster with an Up primary storage pool, the least loaded first); stopping
is StopCommand (the XAPI record goes, the ROOT disk stays); destroying stops and leaves the
disk until the VM is expunged (expunge=true, admins only by default, or expungeVirtualMachine).

deployVirtualMachine is an async create: the VM exists at once (Starting), its limits are
checked before (user_vm, cpu, memory: ResourceAllocationException -> 535 from the request), the
job starts it (Running) or fails (Error, with whatever XAPI made undone).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.objects import Cluster, Host, PhysicalNetwork, StoragePool, TrafficType, Zone
from lab.cloudstack.offerings import Offerings
from lab.cloudstack.store import Store
from lab.cloudstack.templates import DOWNLOADED_SIZE, Templates
from lab.cloudstack.tenant_objects import Account, GuestNetwork, GuestVm
from lab.cloudstack.tenants import Tenants
from lab.cloudstack.xapi_guests import GuestSpec, XapiGuestError, XapiGuests
from lab.cloudstack.zones import Zones

P = dict[str, Any]
GONE = ("Destroyed", "Expunging", "Error")
USER_ERROR_MESSAGE = "Internal error executing command, please contact your system administrator"
INSUFFICIENT_CAPACITY_ERROR = 533


class Guests:
    def __init__(self, store: Store, zones: Zones, tenants: Tenants, offerings: Offerings,
                 templates: Templates) -> None:
        self.store = store
        self.zones = zones
        self.tenants = tenants
        self.offerings = offerings
        self.templates = templates
        self.xapi = XapiGuests()
        tenants.counters.append(self)

    # --- lookups -----------------------------------------------------------------------------------
    def network(self, uid: str | None) -> GuestNetwork:
        n = self.store.get(GuestNetwork, uid)
        if n is None:
            raise errors.invalid_parameter(f"unable to find network {uid}")
        return n

    def vm(self, uid: str | None, kind: str = "User") -> GuestVm:
        v = self.store.get(GuestVm, uid)
        if v is None or v.kind != kind:
            raise errors.invalid_parameter(f"Unable to find virtual machine with id {uid}")
        return v

    def user_vms(self) -> list[GuestVm]:
        return [v for v in self.store.all(GuestVm) if v.kind == "User"]

    def routers(self) -> list[GuestVm]:
        return [v for v in self.store.all(GuestVm) if v.kind == "DomainRouter"]

    # --- counts for limits (Tenants.counters) -------------------------------------------------------
    def count(self, account: Account) -> dict[int, int]:
        live = [v for v in self.user_vms() if v.owner is account and v.state not in GONE]
        return {
            0: len(live), 8: sum(v.offering.cpunumber or 0 for v in live if v.offering),
            9: sum(v.offering.memory or 0 for v in live if v.offering),
            6: sum(1 for n in self.store.all(GuestNetwork) if n.owner is account),
            -1: sum(1 for v in live if v.state == "Running"), -2: sum(1 for v in live if v.state == "Stopped"),
        }

    def forget(self, account: Account) -> None:
        """An account deleted: its VMs expunged, its networks (with their routers) removed."""
        for v in self.user_vms():
            if v.owner is account:
                self._stop(v, forced=True)
                self._expunge(v)
        for n in self.store.all(GuestNetwork):
            if n.owner is account:
                self._shutdown_network(n)
                self.store.remove(n)

    # --- networks ----------------------------------------------------------------------------------
    def _guest_physical_network(self, zone: Zone) -> PhysicalNetwork:
        nets = [n for n in self.store.all(PhysicalNetwork) if n.zone is zone and any(
            t.network is n and t.name == "Guest" for t in self.store.all(TrafficType))]
        if not nets:
            raise errors.invalid_parameter(
                f"Unable to find physical network with traffic type Guest in zone id={zone.dbid}")
        return nets[0]

    def create_network(self, caller: Account, p: P) -> GuestNetwork:
        offering = self.offerings.network_offering(p["networkofferingid"])
        if offering.state != "Enabled":
            raise errors.invalid_parameter(
                f"Can't use specified network offering id as its state is not {'Enabled'}")
        if not self.offerings.offered_to(caller, offering):
            raise errors.permission_denied(f"Account {caller.name} does not have permission to use network "
                                           f"offering {offering.name}")
        zone = self.zones.zone(p["zoneid"])
        owner = self.tenants.owner_for(caller, p)
        physical = self._guest_physical_network(zone)
        self.tenants.check_limit(owner, 6, 1)
        cidr = ipaddress.IPv4Network(zone.guestcidraddress or "10.1.1.0/24", strict=False)
        if p.get("gateway") and p.get("netmask"):
            cidr = ipaddress.IPv4Network(f"{p['gateway']}/{p['netmask']}", strict=False)
        gateway = p.get("gateway") or str(next(cidr.hosts()))
        uid, dbid = self.store.new_id()
        return self.store.add(GuestNetwork(
            uid, dbid, p["name"], p.get("displaytext") or p["name"], zone, offering, owner, physical.id, str(cidr),
            gateway, str(cidr.netmask), networkdomain=p.get("networkdomain") or f"cs{owner.dbid}cloud.internal"))

    def delete_network(self, caller: Account, n: GuestNetwork) -> None:
        assert n.owner is not None
        self.tenants.check_access(caller, n.owner, f"network {n.name}")
        if any(v.network is n and v.state not in ("Expunging",) for v in self.user_vms()):
            raise errors.cloud_runtime(f"Unable to delete network {n.name} as there are VMs in it; "
                                       "expunge them first")
        self._shutdown_network(n)
        self.store.remove(n)

    def _shutdown_network(self, n: GuestNetwork) -> None:
        for r in self.routers():
            if r.network is n:
                self._stop(r, forced=True)
                self._expunge(r)
        n.state, n.vlan = "Allocated", None

    def _implement(self, n: GuestNetwork) -> None:
        """NetworkOrchestrator.implementNetwork: a VLAN from the physical network, the router started."""
        if n.state == "Implemented":
            return
        physical = self.store.get(PhysicalNetwork, n.physical_network_id)
        if physical is None or not physical.vlan:
            raise errors.cloud_runtime(f"Unable to allocate vnet as a part of network {n.name} implement")
        used = {g.vlan for g in self.store.all(GuestNetwork) if g.vlan is not None}
        vlan = next((v for lo, hi in _ranges(physical.vlan) for v in range(lo, hi + 1) if v not in used), None)
        if vlan is None:
            raise errors.cloud_runtime(f"Unable to allocate vnet as a part of network {n.name} implement")
        n.vlan, n.state = vlan, "Implementing"
        assert n.owner is not None and n.zone is not None
        uid, dbid = self.store.new_id()
        router = self.store.add(GuestVm(
            uid, dbid, f"r-{dbid}-VM", "DomainRouter", f"r-{dbid}-VM", n.zone, n.owner,
            self.offerings.router_offering, None, n, ip=n.gateway))
        try:
            self._start(router)
        except CloudStackError:
            self.store.remove(router)
            n.state, n.vlan = "Allocated", None
            raise
        n.state = "Implemented"

    # --- placement -------------------------------------------------------------------------------
    def _pool_of(self, cluster: Cluster) -> StoragePool | None:
        return next((s for s in self.store.all(StoragePool) if s.cluster is cluster and s.state == "Up"), None)

    def _plan(self, vm: GuestVm) -> tuple[Host, StoragePool]:
        """The deployment planner: an Up, Enabled host of a XenServer cluster of the zone with an
        Up primary storage pool, the one running the fewest guests."""
        load = {id(v.host): 0 for v in self.store.all(GuestVm) if v.host is not None}
        for v in self.store.all(GuestVm):
            if v.host is not None:
                load[id(v.host)] += 1
        candidates = []
        for h in self.store.all(Host):
            c = h.cluster
            if c is None or c.pod is None or c.pod.zone is not vm.zone or c.hypervisor != "XenServer":
                continue
            pool = self._pool_of(c)
            if h.state == "Up" and h.resourcestate == "Enabled" and c.allocationstate == "Enabled" and pool and c.xapi:
                candidates.append((load.get(id(h), 0), h.dbid, h, pool))
        if not candidates:
            raise _insufficient(vm)
        _, _, host, pool = min(candidates, key=lambda t: (t[0], t[1]))
        return host, pool

    # --- guests on XAPI --------------------------------------------------------------------------
    def _spec(self, vm: GuestVm, host: Host, pool: StoragePool) -> GuestSpec:
        assert vm.offering is not None and vm.network is not None and vm.zone is not None
        physical = vm.network.physical_network_id
        label = next((t.xennetworklabel for t in self.store.all(TrafficType)
                      if t.name == "Guest" and t.network is not None and t.network.id == physical), None)
        nfs = (pool.ipaddress, pool.path) if pool.type == "NetworkFilesystem" else None
        sr_name = pool.path.strip("/") if pool.type == "PreSetup" else pool.id
        disk = vm.template.size or DOWNLOADED_SIZE if vm.template else DOWNLOADED_SIZE
        return GuestSpec(vm.name, vm.id, vm.offering.cpunumber or 1, vm.offering.memory or 512, disk, sr_name, nfs,
                         label, vm.network.vlan, host.guid, vm.xapi_vdi)

    def _start(self, vm: GuestVm) -> None:
        host, pool = self._plan(vm)
        assert host.cluster is not None and host.cluster.xapi is not None
        vm.state = "Starting"
        try:
            started = self.xapi.start(host.cluster.xapi, self._spec(vm, host, pool))
        except XapiGuestError as e:
            vm.state = "Stopped"
            raise errors.cloud_runtime(f"Unable to start instance {vm.name} due to {e}") from None
        vm.xapi_vm, vm.xapi_vdi, vm.mac, vm.host, vm.state = (started.vm_uuid, started.vdi_uuid, started.mac, host,
                                                              "Running")

    def _creds(self, vm: GuestVm) -> tuple[str, str, str] | None:
        if vm.host is not None and vm.host.cluster is not None:
            return vm.host.cluster.xapi
        pool = next((c.xapi for c in self.store.all(Cluster) if c.xapi and c.pod and c.pod.zone is vm.zone), None)
        return pool

    def _stop(self, vm: GuestVm, forced: bool = False) -> None:
        creds = self._creds(vm)
        if vm.xapi_vm is not None and creds is not None:
            try:
                self.xapi.stop(creds, vm.xapi_vm, forced)
            except XapiGuestError as e:
                raise errors.cloud_runtime(f"Unable to stop {vm.name} due to {e}") from None
        vm.xapi_vm, vm.host = None, None
        if vm.state not in GONE:
            vm.state = "Stopped"

    def _expunge(self, vm: GuestVm) -> None:
        creds = self._creds(vm)
        if vm.xapi_vdi is not None and creds is not None:
            try:
                self.xapi.destroy_disk(creds, vm.xapi_vdi)
            except XapiGuestError as e:
                raise errors.cloud_runtime(f"Failed to expunge {vm.name} due to {e}") from None
        vm.xapi_vdi = None
        self.store.remove(vm)

    # --- user VMs --------------------------------------------------------------------------------
    def _network_for(self, owner: Account, zone: Zone, p: P) -> GuestNetwork:
        ids = p.get("networkids") or []
        if ids:
            n = self.network(ids[0])
            assert n.owner is not None
            if n.zone is not zone:
                raise errors.invalid_parameter(f"Network id={n.id} doesn't belong to zone {zone.id}")
            if not self.tenants.can_see(owner, n.owner):
                raise errors.permission_denied(f"Account {owner.name} does not have permission to use network "
                                               f"{n.name}")
            return n
        mine = [n for n in self.store.all(GuestNetwork) if n.owner is owner and n.zone is zone]
        if len(mine) != 1:
            raise errors.invalid_parameter(f"Unable to find a default network for account {owner.name} in zone "
                                           f"{zone.name}; specify networkids")
        return mine[0]

    def deploy(self, caller: Account, p: P) -> GuestVm:
        zone = self.zones.zone(p["zoneid"])
        offering = self.offerings.service_offering(p["serviceofferingid"])
        template = self.templates.template(p["templateid"])
        owner = self.tenants.owner_for(caller, p)
        assert template.owner is not None
        if not (template.ispublic or self.tenants.can_see(owner, template.owner)):
            raise errors.permission_denied(f"Account {owner.name} does not have permission to use template "
                                           f"{template.name}")
        if not template.isready or template.zone is not zone:
            raise errors.invalid_parameter(
                f"Template {template.name} has not been completely downloaded to zone {zone.dbid}")
        if not self.offerings.offered_to(owner, offering):
            raise errors.permission_denied(f"Account {owner.name} does not have permission to use service "
                                           f"offering {offering.name}")
        if offering.iscustomized:
            raise errors.invalid_parameter("Need to specify cpu, cpu speed and memory for a custom offering")
        network = self._network_for(owner, zone, p)
        self.tenants.check_limit(owner, 0, 1)
        self.tenants.check_limit(owner, 8, offering.cpunumber or 0)
        self.tenants.check_limit(owner, 9, offering.memory or 0)
        uid, dbid = self.store.new_id()
        net = ipaddress.IPv4Network(network.cidr)
        ip = str(net.network_address + network.next_ip)
        network.next_ip += 1
        hostname = p.get("name") or f"VM-{uid}"
        assert owner.domain is not None
        return self.store.add(GuestVm(
            uid, dbid, f"i-{owner.dbid}-{dbid}-VM", "User", p.get("displayname") or hostname, zone, owner, offering,
            template, network, state="Starting" if p.get("startvm", True) else "Stopped", ip=ip, hostname=hostname))

    def run_deploy(self, vm: GuestVm) -> GuestVm:
        """The deploy job: implement the network, start the VM; a failure leaves it in Error."""
        if vm.state == "Stopped":
            return vm
        try:
            assert vm.network is not None
            self._implement(vm.network)
            self._start(vm)
        except CloudStackError:
            vm.state = "Error"
            raise
        return vm

    def start(self, caller: Account, vm: GuestVm) -> GuestVm:
        assert vm.owner is not None and vm.network is not None
        self.tenants.check_access(caller, vm.owner, f"VM {vm.name}")
        if vm.state == "Running":
            return vm
        if vm.state != "Stopped":
            raise errors.invalid_parameter(f"VM {vm.name} is in state {vm.state}; it can only be started when "
                                           "Stopped")
        self._implement(vm.network)
        self._start(vm)
        return vm

    def stop(self, caller: Account, vm: GuestVm, forced: bool) -> GuestVm:
        assert vm.owner is not None
        self.tenants.check_access(caller, vm.owner, f"VM {vm.name}")
        self._stop(vm, forced)
        return vm

    def check_destroy(self, caller: Account, vm: GuestVm, p: P) -> None:
        assert vm.owner is not None
        self.tenants.check_access(caller, vm.owner, f"VM {vm.name}")
        if p.get("expunge") and not self.tenants.is_root_admin(caller):
            raise errors.permission_denied("Parameter expunge can be passed by Admin only. Or when the "
                                           "allow.user.expunge.recover.vm key is set.")
        if vm.state in ("Destroyed", "Expunging"):
            raise errors.invalid_parameter(f"Vm with id {vm.id} is already destroyed")

    def destroy(self, vm: GuestVm, expunge: bool) -> GuestVm:
        self._stop(vm, forced=True)
        vm.state = "Destroyed"
        if expunge:
            vm.state = "Expunging"
            self._expunge(vm)
        return vm

    def expunge(self, vm: GuestVm) -> None:
        if vm.state not in ("Destroyed", "Error"):
            raise errors.invalid_parameter(f"Please specify a VM that is destroyed; {vm.name} is {vm.state}")
        vm.state = "Expunging"
        self._stop(vm, forced=True)
        self._expunge(vm)

    def list_vms(self, caller: Account, p: P) -> list[GuestVm]:
        vms = self.tenants.visible(caller, p, self.user_vms())
        if not self.tenants.is_root_admin(caller):
            vms = [v for v in vms if v.state not in ("Destroyed", "Expunging")]
        return vms


def _ranges(vlan: str) -> list[tuple[int, int]]:
    out = []
    for part in vlan.split(";"):
        lo, _, hi = part.strip().partition("-")
        if lo.strip().isdigit():
            out.append((int(lo), int(hi or lo)))
    return out


def _insufficient(vm: GuestVm) -> CloudStackError:
    """InsufficientServerCapacityException from the planner, rethrown by the command as a
    ServerApiException(INSUFFICIENT_CAPACITY_ERROR): 533, its text hidden from non-admins."""
    kind = "User" if vm.kind == "User" else "DomainRouter"
    text = f"Unable to create a deployment for VM[{kind}|{vm.name}]"
    if vm.owner is not None and vm.owner.accounttype != 1:
        text = USER_ERROR_MESSAGE
    return CloudStackError(INSUFFICIENT_CAPACITY_ERROR, text, 9999)  # DeployVMCmd: ServerApiException
