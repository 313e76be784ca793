"""The test-controlled clock: time moves when the test says, so timing in tests is deterministic.

`now()` is seconds since the lab started: virtual (it moves only with `advance()`) unless the
clock follows the wall clock (`realtime=True`, for daemons and for APIs whose clients sign
requests with wall-clock expiry times); `advance()` moves it on in either case and tells every
listener (the emulator settles what became due).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, *, realtime: bool = False, epoch: datetime | None = None) -> None:
        self._offset = 0.0
        self._realtime = realtime
        self._started = time.monotonic()
        self._epoch = epoch or datetime.now(UTC).replace(microsecond=0)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Seconds since the lab started, virtual unless the clock follows the wall clock."""
        return self._offset + (time.monotonic() - self._started if self._realtime else 0.0)

    def time(self) -> float:
        """The clock's time as a Unix timestamp (what `time.time()` would say in the lab's world)."""
        return (self._epoch + timedelta(seconds=self.now())).timestamp()

    def datetime(self) -> datetime:
        return self._epoch + timedelta(seconds=self.now())

    def stamp(self, fmt: str = "%Y%m%dT%H:%M:%SZ") -> str:
        """The current time in an API's format (default XenAPI's 19700101T00:00:00Z)."""
        return self.datetime().strftime(fmt)

    def advance(self, seconds: float) -> None:
        """Move time forward and let every listener settle what became due."""
        if seconds < 0:
            raise ValueError("the clock does not go backwards")
        self._offset += seconds
        self.changed()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        for listener in self._listeners:
            listener()
