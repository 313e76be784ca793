"""The real engine runs a dynamic provider from an importable module through a full lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.enginekit import EngineStack

pytestmark = pytest.mark.engine

PROGRAM = """
import pulumi
from tests.engine.smoke_provider import Greeting

cfg = pulumi.Config()
g = Greeting("hello", cfg.require("text"), cfg.require_int("slot"))
pulumi.export("shout", g.shout)
pulumi.export("greeter", g.greeter)
"""


def test_engine_lifecycle(tmp_path: Path, engine_bin: Path) -> None:
    stack = EngineStack.create(
        tmp_path, engine_bin, program=PROGRAM, config={"text": "hello", "slot": "1", "greeter": "ops"}
    )

    preview = stack.preview()
    assert preview.changes == {"create": 2}  # the stack and the greeting
    assert preview.summary["isPreview"] is True

    assert stack.up().changes == {"create": 2}
    # configure() received the stack config; the output came back through the engine.
    assert stack.outputs() == {"shout": "HELLO", "greeter": "ops"}

    again = stack.up()
    assert again.changes == {}
    assert again.ops_by_name()["hello"] == "same"

    refreshed = stack.refresh()
    assert refreshed.changes == {}

    stack.set_config("text", "bonjour")
    update_preview = stack.preview()
    assert update_preview.ops_by_name()["hello"] == "update"
    assert [s.diffs for s in update_preview.steps if s.name == "hello"] == [["text"]]
    assert stack.up().changes == {"update": 1}
    assert stack.outputs()["shout"] == "BONJOUR"

    stack.set_config("slot", "2")
    replace_preview = stack.preview()
    assert replace_preview.ops_by_name()["hello"] == "replace"
    assert stack.up().changes == {"replace": 1}

    destroyed = stack.destroy()
    assert destroyed.changes == {"delete": 2}
    assert stack.resources() == {}


def test_program_without_config(tmp_path: Path, engine_bin: Path) -> None:
    """A stack with no config at all runs (the language host must not hand the SDK a null)."""
    stack = EngineStack.create(
        tmp_path, engine_bin,
        program='from tests.engine.smoke_provider import Greeting\nGreeting("bare", "hi", 1)\n',
    )
    assert stack.up().changes == {"create": 2}
    assert stack.destroy().changes == {"delete": 2}
