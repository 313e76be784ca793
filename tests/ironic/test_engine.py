"""ironic.Node and ironic.Fleet through the real Pulumi engine against the real Ironic.

Preview must show an update for what Ironic changes in place and a replace for what it does
not (a new resource class once a node is deployed); refresh must see out-of-band changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.ironic._api import client
from tests.enginekit import EngineStack

pytestmark = [pytest.mark.ironic, pytest.mark.engine]

PROGRAM = """
import pulumi
from providers import ironic

cfg = pulumi.Config()
fast = {"manage": 60, "clean": 60, "deploy": 60, "undeploy": 60, "poll_interval": 0.2}
image = {"image_source": "http://img/debian.qcow2"}

solo = ironic.Node("solo", ironic.NodeArgs(
    name="eng-solo", driver="fake-hardware",
    driver_info={"ipmi_address": "10.0.0.1", "ipmi_password": cfg.require_secret("bmc")},
    properties={"cpus": cfg.require_int("cpus")}, resource_class=cfg.require("rc"),
    ports=["52:54:00:ee:00:01"], target_state="active", instance_info=image, timeouts=fast))

racked = [
    ironic.Node(f"rack-{i}", ironic.NodeArgs(
        name=f"eng-rack-{i}", driver="fake-hardware", driver_info={"ipmi_password": cfg.require_secret("bmc")},
        ports=[f"52:54:00:ee:01:{i:02x}"], target_state="active", instance_info=image,
        timeouts=fast, wait=False))
    for i in range(3)
]
fleet = ironic.Fleet("rack", ironic.FleetArgs(nodes=racked, undeploy_on_delete=True))
pulumi.export("solo_state", solo.provision_state)
pulumi.export("rack_states", fleet.states)
"""


def test_nodes_through_the_engine(tmp_path: Path, engine_bin: Path, ironic_endpoint: str) -> None:
    st = EngineStack.create(
        tmp_path, engine_bin, program=PROGRAM, config={"cpus": "8", "rc": "compute"},
        secrets={"bmc": "s3cret", "ironic": json.dumps({"endpoint": ironic_endpoint})},
    )
    assert st.preview().changes == {"create": 6}  # stack, solo, three racked, the fleet
    assert st.up().changes == {"create": 6}
    outs = st.outputs()
    assert outs["solo_state"] == "active"
    assert outs["rack_states"] == {f"eng-rack-{i}": "active" for i in range(3)}
    # the BMC password is secret in state
    assert "s3cret" not in json.dumps(st.export())

    # again: nothing changes (masked passwords are not drift)
    assert st.up().changes == {}
    assert st.refresh().changes == {}
    pv = st.preview()
    assert pv.changes == {}, [(s.name, s.op, s.diffs) for s in pv.steps]

    # an in-place change
    st.set_config("cpus", "16")
    pv = st.preview()
    assert pv.ops_by_name()["solo"] == "update"
    assert [s.diffs for s in pv.steps if s.name == "solo"] == [["properties"]]
    assert st.up().changes == {"update": 1}
    assert client(ironic_endpoint).node.get("eng-solo").properties["cpus"] == 16
    assert st.up().changes == {}

    # a new resource class on a deployed node: Ironic refuses it in place, so preview says replace
    st.set_config("rc", "storage")
    pv = st.preview()
    assert pv.ops_by_name()["solo"] == "replace"
    assert st.up().changes == {"replace": 1}
    assert client(ironic_endpoint).node.get("eng-solo").resource_class == "storage"
    assert st.up().changes == {}

    # out of band: a racked node is undeployed; refresh sees it, up walks it back through the fleet
    c = client(ironic_endpoint)
    rack0 = c.node.get("eng-rack-0")
    c.node.set_provision_state(rack0.uuid, "deleted")
    st.refresh()
    pv = st.preview()
    assert pv.ops_by_name()["rack-0"] == "update"
    st.up()
    assert c.node.get("eng-rack-0").provision_state == "active"
    assert st.outputs()["rack_states"]["eng-rack-0"] == "active"

    assert st.destroy().changes == {"delete": 6}
    names = {n.name for n in c.node.list()}
    assert not names & {"eng-solo", "eng-rack-0", "eng-rack-1", "eng-rack-2"}
