"""Pulumi's own toolchain as engine/setup provides it: the upstream Python language host, which
`pulumi about` reports with the program's plugins and dependencies, and the `command` plugin that
pulumi_command needs, running local commands and remote ones over SSH."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.engine.sshd import Sshd, unavailable_reason
from tests.enginekit import REPO, EngineStack

pytestmark = pytest.mark.engine

COMMAND_VERSION = version("pulumi-command")
ENGINE_VERSION = (REPO / "engine" / "VERSION").read_text().strip()


def test_about_lists_host_plugin_and_dependencies(tmp_path: Path, engine_bin: Path) -> None:
    stack = EngineStack.create(
        tmp_path, engine_bin, program="import pulumi_command\n"
    )
    res = stack.run("about", "--json")
    assert res.returncode == 0, res.stderr
    about = json.loads(res.stdout)
    assert about["errors"] is None or about["errors"] == [], about["errors"]
    assert about["cliAbout"]["version"].lstrip("v") == ENGINE_VERSION.lstrip("v")
    assert about["runtime"]["language"] == "python"
    plugins = {(p["kind"], p["name"]): p["version"] for p in about["plugins"]}
    # The language host is upstream's, at the engine's version; the command plugin is the one
    # engine/setup built and installed, at the pinned package's version.
    assert plugins[("language", "python")] == ENGINE_VERSION.lstrip("v")
    assert plugins[("resource", "command")] == COMMAND_VERSION
    # The program's top-level dependencies (what the virtualenv has that nothing else requires).
    deps = {d["name"].lower(): d["version"] for d in about["dependencies"]}
    for name in ("pulumi-command", "pulumi-policy", "pydantic", "python-ironicclient", "xenapi", "cs"):
        assert deps[name] == version(name), (name, deps)


LOCAL = """
import pulumi
from pulumi_command import local

cfg = pulumi.Config()
c = local.Command(
    "greet",
    create="echo hello-$WHO",
    update="echo again-$WHO",
    delete=f"echo deleted > {cfg.require('marker')}",
    environment={"WHO": cfg.require("who")},
)
pulumi.export("stdout", c.stdout)
"""


def test_local_command(tmp_path: Path, engine_bin: Path) -> None:
    marker = tmp_path / "deleted"
    stack = EngineStack.create(
        tmp_path, engine_bin, program=LOCAL, config={"who": "world", "marker": str(marker)}
    )
    up = stack.up()
    assert up.changes == {"create": 2}
    # The plugin was found in the plugin cache, not on PATH (no "using ... from $PATH" warning).
    assert not [w for w in up.diagnostics("warning") if "from $PATH" in w]
    assert stack.outputs() == {"stdout": "hello-world"}
    assert stack.up().changes == {}

    stack.set_config("who", "ops")
    assert stack.up().changes == {"update": 1}
    assert stack.outputs() == {"stdout": "again-ops"}

    assert not marker.exists()
    assert stack.destroy().changes == {"delete": 2}
    assert marker.read_text() == "deleted\n"


REMOTE = """
import pulumi
from pulumi_command import remote

cfg = pulumi.Config()
conn = remote.ConnectionArgs(
    host="127.0.0.1",
    port=cfg.require_int("port"),
    user=cfg.require("user"),
    private_key=cfg.require_secret("key"),
)
c = remote.Command(
    "probe",
    connection=conn,
    create="echo remote-$((6 * 7)) $SSH_CONNECTION",
    delete=f"echo deleted-over-ssh > {cfg.require('marker')}",
)
pulumi.export("stdout", c.stdout)
"""


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"NO SSHD: remote.Command is untested here: {reason}")
    with Sshd.start(tmp_path / "sshd") as server:
        yield server


def test_remote_command_over_ssh(tmp_path: Path, engine_bin: Path, sshd: Sshd) -> None:
    marker = tmp_path / "remote-deleted"
    stack = EngineStack.create(
        tmp_path / "stack", engine_bin, program=REMOTE,
        config={"port": str(sshd.port), "user": sshd.user, "marker": str(marker)},
        secrets={"key": sshd.private_key},
    )
    assert stack.up().changes == {"create": 2}
    out = stack.outputs()["stdout"]
    # The command ran through the sshd: SSH_CONNECTION names its address and port.
    assert out.startswith("remote-42 127.0.0.1 ") and out.endswith(f" 127.0.0.1 {sshd.port}"), out
    # The private key stays encrypted in state.
    key_line = sshd.private_key.strip().splitlines()[1]
    assert key_line not in json.dumps(stack.export())

    assert stack.destroy().changes == {"delete": 2}
    assert marker.read_text() == "deleted-over-ssh\n"


def test_setup_says_what_is_missing(tmp_path: Path) -> None:
    """No pulumi on PATH, no cached engine, no vendored trees, no Go: engine/setup names each one
    and how to get the engine instead, and builds nothing."""
    proc = subprocess.run(
        [str(REPO / "engine" / "setup")],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PRIVATECLOUD_CACHE": str(tmp_path / "cache"),
             "PRIVATECLOUD_VENDOR": str(tmp_path / "no-vendor")},
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    err = proc.stderr
    assert f"a pulumi {ENGINE_VERSION} on PATH with pulumi-language-python" in err
    assert f"the vendored tree {tmp_path}/no-vendor/pulumi-language-python (needs COMMIT and main.go" in err
    assert "Go >= 1.25 on PATH, to build it" in err
    assert f"sh -s -- --version {ENGINE_VERSION.lstrip('v')}" in err
    assert f"pulumi plugin install resource command {COMMAND_VERSION}" in err
    assert "set PRIVATECLOUD_VENDOR to a directory holding pulumi-language-python/ and pulumi-command/" in err
