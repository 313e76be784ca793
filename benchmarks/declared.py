"""The program's own work for a generated region, with Pulumi's mocks instead of the engine.

    .venv/bin/python -m benchmarks.declared [--sizes 50,250,500,1000]

For each size, in a fresh interpreter: the stack config validated, then the region declared
(every resource registered with the mocks), twice: with the SDK's own dependency-cycle check and
with `components.cycles` (what the program uses). It prints the CPU seconds of each, per resource,
and the steps the cycle checks walked (resources visited), which need no quiet machine: they grow
with (resources after the Ironic Fleet) x (nodes) with the SDK's check, linearly with the other.
"""

from __future__ import annotations

import argparse
import json
import os
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


def measure(size: int, fast: bool) -> dict[str, Any]:
    code = f"import json; from benchmarks.declared import declare; print(json.dumps(declare({size}, {fast})))"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": ""}
    out = subprocess.run([str(VENV / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.declared", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="50,250,500,1000")
    args = ap.parse_args(argv)
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
