"""The real Ironic, standalone: API and conductor in one process, fake hardware, no auth.

Ironic pins many OpenStack libraries, so it lives in its own virtual environment, cached
outside the checkout (`${PRIVATECLOUD_CACHE:-~/.cache/privatecloud}/ironic-<version>/venv`).
The service runs with SQLite, `rpc_transport = none` (the API calls the conductor in-process,
no message bus) and the `fake-hardware` type, whose `[fake]` delays make deploys take the time
real ones do (`deploy_delay="10"` or `"min,max"`). See ../shared/notes/ironic.md.

    install()                                   # idempotent; a fast no-op when done
    start(state_dir, port=None, deploy_delay="0") -> {"endpoint": "http://127.0.0.1:PORT"}
    stop(state_dir)                             # by the recorded PID (process group)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from lab import procs

VERSION = "39.0.0"
CLIENT_VERSION = "6.3.0"
NAME = "ironic"
HOST = "ironic-lab"  # a fixed conductor host name, so restarts find their own nodes


def cache_dir() -> Path:
    root = os.environ.get("PRIVATECLOUD_CACHE") or str(Path.home() / ".cache" / "privatecloud")
    return Path(root) / f"ironic-{VERSION}"


def venv() -> Path:
    return cache_dir() / "venv"


def _marker() -> Path:
    return cache_dir() / "installed"


def _python() -> str:
    """A Python 3.11 for the venv: Ironic 39 supports 3.10 to 3.12; the lab's own is 3.11."""
    return os.environ.get("PRIVATECLOUD_IRONIC_PYTHON") or sys.executable


def install() -> None:
    """Create the venv and install Ironic and its client from PyPI (all wheels, about 30 s)."""
    want = f"ironic=={VERSION} python-ironicclient=={CLIENT_VERSION}\n"
    if _marker().exists() and _marker().read_text() == want and (venv() / "bin" / "ironic").exists():
        return
    # A half-made venv (an interrupted install) is rebuilt from scratch.
    if venv().exists():
        shutil.rmtree(venv())
    cache_dir().mkdir(parents=True, exist_ok=True)
    print(f"lab: installing ironic {VERSION} into {venv()}", file=sys.stderr)
    subprocess.run([_python(), "-m", "venv", str(venv())], check=True)
    subprocess.run(
        [str(venv() / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"ironic=={VERSION}", f"python-ironicclient=={CLIENT_VERSION}"],
        check=True,
        stdout=sys.stderr,
    )
    _marker().write_text(want)


def _delay(value: str | int | float) -> str:
    """`[fake]` delays take "N" or "min,max" seconds."""
    text = str(value).strip()
    parts = text.split(",")
    if not 1 <= len(parts) <= 2 or not all(p.strip().replace(".", "", 1).isdigit() for p in parts):
        raise ValueError(f"deploy_delay={value!r}: expected seconds as 'N' or 'min,max'")
    return text


def config(state_dir: Path, port: int, *, deploy_delay: str = "0", boot_delay: str = "0",
           power_delay: str = "0") -> str:
    """ironic.conf for a standalone, noauth, fake-hardware service on 127.0.0.1:`port`."""
    return f"""\
[DEFAULT]
auth_strategy = noauth
rpc_transport = none
host = {HOST}
use_stderr = true
debug = false
enabled_hardware_types = fake-hardware
enabled_bios_interfaces = fake,no-bios
enabled_boot_interfaces = fake
enabled_console_interfaces = fake,no-console
enabled_deploy_interfaces = fake
enabled_firmware_interfaces = fake,no-firmware
enabled_inspect_interfaces = fake,no-inspect
enabled_management_interfaces = fake
enabled_network_interfaces = noop
enabled_power_interfaces = fake
enabled_raid_interfaces = fake,no-raid
enabled_rescue_interfaces = fake,no-rescue
enabled_storage_interfaces = fake,noop
enabled_vendor_interfaces = fake,no-vendor
default_network_interface = noop

[api]
host_ip = 127.0.0.1
port = {port}
api_workers = 1

[database]
connection = sqlite:///{state_dir / "ironic.sqlite"}

[dhcp]
dhcp_provider = none

[fake]
deploy_delay = {_delay(deploy_delay)}
boot_delay = {_delay(boot_delay)}
power_delay = {_delay(power_delay)}
"""


def start(
    state_dir: Path,
    port: int | None = None,
    deploy_delay: str | int | float = "0",
    boot_delay: str | int | float = "0",
    power_delay: str | int | float = "0",
    timeout: float = 60.0,
    fresh: bool = True,
) -> dict[str, Any]:
    """Start Ironic on 127.0.0.1 (a free port unless given) and wait until `GET /v1` answers.

    The database is made fresh unless `fresh=False` (tests restart Ironic over its database to
    see what a conductor restart does to a deploy in progress).
    """
    install()
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    port = port or procs.free_port()
    conf = state_dir / "ironic.conf"
    conf.write_text(config(state_dir, port, deploy_delay=str(deploy_delay), boot_delay=str(boot_delay),
                           power_delay=str(power_delay)))
    db = state_dir / "ironic.sqlite"
    if fresh:
        db.unlink(missing_ok=True)
    if not db.exists():
        # `upgrade` fails on a fresh SQLite file (a migration alters a constraint): create_schema.
        subprocess.run(
            [str(venv() / "bin" / "ironic-dbsync"), "--config-file", str(conf), "create_schema"],
            check=True, capture_output=True, text=True,
        )
    procs.start(NAME, [str(venv() / "bin" / "ironic"), "--config-file", str(conf)], state_dir)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        procs.wait_http(f"{endpoint}/v1", timeout=timeout, what="ironic")
    except TimeoutError as e:
        log = (state_dir / f"{NAME}.log").read_text(errors="replace")[-3000:]
        stop(state_dir)
        raise RuntimeError(f"{e}\n--- {state_dir / (NAME + '.log')} (tail) ---\n{log}") from e
    return {"endpoint": endpoint}


def stop(state_dir: Path) -> None:
    """SIGTERM the recorded process group (the API process and the worker it forked)."""
    procs.stop(NAME, state_dir)
