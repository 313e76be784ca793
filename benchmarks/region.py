"""Region benchmarks through the real engine, on an ephemeral lab. Each prints its figures.

    .venv/bin/python -m benchmarks.region preview   # no-op preview of a >= 500-resource region vs a
                                                    # baseline of as many trivial dynamic resources,
                                                    # with the backend API calls the preview made;
                                                    # then refresh: time and API calls per resource
    .venv/bin/python -m benchmarks.region fleet     # 64 servers, Ironic deploy delay 10 s, through
                                                    # the whole program: wall time vs one node
    .venv/bin/python -m benchmarks.region scale [--sizes 50,250,500,1000]
                                                    # per size: no-op preview, refresh and a one-field
                                                    # update vs as many trivial resources; peak memory
                                                    # of the program and the provider process
    .venv/bin/python -m benchmarks.region profile   # the ~511-resource region's no-op preview sampled
                                                    # in the program and the provider process
    .venv/bin/python -m benchmarks.region profile --cpu [--sizes 120,250] [--keep DIR] [--engine]
                                                    # per size, the no-op preview's program and
                                                    # provider processes profiled by CPU time (cProfile
                                                    # in every thread), and what each function costs per
                                                    # resource added between sizes; `--keep` keeps the
                                                    # deployed regions for the next run
    .venv/bin/python -m benchmarks.region calls [--pools 2 --hosts 2 --storage 2]
                                                    # API calls per resource of a refresh (and of a
                                                    # no-op preview) of a small region, by backend
    .venv/bin/python -m benchmarks.region compare --base <rev> [--head <rev>] --keep DIR --sizes 250,500
                                                    # the regions kept by profile --cpu, previewed
                                                    # round by round at each size, both revisions:
                                                    # CPU per size and per resource added
    .venv/bin/python -m benchmarks.region compare --base <git revision>
                                                    # the ~511-resource region deployed by the program
                                                    # at <revision>, then no-op previews side by side:
                                                    # that revision, this tree, the trivial baseline
    .venv/bin/python -m benchmarks.region compare --base <rev> --keep DIR --size 500 --engine-log-off
                                                    # the same on the region kept in DIR, plus this tree
                                                    # and the baseline with the engine's automatic log
                                                    # off: what that log costs each side
    .venv/bin/python -m benchmarks.region compare --base <rev> --keep DIR --size 500 --same-bytes
                                                    # also the region's own state declared with no
                                                    # logic (benchmarks/echo.py): its bytes' cost apart
                                                    # from its program's

API calls are counted at the HTTP layer of every Python process of the run (benchmarks/apicount).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.echo import SECRET_SIG, resources_file
from benchmarks.measure import APICOUNT, Instrumented, Run, checkout, median, use
from components.config import ENV_STRING_LIMIT, env_bytes
from lab.ephemeral import running_lab, stack_config
from tests.enginekit import REPO, EngineStack, Result, engine_bin_dir


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
                        "bmc": {**template["storage"]["bmc"], "address": f"10.2.{i >> 8}.{i & 255}"},
                        # one SSH address per server (the config refuses two servers sharing one)
                        "managementAddress": f"127.0.{2 + (i + 1) // 256}.{(i + 1) % 256}"})
    servers.append({**template["controller"], "name": "ctl-001", "macs": ["52:54:03:00:00:01"]})
    region["servers"] = servers
    region["hypervisorPools"] = pool_cfgs
    region["deployTimeouts"] = {"manage": 600, "clean": 1200, "deploy": 1800, "undeploy": 1800, "pollInterval": 1}
    return region


def scaled_design(target: int) -> dict[str, Any]:
    """A region of about `target` dynamic resources: servers, pools and networks scaled together.

    Each XCP-ng pool is its hosts' nodes plus 6 resources (the pool, 2 networks, the SR, the
    CloudStack cluster, its primary storage), with 3 storage servers per pool; 11 more are fixed
    (controller, fleet, Ceph pool, S3 user and bucket, zone, network, pod, 2 stores, enablement).
    """
    pools = max(1, -(-(target - 11) // 25))  # 25 resources per pool at 16 hosts
    per_pool = max(1, min(16, math.ceil((target - 11) / pools) - 9))
    return region_design(pools, per_pool, 3 * pools)


def xapi_hosts(region: dict[str, Any]) -> list[str]:
    """The emulated XAPI hosts a lab needs for `region`'s compute servers."""
    pools = region["hypervisorPools"]
    return [f"xcp-{i:03d}" for i in range(len(pools) * (len(pools[0]["members"]) + 1))]


def dynamic_count(region: dict[str, Any]) -> int:
    """The dynamic resources `region` declares (as the engine counts them)."""
    return len(region["servers"]) + 6 * len(region["hypervisorPools"]) + 10


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


BASELINE = """
import pulumi
from benchmarks.trivial import Thing

cfg = pulumi.Config()
count, bump = cfg.require_int("count"), cfg.get_int("bump") or 0
for i in range(count):
    Thing(f"thing-{i}", i + (bump if i == 0 else 0))
"""


@dataclass
class Point:
    """One size of the scale curve: medians per operation, region and baseline."""

    resources: int
    up_s: float
    times: dict[str, list[float]] = field(default_factory=dict)
    peaks: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)

    def add(self, key: str, run: Run) -> None:
        self.times.setdefault(key, []).append(run.seconds)
        self.cpu.setdefault(key, []).append((run.engine_cpu_s, run.procs.cpu("program"), run.procs.cpu("provider")))
        for role in ("program", "provider"):
            k = f"{key.split()[0]} {role}"
            self.peaks[k] = max(self.peaks.get(k, 0.0), run.procs.peak_mb(role))

    def med(self, key: str) -> float:
        return median(self.times[key])


def expect(run: Run, changes: dict[str, int], what: str) -> Run:
    if run.result.changes != changes:
        raise SystemExit(f"{what}: expected {changes}, the engine reported {run.result.changes}")
    return run


def scale_point(root: Path, lab: dict[str, Any], target: int, runs: int) -> Point:
    """Deploy a region of about `target` resources and as many trivial ones; time each operation."""
    region = scaled_design(target)
    stack = Instrumented.wrap(region_stack(root / "region", lab, region, root / "api.log"), root / "procs-region")
    t0 = time.monotonic()
    up = stack.run("up", "--skip-preview")
    # As the engine counts them: the region's layers (the zone's day 0, the tenants) add a fixed
    # number beyond the servers, pools and networks `dynamic_count` knows.
    point = Point(custom_resources(up.result), time.monotonic() - t0)
    baseline = Instrumented.wrap(EngineStack.create(
        root / "baseline", engine_bin_dir(), project="baseline", program=BASELINE,
        config={"count": str(point.resources)},
    ), root / "procs-baseline")
    baseline.run("up", "--skip-preview")
    dns = ["8.8.4.4", "8.8.8.8"]
    for i in range(runs):  # round by round: the region and its baseline under the same load
        point.add("region preview", stack.preview())
        point.add("baseline preview", baseline.preview())
        point.add("region refresh", expect(stack.run("refresh", "--skip-preview"), {}, "region refresh"))
        point.add("baseline refresh", expect(baseline.run("refresh", "--skip-preview"), {}, "baseline refresh"))
        # One field of one resource: the zone's first DNS server (CloudStack updateZone), the value of
        # one trivial resource.
        changed = json.loads(json.dumps(region))
        changed["zone"]["dns"] = [dns[i % 2]]
        stack.stack.set_config("region", stack_config(lab, changed)["plain"]["region"])
        point.add("region update", expect(stack.run("up", "--skip-preview"), {"update": 1}, "region update"))
        baseline.stack.set_config("bump", str(i + 1))
        point.add("baseline update", expect(baseline.run("up", "--skip-preview"), {"update": 1}, "baseline update"))
    stack.run("destroy", "--skip-preview")
    baseline.run("destroy", "--skip-preview")
    return point


def print_scale(points: list[Point], runs: int) -> None:
    print(f"\nscale curve, median of {runs} (region / trivial baseline of the same size = ratio; "
          f"ms per resource of the region):")
    print(f"{'resources':>9s}  {'no-op preview':>24s}  {'refresh':>24s}  {'one-field update':>24s}  "
          f"peak MB program/provider (region; baseline)")
    for p in points:
        cells = []
        for op in ("preview", "refresh", "update"):
            reg, base = p.med(f"region {op}"), p.med(f"baseline {op}")
            cells.append(f"{reg:6.2f}/{base:5.2f}={reg / base:4.2f} {reg / p.resources * 1000:4.0f}ms")
        mem = (f"{p.peaks['region program']:4.0f}/{p.peaks['region provider']:4.0f}; "
               f"{p.peaks['baseline program']:4.0f}/{p.peaks['baseline provider']:4.0f}")
        print(f"{p.resources:9d}  " + "  ".join(f"{c:>24s}" for c in cells) + f"  {mem}  (up {p.up_s:.0f} s)")
        # CPU seconds are what a loaded machine does not inflate: the ratio of their sums is the
        # comparison to trust when the wall times are noisy.
        for op in ("preview", "refresh", "update"):
            split = {side: [median([c[i] for c in p.cpu[f"{side} {op}"]]) for i in range(3)]
                     for side in ("region", "baseline")}
            reg, base = sum(split["region"]), sum(split["baseline"])
            print(f"{'':11s}CPU s of the {op}: region {reg:.2f} (engine and plugins {split['region'][0]:.2f}, "
                  f"program {split['region'][1]:.2f}, provider {split['region'][2]:.2f}), baseline {base:.2f} "
                  f"({split['baseline'][0]:.2f}, {split['baseline'][1]:.2f}, {split['baseline'][2]:.2f}): "
                  f"ratio {reg / base:.2f}")
    if len(points) > 1:
        print("marginal cost between sizes (s per 100 resources added; linear growth keeps it flat):")
        for a, b in itertools.pairwise(points):
            k = 100 / (b.resources - a.resources)
            print(f"  {a.resources:5d} -> {b.resources:5d}: " + ", ".join(
                f"{op} {(b.med(f'region {op}') - a.med(f'region {op}')) * k:5.2f} "
                f"(baseline {(b.med(f'baseline {op}') - a.med(f'baseline {op}')) * k:5.2f})"
                for op in ("preview", "refresh", "update")))


def config_bytes(lab: dict[str, Any], region: dict[str, Any]) -> int:
    """The bytes of the environment string that carries `region`'s stack config to the program."""
    config = stack_config(lab, region)
    return env_bytes({f"privatecloud:{k}": v for part in ("plain", "secret") for k, v in config[part].items()})


def scale_benchmark(sizes: list[int], runs: int) -> None:
    hosts = max((xapi_hosts(scaled_design(t)) for t in sizes), key=len)
    points = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_lab(root / "lab", xapi_hosts=hosts) as lab:
            for target in sizes:
                size = config_bytes(lab, scaled_design(target))
                if size > ENV_STRING_LIMIT:  # the engine could not start the program
                    print(f"\nsize {target}: not run: its stack config takes {size:,} bytes of the program's "
                          f"environment (PULUMI_CONFIG), over Linux's {ENV_STRING_LIMIT:,} for one string "
                          "(README: Stacks)")
                    continue
                point = scale_point(root / f"size-{target}", lab, target, runs)
                points.append(point)
                print_scale([point], runs)
    print_scale(points, runs)


# Functions worth naming in a profile: where per-resource work lives (matched as substrings of
# "file:line(function)").
MARKERS = {
    "program": ["components/region.py", "(read_config)", "components/config/load.py:41(load)",
                "pulumi/dynamic/dynamic.py", "(serialize_provider)", "(_get_stack_trace)", "(transfer_properties)",
                "(serialize_properties)", "(do_register)", "(register_resource)", "(_sync_await)"],
    "provider": ["__main__.py", "(get_provider)", "(loads)", "providers/_core/provider.py", "(validate)",
                 "providers/_core/diff.py", "(model_validate)", "(model_dump)", "(deserialize_properties)",
                 "(serialize_properties)", "(_worker)"],
}


def profile_lines(rec: dict[str, Any], role: str, top: int = 12) -> list[str]:
    """The sampled stacks of one process: the busiest frames, and the markers' inclusive share."""
    n, ms = rec["samples"], rec["interval_ms"]
    if not n:
        return [f"{role}: no samples"]
    lived = rec["end"] - rec["start"]
    lines = [f"{role} (pid {rec['pid']}): {n} thread samples every {ms:.0f} ms, lived {lived:.2f} s, "
             f"peak {rec['peak_rss_kb'] / 1024:.0f} MB; busiest frames (self, % of samples):"]
    for key, c in sorted(rec["self"].items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {100 * c / n:5.1f}%  {short(key)}")
    lines.append("  inclusive (% of samples, over all threads):")
    incl = rec["inclusive"]
    for key, c in sorted(incl.items(), key=lambda kv: -kv[1]):
        if any(m in key for m in MARKERS[role]):
            lines.append(f"    {100 * c / n:5.1f}%  {short(key)}")
    return lines


def short(key: str) -> str:
    for prefix in (str(REPO) + "/", "site-packages/"):
        if prefix in key:
            key = key.split(prefix, 1)[1]
    return key


def state_lines(stack: EngineStack) -> list[str]:
    """Property bags in state by type: count, mean bytes of inputs and outputs, secret values, and
    the dependencies the engine keeps (URNs in `dependencies` and in all `propertyDependencies`)."""
    by_type: dict[str, list[int]] = {}
    total = deps_total = 0
    for r in stack.export()["deployment"].get("resources", []):
        if not r["type"].startswith("pulumi-python:"):
            continue
        blob_in, blob_out = json.dumps(r.get("inputs", {})), json.dumps(r.get("outputs", {}))
        provider = len(json.dumps(r.get("inputs", {}).get("__provider", "")))
        secrets = blob_in.count(SECRET_SIG) + blob_out.count(SECRET_SIG)
        deps = len(r.get("dependencies", []))
        prop_deps = sum(len(v) for v in r.get("propertyDependencies", {}).values())
        total += len(blob_in) + len(blob_out)
        deps_total += deps + prop_deps
        acc = by_type.setdefault(r["type"].split("/")[-1], [0, 0, 0, 0, 0, 0, 0])
        for i, v in enumerate((1, len(blob_in), len(blob_out), secrets, provider, deps, prop_deps)):
            acc[i] += v
    lines = [f"state of the dynamic resources: {total / 1024:.0f} KB of property bags, {deps_total} dependency "
             f"URNs; by type (count, mean bytes of inputs / outputs, secret values per resource, `__provider` "
             f"bytes, mean URNs in dependencies / propertyDependencies):"]
    for t, (c, i, o, sec, prov, dep, pdep) in sorted(by_type.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"    {t:28s}{c:5d}  {i / c:6.0f} / {o / c:6.0f}  secrets {sec / c:4.1f}  "
                     f"provider {prov / c:4.0f}  deps {dep / c:6.1f} / {pdep / c:6.1f}")
    return lines


def profile_benchmark() -> None:
    """The ~511-resource region's no-op preview, both processes sampled every 5 ms."""
    region = scaled_design(500)
    n = dynamic_count(region)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_lab(root / "lab", xapi_hosts=xapi_hosts(region)) as lab:
            stack = Instrumented.wrap(region_stack(root / "region", lab, region, root / "api.log"), root / "procs")
            up_s, _ = timed(stack.run, "up", "--skip-preview")
            print(f"region of {n} dynamic resources deployed in {up_s:.0f} s")
            plain = [stack.preview() for _ in range(3)]
            sampled = stack.preview(sample_ms=5)
            print(f"no-op preview: {median([r.seconds for r in plain]):.2f} s (median of 3, unsampled); "
                  f"{sampled.seconds:.2f} s sampled; CPU s (median): engine and plugins "
                  f"{median([r.engine_cpu_s for r in plain]):.2f}, program "
                  f"{median([r.procs.cpu('program') for r in plain]):.2f}, provider "
                  f"{median([r.procs.cpu('provider') for r in plain]):.2f}")
            for role in ("program", "provider"):
                for rec in sampled.procs.of(role):
                    print("\n".join(profile_lines(rec, role)))
            print("\n".join(state_lines(stack.stack)))
            stack.run("destroy", "--skip-preview")


def keep_stack(root: Path, stack: EngineStack, resources: int) -> None:
    """Note in `root` a deployed stack a later run may preview again (`kept_stack`)."""
    (root / "deployed.json").write_text(json.dumps({"workdir": str(stack.workdir), "env": stack.env,
                                                    "resources": resources}))


def kept_stack(root: Path) -> tuple[EngineStack, int] | None:
    """The stack `keep_stack` noted in `root`, with its count of dynamic resources; None if none."""
    marker = root / "deployed.json"
    if not marker.exists():
        return None
    saved = json.loads(marker.read_text())
    return EngineStack(Path(saved["workdir"]), engine_bin_dir(), env=saved["env"]), int(saved["resources"])


def deployed_region(root: Path, target: int) -> tuple[EngineStack, int]:
    """A region of about `target` resources deployed under `root`, or the one a previous run left.

    A no-op preview calls no backend, so the stack previews without its lab (whose files stay)."""
    kept = kept_stack(root)
    if kept is not None:
        return kept
    region = scaled_design(target)
    with running_lab(root / "lab", xapi_hosts=xapi_hosts(region)) as lab:
        stack = region_stack(root / "region", lab, region, root / "api.log")
        up_s, up = timed(stack.up)
    n = custom_resources(up)
    print(f"region of {n} dynamic resources deployed in {up_s:.0f} s (load average {os.getloadavg()[0]:.1f})",
          flush=True)
    keep_stack(root, stack, n)
    return stack, n


FuncKey = tuple[str, int, str]


@dataclass
class CpuProfile:
    """One process's merged CPU profile (pstats): per function, calls, own and cumulative CPU s."""

    resources: int
    cpu_s: float
    profiled_s: float
    funcs: dict[FuncKey, tuple[int, float, float]]

    @classmethod
    def load(cls, resources: int, rec: dict[str, Any]) -> CpuProfile:
        import pstats

        raw = pstats.Stats(rec["profile"]).stats  # type: ignore[attr-defined]
        funcs = {k: (int(v[1]), float(v[2]), float(v[3])) for k, v in raw.items()}
        return cls(resources, rec["cpu_s"], rec["profiled_cpu_s"], funcs)

    def top(self, col: int, n: int) -> list[str]:
        rows = sorted(self.funcs.items(), key=lambda kv: -kv[1][col])[:n]
        return [f"    {v[col]:7.3f} s {v[col] * 1000 / self.resources:6.2f} ms/res  {v[0]:8d} calls "
                f"({v[0] / self.resources:7.1f}/res)  {func_name(k)}" for k, v in rows]


def func_name(key: FuncKey) -> str:
    file, line, name = key
    return f"{short(file)}:{line}({name})" if file != "~" else name


def growth_lines(a: CpuProfile, b: CpuProfile, n: int = 25) -> list[str]:
    """Per resource added from `a` to `b`: each function's own and cumulative CPU ms, and the
    functions whose calls per resource grow (what grows faster than linearly, counted exactly)."""
    k = 1000 / (b.resources - a.resources)
    empty = (0, 0.0, 0.0)
    keys = set(a.funcs) | set(b.funcs)
    lines = [f"  per resource added ({a.resources} -> {b.resources}): process CPU "
             f"{(b.cpu_s - a.cpu_s) * k:.2f} ms, profiled {(b.profiled_s - a.profiled_s) * k:.2f} ms; "
             f"own CPU ms per resource added, calls per resource at each size:"]

    def row(key: FuncKey, col: int) -> str:
        va, vb = a.funcs.get(key, empty), b.funcs.get(key, empty)
        return (f"    {(vb[col] - va[col]) * k:6.3f} ms  calls/res {va[0] / a.resources:7.1f} -> "
                f"{vb[0] / b.resources:7.1f}  {func_name(key)}")

    for key in sorted(keys, key=lambda f: -(b.funcs.get(f, empty)[1] - a.funcs.get(f, empty)[1]))[:n]:
        lines.append(row(key, 1))
    lines.append("  cumulative CPU ms per resource added:")
    for key in sorted(keys, key=lambda f: -(b.funcs.get(f, empty)[2] - a.funcs.get(f, empty)[2]))[:n]:
        lines.append(row(key, 2))
    lines.append("  calls growing faster than the resources (calls per resource at each size, >= 1,000 calls):")

    def superlinear(f: FuncKey) -> float:
        ca, cb = a.funcs.get(f, empty)[0], b.funcs.get(f, empty)[0]
        return (cb / b.resources) / max(ca / a.resources, 1e-9) if cb >= 1000 else 0.0

    for key in sorted(keys, key=lambda f: -superlinear(f))[:n]:
        if superlinear(key) < 1.15:
            break
        lines.append(row(key, 1) + f"  (x{superlinear(key):.2f} per resource)")
    return lines


def engine_profile_lines(prefix: Path, top: int) -> list[str]:
    """The engine's own CPU profile (`pulumi --profiling`), by `go tool pprof`: the busiest functions,
    own and cumulative."""
    files = sorted(prefix.parent.glob(f"{prefix.name}.*.cpu"))
    if not files:
        return [f"engine: no CPU profile at {prefix}.*.cpu"]
    lines = []
    for order, what in (([], "own"), (["-cum"], "cumulative")):
        out = subprocess.run(["go", "tool", "pprof", "-top", f"-nodecount={top}", *order, str(files[-1])],
                             capture_output=True, text=True, check=False)
        lines.append(f"engine ({files[-1].name}) by {what} CPU:")
        lines += ["    " + line for line in out.stdout.splitlines() if line.strip()] or ["    " + out.stderr.strip()]
    return lines


def gc_text(run: Run, role: str) -> str:
    """The CPU seconds of one role's cyclic garbage collections, and how many by generation."""
    recs = run.procs.of(role)
    counts = [sum(r.get("gc_collections", [0, 0, 0])[g] for r in recs) for g in range(3)]
    seconds = [sum(r.get("gc_generation_s", [0.0, 0.0, 0.0])[g] for r in recs) for g in range(3)]
    return (f"{role} {sum(seconds):.2f} s in {'/'.join(map(str, counts))} collections of generations 0/1/2 "
            f"({'/'.join(f'{x:.2f}' for x in seconds)} s)")


def cpu_profile_benchmark(sizes: list[int], keep: Path | None, top: int, engine: bool = False) -> None:
    """Per size: a no-op preview unprofiled (CPU s), then one with cProfile in every thread of the
    program and the provider process; the top functions at each size and their growth. With
    `engine`, one more preview with the engine's own CPU profile (`pulumi --profiling`)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = keep or Path(tmp)
        profiles: dict[str, list[CpuProfile]] = {"program": [], "provider": []}
        for target in sizes:
            root = base / f"size-{target}"
            root.mkdir(parents=True, exist_ok=True)
            engine_stack, n = deployed_region(root, target)
            stack = Instrumented.wrap(engine_stack, root / "procs")
            load = os.getloadavg()[0]
            plain = stack.preview()
            out = root / "profiles"
            out.mkdir(exist_ok=True)
            stack.stack.env["PRIVATECLOUD_CPU_PROFILE"] = str(out)
            try:
                profiled = stack.preview()
            finally:
                stack.stack.env.pop("PRIVATECLOUD_CPU_PROFILE")
            print(f"\n{n} dynamic resources, no-op preview (load average {load:.1f}): unprofiled "
                  f"{plain.seconds:.2f} s, "
                  f"CPU s engine {plain.engine_cpu_s:.2f}, program {plain.procs.cpu('program'):.2f}, provider "
                  f"{plain.procs.cpu('provider'):.2f} (garbage collector: {gc_text(plain, 'program')}; "
                  f"{gc_text(plain, 'provider')}); profiled {profiled.seconds:.2f} s", flush=True)
            for role in ("program", "provider"):
                for rec in profiled.procs.of(role):
                    prof = CpuProfile.load(n, rec)
                    profiles[role].append(prof)
                    print(f"{role} (pid {rec['pid']}): CPU {prof.cpu_s:.2f} s profiled ({prof.profiled_s:.2f} s "
                          f"in the profiles of its Python threads); {rec['profile']}")
                    print("  by own CPU:\n" + "\n".join(prof.top(1, top)))
                    print("  by cumulative CPU:\n" + "\n".join(prof.top(2, top)), flush=True)
            print("\n".join(state_lines(stack.stack)), flush=True)
            if engine:
                stack.preview("--profiling", str(out / "engine"))
                print("\n".join(engine_profile_lines(out / "engine", top)), flush=True)
        for role, profs in profiles.items():
            for a, b in itertools.pairwise(profs):
                print(f"\n{role}:")
                print("\n".join(growth_lines(a, b, top)))
        if keep is None:
            print("(the regions go with the temporary directory: --keep DIR keeps them for the next run)")


def cpu_line(label: str, runs: list[Run]) -> str:
    t = median([r.seconds for r in runs])
    return (f"  {label:34s}{t:6.2f} s [{min(r.seconds for r in runs):.2f}-{max(r.seconds for r in runs):.2f}]  "
            f"CPU s: engine and plugins {median([r.engine_cpu_s for r in runs]):.2f}, program "
            f"{median([r.procs.cpu('program') for r in runs]):.2f}, "
            f"provider {median([r.procs.cpu('provider') for r in runs]):.2f} (program's garbage collector "
            f"{median([r.procs.gc_cpu('program') for r in runs]):.2f})"
            f"; peak MB program {max(r.procs.peak_mb('program') for r in runs):.0f}, provider "
            f"{max(r.procs.peak_mb('provider') for r in runs):.0f}")


def trivial_baseline(root: Path, n: int) -> EngineStack:
    """`n` trivial resources deployed under `root`, or those a previous run left there."""
    kept = kept_stack(root)
    if kept is not None:
        return kept[0]
    stack = EngineStack.create(root, engine_bin_dir(), project="baseline", program=BASELINE, config={"count": str(n)})
    stack.up()
    keep_stack(root, stack, n)
    return stack


def same_bytes_baseline(region: EngineStack, n: int, root: Path) -> EngineStack:
    """The same-bytes baseline of `region` (`n` dynamic resources) under `root`, or the one a
    previous run left there: a copy of its stack, state and all, whose program declares what the
    state holds, with no logic (`benchmarks.echo`)."""
    kept = kept_stack(root)
    if kept is not None:
        return kept[0]
    export = region.run("stack", "export", "--show-secrets")
    export.check()
    src = region.workdir.parent
    shutil.copytree(src, root, symlinks=True)
    env = {k: v.replace(str(src), str(root)) for k, v in region.env.items()}
    stack = EngineStack(root / region.workdir.name, region.bin_dir, region.name, env, region.project)
    (stack.workdir / "resources.json").write_text(json.dumps(resources_file(json.loads(export.stdout))))
    stack.write_program("from pathlib import Path\n\nfrom benchmarks.echo import declare\n\n"
                        "declare(Path('resources.json'))\n")
    keep_stack(root, stack, n)
    return stack


def compare_benchmark(base_rev: str, target: int, runs: int, keep: Path | None = None,
                      head_rev: str | None = None, log_off: bool = False, same_bytes: bool = False) -> None:
    """Deploy a region of about `target` resources with the program at `base_rev`, then time no-op
    previews round by round: the program at `base_rev`, this tree's (or `head_rev`'s), and as many
    trivial resources.

    This tree previewing state that `base_rev` wrote, with no change, is also the check that its
    property bags are compatible with a region deployed before. With `keep`, the region and the
    baseline are those `profile --cpu --keep` deployed there (by the tree of that run), and no lab
    runs: a no-op preview calls no backend."""
    region = scaled_design(target)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trees = {"base": checkout(base_rev, root / "base"),
                 "this tree": checkout(head_rev, root / "head") if head_rev else REPO}
        labels = {"base": f"region at {base_rev}", "this tree": f"region at {head_rev}" if head_rev else
                  "region, this tree"}
        if keep is not None:
            engine_stack, n = deployed_region(keep / f"size-{target}", target)
            stack = Instrumented.wrap(engine_stack, root / "procs")
            baseline = Instrumented.wrap(trivial_baseline(keep / f"size-{target}" / "baseline", n),
                                         root / "procs-baseline")
            same = Instrumented.wrap(same_bytes_baseline(engine_stack, n, keep / f"size-{target}" / "same-bytes"),
                                     root / "procs-same") if same_bytes else None
            print(f"region of {n} dynamic resources kept in {keep}", flush=True)
            compare_rounds(stack, baseline, trees, labels, n, runs, log_off, same)
            return
        with running_lab(root / "lab", xapi_hosts=xapi_hosts(region)) as lab:
            stack = Instrumented.wrap(region_stack(root / "region", lab, region, root / "api.log"), root / "procs")
            use(stack, trees["base"])
            up_s, up = timed(stack.run, "up", "--skip-preview")
            n = custom_resources(up.result)  # as the engine counts them (the zone's day 0 and tenants add some)
            print(f"region of {n} dynamic resources deployed by {base_rev} in {up_s:.0f} s", flush=True)
            baseline = Instrumented.wrap(EngineStack.create(
                root / "baseline", engine_bin_dir(), project="baseline", program=BASELINE, config={"count": str(n)},
            ), root / "procs-baseline")
            baseline.run("up", "--skip-preview")
            compare_rounds(stack, baseline, trees, labels, n, runs, log_off)
            # No destroy: undeploying hundreds of nodes takes as long as deploying them, and the
            # lab and both stacks' state go with the temporary directory.


def growth_benchmark(base_rev: str, head_rev: str | None, keep: Path, sizes: list[int], runs: int) -> None:
    """No-op previews of the regions `profile --cpu --keep` kept at `sizes`, round by round over the
    sizes and both trees (so load hits every cell alike): CPU seconds per size and per resource
    added, the program's garbage collector beside them."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trees = {"base": checkout(base_rev, root / "base"),
                 "this tree": checkout(head_rev, root / "head") if head_rev else REPO}
        labels = {"base": base_rev, "this tree": head_rev or "this tree"}
        stacks: dict[int, tuple[Instrumented, int]] = {}
        for target in sizes:
            engine_stack, n = deployed_region(keep / f"size-{target}", target)
            stacks[target] = (Instrumented.wrap(engine_stack, root / f"procs-{target}"), n)
        times: dict[tuple[int, str], list[Run]] = {}
        loads = []
        for _ in range(runs):
            loads.append(os.getloadavg()[0])
            for target, (stack, _n) in stacks.items():
                for tree in ("base", "this tree"):
                    use(stack, trees[tree])
                    times.setdefault((target, tree), []).append(stack.preview())
        print(f"no-op previews by size, median of {runs}, round by round (load average "
              f"{', '.join(f'{x:.1f}' for x in loads)}):")
        for target, (_stack, n) in stacks.items():
            for tree in ("base", "this tree"):
                print(cpu_line(f"{n} resources, {labels[tree]}", times[(target, tree)]))
        for tree in ("base", "this tree"):
            for a, b in itertools.pairwise(stacks):
                na, nb = stacks[a][1], stacks[b][1]
                k = 1000 / (nb - na)

                def cpu(target: int, role: str, tree: str = tree) -> float:
                    runs_ = times[(target, tree)]
                    if role == "engine":
                        return median([r.engine_cpu_s for r in runs_])
                    if role == "gc":
                        return median([r.procs.gc_cpu("program") for r in runs_])
                    return median([r.procs.cpu(role) for r in runs_])

                print(f"  {labels[tree]}, per resource added {na} -> {nb}: " + ", ".join(
                    f"{role} {(cpu(b, role) - cpu(a, role)) * k:.1f} ms "
                    f"(average at {na}: {cpu(a, role) / na * 1000:.1f})"
                    for role in ("engine", "program", "gc", "provider")))


@contextlib.contextmanager
def engine_log_off(*stacks: Instrumented) -> Iterator[None]:
    """The engine's automatic log off for `stacks`: a file where their PULUMI_HOME's `logs`
    directory goes. The pinned engine writes that log for every command and has no setting for
    it (cmd/pulumi/pulumi.go: `StartLogging`, pkg/logging/encrypted.go); when it cannot make the
    directory it goes on without the log ("automatic logging unavailable")."""
    dirs = [Path(s.stack.env["PULUMI_HOME"]) / "logs" for s in stacks]
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
        d.write_text("the engine's automatic log is off for a benchmark (benchmarks/region.py)\n")
    try:
        yield
    finally:
        for d in dirs:
            d.unlink()


def compare_rounds(stack: Instrumented, baseline: Instrumented, trees: dict[str, Path], labels: dict[str, str],
                   n: int, runs: int, log_off: bool = False, same: Instrumented | None = None) -> None:
    """With `log_off`, each round also previews this tree and the baseline with the engine's
    automatic log off (`engine_log_off`): what that log costs each side. With `same`, each round
    also previews the same-bytes baseline (`same_bytes_baseline`), with the log off too if asked."""
    times: dict[str, list[Run]] = {"base": [], "this tree": [], "baseline": []}
    loads = []
    for _ in range(runs):  # round by round, so load on the machine hits all alike
        loads.append(os.getloadavg()[0])
        for tree in ("base", "this tree"):
            use(stack, trees[tree])
            times[tree].append(stack.preview())  # raises unless a no-op
        times["baseline"].append(baseline.preview())
        if same is not None:
            times.setdefault("same bytes", []).append(same.preview())
        if log_off:
            with engine_log_off(stack, baseline, *([same] if same else [])):
                times.setdefault("this tree, log off", []).append(stack.preview())
                times.setdefault("baseline, log off", []).append(baseline.preview())
                if same is not None:
                    times.setdefault("same bytes, log off", []).append(same.preview())
    print(f"no-op preview, median of {runs} [min-max], side by side (load average "
          f"{', '.join(f'{x:.1f}' for x in loads)}):")
    rows = [("base", labels["base"]), ("this tree", labels["this tree"]), ("baseline", f"{n} trivial resources")]
    if log_off:
        rows += [("this tree, log off", f"{labels['this tree']}, engine log off"),
                 ("baseline, log off", f"{n} trivial resources, engine log off")]
    rows += [(k, f"{n} resources of the region's bytes, no logic{k.removeprefix('same bytes')}")
             for k in ("same bytes", "same bytes, log off") if k in times]
    for key, label in rows:
        print(cpu_line(label, times[key]))
    for key, against in (("base", "baseline"), ("this tree", "baseline"), ("this tree, log off", "baseline, log off"),
                         ("this tree", "same bytes"), ("same bytes", "baseline"),
                         ("this tree, log off", "same bytes, log off"), ("same bytes, log off", "baseline, log off")):
        if key in times and against in times:
            r = median([x.seconds for x in times[key]]) / median([x.seconds for x in times[against]])
            cpu = median([x.cpu_s for x in times[key]]) / median([x.cpu_s for x in times[against]])
            print(f"  {key}: {r:.2f} x {against} (CPU s {cpu:.2f} x)")
    use(stack, trees["this tree"])
    sampled = stack.preview(sample_ms=5)
    for role in ("program", "provider"):
        for rec in sampled.procs.of(role):
            print("\n".join(profile_lines(rec, role)))


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


def calls_benchmark(pools: int, per_pool: int, storage: int, runs: int) -> None:
    """The backend API calls of a refresh of a small region, per resource and by backend.

    The lab of tests/recovery (XCP-ng emulators, the lab's Ceph, Ironic, the CloudStack emulator);
    the count is every HTTP request of the engine command's Python processes (benchmarks/apicount).
    """
    region = region_design(pools, per_pool, storage)
    region["deployTimeouts"] = {"manage": 60, "clean": 120, "deploy": 300, "undeploy": 300, "pollInterval": 0.5}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_lab(root / "lab", xapi_hosts=[f"xcp-{i:03d}" for i in range(pools * per_pool)]) as lab:
            log = root / "api.log"
            stack = region_stack(root / "region", lab, region, log)
            try:
                up_s, up = timed(stack.up)
                n = custom_resources(up)
                print(f"region: {len(region['servers'])} servers, {pools} pools of {per_pool}: {n} dynamic "
                      f"resources, deployed in {up_s:.0f} s")
                for i in range(runs):
                    log.unlink(missing_ok=True)
                    res = stack.refresh()
                    calls = api_calls(log)
                    total = sum(calls.values())
                    print(f"refresh {i + 1}: {total} API calls for {n} resources ({total / n:.2f} per resource), "
                          f"changes {res.changes or 'none'}; by backend {by_backend(lab, calls)}")
                print(f"  by call (last refresh): {dict(api_whats(log).most_common())}")
                log.unlink(missing_ok=True)
                stack.preview()
                total = sum(api_calls(log).values())
                print(f"no-op preview: {total} API calls ({total / n:.2f} per resource)")
            finally:
                stack.destroy()


def api_whats(log: Path) -> Counter[str]:
    """Requests by what they asked (a CloudStack command, an XML-RPC method, else the path)."""
    out: Counter[str] = Counter()
    for line in log.read_text().splitlines() if log.exists() else []:
        parts = line.split()
        if len(parts) >= 3:
            out[parts[3] if len(parts) > 3 else "/" + parts[2].split("/", 1)[-1]] += 1
    return out


def by_backend(lab: dict[str, Any], calls: Counter[str]) -> dict[str, int]:
    """`calls` (by host:port) summed by the lab piece that listens there."""
    names: dict[str, str] = {}
    for backend, endpoint in (("ironic", lab["ironic"]["endpoint"]), ("cloudstack", lab["cloudstack"]["endpoint"]),
                              ("ceph-dashboard", lab["ceph"].get("dashboard_url", "")),
                              ("ceph-rgw", lab["ceph"].get("rgw_url", ""))):
        names[str(endpoint).split("://")[-1].split("/")[0]] = backend
    for h in lab["xapi"]["hosts"]:
        names[str(h["url"]).split("://")[-1].split("/")[0]] = "xapi"
    out: Counter[str] = Counter()
    for where, k in calls.items():
        out[names.get(where, where)] += k
    return dict(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.region", description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", choices=["preview", "fleet", "scale", "profile", "calls", "compare"])
    ap.add_argument("--pools", type=int, default=2, help="calls: XCP-ng pools")
    ap.add_argument("--hosts", type=int, default=2, help="calls: hosts per pool")
    ap.add_argument("--storage", type=int, default=2, help="calls: storage servers")
    ap.add_argument("--base", default="HEAD", help="compare: the git revision to compare this tree with")
    ap.add_argument("--head", help="compare: the git revision on the other side (default: this tree)")
    ap.add_argument("--size", type=int, default=500, help="compare: the region's size in dynamic resources (about)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpu", action="store_true", help="profile: CPU profiles (cProfile) at --sizes")
    ap.add_argument("--keep", type=Path, help="profile --cpu: deploy the regions here, or reuse those found; "
                    "compare: preview those regions (and trivial baselines kept beside them)")
    ap.add_argument("--engine", action="store_true", help="profile --cpu: the engine's CPU profile too (go pprof)")
    ap.add_argument("--engine-log-off", action="store_true",
                    help="compare: also preview this tree and the baseline with the engine's automatic log off")
    ap.add_argument("--same-bytes", action="store_true",
                    help="compare --keep: also preview the region's own state declared with no logic "
                         "(benchmarks/echo.py): what its bytes cost, apart from its program")
    ap.add_argument("--top", type=int, default=25, help="profile --cpu: functions per list")
    ap.add_argument("--sizes", help="scale (default 50,250,500,1000), profile --cpu (default 120,250): "
                    "comma-separated region sizes in dynamic resources (about)")
    args = ap.parse_args(argv)
    if args.same_bytes and not (args.scenario == "compare" and args.keep and not args.sizes):
        ap.error("--same-bytes goes with compare --keep DIR --size N")
    if args.scenario == "preview":
        preview_benchmark(args.runs)
    elif args.scenario == "scale":
        scale_benchmark([int(x) for x in (args.sizes or "50,250,500,1000").split(",")], args.runs)
    elif args.scenario == "profile" and args.cpu:
        cpu_profile_benchmark([int(x) for x in (args.sizes or "120,250").split(",")], args.keep, args.top,
                              args.engine)
    elif args.scenario == "profile":
        profile_benchmark()
    elif args.scenario == "calls":
        calls_benchmark(args.pools, args.hosts, args.storage, args.runs)
    elif args.scenario == "compare":
        if args.keep and args.sizes:
            growth_benchmark(args.base, args.head, args.keep, [int(x) for x in args.sizes.split(",")], args.runs)
        else:
            compare_benchmark(args.base, args.size, args.runs, args.keep, args.head, args.engine_log_off,
                              args.same_bytes)
    else:
        fleet_benchmark()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
