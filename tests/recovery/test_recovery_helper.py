"""engine/recovery.py on a file backend's lock directory: what it removes and what it leaves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.enginekit import REPO

SCRIPT = REPO / "engine" / "recovery.py"


def write_lock(state: Path, name: str, *, pid: int, host: str, when: datetime) -> Path:
    d = state / ".pulumi" / "locks" / "organization" / "privatecloud" / "dev"
    d.mkdir(parents=True, exist_ok=True)
    f = d / f"{name}.json"
    f.write_text(json.dumps({"pid": pid, "username": "root", "hostname": host,
                             "timestamp": when.isoformat().replace("+00:00", "Z")}))
    return f


def run(state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "stale-locks", "--stack", "dev"], capture_output=True,
                          text=True, env={**os.environ, "PULUMI_BACKEND_URL": f"file://{state}"}, check=False)


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_a_dead_process_lock_on_this_host_is_removed_and_reported(tmp_path: Path) -> None:
    pid = dead_pid()
    lock = write_lock(tmp_path, "a", pid=pid, host=socket.gethostname(), when=datetime.now(UTC))
    out = run(tmp_path)
    assert out.returncode == 0, out.stderr
    assert not lock.exists()
    assert f"removed the lock of stack dev left by root@{socket.gethostname()} (pid {pid})" in out.stderr
    assert f"process {pid} is not running" in out.stderr


def test_a_reused_pid_is_seen_by_its_start_time(tmp_path: Path) -> None:
    # The lock is dated an hour ago; the process now holding its PID started just now.
    child = subprocess.Popen(["sleep", "60"])
    try:
        lock = write_lock(tmp_path, "a", pid=child.pid, host=socket.gethostname(),
                          when=datetime.now(UTC) - timedelta(hours=1))
        out = run(tmp_path)
        assert out.returncode == 0, out.stderr
        assert not lock.exists()
        assert "after the lock" in out.stderr
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("where", ["live", "other-host"])
def test_a_lock_that_may_be_live_is_left_with_the_command_to_run(where: str, tmp_path: Path) -> None:
    if where == "live":
        lock = write_lock(tmp_path, "a", pid=os.getpid(), host=socket.gethostname(), when=datetime.now(UTC))
    else:
        lock = write_lock(tmp_path, "a", pid=dead_pid(), host="elsewhere.example", when=datetime.now(UTC))
    out = run(tmp_path)
    assert out.returncode == 1
    assert lock.exists()
    assert "`pulumi cancel --stack dev --yes`" in out.stderr


def test_an_unreadable_metadata_sidecar_is_removed(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "privatecloud"
    stacks.mkdir(parents=True)
    (stacks / "dev.json").write_text("{}")
    broken = stacks / "dev.json.attrs"
    broken.write_text("")
    good = stacks / "dev.json.bak.attrs"
    good.write_text('{"user.content_type": "application/octet-stream"}')
    out = run(tmp_path)
    assert out.returncode == 0, out.stderr
    assert not broken.exists() and good.exists()
    assert f"removed {broken}" in out.stderr
