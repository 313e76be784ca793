"""System VMs: what the management server's capacity scans do once a zone is enabled.

For each Enabled zone with a routing host Up, SecondaryStorageManagerImpl and
ConsoleProxyManagerImpl each keep one VM (`s-N-VM`, `v-N-VM`):

1. create it, which needs the systemvm template Ready for the zone's hypervisor on the zone's
   secondary storage; without it nothing is created and an alert says why ("Not able to find the
   System templates or not downloaded in zone N");
2. start it, which needs primary storage Up in the zone (the deployment planner) and a free public
   IP from the zone's public ranges (plus a storage network IP where the zone has storage ranges);
   a failure leaves it Stopped, with a startup-failure alert and an ERROR event carrying the
   reason ("Insufficient address capacity"), and the next scan tries again;
3. Starting -> Running (agent state Up) once `boot_seconds` have passed on the lab's clock.

The systemvm template follows the admin guide (cloudstack-documentation `adminguide/systemvm.rst`):
the management server registers and seeds it for the zone's hypervisors when secondary storage is
added, so it is Ready once the zone has an image store and a cluster of that hypervisor;
`seed_templates = False` models a failed seeding (the operator's by-hand registration is not
modelled). Scans run lazily, on reads of system VMs, events and alerts and when the clock moves.
A zone that is disabled loses its system VMs and their addresses (the real server leaves them to
the operator; the emulator drops them so a zone can be taken apart).

Texts from SecondaryStorageVmAlertAdapter, ConsoleProxyAlertAdapter, IpAddressManagerImpl and
DeploymentPlanningManagerImpl.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.ipranges import IpRanges
from lab.cloudstack.jobs import ADMIN_ACCOUNT_ID, now
from lab.cloudstack.objects import ROOT_DOMAIN_ID, Cluster, Host, ImageStore, Resource, StoragePool, Zone, drop_none
from lab.cloudstack.store import Store

SSVM, CPVM = "secondarystoragevm", "consoleproxy"


@dataclass(frozen=True)
class Kind:
    prefix: str  # of the VM's name
    event: str  # EventTypes prefix
    alert_type: int  # AlertService.AlertType
    alert_name: str
    java: str  # VirtualMachine.Type


KINDS = {
    SSVM: Kind("s", "SSVM", 19, "ALERT.SERVICE.SSVM", "SecondaryStorageVm"),
    CPVM: Kind("v", "PROXY", 10, "ALERT.SERVICE.CONSOLEPROXY", "ConsoleProxy"),
}


def template_name(hypervisor: str) -> str:
    return f"SystemVM Template ({hypervisor})"


@dataclass(eq=False)
class SystemVm(Resource):
    zone: Zone | None = None
    systemvmtype: str = SSVM
    state: str = "Stopped"
    host: Host | None = None
    publicip: str | None = None
    publicnetmask: str | None = None
    publicvlan: str | None = None
    gateway: str | None = None
    privateip: str | None = None
    linklocalip: str | None = None
    storageip: str | None = None
    hypervisor: str = "XenServer"
    running_at: float | None = None  # lab clock time at which Starting becomes Running
    failure: str | None = None  # the last start failure's reason
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        assert self.zone is not None
        h = self.host
        pod = h.cluster.pod if h and h.cluster else None
        running = self.state == "Running"
        return drop_none({
            "id": self.id, "name": self.name, "systemvmtype": self.systemvmtype, "state": self.state,
            "zoneid": self.zone.id, "zonename": self.zone.name, "dns1": self.zone.dns1, "dns2": self.zone.dns2,
            "podid": pod.id if pod else None, "podname": pod.name if pod else None,
            "hostid": h.id if h and self.state != "Stopped" else None,
            "hostname": h.name if h and self.state != "Stopped" else None,
            "hypervisor": self.hypervisor, "templateid": template_id(self.hypervisor),
            "templatename": template_name(self.hypervisor), "created": self.created,
            "publicip": self.publicip, "publicnetmask": self.publicnetmask, "publicvlan": self.publicvlan,
            "gateway": self.gateway, "privateip": self.privateip, "privatenetmask": "255.255.255.0" if
            self.privateip else None, "linklocalip": self.linklocalip,
            "linklocalnetmask": "255.255.0.0" if self.linklocalip else None,
            "agentstate": "Up" if running else None, "version": "4.18.0" if running else None,
            "activeviewersessions": 0 if self.systemvmtype == CPVM else None,
            "isdynamicallyscalable": False, "hasannotations": False,
        })


def template_id(hypervisor: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"systemvm-template/{hypervisor}"))


@dataclass(eq=False)
class Event(Resource):
    """EventVO: `name` is its type (SSVM.START)."""

    level: str = "INFO"
    description: str = ""
    state: str = "Completed"
    resourceid: str | None = None
    resourcetype: str | None = None
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        return drop_none({
            "id": self.id, "type": self.name, "level": self.level, "description": self.description,
            "state": self.state, "username": "system", "account": "system", "domainid": ROOT_DOMAIN_ID,
            "domain": "ROOT", "created": self.created, "resourceid": self.resourceid,
            "resourcetype": self.resourcetype,
        })


@dataclass(eq=False)
class Alert(Resource):
    """AlertVO: `name` is the alert type's name, `description` its subject."""

    type: int = 0
    description: str = ""
    zone: Zone | None = None
    sent: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "description": self.description,
                "sent": self.sent}


class SystemVms:
    """The two system VMs of every enabled zone, their events and alerts."""

    def __init__(self, store: Store, ipranges: IpRanges) -> None:
        self.store = store
        self.ipranges = ipranges
        self.now: Callable[[], float] = store.clock.now  # the lab's clock: boots are timed on it
        self.boot_seconds = 2.0
        self.seed_templates = True

    # --- what the zone offers ------------------------------------------------------------------------
    def _hosts_up(self, zone: Zone) -> list[Host]:
        return [h for h in self.store.all(Host) if h.cluster and h.cluster.pod and h.cluster.pod.zone is zone
                and h.state == "Up" and h.resourcestate == "Enabled"]

    def template_ready(self, zone: Zone, hypervisor: str) -> bool:
        """Seeded when the zone has secondary storage and a cluster of the hypervisor (systemvm.rst)."""
        stores = [s for s in self.store.all(ImageStore) if s.role == "Image" and (s.zone is zone or s.zone is None)]
        clusters = [c for c in self.store.all(Cluster) if c.pod and c.pod.zone is zone and c.hypervisor == hypervisor]
        return self.seed_templates and bool(stores) and bool(clusters)

    def _primary_up(self, zone: Zone) -> bool:
        return any(s.zone is zone and s.state == "Up" for s in self.store.all(StoragePool))

    # --- events and alerts ---------------------------------------------------------------------------
    def event(self, kind: str, verb: str, level: str, description: str, vm: SystemVm | None) -> None:
        uid, dbid = self.store.new_id()
        self.store.add(Event(uid, dbid, f"{KINDS[kind].event}.{verb}", level=level, description=description,
                             resourceid=vm.id if vm else None, resourcetype=KINDS[kind].java if vm else None,
                             created=self.store.stamp()))

    def alert(self, kind: str, zone: Zone, subject: str) -> None:
        uid, dbid = self.store.new_id()
        self.store.add(Alert(uid, dbid, KINDS[kind].alert_name, type=KINDS[kind].alert_type, description=subject,
                             zone=zone, sent=self.store.stamp()))

    # --- the scan ------------------------------------------------------------------------------------
    def scan(self) -> None:
        """One pass of both capacity scans over every zone."""
        for zone in self.store.all(Zone):
            vms = [v for v in self.store.all(SystemVm) if v.zone is zone]
            if zone.allocationstate != "Enabled":
                for gone in vms:
                    self.ipranges.release(gone.id)
                    self.store.remove(gone)
                continue
            hosts = self._hosts_up(zone)
            if not hosts:
                continue  # "Zone host is not ready": nothing to place a VM on yet
            for kind in (SSVM, CPVM):
                vm = next((v for v in vms if v.systemvmtype == kind), None)
                if vm is None:
                    vm = self._create(zone, kind, hosts[0])
                if vm is not None:
                    self._advance(vm, hosts[0])

    def _create(self, zone: Zone, kind: str, host: Host) -> SystemVm | None:
        hypervisor = host.cluster.hypervisor if host.cluster else "XenServer"
        if not self.template_ready(zone, hypervisor):
            reason = f"Not able to find the System templates or not downloaded in zone {zone.dbid}"
            self._creation_failed(zone, kind, reason)
            return None
        uid, dbid = self.store.new_id()
        vm = self.store.add(SystemVm(uid, dbid, f"{KINDS[kind].prefix}-{dbid}-VM", zone=zone, systemvmtype=kind,
                                     host=host, hypervisor=hypervisor, created=self.store.stamp()))
        what = "secondary storage Vm" if kind == SSVM else "console proxy Vm"
        self.event(kind, "CREATE", "INFO", f"Successfully created {what} Id: {vm.dbid}", vm)
        return vm

    def _creation_failed(self, zone: Zone, kind: str, reason: str) -> None:
        if kind == SSVM:
            subject = f"Secondary Storage Vm creation failure in zone [{zone.name}]. Error details: {reason}"
        else:
            subject = f"Console proxy creation failure. Zone [{zone.name}]. Error details: {reason}"
        if not any(a.description == subject for a in self.store.all(Alert)):
            self.alert(kind, zone, subject)

    def _start_failure(self, vm: SystemVm) -> str | None:
        """Why the VM cannot start now (None: it can), taking its addresses when it can."""
        assert vm.zone is not None
        if not self._primary_up(vm.zone):
            return f"Unable to create a deployment for VM[{KINDS[vm.systemvmtype].java}|{vm.name}]"
        if vm.publicip is None:
            taken = self.ipranges.take_public_ip(vm.zone, vm.id)
            if taken is None:
                return "Insufficient address capacity"
            rng, vm.publicip = taken
            vm.publicnetmask, vm.gateway, vm.publicvlan = rng.netmask, rng.gateway, rng.vlan
        if vm.systemvmtype == SSVM and vm.storageip is None and self.ipranges.storage_ranges_of(vm.zone):
            vm.storageip = self.ipranges.take_storage_ip(vm.zone, vm.id)
            if vm.storageip is None:
                return "Unable to get a storage network ip address"
        return None

    def _advance(self, vm: SystemVm, host: Host) -> None:
        if vm.state == "Stopped":
            reason = self._start_failure(vm)
            if reason is not None:
                if reason != vm.failure:
                    vm.failure = reason
                    self._report_start_failure(vm, reason)
                return
            vm.failure, vm.host, vm.state = None, host, "Starting"
            vm.privateip = vm.privateip or self._private_ip(vm, host)
            vm.linklocalip = vm.linklocalip or f"169.254.{vm.dbid // 256 % 256}.{vm.dbid % 256}"
            vm.running_at = self.now() + self.boot_seconds
        if vm.state == "Starting" and vm.running_at is not None and self.now() >= vm.running_at:
            vm.state = "Running"
            what = "secondary storage Vm" if vm.systemvmtype == SSVM else "console proxy Vm"
            self.event(vm.systemvmtype, "START", "INFO", f"Successfully started {what} Id: {vm.dbid}", vm)

    @staticmethod
    def _private_ip(vm: SystemVm, host: Host) -> str | None:
        pod = host.cluster.pod if host.cluster else None
        if pod is None or not pod.ranges:
            return None
        return str(ipaddress.IPv4Address(pod.ranges[0][0]) + (1 if vm.systemvmtype == SSVM else 2))

    def _report_start_failure(self, vm: SystemVm, reason: str) -> None:
        assert vm.zone is not None
        where = (f"zone [{vm.zone.name}], {'secStorageVm' if vm.systemvmtype == SSVM else 'proxy'} [{vm.name}], "
                 f"public IP [{vm.publicip or ''}], private IP [{vm.privateip or 'N/A'}].")
        what = "Secondary Storage Vm" if vm.systemvmtype == SSVM else "Console proxy"
        self.alert(vm.systemvmtype, vm.zone, f"{what} startup failure in {where} Error details: {reason}")
        self.event(vm.systemvmtype, "START", "ERROR", f"Error while starting {what.lower()} Id: {vm.dbid}: {reason}",
                   vm)

    # --- commands ------------------------------------------------------------------------------------
    def system_vm(self, uid: str) -> SystemVm:
        self.scan()
        vm = self.store.get(SystemVm, uid)
        if vm is None:
            raise errors.invalid_parameter(f"Unable to find system vm by id {uid}")
        return vm

    def listed(self, p: dict[str, Any]) -> list[SystemVm]:
        self.scan()
        vms = self.store.all(SystemVm)
        for key, get in (("id", lambda v: v.id), ("zoneid", lambda v: v.zone.id), ("state", lambda v: v.state),
                         ("systemvmtype", lambda v: v.systemvmtype), ("name", lambda v: v.name),
                         ("hostid", lambda v: v.host.id if v.host else None)):
            if p.get(key) is not None:
                vms = [v for v in vms if get(v) == p[key]]
        return vms

    def stop(self, vm: SystemVm) -> SystemVm:
        """stopSystemVm: Stopped, addresses kept; the next scan starts it again."""
        vm.state, vm.running_at = "Stopped", None
        return vm

    def start(self, vm: SystemVm) -> SystemVm:
        """startSystemVm: fails with the reason when it cannot start."""
        if vm.state == "Stopped":
            reason = self._start_failure(vm)
            if reason is not None:
                raise errors.CloudStackError(533, reason, errors.cs_code("InsufficientCapacityException"))
            assert vm.host is not None
            self._advance(vm, vm.host)
        return vm

    def events(self) -> list[Event]:
        self.scan()
        return self.store.all(Event)

    def alerts(self) -> list[Alert]:
        self.scan()
        return self.store.all(Alert)


__all__ = ["ADMIN_ACCOUNT_ID", "Alert", "Event", "SystemVm", "SystemVms"]
