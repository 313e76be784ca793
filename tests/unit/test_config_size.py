"""How large a stack's config can be: the validator knows the limit the engine hits.

Pulumi's Python host hands the program the whole stack config in one environment variable
(`PULUMI_CONFIG`); Linux caps one environment string at 128 KiB, and past it the engine cannot
start the program ("argument list too long"). The validator computes that string's size from the
stack file and refuses a file over the limit, before any engine run.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import ENV_STRING_LIMIT, env_bytes, main
from tests.enginekit import REPO, EngineStack

PROGRAM = "import os, pulumi\npulumi.export('size', len(os.environ['PULUMI_CONFIG'].encode()))\n"


@pytest.mark.engine
def test_the_limit_is_where_the_engine_stops(tmp_path: Path, engine_bin: Path) -> None:
    """A config of exactly the limit reaches the program; one byte more and the engine fails."""
    fill = ENV_STRING_LIMIT - env_bytes({"enginetest:x": ""})
    fits = EngineStack.create(tmp_path / "fits", engine_bin, program=PROGRAM, config={"x": "a" * fill})
    assert env_bytes({"enginetest:x": "a" * fill}) == ENV_STRING_LIMIT
    fits.up()
    assert fits.outputs()["size"] == ENV_STRING_LIMIT - len("PULUMI_CONFIG=") - 1

    over = EngineStack.create(tmp_path / "over", engine_bin, program=PROGRAM, config={"x": "a" * (fill + 1)})
    failed = over.run("up", "--skip-preview")
    assert failed.returncode != 0
    assert any("argument list too long" in m for m in failed.diagnostics("error"))


@pytest.mark.engine
def test_structured_values_are_counted_as_the_engine_sends_them(tmp_path: Path, engine_bin: Path) -> None:
    """Objects from the stack file reach the program as Go writes JSON (compact, `<>&` escaped)."""
    config = {"enginetest:obj": {"a": [1, 2.5, True, None], "b": "x <y> & z", "c": "Đà Nẵng"}, "enginetest:s": "plain"}
    stack = EngineStack.create(tmp_path, engine_bin, program=PROGRAM)
    (stack.workdir / "Pulumi.test.yaml").write_text(yaml.safe_dump({"config": config}, allow_unicode=True))
    stack.up()
    assert stack.outputs()["size"] + len("PULUMI_CONFIG=") + 1 == env_bytes(config)


def _dev_with_servers(n: int) -> dict[str, Any]:
    """Pulumi.dev.yaml with `n` more compute servers in one more pool."""
    doc = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    region = doc["config"]["privatecloud:region"]
    template = next(s for s in region["servers"] if s["role"] == "compute")
    names = [f"big-{i:04d}" for i in range(n)]
    for i, name in enumerate(names):
        server = copy.deepcopy(template)
        server.update(name=name, macs=[f"52:54:09:{i >> 8:02x}:{i & 255:02x}:01"])
        server.pop("managementAddress", None)
        server["bmc"]["address"] = f"10.9.{i >> 8}.{i & 255}"
        region["servers"].append(server)
    return doc


@pytest.mark.parametrize(("servers", "refused"), [(100, False), (1000, True)])
def test_the_validator_refuses_a_config_over_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], servers: int, refused: bool
) -> None:
    path = tmp_path / "Pulumi.big.yaml"
    path.write_text(yaml.safe_dump(_dev_with_servers(servers)))
    main([str(path)])
    out = capsys.readouterr().out
    size_lines = [line for line in out.splitlines() if "PULUMI_CONFIG" in line]
    assert bool(size_lines) is refused, out
    if refused:
        assert f"over Linux's {ENV_STRING_LIMIT:,}" in size_lines[0] and "split the region" in size_lines[0]
