"""The program's own work for a generated region, with Pulumi's mocks instead of the engine.

    .venv/bin/python -m benchmarks.declared [--sizes 50,250,500,1000]
    .venv/bin/python -m benchmarks.declared --trivial [--sizes 250,500] [--runs 3]

For each size, in a fresh interpreter: the stack config validated, then the region declared
(every resource registered with the mocks), twice: with the SDK's own dependency-cycle check and
with `components.cycles` (what the program uses). It prints the CPU seconds of each, per resource,
and the steps the cycle checks walked (resources visited), which need no quiet machine: they grow
with (resources after the Ironic Fleet) x (nodes) with the SDK's check, linearly with the other.

With `--trivial`: the region as the engine benchmarks deploy it (`benchmarks.region`: the lab's
existing Ceph, so NFS SRs and no day 0) against as many trivial dynamic resources
(`benchmarks/trivial.py`), both registered under the same mocks, each in a fresh interpreter,
round by round: the program's CPU milliseconds per resource, which is the program's share of the
no-op preview's per-resource cost without an engine (and without its noise).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.region import scaled_design
from tests.enginekit import REPO, VENV


def declare(size: int, fast: bool) -> dict[str, Any]:
    """Runs in the child: validate and declare a region of about `size` resources."""
    from pulumi.runtime import resource_cycle_breaker

    from components.config import load_stack_file
    from tests.components.conftest import declare_region

    raw = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    region = scaled_design(size)
    for i, server in enumerate(region["servers"]):  # one SSH address per server, as the config wants
        server["managementAddress"] = f"127.3.{i // 200}.{i % 200 + 1}"
    raw["config"]["privatecloud:region"] = region
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Pulumi.bench.yaml"
        path.write_text(yaml.safe_dump(raw))
        t0 = time.process_time()
        cfg = load_stack_file(str(path))
        validate_s = time.process_time() - t0
    steps = 0
    deps = resource_cycle_breaker._deps

    def counted(res: Any) -> Any:
        nonlocal steps
        steps += 1
        return deps(res)

    resource_cycle_breaker._deps = counted  # called once per resource a walk visits
    if fast:
        from components.cycles import faster_cycle_check

        faster_cycle_check()
    t0 = time.process_time()
    graph = declare_region(cfg)
    declare_s = time.process_time() - t0
    custom = sum(1 for r in graph.by_name.values() if r.custom)
    return {"resources": custom, "validate_s": validate_s, "declare_s": declare_s, "walk_steps": steps}


def engine_shaped(size: int) -> dict[str, Any]:
    """The stack file of the region `benchmarks.region` deploys (an existing Ceph: no day 0)."""
    from lab.ephemeral import _nfs_srs

    raw = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    config = raw["config"]
    region = scaled_design(size)
    _nfs_srs(region)
    for i, server in enumerate(region["servers"]):
        server["managementAddress"] = f"127.3.{i // 200}.{i % 200 + 1}"
    config["privatecloud:region"] = region
    for key in ("privatecloud:cephBootstrap", "privatecloud:managementServer"):
        config.pop(key, None)
    secret = {"secure": "v1:not-decrypted-under-mocks"}
    config["privatecloud:ceph"] = {"dashboardUrl": "http://127.0.0.1:1", "dashboardUser": "admin",
                                   "dashboardPassword": secret, "rgwUrl": "http://127.0.0.1:2",
                                   "rgwAccessKey": "access", "rgwSecretKey": secret}
    config["privatecloud:cloudstack"] = {"endpoint": "http://127.0.0.1:3/client/api", "apiKey": "key",
                                         "secretKey": secret}
    return dict(raw)


def against_trivial(size: int, trivial: bool) -> dict[str, Any]:
    """Runs in the child: register the engine-shaped region of about `size` resources, or as many
    trivial resources as it has (`size` is then that count); CPU seconds of the registration."""
    import pulumi

    from components.config import load_stack_file
    from components.cycles import faster_cycle_check
    from tests.components.conftest import Mocks, RecordingMonitor, declare_region

    if trivial:
        from benchmarks.trivial import Thing

        mocks = Mocks()
        pulumi.runtime.set_mocks(mocks, project="baseline", stack="bench", preview=False,
                                 monitor=RecordingMonitor(mocks))

        @pulumi.runtime.test
        def things() -> pulumi.Output[Any]:
            return pulumi.Output.all(*[Thing(f"thing-{i}", i).id for i in range(size)])

        t0 = time.process_time()
        things()
        return {"resources": size, "declare_s": time.process_time() - t0}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Pulumi.bench.yaml"
        path.write_text(yaml.safe_dump(engine_shaped(size)))
        cfg = load_stack_file(str(path))
    faster_cycle_check()
    import components.region  # noqa: F401 - imported before the clock starts, as the program's imports are

    t0 = time.process_time()
    graph = declare_region(cfg)
    declare_s = time.process_time() - t0
    return {"resources": sum(1 for r in graph.by_name.values() if r.custom), "declare_s": declare_s,
            "components": sum(1 for r in graph.by_name.values() if not r.custom)}


def child(code: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": ""}
    out = subprocess.run([str(VENV / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def trivial_table(sizes: list[int], runs: int) -> None:
    print(f"{'resources':>9s}  {'components':>10s}  {'region ms/res':>13s}  {'trivial ms/res':>14s}  ratio  "
          f"(median of {runs}, CPU of the registration under mocks)")
    for size in sizes:
        region: list[dict[str, Any]] = []
        base: list[dict[str, Any]] = []
        for _ in range(runs):  # round by round: load on the machine hits both alike
            region.append(child(f"import json; from benchmarks.declared import against_trivial; "
                                f"print(json.dumps(against_trivial({size}, False)))"))
            n = region[-1]["resources"]
            base.append(child(f"import json; from benchmarks.declared import against_trivial; "
                              f"print(json.dumps(against_trivial({n}, True)))"))
        n = region[0]["resources"]
        r = statistics.median(x["declare_s"] for x in region) / n * 1000
        b = statistics.median(x["declare_s"] for x in base) / n * 1000
        print(f"{n:9d}  {region[0]['components']:10d}  {r:13.2f}  {b:14.2f}  {r / b:5.2f}  "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)


def measure(size: int, fast: bool) -> dict[str, Any]:
    code = f"import json; from benchmarks.declared import declare; print(json.dumps(declare({size}, {fast})))"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": ""}
    out = subprocess.run([str(VENV / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.declared", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="50,250,500,1000")
    ap.add_argument("--trivial", action="store_true",
                    help="the engine benchmarks' region against as many trivial resources, ms per resource")
    ap.add_argument("--runs", type=int, default=3, help="--trivial: rounds (median)")
    args = ap.parse_args(argv)
    if args.trivial:
        trivial_table([int(x) for x in args.sizes.split(",")], args.runs)
        return 0
    print(f"{'resources':>9s}  {'validate':>8s}  {'declare, SDK cycle check':>30s}  {'declare, components.cycles':>30s}"
          f"  load average")
    for size in (int(x) for x in args.sizes.split(",")):
        sdk, fast = measure(size, False), measure(size, True)
        n = sdk["resources"]
        cells = [f"{m['declare_s']:5.2f} s {m['declare_s'] / n * 1000:4.1f} ms/res {m['walk_steps']:>8d} steps"
                 for m in (sdk, fast)]
        print(f"{n:9d}  {sdk['validate_s']:6.2f} s  {cells[0]:>30s}  {cells[1]:>30s}  {os.getloadavg()[0]:.1f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
