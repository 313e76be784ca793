"""`components.quiesce`: the SDK's wait for the program's outputs at exit, in one pass.

The SDK's own loop (`pulumi.runtime.stack.wait_for_rpcs`) runs here with the real SDK under its
mocks, once with `asyncio` as it is and once with `quiesce.AsyncioForStack`: both wait for every
output, outputs made while waiting included, re-raise an output's failure and skip a failed
registration's; with the SDK's `FIRST_COMPLETED` the callbacks hooked grow with outputs x
completions, with ours with the outputs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime import stack as runtime_stack

from components import quiesce
from tests.mocks import EchoMocks


@pytest.fixture(autouse=True)
def _root() -> Iterator[None]:
    """Each run sets the mocks on its own loop (`_run`); the root stack resource of the session is
    put back afterwards."""
    before = runtime_settings.ROOT.get()
    yield
    runtime_settings.ROOT.set(before)


class _Counting:
    """`asyncio` for the stack module, counting the futures each wait hooks a callback onto."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.hooked = 0
        self.waits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def wait(self, fs: Iterable[Any], **kw: Any) -> tuple[set[Any], set[Any]]:
        fs = set(fs)
        self.hooked += len(fs)
        self.waits += 1
        result: tuple[set[Any], set[Any]] = await self.inner.wait(fs, **kw)
        return result


SIDES = {"sdk": asyncio, "ours": quiesce.AsyncioForStack()}


def _run(side: str, monkeypatch: pytest.MonkeyPatch, program: Any) -> tuple[Any, _Counting]:
    counting = _Counting(SIDES[side])
    monkeypatch.setattr(runtime_stack, "asyncio", counting)

    async def main() -> Any:
        # On this loop: the mocks' root stack resource and its outputs are then this loop's too.
        runtime_settings.SETTINGS.rpc_manager.clear()  # what an earlier loop left (as `pulumi.runtime.test`)
        runtime_settings.SETTINGS.outputs.clear()
        pulumi.runtime.set_mocks(EchoMocks(), preview=False)
        made = program()
        await runtime_stack.wait_for_rpcs()
        return made

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main()), counting
    finally:  # what a failed wait left pending
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending))
        loop.close()


def _output(value: Any) -> pulumi.Output[Any]:
    return pulumi.Output.from_input(value)


def _gated(n: int) -> tuple[list[pulumi.Output[Any]], list[pulumi.Output[Any]], asyncio.Future[None]]:
    """`n` outputs answered one per turn of the loop (as the engine answers registrations), each
    with an apply; the first's apply makes more outputs while the SDK waits."""
    loop = asyncio.get_running_loop()
    gates: list[asyncio.Future[int]] = [loop.create_future() for _ in range(n)]
    later: list[pulumi.Output[Any]] = []

    def times(i: int) -> Callable[[int], int]:
        return lambda x: x * i

    def plus(i: int) -> Callable[[int], int]:
        return lambda v: v + i

    def first(v: int) -> int:
        later.extend(_output(v).apply(times(i)) for i in range(5))
        return v

    outs = [_output(g).apply(first if i == 0 else plus(i)) for i, g in enumerate(gates)]

    async def answer() -> None:
        for i, g in enumerate(gates):
            await asyncio.sleep(0)
            g.set_result(i)

    feeder = asyncio.ensure_future(answer())
    return outs, later, feeder


@pytest.mark.parametrize("side", list(SIDES))
def test_every_output_is_waited_for_and_linearly_with_ours(side: str, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 120
    (outs, later, _), counting = _run(side, monkeypatch, lambda: _gated(n))
    # Everything completed before wait_for_rpcs returned, the outputs made while waiting too.
    assert all(o._data.done() for o in outs) and len(later) == 5 and all(o._data.done() for o in later)
    assert [o._data.result().value for o in outs] == [0, *(2 * i for i in range(1, n))]
    # About 3 outputs are pending per gated one (the input's, the apply's and its inner one).
    if side == "sdk":
        assert counting.hooked > n * n // 2, counting.hooked  # a round per completion, each over the rest
    else:
        assert counting.hooked < 4 * n, counting.hooked  # one round, and one for the outputs made meanwhile
        assert counting.waits <= 3


@pytest.mark.parametrize("side", list(SIDES))
def test_a_failed_output_fails_the_wait(side: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def program() -> None:
        loop = asyncio.get_running_loop()
        never: asyncio.Future[int] = loop.create_future()  # still pending when the failure comes
        _output(never).apply(lambda v: v)
        _output(1).apply(lambda v: v / 0)

    with pytest.raises(ZeroDivisionError):
        _run(side, monkeypatch, program)


@pytest.mark.parametrize("side", list(SIDES))
def test_a_failed_registration_is_skipped(side: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def program() -> pulumi.Output[Any]:
        def fail(_v: int) -> int:
            raise runtime_stack.ResourceRegistrationFailed("resource x failed to register")

        pulumi.Output.from_input(1).apply(fail)
        return pulumi.Output.from_input(2).apply(lambda v: v + 1)

    ok, _ = _run(side, monkeypatch, program)
    assert ok._data.result().value == 3


def test_installed_once() -> None:
    original = runtime_stack.asyncio
    try:
        quiesce.faster_output_wait()
        quiesce.faster_output_wait()
        assert isinstance(runtime_stack.asyncio, quiesce.AsyncioForStack)
        assert runtime_stack.asyncio.sleep is asyncio.sleep
    finally:
        runtime_stack.asyncio = original
        quiesce._installed = False
