"""Stack state in the region's own RGW: Pulumi's DIY backend on an S3 bucket of the lab's real Ceph.

`s3://<bucket>?endpoint=...&s3ForcePathStyle=true` as README "State and secrets" describes it:
a whole lifecycle with the state in RGW, and two concurrent `up`s on one stack, where the second
is refused by the backend's lock and the first completes with nothing lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import ceph
from providers.ceph._rgw import s3_client
from tests.enginekit import EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.ceph, pytest.mark.slow]

BUCKET = "pulumi-state"


@pytest.fixture(scope="module")
def rgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A lab Ceph cluster whose RGW has the state bucket."""
    reason = ceph.unavailable_reason()
    if reason:
        print(f"\n*** SKIPPING the RGW state tests: {reason} ***", file=sys.stderr)
        pytest.skip(f"this machine cannot run the Ceph lab: {reason}")
    state_dir = tmp_path_factory.mktemp("ceph-state-lab")
    try:
        info = ceph.start(state_dir)
        s3_client(info["rgw_url"], info["rgw_access_key"], info["rgw_secret_key"]).create_bucket(Bucket=BUCKET)
        yield info
    finally:
        ceph.stop(state_dir)


def backend_env(info: dict[str, Any]) -> dict[str, str]:
    """The DIY backend in RGW: path-style addressing, RGW's keys as AWS credentials.

    Ceph 16's RGW predates the AWS SDK's default checksums: without the two checksum settings the
    state is written all the same, with a "Response has no supported checksum" warning each time.
    """
    url = (
        f"s3://{BUCKET}?endpoint={info['rgw_url']}&s3ForcePathStyle=true&region=us-east-1"
        "&request_checksum_calculation=when_required&response_checksum_validation=when_required"
    )
    return {
        "PULUMI_BACKEND_URL": url,
        "AWS_ACCESS_KEY_ID": info["rgw_access_key"],
        "AWS_SECRET_ACCESS_KEY": info["rgw_secret_key"],
    }


def objects(info: dict[str, Any], prefix: str) -> list[str]:
    """Keys under `prefix` in the state bucket, read with S3 directly (not through Pulumi)."""
    s3 = s3_client(info["rgw_url"], info["rgw_access_key"], info["rgw_secret_key"])
    return [str(o["Key"]) for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


PROGRAM = """
import pulumi
from tests.engine.smoke_provider import Greeting

cfg = pulumi.Config()
g = Greeting("hello", cfg.require("text"), 1)
pulumi.export("shout", g.shout)
"""


def test_lifecycle_with_state_in_rgw(tmp_path: Path, engine_bin: Path, rgw: dict[str, Any]) -> None:
    stack = EngineStack.create(
        tmp_path, engine_bin, program=PROGRAM, project="rgwstate", config={"text": "hi"},
        extra_env=backend_env(rgw),
    )
    assert stack.preview().changes == {"create": 2}
    assert stack.up().changes == {"create": 2}
    assert stack.outputs() == {"shout": "HI"}
    # The checkpoint is an object in the region's bucket.
    assert "test.json" in {k.rsplit("/", 1)[-1] for k in objects(rgw, ".pulumi/stacks/rgwstate/")}

    assert stack.refresh().changes == {}
    stack.set_config("text", "bye")
    assert stack.preview().ops_by_name()["hello"] == "update"
    assert stack.up().changes == {"update": 1}
    assert stack.outputs() == {"shout": "BYE"}
    assert stack.destroy().changes == {"delete": 2}
    assert stack.resources() == {}


GATED = """
import pulumi
from gate import Gated

Gated("slow", pulumi.Config().require("gate"))
"""

GATE = '''
import os
import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class GateProvider(ResourceProvider):
    """create() says it started, then waits until the test opens the gate (bounded)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        gate = props["gate"]
        open(gate + ".entered", "w").close()
        deadline = time.monotonic() + 600
        while not os.path.exists(gate + ".open"):
            if time.monotonic() > deadline:
                raise RuntimeError("the test never opened " + gate)
            time.sleep(0.1)
        return CreateResult("gated", {"gate": gate})


class Gated(Resource, module="test", name="Gated"):
    def __init__(self, name: str, gate: str) -> None:
        super().__init__(GateProvider(), name, {"gate": gate})
'''


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the first up ended before its resource started: {proc.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout} s")
        time.sleep(0.1)


def test_concurrent_ups_the_second_is_refused(tmp_path: Path, engine_bin: Path, rgw: dict[str, Any]) -> None:
    gate = tmp_path / "gate"
    stack = EngineStack.create(
        tmp_path, engine_bin, program=GATED, modules={"gate": GATE}, project="rgwlock",
        config={"gate": str(gate)}, extra_env=backend_env(rgw),
    )
    env = {**os.environ, **stack.env}
    first = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack.name],
        cwd=stack.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for(gate.with_suffix(".entered"), first)
        # The first update holds the stack's lock in the bucket while its resource is being created.
        assert [k for k in objects(rgw, ".pulumi/locks/") if "/rgwlock/" in k]
        second = stack.run("up", "--skip-preview")
        assert second.returncode != 0
        assert "the stack is currently locked by 1 lock(s)" in second.stdout + second.stderr
    finally:
        (gate.with_suffix(".open")).touch()
        out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out

    # Nothing lost: the first update's resource is in state, no operation is left pending, the
    # lock is gone and the next `up` has nothing to do.
    deployment = stack.export()["deployment"]
    assert "slow" in stack.resources()
    assert not deployment.get("pending_operations")
    assert not [k for k in objects(rgw, ".pulumi/locks/") if "/rgwlock/" in k]
    assert stack.up().changes == {}
    assert stack.destroy().changes == {"delete": 2}


def test_moving_a_stack_into_rgw(tmp_path: Path, engine_bin: Path, rgw: dict[str, Any]) -> None:
    """README's move: `stack export` from the file backend, `stack init` + `stack import` in RGW."""
    program = PROGRAM + 'pulumi.export("token", pulumi.Config().require_secret("token"))\n'
    stack = EngineStack.create(
        tmp_path, engine_bin, program=program, project="rgwmove", config={"text": "moved"},
        secrets={"token": "t0ken-value"},
    )
    assert stack.up().changes == {"create": 2}
    exported = tmp_path / "state.json"
    stack.run("stack", "export", "--stack", stack.name, "--file", str(exported)).check()

    stack.env.update(backend_env(rgw))
    stack.run("stack", "init", stack.name).check()  # keeps the stack file's encryptionsalt
    stack.run("stack", "import", "--stack", stack.name, "--file", str(exported)).check()

    assert "hello" in stack.resources()
    assert stack.outputs(show_secrets=True) == {"shout": "MOVED", "token": "t0ken-value"}
    assert stack.preview().changes == {}
    assert stack.destroy().changes == {"delete": 2}
