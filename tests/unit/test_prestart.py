"""`components.prestart`: the dynamic-provider process started by an invoke, before any resource.

Against the real engine: the invoke is answered by the dynamic provider itself (so the engine
started it), the run registers and shows exactly what it does without the invoke, and a program
that fails right after it shows only its own error.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings

from components.prestart import start_dynamic_provider
from tests.enginekit import EngineStack, Result

PROGRAM = """
import pulumi
{start}
from tests.engine.smoke_provider import Greeting

for i in range(3):
    Greeting(f"g{{i}}", f"hello {{i}}", i)
{fail}
"""
START = """
from components.prestart import start_dynamic_provider
started = start_dynamic_provider()
open({answer!r}, "w").write(started.result(timeout=300))
"""


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, _args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, object]]:
        return None, {}

    def call(self, _args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, object], list[tuple[str, str]] | None]:
        raise AssertionError("no invoke is made without an engine")


def test_without_an_engine_nothing_is_done() -> None:
    before = runtime_settings.ROOT.get()  # the stack resource set_mocks makes: put back afterwards
    pulumi.runtime.set_mocks(_Mocks(), preview=True)
    try:
        assert start_dynamic_provider() is None
    finally:
        runtime_settings.ROOT.set(before)


def _shown(result: Result) -> list[str]:
    """Every diagnostic above debug the run showed."""
    return [m for sev in ("info", "info#err", "warning", "error") for m in result.diagnostics(sev)]


@pytest.mark.engine
def test_the_invoke_starts_the_provider_and_changes_nothing_else(tmp_path: Path, engine_bin: Path) -> None:
    answer = tmp_path / "answer"
    stack = EngineStack.create(tmp_path / "s", engine_bin, program=PROGRAM.format(start="", fail=""))
    stack.up()
    plain = stack.preview()

    stack.write_program(PROGRAM.format(start=START.format(answer=str(answer)), fail=""))
    early = stack.preview()
    # The dynamic provider answered the invoke: its process ran before the first resource.
    assert answer.read_text().endswith("Invoke is not implemented by the dynamic provider")
    assert early.changes == plain.changes == {}
    assert early.ops_by_name() == plain.ops_by_name()
    assert _shown(early) == _shown(plain) == []
    assert sorted(early.diagnostics("debug")) == sorted(plain.diagnostics("debug"))

    # A program that fails after the invoke (a config error): its error, and nothing of the invoke.
    stack.write_program(PROGRAM.format(start=START.format(answer=str(answer)), fail="raise pulumi.RunError('bad')"))
    failed = stack.run("preview")
    assert failed.returncode != 0
    assert [m for m in _shown(failed) if "nvoke" in m or "startProvider" in m] == []
    assert any("bad" in m for m in failed.diagnostics("error"))
