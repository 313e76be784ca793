"""Faults on demand, shared by the emulators: latency, an error answer, a failing job or task, a
dropped connection.

A fault matches a call by name (None: any call) and optionally by host, and fires `times` times
(None: until cleared). Each API names its constructors in its own words (`Faults.error` takes a
XenAPI code in lab.xapi, an errortext and errorcode in lab.cloudstack) on top of `add`/`take`.
Nothing here sleeps: the emulator applies a latency where it answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Fault:
    kind: str  # "latency" | "error" | "drop" | an API's own kind ("job", "task_failure")
    target: str | None = None  # the call it matches; None: every call
    host: str | None = None  # the host it matches (emulators of several hosts); None: any
    times: int | None = 1  # None: every matching call until cleared
    seconds: float = 0.0  # latency
    error: Exception | None = None  # what an error (or failure) fault answers
    after: bool = False  # drop: run the call, then drop the answer
    fired: int = 0

    @property
    def live(self) -> bool:
        return self.times is None or self.fired < self.times

    # The API's word for the call's name.
    @property
    def method(self) -> str | None:
        return self.target

    @property
    def command(self) -> str | None:
        return self.target


@dataclass(frozen=True)
class Fired:
    """One fault that fired, in order."""

    kind: str
    host: str | None
    target: str

    @property
    def method(self) -> str:
        return self.target

    @property
    def command(self) -> str:
        return self.target


def same_name(fault_target: str, call: str) -> bool:
    return fault_target == call


class Faults:
    """The faults of one emulator; `matches(fault_target, call)` says which calls a name covers."""

    def __init__(self, matches: Callable[[str, str], bool] = same_name) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._matches = matches
        self.fired: list[Fired] = []

    @property
    def active(self) -> list[Fault]:
        """The faults that will still fire."""
        with self._lock:
            return [f for f in self._faults if f.live]

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def _hits(self, f: Fault, kind: str, call: str, host: str | None, after: bool | None) -> bool:
        return (f.kind == kind and f.live and (f.target is None or self._matches(f.target, call))
                and (f.host is None or f.host == host) and (after is None or f.after == after))

    def take(self, kind: str, call: str, *, host: str | None = None, after: bool | None = None) -> Fault | None:
        """The first live fault of `kind` matching this call, counted as fired."""
        with self._lock:
            for f in self._faults:
                if self._hits(f, kind, call, host, after):
                    f.fired += 1
                    self.fired.append(Fired(kind, host, call))
                    return f
        return None
