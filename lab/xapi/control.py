"""What a test controls in the emulator: the clock tasks run on, and faults on demand.

Nothing here sleeps or draws random numbers except an explicitly requested latency fault: a task
finishes when the test advances the virtual clock past its duration, or after the number of
polls its policy names, so timing in tests is deterministic.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from lab.xapi.errors import XapiError


def base_method(method: str) -> str:
    """'Async.pool.join' -> 'pool.join'."""
    return method.removeprefix("Async.")


@dataclass(frozen=True)
class TaskPolicy:
    """How long a task of one message stays pending: `seconds` of virtual time AND `polls` reads.

    The default (0, 0) completes the task at once. `seconds=math.inf` holds it until
    `Clock.release` (or a failure fault) ends it.
    """

    seconds: float = 0.0
    polls: int = 0


class Clock:
    """Virtual time for tasks. `advance` moves it and settles whatever became due."""

    def __init__(self, *, realtime: bool = False, epoch: datetime | None = None) -> None:
        self._offset = 0.0
        self._realtime = realtime
        self._started = time.monotonic()
        self._epoch = epoch or datetime.now(UTC).replace(microsecond=0)
        self._policies: dict[str, TaskPolicy] = {}
        self._default = TaskPolicy()
        self._released: set[str] = set()
        self._on_change: Callable[[], None] = lambda: None

    # --- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the lab started, virtual unless the clock follows the wall clock."""
        return self._offset + (time.monotonic() - self._started if self._realtime else 0.0)

    def advance(self, seconds: float) -> None:
        """Move virtual time forward and complete every task that became due."""
        if seconds < 0:
            raise ValueError("the clock does not go backwards")
        self._offset += seconds
        self._on_change()

    def stamp(self) -> str:
        """The current time as XenAPI writes a datetime (UTC, 19700101T00:00:00Z form)."""
        return (self._epoch + timedelta(seconds=self.now())).strftime("%Y%m%dT%H:%M:%SZ")

    # --- policies -----------------------------------------------------------------------------
    def set_policy(self, method: str = "*", *, seconds: float = 0.0, polls: int = 0) -> None:
        """Tasks of `method` ('pool.join', or '*' for every message) last this long."""
        policy = TaskPolicy(seconds, polls)
        if method == "*":
            self._default = policy
        else:
            self._policies[base_method(method)] = policy

    def hold(self, method: str = "*") -> None:
        """Tasks of `method` stay pending until `release` names them (or `advance(math.inf)`)."""
        self.set_policy(method, seconds=math.inf)

    def release(self, task_ref: str | None = None) -> None:
        """Let one held task (or, with no argument, every held task) complete now."""
        self._released.add(task_ref or "*")
        self._on_change()

    def forget_release_all(self) -> None:
        """`release()` frees the tasks held at that moment, not later ones."""
        self._released.discard("*")

    def released(self, task_ref: str) -> bool:
        return task_ref in self._released or "*" in self._released

    def policy(self, method: str) -> TaskPolicy:
        return self._policies.get(base_method(method), self._default)

    def reset(self) -> None:
        self._policies.clear()
        self._default = TaskPolicy()
        self._released.clear()


FaultKind = Literal["latency", "error", "task_failure", "drop"]


@dataclass
class Fault:
    kind: FaultKind
    method: str | None = None  # 'pool.join' matches it and Async.pool.join; 'Async.x.y' only that
    host: str | None = None
    times: int | None = 1  # None: every matching call
    seconds: float = 0.0
    error: XapiError | None = None
    after: bool = False  # drop: run the call, then drop the reply
    fired: int = 0

    def matches(self, host: str, method: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.host is not None and self.host != host:
            return False
        if self.method is None:
            return True
        return method == self.method or (not self.method.startswith("Async.") and base_method(method) == self.method)


@dataclass(frozen=True)
class Fired:
    kind: FaultKind
    host: str
    method: str


@dataclass
class Faults:
    """Faults on demand. Each matches a message (and optionally a host) and fires `times` times."""

    active: list[Fault] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def latency(self, seconds: float, method: str | None = None, *, host: str | None = None,
                times: int | None = None) -> Fault:
        """Delay the answer to matching calls by `seconds` of real time."""
        return self._add(Fault("latency", method, host, times, seconds=seconds))

    def error(self, method: str, code: str, *params: str, host: str | None = None, times: int | None = 1) -> Fault:
        """Answer matching calls with this XenAPI error (code and params checked against the list)."""
        return self._add(Fault("error", method, host, times, error=XapiError(code, *params)))

    def fail_task(self, method: str, code: str, *params: str, host: str | None = None,
                  times: int | None = 1) -> Fault:
        """The next task of `method` ends in `failure` with this error_info instead of running."""
        return self._add(Fault("task_failure", method, host, times, error=XapiError(code, *params)))

    def drop(self, method: str | None = None, *, host: str | None = None, times: int | None = 1,
             after: bool = False) -> Fault:
        """Close the connection without an answer; with `after=True` the call runs first."""
        return self._add(Fault("drop", method, host, times, after=after))

    def clear(self) -> None:
        with self._lock:
            self.active.clear()

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self.active.append(fault)
        return fault

    def take(self, kind: FaultKind, host: str, method: str, *, after: bool | None = None) -> Fault | None:
        """The first active fault of `kind` matching this call, counted as fired."""
        with self._lock:
            for f in self.active:
                if f.kind == kind and f.matches(host, method) and (after is None or f.after == after):
                    f.fired += 1
                    self.fired.append(Fired(kind, host, method))
                    return f
        return None
