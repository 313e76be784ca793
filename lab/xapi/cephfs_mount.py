"""Mount a CephFS directory as a client, in userspace (libcephfs), and report what is there.

Run by the system Python that has Debian's `python3-cephfs` (the emulator's own virtual
environment cannot import it): the XAPI emulator's `cephfs` SR driver (`lab/xapi/cephfs.py`) runs
`/usr/bin/python3 cephfs_mount.py` with one JSON request on stdin, so the client's key never
appears in a command line, and reads one JSON answer on stdout. Standard library and `cephfs` only.

Request:  {"mon_host": "[v2:127.0.0.1:3300]", "client": "pool-a", "key": "<base64>",
           "root": "/pools/pool-a", "op": "list" | "mkdir" | "rmdir", "name": "<entry>",
           "timeout": 10}
Answer:   {"ok": true, "entries": [root's], "sub": [name's] or null}  or  {"ok": false, "errno": 13, "error": "..."}
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any


def _entries(fs: Any, path: bytes) -> list[str]:
    d = fs.opendir(path)
    try:
        names = []
        while (entry := fs.readdir(d)) is not None:
            name = entry.d_name.decode()
            if name not in (".", ".."):
                names.append(name)
        return sorted(names)
    finally:
        fs.closedir(d)


def run(req: dict[str, Any]) -> dict[str, Any]:
    import cephfs  # type: ignore[import-not-found, unused-ignore]  # Debian's python3-cephfs

    conf = {
        "mon_host": req["mon_host"],
        "key": req["key"],
        "keyring": "/dev/null",
        "client_mount_timeout": str(req.get("timeout", 10)),
        "rados_mon_op_timeout": str(req.get("timeout", 10)),
        "log_to_stderr": "false",
        "err_to_stderr": "false",
        "log_file": "/dev/null",
    }
    fs = cephfs.LibCephFS(conf=conf, auth_id=req["client"])
    try:
        fs.mount(mount_root=req["root"].encode())
        op, name = req.get("op", "list"), req.get("name", "")
        if op == "mkdir":
            fs.mkdir(f"/{name}".encode(), 0o755)
        elif op == "rmdir":
            fs.rmdir(f"/{name}".encode())
        entries = _entries(fs, b"/")
        sub = _entries(fs, f"/{name}".encode()) if name and name in entries else None
        return {"ok": True, "entries": entries, "sub": sub}
    except cephfs.Error as e:
        return {"ok": False, "errno": int(getattr(e, "errno", 0) or 0), "error": str(e)}
    finally:
        with contextlib.suppress(cephfs.Error):
            fs.shutdown()


def main() -> int:
    try:
        answer = run(json.loads(sys.stdin.read()))
    except ImportError as e:
        answer = {"ok": False, "errno": 0, "error": f"libcephfs is not available: {e}"}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
