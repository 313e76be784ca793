"""The dev stack's config as raw stack config, for the config tests: one copy of the fixture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, load, load_stack_file

REPO = Path(__file__).resolve().parents[2]


def dev_raw() -> dict[str, Any]:
    """The dev stack's config (it bootstraps its cluster), secrets as placeholders."""
    data: dict[str, Any] = json.loads(load_stack_file(str(REPO / "Pulumi.dev.yaml")).model_dump_json(by_alias=True))
    data.pop("ceph")
    data["cloudstack"]["secretKey"] = "s3cret"
    data["credentials"].update(bmcPassword="s3cret", xcpngRootPassword="s3cret")
    return data


def problems(raw: dict[str, Any]) -> list[str]:
    """The lines `load` refuses `raw` with."""
    with pytest.raises(ConfigError) as e:
        load(raw)
    return e.value.problems
