"""providers._core.cache: sessions kept for reads, listings shared by the reads of one refresh."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from pulumi.dynamic import CreateResult, ReadResult

from providers._core import LISTINGS, SESSIONS, Listings, Provider, Sessions
from providers._core.cache import Shared, current_read, in_write, reading, writing
from providers._core.settings import BackendSettings


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> list[int]:
        self.n += 1
        return [self.n]


def test_a_listing_serves_each_resource_once() -> None:
    cache, load = Listings(), Counter()
    with reading("a"):
        assert cache.get("nodes", load) == [1]
        assert cache.get("nodes", load) == [1]  # the same read asks again: shared
    with reading("b"):
        assert cache.get("nodes", load) == [1]  # another resource: shared
    with reading("a"):
        assert cache.get("nodes", load) == [2]  # a's second read (the next refresh): loaded afresh
    with reading("b"):
        assert cache.get("nodes", load) == [2]  # b's second read shares a's new listing
    with reading("b"):
        assert cache.get("nodes", load) == [3]  # b's third read: loaded afresh
    assert cache.loads == 3


def test_outside_a_read_nothing_is_shared() -> None:
    cache, load = Listings(), Counter()
    assert cache.get("nodes", load) == [1]
    assert cache.get("nodes", load) == [2]
    assert current_read() is None


def test_a_write_drops_the_listings_and_its_own_reads_always_ask() -> None:
    load = Counter()
    with reading("a"):
        assert LISTINGS.get("t-nodes", load) == [1]
    with writing():
        assert in_write()
        with reading("b"):
            assert current_read() is None
            assert LISTINGS.get("t-nodes", load) == [2]
    assert not in_write()
    with reading("c"):
        assert LISTINGS.get("t-nodes", load) == [3]  # the listing from before the write is gone


def test_concurrent_reads_load_a_listing_once() -> None:
    cache = Listings()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def load() -> list[str]:
        calls.append(1)
        started.set()
        release.wait(30)
        return ["x"]

    results: list[Any] = []

    def read(name: str) -> None:
        with reading(name):
            results.append(cache.get("k", load))

    first = threading.Thread(target=read, args=("a",))
    first.start()
    started.wait(30)
    others = [threading.Thread(target=read, args=(n,)) for n in "bcd"]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(30)
    assert results == [["x"]] * 4 and len(calls) == 1


def test_sessions_are_kept_for_reads_and_logged_out_at_the_end() -> None:
    sessions, closed, opened = Sessions(), list[str](), list[int]()

    def open_() -> str:
        opened.append(1)
        return f"s{len(opened)}"

    for _ in range(3):
        with sessions.use("host", open_, closed.append) as s:
            assert s == "s1"
    assert sessions.opened == 1 and closed == []
    sessions.close_all()
    assert closed == ["s1"]


def test_a_write_logs_in_and_out_and_a_session_taken_before_it_is_not_kept() -> None:
    closed: list[str] = []
    with writing(), SESSIONS.use("t-host", lambda: "w", closed.append):
        pass
    assert closed == ["w"]
    with SESSIONS.use("t-host", lambda: "r", closed.append):
        SESSIONS.close_all()  # as a write running meanwhile does
    assert closed == ["w", "r"]
    assert SESSIONS.take("t-host")[0] is None


class _Settings(BackendSettings):
    section: ClassVar[str] = "test"


class _Provider(Provider[_Settings]):
    settings_model = _Settings

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        del props
        return ReadResult(id_, {"reader": current_read(), "writing": in_write()})

    def create(self, props: dict[str, Any]) -> CreateResult:
        del props
        return CreateResult("x", {"reader": current_read(), "writing": in_write()})


def test_every_provider_reads_and_writes_through_the_cache() -> None:
    p = _Provider()
    outs = p.read("id-1", {}).outs or {}
    assert outs["reader"][0] == ("_Provider", "id-1") and outs["writing"] is False
    created = p.create({}).outs
    assert created == {"reader": None, "writing": True}


def test_reads_of_one_key_share_one_session_and_a_nested_use_does_not_wait() -> None:
    sessions, logins = Sessions(), list[int]()
    inside, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def open_() -> str:
        logins.append(1)
        return f"s{len(logins)}"

    def first() -> None:
        with sessions.use("host", open_, lambda _s: None) as s:
            with sessions.use("host", open_, lambda _s: None) as nested:  # same thread: a second one
                seen.append(nested)
            seen.append(s)
            inside.set()
            release.wait(30)

    def second() -> None:
        with sessions.use("host", open_, lambda _s: None) as s:  # waits for the first's
            seen.append(s)

    a = threading.Thread(target=first)
    a.start()
    inside.wait(30)
    b = threading.Thread(target=second)
    b.start()
    release.set()
    a.join(30)
    b.join(30)
    assert seen[:2] == ["s2", "s1"] and seen[2] in ("s1", "s2") and len(logins) == 2


def test_a_failed_login_frees_its_place() -> None:
    sessions = Sessions()

    def refused() -> str:
        raise ConnectionRefusedError("refused")

    for _ in range(2):  # the second attempt does not wait for the first, failed, one
        try:
            with sessions.use("host", refused, lambda _s: None):
                pass
        except ConnectionRefusedError:
            pass
    with sessions.use("host", lambda: "s", lambda _s: None) as s:
        assert s == "s"


EARLY: list[tuple[str, dict[str, Any]]] = []


def log_in_early(raw: dict[str, Any]) -> None:
    """The early login of a backend named `early` (this module stands for its client module)."""
    EARLY.append((threading.current_thread().name, raw))
    if raw.get("fail"):
        raise RuntimeError("the backend is down")


def test_the_first_read_of_a_configured_process_starts_the_early_logins(monkeypatch: Any) -> None:
    """Once per process, at its first read (not a write's), in a thread of its own, for the
    backends the stack config has an object of; a login that fails is forgotten."""
    from providers._core import cache

    monkeypatch.setattr(cache, "EARLY_LOGINS", {"early": __name__, "absent": __name__, "down": __name__})
    monkeypatch.setattr(cache, "_logged_in_early", False)
    monkeypatch.setattr(cache, "_config", [])
    EARLY.clear()

    def joined() -> None:
        for t in [t for t in threading.enumerate() if t.name.startswith("login-")]:
            t.join(10)

    with reading("r1"):  # not configured by the engine (a test, a tool): nothing
        pass
    config: dict[str, dict[str, Any]] = {"early": {"endpoint": "http://e"}, "down": {"fail": True}}
    cache.stack_config(lambda name: config.get(name, {}))
    with writing(), reading("w"):  # a write's reads: nothing
        pass
    assert EARLY == []
    with reading("r2"):
        pass
    with reading("r3"):
        pass
    joined()
    assert sorted(EARLY) == [("login-down", {"fail": True}), ("login-early", {"endpoint": "http://e"})]


def test_a_shared_client_is_made_once_per_key_even_when_threads_ask_at_once() -> None:
    started, release = threading.Event(), threading.Event()
    made: list[str] = []

    def make(key: str) -> object:
        made.append(key)
        started.set()
        release.wait(30)
        return object()

    clients = Shared(make)
    got: list[object] = []
    first = threading.Thread(target=lambda: got.append(clients("a")))
    first.start()
    started.wait(30)
    others = [threading.Thread(target=lambda: got.append(clients("a"))) for _ in range(3)]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(30)
    assert len(got) == 4 and all(c is got[0] for c in got) and made == ["a"]
    with writing():  # a write keeps them: connections and tokens do not describe the backend's objects
        assert clients("a") is got[0]
    assert clients("b") is not got[0] and made == ["a", "b"]
    clients.clear()
    assert clients("a") is not got[0] and made == ["a", "b", "a"]
