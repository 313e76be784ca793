"""Pools through the stock XenAPI library: join (on the joining host), eject, designate, refusals."""

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


def join(lab: XapiLab, login: Login, i: int, master: int = 0) -> None:
    login(i).xenapi.pool.join(lab.hosts[master].address, "root", PASSWORD)


def test_join_merges_the_host_into_the_masters_pool(lab: XapiLab, login: Login) -> None:
    join(lab, login, 1)
    join(lab, login, 2)
    x = login(0).xenapi
    (pool,) = x.pool.get_all()
    hosts = x.host.get_all_records()
    assert sorted(h["name_label"] for h in hosts.values()) == ["xcp-01", "xcp-02", "xcp-03"]
    assert hosts[x.pool.get_master(pool)]["address"] == lab.hosts[0].address
    # Physical PIFs of members land on the master's networks with the same bridge.
    nets = x.network.get_all_records()
    xenbr1 = next(r for r, n in nets.items() if n["bridge"] == "xenbr1")
    assert len(nets[xenbr1]["PIFs"]) == 3
    assert len(nets) == 5  # xenbr0..3 + host-internal management network, no duplicates
    for info in lab.hosts[1:]:
        proxy: Any = XenAPI.Session(info.url).xenapi
        assert failure(lambda: proxy.login_with_password("root", PASSWORD)) == [  # noqa: B023
            "HOST_IS_SLAVE", lab.hosts[0].address]
    assert check_calls(lab.request_log) == []


def test_join_is_refused_with_the_real_errors(lab: XapiLab, login: Login) -> None:
    x1 = login(1).xenapi
    assert failure(lambda: x1.pool.join(lab.hosts[0].address, "root", "wrong")) == ["SESSION_AUTHENTICATION_FAILED"]
    assert failure(lambda: x1.pool.join("127.0.0.1:1", "root", PASSWORD)) == ["JOINING_HOST_CONNECTION_FAILED"]
    assert failure(lambda: x1.pool.join(lab.hosts[1].address, "root", PASSWORD)) == [
        "OPERATION_NOT_ALLOWED", "Host cannot become slave of itself"]
    # A master of other hosts cannot join another pool.
    join(lab, login, 2, master=1)
    assert failure(lambda: x1.pool.join(lab.hosts[0].address, "root", PASSWORD)) == [
        "JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS"]
    # Joining through a member's address: the remote login answers HOST_IS_SLAVE.
    x0 = login(0).xenapi
    assert failure(lambda: x0.pool.join(lab.hosts[2].address, "root", PASSWORD)) == [
        "HOST_IS_SLAVE", lab.hosts[1].address]


def test_a_host_with_a_bond_cannot_join(lab: XapiLab, login: Login) -> None:
    x1 = login(1).xenapi
    pifs = x1.PIF.get_all_records()
    members = [r for r, p in pifs.items() if p["device"] in ("eth2", "eth3")]
    net = x1.network.create({"name_label": "bond", "name_description": "", "MTU": "1500", "other_config": {}})
    bond = x1.Bond.create(net, members, "", "active-backup", {})
    assert failure(lambda: x1.pool.join(lab.hosts[0].address, "root", PASSWORD)) == ["POOL_JOINING_HOST_HAS_BONDS"]
    x1.Bond.destroy(bond)
    x1.pool.join(lab.hosts[0].address, "root", PASSWORD)


def test_a_host_with_a_shared_sr_cannot_join(lab: XapiLab, login: Login) -> None:
    x1 = login(1).xenapi
    (host,) = x1.host.get_all()
    x1.SR.create(host, {"server": "nfs", "serverpath": "/x"}, "0", "nfs", "", "nfs", "user", True, {})
    assert failure(lambda: x1.pool.join(lab.hosts[0].address, "root", PASSWORD)) == [
        "JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS"]


def test_new_member_gets_pool_vlans_and_shared_srs(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    (pool,) = x.pool.get_all()
    net = x.network.create({"name_label": "storage", "name_description": "", "MTU": "9000", "other_config": {}})
    x.pool.create_VLAN("eth1", net, "42")
    master = x.pool.get_master(pool)
    sr = x.SR.create(master, {"server": "10.0.0.5", "serverpath": "/export"}, "0", "shared", "", "nfs", "user",
                     True, {})
    bond_net = x.network.create({"name_label": "bond", "name_description": "", "MTU": "1500", "other_config": {}})
    members = [r for r, p in x.PIF.get_all_records().items() if p["device"] in ("eth2", "eth3")]
    x.Bond.create(bond_net, members, "", "lacp", {})
    join(lab, login, 1)
    member = next(r for r, h in x.host.get_all_records().items() if h["name_label"] == "xcp-02")
    vlan_pifs = [p for p in x.PIF.get_all_records().values() if p["VLAN"] == "42"]
    assert sorted(p["host"] for p in vlan_pifs) == sorted([master, member])
    assert all(p["network"] == net and p["MTU"] == "9000" for p in vlan_pifs)
    pbds = [x.PBD.get_record(p) for p in x.SR.get_PBDs(sr)]
    assert sorted(p["host"] for p in pbds) == sorted([master, member])
    assert all(p["currently_attached"] and p["device_config"]["serverpath"] == "/export" for p in pbds)
    bonds = [x.Bond.get_record(b) for b in x.Bond.get_all()]
    assert sorted(x.PIF.get_host(b["master"]) for b in bonds) == sorted([master, member])
    assert all(b["mode"] == "lacp" and x.PIF.get_network(b["master"]) == bond_net for b in bonds)
    member_bond = next(b for b in bonds if x.PIF.get_host(b["master"]) == member)
    assert sorted(x.PIF.get_device(s) for s in member_bond["slaves"]) == ["eth2", "eth3"]


def test_eject_returns_the_host_as_a_fresh_master(lab: XapiLab, login: Login) -> None:
    join(lab, login, 1)
    x = login(0).xenapi
    (pool,) = x.pool.get_all()
    member = next(r for r, h in x.host.get_all_records().items() if h["name_label"] == "xcp-02")
    member_uuid = x.host.get_uuid(member)
    assert failure(lambda: x.pool.eject(x.pool.get_master(pool)))[0] == "OPERATION_NOT_ALLOWED"
    x.pool.eject(member)
    assert len(x.host.get_all()) == 1
    assert all(p["host"] != member for p in x.PIF.get_all_records().values())
    x1 = login(1).xenapi  # answers login again, master of a new pool of one
    (pool1,) = x1.pool.get_all()
    (host1,) = x1.host.get_all()
    assert pool1 != pool and x1.pool.get_master(pool1) == host1 and x1.host.get_uuid(host1) == member_uuid
    assert x1.pool.get_name_label(pool1) == ""


def test_designate_new_master_moves_the_role(lab: XapiLab, login: Login) -> None:
    join(lab, login, 1)
    x = login(0).xenapi
    (pool,) = x.pool.get_all()
    member = next(r for r, h in x.host.get_all_records().items() if h["name_label"] == "xcp-02")
    x.pool.designate_new_master(member)
    assert failure(lambda: XenAPI.Session(lab.hosts[0].url).xenapi.login_with_password("root", PASSWORD)) == [
        "HOST_IS_SLAVE", lab.hosts[1].address]
    x1 = login(1).xenapi
    assert x1.pool.get_master(pool) == member
    assert len(x1.host.get_all()) == 2


def test_pool_name_and_default_sr(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    (pool,) = x.pool.get_all()
    x.pool.set_name_label(pool, "region-a")
    x.pool.set_name_description(pool, "first pool")
    rec = x.pool.get_record(pool)
    assert (rec["name_label"], rec["name_description"]) == ("region-a", "first pool")
    local = rec["default_SR"]
    assert x.SR.get_name_label(local) == "Local storage"
    assert failure(lambda: x.pool.set_default_SR(pool, "OpaqueRef:nope")) == ["HANDLE_INVALID", "SR", "OpaqueRef:nope"]
    x.pool.set_default_SR(pool, "OpaqueRef:NULL")
    assert x.pool.get_default_SR(pool) == "OpaqueRef:NULL"


def test_other_config_maps_and_tags(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    (pool,) = x.pool.get_all()
    x.pool.add_to_other_config(pool, "owner", "pulumi")
    assert failure(lambda: x.pool.add_to_other_config(pool, "owner", "again"))[0] == "MAP_DUPLICATE_KEY"
    x.pool.remove_from_other_config(pool, "owner")
    x.pool.add_tags(pool, "prod")
    assert x.pool.get_tags(pool) == ["prod"]
    x.pool.remove_tags(pool, "prod")
    assert x.pool.get_tags(pool) == []
    assert x.pool.get_by_uuid(x.pool.get_uuid(pool)) == pool
    assert failure(lambda: x.pool.get_by_uuid("nope")) == ["UUID_INVALID", "pool", "nope"]


def test_lab_reports_pool_membership(lab: XapiLab, login: Login) -> None:
    assert lab.master_of("xcp-02") == "xcp-02" and lab.pool_members("xcp-02") == ["xcp-02"]
    join(lab, login, 1)
    assert lab.master_of("xcp-02") == "xcp-01"
    assert lab.pool_members("xcp-01") == ["xcp-01", "xcp-02"]
