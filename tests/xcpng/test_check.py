"""Pure: `check` names the field, the value and the reason; it normalises what the engine sends."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers._core import InputError
from providers.xcpng import NetworkProvider, PoolProvider, Settings, SharedSRProvider

POOL = {"name_label": "pool-a", "master": "10.0.0.11", "hosts": ["10.0.0.12", "10.0.0.11"], "password": "pw"}
CONN = {"address": "10.0.0.11", "password": "pw"}
VLAN = {**CONN, "name_label": "cloud-public", "device": "eth1", "vlan": 100}
NFS = {**CONN, "name_label": "ceph-nfs", "type": "nfs", "device_config": {"server": "10.0.0.5", "serverpath": "/x"}}
ISCSI: dict[str, Any] = {**CONN, "name_label": "ceph-iscsi", "type": "lvmoiscsi",
         "device_config": {"target": "10.0.0.7", "targetIQN": "iqn.2026-01.ceph:gw", "SCSIid": "3600"}}


def failures(provider: Any, props: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.property, f.reason) for f in provider.check({}, props).failures]


@pytest.mark.parametrize(
    ("props", "field", "words"),
    [
        ({**POOL, "master": "10.0.0.13"}, "", "must be one of hosts"),
        ({**POOL, "hosts": ["10.0.0.11", "10.0.0.11"]}, "hosts", "listed more than once"),
        ({**POOL, "hosts": []}, "hosts", "at least 1"),
        ({**POOL, "master": "https://10.0.0.11"}, "master", "no scheme"),
        ({**POOL, "hosts": ["10.0.0.11", "bad host"]}, "hosts", "not a host name"),
        ({**POOL, "password": ""}, "password", "at least 1"),
        ({**POOL, "name_label": ""}, "name_label", "at least 1"),
        ({**POOL, "host_passwords": {"10.0.0.99": "x"}}, "", "not in hosts"),
        ({**POOL, "colour": "blue"}, "colour", "Extra inputs"),
        ({k: v for k, v in POOL.items() if k != "master"}, "master", "(missing)"),
    ],
)
def test_pool_check_failures(props: dict[str, Any], field: str, words: str) -> None:
    found = failures(PoolProvider(), props)
    assert found, "expected a failure"
    prop, reason = found[0]
    assert prop == field and words in reason
    if field and "(missing)" not in words:
        assert field in reason  # the reason names the field and shows the value


@pytest.mark.parametrize(
    ("props", "field", "words"),
    [
        ({**VLAN, "vlan": 4095}, "vlan", "less than or equal to 4094"),
        ({**VLAN, "vlan": 0}, "vlan", "greater than or equal to 1"),
        ({**VLAN, "mtu": 10000}, "mtu", "less than or equal to 9216"),
        ({**CONN, "name_label": "n"}, "", "give device"),
        ({**CONN, "name_label": "n", "vlan": 5}, "", "give device"),
        ({**CONN, "name_label": "n", "bond_devices": ["eth1"]}, "bond_devices", "at least two"),
        ({**CONN, "name_label": "n", "bond_devices": ["eth1", "eth1"]}, "bond_devices", "more than once"),
        ({**CONN, "name_label": "n", "bond_devices": ["eth1", "eth2"], "device": "eth3"}, "", "not both"),
        ({**CONN, "name_label": "n", "bond_devices": ["eth1", "eth2"], "bond_mode": "rr"}, "bond_mode", "'rr'"),
        ({**VLAN, "bond_mode": "lacp"}, "", "bond_devices only"),
        ({**VLAN, "address": "http://10.0.0.11/"}, "address", "no scheme"),
    ],
)
def test_network_check_failures(props: dict[str, Any], field: str, words: str) -> None:
    found = failures(NetworkProvider(), props)
    assert found and found[0][0] == field and words in found[0][1]


@pytest.mark.parametrize(
    ("props", "field", "words"),
    [
        ({**NFS, "type": "rbd"}, "type", "'nfs' or 'lvmoiscsi'"),
        ({**NFS, "device_config": {"server": "10.0.0.5"}}, "", "needs ['serverpath']"),
        ({**ISCSI, "device_config": {"target": "t"}}, "", "needs ['targetIQN', 'SCSIid']"),
        ({**ISCSI, "device_config": {**ISCSI["device_config"], "chappassword": "x"}}, "", "chap_password"),
        ({**NFS, "chap_password": "x"}, "", "lvmoiscsi only"),
    ],
)
def test_sr_check_failures(props: dict[str, Any], field: str, words: str) -> None:
    found = failures(SharedSRProvider(), props)
    assert found and found[0][0] == field and words in found[0][1]


def test_check_normalises_what_the_engine_sends() -> None:
    pool = PoolProvider().check({}, POOL).inputs
    assert pool["hosts"] == ["10.0.0.11", "10.0.0.12"] and pool["username"] == "root"
    net = NetworkProvider().check({}, {**VLAN, "vlan": 100.0, "mtu": 9000.0}).inputs
    assert net["vlan"] == 100 and net["mtu"] == 9000 and isinstance(net["vlan"], int)
    bond = NetworkProvider().check({}, {**CONN, "name_label": "b", "bond_devices": ["eth3", "eth2"]}).inputs
    assert bond["bond_devices"] == ["eth2", "eth3"] and bond["bond_mode"] == "balance-slb"
    sr = SharedSRProvider().check({}, {**ISCSI, "device_config": {**ISCSI["device_config"], "port": 3260.0}}).inputs
    assert sr["device_config"]["port"] == "3260" and sr["make_default"] is False


def test_unknowns_at_preview_are_not_failures() -> None:
    assert failures(PoolProvider(), {**POOL, "master": UNKNOWN, "hosts": UNKNOWN}) == []
    assert failures(NetworkProvider(), {**VLAN, "address": UNKNOWN, "vlan": UNKNOWN}) == []


def test_a_crud_call_with_bad_inputs_raises_input_error_naming_the_field() -> None:
    with pytest.raises(InputError) as err:
        NetworkProvider().create({**VLAN, "vlan": 5000})
    assert err.value.field == "vlan" and err.value.value == 5000


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"scheme": "ftp"}, "xcpng.scheme"),
        ({"taskTimeout": "soon"}, "xcpng.taskTimeout"),
        ({"joinTimeout": -1}, "xcpng.joinTimeout"),
        ({"colour": "blue"}, "xcpng.colour"),
    ],
)
def test_settings_refuse_bad_config(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        Settings.from_config(raw)
    assert err.value.field == field


def test_settings_read_config() -> None:
    s = Settings.from_config({"scheme": "http", "pollInterval": 0.5, "joinTimeout": 30, "verifyTls": True})
    assert (s.scheme, s.poll_interval, s.join_timeout, s.verify_tls) == ("http", 0.5, 30.0, True)
    assert s.url("10.0.0.11") == "http://10.0.0.11/"
    assert Settings().scheme == "https"
