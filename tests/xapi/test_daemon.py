"""The lab CLI's piece: `start` runs the emulator as a daemon on fixed ports, `stop` ends it by PID."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import XenAPI

import lab.xapi
from lab import procs
from lab.xapi.conformance import check_calls


def test_start_and_stop_the_daemon(tmp_path: Path) -> None:
    base = procs.free_ports(2)
    lab.xapi.install()
    info = lab.xapi.start(tmp_path, hosts=["xcp-01", "xcp-02"], base_port=base, password="lab-pw")
    try:
        assert [h["name"] for h in info["hosts"]] == ["xcp-01", "xcp-02"]
        assert [h["address"] for h in info["hosts"]] == [f"127.0.0.1:{base}", f"127.0.0.1:{base + 1}"]
        first, second = info["hosts"]
        assert first["url"] == f"http://127.0.0.1:{base}/" and first["username"] == "root"
        s = XenAPI.Session(second["url"])
        s.xenapi.login_with_password(second["username"], second["password"])
        s.xenapi.pool.join(first["address"], "root", "lab-pw")
        m = XenAPI.Session(first["url"])
        m.xenapi.login_with_password("root", "lab-pw")
        assert len(m.xenapi.host.get_all()) == 2
        m.xenapi.session.logout()
        pid = procs.pid_of("xapi", tmp_path)
        assert pid is not None and procs.alive(pid)
        calls = lab.xapi.read_log(tmp_path / lab.xapi.REQUEST_LOG)
        assert [c.method for c in calls] == [
            "session.login_with_password", "pool.join", "session.login_with_password", "host.get_all",
            "session.logout"]
        assert calls[1].params["master_password"] == "******"
        assert check_calls(calls) == []
    finally:
        lab.xapi.stop(tmp_path)
    assert procs.pid_of("xapi", tmp_path) is None and not procs.alive(pid)


def test_serve_cli_task_policy(tmp_path: Path) -> None:
    """`--task-policy METHOD=SECONDS/POLLS` keeps the daemon's tasks pending for that many polls."""
    out = tmp_path / "hosts.json"
    argv = [sys.executable, "-m", "lab.xapi", "serve", "--hosts", "a", "--password", "pw", "--write", str(out),
            "--task-policy", "network.create=0/2"]
    procs.start("xapi-cli", argv, tmp_path, cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 20
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        url = json.loads(out.read_text())["hosts"][0]["url"]
        s = XenAPI.Session(url)
        s.xenapi.login_with_password("root", "pw")
        t = s.xenapi.Async.network.create({"name_label": "n", "name_description": "", "MTU": "1500",
                                           "other_config": {}})
        assert [s.xenapi.task.get_status(t) for _ in range(3)] == ["pending", "success", "success"]
    finally:
        procs.stop("xapi-cli", tmp_path)
    assert subprocess.run([sys.executable, "-m", "lab.xapi", "check"], capture_output=True,
                          cwd=Path(__file__).resolve().parents[2]).returncode == 0
