"""The XAPI emulator under a client nobody here wrote: Xen Orchestra's `xen-api` (npm), the library
XO uses to connect to a pool and follow it through system.listMethods, event.inject and event.from.

Needs Node.js >= 18 and npm (the package is installed once, pinned, under the project cache);
without them, or without the npm registry, the test skips and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import XenAPI

from lab.xapi import XapiLab
from lab.xapi.conformance import check_calls
from tests.xapi.conftest import PASSWORD

XEN_API = "xen-api@4.7.7"
SCRIPT = Path(__file__).with_name("xen_api_client.mjs")


def _node_major() -> int | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    try:
        return int(out.strip().lstrip("v").split(".")[0])
    except ValueError:
        return None


@pytest.fixture(scope="session")
def xen_api_dir() -> Path:
    """The pinned xen-api package, installed with npm under the project cache (once)."""
    major = _node_major()
    if major is None or major < 18 or shutil.which("npm") is None:
        pytest.skip(f"SKIPPED LOUDLY: Node.js >= 18 and npm are needed to run {XEN_API} (node major: {major})")
    cache = Path(os.environ.get("PRIVATECLOUD_CACHE") or Path.home() / ".cache" / "privatecloud")
    target = cache / "npm" / XEN_API.replace("@", "-")
    if not (target / "node_modules" / "xen-api" / "index.mjs").exists():
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(target), XEN_API],
            capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            pytest.skip(f"SKIPPED LOUDLY: npm could not install {XEN_API}: {done.stderr[-500:]}")
    return target


def test_xen_orchestra_client_connects_watches_events_and_sees_a_new_network(xen_api_dir: Path) -> None:
    with XapiLab.start(hosts=["xcp-01", "xcp-02"], password=PASSWORD) as lab:
        member = XenAPI.Session(lab.hosts[1].url)
        member.xenapi.login_with_password("root", PASSWORD, "1.0", "t")
        member.xenapi.pool.join(lab.hosts[0].address, "root", PASSWORD)
        # Pointed at the master: the emulator's HOST_IS_SLAVE names "127.0.0.1:PORT" (its hosts share
        # one address), which xen-api would take for a host name (README: deliberate differences).
        done = subprocess.run(["node", str(SCRIPT), str(xen_api_dir), lab.hosts[0].url.rstrip("/"), "root", PASSWORD],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen["ref"] == seen["seen"] and seen["MTU"] == 1500
        assert seen["types"]["host"] == 2 and seen["types"]["pool"] == 1 and seen["types"]["PIF"] == 8
        methods = [c.method for c in lab.request_log if c.host == "xcp-01"]
        assert {"system.listMethods", "event.inject", "event.from", "network.create"} <= set(methods)
        assert check_calls(lab.request_log) == []
