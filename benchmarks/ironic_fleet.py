"""Fleet benchmark: N nodes deployed through the real Pulumi engine on the lab's real Ironic.

Every deploy takes `--delay` seconds (Ironic's fake-hardware `deploy_delay`). The baseline is
one node deployed by `pulumi up` (a Node that waits for itself); the fleet is N Nodes with
`wait=False` and one `ironic.Fleet` waiting for all of them. Prints the wall time of each
`pulumi up`, and their ratio: about 1 means N nodes deploy in about the time of one; beside it,
the HTTP requests each `pulumi up` made to Ironic per node (counted in every Python process of the
run by benchmarks/apicount), by method and path.

    .venv/bin/python benchmarks/ironic_fleet.py [--nodes 64] [--delay 10] [--naive]

`--naive` also times N Nodes that each wait for their own deploy (four provider slots: about
N/4 deploy times), for contrast.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lab import ironic as lab_ironic  # noqa: E402
from lab import procs  # noqa: E402
from tests.enginekit import EngineStack, engine_bin_dir  # noqa: E402

APICOUNT = REPO / "benchmarks" / "apicount"

PROGRAM = """
import pulumi
from providers import ironic

cfg = pulumi.Config()
count, wait, fleet = cfg.require_int("count"), cfg.require_bool("wait"), cfg.require_bool("fleet")
timeouts = {"manage": 600, "clean": 600, "deploy": 600, "undeploy": 600, "poll_interval": 1}
nodes = [
    ironic.Node(f"node-{i:03d}", ironic.NodeArgs(
        name=f"bench-{i:03d}", driver="fake-hardware",
        driver_info={"ipmi_address": f"10.1.{i // 256}.{i % 256}", "ipmi_password": cfg.require_secret("bmc")},
        properties={"cpus": 32, "memory_mb": 262144}, ports=[f"52:54:00:bb:{i // 256:02x}:{i % 256:02x}"],
        target_state="active", instance_info={"image_source": "http://images/debian-12.qcow2"},
        timeouts=timeouts, wait=wait))
    for i in range(count)
]
if fleet:
    ironic.Fleet("fleet", ironic.FleetArgs(nodes=nodes, undeploy_on_delete=True))
"""


def requests_by_kind(log: Path, count: int) -> tuple[float, str]:
    """Requests per node in `log` (apicount's lines), and the commonest kinds per node."""
    kinds: Counter[str] = Counter()
    if log.exists():
        for line in log.read_text().splitlines():
            _pid, method, url = line.split(" ", 2)
            path = "/".join("{id}" if len(p) >= 32 or p.startswith("bench-") else p for p in url.split("/")[1:])
            kinds[f"{method} /{path}"] += 1
    total = sum(kinds.values())
    top = ", ".join(f"{k} {v / count:.1f}" for k, v in kinds.most_common(6))
    return total / count, top


def group_cpu_s(pgid: int) -> float:
    """CPU seconds used so far by the live processes of one process group (Ironic's API process
    and the workers it forked), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ..., utime (11), stime (12)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def engine_cpu_s() -> float:
    """CPU seconds of every finished descendant of this process (the engine, its language host,
    the program and the plugins: each waited for by its parent)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# How far a provision state is along the walk to `active`: the milestones the timeline reports.
MILESTONES = ("enrolled", "manageable", "available", "active")
RANK = {"enroll": 0, "verifying": 0, "manageable": 1, "cleaning": 1, "clean wait": 1, "available": 2,
        "deploying": 2, "wait call-back": 2, "active": 3}


class Timeline:
    """Samples Ironic's node listing every `interval` seconds during an up (one request per sample,
    from this process, so not among the run's counted requests) and keeps, per node, when it was
    first seen at or past each milestone."""

    def __init__(self, endpoint: str, interval: float = 0.5) -> None:
        from providers.ironic._api import client

        self.client, self.interval = client(endpoint), interval
        self.seen: dict[str, dict[str, float]] = {}
        self.stopped = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            now = time.monotonic() - self.started
            for n in self.client.node.list(fields=["name", "provision_state"], limit=0):
                rank = RANK.get(n.provision_state, -1)
                firsts = self.seen.setdefault(n.name, {})
                for m in MILESTONES[: rank + 1]:
                    firsts.setdefault(m, now)

    def stop(self) -> str:
        """`milestone median/last` seconds after the up started, for every milestone."""
        self.stopped.set()
        self.thread.join()
        parts = []
        for m in MILESTONES:
            times = [firsts[m] for firsts in self.seen.values() if m in firsts]
            if times:
                parts.append(f"{m} {statistics.median(times):.1f}/{max(times):.1f}")
        return ", ".join(parts)


def timed_up(root: Path, bin_dir: Path, endpoint: str, *, count: int, wait: bool, fleet: bool,
             label: str, ironic_pgid: int) -> tuple[float, float]:
    """Wall time of one `pulumi up` creating `count` nodes, and its Ironic requests per node
    (printed; then destroyed, untimed). Beside them, where the time went: the CPU seconds Ironic
    and the engine's processes used during the up, and when the nodes reached each step of their
    walk (enrolled, manageable, available, active)."""
    log = root.parent / f"{root.name}-api.log"
    st = EngineStack.create(
        root, bin_dir, program=PROGRAM,
        config={"count": str(count), "wait": str(wait).lower(), "fleet": str(fleet).lower()},
        secrets={"bmc": "bench-bmc-pass", "ironic": json.dumps({"endpoint": endpoint})},
        extra_env={"PYTHONPATH": f"{APICOUNT}:{REPO}", "PRIVATECLOUD_API_LOG": str(log)},
    )
    ironic0, engine0 = group_cpu_s(ironic_pgid), engine_cpu_s()
    timeline = Timeline(endpoint)
    started = time.monotonic()
    result = st.up()
    elapsed = time.monotonic() - started
    milestones = timeline.stop()
    ironic_cpu, engine_cpu = group_cpu_s(ironic_pgid) - ironic0, engine_cpu_s() - engine0
    per_node, kinds = requests_by_kind(log, count)
    created = result.changes.get("create", 0)
    expected = count + 1 + (1 if fleet else 0)
    if created != expected:
        raise SystemExit(f"expected {expected} creates, the engine reported {result.changes}")
    print(f"{label + ', pulumi up:':34s}{elapsed:6.1f} s, {per_node:5.1f} Ironic requests per node", flush=True)
    print(f"{'':36s}per node: {kinds}", flush=True)
    print(f"{'':36s}CPU s during the up: Ironic {ironic_cpu:.1f} ({ironic_cpu / elapsed:.0%} of one core), "
          f"engine and its processes {engine_cpu:.1f}; load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'':36s}nodes at or past, s after the up began (median/last): {milestones}", flush=True)
    started = time.monotonic()
    log.unlink(missing_ok=True)
    st.destroy()
    print(f"{'  (its pulumi destroy:':34s}{time.monotonic() - started:6.1f} s)", flush=True)
    return elapsed, per_node


def ironic_deploy_time(endpoint: str) -> float:
    """Seconds Ironic itself takes to deploy one available node (fake deploy: prepare + deploy
    each sleep `deploy_delay`), polled every 0.1 s with the client: the floor for any tool."""
    from providers.ironic._api import client

    c = client(endpoint)
    n = c.node.create(name="bench-probe", driver="fake-hardware")
    try:
        for verb, want in (("manage", "manageable"), ("provide", "available"), ("active", "active")):
            if verb == "active":
                c.node.update(n.uuid, [{"op": "add", "path": "/instance_info/image_source",
                                        "value": "http://images/probe.qcow2"}])
            started = time.monotonic()
            c.node.set_provision_state(n.uuid, verb)
            while True:
                x = c.node.get(n.uuid, fields=["provision_state", "target_provision_state"])
                if x.provision_state == want and not x.target_provision_state:
                    break
                if "failed" in x.provision_state:
                    raise SystemExit(f"probe node: {verb} ended in {x.provision_state}")
                time.sleep(0.1)
        return time.monotonic() - started
    finally:
        c.node.set_provision_state(n.uuid, "deleted")
        while c.node.get(n.uuid, fields=["provision_state"]).provision_state != "available":
            time.sleep(0.2)
        c.node.delete(n.uuid)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=64)
    ap.add_argument("--delay", default="10", help="Ironic's deploy_delay: seconds, or 'min,max'")
    ap.add_argument("--naive", action="store_true", help="also time N self-waiting nodes")
    args = ap.parse_args(argv)

    bin_dir = engine_bin_dir()
    with tempfile.TemporaryDirectory(prefix="ironic-fleet-") as tmp:
        root = Path(tmp)
        t0 = time.monotonic()
        info = lab_ironic.start(root / "ironic", deploy_delay=args.delay)
        ready = time.monotonic() - t0
        endpoint = str(info["endpoint"])
        ironic_pgid = procs.pid_of(lab_ironic.NAME, root / "ironic") or 0  # its own session: pgid == pid
        print(f"ironic ready in {ready:.1f} s at {endpoint} (deploy_delay={args.delay})", flush=True)
        try:
            raw = ironic_deploy_time(endpoint)
            print(f"{'one deploy in Ironic itself:':34s}{raw:6.1f} s", flush=True)
            one, one_requests = timed_up(root / "one", bin_dir, endpoint, count=1, wait=True, fleet=False,
                                         label="one node", ironic_pgid=ironic_pgid)
            many, many_requests = timed_up(root / "fleet", bin_dir, endpoint, count=args.nodes, wait=False,
                                           fleet=True, label=f"{args.nodes} nodes + Fleet",
                                           ironic_pgid=ironic_pgid)
            print(f"{'ratio (fleet / one node):':34s}{many / one:6.2f}   Ironic requests per node: "
                  f"{many_requests:.1f} in the fleet, {one_requests:.1f} for one node", flush=True)
            print(f"{'ratio (fleet / Ironic deploy):':34s}{many / raw:6.2f}", flush=True)
            if args.naive:
                naive, _ = timed_up(root / "naive", bin_dir, endpoint, count=args.nodes, wait=True, fleet=False,
                                 label=f"{args.nodes} self-waiting nodes", ironic_pgid=ironic_pgid)
                print(f"{'ratio (self-waiting / one node):':34s}{naive / one:6.2f}", flush=True)
        finally:
            lab_ironic.stop(root / "ironic")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
