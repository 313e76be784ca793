"""xcpng.Pool, xcpng.Network and xcpng.SharedSR through the real Pulumi engine against the emulator.

Preview must show an update where XAPI changes in place (a rename, a new master by designation,
a host ejected, with a warning), a replace where it cannot (a VLAN's tag), and refresh must see
out-of-band changes. The emulator runs in this process; the engine's provider process reaches it
over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.xapi import XapiLab
from tests.enginekit import EngineStack

from . import xapispec
from .conftest import PASSWORD, Direct, addresses

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PROGRAM = """
import json
import pulumi
from providers import xcpng

cfg = pulumi.Config()
master = cfg.require("master")
password = cfg.require_secret("rootPassword")
pool = xcpng.Pool("pool", xcpng.PoolArgs(
    name_label=cfg.require("poolName"), master=master, hosts=json.loads(cfg.require("hosts")), password=password))
public = xcpng.Network("public", xcpng.NetworkArgs(
    address=master, password=password, pool_uuid=pool.pool_uuid, name_label="cloud-public", device="eth1",
    vlan=cfg.require_int("vlan")))
sr = xcpng.SharedSR("sr", xcpng.SharedSRArgs(
    address=master, password=password, pool_uuid=pool.pool_uuid, name_label="ceph-nfs", type="nfs",
    device_config={"server": "10.0.0.5", "serverpath": "/xcp"}, make_default=True))
pulumi.export("master_url", pool.master_url)
pulumi.export("hosts", pool.host_addresses)
pulumi.export("network", public.network_uuid)
pulumi.export("sr", sr.sr_uuid)
"""

SETTINGS = {"scheme": "http", "pollInterval": 0.05, "taskTimeout": 60, "joinTimeout": 60, "retryTimeout": 5}


@pytest.fixture
def xapi_lab() -> Iterator[XapiLab]:
    lab = XapiLab.start(hosts=("xcp-01", "xcp-02", "xcp-03"), password=PASSWORD)
    try:
        yield lab
    finally:
        lab.stop()
    problems = xapispec.problems(lab.request_log)
    assert not problems, f"calls that are not valid XenAPI: {problems}"


def test_pool_network_and_sr_through_the_engine(tmp_path: Path, engine_bin: Path, xapi_lab: XapiLab) -> None:
    lab = xapi_lab
    a = addresses(lab)
    st = EngineStack.create(
        tmp_path, engine_bin, program=PROGRAM,
        config={"xcpng": json.dumps(SETTINGS), "master": a[0], "hosts": json.dumps(a), "poolName": "pool-a",
                "vlan": "100"},
        secrets={"rootPassword": PASSWORD},
    )
    assert st.preview().changes == {"create": 4}  # the stack, the pool, the network, the SR
    assert st.up().changes == {"create": 4}
    outs = st.outputs()
    assert outs["master_url"] == f"http://{a[0]}" and outs["hosts"] == sorted(a)
    assert PASSWORD not in json.dumps(st.export())  # secret inputs stay secret in state

    # again: nothing changes; refresh sees no drift
    assert st.up().changes == {}
    assert st.refresh().changes == {}
    pv = st.preview()
    assert pv.changes == {}, [(s.name, s.op, s.diffs) for s in pv.steps]

    # rename the pool: an update in place
    st.set_config("poolName", "pool-b")
    pv = st.preview()
    # the pool's outputs are unknown at preview while it updates: the network and the SR that
    # take its uuid stay `same` all the same
    assert pv.ops_by_name() == {"pool": "update", "public": "same", "sr": "same"}
    assert [s.diffs for s in pv.steps if s.name == "pool"] == [["name_label"]]
    assert st.up().changes == {"update": 1}
    assert st.up().changes == {}

    # a new VLAN tag: XAPI has no way to retag, so preview says replace
    st.set_config("vlan", "101")
    pv = st.preview()
    assert pv.ops_by_name()["public"] == "replace"
    assert st.up().changes == {"replace": 1}
    network = st.outputs()["network"]
    with Direct(lab) as x:
        assert x.PIF.get_VLAN(x.network.get_PIFs(x.network.get_by_uuid(network))[0]) == "101"
    assert st.up().changes == {}

    # a new master: designate_new_master, an update, not a rebuild
    st.set_config("master", a[1])
    pv = st.preview()
    assert pv.ops_by_name() == {"pool": "update", "public": "update", "sr": "update"}
    diffs = {s.name: s.diffs for s in pv.steps}
    assert diffs["pool"] == ["master"]
    for name in ("public", "sr"):  # the engine lists the (unknown) pool_uuid too: it lists changed inputs
        assert "address" in diffs[name] and set(diffs[name]) <= {"address", "pool_uuid"}
    assert st.up().changes == {"update": 3}  # the network and the SR only log in elsewhere now
    assert st.outputs()["master_url"] == f"http://{a[1]}"
    assert "Async.pool.designate_new_master" in [c.method for c in lab.request_log]
    assert st.up().changes == {}

    # a host removed: an update that ejects it, with a warning at preview
    st.set_config("hosts", json.dumps([a[0], a[1]]))
    pv = st.preview()
    assert pv.ops_by_name()["pool"] == "update"
    # the provider's warning reaches the CLI as a diagnostic of the preview (its stderr)
    warnings = [d for d in pv.diagnostics("info#err") if "EJECTED" in d]
    assert warnings and a[2] in warnings[0] and "wipes" in warnings[0], pv.diagnostics()
    assert st.up().changes == {"update": 1}
    assert st.outputs()["hosts"] == sorted([a[0], a[1]])
    assert st.up().changes == {}

    # out of band: the network renamed by hand; refresh sees it, the next up puts it back
    with Direct(lab) as x:
        x.network.set_name_label(x.network.get_by_uuid(network), "renamed-by-hand")
    assert st.refresh().changes == {"update": 1}
    pv = st.preview()
    assert pv.ops_by_name()["public"] == "update"
    assert st.up().changes == {"update": 1}
    with Direct(lab) as x:
        assert x.network.get_name_label(x.network.get_by_uuid(network)) == "cloud-public"

    destroyed = st.destroy()
    assert destroyed.changes == {"delete": 4}
    assert st.resources() == {}
    with Direct(lab) as x:
        assert x.network.get_by_name_label("cloud-public") == []
        assert x.SR.get_by_name_label("ceph-nfs") == []
        assert len(x.host.get_all()) == 1  # the pool dissolved: its member ejected
