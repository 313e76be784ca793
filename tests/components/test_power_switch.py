"""`power: unmanaged` on a server: accepted by the config, honoured by the region (power not declared)."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.config import load, load_stack_file
from tests.components.conftest import REPO, declare_region
from tests.unit.devstack import dev_raw, problems


def test_power_is_managed_unless_the_server_says_unmanaged() -> None:
    raw = dev_raw()
    assert {s.power for s in load(raw).region.servers} == {"managed"}
    raw["region"]["servers"][0]["power"] = "unmanaged"
    assert load(raw).region.servers[0].power == "unmanaged"


def test_another_power_value_is_refused_naming_the_field_and_the_value() -> None:
    raw = dev_raw()
    raw["region"]["servers"][0]["power"] = "off"
    assert problems(raw) == ["privatecloud:region.servers[0].power='off': Input should be 'managed' or 'unmanaged'"]


def test_an_unmanaged_server_declares_no_power_and_the_others_keep_theirs(tmp_path: Path) -> None:
    doc = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    servers = doc["config"]["privatecloud:region"]["servers"]
    servers[0]["power"] = "unmanaged"
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(doc))
    g = declare_region(load_stack_file(str(path)))
    nodes = {r.inputs["name"]: r.inputs for r in g.by_name.values() if r.type.endswith("ironic:Node")}
    assert "power" not in nodes[servers[0]["name"]] or nodes[servers[0]["name"]]["power"] is None
    assert {n["power"] for name, n in nodes.items() if name != servers[0]["name"]} == {"on"}
    assert all(n["maintenance"] is False for n in nodes.values())

