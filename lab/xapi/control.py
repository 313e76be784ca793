"""What a test controls in the emulator: the clock tasks run on, and faults on demand (on lab.emu).

Nothing here sleeps or draws random numbers except an explicitly requested latency fault: a task
finishes when the test advances the virtual clock past its duration, or after the number of
polls its policy names, so timing in tests is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from lab.emu import clock, faults
from lab.emu.faults import Fault, Fired
from lab.xapi.errors import XapiError

__all__ = ["Clock", "Fault", "Faults", "Fired", "TaskPolicy", "base_method"]


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


class Clock(clock.Clock):
    """Virtual time for tasks (lab.emu.clock) and the task policies: how long a task of a message
    stays pending. `advance` moves time and settles whatever became due."""

    def __init__(self, *, realtime: bool = False, epoch: datetime | None = None) -> None:
        super().__init__(realtime=realtime, epoch=epoch)
        self._policies: dict[str, TaskPolicy] = {}
        self._default = TaskPolicy()
        self._released: set[str] = set()

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
        self.changed()

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


def covers(fault_method: str, method: str) -> bool:
    """'pool.join' matches it and Async.pool.join; 'Async.x.y' only that."""
    return method == fault_method or (not fault_method.startswith("Async.") and base_method(method) == fault_method)


class Faults(faults.Faults):
    """Faults on demand (lab.emu.faults) in XenAPI's words. Each matches a message (and optionally
    a host) and fires `times` times; `fired` lists what fired, in order."""

    def __init__(self) -> None:
        super().__init__(covers)

    def latency(self, seconds: float, method: str | None = None, *, host: str | None = None,
                times: int | None = None) -> Fault:
        """Delay the answer to matching calls by `seconds` of real time."""
        return self.add(Fault("latency", method, host, times, seconds=seconds))

    def error(self, method: str, code: str, *params: str, host: str | None = None, times: int | None = 1) -> Fault:
        """Answer matching calls with this XenAPI error (code and params checked against the list)."""
        return self.add(Fault("error", method, host, times, error=XapiError(code, *params)))

    def fail_task(self, method: str, code: str, *params: str, host: str | None = None,
                  times: int | None = 1) -> Fault:
        """The next task of `method` ends in `failure` with this error_info instead of running."""
        return self.add(Fault("task_failure", method, host, times, error=XapiError(code, *params)))

    def drop(self, method: str | None = None, *, host: str | None = None, times: int | None = 1,
             after: bool = False) -> Fault:
        """Close the connection without an answer; with `after=True` the call runs first."""
        return self.add(Fault("drop", method, host, times, after=after))
