"""Async calls run as tasks that complete only under the test's control; faults fire as asked."""

from __future__ import annotations

import http.client
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab
from tests.xapi.conftest import PASSWORD

Login = Callable[[int], Any]


def failure(call: Callable[[], Any]) -> list[str]:
    with pytest.raises(XenAPI.Failure) as e:
        call()
    return list(e.value.details)


def new_network(x: Any, name: str = "n") -> Any:
    return x.Async.network.create({"name_label": name, "name_description": "", "MTU": "1500", "other_config": {}})


def test_by_default_a_task_completes_at_once(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    task = new_network(x)
    rec: dict[str, Any] = x.task.get_record(task)
    assert rec["status"] == "success" and rec["progress"] == 1.0 and rec["name_label"] == "Async.network.create"
    net = str(xmlrpc.client.loads("<params><param>" + str(rec["result"]) + "</param></params>")[0][0])
    assert net in x.network.get_all() and rec["result"] == f"<value>{net}</value>"
    x.task.destroy(task)
    assert failure(lambda: x.task.get_status(task)) == ["HANDLE_INVALID", "task", task]


def test_a_task_waits_for_the_clock(lab: XapiLab, login: Login) -> None:
    lab.clock.set_policy("network.create", seconds=30)
    x = login(0).xenapi
    before = len(x.network.get_all())
    task = new_network(x)
    for _ in range(5):
        assert x.task.get_status(task) == "pending"
    assert len(x.network.get_all()) == before  # the effect lands when the task completes
    lab.clock.advance(29)
    assert x.task.get_status(task) == "pending"
    lab.clock.advance(1)
    assert x.task.get_status(task) == "success"
    assert len(x.network.get_all()) == before + 1


def test_a_task_completes_after_the_polls_its_policy_names(lab: XapiLab, login: Login) -> None:
    lab.clock.set_policy("*", polls=3)
    x = login(0).xenapi
    task = new_network(x)
    assert [x.task.get_status(task) for _ in range(4)] == ["pending", "pending", "success", "success"]


def test_held_tasks_complete_on_release(lab: XapiLab, login: Login) -> None:
    lab.clock.hold("network.create")
    x = login(0).xenapi
    a, b = new_network(x, "a"), new_network(x, "b")
    lab.clock.advance(10_000)
    assert x.task.get_status(a) == x.task.get_status(b) == "pending"
    lab.clock.release(a)
    assert (x.task.get_status(a), x.task.get_status(b)) == ("success", "pending")
    lab.clock.release()
    assert x.task.get_status(b) == "success"
    c = new_network(x, "c")  # release() frees the tasks held then, not later ones
    assert x.task.get_status(c) == "pending"


def test_a_failing_call_becomes_a_failed_task(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    (host,) = x.host.get_all()
    task = x.Async.SR.create(host, {}, "0", "x", "", "rbd", "user", True, {})
    assert x.task.get_status(task) == "failure"
    assert x.task.get_error_info(task) == ["SR_UNKNOWN_DRIVER", "rbd"]
    assert x.task.get_result(task) == ""


def test_an_async_call_can_fail_before_any_task_exists(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    assert failure(lambda: x.Async.network.set_MTU("OpaqueRef:x", "1500"))[0] == "MESSAGE_METHOD_UNKNOWN"
    assert failure(lambda: x.Async.VLAN.create("OpaqueRef:x", "ten", "OpaqueRef:y")) == ["FIELD_TYPE_ERROR", "tag"]
    assert x.task.get_all() == []


def test_task_cancel(lab: XapiLab, login: Login) -> None:
    lab.clock.hold()
    x = login(0).xenapi
    task = new_network(x)
    x.task.cancel(task)
    assert x.task.get_status(task) == "cancelled"
    assert x.task.get_error_info(task) == ["TASK_CANCELLED", task]
    assert failure(lambda: x.task.cancel(task)) == ["OPERATION_NOT_ALLOWED", "task is cancelled"]


def test_async_pool_join(lab: XapiLab, login: Login) -> None:
    lab.clock.set_policy("pool.join", seconds=60)
    x1 = login(1).xenapi
    task = x1.Async.pool.join(lab.hosts[0].address, "root", PASSWORD)
    assert x1.task.get_status(task) == "pending"
    assert len(login(0).xenapi.host.get_all()) == 1
    lab.clock.advance(60)
    # The session that started the join may still read its task; anything else on the new
    # member answers HOST_IS_SLAVE, as real xapi does once it has restarted.
    assert x1.task.get_status(task) == "success"
    assert failure(x1.pool.get_all) == ["HOST_IS_SLAVE", lab.hosts[0].address]
    assert failure(lambda: login(1)) == ["HOST_IS_SLAVE", lab.hosts[0].address]
    assert len(login(0).xenapi.host.get_all()) == 2
    x1.task.destroy(task)
    assert failure(lambda: x1.task.get_status(task)) == ["HANDLE_INVALID", "task", task]


def test_async_designate_new_master_task_is_readable_on_the_old_master(lab: XapiLab, login: Login) -> None:
    login(1).xenapi.pool.join(lab.hosts[0].address, "root", PASSWORD)
    x0 = login(0).xenapi
    new = next(r for r, h in x0.host.get_all_records().items() if h["name_label"] == "xcp-02")
    task = x0.Async.pool.designate_new_master(new)
    assert x0.task.get_status(task) == "success"
    assert failure(x0.pool.get_all) == ["HOST_IS_SLAVE", lab.hosts[1].address]


def test_fault_fail_task(lab: XapiLab, login: Login) -> None:
    lab.faults.fail_task("network.create", "INTERNAL_ERROR", "injected")
    x = login(0).xenapi
    before = len(x.network.get_all())
    t1, t2 = new_network(x), new_network(x)
    assert (x.task.get_status(t1), x.task.get_error_info(t1)) == ("failure", ["INTERNAL_ERROR", "injected"])
    assert x.task.get_status(t2) == "success"  # times=1
    assert len(x.network.get_all()) == before + 1
    assert [(f.kind, f.method) for f in lab.faults.fired] == [("task_failure", "Async.network.create")]


def test_fault_error_on_a_chosen_call(lab: XapiLab, login: Login) -> None:
    lab.faults.error("pool.get_all", "HOST_OFFLINE", "OpaqueRef:h", host="xcp-01", times=2)
    x = login(0).xenapi
    assert failure(x.pool.get_all) == ["HOST_OFFLINE", "OpaqueRef:h"]
    assert failure(x.pool.get_all) == ["HOST_OFFLINE", "OpaqueRef:h"]
    assert len(x.pool.get_all()) == 1
    assert len(login(1).xenapi.pool.get_all()) == 1  # other hosts are unaffected
    with pytest.raises(ValueError):
        lab.faults.error("pool.get_all", "HOST_OFFLINE")  # the error list says HOST_OFFLINE takes [host]


def test_fault_dropped_connection(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    # Python's xmlrpc transport resends once when a kept-alive connection drops, so one drop is
    # invisible to a XenAPI client: two drops reach it.
    lab.faults.drop("network.create")
    x.network.create({"name_label": "retried", "name_description": "", "MTU": "1500", "other_config": {}})
    lab.faults.drop("network.create", times=2)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        x.network.create({"name_label": "lost", "name_description": "", "MTU": "1500", "other_config": {}})
    labels = [n["name_label"] for n in x.network.get_all_records().values()]
    assert "retried" in labels and "lost" not in labels
    lab.faults.drop("network.create", after=True, times=2)  # the call runs, the answer is lost
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        x.network.create({"name_label": "ran", "name_description": "", "MTU": "1500", "other_config": {}})
    assert "ran" in [n["name_label"] for n in x.network.get_all_records().values()]
    assert [f.kind for f in lab.faults.fired] == ["drop"] * 5


def test_fault_latency(lab: XapiLab, login: Login) -> None:
    lab.faults.latency(0.05, "pool.get_all", times=1)
    x = login(0).xenapi
    assert len(x.pool.get_all()) == 1
    assert [(f.kind, f.method) for f in lab.faults.fired] == [("latency", "pool.get_all")]
    lab.faults.clear()
    assert lab.faults.active == []
