"""ironic.Node and ironic.Fleet against the real Ironic of the lab, over the wire.

The choreography: create, create again (no change), update, update again (no change), refresh
after an out-of-band change, delete, delete again; then failure and resume, and adoption.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from providers._core import Permanent, Timeout
from providers.ironic import NodeProvider
from providers.ironic._api import client
from tests.enginekit import REPO
from tests.ironic.conftest import fleet_provider, node_provider

pytestmark = [pytest.mark.ironic]

FAST = {"manage": 60, "clean": 60, "deploy": 60, "undeploy": 60, "poll_interval": 0.2}


def props(name: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "driver": "fake-hardware",
        "driver_info": {"ipmi_address": "10.0.0.11", "ipmi_username": "admin", "ipmi_password": "s3cret"},
        "properties": {"cpus": 8, "memory_mb": 65536},
        "resource_class": "compute",
        "interfaces": {"boot": "fake", "deploy": "fake"},
        "ports": [],
        "target_state": "available",
        "timeouts": FAST,
    }
    base.update(over)
    res = NodeProvider().check({}, base)  # check needs no endpoint
    assert not res.failures, res.failures
    return dict(res.inputs)


def o(result: Any) -> dict[str, Any]:
    """The outputs of a Create/Read/UpdateResult."""
    return dict(result.outs or {})


def mac(i: int) -> str:
    return f"52:54:00:aa:{i // 256:02x}:{i % 256:02x}"


def test_node_choreography(ironic_endpoint: str) -> None:
    p = node_provider(ironic_endpoint)
    c = client(ironic_endpoint)
    want = props("life-1", ports=[mac(1)])

    # create
    created: Any = p.create(want)
    uuid, outs = created.id, created.outs
    assert outs["provision_state"] == "available" and outs["target_state"] == "available"
    assert outs["driver_info"]["ipmi_password"] == "s3cret"  # declared value, not Ironic's mask
    assert [pt.address for pt in c.port.list(node=uuid)] == [mac(1)]

    # create again: the same name is adopted, not duplicated, and nothing differs
    again: Any = p.create(want)
    assert again.id == uuid
    assert len([n for n in c.node.list() if n.name == "life-1"]) == 1
    read: Any = p.read(uuid, outs)
    assert read.outs["driver_info"]["ipmi_password"] == "s3cret"  # "******" is not drift
    assert p.diff(uuid, read.outs, want).changes is False

    # update: properties, ports and target (deploy an ISO with kernel parameters)
    want2 = props("life-1", ports=[mac(1), mac(2)], properties={"cpus": 16, "memory_mb": 65536},
                  target_state="active",
                  instance_info={"boot_iso": "http://iso/xcp-ng.iso", "kernel_append_params": "install"},
                  config_drive={"meta_data": {"hostname": "life-1"}})
    d = p.diff(uuid, outs, want2)
    assert d.changes is True and not d.replaces
    outs2 = o(p.update(uuid, outs, want2))
    live = c.node.get(uuid)
    assert live.provision_state == "active" and live.properties["cpus"] == 16
    assert live.instance_info["boot_iso"] == "http://iso/xcp-ng.iso"
    assert sorted(pt.address for pt in c.port.list(node=uuid)) == [mac(1), mac(2)]

    # update again: no change
    read2: Any = p.read(uuid, outs2)
    assert p.diff(uuid, read2.outs, want2).changes is False

    # now deployed: a new resource class is a replace, known at preview
    d = p.diff(uuid, read2.outs, {**want2, "resource_class": "storage"})
    assert d.replaces == ["resource_class"] and d.delete_before_replace is True

    # refresh after an out-of-band change: undeployed and properties edited behind our back
    c.node.update(uuid, [{"op": "replace", "path": "/properties/cpus", "value": 4}])
    c.node.set_provision_state(uuid, "deleted")
    drifted: Any = p.read(uuid, outs2)
    assert drifted.outs["properties"]["cpus"] == 4
    assert drifted.outs["target_state"] in ("available", "active")  # heading back or arrived
    assert p.diff(uuid, drifted.outs, want2).changes is True
    outs3 = o(p.update(uuid, drifted.outs, want2))
    assert outs3["provision_state"] == "active" and c.node.get(uuid).properties["cpus"] == 16

    # delete: undeploy, wait, delete; delete again is fine
    p.delete(uuid, outs3)
    assert [n for n in c.node.list() if n.name == "life-1"] == []
    p.delete(uuid, outs3)
    assert (p.read(uuid, outs3).id or "") == ""


def test_driver_change_in_place_while_not_deployed(ironic_endpoint: str) -> None:
    p = node_provider(ironic_endpoint)
    want = props("life-2", target_state="manageable", resource_class="a")
    outs = o(p.create(want))
    new = props("life-2", target_state="manageable", resource_class="b", interfaces={"boot": "fake"})
    d = p.diff("x", outs, new)
    assert d.changes and not d.replaces
    outs2 = o(p.update(outs["uuid"], outs, new))
    assert client(ironic_endpoint).node.get(outs["uuid"]).resource_class == "b"
    p.delete(outs["uuid"], outs2)


def test_bad_input_reaches_ironic_words(ironic_endpoint: str) -> None:
    p = node_provider(ironic_endpoint)
    with pytest.raises(Permanent, match=r"life-3.*create node.*HTTP 400"):
        p.create(props("life-3", driver="no-such-driver"))
    # a MAC already used by another node: the node just created is undone (transactional)
    a: Any = p.create(props("life-4", ports=[mac(40)]))
    with pytest.raises(Permanent, match=r"create port.*HTTP 409"):
        p.create(props("life-5", ports=[mac(40)]))
    assert [n for n in client(ironic_endpoint).node.list() if n.name == "life-5"] == []
    p.delete(a.id, a.outs)


def test_adopts_node_left_by_earlier_run(ironic_endpoint: str) -> None:
    c = client(ironic_endpoint)
    left = c.node.create(name="life-6", driver="fake-hardware", driver_info={"ipmi_password": "old"})
    c.node.set_provision_state(left.uuid, "manage")
    p = node_provider(ironic_endpoint)
    outs = o(p.create(props("life-6", target_state="available")))
    assert outs["uuid"] == left.uuid and outs["provision_state"] == "available"
    assert c.node.get(left.uuid).properties["cpus"] == 8
    p.delete(left.uuid, outs)


def test_node_to_deploy_is_enrolled_whole_or_adopted(ironic_endpoint: str) -> None:
    """A node to deploy is enrolled with its instance_info in the create; a second create of the
    name (a re-run after a lost answer) adopts it instead of failing on Ironic's 409."""
    c = client(ironic_endpoint)
    p = node_provider(ironic_endpoint)
    want = props("life-7", target_state="active", wait=False, instance_info={"image_source": "http://img/a.qcow2"})
    first = o(p.create(want))
    assert first["walk"] and c.node.get(first["uuid"]).instance_info["image_source"] == "http://img/a.qcow2"
    again = o(p.create(want))
    assert again["uuid"] == first["uuid"] and [n.name for n in c.node.list() if n.name == "life-7"] == ["life-7"]
    p.delete(first["uuid"], again)


def test_failed_deploy_is_reported_and_resumed(slow_ironic: Callable[..., dict[str, Any]]) -> None:
    """A deploy outliving its deadline times out naming the phase; a conductor restart fails the
    deploy (Ironic's own `deploy failed` with last_error); the next create adopts and resumes."""
    endpoint = str(slow_ironic(deploy_delay="30")["endpoint"])
    p = node_provider(endpoint)
    want = props("fail-1", target_state="active", instance_info={"image_source": "http://img/a.qcow2"},
                 timeouts={**FAST, "deploy": 1})
    with pytest.raises(Timeout, match=r"deploy of node fail-1 \(timeouts.deploy\).*deploying"):
        p.create(want)
    uuid = client(endpoint).node.get("fail-1").uuid
    slow_ironic(deploy_delay="0", fresh=False)  # the conductor restarts: the deploy fails
    node = client(endpoint).node.get(uuid)
    assert node.provision_state == "deploy failed" and "can't be resumed" in node.last_error
    # refresh shows it as drift; the next `up` (create again: adopt) resumes from the failed state
    assert o(p.read(uuid, {**want, "uuid": uuid}))["target_state"] == "deploy failed"
    outs = o(p.create(props("fail-1", target_state="active", instance_info={"image_source": "http://img/a.qcow2"},
                            timeouts=FAST)))
    assert outs["uuid"] == uuid and outs["provision_state"] == "active"


def test_fleet_deploys_many_and_reports_every_failure(slow_ironic: Callable[..., dict[str, Any]]) -> None:
    endpoint = str(slow_ironic(deploy_delay="3")["endpoint"])
    p, f = node_provider(endpoint), fleet_provider(endpoint)
    members = []
    for i in range(6):
        outs = o(p.create(props(f"fleet-{i}", ports=[mac(100 + i)], target_state="active", wait=False,
                                instance_info={"image_source": "http://img/a.qcow2"})))
        assert outs["walk"], "a walk was started and left to the fleet"
        members.append({"id": outs["uuid"], "name": outs["name"], "target": "active", "timeouts": FAST,
                        "walk": outs["walk"]})
    fleet_props = dict(f.check({}, {"members": members}).inputs)
    res: Any = f.create(fleet_props)
    assert set(res.outs["states"].values()) == {"active"}
    # a node undeployed out of band: the fleet's read shows it
    c = client(endpoint)
    c.node.set_provision_state(members[0]["id"], "deleted")
    assert o(f.read(res.id, res.outs))["states"]["fleet-0"] in ("deleting", "cleaning", "available")

    # failure: three nodes deploy, the conductor restarts under them: every failure is named
    endpoint_members = members[:3]
    for m in members[1:3]:
        c.node.set_provision_state(m["id"], "deleted")
    props3 = dict(f.check({}, {"members": endpoint_members}).inputs)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            f.update(res.id, res.outs, props3)
        except BaseException as e:  # handed to the test thread
            errors.append(e)

    slow_ironic(deploy_delay="20", fresh=False)
    t = threading.Thread(target=run)
    t.start()
    time.sleep(3)  # the fleet has started the deploys; now the conductor restarts under them
    slow_ironic(deploy_delay="0", fresh=False)
    t.join(timeout=120)
    assert errors and isinstance(errors[0], Permanent)
    message = str(errors[0])
    assert "3 of 3 nodes failed" in message
    for i in range(3):
        assert f"fleet-{i}" in message
    assert "deploy failed" in message and "can't be resumed" in message
    # the next run resumes them all
    assert set(o(f.update(res.id, res.outs, props3))["states"].values()) == {"active"}


def test_power_and_maintenance_are_kept(ironic_endpoint: str) -> None:
    """A deployed node powered off by hand, or put in maintenance, is drift: read shows it, update repairs it."""
    p = node_provider(ironic_endpoint)
    c = client(ironic_endpoint)
    want = props("power-1", ports=[mac(40)], target_state="active", power="on", maintenance=False,
                 instance_info={"boot_iso": "http://iso/xcp-ng.iso"})
    created: Any = p.create(want)
    uuid, outs = created.id, created.outs
    assert c.node.get(uuid).power_state == "power on"
    assert p.diff(uuid, o(p.read(uuid, outs)), want).changes is False
    try:
        c.node.set_power_state(uuid, "off")
        c.node.set_maintenance(uuid, "true", maint_reason="operator")
        for _ in range(100):  # the conductor applies the power change asynchronously
            node = c.node.get(uuid)
            if node.power_state == "power off" and not node.target_power_state:
                break
            time.sleep(0.1)
        drifted: Any = p.read(uuid, outs)
        assert (drifted.outs["power"], drifted.outs["maintenance"]) == ("off", True)
        assert drifted.inputs["power"] == "off" and drifted.inputs["maintenance"] is True
        assert p.diff(uuid, drifted.outs, want).changes is True
        repaired = o(p.update(uuid, drifted.outs, want))
        live = c.node.get(uuid)
        assert (live.power_state, live.maintenance, repaired["power_state"]) == ("power on", False, "power on")
        assert p.diff(uuid, o(p.read(uuid, repaired)), want).changes is False
    finally:
        p.delete(uuid, outs)

    # Unset: not managed, a powered-off node is recorded but is no drift.
    assert "power" not in props("power-2") and "maintenance" not in props("power-2")


def test_api_version_is_negotiated_once_per_process(ironic_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients of two threads (as a refresh reads in), both made before either asked Ironic
    anything: the first request negotiates the version (GET /v1); the other thread's client is
    then made again asking for that version, without negotiating again. Both bound every request
    by the timeout."""
    from providers.ironic import _api

    monkeypatch.setattr(_api, "_negotiating", {})
    monkeypatch.setattr(_api, "_versions", {})
    paths: list[str] = []
    made: dict[str, Any] = {}
    steps = {n: threading.Event() for n in ("first made", "second made", "first asked")}

    def ask(c: Any) -> None:
        hooks = c.http_client.session.session.hooks["response"]
        if not hooks:
            hooks.append(lambda r, **_: paths.append(r.request.path_url.split("?")[0]))
        c.node.list(limit=1)

    def thread(name: str, before: str, after: str) -> None:
        if before:
            assert steps[before].wait(60)
        made[f"{name} before"] = client(ironic_endpoint, 5.0)
        steps[f"{name} made"].set()
        assert steps[after].wait(60)
        made[name] = client(ironic_endpoint, 5.0)
        ask(made[name])
        steps.setdefault(f"{name} asked", threading.Event()).set()

    threads = [threading.Thread(target=thread, args=("first", "", "second made")),
               threading.Thread(target=thread, args=("second", "first made", "first asked"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert paths == ["/v1", "/v1/nodes/", "/v1/nodes/"]
    first, second = made["first"], made["second"]
    assert first is made["first before"] and first.is_api_version_negotiated
    assert second is not made["second before"] and not second.is_api_version_negotiated
    assert second.current_api_version == first.current_api_version != "latest"
    assert client(ironic_endpoint, 5.0) is not first  # this thread's own
    assert second.http_client.session.timeout == first.http_client.session.timeout == 5.0


CONCURRENT_FIRST_REQUESTS = """
import sys, threading, time


class Without:  # a Python built without gdbm and ndbm, as some are: their imports fail after a search
    def find_spec(self, name, path, target=None):
        if name in ("_gdbm", "_dbm"):
            time.sleep(0.2)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Without())
from providers.ironic._api import client

endpoint, errors = sys.argv[1], []
start = threading.Barrier(4)

def first_request():
    try:
        c = client(endpoint, 30.0)
        start.wait(30)
        c.node.list(limit=1)
    except Exception as e:
        errors.append(repr(e))

threads = [threading.Thread(target=first_request) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
print(errors)
"""


def test_threads_first_requests_at_once_in_a_fresh_process(ironic_endpoint: str, tmp_path: Path) -> None:
    """Four threads of a new provider process, each with its first client, ask Ironic at once, as
    a deploy's first nodes do; each negotiates and python-ironicclient saves the version in its
    dbm file cache. On a Python without gdbm and ndbm (simulated here), `dbm.open`'s first calls
    raced in CPython's import of the missing modules ("module 'dbm.gnu' has no attribute 'open'")
    until the provider let `dbm` choose its module once, in one thread, before the first client."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", CONCURRENT_FIRST_REQUESTS, ironic_endpoint], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert (tmp_path / "python-ironicclient").is_dir()
