"""The XCP-ng resources against the XAPI emulator, over XML-RPC, through the stock XenAPI library.

Each resource follows the choreography: create, create again (adopts, nothing changes), update,
update again (nothing changes), refresh after an out-of-band change, delete, delete again.
"""

from __future__ import annotations

from typing import Any

import pytest

from lab.xapi import XapiLab
from providers._core import Permanent
from providers.xcpng import NetworkProvider, PoolProvider, Settings, SharedSRProvider, Xapi
from providers.xcpng._xapi import Credentials
from providers.xcpng.pool import eject_warning

from .conftest import (
    PASSWORD,
    SETTINGS,
    Direct,
    addresses,
    connection,
    live_sessions,
    methods,
    mutations,
    out_of,
    pool_props,
)


def checked(provider: Any, props: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, Any]:
    result = provider.check(olds or {}, props)
    assert not result.failures, [f.reason for f in result.failures]
    return dict(result.inputs)


# --- sessions -------------------------------------------------------------------------------------


def test_login_to_a_member_follows_host_is_slave(lab: XapiLab, pool: dict[str, Any]) -> None:
    member = next(a for a in addresses(lab) if a != pool["master_address"])
    start = len(lab.request_log)
    with Xapi(SETTINGS, "test", Credentials(member, "root", PASSWORD)) as x:
        assert x.address == pool["master_address"]
        assert x.read("pool.get_all_records")
    logins = [c.host for c in lab.request_log[start:] if c.method == "session.login_with_password"]
    member_name = next(h.name for h in lab.hosts if h.address == member)
    master_name = next(h.name for h in lab.hosts if h.address == pool["master_address"])
    assert logins == [member_name, master_name]
    assert live_sessions(lab) == 0


def test_wrong_password_is_permanent_and_names_the_code(lab: XapiLab) -> None:
    with pytest.raises(Permanent, match="SESSION_AUTHENTICATION_FAILED"):
        Xapi(SETTINGS, "test", Credentials(lab.hosts[0].address, "root", "wrong")).login()


def test_sessions_are_logged_out_even_when_a_call_fails(lab: XapiLab, networks: NetworkProvider,
                                                        pool: dict[str, Any]) -> None:
    with pytest.raises(Permanent, match="no such NIC"):
        networks.create(checked(networks, {**connection(pool), "name_label": "x", "device": "eth9"}))
    assert live_sessions(lab) == 0


# --- pool ----------------------------------------------------------------------------------------


def test_pool_choreography(lab: XapiLab, pools: PoolProvider) -> None:
    a = addresses(lab)
    props = checked(pools, pool_props(lab))

    # create: the two others join the master, each on its own host
    created = pools.create(props)
    outs = out_of(created)
    joins = [c for c in lab.request_log if c.method == "Async.pool.join"]
    assert sorted(c.host for c in joins) == ["xcp-02", "xcp-03"]
    assert {c.params["master_address"] for c in joins} == {a[0]}
    assert outs["hosts"] == sorted(a) and outs["master"] == a[0] and len(outs["host_uuids"]) == 3
    assert outs["master_url"] == f"http://{a[0]}" and created.id == outs["pool_uuid"]
    assert (outs["prior_name_label"], outs["prior_name_description"]) == ("", "")  # a fresh host's pool
    assert not pools.diff(created.id, outs, props).changes

    # create again: adopts, no join
    mark = len(lab.request_log)
    again = pools.create(props)
    assert again.id == created.id and mutations(lab, mark) == []

    # update: rename and a new master (designate, not a rebuild)
    news = checked(pools, {**pool_props(lab, master=1), "name_label": "pool-b"}, props)
    d = pools.diff(created.id, outs, news)
    assert d.changes and d.replaces == []
    mark = len(lab.request_log)
    outs = out_of(pools.update(created.id, outs, news))
    assert "Async.pool.designate_new_master" in methods(lab, mark)
    assert "Async.pool.join" not in methods(lab, mark) and "Async.pool.eject" not in methods(lab, mark)
    assert outs["master"] == a[1] and outs["master_address"] == a[1] and outs["name_label"] == "pool-b"
    assert outs["pool_uuid"] == created.id

    # update again: nothing to do
    assert not pools.diff(created.id, outs, news).changes
    mark = len(lab.request_log)
    assert out_of(pools.update(created.id, outs, news)) == outs
    assert mutations(lab, mark) == []

    # refresh after an out-of-band rename: the drift shows, and an update repairs it
    with Direct(lab) as x:
        x.pool.set_name_label(x.pool.get_all()[0], "renamed-by-hand")
    read = pools.read(created.id, outs)
    assert read.id == created.id and out_of(read)["name_label"] == "renamed-by-hand"
    assert (read.inputs or {}).get("name_label") == "renamed-by-hand" and "password" in (read.inputs or {})
    assert pools.diff(created.id, out_of(read), news).changes
    outs = out_of(pools.update(created.id, out_of(read), news))
    assert outs["name_label"] == "pool-b"

    # delete: the members are ejected, the master stays as a pool of one with its name of before
    pools.delete(created.id, outs)
    with Direct(lab, a[1]) as x:
        assert len(x.host.get_all()) == 1
        assert x.pool.get_name_label(x.pool.get_all()[0]) == ""
    # delete again: nothing left to do
    mark = len(lab.request_log)
    pools.delete(created.id, outs)
    assert mutations(lab, mark) == []
    assert live_sessions(lab) == 0


def test_adding_a_host_joins_it_removing_one_ejects_it(lab: XapiLab, pools: PoolProvider) -> None:
    a = addresses(lab)
    two = checked(pools, pool_props(lab, count=2))
    outs = out_of(pools.create(two))
    assert len(outs["host_uuids"]) == 2

    three = checked(pools, pool_props(lab, count=3), two)
    assert eject_warning(outs, three) is None
    mark = len(lab.request_log)
    outs = out_of(pools.update(outs["pool_uuid"], outs, three))
    assert [c.host for c in lab.request_log[mark:] if c.method == "Async.pool.join"] == ["xcp-03"]
    assert outs["hosts"] == sorted(a)

    back = checked(pools, {**pool_props(lab, count=3), "hosts": [a[0], a[2]]}, three)
    warning = eject_warning(outs, back)
    assert warning is not None and a[1] in warning and "EJECTED" in warning
    mark = len(lab.request_log)
    outs = out_of(pools.update(outs["pool_uuid"], outs, back))
    assert "Async.pool.eject" in methods(lab, mark)
    assert outs["hosts"] == sorted([a[0], a[2]])


def test_create_adopts_a_host_joined_by_a_crashed_run(lab: XapiLab, pools: PoolProvider) -> None:
    a = addresses(lab)
    with Direct(lab, a[1]) as x:  # what a crashed run left: xcp-02 already joined
        x.pool.join(a[0], "root", PASSWORD)
    mark = len(lab.request_log)
    outs = out_of(pools.create(checked(pools, pool_props(lab))))
    assert [c.host for c in lab.request_log[mark:] if c.method == "Async.pool.join"] == ["xcp-03"]
    assert outs["hosts"] == sorted(a)


def test_a_failed_join_carries_xapis_words_and_the_next_run_finishes(lab: XapiLab, pools: PoolProvider) -> None:
    lab.faults.fail_task("pool.join", "POOL_JOINING_HOST_MUST_HAVE_SAME_PRODUCT_VERSION", host="xcp-03")
    props = checked(pools, pool_props(lab))
    with pytest.raises(Permanent, match="POOL_JOINING_HOST_MUST_HAVE_SAME_PRODUCT_VERSION") as err:
        pools.create(props)
    assert "pool.join of" in str(err.value) and "xcp.Pool" not in str(err.value)
    outs = out_of(pools.create(props))  # the fault fired once: the rerun adopts xcp-02 and joins xcp-03
    assert len(outs["host_uuids"]) == 3


def test_a_join_task_is_polled_until_it_completes(lab: XapiLab, pools: PoolProvider) -> None:
    lab.clock.set_policy("pool.join", polls=3)  # pending for three task reads each
    outs = out_of(pools.create(checked(pools, pool_props(lab))))
    assert len(outs["host_uuids"]) == 3
    assert methods(lab).count("task.get_record") >= 6


def test_a_member_of_another_pool_is_refused(lab: XapiLab, pools: PoolProvider) -> None:
    a = addresses(lab)
    with Direct(lab, a[2]) as x:
        x.pool.join(a[1], "root", PASSWORD)  # xcp-03 belongs to xcp-02's pool
    with pytest.raises(Permanent, match="member of another pool"):
        pools.create(checked(pools, {**pool_props(lab, count=3), "hosts": [a[0], a[2]]}))


def test_unreachable_hosts_fail_read_and_delete_instead_of_dropping_the_pool() -> None:
    props = {"name_label": "p", "master": "127.0.0.1:9", "hosts": ["127.0.0.1:9"], "password": "x"}
    quick = PoolProvider()
    quick.configure_with(Settings(scheme="http", retry_timeout=0, poll_interval=0, http_timeout=2))
    with pytest.raises(Permanent, match=r"cannot log in to the pool from any declared host.*cannot reach XAPI"):
        quick.read("some-uuid", props)
    with pytest.raises(Permanent, match="cannot log in"):
        quick.delete("some-uuid", props)


def test_a_pool_whose_hosts_were_reinstalled_reads_as_gone(lab: XapiLab, pools: PoolProvider,
                                                           pool: dict[str, Any]) -> None:
    assert pools.read("another-pool-uuid", pool).id == ""
    mark = len(lab.request_log)
    pools.delete("another-pool-uuid", pool)
    assert mutations(lab, mark) == []


# --- networks ------------------------------------------------------------------------------------


def test_vlan_network_choreography(lab: XapiLab, networks: NetworkProvider, pool: dict[str, Any]) -> None:
    a = addresses(lab)
    member = next(x for x in a if x != pool["master_address"])
    props = checked(networks, {**connection(pool, via=member), "name_label": "cloud-public", "device": "eth1",
                               "vlan": 100.0, "mtu": 1500.0})

    created = networks.create(props)
    outs = out_of(created)
    assert outs["kind"] == "vlan" and outs["vlan"] == 100 and outs["device"] == "eth1"
    assert sorted(outs["host_uuids"]) == sorted(pool["host_uuids"])
    assert methods(lab).count("Async.pool.create_VLAN") == 1
    assert not networks.diff(created.id, outs, props).changes

    mark = len(lab.request_log)
    assert networks.create(props).id == created.id and mutations(lab, mark) == []

    news = checked(networks, {**props, "name_label": "cloud-public-1", "mtu": 9000})
    d = networks.diff(created.id, outs, news)
    assert d.changes and d.replaces == []
    outs = out_of(networks.update(created.id, outs, news))
    assert outs["name_label"] == "cloud-public-1" and outs["mtu"] == 9000

    mark = len(lab.request_log)
    assert out_of(networks.update(created.id, outs, news)) == outs and mutations(lab, mark) == []
    assert not networks.diff(created.id, outs, news).changes

    # out of band: renamed, and the VLAN removed from one host
    with Direct(lab) as x:
        net = x.network.get_by_uuid(created.id)
        x.network.set_name_label(net, "by-hand")
        pif = next(p for p in x.network.get_PIFs(net) if x.PIF.get_host(p) == x.pool.get_master(x.pool.get_all()[0]))
        x.VLAN.destroy(x.PIF.get_VLAN_master_of(pif))
    read = networks.read(created.id, outs)
    assert out_of(read)["name_label"] == "by-hand" and len(out_of(read)["host_uuids"]) == 2
    assert networks.diff(created.id, out_of(read), news).changes
    outs = out_of(networks.update(created.id, out_of(read), news))
    assert outs["name_label"] == "cloud-public-1" and len(outs["host_uuids"]) == 3
    assert "Async.VLAN.create" in methods(lab)

    networks.delete(created.id, outs)
    assert networks.read(created.id, outs).id == ""
    mark = len(lab.request_log)
    networks.delete(created.id, outs)
    assert mutations(lab, mark) == []


def test_bond_network_mode_changes_in_place(lab: XapiLab, networks: NetworkProvider, pool: dict[str, Any]) -> None:
    props = checked(networks, {**connection(pool), "name_label": "storage", "bond_devices": ["eth3", "eth2"],
                               "bond_mode": "active-backup", "mtu": 9000})
    created = networks.create(props)
    outs = out_of(created)
    assert outs["kind"] == "bond" and outs["bond_devices"] == ["eth2", "eth3"] and outs["bond_mode"] == "active-backup"
    assert methods(lab).count("Async.Bond.create") == 3  # one per host
    mark = len(lab.request_log)
    assert networks.create(props).id == created.id and mutations(lab, mark) == []

    news = checked(networks, {**props, "bond_mode": "lacp"})
    assert networks.diff(created.id, outs, news).replaces == []
    outs = out_of(networks.update(created.id, outs, news))
    assert outs["bond_mode"] == "lacp" and methods(lab).count("Async.Bond.set_mode") == 3

    networks.delete(created.id, outs)
    assert methods(lab).count("Async.Bond.destroy") == 3
    assert networks.read(created.id, outs).id == ""


def test_physical_network_is_adopted_and_left_on_delete(lab: XapiLab, networks: NetworkProvider,
                                                       pool: dict[str, Any]) -> None:
    props = checked(networks, {**connection(pool), "name_label": "cloud-mgmt", "device": "eth0"})
    created = networks.create(props)
    assert out_of(created)["kind"] == "physical" and out_of(created)["bridge"] == "xenbr0"
    assert "network.create" not in methods(lab)
    networks.delete(created.id, out_of(created))
    assert out_of(networks.read(created.id, out_of(created)))["name_label"] == "cloud-mgmt"


def test_create_adopts_a_vlan_already_there_by_tag_and_device(lab: XapiLab, networks: NetworkProvider,
                                                              pool: dict[str, Any]) -> None:
    with Direct(lab) as x:
        net = x.network.create({"name_label": "made-by-crashed-run", "name_description": "", "MTU": "1500",
                                "other_config": {}, "tags": []})
        x.pool.create_VLAN("eth1", net, "200")
        uuid = x.network.get_uuid(net)
    mark = len(lab.request_log)
    created = networks.create(checked(networks, {**connection(pool), "name_label": "guest", "device": "eth1",
                                                 "vlan": 200}))
    assert created.id == uuid and out_of(created)["name_label"] == "guest"
    assert "network.create" not in methods(lab, mark) and "Async.pool.create_VLAN" not in methods(lab, mark)


def test_a_failed_vlan_create_is_undone(lab: XapiLab, networks: NetworkProvider, pool: dict[str, Any]) -> None:
    lab.faults.fail_task("pool.create_VLAN", "VLAN_TAG_INVALID", "300")
    props = checked(networks, {**connection(pool), "name_label": "guest", "device": "eth1", "vlan": 300})
    with pytest.raises(Permanent, match="VLAN_TAG_INVALID"):
        networks.create(props)
    with Direct(lab) as x:
        assert x.network.get_by_name_label("guest") == []
    assert out_of(networks.create(props))["vlan"] == 300


# --- shared SR -----------------------------------------------------------------------------------


def nfs(pool: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**connection(pool), "name_label": "ceph-nfs", "type": "nfs",
            "device_config": {"server": "10.0.0.5", "serverpath": "/xcp"}, **extra}


def test_nfs_sr_choreography(lab: XapiLab, srs: SharedSRProvider, pool: dict[str, Any]) -> None:
    props = checked(srs, nfs(pool, make_default=True))
    created = srs.create(props)
    outs = out_of(created)
    assert outs["make_default"] is True and sorted(outs["host_uuids"]) == sorted(pool["host_uuids"])
    assert methods(lab).count("Async.SR.create") == 1
    assert not srs.diff(created.id, outs, props).changes

    mark = len(lab.request_log)
    assert srs.create(props).id == created.id and mutations(lab, mark) == []

    news = checked(srs, nfs(pool, make_default=True, name_label="ceph-nfs-1",
                            device_config={"server": "10.0.0.6", "serverpath": "/xcp"}))
    d = srs.diff(created.id, outs, news)
    assert d.changes and d.replaces == []
    mark = len(lab.request_log)
    outs = out_of(srs.update(created.id, outs, news))
    assert outs["name_label"] == "ceph-nfs-1" and outs["device_config"]["server"] == "10.0.0.6"
    assert methods(lab, mark).count("Async.PBD.set_device_config") == 3
    assert methods(lab, mark).count("Async.PBD.plug") == 3

    mark = len(lab.request_log)
    assert out_of(srs.update(created.id, outs, news)) == outs and mutations(lab, mark) == []

    with Direct(lab) as x:
        sr = x.SR.get_by_uuid(created.id)
        x.SR.set_name_label(sr, "by-hand")
        x.pool.set_default_SR(x.pool.get_all()[0], x.SR.get_by_name_label("Local storage")[0])
    read = srs.read(created.id, outs)
    assert out_of(read)["name_label"] == "by-hand" and out_of(read)["make_default"] is False
    assert srs.diff(created.id, out_of(read), news).changes
    outs = out_of(srs.update(created.id, out_of(read), news))
    assert outs["name_label"] == "ceph-nfs-1" and outs["make_default"] is True

    srs.delete(created.id, outs)
    assert "Async.SR.forget" in methods(lab) and "Async.SR.destroy" not in methods(lab)
    assert srs.read(created.id, outs).id == ""
    mark = len(lab.request_log)
    srs.delete(created.id, outs)
    assert mutations(lab, mark) == []


def test_iscsi_sr_keeps_the_chap_password_out_of_outputs(lab: XapiLab, srs: SharedSRProvider,
                                                         pool: dict[str, Any]) -> None:
    props = checked(srs, {**connection(pool), "name_label": "ceph-iscsi", "type": "lvmoiscsi",
                          "device_config": {"target": "10.0.0.7", "targetIQN": "iqn.2026-01.ceph:gw",
                                            "SCSIid": "36001405abcdef", "chapuser": "xcp", "port": 3260.0},
                          "chap_password": "chap-secret", "destroy_on_delete": True})
    assert props["device_config"]["port"] == "3260"
    created = srs.create(props)
    create_call = next(c for c in lab.request_log if c.method == "Async.SR.create")
    assert create_call.params["shared"] is True and create_call.params["type"] == "lvmoiscsi"
    assert "chappassword" not in out_of(created)["device_config"]
    assert out_of(created)["chap_password"] == "chap-secret"
    assert not srs.diff(created.id, out_of(created), props).changes
    srs.delete(created.id, out_of(created))
    assert "Async.SR.destroy" in methods(lab)


def test_create_adopts_an_sr_by_name_label(lab: XapiLab, srs: SharedSRProvider, pool: dict[str, Any]) -> None:
    with Direct(lab) as x:
        master = x.pool.get_master(x.pool.get_all()[0])
        sr = x.SR.create(master, {"server": "10.0.0.5", "serverpath": "/xcp"}, "0", "ceph-nfs", "", "nfs", "user",
                         True, {})
        uuid = x.SR.get_uuid(sr)
    mark = len(lab.request_log)
    created = srs.create(checked(srs, nfs(pool)))
    assert created.id == uuid and "Async.SR.create" not in methods(lab, mark)


def test_a_failed_sr_create_carries_the_sm_words(lab: XapiLab, srs: SharedSRProvider, pool: dict[str, Any]) -> None:
    lab.faults.fail_task("SR.create", "SR_BACKEND_FAILURE", "108", "", "Unable to detect an NFS service")
    with pytest.raises(Permanent, match=r"SR_BACKEND_FAILURE.*Unable to detect an NFS service"):
        srs.create(checked(srs, nfs(pool)))
    with Direct(lab) as x:
        assert x.SR.get_by_name_label("ceph-nfs") == []


def test_a_failure_after_sr_create_forgets_the_new_sr(lab: XapiLab, srs: SharedSRProvider,
                                                      pool: dict[str, Any]) -> None:
    lab.faults.error("pool.set_default_SR", "INTERNAL_ERROR", "injected")
    with pytest.raises(Permanent, match="INTERNAL_ERROR"):
        srs.create(checked(srs, nfs(pool, make_default=True)))
    assert "Async.SR.forget" in methods(lab)
    with Direct(lab) as x:
        assert x.SR.get_by_name_label("ceph-nfs") == []
    assert out_of(srs.create(checked(srs, nfs(pool, make_default=True))))["make_default"] is True


def test_a_network_read_through_another_pool_is_an_error_not_gone(lab: XapiLab, networks: NetworkProvider,
                                                                 pool: dict[str, Any]) -> None:
    created = networks.create(checked(networks, {**connection(pool), "name_label": "cloud-public",
                                                 "device": "eth1", "vlan": 100}))
    wrong = {**out_of(created), "pool_uuid": "not-this-pool"}
    with pytest.raises(Permanent, match="pool_uuid='not-this-pool'"):
        networks.read(created.id, wrong)


def test_bonds_come_after_joins_and_reach_hosts_that_join_later(lab: XapiLab, pools: PoolProvider,
                                                               networks: NetworkProvider) -> None:
    a = addresses(lab)
    two = checked(pools, pool_props(lab, count=2))
    pool = out_of(pools.create(two))
    props = checked(networks, {**connection(pool), "name_label": "storage", "bond_devices": ["eth2", "eth3"]})
    created = networks.create(props)
    assert len(out_of(created)["host_uuids"]) == 2

    # a standalone host with a bond of its own cannot join: XAPI refuses, with its own words
    with Direct(lab, a[2]) as x:
        host = x.host.get_all()[0]
        net = x.network.create({"name_label": "own-bond", "name_description": "", "MTU": "1500",
                                "other_config": {}, "tags": []})
        pifs = [p for p in x.host.get_PIFs(host) if x.PIF.get_device(p) in ("eth2", "eth3")]
        bond = x.Bond.create(net, pifs, "", "balance-slb", {})
    with pytest.raises(Permanent, match="POOL_JOINING_HOST_HAS_BONDS"):
        pools.update(pool["pool_uuid"], pool, checked(pools, pool_props(lab, count=3), two))
    with Direct(lab, a[2]) as x:
        x.Bond.destroy(bond)
        x.network.destroy(net)

    # without it, the host joins, and the pool's bond network reaches it
    pool = out_of(pools.update(pool["pool_uuid"], pool, checked(pools, pool_props(lab, count=3), two)))
    outs = out_of(networks.update(created.id, out_of(created), props))
    assert sorted(outs["host_uuids"]) == sorted(pool["host_uuids"])


def test_pool_default_sr_by_name_label(lab: XapiLab, pools: PoolProvider, srs: SharedSRProvider,
                                       pool: dict[str, Any]) -> None:
    sr = srs.create(checked(srs, nfs(pool)))
    news = checked(pools, {**pool_props(lab), "default_sr": "ceph-nfs"})
    assert pools.diff(pool["pool_uuid"], pool, news).changes
    outs = out_of(pools.update(pool["pool_uuid"], pool, news))
    assert outs["default_sr"] == "ceph-nfs"
    assert not pools.diff(pool["pool_uuid"], outs, news).changes
    with Direct(lab) as x:
        assert x.SR.get_uuid(x.pool.get_default_SR(x.pool.get_all()[0])) == sr.id
        x.pool.set_default_SR(x.pool.get_all()[0], x.SR.get_by_name_label("Local storage")[0])
    read = out_of(pools.read(pool["pool_uuid"], outs))
    assert read["default_sr"] not in ("ceph-nfs", sr.id)  # drift shows as the current default's uuid
    assert pools.diff(pool["pool_uuid"], read, news).changes
    with pytest.raises(Permanent, match="default_sr='no-such-sr'"):
        pools.update(pool["pool_uuid"], read, checked(pools, {**pool_props(lab), "default_sr": "no-such-sr"}))
