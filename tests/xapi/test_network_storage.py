"""Create, read, update and delete of a VLAN, a bond and an SR through the stock XenAPI library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab
from lab.xapi.conformance import check_calls
from tests.xapi.conftest import PASSWORD

Login = Callable[[int], Any]


def failure(call: Callable[[], Any]) -> list[str]:
    with pytest.raises(XenAPI.Failure) as e:
        call()
    return list(e.value.details)


def network(x: Any, name: str, mtu: int = 1500) -> str:
    return str(x.network.create({"name_label": name, "name_description": "", "MTU": str(mtu), "other_config": {}}))


def pif(x: Any, device: str, host: str | None = None) -> str:
    return next(r for r, p in x.PIF.get_all_records().items()
                if p["device"] == device and p["VLAN"] == "-1" and (host is None or p["host"] == host))


@pytest.fixture
def pool3(lab: XapiLab, login: Login) -> Any:
    """A pool of the three hosts; the master's XenAPI proxy."""
    for i in (1, 2):
        login(i).xenapi.pool.join(lab.hosts[0].address, "root", PASSWORD)
    return login(0).xenapi


def test_vlan_crud(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    net = network(x, "guest-100")
    tagged = pif(x, "eth1")
    vlan = x.VLAN.create(tagged, "100", net)
    rec = x.VLAN.get_record(vlan)
    assert rec["tag"] == "100" and rec["tagged_PIF"] == tagged
    untagged = x.PIF.get_record(rec["untagged_PIF"])
    assert (untagged["device"], untagged["VLAN"], untagged["physical"], untagged["network"]) == (
        "eth1", "100", False, net)
    assert x.PIF.get_VLAN_slave_of(tagged) == [vlan]
    x.network.set_name_label(net, "guest-100-renamed")
    x.network.set_MTU(net, "9000")
    assert x.network.get_record(net)["name_label"] == "guest-100-renamed"
    assert x.network.get_MTU(net) == "9000"
    assert failure(lambda: x.network.set_MTU(net, "20")) == ["INVALID_VALUE", "MTU", "20"]
    assert failure(lambda: x.VLAN.create(tagged, "100", network(x, "other"))) == ["PIF_VLAN_EXISTS", "eth1"]
    assert failure(lambda: x.VLAN.create(tagged, "4095", network(x, "bad"))) == ["VLAN_TAG_INVALID", "4095"]
    assert failure(lambda: x.VLAN.create(pif(x, "eth2"), "7", net)) == [
        "NETWORK_ALREADY_CONNECTED", net, rec["untagged_PIF"]]
    assert failure(lambda: x.network.destroy(net))[0] == "NETWORK_CONTAINS_PIF"
    assert failure(lambda: x.PIF.destroy(tagged)) == ["PIF_IS_PHYSICAL", tagged]
    x.VLAN.destroy(vlan)
    assert vlan not in x.VLAN.get_all() and rec["untagged_PIF"] not in x.PIF.get_all()
    x.network.destroy(net)
    assert failure(lambda: x.VLAN.get_record(vlan)) == ["HANDLE_INVALID", "VLAN", vlan]
    assert check_calls(lab.request_log) == []


def test_pool_create_vlan_on_every_host(pool3: Any) -> None:
    x = pool3
    net = network(x, "mgmt-200")
    pifs = x.pool.create_VLAN("eth1", net, "200")
    assert len(pifs) == 3 and len({x.PIF.get_host(p) for p in pifs}) == 3
    assert len(x.VLAN.get_all()) == 3


def test_bond_crud(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    (host,) = x.host.get_all()
    net = network(x, "bond0-net")
    members = [pif(x, "eth0"), pif(x, "eth1")]  # eth0 is the management PIF: management moves
    bond = x.Bond.create(net, members, "", "active-backup", {})
    rec = x.Bond.get_record(bond)
    assert rec["mode"] == "active-backup" and sorted(rec["slaves"]) == sorted(members)
    master = x.PIF.get_record(rec["master"])
    assert master["device"] == "bond0" and master["management"] and master["network"] == net
    assert x.host.get_management_interface(host) == rec["master"]
    assert all(x.PIF.get_bond_slave_of(m) == bond for m in members)
    assert failure(lambda: x.Bond.create(network(x, "n2"), [members[0], pif(x, "eth2")], "", "lacp", {})) == [
        "PIF_ALREADY_BONDED", members[0]]
    assert failure(lambda: x.Bond.create(network(x, "n3"), [pif(x, "eth3")], "", "lacp", {})) == [
        "PIF_BOND_NEEDS_MORE_MEMBERS"]
    assert failure(lambda: x.Bond.create(net, [members[0]], "", "bogus", {})) == ["FIELD_TYPE_ERROR", "mode"]
    x.Bond.set_mode(bond, "lacp")
    assert x.Bond.get_mode(bond) == "lacp" and x.Bond.get_properties(bond)["lacp_time"] == "slow"
    x.Bond.destroy(bond)
    assert x.Bond.get_all() == [] and x.PIF.get_management(members[0])
    assert x.host.get_management_interface(host) == members[0]
    assert check_calls(lab.request_log) == []


@pytest.mark.parametrize(
    ("sr_type", "config"),
    [
        ("nfs", {"server": "10.0.0.5", "serverpath": "/export/xcp", "nfsversion": "4.1"}),
        ("lvmoiscsi", {"target": "10.0.0.6", "targetIQN": "iqn.2026-01.io.ceph:gw", "SCSIid": "36001405abc"}),
    ],
)
def test_shared_sr_crud(pool3: Any, sr_type: str, config: dict[str, str]) -> None:
    x = pool3
    (pool,) = x.pool.get_all()
    master = x.pool.get_master(pool)
    sr = x.SR.create(master, config, "0", f"ceph-{sr_type}", "via gateway", sr_type, "user", True, {})
    rec = x.SR.get_record(sr)
    assert (rec["type"], rec["shared"], rec["name_label"]) == (sr_type, True, f"ceph-{sr_type}")
    pbds = [x.PBD.get_record(p) for p in rec["PBDs"]]
    assert len(pbds) == 3 and all(p["currently_attached"] and p["device_config"] == config for p in pbds)
    assert sorted(p["host"] for p in pbds) == sorted(x.host.get_all())
    x.pool.set_default_SR(pool, sr)
    x.SR.set_name_label(sr, "renamed")
    assert x.pool.get_default_SR(pool) == sr and x.SR.get_name_label(sr) == "renamed"
    assert failure(lambda: x.SR.forget(sr)) == ["SR_HAS_PBD", sr]
    assert failure(lambda: x.PBD.destroy(rec["PBDs"][0]))[0] == "OPERATION_NOT_ALLOWED"
    for p in rec["PBDs"]:
        x.PBD.unplug(p)
    assert not any(x.PBD.get_currently_attached(p) for p in rec["PBDs"])
    x.SR.destroy(sr)
    assert sr not in x.SR.get_all() and not set(rec["PBDs"]) & set(x.PBD.get_all())
    assert x.pool.get_default_SR(pool) == "OpaqueRef:NULL"


def test_sr_introduce_pbd_create_plug_and_forget(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    (host,) = x.host.get_all()
    sr = x.SR.introduce("0b7f0a5a-0000-4000-8000-000000000001", "adopted", "", "nfs", "user", True, {})
    pbd = x.PBD.create({"host": host, "SR": sr, "device_config": {"server": "s", "serverpath": "/p"},
                        "other_config": {}})
    assert failure(lambda: x.PBD.create({"host": host, "SR": sr, "device_config": {}, "other_config": {}})) == [
        "PBD_EXISTS", sr, host, pbd]
    assert x.PBD.get_currently_attached(pbd) is False
    x.PBD.plug(pbd)
    x.PBD.plug(pbd)  # plugging a plugged PBD is a no-op, as in XAPI
    assert x.PBD.get_currently_attached(pbd) is True
    x.PBD.unplug(pbd)
    x.SR.forget(sr)
    assert sr not in x.SR.get_all()


def test_sr_create_errors(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    (host,) = x.host.get_all()
    assert failure(lambda: x.SR.create(host, {}, "0", "x", "", "rbd", "user", True, {})) == [
        "SR_UNKNOWN_DRIVER", "rbd"]
    assert failure(lambda: x.SR.create(host, {"server": "s"}, "0", "x", "", "nfs", "user", True, {})) == [
        "SR_BACKEND_FAILURE", "101", "", "The request is missing the serverpath parameter"]
