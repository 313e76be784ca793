"""What a provider process keeps between operations: logged-in sessions, shared listings, clients.

The engine starts one dynamic-provider process per command (`pulumi refresh`, `up`, `destroy`) and
sends it every resource's operations, four at a time. What is worth keeping across them:

- `SESSIONS`: sessions that cost a login (XAPI's `session.login_with_password`), for reads. A
  session is taken for one read and given back after it, one per endpoint and login (a read
  waits for it while another uses it), so each endpoint is logged in to once, not once per
  resource; the idle ones are logged out when the process
  exits (the engine ends its providers with SIGINT, so `atexit` runs). Writes log in and out as
  before (a write may change what a session points at: a pool's new master), and log out the
  kept ones.
- `LISTINGS`: one listing (every Ironic node, every CloudStack cluster of the region) shared by the
  reads of one refresh, so a refresh reads each backend object once instead of once per resource.
  A listing serves each resource's read once (all the calls of that read): a second read of the
  same resource (the next refresh, a test that reads again after changing the backend) loads it
  afresh. Only reads share (`Provider` wraps them in `reading()`); a write's lookups always ask.

- `EARLY_LOGINS`: a login that a refresh would otherwise wait for at its first read of that backend
  (the Ceph dashboard's takes 0.3-0.4 s: the manager checks the password hash), started in the
  background at the process's first read of any resource, when the stack config has that
  backend's object (`Provider.configure` hands the config here: `stack_config`): the engine reads
  in the state's order, four at a time, so the Ceph pools come after every Ironic node, whose
  first read spends as long importing python-ironicclient. The backend's session waits for the
  login in flight instead of making its own; a login that fails is forgotten (the read logs in
  itself and reports what went wrong). Never in a write, nor outside the engine (no config).

- `Shared`: a client made once per settings in the process (a `cs` client and its connections, the
  Ceph dashboard's client and its token), for every operation and thread.

Any write of the process (a create, update or delete of any resource: `Provider` wraps them in
`writing()`) drops every listing and every kept session, so a read never sees an answer older
than the last change this process made. Shared clients stay: what they keep (connections, a
bearer token renewed when refused) does not describe the backend's objects.

All four are process-wide (providers are stateless and pickled by reference, so nothing here reaches
state) and thread-safe.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import importlib
import itertools
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


@dataclass
class _Idle:
    session: Any
    close: Callable[[Any], None]


class Sessions:
    """Logged-in sessions by key (endpoint and login), at most `per_key` per key for reads: a read
    waits for the key's session while another thread reads with it (reads are short: their
    listings are shared), unless this thread already holds one (a nested use never waits)."""

    def __init__(self, per_key: int = 1) -> None:
        self._cond = threading.Condition()
        self._idle: dict[Hashable, list[_Idle]] = {}
        self._open: collections.Counter[Hashable] = collections.Counter()  # of this generation
        self._holders: dict[Hashable, collections.Counter[int]] = {}
        self._generation = 0
        self.per_key = per_key
        self.opened = 0  # sessions made (logins) through `use`, for tests and benchmarks

    def take(self, key: Hashable) -> tuple[Any | None, int]:
        """An idle session for `key`, now the caller's, or None: log in anew (counted); and the
        generation to give it back with. Waits while the key's sessions are in other threads' use."""
        me = threading.get_ident()
        with self._cond:
            holders = self._holders.setdefault(key, collections.Counter())
            while True:
                idle = self._idle.get(key)
                if idle:
                    holders[me] += 1
                    return idle.pop().session, self._generation
                if self._open[key] < self.per_key or holders[me] > 0:
                    self._open[key] += 1
                    holders[me] += 1
                    return None, self._generation
                self._cond.wait()

    def give(self, key: Hashable, session: Any, close: Callable[[Any], None], generation: int) -> None:
        """Hand a session back for the next read (`close` logs it out at exit); one taken before
        the last `close_all` (a write came meanwhile) is logged out at once instead. `session`
        None: the login failed, its place is free again."""
        me = threading.get_ident()
        with self._cond:
            self._holders[key][me] -= 1
            current = generation == self._generation
            if current and session is not None:
                self._idle.setdefault(key, []).append(_Idle(session, close))
            elif current:
                self._open[key] -= 1
            self._cond.notify_all()
        if not current and session is not None:
            with contextlib.suppress(Exception):
                close(session)

    @contextlib.contextmanager
    def use(self, key: Hashable, open_: Callable[[], T], close: Callable[[T], None]) -> Iterator[T]:
        """A session for the block: an idle one, or a new one from `open_`; given back after (also
        when the block fails: the client library logs in again on a session refused later).
        Inside a write (`writing()`), a new session logged out after the block."""
        if in_write():
            session = open_()
            try:
                yield session
            finally:
                with contextlib.suppress(Exception):
                    close(session)
            return
        kept, generation = self.take(key)
        if kept is None:
            try:
                kept = open_()
            except BaseException:
                self.give(key, None, close, generation)
                raise
            with self._cond:
                self.opened += 1
        try:
            yield kept
        finally:
            self.give(key, kept, close, generation)

    def close_all(self) -> None:
        """Log out every idle session (at exit and at a write; a failure to log out is ignored:
        sessions expire). Those in use are logged out when given back."""
        with self._cond:
            idle, self._idle = self._idle, {}
            self._generation += 1
            self._open.clear()
            self._cond.notify_all()
        for sessions in idle.values():
            for s in sessions:
                with contextlib.suppress(Exception):
                    s.close(s.session)


@dataclass
class _Listing:
    generation: int
    value: Any
    served: dict[Hashable, int] = field(default_factory=dict)
    """The resources it was read for, each with the read (token) it served."""


class Listings:
    """Listings shared by the reads of one refresh; any write drops them (`invalidate`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}
        self._data: dict[Hashable, _Listing] = {}
        self._generation = 0
        self.loads = 0  # listings loaded, for tests and benchmarks

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The listing `key` for the read this thread runs: the shared one unless this resource was
        already served from it by an earlier read (or a write came since), else a new one from
        `load` (one thread loads it, the others wait for it). Outside a read: `load()`."""
        reader = current_read()
        if reader is None:
            return load()
        return self._get(key, reader, load)

    def _get(self, key: Hashable, reader: tuple[Hashable, int], load: Callable[[], T]) -> T:
        obj, token = reader
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                hit = self._data.get(key)
                if hit is not None and hit.generation == self._generation and hit.served.get(obj, token) == token:
                    hit.served[obj] = token
                    return hit.value  # type: ignore[no-any-return]
                generation = self._generation
            value = load()
            with self._lock:
                self.loads += 1
                if generation == self._generation:
                    self._data[key] = _Listing(generation, value, {obj: token})
            return value

    def invalidate(self) -> None:
        """A write happened: every listing may be out of date."""
        with self._lock:
            self._generation += 1
            self._data.clear()


class Shared(Generic[K, T]):
    """`make(key)` made once per key in the process, even when threads ask at once."""

    def __init__(self, make: Callable[[K], T]) -> None:
        self._make = make
        self._made: dict[K, T] = {}
        self._lock = threading.Lock()

    def __call__(self, key: K) -> T:
        with self._lock:
            if key not in self._made:
                self._made[key] = self._make(key)
            return self._made[key]

    def clear(self) -> None:
        """Forget every client (tests that need a fresh one)."""
        with self._lock:
            self._made.clear()


SESSIONS = Sessions()
LISTINGS = Listings()
atexit.register(SESSIONS.close_all)
_local = threading.local()
_tokens = itertools.count(1)


# Config section -> the module whose `log_in_early(section)` starts that backend's login.
EARLY_LOGINS: dict[str, str] = {"ceph": "providers.ceph._http"}
_config: list[Callable[[str], Mapping[str, Any]]] = []  # the stack config's sections, once configured
_early = threading.Lock()
_logged_in_early = False


def stack_config(section: Callable[[str], Mapping[str, Any]]) -> None:
    """The stack config of this provider process (`section(name)`: one object of it), for the
    early logins. In memory only, as every provider's settings."""
    _config[:] = [section]


def log_in_early() -> None:
    """At the process's first read: start the `EARLY_LOGINS` of the backends the stack configures."""
    global _logged_in_early
    with _early:
        if _logged_in_early or not _config:
            return
        _logged_in_early = True
    for name, module in EARLY_LOGINS.items():
        threading.Thread(target=_log_in_early, args=(_config[0], name, module), name=f"login-{name}",
                         daemon=True).start()


def _log_in_early(section: Callable[[str], Mapping[str, Any]], name: str, module: str) -> None:
    with contextlib.suppress(Exception):  # the backend's first read logs in itself and reports
        raw = section(name)
        if raw:
            importlib.import_module(module).log_in_early(raw)


def current_read() -> tuple[Hashable, int] | None:
    """(the resource, a token of this read call) when this thread runs a read, else None."""
    return getattr(_local, "read", None)


@contextlib.contextmanager
def reading(resource: Hashable) -> Iterator[None]:
    """Around a read of `resource`: listings it asks for are shared with the other reads (not
    inside a write: a write's own reads always ask)."""
    if in_write():
        yield
        return
    if not _logged_in_early:
        log_in_early()
    outer = current_read()
    _local.read = outer or (resource, next(_tokens))
    try:
        yield
    finally:
        _local.read = outer


def in_write() -> bool:
    """Whether this thread runs a write (a create, update or delete)."""
    return bool(getattr(_local, "writes", 0))


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Around a write: listings and kept sessions are dropped before it and again after it (a read
    that ran meanwhile may have loaded a listing from before the write's end)."""
    LISTINGS.invalidate()
    SESSIONS.close_all()
    _local.writes = getattr(_local, "writes", 0) + 1
    try:
        yield
    finally:
        _local.writes -= 1
        LISTINGS.invalidate()
        SESSIONS.close_all()
