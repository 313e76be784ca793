"""The SDK's wait for the program's outputs at exit, without a pass over all of them per completion.

When the program's code has run, `pulumi.runtime.stack.wait_for_rpcs` waits for every Output the
program made (the SDK's `SETTINGS.outputs`) in a loop around `asyncio.wait(pending,
return_when=FIRST_COMPLETED)`: each round hooks a callback onto every pending output, returns as
soon as one completes, unhooks them all and puts the rest back. Through the engine the outputs
complete a few at a time, as the engine answers the registrations (and the applies after them), so
the rounds grow with the region and each round with the pending outputs: the program's CPU grew
with their product (`python -m benchmarks.region profile --cpu`: about 640 callbacks hooked per
resource at 139 resources, each hooked and unhooked again).

The loop only needs a round to end early when an output failed: it re-raises that failure at once
(a `ResourceRegistrationFailed` it skips, and waits again). `FIRST_EXCEPTION` ends a round at
exactly that moment, and otherwise when every output of the round is done, so the loop makes one
pass over the outputs (and one more for those made meanwhile) instead of one per completion. The
registrations, and so what the engine receives, do not depend on this loop: it only decides when
the program may exit, and with which error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from pulumi.runtime import stack as runtime_stack

_installed = False


class AsyncioForStack:
    """`asyncio` as `pulumi.runtime.stack` sees it: the same module, except that a wait for the
    first completion waits for the first failure, or for all."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def wait(fs: Iterable[Any], *, timeout: float | None = None,
                   return_when: str = asyncio.ALL_COMPLETED) -> tuple[set[Any], set[Any]]:
        if return_when == asyncio.FIRST_COMPLETED:
            return_when = asyncio.FIRST_EXCEPTION
        return await asyncio.wait(fs, timeout=timeout, return_when=return_when)


def faster_output_wait() -> None:
    """Give `pulumi.runtime.stack` the `asyncio` above (idempotent)."""
    global _installed
    if _installed:
        return
    runtime_stack.asyncio = AsyncioForStack()  # type: ignore[assignment]
    _installed = True
