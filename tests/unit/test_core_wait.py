"""The bounded wait: deadlines, failure states and retries, with time under the test's control."""

from __future__ import annotations

import pytest

from providers._core import Clock, Permanent, Retryable, Timeout, retry, wait_for


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s

    @property
    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


def test_wait_returns_when_done() -> None:
    ft = FakeTime()
    states = iter(["deploying", "deploying", "active"])
    got = wait_for(lambda: next(states), resource="node n1", what="active", done=lambda s: s == "active",
                   timeout=60, interval=2, clock=ft.clock)
    assert got == "active"
    assert ft.sleeps == [2, 2]


def test_wait_reports_failure_state() -> None:
    ft = FakeTime()
    with pytest.raises(Permanent, match=r"node n1: deploy failed: deploy failed: no disk"):
        wait_for(lambda: "deploy failed", resource="node n1", what="deploy", done=lambda s: s == "active",
                 failed=lambda s: f"{s}: no disk" if s.endswith("failed") else None,
                 timeout=60, clock=ft.clock)


def test_wait_times_out_saying_what_and_last_seen() -> None:
    ft = FakeTime()
    with pytest.raises(Timeout, match=r"gave up after 10 s waiting for active; last seen: 'deploying'"):
        wait_for(lambda: "deploying", resource="node n1", what="active", done=lambda s: s == "active",
                 timeout=10, interval=3, clock=ft.clock)
    assert ft.t == 10  # the last sleep is cut to the deadline
    assert ft.sleeps == [3, 3, 3, 1]


def test_wait_probes_once_even_with_zero_timeout() -> None:
    ft = FakeTime()
    assert wait_for(lambda: 1, resource="r", what="x", done=lambda v: v == 1, timeout=0, clock=ft.clock) == 1


def test_wait_tolerates_retryable_errors_until_the_deadline() -> None:
    ft = FakeTime()
    calls: list[Exception | str] = [Retryable("r", "busy"), "ok"]

    def probe() -> str:
        v = calls.pop(0)
        if isinstance(v, Exception):
            raise v
        return v

    assert wait_for(probe, resource="r", what="x", done=lambda v: v == "ok", timeout=5, clock=ft.clock) == "ok"


def test_retry_gives_up_with_the_last_error() -> None:
    ft = FakeTime()

    def busy() -> None:
        raise Retryable("pool p", "EBUSY")

    with pytest.raises(Timeout, match="retrying list pools: EBUSY"):
        retry(busy, resource="pool p", what="list pools", timeout=3, interval=1, clock=ft.clock)


def test_retry_does_not_retry_permanent_errors() -> None:
    ft = FakeTime()
    calls = []

    def refused() -> None:
        calls.append(1)
        raise Permanent("pool p", "EINVAL")

    with pytest.raises(Permanent):
        retry(refused, resource="pool p", what="x", clock=ft.clock)
    assert calls == [1]
