"""State written by the code before the single declaration (NodeInputs beside NodeArgs) diffs as
no change under the code now: `data/old_state.json` holds, per case, the inputs a user gave, what
the old `check` stored and the outputs the old `create` returned (recorded by running the old
code at 0e36450 on those inputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from providers.ironic import FleetProvider, NodeArgs, NodeProvider

OLD: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "old_state.json").read_text())


@pytest.mark.parametrize("case", sorted(OLD["node"]))
def test_node_state_of_old_code_is_no_change(case: str) -> None:
    recorded = OLD["node"][case]
    checked = NodeProvider().check(recorded["inputs"], recorded["props"])
    assert checked.failures == []
    assert dict(checked.inputs) == recorded["inputs"]
    diff = NodeProvider().diff(recorded["outputs"]["uuid"], recorded["outputs"], dict(checked.inputs))
    assert diff.changes is False
    assert not diff.replaces


@pytest.mark.parametrize("case", sorted(OLD["fleet"]))
def test_fleet_state_of_old_code_is_no_change(case: str) -> None:
    recorded = OLD["fleet"][case]
    checked = FleetProvider().check(recorded["inputs"], recorded["props"])
    assert checked.failures == []
    assert dict(checked.inputs) == recorded["inputs"]
    assert FleetProvider().diff("fleet-1", recorded["outputs"], dict(checked.inputs)).changes is False


def test_node_secrets_come_from_the_declaration() -> None:
    table = NodeArgs.table()
    assert table.secrets == ["driver_info", "config_drive"]
    assert [f.name for f in table.outputs] == ["uuid", "provision_state", "power_state", "last_error", "walk"]
    outputs = set(OLD["node"]["minimal"]["outputs"])
    assert {f.name for f in table} == outputs  # the state's shape: every field, as before
