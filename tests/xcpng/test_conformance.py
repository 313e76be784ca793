"""The emulator's request log from the provider holds only real XenAPI messages with valid parameters.

(Every test using the `lab` fixture is also checked at teardown; this one runs every resource
through its whole life in one log and also proves the checker catches what it should.)
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from lab.xapi import XapiLab
from providers.xcpng import NetworkProvider, PoolProvider, SharedSRProvider

from . import xapispec
from .conftest import PASSWORD, addresses, connection, out_of, pool_props


def test_every_call_of_a_full_lifecycle_is_valid_xenapi(lab: XapiLab, pools: PoolProvider,
                                                        networks: NetworkProvider, srs: SharedSRProvider) -> None:
    a = addresses(lab)
    props = pools.check({}, pool_props(lab, count=2)).inputs
    pool = out_of(pools.create(props))
    grown = pools.check({}, {**pool_props(lab, count=3, master=1), "name_label": "pool-b"}).inputs
    pool = out_of(pools.update(pool["pool_uuid"], pool, grown))

    made: list[tuple[Any, str, dict[str, Any]]] = []
    for spec, update in (
        ({"name_label": "cloud-public", "device": "eth1", "vlan": 100}, {"mtu": 9000}),
        ({"name_label": "storage", "bond_devices": ["eth2", "eth3"]}, {"bond_mode": "lacp"}),
        ({"name_label": "cloud-mgmt", "device": "eth0"}, {"name_label": "cloud-mgmt-1"}),
    ):
        inputs = networks.check({}, {**connection(pool, via=a[2]), **spec}).inputs
        created = networks.create(inputs)
        changed = networks.check({}, {**inputs, **update}).inputs
        made.append((networks, created.id, out_of(networks.update(created.id, out_of(created), changed))))
    sr_specs: list[dict[str, Any]] = [
        {"name_label": "ceph-nfs", "type": "nfs", "device_config": {"server": "10.0.0.5", "serverpath": "/x"},
         "make_default": True},
        {"name_label": "ceph-iscsi", "type": "lvmoiscsi", "chap_password": "c",
         "device_config": {"target": "10.0.0.7", "targetIQN": "iqn.2026-01.ceph:gw", "SCSIid": "3600"}},
    ]
    for sr_spec in sr_specs:
        inputs = srs.check({}, {**connection(pool), **sr_spec}).inputs
        created = srs.create(inputs)
        config: dict[str, str] = sr_spec["device_config"]
        changed = srs.check({}, {**inputs, "device_config": {**config, "nfsversion": "4.1"}}).inputs
        made.append((srs, created.id, out_of(srs.update(created.id, out_of(created), changed))))
    for provider, id_, outs in made:
        provider.read(id_, outs)
        provider.delete(id_, outs)
    shrunk = pools.check({}, {**grown, "hosts": [a[0], a[1]]}).inputs
    pool = out_of(pools.update(pool["pool_uuid"], pool, shrunk))
    pools.delete(pool["pool_uuid"], pool)

    used = {c.method for c in lab.request_log}
    assert {"Async.pool.join", "Async.pool.designate_new_master", "Async.pool.eject", "Async.pool.create_VLAN",
            "Async.Bond.create", "Async.Bond.set_mode", "Async.SR.create", "Async.PBD.set_device_config",
            "Async.PBD.plug", "Async.PBD.unplug", "Async.SR.forget", "network.create", "network.set_MTU",
            "pool.set_default_SR", "session.login_with_password", "session.logout"} <= used
    assert xapispec.problems(lab.request_log) == []


def test_the_checker_catches_what_is_not_xenapi(lab: XapiLab) -> None:
    """Raw XML-RPC the way a careless client would send it: every mistake is reported."""
    proxy: Any = xmlrpc.client.ServerProxy(lab.hosts[0].url, allow_none=True)
    session = proxy.session.login_with_password("root", PASSWORD, "1.0", "test")["Value"]
    pif = next(iter(proxy.PIF.get_all(session)["Value"]))
    net = proxy.network.get_all(session)["Value"][0]
    getattr(proxy, "VLAN.create")(session, pif, 100, net)  # an <int>, not XAPI's decimal string
    getattr(proxy, "Bond.create")(session, net, [pif], "", "round-robin", {})  # not a bond_mode
    getattr(proxy, "pool.frobnicate")(session)  # no such message
    getattr(proxy, "Async.host.get_all_records")(session)  # getters have no Async form
    proxy.session.logout(session)
    found = " | ".join(xapispec.problems(lab.request_log))
    for words in ("VLAN.create(tag)", "Bond.create(mode)", "pool.frobnicate: no such message",
                  "Async.host.get_all_records: host.get_all_records has no Async form"):
        assert words in found
    lab.request_log.clear()  # the teardown check is for the provider's calls
