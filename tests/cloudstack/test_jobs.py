"""Async jobs followed to their end with a deadline, and mutations retried only after a fresh look.

The calls are stubbed and time is a fake clock: nothing here sleeps or talks HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from providers._core import Clock, NotFound, Permanent, Retryable, Timeout, ensure, remove
from providers.cloudstack.api import Api
from providers.cloudstack.settings import Settings


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def make_api(time_: FakeTime, answers: Iterator[dict[str, Any] | Exception]) -> tuple[Api, list[tuple[str, dict]]]:
    settings = Settings(endpoint="http://127.0.0.1:1/client/api", api_key="k", secret_key=SecretStr("s"),
                        job_timeout=30, poll_interval=5, retry_timeout=20)
    api = Api(settings, "cloudstack.Test 't'", Clock(now=time_.now, sleep=time_.sleep))
    sent: list[tuple[str, dict]] = []

    def call(command: str, **params: Any) -> dict[str, Any]:
        sent.append((command, params))
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    api.call = call  # type: ignore[method-assign]
    return api, sent


def pending() -> dict[str, Any]:
    return {"jobstatus": 0, "jobprocstatus": 0, "jobid": "j1"}


def test_job_is_followed_to_success(time_: FakeTime) -> None:
    done = {"jobstatus": 1, "jobresultcode": 0, "jobresult": {"physicalnetwork": {"id": "n1", "name": "phys"}}}
    api, sent = make_api(time_, iter([{"jobid": "j1", "id": "n1"}, pending(), pending(), done]))
    assert api.job("createPhysicalNetwork", name="phys", zoneid="z") == {"id": "n1", "name": "phys"}
    assert [c for c, _ in sent] == ["createPhysicalNetwork", *["queryAsyncJobResult"] * 3]
    assert all(p == {"jobid": "j1"} for c, p in sent[1:])
    assert time_.sleeps == [5, 5]


def test_failed_job_carries_cloudstacks_text_and_code(time_: FakeTime) -> None:
    failed = {"jobstatus": 2, "jobresultcode": 530,
              "jobresult": {"errorcode": 530, "errortext": "Failed to enable storage maintenance"}}
    api, _ = make_api(time_, iter([{"jobid": "j1"}, failed]))
    with pytest.raises(Permanent) as e:
        api.job("enableStorageMaintenance", id="p1")
    assert "enableStorageMaintenance: Failed to enable storage maintenance (errorcode 530)" in str(e.value)


def test_failed_job_with_a_retryable_code_maps_through_the_same_table(time_: FakeTime) -> None:
    failed = {"jobstatus": 2, "jobresultcode": 534, "jobresult": {"errorcode": 534, "errortext": "agent down"}}
    api, _ = make_api(time_, iter([{"jobid": "j1"}, failed]))
    with pytest.raises(Retryable):
        api.job("prepareHostForMaintenance", id="h1")


def test_job_that_never_ends_times_out_saying_what_it_waited_for(time_: FakeTime) -> None:
    api, sent = make_api(time_, iter([{"jobid": "j9"}] + [pending()] * 100))
    with pytest.raises(Timeout) as e:
        api.job("addTrafficType", "Guest traffic", physicalnetworkid="n1", traffictype="Guest")
    message = str(e.value)
    assert "Guest traffic (job j9)" in message and "jobstatus 0" in message and "30 s" in message
    assert time_.t == 30  # the deadline, not a second more
    assert len(sent) == 1 + 7  # polls at 0, 5, ..., 30


def test_query_errors_that_are_retryable_do_not_end_the_wait(time_: FakeTime) -> None:
    done = {"jobstatus": 1, "jobresultcode": 0, "jobresult": {"success": True}}
    api, _ = make_api(time_, iter([{"jobid": "j1"}, Retryable("x", "connection reset"), done]))
    assert api.job("deleteTrafficType", id="t1") == {"success": True}


def test_cancelled_job_is_permanent(time_: FakeTime) -> None:
    api, _ = make_api(time_, iter([{"jobid": "j1"}, {"jobstatus": 3, "jobresultcode": 0}]))
    with pytest.raises(Permanent, match="cancelled"):
        api.job("updatePhysicalNetwork", id="n1", state="Enabled")


def test_create_retried_after_a_dropped_connection_adopts_what_the_first_attempt_made(time_: FakeTime) -> None:
    api, _ = make_api(time_, iter([]))
    looks: list[str] = []
    made: list[str] = []

    def find() -> dict[str, str] | None:
        looks.append("look")
        return {"id": "z1"} if made else None

    def make() -> dict[str, str]:
        made.append("zone")  # the server made it, but the answer was lost
        raise Retryable("t", "connection reset")

    obj, created = ensure(api.policy, "createZone", find, make)
    assert obj == {"id": "z1"} and created is False
    assert made == ["zone"] and looks == ["look", "look"]


def test_delete_of_something_already_gone_is_quiet(time_: FakeTime) -> None:
    api, _ = make_api(time_, iter([]))
    deleted: list[str] = []
    remove(api.policy, "deletePod", lambda: None, lambda p: deleted.append(p))
    assert deleted == []

    def raises(_: Any) -> None:
        raise NotFound("t", "gone meanwhile")

    remove(api.policy, "deletePod", lambda: {"id": "p"}, raises)  # vanished between the look and the delete
