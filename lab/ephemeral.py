"""A whole lab on ports of its own, in a directory of its own, for tests and benchmarks.

It never touches the dev lab's fixed ports, so `bin/deploy dev`, the tests and the benchmarks can
run side by side. `stack_config` turns the lab's endpoints and a region design into stack config.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from lab import ceph, cloudstack, hosts, ironic, procs, xapi

XAPI_PASSWORD = "ephemeral-lab-root"
BMC_PASSWORD = "ephemeral-lab-bmc"


@contextmanager
def running_lab(
    root: Path,
    *,
    xapi_hosts: Sequence[str],
    ironic_deploy_delay: str = "0",
    storage_hosts: Sequence[str] = (),
    with_ceph: bool = True,
    compute_hosts: bool = False,
) -> Iterator[dict[str, Any]]:
    """Start every piece under `root` on free ports; stop them all (by recorded PID) on exit.

    `storage_hosts` (server names) become lab hosts on free loopback addresses that answer SSH
    once Ironic deploys them; `with_ceph=False` leaves the lab's own Ceph out (a region that
    forms its cluster on those hosts). `compute_hosts`: the XAPI hosts (then the compute servers'
    names) are lab hosts too, and XAPI serves each on its host's address (port 80), its SR drivers
    seeing that host's dom0.
    """
    ironic.install()
    if with_ceph:
        ceph.install()
    if storage_hosts or compute_hosts:
        hosts.install()
    started: list[tuple[ModuleType, Path]] = []
    try:
        endpoints: dict[str, Any] = {}
        endpoints["ironic"] = ironic.start(root / "ironic", deploy_delay=ironic_deploy_delay)
        started.append((ironic, root / "ironic"))
        if with_ceph:
            endpoints["ceph"] = ceph.start(root / "ceph")
            started.append((ceph, root / "ceph"))
        lab_hosts = [*storage_hosts, *(xapi_hosts if compute_hosts else ())]
        addresses = dict(zip(lab_hosts, hosts.free_addresses(len(lab_hosts), ports=(hosts.SSH_PORT, 80)),
                             strict=True))
        if lab_hosts:
            endpoints["hosts"] = hosts.start(
                root / "hosts", hosts=[{"name": n, "address": a} for n, a in addresses.items()],
                ironic=endpoints["ironic"]["endpoint"], ironic_db=root / "ironic" / "ironic.sqlite", poll_interval=0.5,
            )
            started.append((hosts, root / "hosts"))
        endpoints["xapi"] = xapi.start(
            root / "xapi",
            hosts=[{"name": n, "address": addresses[n]} for n in xapi_hosts] if compute_hosts else list(xapi_hosts),
            base_port=procs.free_ports(len(xapi_hosts)), password=XAPI_PASSWORD,
            dom0={n: hosts.dom0(root / "hosts", n) for n in xapi_hosts} if compute_hosts else None,
        )
        started.append((xapi, root / "xapi"))
        endpoints["cloudstack"] = cloudstack.start(root / "cloudstack", port=procs.free_port())
        started.append((cloudstack, root / "cloudstack"))
        endpoints["dirs"] = {m.__name__.rsplit(".", 1)[-1]: str(d) for m, d in started}
        yield endpoints
    finally:
        for piece, d in reversed(started):
            piece.stop(d)


def stack_config(lab: dict[str, Any], region: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Stack config (keys without namespace, values JSON) for `region` on `lab`: plain and secret.

    The region's compute servers take the lab's XAPI hosts as management addresses, in order
    (or by name, when they are lab hosts).
    """
    region = json.loads(json.dumps(region))
    addresses = [h["address"] for h in lab["xapi"]["hosts"]]
    computes = [s for s in region["servers"] if s["role"] == "compute"]
    if len(computes) > len(addresses):
        raise ValueError(f"{len(computes)} compute servers but the lab has {len(addresses)} XAPI hosts")
    for server, address in zip(computes, addresses, strict=False):
        server["managementAddress"] = address
    # Servers that are lab hosts answer SSH at their host's address.
    host_addresses = {h["name"]: h["address"] for h in lab.get("hosts", {}).get("hosts", [])}
    for server in region["servers"]:
        if server["name"] in host_addresses:
            server["managementAddress"] = host_addresses[server["name"]]
    cs = lab["cloudstack"]
    plain = {
        "region": region,
        "ironic": {"endpoint": lab["ironic"]["endpoint"]},
        "xcpng": {"scheme": "http", "pollInterval": 0.2},
    }
    secret: dict[str, Any] = {
        "cloudstack": {"endpoint": cs["endpoint"], "apiKey": cs["api_key"], "secretKey": cs["secret_key"]},
        "credentials": {"bmcPassword": BMC_PASSWORD, "xcpngRootPassword": XAPI_PASSWORD},
    }
    if "ceph" in lab:  # an existing cluster (the lab's own); without it the region bootstraps one
        _nfs_srs(region)
        c = lab["ceph"]
        secret["ceph"] = {
            "dashboardUrl": c["dashboard_url"], "dashboardUser": c["dashboard_user"],
            "dashboardPassword": c["dashboard_password"], "rgwUrl": c["rgw_url"],
            "rgwAccessKey": c["rgw_access_key"], "rgwSecretKey": c["rgw_secret_key"],
        }
    return {
        "plain": {k: json.dumps(v, separators=(",", ":")) for k, v in plain.items()},  # compact: the program's
        # environment takes the whole config in one 128 KiB string (components.config.env_bytes)
        "secret": {k: json.dumps(v, separators=(",", ":")) for k, v in secret.items()},
    }


def _nfs_srs(region: dict[str, Any]) -> None:
    """On an existing cluster a pool's cephfs SR cannot be declared (its chain needs the formed
    cluster's SSH path: the stack config refuses it), so the design's cephfs SRs become NFS SRs of
    the same name, as the dev region had before it formed its own Ceph."""
    region["storage"].pop("fileSystem", None)
    for pool in region.get("hypervisorPools", []):
        if pool["sr"]["type"] == "cephfs":
            pool["sr"] = {"name": pool["sr"]["name"], "type": "nfs",
                          "deviceConfig": {"server": "127.0.0.1", "serverpath": f"/vm-disks/{pool['name']}"}}
