"""The object store the rule collaborators share: objects by uuid with an internal id, the job table,
the lock every request holds, and how XAPI is reached for discovery."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable

from lab.cloudstack.jobs import DATE_FORMAT, Jobs
from lab.cloudstack.objects import Resource, T
from lab.cloudstack.xapi_discovery import PoolInfo, discover_pool
from lab.emu.clock import Clock


class Store:
    """Every object of one management server (in insertion order) and its async jobs."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock(realtime=True)
        self.jobs = Jobs(self.lock, self.stamp)
        self._objects: dict[str, Resource] = {}
        self._ids = itertools.count(1)
        # How XAPI is reached (replaceable in tests): (url, username, password) -> PoolInfo
        self.discover: Callable[[str, str, str], PoolInfo] = discover_pool

    # --- store ----------------------------------------------------------------------------------
    def stamp(self) -> str:
        """Now on the lab's clock, in CloudStack's date format (`created`, job dates)."""
        return self.clock.stamp(DATE_FORMAT)

    def exists(self, uid: str) -> bool:
        """Does a uuid name anything (an object or an async job)?"""
        return uid in self._objects or self.jobs.get(uid) is not None

    def new_id(self) -> tuple[str, int]:
        return str(uuid.uuid4()), next(self._ids)

    def next_dbid(self) -> int:
        """An internal id for an object whose uuid is chosen elsewhere (a PreSetup pool's SR name)."""
        return next(self._ids)

    def add(self, obj: T) -> T:
        self._objects[obj.id] = obj
        return obj

    def remove(self, obj: Resource) -> None:
        self._objects.pop(obj.id, None)

    def all(self, cls: type[T]) -> list[T]:
        return [o for o in self._objects.values() if type(o) is cls]

    def get(self, cls: type[T], uid: str | None) -> T | None:
        obj = self._objects.get(uid or "")
        return obj if type(obj) is cls else None

    def listed(self, cls: type[T]) -> list[T]:
        """Every object of a kind, as a list* call reads it: pending transitions on them settle first."""
        out = self.all(cls)
        for o in out:
            self.jobs.settle(o)
        return out
