"""`components.sdklog`: the SDK's debug messages reach the real engine all the same, unawaited.

A program of a component and dynamic resources previews with and without `log_without_waiting`:
the engine shows the same debug messages (as many of each), the same steps, nothing else.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pulumi
import pulumi.log
import pytest
from pulumi.runtime import settings as runtime_settings

from components.sdklog import log_without_waiting
from tests.enginekit import EngineStack
from tests.mocks import EchoMocks

PROGRAM = """
import pulumi
{install}
from tests.engine.smoke_provider import Greeting

parent = pulumi.ComponentResource("test:index:Group", "group")
for i in range(4):
    Greeting(f"g{{i}}", f"hello {{i}}", i, pulumi.ResourceOptions(parent=parent))
parent.register_outputs({{}})
pulumi.log.debug("the program's own debug message")
"""
INSTALL = """
from components.sdklog import log_without_waiting
log_without_waiting()
assert pulumi.log._log.__module__ == "components.sdklog"  # installed: there is an engine
"""


def test_without_an_engine_the_sdk_logs_as_before() -> None:
    before = runtime_settings.ROOT.get()  # the stack resource set_mocks makes: put back afterwards
    pulumi.runtime.set_mocks(EchoMocks(), preview=True)
    sdk_log = pulumi.log._log
    try:
        log_without_waiting()
        assert pulumi.log._log is sdk_log
    finally:
        runtime_settings.ROOT.set(before)


@pytest.mark.engine
def test_the_engine_gets_the_same_messages(tmp_path: Path, engine_bin: Path) -> None:
    stack = EngineStack.create(tmp_path / "s", engine_bin, program=PROGRAM.format(install=""))
    stack.up()
    sdk = stack.preview()
    stack.write_program(PROGRAM.format(install=INSTALL))
    ours = stack.preview()

    debug = Counter(ours.diagnostics("debug"))
    assert debug == Counter(sdk.diagnostics("debug"))
    assert debug["the program's own debug message\n"] == 1
    assert sum(n for m, n in debug.items() if m.startswith("registering resource: ")) == 6  # stack, group, 4
    assert ours.ops_by_name() == sdk.ops_by_name() and ours.changes == sdk.changes == {}
    assert len(ours.diagnostics()) == len(sdk.diagnostics())
