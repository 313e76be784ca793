"""State made by the old hand-written XCP-ng lifecycles previews as no change under the generic one.

`data/old_state.json` was recorded by running `scenario` below with the code of commit 829bd4a
(each resource with its own create/read/update/delete, `_outputs` and lookups) against the XAPI
emulator: per case, the program's values, what the old `check` stored (the state's inputs), what
the old create or update returned (the state's outputs) and what the old read returned (outputs and
inputs), with host addresses and uuids written as placeholders (`A0`.., `<uuid>`). A stack deployed
with the old code previews as `check` (old inputs, the program's values) then `diff` (old outputs,
new inputs): both must say nothing changed. The same scenario run with the code now must give the
same outputs, so no output was lost or changed either.

Recorded with (at 829bd4a): `python -c "from tests.xcpng.test_compat import record; record()"`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from lab.xapi import XapiLab
from providers.xcpng import NetworkArgs, NetworkProvider, PoolArgs, PoolProvider, SharedSRArgs, SharedSRProvider

from .conftest import HOSTS, PASSWORD, SETTINGS, addresses, connection, out_of, pool_props

DATA = Path(__file__).parent / "data" / "old_state.json"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PROVIDERS: dict[str, type[Any]] = {"pool": PoolProvider, "network": NetworkProvider, "sr": SharedSRProvider}


def placeholders(value: Any, addrs: list[str]) -> Any:
    """`value` with the lab's host addresses as A0, A1.. (in start order) and every uuid as `<uuid>`."""
    text = json.dumps(value, sort_keys=True)
    for i, a in enumerate(addrs):
        text = text.replace(a, f"A{i}")
    return _resorted(json.loads(UUID.sub("<uuid>", text)))


def _resorted(value: Any) -> Any:
    """Lists of addresses sorted again by placeholder (the code sorts them by the real address)."""
    if isinstance(value, dict):
        return {k: _resorted(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, str) and re.fullmatch(r"A\d", v) for v in value):
        return sorted(value)
    return [_resorted(v) for v in value] if isinstance(value, list) else value


def scenario(lab: XapiLab, pools: PoolProvider, networks: NetworkProvider,
             srs: SharedSRProvider) -> dict[str, dict[str, Any]]:
    """Every kind of each resource created (and some updated) and read back: what the engine stores."""
    a = addresses(lab)
    cases: dict[str, dict[str, Any]] = {}
    state: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}  # case -> (id, inputs, outputs)

    def run(case: str, provider: Any, program: dict[str, Any], of: str | None = None) -> dict[str, Any]:
        olds = state[of][1] if of else {}
        inputs = dict(provider.check(olds, program).inputs)
        if of:
            id_, _, old_outs = state[of]
            outs = out_of(provider.update(id_, old_outs, inputs))
        else:
            created = provider.create(inputs)
            id_, outs = str(created.id), out_of(created)
        read = provider.read(id_, outs)
        state[case] = (id_, inputs, outs)
        kind = next(k for k, p in PROVIDERS.items() if isinstance(provider, p))
        cases[case] = {"provider": kind, "program": program, "inputs": inputs, "outputs": outs,
                       "read": out_of(read), "read_inputs": dict(read.inputs or {})}
        return outs

    pool = run("pool", pools, {**pool_props(lab), "hosts": list(reversed(a))})
    conn = connection(pool)
    run("network_vlan", networks, {**connection(pool, via=a[1]), "name_label": "cloud-public", "device": "eth1",
                                   "vlan": 100.0, "mtu": 1500.0})
    run("network_bond", networks, {**conn, "name_label": "storage", "name_description": "bonded",
                                   "bond_devices": ["eth3", "eth2"], "mtu": 9000.0})
    run("network_physical", networks, {**conn, "name_label": "cloud-mgmt", "device": "eth0"})
    run("sr_nfs", srs, {**conn, "name_label": "ceph-nfs", "type": "nfs", "make_default": True,
                        "device_config": {"server": "10.0.0.5", "serverpath": "/xcp"}})
    run("sr_iscsi", srs, {**conn, "name_label": "ceph-iscsi", "type": "lvmoiscsi", "chap_password": "chap-secret",
                          "destroy_on_delete": True,
                          "device_config": {"target": "10.0.0.7", "targetIQN": "iqn.2026-01.ceph:gw",
                                            "SCSIid": "36001405abcdef", "chapuser": "xcp", "port": 3260.0}})
    run("network_vlan_updated", networks, {**connection(pool, via=a[1]), "name_label": "cloud-public-1",
                                           "device": "eth1", "vlan": 100, "mtu": 9000}, of="network_vlan")
    run("sr_nfs_updated", srs, {**conn, "name_label": "ceph-nfs", "type": "nfs", "make_default": True,
                                "device_config": {"server": "10.0.0.6", "serverpath": "/xcp", "nfsversion": "4.1"}},
        of="sr_nfs")
    run("pool_updated", pools, {**pool_props(lab, master=1), "name_description": "lab", "default_sr": "ceph-nfs",
                                "host_passwords": {a[2]: PASSWORD}}, of="pool")
    # preview: the pool's uuid unknown while it updates (defaults filled in all the same)
    for case, of in (("network_vlan_preview", "network_vlan"), ("sr_nfs_preview", "sr_nfs")):
        provider = networks if of.startswith("network") else srs
        _, inputs, outs = state[of]
        program = {**cases[of]["program"], "pool_uuid": UNKNOWN}
        checked = dict(provider.check(inputs, program).inputs)
        cases[case] = {"provider": cases[of]["provider"], "program": program, "inputs": checked, "outputs": outs}
    return {case: placeholders(c, a) for case, c in cases.items()}


def providers() -> tuple[PoolProvider, NetworkProvider, SharedSRProvider]:
    made = (PoolProvider(), NetworkProvider(), SharedSRProvider())
    for p in made:
        p.configure_with(SETTINGS)
    return made


def record() -> None:
    """Write `data/old_state.json` (run with the old code)."""
    lab = XapiLab.start(hosts=HOSTS, password=PASSWORD)
    try:
        cases = scenario(lab, *providers())
    finally:
        lab.stop()
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")


OLD: dict[str, dict[str, Any]] = json.loads(DATA.read_text()) if DATA.exists() else {}


@pytest.mark.parametrize("case", sorted(OLD))
def test_old_state_previews_as_no_change(case: str) -> None:
    recorded = OLD[case]
    provider = PROVIDERS[recorded["provider"]]()
    checked = provider.check(recorded["inputs"], recorded["program"])
    assert checked.failures == []
    assert dict(checked.inputs) == recorded["inputs"]  # the engine sees the same inputs
    for outputs in (recorded["outputs"], recorded.get("read", recorded["outputs"])):
        result = provider.diff("id", outputs, dict(checked.inputs))
        assert result.changes is False and not result.replaces, (case, result.changes, result.replaces)
    if "read_inputs" in recorded:  # what a refresh stores as inputs is no change either
        assert provider.diff("id", recorded["read"], recorded["read_inputs"]).changes is False


def test_the_code_now_gives_the_old_outputs(lab: XapiLab) -> None:
    """The same scenario with the code now: the same inputs, outputs and reads, case by case."""
    assert OLD, f"{DATA} is missing"
    now = scenario(lab, *providers())
    assert sorted(now) == sorted(OLD)
    for case in OLD:
        assert now[case] == OLD[case], case


# The property names each resource declared with the old code (in table order: the state's keys)
# and its secrets.
OLD_PROPERTIES = [
    (PoolArgs, ["name_label", "name_description", "master", "hosts", "username", "password", "host_passwords",
                "default_sr", "pool_uuid", "master_address", "master_url", "master_uuid", "host_uuids",
                "host_addresses", "prior_name_label", "prior_name_description"], ["password", "host_passwords"]),
    (NetworkArgs, ["address", "username", "password", "pool_uuid", "name_label", "name_description", "mtu", "device",
                   "vlan", "bond_devices", "bond_mode", "network_uuid", "bridge", "kind", "host_uuids"],
     ["password"]),
    (SharedSRArgs, ["address", "username", "password", "pool_uuid", "name_label", "name_description", "type",
                    "device_config", "chap_password", "make_default", "destroy_on_delete", "sr_uuid",
                    "physical_size", "host_uuids"], ["password", "chap_password"]),
]


@pytest.mark.parametrize(("args", "names", "secrets"), OLD_PROPERTIES)
def test_properties_and_secrets_are_the_old_ones(args: Any, names: list[str], secrets: list[str]) -> None:
    table = args.table()
    assert [f.name for f in table] == names
    assert table.secrets == secrets
