"""Pure: the one error mapping, task results, the login that follows the master, task deadlines."""

from __future__ import annotations

import http.client
import xmlrpc.client
from typing import Any

import pytest
import XenAPI

from providers._core import Clock, NotFound, Permanent, ProviderError, Retryable, Timeout
from providers.xcpng import Settings, Xapi, map_error
from providers.xcpng._xapi import Credentials, decode_task_result, xint


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (XenAPI.Failure(["HANDLE_INVALID", "network", "OpaqueRef:x"]), NotFound, "HANDLE_INVALID ['network'"),
        (XenAPI.Failure(["UUID_INVALID", "SR", "u"]), NotFound, "UUID_INVALID"),
        (XenAPI.Failure(["OTHER_OPERATION_IN_PROGRESS", "pool", "p", "eject", "t"]), Retryable, "eject"),
        (XenAPI.Failure(["HOST_STILL_BOOTING"]), Retryable, "HOST_STILL_BOOTING"),
        (XenAPI.Failure(["SESSION_AUTHENTICATION_FAILED"]), Permanent, "check the username and password"),
        (XenAPI.Failure(["POOL_JOINING_HOST_MUST_HAVE_SAME_API_VERSION", "2.20", "2.21"]), Permanent, "'2.21'"),
        (XenAPI.Failure(["SR_BACKEND_FAILURE", "108", "", "Unable to detect an NFS service"]), Permanent,
         "Unable to detect an NFS service"),
        (["VLAN_TAG_INVALID", "5000"], Permanent, "VLAN_TAG_INVALID ['5000']"),
        ([], Permanent, "task failed without error_info"),
        (ConnectionRefusedError(111, "Connection refused"), Retryable, "cannot reach XAPI"),
        (TimeoutError("timed out"), Retryable, "no answer from XAPI in time"),
        (http.client.RemoteDisconnected("closed"), Retryable, "cannot reach XAPI"),
        (xmlrpc.client.ProtocolError("h/", 500, "Internal", {}), Retryable, "cannot reach XAPI"),
        (xmlrpc.client.Fault(500, "Missing Status"), Permanent, "XML-RPC fault 500"),
        (ValueError("odd"), Permanent, "ValueError: odd"),
    ],
)
def test_map_error(error: Any, kind: type[ProviderError], words: str) -> None:
    mapped = map_error("xcpng.Network 'public'", "VLAN.create", error)
    assert type(mapped) is kind
    text = str(mapped)
    assert text.startswith("xcpng.Network 'public': VLAN.create") and words in text


def test_provider_errors_pass_through() -> None:
    e = NotFound("r", "gone")
    assert map_error("other", "x", e) is e


@pytest.mark.parametrize(
    ("result", "value"),
    [
        ("", ""),
        ("<value>OpaqueRef:abc</value>", "OpaqueRef:abc"),
        ("<value><array><data><value>OpaqueRef:1</value><value>OpaqueRef:2</value></data></array></value>",
         ["OpaqueRef:1", "OpaqueRef:2"]),
        ("<value></value>", ""),
        ("OpaqueRef:plain", "OpaqueRef:plain"),
    ],
)
def test_decode_task_result(result: str, value: Any) -> None:
    assert decode_task_result(result) == value


def test_ints_travel_as_decimal_strings() -> None:
    assert xint(1500) == "1500" and xint(100.0) == "100"  # type: ignore[arg-type]


# --- sessions with a fake XenAPI.Session --------------------------------------------------------


class FakeSession:
    """Stands in for XenAPI.Session: `xenapi.<class>.<message>(...)` looked up in `answers`."""

    def __init__(self, url: str, world: FakeWorld) -> None:
        self.url = url
        self.world = world
        self.xenapi = _Path(self, "")


class _Path:
    def __init__(self, session: FakeSession, name: str) -> None:
        self._s, self._name = session, name

    def __getattr__(self, part: str) -> _Path:
        return _Path(self._s, f"{self._name}.{part}".lstrip("."))

    def __call__(self, *args: Any) -> Any:
        self._s.world.calls.append((self._s.url, self._name, args))
        answer = self._s.world.answers.get((self._s.url, self._name), self._s.world.answers.get(("*", self._name)))
        if isinstance(answer, BaseException):
            raise answer
        return answer(*args) if callable(answer) else answer


class FakeWorld:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        self.answers: dict[tuple[str, str], Any] = {}

    def factory(self, url: str) -> FakeSession:
        return FakeSession(url, self)

    def names(self) -> list[tuple[str, str]]:
        return [(u, n) for u, n, _ in self.calls]


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


SETTINGS = Settings(scheme="http", poll_interval=1.0, task_timeout=10.0, retry_timeout=3.0)
M, S = "http://10.0.0.11/", "http://10.0.0.12/"


def xapi(world: FakeWorld, address: str = "10.0.0.12", clock: FakeClock | None = None) -> Xapi:
    c = clock or FakeClock()
    return Xapi(SETTINGS, "xcpng.Pool 'p'", Credentials(address, "root", "pw"),
                clock=Clock(now=c.now, sleep=c.sleep), session_factory=world.factory)


def test_login_follows_host_is_slave_once_and_logs_out() -> None:
    w = FakeWorld()
    w.answers[(S, "login_with_password")] = XenAPI.Failure(["HOST_IS_SLAVE", "10.0.0.11"])
    w.answers[(M, "login_with_password")] = None
    w.answers[(M, "pool.get_all")] = ["OpaqueRef:p"]
    with xapi(w) as x:
        assert x.address == "10.0.0.11" and x.call("pool.get_all") == ["OpaqueRef:p"]
    assert w.names() == [(S, "login_with_password"), (M, "login_with_password"), (M, "pool.get_all"),
                         (M, "session.logout")]
    assert w.calls[0][2] == ("root", "pw", "1.0", "privatecloud-pulumi")


def test_a_loop_of_redirects_ends() -> None:
    w = FakeWorld()
    w.answers[(S, "login_with_password")] = XenAPI.Failure(["HOST_IS_SLAVE", "10.0.0.11"])
    w.answers[(M, "login_with_password")] = XenAPI.Failure(["HOST_IS_SLAVE", "10.0.0.12"])
    with pytest.raises(Permanent, match="HOST_IS_SLAVE loop"):
        xapi(w).login()


def test_the_session_is_logged_out_when_a_call_fails() -> None:
    w = FakeWorld()
    w.answers[("*", "login_with_password")] = None
    w.answers[("*", "network.destroy")] = XenAPI.Failure(["NETWORK_CONTAINS_PIF", "OpaqueRef:pif"])
    with pytest.raises(Permanent, match="NETWORK_CONTAINS_PIF"), xapi(w) as x:
        x.call("network.destroy", "OpaqueRef:n")
    assert w.names()[-1][1] == "session.logout"


def test_an_unreachable_host_is_retried_until_the_deadline() -> None:
    w = FakeWorld()
    w.answers[("*", "login_with_password")] = ConnectionRefusedError(111, "refused")
    clock = FakeClock()
    with pytest.raises(Timeout, match=r"gave up after 3 s retrying login to 10.0.0.12: .*cannot reach XAPI"):
        xapi(w, clock=clock).login()
    assert len(w.calls) == 4  # at 0, 1, 2 and 3 s of fake time


def test_a_task_is_waited_on_with_a_deadline_and_destroyed() -> None:
    w = FakeWorld()
    w.answers[("*", "login_with_password")] = None
    w.answers[("*", "Async.pool.create_VLAN")] = "OpaqueRef:task"
    w.answers[("*", "task.get_record")] = {"status": "pending", "progress": 0.25}
    with pytest.raises(Timeout, match=r"task VLAN 100 on eth1; last seen: pending \(25%\)"), xapi(w) as x:
        x.run("pool.create_VLAN", "eth1", "OpaqueRef:n", "100", what="VLAN 100 on eth1")
    assert [n for _, n in w.names()][-2:] == ["task.destroy", "session.logout"]


def test_a_failed_task_carries_its_error_info() -> None:
    w = FakeWorld()
    w.answers[("*", "login_with_password")] = None
    w.answers[("*", "Async.SR.create")] = "OpaqueRef:task"
    w.answers[("*", "task.get_record")] = {"status": "failure", "error_info": ["SR_BACKEND_FAILURE", "108", "",
                                                                                "Unable to detect an NFS service"]}
    with pytest.raises(Permanent, match=r"SR.create: SR_BACKEND_FAILURE .*Unable to detect"), xapi(w) as x:
        x.run("SR.create", "OpaqueRef:h")


def test_a_successful_task_returns_its_decoded_result() -> None:
    w = FakeWorld()
    w.answers[("*", "login_with_password")] = None
    w.answers[("*", "Async.SR.create")] = "OpaqueRef:task"
    w.answers[("*", "task.get_record")] = {"status": "success", "result": "<value>OpaqueRef:sr</value>"}
    with xapi(w) as x:
        assert x.run("SR.create") == "OpaqueRef:sr"
