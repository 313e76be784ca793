"""Readiness of an emulator run as a lab daemon.

The daemon writes its info file (endpoints, keys; mode 0600, atomically) only once every server
listens; the lab starts it through `lab.procs` and waits for that file (`procs.wait_for_file`),
so whatever else answers on the port (another lab's daemon) is never taken for it.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def write_info(path: Path, info: Mapping[str, Any]) -> str:
    """Write `info` as JSON to `path` (0600, via a rename so readers never see half a file)."""
    text = json.dumps(info, indent=2)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return text


def wait_for_signal() -> None:
    """Block until SIGTERM or SIGINT (how the lab stops a daemon: by its PID)."""
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()


def start(name: str, argv: Sequence[str], state_dir: Path, info: Path, *, env: Mapping[str, str], cwd: Path,
          timeout: float, what: str) -> dict[str, Any]:
    """Run an emulator daemon through lab.procs and wait until it has written `info`; return it."""
    from lab import procs

    state_dir.mkdir(parents=True, exist_ok=True)
    info.unlink(missing_ok=True)
    procs.start(name, argv, state_dir, env=env, cwd=cwd)
    procs.wait_for_file(name, state_dir, info, timeout=timeout, what=what)
    return dict(json.loads(info.read_text()))
