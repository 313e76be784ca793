"""Guest VMs over XenAPI: a VM with a disk on a shared SR and a VIF, started on a pool member,
stopped and destroyed, with xapi's power-state and in-use errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab
from lab.xapi.conformance import check_calls
from tests.xapi.conftest import PASSWORD

Login = Callable[[int], Any]


def test_vm_lifecycle_on_a_pool_member(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    login(1).xenapi.pool.join(lab.hosts[0].address, "root", PASSWORD)
    hosts = {x.host.get_name_label(h): h for h in x.host.get_all()}
    master = x.host.get_all()[0]
    sr = x.SR.create(master, {"server": "nfs", "serverpath": "/vms"}, "0", "primary", "", "nfs", "user", True, {})
    net = x.network.get_by_name_label("Pool-wide network associated with eth1") or x.network.get_all()[:1]
    vm = x.VM.create({"name_label": "i-2-3-VM", "memory_static_max": str(512 << 20), "VCPUs_max": "1",
                      "other_config": {"vm_uuid": "cs-uuid"}})
    vdi = x.VDI.create({"name_label": "ROOT-3", "SR": sr, "virtual_size": str(8 << 30), "type": "user",
                        "sharable": False, "read_only": False, "other_config": {}})
    x.VBD.create({"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True, "mode": "RW", "type": "Disk",
                  "empty": False, "other_config": {}})
    vif = x.VIF.create({"VM": vm, "network": net[0], "device": "0", "MAC": "", "MTU": "1500", "other_config": {}})
    with pytest.raises(XenAPI.Failure) as dup:
        x.VIF.create({"VM": vm, "network": net[0], "device": "0", "MAC": "", "other_config": {}})
    assert dup.value.details == ["DEVICE_ALREADY_EXISTS", "0"]

    x.VM.start_on(vm, hosts["xcp-02"], False, False)
    rec = x.VM.get_record(vm)
    assert (rec["power_state"], rec["resident_on"]) == ("Running", hosts["xcp-02"])
    assert vm in x.host.get_resident_VMs(hosts["xcp-02"])
    assert x.VDI.get_SR(vdi) == sr and vdi in x.SR.get_VDIs(sr)
    assert x.VIF.get_currently_attached(vif) is True and x.VIF.get_MAC(vif)
    with pytest.raises(XenAPI.Failure) as running:
        x.VM.start(vm, False, False)
    assert running.value.details == ["VM_BAD_POWER_STATE", vm, "halted", "running"]
    with pytest.raises(XenAPI.Failure) as in_use:
        x.VDI.destroy(vdi)
    assert in_use.value.details == ["VDI_IN_USE", vdi, "destroy"]
    with pytest.raises(XenAPI.Failure):
        x.VM.destroy(vm)

    x.task.get_result(x.Async.VM.clean_shutdown(vm))
    assert x.VM.get_power_state(vm) == "Halted" and x.VIF.get_currently_attached(vif) is False
    x.VM.destroy(vm)
    x.VDI.destroy(vdi)
    assert x.VM.get_all() == [] and x.VBD.get_all() == [] and x.VIF.get_all() == [] and x.VDI.get_all() == []
    assert check_calls(lab.request_log) == []
