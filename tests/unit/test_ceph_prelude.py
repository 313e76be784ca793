"""The Ceph scripts' shell helpers (`components.cephcluster.PRELUDE`), run by bash here.

Each script starts its own stand-in daemon (`sleep`), so that bash reaps it when it stops."""

from __future__ import annotations

import subprocess
from pathlib import Path

from components.cephcluster import PRELUDE

# The helpers make /run/ceph and /var/lib/ceph/log; where the test may not, that is no matter.
MKDIR = 'mkdir() { command mkdir "$@" 2>/dev/null || true; }\n'
DAEMON = 'sleep 300 >/dev/null 2>&1 & echo $! > "$PIDFILE"; pid=$!\n'


def bash(tmp_path: Path, script: str) -> list[str]:
    out = subprocess.run(["bash", "-c", MKDIR + PRELUDE + script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin", "PIDFILE": str(tmp_path / "d.pid")})
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "d.pid").exists()
    return out.stdout.split()


def test_stop_pidfile_stops_the_daemon_and_removes_its_file(tmp_path: Path) -> None:
    said = bash(tmp_path, DAEMON + 'running "$PIDFILE" && echo running; stop_pidfile "$PIDFILE"\n'
                'running "$PIDFILE" || echo stopped; kill -0 "$pid" 2>/dev/null || echo gone')
    assert said == ["running", "stopped", "gone"]


def test_stop_pidfile_when_the_daemon_exits_and_removes_its_file_meanwhile(tmp_path: Path) -> None:
    """A monitor that `ceph mon remove` took out of the map exits by itself, removing its pid file,
    while the delete script stops it: seen in a destroy ("cat: /run/ceph/ceph-mon.sto-c.pid: No
    such file or directory", and the script failed). Here the file goes right after the helpers'
    first read of it."""
    vanish = 'cat() { command cat "$@"; local rc=$?; rm -f "$PIDFILE"; return $rc; }\n'
    said = bash(tmp_path, DAEMON + vanish + 'stop_pidfile "$PIDFILE"; kill -0 "$pid" 2>/dev/null || echo gone')
    assert said == ["gone"]


def test_no_pidfile_is_nothing_to_stop(tmp_path: Path) -> None:
    said = bash(tmp_path, 'running "$PIDFILE" || echo none; stop_pidfile "$PIDFILE"; echo done')
    assert said == ["none", "done"]
