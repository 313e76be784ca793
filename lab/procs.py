"""Start and stop lab daemons by the PID recorded for them, never by name.

A daemon runs in its own session (`setsid`), so its PID is its process-group id and stopping
the group also stops the children it forked. The PID goes to `<state_dir>/<name>.pid`.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path


def _daemon_ports() -> range:
    """Where daemons that need their ports up front get them: below the kernel's ephemeral range
    (`ip_local_port_range`, 32768 and up by default), so no client connection can take one between
    the check and the daemon's bind, and above the dev lab's fixed ports (16385-19199)."""
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    return range(20000, max(ephemeral, 21000))  # an ephemeral range starting lower: the bind check alone


def free_ports(n: int = 1) -> int:
    """A base port with `n` ports from it on, all free on 127.0.0.1 a moment ago.

    For daemons that need their ports up front (sshd and the XAPI daemon take no port 0).
    """
    ports = _daemon_ports()
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(ports.start, ports.stop - n)
        with contextlib.ExitStack() as held:
            try:
                for port in range(base, base + n):
                    s = held.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise RuntimeError(f"no {n} consecutive free ports on 127.0.0.1 in {ports}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for daemons that need one up front)."""
    return free_ports(1)


def start(
    name: str,
    argv: Sequence[str],
    state_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` as a daemon in its own session; log to `<name>.log`, PID to `<name>.pid`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = open(state_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    log.close()
    (state_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def pid_of(name: str, state_dir: Path) -> int | None:
    try:
        return int((state_dir / f"{name}.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def stop(name: str, state_dir: Path, *, grace: float = 10.0) -> bool:
    """SIGTERM the recorded process group, then SIGKILL after `grace` s. True if one was running."""
    pid = pid_of(name, state_dir)
    if pid is None:
        return False
    running = alive(pid)
    if running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    (state_dir / f"{name}.pid").unlink(missing_ok=True)
    return running


def wait_http(url: str, *, timeout: float, what: str, ok: Sequence[int] = (200,)) -> None:
    """Poll `url` until it answers with a status in `ok`; raise with the last error otherwise."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status in ok:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return
            last = f"HTTP {e.code}"
        except OSError as e:
            last = str(e)
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not answer at {url} within {timeout:g} s: {last}")


def wait_for_file(name: str, state_dir: Path, path: Path, *, timeout: float, what: str) -> None:
    """Wait until daemon `name` writes `path` (its sign of being ready); fail fast if it dies.

    The daemon's log tail goes into the error, since that is where it said why.
    """
    deadline = time.monotonic() + timeout
    while not path.exists():
        pid = pid_of(name, state_dir)
        if pid is None or not alive(pid):
            log = (state_dir / f"{name}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} exited at start:\n{log}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout:g} s")
        time.sleep(0.05)
