"""What a killed `pulumi up` leaves behind, found and cleared where that is safe (bin/deploy runs it).

    python engine/recovery.py stale-locks --stack dev --project privatecloud
    python engine/recovery.py pending-creates --stack dev   # exit 0 when the state holds some

A DIY (file) backend locks a stack with one JSON file per running update under
`.pulumi/locks/<org>/<project>/<stack>/` (pulumi/pkg/backend/diy/lock.go: pid, username, hostname,
timestamp), removed when the update ends. `kill -9` leaves it, and every later update is refused
with "the stack is currently locked". A lock is removed here only when its owner is certainly gone:
written on this host, and its PID is no longer running or now belongs to a process started after
the lock was written. Any other lock is reported with the command that clears it.

The same kill can leave a blob's metadata sidecar (`<file>.attrs`, written by gocloud's fileblob
by truncating then writing, beside the atomically renamed blob) empty: every later command then
fails with "failed to load checkpoint: EOF". A sidecar holds only the content type and an MD5 that
nothing checks on read, and a blob without one is read as plain bytes, so an unreadable sidecar is
removed (once no live process holds a lock) and reported.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse


def process_start(pid: int) -> datetime | None:
    """When process `pid` started, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Field 22 (starttime, clock ticks since boot) comes after the command name in parentheses.
    ticks = int(stat.rsplit(")", 1)[1].split()[19])
    boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def owner_gone(lock: dict[str, object]) -> str | None:
    """Why the lock's owner is certainly gone, or None when it may still run."""
    if lock.get("hostname") != socket.gethostname():
        return None
    pid = lock.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return None
    started = process_start(pid)
    if started is None:
        return f"process {pid} is not running"
    written = datetime.fromisoformat(str(lock.get("timestamp", "")).replace("Z", "+00:00"))
    # A second of slack: the start time from /proc has clock-tick precision and boot-time rounding.
    if (started - written).total_seconds() > 1:
        return f"PID {pid} now belongs to a process started at {started:%Y-%m-%dT%H:%M:%SZ}, after the lock"
    return None


def lock_files(backend_url: str, project: str, stack: str) -> list[Path] | None:
    """The stack's lock files, or None when the backend is not a local file backend."""
    url = urlparse(backend_url)
    if url.scheme != "file":
        return None
    root = Path(unquote(url.path)).expanduser() / ".pulumi" / "locks"
    return sorted({*root.glob(f"*/{project}/{stack}/*.json"), *root.glob(f"{stack}/*.json")})


def broken_sidecars(root: Path) -> list[Path]:
    """Metadata sidecars under the backend's `.pulumi/` that do not parse (a write was killed)."""
    broken = []
    for f in sorted((root / ".pulumi").rglob("*.attrs")):
        try:
            json.loads(f.read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            broken.append(f)
    return broken


def stale_locks(stack: str, project: str) -> int:
    backend = os.environ.get("PULUMI_BACKEND_URL", "")
    files = lock_files(backend, project, stack)
    if files is None:
        # Other backends: the engine's own message names the lock's owner; say what clears it.
        print(f"recovery: if `pulumi up` says the stack is locked and the process it names is gone, run "
              f"`pulumi cancel --stack {stack} --yes` (it removes every lock of the stack)", file=sys.stderr)
        return 0
    held = 0
    for f in files:
        try:
            lock = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # removed meanwhile, or being written by a live update
        who = f"{lock.get('username')}@{lock.get('hostname')} (pid {lock.get('pid')}) at {lock.get('timestamp')}"
        reason = owner_gone(lock)
        if reason is not None:
            f.unlink(missing_ok=True)
            print(f"recovery: removed the lock of stack {stack} left by {who}: {reason}", file=sys.stderr)
        else:
            held += 1
            print(f"recovery: stack {stack} is locked by {who}, which may still run; when it is gone, run "
                  f"`pulumi cancel --stack {stack} --yes` (or remove {f})", file=sys.stderr)
    if held:
        return 1
    root = Path(unquote(urlparse(backend).path)).expanduser()
    for f in broken_sidecars(root):
        f.unlink(missing_ok=True)
        print(f"recovery: removed {f}, a metadata file a killed update left unreadable (Pulumi reads the state "
              f"without it)", file=sys.stderr)
    return 0


def pending_creates(stack: str) -> int:
    """Exit 0 (and say so) when the stack's state holds creates a killed update left pending."""
    out = subprocess.run(["pulumi", "stack", "export", "--stack", stack, "--non-interactive"],
                         check=False, capture_output=True, text=True)
    if out.returncode != 0:
        return 1  # no stack yet: nothing pending
    ops = json.loads(out.stdout).get("deployment", {}).get("pending_operations") or []
    creates = [op["resource"]["urn"].rsplit("::", 1)[-1] for op in ops if op.get("type") == "creating"]
    if not creates:
        return 1
    print(f"recovery: a killed update left {len(creates)} pending create(s) ({', '.join(creates)}); dropping "
          f"them from the state so that this deploy adopts what was made", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["stale-locks", "pending-creates"])
    p.add_argument("--stack", required=True)
    p.add_argument("--project", default="privatecloud")
    a = p.parse_args(argv)
    if a.what == "stale-locks":
        return stale_locks(a.stack, a.project)
    return pending_creates(a.stack)


if __name__ == "__main__":
    sys.exit(main())
