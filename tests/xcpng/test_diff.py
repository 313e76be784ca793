"""Pure: the diffs know update from replace, cope with unknowns, and warn before an eject."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers.xcpng import NetworkProvider, PoolProvider, SharedSRProvider
from providers.xcpng import network as network_mod
from providers.xcpng import pool as pool_mod
from providers.xcpng import storage as storage_mod
from providers.xcpng.pool import eject_warning

A, B, C = "10.0.0.11", "10.0.0.12", "10.0.0.13"
POOL_OUT = {
    "name_label": "pool-a", "name_description": "", "master": A, "hosts": [A, B, C], "username": "root",
    "password": "pw", "pool_uuid": "p-uuid", "master_address": A, "master_url": f"http://{A}",
    "master_uuid": "h1", "host_uuids": ["h1", "h2", "h3"], "host_addresses": [A, B, C],
}
POOL_IN = {k: POOL_OUT[k] for k in ("name_label", "name_description", "master", "hosts", "username", "password")}

NET_OUT = {
    "address": A, "username": "root", "password": "pw", "pool_uuid": "p-uuid", "name_label": "cloud-public",
    "name_description": "", "mtu": 1500, "device": "eth1", "vlan": 100, "network_uuid": "n-uuid",
    "bridge": "xapi0", "kind": "vlan", "host_uuids": ["h1", "h2", "h3"],
}
NET_IN = {k: v for k, v in NET_OUT.items() if k not in ("network_uuid", "bridge", "kind", "host_uuids")}

SR_OUT = {
    "address": A, "username": "root", "password": "pw", "pool_uuid": "p-uuid", "name_label": "ceph-nfs",
    "name_description": "", "type": "nfs", "device_config": {"server": "10.0.0.5", "serverpath": "/x"},
    "make_default": True, "destroy_on_delete": False, "sr_uuid": "s-uuid", "physical_size": 1, "host_uuids": [],
}
SR_IN = {k: v for k, v in SR_OUT.items() if k not in ("sr_uuid", "physical_size", "host_uuids")}


def outcome(provider: Any, olds: dict[str, Any], news: dict[str, Any]) -> tuple[bool, list[str]]:
    d = provider.diff("id", olds, news)
    return bool(d.changes), sorted(d.replaces)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, (False, [])),
        ({"hosts": [C, B, A]}, (False, [])),  # order does not matter
        ({"name_label": "pool-b"}, (True, [])),
        ({"name_description": "lab"}, (True, [])),
        ({"master": B}, (True, [])),  # designate_new_master, not a rebuild
        ({"hosts": [A, B]}, (True, [])),  # eject is an update (with a warning)
        ({"hosts": [A, B, C, "10.0.0.14"]}, (True, [])),  # join
        ({"password": "new"}, (True, [])),
        ({"default_sr": "ceph-nfs"}, (True, [])),
        ({"master": UNKNOWN}, (True, [])),
        ({"hosts": UNKNOWN}, (True, [])),
        ({"__provider": "other"}, (False, [])),
    ],
)
def test_pool_diff(change: dict[str, Any], expected: tuple[bool, list[str]]) -> None:
    assert outcome(PoolProvider(), POOL_OUT, {**POOL_IN, **change}) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, (False, [])),
        ({"mtu": 1500.0}, (False, [])),  # the engine's floats
        ({"vlan": 100.0}, (False, [])),
        ({"name_label": "cloud-public-1"}, (True, [])),
        ({"mtu": 9000}, (True, [])),
        ({"address": B}, (True, [])),  # a new master address: same network, new login
        ({"vlan": 101}, (True, ["vlan"])),
        ({"device": "eth2"}, (True, ["device"])),
        ({"vlan": UNKNOWN}, (True, ["vlan"])),  # an unknown replace-only field is a replace at preview
        ({"mtu": UNKNOWN}, (True, [])),
        ({"device": None, "vlan": None, "bond_devices": ["eth2", "eth3"], "bond_mode": "lacp"},
         (True, ["bond_devices", "device", "vlan"])),
    ],
)
def test_network_diff(change: dict[str, Any], expected: tuple[bool, list[str]]) -> None:
    news = {k: v for k, v in {**NET_IN, **change}.items() if v is not None}
    assert outcome(NetworkProvider(), NET_OUT, news) == expected


def test_bond_diff_ignores_member_order_and_updates_the_mode() -> None:
    olds = {**{k: v for k, v in NET_OUT.items() if k not in ("device", "vlan")}, "kind": "bond",
            "bond_devices": ["eth2", "eth3"], "bond_mode": "balance-slb"}
    news = {**{k: v for k, v in NET_IN.items() if k not in ("device", "vlan")}, "bond_devices": ["eth3", "eth2"],
            "bond_mode": "balance-slb"}
    assert outcome(NetworkProvider(), olds, news) == (False, [])
    assert outcome(NetworkProvider(), olds, {**news, "bond_mode": "lacp"}) == (True, [])
    assert outcome(NetworkProvider(), olds, {**news, "bond_devices": ["eth2", "eth4"]}) == (True, ["bond_devices"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, (False, [])),
        ({"name_label": "ceph-nfs-1"}, (True, [])),
        ({"device_config": {"server": "10.0.0.6", "serverpath": "/x"}}, (True, [])),  # re-plugged, not replaced
        ({"make_default": False}, (True, [])),
        ({"type": "lvmoiscsi"}, (True, ["type"])),
        ({"type": UNKNOWN}, (True, ["type"])),
        ({"device_config": {"server": UNKNOWN, "serverpath": "/x"}}, (True, [])),
    ],
)
def test_sr_diff(change: dict[str, Any], expected: tuple[bool, list[str]]) -> None:
    assert outcome(SharedSRProvider(), SR_OUT, {**SR_IN, **change}) == expected


@pytest.mark.parametrize(
    ("before", "after", "ejected"),
    [
        ([A, B, C], [A, B, C], None),
        ([A, B], [A, B, C], None),
        ([A, B, C], [A, C], [B]),
        ([A, B, C], [A], [B, C]),
        ([A, B, C], UNKNOWN, None),
    ],
)
def test_eject_warning(before: list[str], after: Any, ejected: list[str] | None) -> None:
    message = eject_warning({"hosts": before, "name_label": "pool-a"}, {"hosts": after})
    if ejected is None:
        assert message is None
    else:
        assert message is not None and str(ejected) in message and "EJECTED" in message and "wipes" in message


def test_preview_diff_prints_the_eject_warning(capsys: pytest.CaptureFixture[str]) -> None:
    PoolProvider().diff("id", POOL_OUT, {**POOL_IN, "hosts": [A, B]})
    assert f"warning: xcpng.Pool 'pool-a': hosts ['{C}'] will be EJECTED" in capsys.readouterr().err


@pytest.mark.parametrize("args", [pool_mod.PoolArgs, network_mod.NetworkArgs, storage_mod.SharedSRArgs])
def test_every_input_field_is_documented(args: Any) -> None:
    """Each field's docstring (its one declaration) is its description in the input model."""
    for name, info in args.model().model_fields.items():
        assert info.description, f"{name} has no description"


@pytest.mark.parametrize("args", [pool_mod.PoolArgs, network_mod.NetworkArgs, storage_mod.SharedSRArgs])
def test_secret_fields_are_declared_secret(args: Any) -> None:
    secret = set(args.table().secrets)
    assert "password" in secret
    assert secret <= {"password", "host_passwords", "chap_password"}


def test_an_unknown_pool_uuid_is_not_a_change() -> None:
    """A pool being updated has unknown outputs at preview; its uuid never changes in place."""
    assert outcome(NetworkProvider(), NET_OUT, {**NET_IN, "pool_uuid": UNKNOWN}) == (False, [])
    assert outcome(SharedSRProvider(), SR_OUT, {**SR_IN, "pool_uuid": UNKNOWN}) == (False, [])
    assert outcome(NetworkProvider(), NET_OUT, {**NET_IN, "pool_uuid": "other"}) == (True, [])


def test_check_fills_defaults_when_unknowns_stop_validation() -> None:
    news = {"address": A, "password": "pw", "pool_uuid": UNKNOWN, "name_label": "cloud-public", "device": "eth1",
            "vlan": 100}
    inputs = NetworkProvider().check({}, news).inputs
    assert inputs["mtu"] == 1500 and inputs["username"] == "root" and inputs["name_description"] == ""
    assert outcome(NetworkProvider(), NET_OUT, inputs) == (False, [])
