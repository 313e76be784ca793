"""The lab CLI's piece interface: start as a daemon on a fixed port with fixed keys, stop by PID."""

from __future__ import annotations

from pathlib import Path

import cs
import pytest

import lab.cloudstack as piece
from lab import procs
from lab.cloudstack import CloudStackLab


def test_start_serve_stop(tmp_path: Path) -> None:
    port = procs.free_port()
    info = piece.start(tmp_path, port=port, api_key="dev-key-1", secret_key="dev-secret-1")
    try:
        assert info == {"endpoint": f"http://127.0.0.1:{port}/client/api", "api_key": "dev-key-1",
                        "secret_key": "dev-secret-1"}
        client = cs.CloudStack(endpoint=info["endpoint"], key="dev-key-1", secret="dev-secret-1")
        assert client.createZone(name="z", networktype="Advanced", dns1="8.8.8.8",
                                 internaldns1="10.0.0.2")["zone"]["name"] == "z"
        pid = procs.pid_of("cloudstack", tmp_path)
        assert pid is not None and procs.alive(pid)
        assert "dev-secret-1" not in (tmp_path / "cloudstack.log").read_text()
    finally:
        piece.stop(tmp_path)
    assert procs.pid_of("cloudstack", tmp_path) is None
    piece.stop(tmp_path)  # stopping again is a no-op


def test_start_fails_loudly_when_the_port_is_taken(tmp_path: Path) -> None:
    other = CloudStackLab.start()  # someone else's server on the port
    try:
        with pytest.raises(RuntimeError, match="exited at start"):
            piece.start(tmp_path, port=other.server.port, api_key="k", secret_key="s", timeout=10)
    finally:
        other.stop()
        piece.stop(tmp_path)
