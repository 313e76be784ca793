"""What changed in a pool database, numbered by generation, as XAPI's event API answers it.

xapi stamps every object with the generation that created it and the one that last modified
it, and keeps the generation of each deletion (`ocaml/database`); `event.from(classes, token,
timeout)` answers every object whose stamp is newer than the token: `add` when it was created
after it, `mod` otherwise, `del` for deletions. The emulator stamps the same way: after every
call (and every task that completes) `EventLog.sync` compares each record with what it was, so
no rule has to announce its changes. An empty token asks for everything (every live object as
`add`); a token is `<generation>,<message generation>`, each a 20-digit decimal as xapi writes them.

Event records carry `id` (the generation), `timestamp`, `class` (lower-cased, as xapi writes
it), `operation` (add/mod/del), `ref`, `obj_uuid` and, except for `del`, `snapshot` (the record).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.xapi.errors import XapiError

TOKEN_RE = re.compile(r"^(\d+),(\d+)$")
Records = Callable[[], Iterable[tuple[str, str, dict[str, Any]]]]  # -> (class, ref, record) for every object


def token(generation: int) -> str:
    """The token for everything up to `generation` (no messages are modelled: message generation 0)."""
    return f"{generation:020d},{0:020d}"


def parse_token(text: str) -> int:
    """The generation a token names; '' is 0 (everything). EVENT_FROM_TOKEN_PARSE_FAILURE otherwise."""
    if text == "":
        return 0
    m = TOKEN_RE.match(text)
    if m is None:
        raise XapiError("EVENT_FROM_TOKEN_PARSE_FAILURE", text)
    return int(m.group(1))


@dataclass(frozen=True)
class Subscription:
    """`*`, a class name, or `class/ref` (xapi's Subscription.of_string); class names in any case."""

    cls: str | None  # None: every class
    ref: str | None = None

    @classmethod
    def parse(cls, text: str) -> Subscription:
        if text == "*":
            return cls(None)
        name, slash, ref = text.partition("/")
        if not name or "/" in ref or (slash and not ref):
            raise XapiError("EVENT_SUBSCRIPTION_PARSE_FAILURE", text)
        return cls(name.lower(), ref or None)

    def covers(self, cls: str, ref: str) -> bool:
        return (self.cls is None or self.cls == cls.lower()) and (self.ref is None or self.ref == ref)


def subscriptions(classes: Iterable[str]) -> list[Subscription]:
    return [Subscription.parse(c) for c in classes]


@dataclass
class _Stamp:
    cls: str
    uuid: str
    created: int
    modified: int
    time: str
    seen: str  # the record as last compared


@dataclass(frozen=True)
class Event:
    id: int
    timestamp: str
    cls: str
    operation: str  # add | mod | del
    ref: str
    obj_uuid: str
    snapshot: Mapping[str, Any] | None  # None for del

    def as_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "timestamp": self.timestamp, "class": self.cls.lower(),
                               "operation": self.operation, "ref": self.ref, "obj_uuid": self.obj_uuid}
        if self.snapshot is not None:
            out["snapshot"] = dict(self.snapshot)
        return out


@dataclass
class Registration:
    """A session's event.register subscriptions and how far event.next has read."""

    subs: list[Subscription]
    since: int


@dataclass
class EventLog:
    """The generations of one pool database's objects."""

    generation: int = 0
    _stamps: dict[str, _Stamp] = field(default_factory=dict)
    _deleted: list[tuple[int, str, str, str, str]] = field(default_factory=list)  # gen, cls, ref, uuid, time

    def sync(self, records: Records, now: str) -> bool:
        """Stamp what was created, modified or deleted since the last sync; True if anything was."""
        start = self.generation
        live: set[str] = set()
        for cls, ref, rec in records():
            live.add(ref)
            seen = repr(rec)
            stamp = self._stamps.get(ref)
            if stamp is None:
                self.generation += 1
                self._stamps[ref] = _Stamp(cls, str(rec.get("uuid", "")), self.generation, self.generation, now, seen)
            elif stamp.seen != seen:
                self.generation += 1
                stamp.modified, stamp.time, stamp.seen = self.generation, now, seen
        for ref in [r for r in self._stamps if r not in live]:
            stamp = self._stamps.pop(ref)
            self.generation += 1
            self._deleted.append((self.generation, stamp.cls, ref, stamp.uuid, now))
        return self.generation != start

    def touch(self, ref: str, now: str) -> int:
        """event.inject: a `mod` event on `ref` whatever changed; the new generation."""
        stamp = self._stamps[ref]
        self.generation += 1
        stamp.modified, stamp.time = self.generation, now
        return self.generation

    def since(self, generation: int, subs: list[Subscription], record: Callable[[str, str], dict[str, Any]]
              ) -> list[Event]:
        """The events after `generation` on what `subs` cover, oldest first."""
        out = []
        for ref, s in self._stamps.items():
            if s.modified > generation and any(sub.covers(s.cls, ref) for sub in subs):
                op = "add" if s.created > generation else "mod"
                out.append(Event(s.modified, s.time, s.cls, op, ref, s.uuid, record(s.cls, ref)))
        for gen, cls, ref, uuid, time in self._deleted:
            if gen > generation and any(sub.covers(cls, ref) for sub in subs):
                out.append(Event(gen, time, cls, "del", ref, uuid, None))
        return sorted(out, key=lambda e: e.id)

    def counts(self, subs: list[Subscription]) -> dict[str, int]:
        """valid_ref_counts: live objects per subscribed class (lower-cased)."""
        out: dict[str, int] = {}
        for ref, s in self._stamps.items():
            if any(sub.covers(s.cls, ref) for sub in subs):
                out[s.cls.lower()] = out.get(s.cls.lower(), 0) + 1
        return out
