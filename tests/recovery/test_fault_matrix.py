"""The fault matrix through the real engine: a backend misbehaves mid-`up`, then behaves again.

Each cell injects one fault into one CloudStack command of a small zone (the emulator runs in this
test process, so its fault switches are at hand; the engine's provider process reaches it over
HTTP). The `up` that meets the fault must fail naming the resource and carrying CloudStack's own
words (a timed-out answer has no words: the resource is named); the next `up`, the fault gone,
must converge: every object exactly once (no twins), no pending operations, and a preview that
plans nothing.

Cells: an error answer (530, CloudStack's 5xx), an answer that comes after the client's timeout
(the command did run: the provider may look it up and finish, which is a pass), a dropped
connection, a failed async job, and a conflict (431: the object is in a state that refuses the
call, as CloudStack answers a concurrent change). XAPI cells: an error answer, a failed task, a
conflict (OTHER_OPERATION_IN_PROGRESS), a dropped connection, an answer after the client's timeout.
Ironic cells, through a proxy the test owns in front of a real Ironic: an internal error (500), a
dropped connection, a conflict (409 NodeLocked). Ceph cells, through proxies in front of the lab's
dashboard and RGW: an internal error, a dropped connection, a late answer, RGW unreachable.
Backends restarted mid-up: Ironic's conductor and API (same database), the CloudStack management
server while an async job runs (the job fails as CloudStack's startup cleanup fails it) and an
XCP-ng master's toolstack while two tasks run (its sessions and tasks are gone, its database
stays): `lab.cloudstack.CloudStackLab.restart`, `lab.xapi.XapiLab.restart`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests.cloudstack.conftest import XAPI_PASSWORD
from tests.cloudstack.test_engine import REGION
from tests.enginekit import EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.slow]

HTTP_TIMEOUT = 2

CELLS: dict[str, tuple[str, str, Callable[[Any], object]]] = {
    # cell: (resource, CloudStack's words expected in the error, inject)
    "5xx-createPod": ("pod", "pod store unavailable",
                      lambda lab: lab.faults.error("createPod", "pod store unavailable", 530, times=None)),
    "timeout-createPod": ("pod", "",
                          lambda lab: lab.faults.latency(HTTP_TIMEOUT * 3, "createPod", times=1)),
    "dropped-addCluster": ("cluster", "",
                           lambda lab: lab.faults.drop("addCluster", times=None)),
    "failed-job-addTrafficType": ("physnet", "traffic label not found on the hosts",
                                  lambda lab: lab.faults.fail_job("addTrafficType",
                                                                  "traffic label not found on the hosts",
                                                                  times=None)),
    "conflict-updateZone": ("enabled", "zone is being modified by another operation",
                            lambda lab: lab.faults.error("updateZone", "zone is being modified by another operation",
                                                         431, times=None)),
}


def held(raw: CloudStack) -> dict[str, Counter[str]]:
    out = {}
    for kind, call in [("zones", "listZones"), ("pods", "listPods"), ("clusters", "listClusters"),
                       ("physnets", "listPhysicalNetworks"), ("primary", "listStoragePools"),
                       ("imagestores", "listImageStores"), ("staging", "listSecondaryStagingStores")]:
        out[kind] = Counter(o.get("name") or o.get("url") for o in getattr(raw, call)(fetch_list=True))
    return out


def cloudstack_stack(tmp_path: Path, engine_bin: Path, cs_lab: Any, xapi_lab: Any) -> EngineStack:
    """The small zone's program (tests/cloudstack/test_engine.py) on the emulators."""
    config = {"cloudstack": json.dumps({"endpoint": cs_lab.endpoint, "apiKey": cs_lab.api_key,
                                        "secretKey": cs_lab.secret_key, "pollInterval": 0.01, "jobTimeout": 120,
                                        "retryTimeout": 5, "httpTimeout": HTTP_TIMEOUT}),
              "xapi": json.dumps({"url": xapi_lab.hosts[0].url, "password": XAPI_PASSWORD}),
              "s3": json.dumps({"accessKey": "RGWACCESS", "secretKey": "rgw-secret-key-0001"})}
    return EngineStack.create(tmp_path, engine_bin, program=REGION, secrets=config,
                              config={"dns1": "8.8.8.8", "vlan": "100-199", "clusterName": "pool-1",
                                      "stagingUrl": "nfs://10.0.0.5/staging"})


def converged_cloudstack(st: EngineStack, raw: CloudStack) -> None:
    """The next up converges: every object once, no pending operations, a preview with no changes."""
    up_converges(st)
    objects = held(raw)
    assert all(n == 1 for kind in objects.values() for n in kind.values()), objects
    assert (len(objects["zones"]), len(objects["pods"]), len(objects["clusters"]), len(objects["imagestores"])) \
        == (1, 1, 1, 1), objects
    zone = raw.listZones(fetch_list=True)[0]
    assert zone["allocationstate"] == "Enabled"


@pytest.mark.parametrize("cell", list(CELLS))
def test_cloudstack_fault_then_converge(cell: str, tmp_path: Path, engine_bin: Path, cs_lab: Any, xapi_lab: Any,
                                        raw: CloudStack) -> None:
    resource, words, inject = CELLS[cell]
    st = cloudstack_stack(tmp_path, engine_bin, cs_lab, xapi_lab)
    inject(cs_lab)
    faulted = st.run("up", "--skip-preview")
    # Only a timed-out answer may be followed by a successful up: the command ran, and the
    # provider looks it up again before trying once more.
    failed_naming(faulted, [resource], words, may_pass=cell.startswith("timeout"))
    cs_lab.faults.clear()
    converged_cloudstack(st, raw)
    print(f"\nfault cell {cell}: first up {'failed' if faulted.returncode else 'succeeded (retried safely)'}; "
          f"converged with one more up")


# XCP-ng: a pool of three hosts, a VLAN network and a shared SR (tests/xcpng/test_engine.py's program)
# on the XAPI emulator in this process.

XAPI_CELLS: dict[str, tuple[str, str, Callable[[Any], object]]] = {
    "error-pool.create_VLAN": ("public", "vlan store unavailable",
                               lambda lab: lab.faults.error("pool.create_VLAN", "INTERNAL_ERROR",
                                                            "vlan store unavailable", times=None)),
    "failed-task-pool.join": ("pool", "join refused by the master",
                              lambda lab: lab.faults.fail_task("pool.join", "INTERNAL_ERROR",
                                                               "join refused by the master", times=None)),
    "conflict-SR.create": ("sr", "OTHER_OPERATION_IN_PROGRESS",
                           lambda lab: lab.faults.error("SR.create", "OTHER_OPERATION_IN_PROGRESS", "pool",
                                                        "OpaqueRef:pool", "sr_create", "OpaqueRef:task",
                                                        times=None)),
    "dropped-SR.create": ("sr", "",
                          lambda lab: lab.faults.drop("SR.create", times=None)),
    # The answer comes after the client's timeout; the call did run (the provider may look it up
    # and finish, which is a pass).
    "timeout-SR.create": ("sr", "",
                          lambda lab: lab.faults.latency(HTTP_TIMEOUT * 3, "SR.create", times=1)),
}


@pytest.mark.parametrize("cell", list(XAPI_CELLS))
def test_xapi_fault_then_converge(cell: str, tmp_path: Path, engine_bin: Path) -> None:
    from lab.xapi import XapiLab
    from tests.xcpng.conftest import PASSWORD, Direct, addresses
    from tests.xcpng.test_engine import PROGRAM, SETTINGS

    resource, words, inject = XAPI_CELLS[cell]
    lab = XapiLab.start(hosts=("xcp-01", "xcp-02", "xcp-03"), password=PASSWORD)
    try:
        a = addresses(lab)
        st = EngineStack.create(
            tmp_path, engine_bin, program=PROGRAM,
            config={"xcpng": json.dumps({**SETTINGS, "httpTimeout": HTTP_TIMEOUT}), "master": a[0],
                    "hosts": json.dumps(a), "poolName": "pool-a", "vlan": "100"},
            secrets={"rootPassword": PASSWORD},
        )
        inject(lab)
        faulted = st.run("up", "--skip-preview")
        failed_naming(faulted, [resource], words, may_pass=cell.startswith("timeout"))
        lab.faults.clear()

        up_converges(st)
        with Direct(lab) as x:
            assert len(x.host.get_all()) == 3
            labels = Counter(x.network.get_name_label(n) for n in x.network.get_all())
            srs = Counter(x.SR.get_name_label(s) for s in x.SR.get_all())
            vlans = Counter(x.VLAN.get_tag(v) for v in x.VLAN.get_all())
        assert labels["cloud-public"] == 1 and srs["ceph-nfs"] == 1, (labels, srs)
        assert {str(t) for t in vlans} == {"100"} and sum(vlans.values()) == 3, vlans  # one per host, no twin
        print(f"\nfault cell xapi {cell}: first up {'failed' if faulted.returncode else 'succeeded (retried safely)'}; "
              "converged with one more up")
    finally:
        lab.stop()


# Ironic: its conductor and API restarted (same database, same port) while the engine deploys
# four nodes (tests/ironic/test_engine.py's program).


@pytest.mark.ironic
def test_ironic_restarted_mid_up_then_converge(tmp_path: Path, engine_bin: Path,
                                               slow_ironic: Callable[..., dict[str, Any]]) -> None:
    import os
    import subprocess
    import time

    from providers.ironic._api import client
    from tests.ironic.test_engine import PROGRAM as IRONIC_PROGRAM

    endpoint = str(slow_ironic(deploy_delay="3")["endpoint"])
    st = EngineStack.create(tmp_path, engine_bin, program=IRONIC_PROGRAM, config={"cpus": "8", "rc": "compute"},
                            secrets={"bmc": "s3cret", "ironic": json.dumps({"endpoint": endpoint})})
    c = client(endpoint)
    up = subprocess.Popen(["pulumi", "--non-interactive", "up", "--yes", "--skip-preview", "--json",
                           "--stack", st.name], cwd=st.workdir, env={**os.environ, **st.env},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while not any(n.provision_state in ("deploying", "wait call-back") for n in c.node.list()):
            assert up.poll() is None, "the up ended before any deploy started"
            time.sleep(0.2)
        slow_ironic(deploy_delay="3", fresh=False)  # restarted mid-deploy: same database, same port
        out, _ = up.communicate(timeout=900)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    first = "succeeded" if up.returncode == 0 else "failed"
    if up.returncode != 0:
        assert "ironic.Node" in out or "ironic.Fleet" in out, out[-3000:]

    up_converges(st)
    c = client(endpoint)
    nodes = Counter(n.name for n in c.node.list())
    assert nodes == Counter(["eng-solo", "eng-rack-0", "eng-rack-1", "eng-rack-2"]), nodes
    assert {n.provision_state for n in c.node.list()} == {"active"}
    print(f"\nfault cell ironic restarted mid-up: first up {first}; converged with one more up")


# Backends restarted mid-up: the CloudStack management server while an async job runs, and an
# XCP-ng master's toolstack while a task runs. Both keep their database and lose what they hold
# in memory (pending jobs fail as CloudStack's startup cleanup fails them; XAPI's sessions and
# pending tasks are gone), as a real restart does; the endpoint is closed meanwhile.


def up_in_background(st: EngineStack) -> tuple[threading.Thread, list[Any]]:
    """`pulumi up` in a thread of this process (the emulators answer from other threads)."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(st.run("up", "--skip-preview")), daemon=True)
    thread.start()
    return thread, done


def wait_until(what: str, ready: Callable[[], bool], thread: threading.Thread) -> None:
    while not ready():
        assert thread.is_alive(), f"the up ended before {what}"
        time.sleep(0.05)


def failed_resources(result: Any) -> list[str]:
    return [ev["resOpFailedEvent"]["metadata"]["urn"].rsplit("::", 1)[-1]
            for ev in result.events if "resOpFailedEvent" in ev]


def failed_naming(result: Any, resources: list[str], words: str = "", *, may_pass: bool = False) -> str:
    """The faulted up failed naming exactly `resources`, the backend's `words` in its errors (with
    `may_pass`, a timed-out answer's up may pass instead: the provider found what the call made).
    Its errors."""
    errors = "".join(result.diagnostics("error"))
    assert result.returncode != 0 or may_pass, f"the fault went unnoticed:\n{errors}"
    if result.returncode != 0:
        assert sorted(failed_resources(result)) == sorted(resources), errors
        assert words in errors, errors
    return errors


def up_converges(st: EngineStack) -> None:
    """The next up leaves nothing pending, and a preview after it has no changes."""
    st.up()
    assert st.export()["deployment"].get("pending_operations") in (None, [])
    assert st.preview().changes == {}


def test_cloudstack_restarted_mid_up_then_converge(tmp_path: Path, engine_bin: Path, cs_lab: Any, xapi_lab: Any,
                                                   raw: CloudStack) -> None:
    from lab.cloudstack import RESTART_WORDS

    st = cloudstack_stack(tmp_path, engine_bin, cs_lab, xapi_lab)
    cs_lab.jobs.hold()  # the physical network's job stays pending until the restart
    thread, done = up_in_background(st)
    try:
        wait_until("an async job started", lambda: bool(cs_lab.jobs.pending()), thread)
        cs_lab.restart()
    finally:
        cs_lab.jobs.release()
        thread.join(900)
    failed_naming(done[0], ["physnet"], RESTART_WORDS)
    converged_cloudstack(st, raw)
    print("\nfault cell cloudstack restarted mid-up: first up failed naming physnet; converged with one more up")


def test_xapi_restarted_mid_up_then_converge(tmp_path: Path, engine_bin: Path) -> None:
    from lab.xapi import XapiLab
    from tests.xcpng.conftest import PASSWORD, Direct, addresses
    from tests.xcpng.test_engine import PROGRAM, SETTINGS

    lab = XapiLab.start(hosts=("xcp-01", "xcp-02", "xcp-03"), password=PASSWORD)
    try:
        a = addresses(lab)
        st = EngineStack.create(
            tmp_path, engine_bin, program=PROGRAM,
            config={"xcpng": json.dumps(SETTINGS), "master": a[0], "hosts": json.dumps(a), "poolName": "pool-a",
                    "vlan": "100"},
            secrets={"rootPassword": PASSWORD},
        )
        # The network's and the SR's tasks (made in parallel once the pool is) stay pending until the restart.
        lab.clock.hold("pool.create_VLAN")
        lab.clock.hold("SR.create")

        def both_pending() -> bool:
            methods = [r.method for r in list(lab.world.pending.values())]
            return any(m.endswith("SR.create") for m in methods) and any(m.endswith("create_VLAN") for m in methods)

        thread, done = up_in_background(st)
        try:
            wait_until("the network's and the SR's tasks started", both_pending, thread)
            lab.restart("xcp-01")  # the pool master
        finally:
            lab.clock.reset()
            lab.clock.release()
            thread.join(900)
        errors = failed_naming(done[0], ["public", "sr"], "HANDLE_INVALID")
        assert errors.count("HANDLE_INVALID") >= 2, errors  # XAPI's words for the tasks the restart forgot

        up_converges(st)
        with Direct(lab) as x:
            assert len(x.host.get_all()) == 3
            srs = Counter(x.SR.get_name_label(s) for s in x.SR.get_all())
            labels = Counter(x.network.get_name_label(n) for n in x.network.get_all())
        assert srs["ceph-nfs"] == 1 and labels["cloud-public"] == 1, (srs, labels)
        print("\nfault cell xapi master restarted mid-up: first up failed naming public and sr; "
              "converged with one more up")
    finally:
        lab.stop()


# Ceph (the lab's real cluster), through proxies this test owns in front of the dashboard and RGW:
# the dashboard answering a pool create with an internal error (CherryPy's words for an unhandled
# exception, what the dashboard answers then), dropping its connection or answering after the
# client's timeout, and RGW unreachable.

INTERNAL_ERROR = (b'{"status": "500 Internal Server Error", "detail": "The server encountered an unexpected '
                  b'condition which prevented it from fulfilling the request.", "request_id": "fault-matrix"}')
CEPH_CELLS = {
    # cell: (resource, words expected in the error)
    "dashboard-5xx-pool-create": ("pool", "unexpected condition which prevented it from fulfilling the request"),
    "rgw-unreachable": ("user", "Connection refused"),
    "dashboard-dropped-pool-create": ("pool", "Remote end closed connection without response"),
    # The pool is made; the answer comes after the provider's fixed per-request timeout.
    "dashboard-timeout-pool-create": ("pool", "Read timed out"),
}


@pytest.mark.ceph
@pytest.mark.parametrize("cell", list(CEPH_CELLS))
def test_ceph_fault_then_converge(cell: str, tmp_path: Path, engine_bin: Path,
                                  recovery_lab: dict[str, Any]) -> None:
    import uuid

    import rgwadmin

    from lab import ceph
    from providers.ceph._http import TIMEOUT
    from tests.ceph.test_engine import PROGRAM as CEPH_PROGRAM
    from tests.recovery.proxy import Proxy

    resource, words = CEPH_CELLS[cell]
    c = recovery_lab["ceph"]
    dashboard, rgw = Proxy.started(c["dashboard_url"]), Proxy.started(c["rgw_url"])
    tag = uuid.uuid4().hex[:6]
    names = {"pool_name": f"fm-{tag}", "uid": f"fm-{tag}", "bucket": f"fm-bucket-{tag}"}
    settings = {"dashboardUrl": dashboard.url, "dashboardUser": c["dashboard_user"],
                "dashboardPassword": c["dashboard_password"], "rgwUrl": rgw.url,
                "rgwAccessKey": c["rgw_access_key"], "rgwSecretKey": c["rgw_secret_key"]}
    st = EngineStack.create(tmp_path, engine_bin, program=CEPH_PROGRAM,
                            config={**names, "quota": "100", "allow_delete": "true"},
                            secrets={"ceph": json.dumps(settings)})
    try:
        if cell == "dashboard-5xx-pool-create":
            dashboard.refuse("POST", "/api/pool", 500, INTERNAL_ERROR)
        elif cell == "dashboard-dropped-pool-create":
            dashboard.drop("POST", "/api/pool")
        elif cell == "dashboard-timeout-pool-create":
            dashboard.late("POST", "/api/pool", TIMEOUT + 5)
        else:
            rgw.stop()
        failed_naming(st.run("up", "--skip-preview"), [resource], words)
        dashboard.clear()
        if cell == "rgw-unreachable":
            rgw = rgw.start_again()

        up_converges(st)
        pools = ceph.cli(Path(recovery_lab["dirs"]["ceph"]), "osd", "pool", "ls").split()
        admin = rgwadmin.RGWAdmin(c["rgw_access_key"], c["rgw_secret_key"], c["rgw_url"].split("://", 1)[1],
                                  secure=False)
        assert pools.count(names["pool_name"]) == 1, pools
        assert admin.get_users().count(names["uid"]) == 1
        assert admin.get_buckets().count(names["bucket"]) == 1
        print(f"\nfault cell ceph {cell}: first up failed naming {resource}; converged with one more up")
    finally:
        st.run("destroy", "--skip-preview")
        dashboard.stop()
        rgw.stop()


# Ironic (a private real Ironic), through a proxy this test owns in front of its API: one node
# enrolled and made manageable. Ironic's error bodies: its `faultstring` inside `error_message`.

IRONIC_NODE = """
import pulumi
from providers import ironic

ironic.Node("solo", ironic.NodeArgs(name="fm-solo", driver="fake-hardware", ports=["52:54:00:fa:00:01"],
                                    target_state="manageable"))
"""


def ironic_error(status: int, words: str) -> tuple[int, bytes]:
    fault = json.dumps({"faultstring": words, "faultcode": "Server" if status >= 500 else "Client",
                        "debuginfo": None})
    return status, json.dumps({"error_message": fault}).encode()


LOCKED = ("Node fm-solo is locked by host ironic-conductor-1, please retry after the current operation is "
          "completed.")
RPC_TIMEOUT = "Timed out waiting for a reply to message ID 9f0c6a2e4b1d4c55a0e4d1f3c2b7a6e8"
IRONIC_HTTP_TIMEOUT = 2
IRONIC_CELLS: dict[str, tuple[str, str, str, tuple[int, bytes] | float | None]] = {
    # cell: (method, path, Ironic's words expected in the error, refusal; None drops the connection,
    # a number answers that many seconds late: after the provider's httpTimeout, the node made)
    "5xx-node-create": ("POST", "/v1/nodes", RPC_TIMEOUT, ironic_error(500, RPC_TIMEOUT)),
    "dropped-port-create": ("POST", "/v1/ports", "cannot reach Ironic", None),
    "conflict-locked-manage": ("PUT", "/v1/nodes/*/states/provision", LOCKED, ironic_error(409, LOCKED)),
    "timeout-node-create": ("POST", "/v1/nodes", "timed out", IRONIC_HTTP_TIMEOUT + 5.0),
}


@pytest.mark.ironic
@pytest.mark.parametrize("cell", list(IRONIC_CELLS))
def test_ironic_fault_then_converge(cell: str, tmp_path: Path, engine_bin: Path,
                                    slow_ironic: Callable[..., dict[str, Any]]) -> None:
    from providers.ironic._api import client
    from tests.recovery.proxy import Proxy

    method, path, words, refusal = IRONIC_CELLS[cell]
    endpoint = str(slow_ironic()["endpoint"])
    proxy = Proxy.started(endpoint)
    try:
        st = EngineStack.create(tmp_path, engine_bin, program=IRONIC_NODE,
                                secrets={"ironic": json.dumps({"endpoint": proxy.url,
                                                               "httpTimeout": IRONIC_HTTP_TIMEOUT})})
        if refusal is None:
            proxy.drop(method, path)
        elif isinstance(refusal, float):
            proxy.late(method, path, refusal)
        else:
            proxy.refuse(method, path, *refusal)
        failed_naming(st.run("up", "--skip-preview"), ["solo"], words)
        proxy.clear()

        up_converges(st)
        nodes = client(endpoint).node.list(detail=True)
        assert [(n.name, n.provision_state) for n in nodes] == [("fm-solo", "manageable")], nodes
        assert len(client(endpoint).port.list()) == 1
        print(f"\nfault cell ironic {cell}: first up failed naming solo; converged with one more up")
    finally:
        proxy.stop()
