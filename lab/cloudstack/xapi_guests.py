"""How CloudStack's XenServer resource (CitrixResourceBase) runs a guest on a pool, over real XAPI.

StartCommand: the ROOT disk is a VDI on the primary storage's SR (a PreSetup pool's SR is found
by its name-label, an NFS pool's SR is named by the pool's uuid and created on the pool when
missing, as the host does when the pool is attached); the VM record (name-label = instance
name, other_config vm_uuid = the CloudStack uuid), a VBD for the disk, a VIF on the guest
network, then `VM.start_on` the host chosen. The guest network is the VLAN network
`VLAN-<bridge network uuid>-<tag>` on the network named by the zone's Guest traffic label (the
management network when there is no label), created with `pool.create_VLAN_from_PIF` when the
pool does not have it yet. StopCommand: `VM.clean_shutdown` (`hard_shutdown` when forced) and
`VM.destroy` (the record goes, the disk stays); expunging a volume destroys its VDI.
Logins follow HOST_IS_SLAVE to the master, as the discovery does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import XenAPI

from lab.cloudstack.xapi_discovery import XapiDiscoveryError, _login

Creds = tuple[str, str, str]  # master url, username, password (from discovery)


class XapiGuestError(Exception):
    """A XAPI failure while starting or stopping a guest; the message is XAPI's error."""


@dataclass(frozen=True)
class GuestSpec:
    name: str  # instance name: i-<account>-<id>-VM / r-<id>-VM
    cs_uuid: str
    vcpus: int
    memory_mb: int
    disk_bytes: int
    sr_name: str
    nfs: tuple[str, str] | None  # (server, path) of an NFS pool: its SR is created when missing
    network_label: str | None
    vlan: int | None
    host_uuid: str
    vdi_uuid: str | None = None  # the ROOT disk when the guest was started before


@dataclass(frozen=True)
class Started:
    vm_uuid: str
    vdi_uuid: str
    mac: str


@contextlib.contextmanager
def _session(creds: Creds) -> Iterator[Any]:
    url, username, password = creds
    try:
        session, _ = _login(url, username, password)
    except XapiDiscoveryError as e:
        raise XapiGuestError(str(e)) from None
    try:
        yield session.xenapi
    except XenAPI.Failure as f:
        raise XapiGuestError(" ".join(str(d) for d in f.details)) from None
    except OSError as e:
        raise XapiGuestError(f"Unable to get a connection to {url}: {e}") from None
    finally:
        with contextlib.suppress(Exception):
            session.xenapi.session.logout()


def _sr(x: Any, spec: GuestSpec, host: str) -> str:
    found = x.SR.get_by_name_label(spec.sr_name)
    if found:
        return str(found[0])
    if spec.nfs is None:
        raise XapiGuestError(f"Can not see storage pool: {spec.sr_name} from on host: {spec.host_uuid}")
    server, path = spec.nfs
    return str(x.SR.create(host, {"server": server, "serverpath": path}, "0", spec.sr_name, spec.sr_name, "nfs",
                           "user", True, {}))


def _bridge(x: Any, label: str | None, host: str) -> str:
    if label:
        found = x.network.get_by_name_label(label)
        if found:
            return str(found[0])
    return str(x.PIF.get_network(x.host.get_management_interface(host)))


def _guest_network(x: Any, spec: GuestSpec, host: str) -> str:
    bridge = _bridge(x, spec.network_label, host)
    if spec.vlan is None:
        return bridge
    name = f"VLAN-{x.network.get_uuid(bridge)}-{spec.vlan}"
    found = x.network.get_by_name_label(name)
    if found:
        return str(found[0])
    net = x.network.create({"name_label": name, "name_description": name, "MTU": "1500", "other_config": {}})
    pifs = [p for p in x.network.get_PIFs(bridge) if x.PIF.get_host(p) == host and str(x.PIF.get_VLAN(p)) == "-1"]
    if pifs:
        x.pool.create_VLAN_from_PIF(pifs[0], net, str(spec.vlan))
    return str(net)


class XapiGuests:
    """The XAPI calls of a StartCommand / StopCommand / volume expunge (replaceable in tests)."""

    def start(self, creds: Creds, spec: GuestSpec) -> Started:
        with _session(creds) as x:
            host = x.host.get_by_uuid(spec.host_uuid)
            sr = _sr(x, spec, host)
            if spec.vdi_uuid is not None:
                vdi = x.VDI.get_by_uuid(spec.vdi_uuid)
            else:
                vdi = x.VDI.create({"name_label": f"ROOT-{spec.name}", "name_description": "", "SR": sr,
                                    "virtual_size": str(spec.disk_bytes), "type": "user", "sharable": False,
                                    "read_only": False, "other_config": {}, "sm_config": {}, "tags": []})
            memory = str(spec.memory_mb << 20)
            vm = x.VM.create({
                "name_label": spec.name, "name_description": spec.name, "user_version": "1",
                "is_a_template": False, "affinity": host, "memory_static_max": memory,
                "memory_dynamic_max": memory, "memory_dynamic_min": memory, "memory_static_min": memory,
                "VCPUs_max": str(spec.vcpus), "VCPUs_at_startup": str(spec.vcpus), "VCPUs_params": {},
                "actions_after_shutdown": "destroy", "actions_after_reboot": "restart",
                "actions_after_crash": "destroy", "PV_bootloader": "pygrub", "other_config": {
                    "vm_uuid": spec.cs_uuid}, "platform": {}, "HVM_boot_policy": "", "HVM_boot_params": {},
            })
            x.VBD.create({"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True, "mode": "RW", "type": "Disk",
                          "empty": False, "other_config": {}, "qos_algorithm_type": "",
                          "qos_algorithm_params": {}})
            vif = x.VIF.create({"VM": vm, "network": _guest_network(x, spec, host), "device": "0", "MAC": "",
                                "MTU": "1500", "other_config": {}, "qos_algorithm_type": "",
                                "qos_algorithm_params": {}})
            x.VM.start_on(vm, host, False, True)
            return Started(str(x.VM.get_uuid(vm)), str(x.VDI.get_uuid(vdi)), str(x.VIF.get_MAC(vif)))

    def stop(self, creds: Creds, vm_uuid: str, forced: bool = False) -> None:
        with _session(creds) as x:
            try:
                vm = x.VM.get_by_uuid(vm_uuid)
            except XenAPI.Failure:
                return  # already gone: StopCommand answers success for a VM the host does not have
            if x.VM.get_power_state(vm) == "Running":
                (x.VM.hard_shutdown if forced else x.VM.clean_shutdown)(vm)
            x.VM.destroy(vm)

    def destroy_disk(self, creds: Creds, vdi_uuid: str) -> None:
        with _session(creds) as x:
            try:
                vdi = x.VDI.get_by_uuid(vdi_uuid)
            except XenAPI.Failure:
                return
            x.VDI.destroy(vdi)
