"""Region benchmarks through the real engine, on an ephemeral lab. Each prints its figures.

    .venv/bin/python -m benchmarks.region preview   # no-op preview of a >= 500-resource region vs a
                                                    # baseline of as many trivial dynamic resources,
                                                    # with the backend API calls the preview made;
                                                    # then refresh: time and API calls per resource
    .venv/bin/python -m benchmarks.region fleet     # 64 servers, Ironic deploy delay 10 s, through
                                                    # the whole program: wall time vs one node

API calls are counted at the HTTP layer of every Python process of the run (benchmarks/apicount).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from lab.ephemeral import running_lab, stack_config
from tests.enginekit import REPO, EngineStack, Result, engine_bin_dir

APICOUNT = REPO / "benchmarks" / "apicount"


def region_design(pools: int, hosts_per_pool: int, storage: int) -> dict[str, Any]:
    """The dev region's design scaled out: `pools` XCP-ng pools of `hosts_per_pool`, `storage` servers."""
    region = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["privatecloud:region"]
    template = {s["role"]: s for s in region["servers"]}
    servers, pool_cfgs, k = [], [], 0
    for p in range(pools):
        names = []
        for _ in range(hosts_per_pool):
            k += 1
            names.append(f"cmp-{k:03d}")
            mac = f"52:54:01:{k >> 8:02x}:{k & 255:02x}:01"
            bmc = {**template["compute"]["bmc"], "address": f"10.1.{k >> 8}.{k & 255}"}  # one BMC per server
            servers.append({**template["compute"], "name": names[-1], "macs": [mac], "bmc": bmc})
        pool_cfgs.append({**region["hypervisorPools"][0], "name": f"pool-{p + 1:02d}", "master": names[0],
                          "members": names[1:],
                          "sr": {**region["hypervisorPools"][0]["sr"], "name": f"ceph-nfs-{p + 1:02d}"}})
    for i in range(storage):
        servers.append({**template["storage"], "name": f"sto-{i + 1:03d}", "macs": [f"52:54:02:00:{i:02x}:01"],
                        "bmc": {**template["storage"]["bmc"], "address": f"10.2.{i >> 8}.{i & 255}"}})
    servers.append({**template["controller"], "name": "ctl-001", "macs": ["52:54:03:00:00:01"]})
    region["servers"] = servers
    region["hypervisorPools"] = pool_cfgs
    region["deployTimeouts"] = {"manage": 600, "clean": 1200, "deploy": 1800, "undeploy": 1800, "pollInterval": 1}
    return region


def custom_resources(result: Result) -> int:
    return sum(1 for s in result.steps if s.type.startswith("pulumi-python:"))


def api_calls(log: Path) -> Counter[str]:
    """Requests by backend (host:port) since the log was last cleared."""
    if not log.exists():
        return Counter()
    return Counter(line.split()[2].split("/")[0] for line in log.read_text().splitlines() if line.strip())


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    started = time.monotonic()
    out = fn(*args)
    return time.monotonic() - started, out


def region_stack(root: Path, lab: dict[str, Any], region: dict[str, Any], log: Path) -> EngineStack:
    config = stack_config(lab, region)
    return EngineStack.create(
        root, engine_bin_dir(), project="privatecloud", program=(REPO / "__main__.py").read_text(),
        config=config["plain"], secrets=config["secret"],
        extra_env={"PYTHONPATH": f"{APICOUNT}:{REPO}", "PRIVATECLOUD_API_LOG": str(log)},
    )


def preview_benchmark(runs: int) -> None:
    pools, per_pool, storage = 20, 16, 60
    region = region_design(pools, per_pool, storage)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_lab(root / "lab", xapi_hosts=[f"xcp-{i:03d}" for i in range(pools * per_pool)]) as lab:
            log = root / "api.log"
            stack = region_stack(root / "region", lab, region, log)
            up_s, up = timed(stack.up)
            n = custom_resources(up)
            print(f"region: {len(region['servers'])} servers, {pools} pools: {n} dynamic resources "
                  f"({sum(up.changes.values())} resources in all) deployed in {up_s:.0f} s")

            baseline = EngineStack.create(
                root / "baseline", engine_bin_dir(), project="baseline",
                program=f"from benchmarks.trivial import Thing\nfor i in range({n}):\n    Thing(f'thing-{{i}}', i)\n",
            )
            baseline.up()

            region_times, baseline_times = [], []
            for _ in range(runs):
                log.unlink(missing_ok=True)
                t, res = timed(stack.preview)
                assert res.changes == {}, f"the no-op preview is not a no-op: {res.changes}"
                region_times.append(t)
                calls = api_calls(log)
                t, _ = timed(baseline.preview)
                baseline_times.append(t)
            r, b = statistics.median(region_times), statistics.median(baseline_times)
            print(f"no-op preview, median of {runs}: region {r:.2f} s, baseline {b:.2f} s, ratio {r / b:.2f}")
            print(f"backend API calls during the last no-op preview: {sum(calls.values())} {dict(calls)}")

            log.unlink(missing_ok=True)
            t, res = timed(stack.refresh)
            calls = api_calls(log)
            total = sum(calls.values())
            print(f"refresh: {t:.1f} s for {n} resources ({t / n * 1000:.0f} ms per resource), changes "
                  f"{res.changes or 'none'}; API calls {total} ({total / n:.2f} per resource) {dict(calls)}")
            stack.destroy()


def fleet_benchmark() -> None:
    """64 servers (3 pools of 16, 15 storage, 1 controller), deploy delay 10 s, vs the smallest region."""
    delay = 10
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_lab(root / "lab", xapi_hosts=[f"xcp-{i:03d}" for i in range(48)],
                         ironic_deploy_delay=str(delay)) as lab:
            small = region_design(1, 1, 2)  # 4 servers: one hypervisor, two storage (pool size 2), the controller
            single = region_stack(root / "small", lab, small, root / "api-small.log")
            small_s, _ = timed(single.up)
            single.destroy()

            region = region_design(3, 16, 15)
            stack = region_stack(root / "fleet", lab, region, root / "api.log")
            fleet_s, _ = timed(stack.up)
            n = len(region["servers"])
            print(f"`pulumi up` of the whole region, {n} servers, Ironic deploy delay {delay} s each: {fleet_s:.0f} s")
            print(f"`pulumi up` of the smallest region, {len(small['servers'])} servers, same delay: {small_s:.0f} s")
            # fake-hardware sleeps deploy_delay twice per deploy (prepare and deploy).
            one = 2 * delay
            print(f"ratio {fleet_s / small_s:.2f}; one deploy takes about {one} s, so {n} deploys one after "
                  f"another would take {n * one} s, four at a time (one provider process) {n * one // 4} s")
            stack.destroy()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.region", description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", choices=["preview", "fleet"])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    if args.scenario == "preview":
        preview_benchmark(args.runs)
    else:
        fleet_benchmark()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
