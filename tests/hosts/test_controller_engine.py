"""The controller runs the management server: started by Ironic's deploy, stopped by its undeploy.

A lab host `ctl-a` (lab/hosts.py with `management_server_port`) runs the CloudStack management
server (the emulator) on its own loopback address once its Ironic node is `active`, as a fresh
install. Through the real engine: an `ironic.Node` deploys it and a `cloudstack.ManagementServer`
that depends on the node waits until the server answers, logs in with the install's password and
registers the program's keys; destroy undeploys the node and the server stops answering. A second
deploy is a fresh install again (admin / password, no API keys). Needs root (lab hosts); elsewhere
it skips, saying so.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from lab import hosts as lab_hosts
from lab import ironic as lab_ironic
from providers.cloudstack.management import login
from tests.enginekit import EngineStack
from tests.hosts.test_hosts import Ironic

pytestmark = [pytest.mark.engine, pytest.mark.ironic]

PORT = lab_hosts.MANAGEMENT_SERVER_PORT
WAIT = 60.0

PROGRAM = """
import pulumi
from providers import ironic
from providers.cloudstack.management import ManagementServer, ManagementServerArgs

cfg = pulumi.Config()
fast = {"manage": 60, "clean": 60, "deploy": 60, "undeploy": 60, "poll_interval": 0.2}
node = ironic.Node("ctl", ironic.NodeArgs(
    name="ctl-a", driver="fake-hardware", driver_info={"ipmi_password": cfg.require_secret("bmc")},
    ports=["52:54:00:ee:03:01"], target_state="active", instance_info={"image_source": "http://img/ctl.qcow2"},
    timeouts=fast))
ms = ManagementServer("management", ManagementServerArgs(
    endpoint=cfg.require("endpoint"), password=cfg.require_secret("adminPassword"), answer_timeout=60),
    pulumi.ResourceOptions(depends_on=[node]))
pulumi.export("endpoint", ms.endpoint)
pulumi.export("api_key", ms.api_key)
pulumi.export("secret_key", ms.secret_key)
"""


@pytest.fixture
def controller_lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    reason = lab_hosts.unavailable_reason()
    if reason:
        pytest.skip(f"CONTROLLER HOST TESTS SKIPPED: {reason}")
    info = lab_ironic.start(tmp_path / "ironic", deploy_delay="0")
    try:
        address = next(a for a in lab_hosts.free_addresses(20) if lab_hosts.address_free(a, PORT))
        lab_hosts.start(tmp_path / "hosts", hosts=[{"name": "ctl-a", "address": address,
                                                    "management_server_port": PORT}],
                        ironic=info["endpoint"], ironic_db=tmp_path / "ironic" / "ironic.sqlite", poll_interval=0.2)
        try:
            yield {"ironic": info["endpoint"], "address": address, "dir": tmp_path / "hosts"}
        finally:
            lab_hosts.stop(tmp_path / "hosts")
    finally:
        lab_ironic.stop(tmp_path / "ironic")


def answering(address: str) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((address, PORT)) == 0


def wait_until(what: str, probe: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT} s")
        time.sleep(0.1)


def admin_keys(endpoint: str, password: str) -> str | None:
    """The admin's API key as the management server has it (None: none), read in a login session."""
    session = login(endpoint, "admin", password, "test")
    users = session.call("listUsers", username="admin", listall="true")["user"]
    session.call("logout")
    key: str | None = users[0].get("apikey")
    return key


def test_deploy_starts_a_fresh_management_server_and_undeploy_stops_it(
    tmp_path: Path, engine_bin: Path, controller_lab: dict[str, Any]
) -> None:
    lab = controller_lab
    address = lab["address"]
    endpoint = f"http://{address}:{PORT}/client/api"
    # Enrolled nowhere, deployed nowhere: nothing answers on the controller's address.
    assert not answering(address)
    assert lab_hosts.status(lab["dir"], "ctl-a")["management_server_pid"] is None

    # One up: the node is deployed, and the management server's day 0 waits for it to answer,
    # logs in with the install's password and registers the program's keys.
    st = EngineStack.create(tmp_path / "engine", engine_bin, program=PROGRAM, config={"endpoint": endpoint},
                            secrets={"bmc": "bmc-s3cret", "adminPassword": "password",
                                     "ironic": json.dumps({"endpoint": lab["ironic"]})})
    assert st.up().changes == {"create": 3}
    out = st.outputs(show_secrets=True)
    assert out["endpoint"] == endpoint
    client = CloudStack(endpoint=endpoint, key=out["api_key"], secret=out["secret_key"])
    assert client.listCapabilities()["capability"]["cloudstackversion"].startswith("4.18")
    assert admin_keys(endpoint, "password") == out["api_key"]
    assert st.up().changes == {}

    # Destroy undeploys (and deletes) the node: the management server stops with the host.
    st.destroy()
    wait_until("the management server stopped", lambda: not answering(address))
    assert lab_hosts.status(lab["dir"], "ctl-a")["management_server_pid"] is None

    # Deployed again, the controller comes up as a fresh install: the initial password, no keys.
    ironic = Ironic(lab["ironic"])
    ironic.enroll("ctl-a")
    ironic.call("PUT", "/v1/nodes/ctl-a/states/provision", {"target": "active"})
    assert ironic.settle("ctl-a")["provision_state"] == "active"
    wait_until("the management server answering", lambda: answering(address))
    assert admin_keys(endpoint, "password") is None
    ironic.undeploy("ctl-a")
    wait_until("the management server stopped again", lambda: not answering(address))
