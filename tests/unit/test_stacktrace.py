"""`components.stacktrace` answers exactly what the SDK's `_get_stack_trace` answers."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime.proto import source_pb2

from components import stacktrace

SDK = runtime_resource._get_stack_trace  # the SDK's own, whether or not ours is installed


def _nested(inits: int, probe: Callable[[], Any]) -> Any:
    """`probe` called from inside `inits` nested constructors (as a resource's registration is)."""
    if not inits:
        return probe()

    class Layer:
        def __init__(self) -> None:
            self.result = _nested(inits - 1, probe)

    return Layer().result


def _deep(depth: int, inits: int, probe: Callable[[], Any]) -> Any:
    return _deep(depth - 1, inits, probe) if depth else _nested(inits, probe)


def _both() -> tuple[source_pb2.StackTrace, source_pb2.StackTrace]:
    return SDK(), stacktrace.stack_trace()


def _in_thread(fn: Callable[[], Any]) -> Any:
    """`fn()` on a thread of its own: a stack with no constructor of pytest's below it."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.mark.parametrize("depth", [0, 1, 7, 30])
@pytest.mark.parametrize("inits", [0, 1, 2, 3, 4, 6])
def test_same_frames_as_the_sdk(depth: int, inits: int) -> None:
    sdk, ours = _in_thread(lambda: _deep(depth, inits, _both))
    assert ours == sdk
    if inits >= stacktrace.INITS:
        assert len(ours.frames) > depth  # the frames under the constructors, none lost
        assert all(f.pc.uri.startswith("file://") and f.pc.line > 0 for f in ours.frames)
    else:
        assert not ours.frames  # fewer than three constructors: the SDK sends an empty trace


def test_same_frames_under_pytest() -> None:
    """On pytest's own stack (constructors of its own below ours) too."""
    for inits in range(5):
        sdk, ours = _deep(2, inits, _both)
        assert ours == sdk


def test_installed_in_place_of_the_sdks() -> None:
    stacktrace.faster_stack_trace()
    stacktrace.faster_stack_trace()  # idempotent
    assert runtime_resource._get_stack_trace is stacktrace.stack_trace
    sdk, ours = _deep(3, 4, lambda: (SDK(), runtime_resource._get_stack_trace()))
    assert ours == sdk
