"""The one bounded wait of the project.

Every loop that waits on a backend goes through `wait_for`: it has a deadline, an injectable
interval, clock and sleep (so tests control time), and when it gives up it says what it waited
for and what it saw last. `retry` re-runs a *safe* call (a read, a listing, a job query) on
`Retryable` errors under the same kind of deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import NotFound, Permanent, Retryable, Timeout

T = TypeVar("T")


@dataclass(frozen=True)
class Clock:
    """Time as the waits see it; tests pass a fake one."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


REAL_CLOCK = Clock()


def wait_for(
    probe: Callable[[], T],
    *,
    resource: str,
    what: str,
    done: Callable[[T], bool],
    failed: Callable[[T], str | None] = lambda _: None,
    describe: Callable[[T], str] = repr,
    timeout: float,
    interval: float = 1.0,
    clock: Clock = REAL_CLOCK,
) -> T:
    """Call `probe` until `done(result)`, `failed(result)` returns a reason, or `timeout` passes.

    `probe` is called at least once, even with a zero timeout. Retryable errors from `probe` are
    tolerated until the deadline (the last one is reported); anything else propagates.
    """
    deadline = clock.now() + timeout
    last: str = "nothing yet"
    while True:
        try:
            result = probe()
        except Retryable as e:
            last = f"error: {e.message}"
        else:
            reason = failed(result)
            if reason is not None:
                raise Permanent(resource, f"{what} failed: {reason}")
            if done(result):
                return result
            last = describe(result)
        if clock.now() >= deadline:
            raise Timeout(resource, f"gave up after {timeout:g} s waiting for {what}; last seen: {last}")
        clock.sleep(max(0.0, min(interval, deadline - clock.now())))


def retry(
    call: Callable[[], T],
    *,
    resource: str,
    what: str,
    timeout: float = 30.0,
    interval: float = 1.0,
    clock: Clock = REAL_CLOCK,
) -> T:
    """Run a safe call, retrying it on `Retryable` errors until `timeout`."""
    deadline = clock.now() + timeout
    while True:
        try:
            return call()
        except Retryable as e:
            if clock.now() >= deadline:
                raise Timeout(resource, f"gave up after {timeout:g} s retrying {what}: {e.message}") from e
            clock.sleep(max(0.0, min(interval, deadline - clock.now())))


@dataclass(frozen=True)
class Policy:
    """How one resource operation retries safe calls: its label, deadline, interval and clock."""

    resource: str
    timeout: float = 30.0
    interval: float = 1.0
    clock: Clock = REAL_CLOCK

    def retry(self, call: Callable[[], T], what: str) -> T:
        return retry(call, resource=self.resource, what=what, timeout=self.timeout, interval=self.interval,
                     clock=self.clock)


def ensure(policy: Policy, what: str, find: Callable[[], T | None], make: Callable[[], T]) -> tuple[T, bool]:
    """The object `find` sees, or a new one from `make`: (object, created).

    A retryable failure of `make` (a dropped connection: did it happen?) is retried only after
    looking the object up again, so a crashed or half-answered create is adopted, not duplicated.
    """

    def attempt() -> tuple[T, bool]:
        existing = find()
        if existing is not None:
            return existing, False
        return make(), True

    return policy.retry(attempt, what)


def remove(policy: Policy, what: str, find: Callable[[], T | None], destroy: Callable[[T], object]) -> None:
    """Delete what `find` sees (nothing if it is gone), looking again before any retry."""

    def attempt() -> None:
        existing = find()
        if existing is None:
            return
        try:
            destroy(existing)
        except NotFound:
            return

    policy.retry(attempt, what)
