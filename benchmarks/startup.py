"""Start-up benchmark: where the seconds of a no-op `pulumi preview` of a small stack go.

    .venv/bin/python -m benchmarks.startup [--runs 3]

On an ephemeral lab of its own (lab/ephemeral.py, free ports; never the dev lab's), it deploys the
dev region and an empty Python program on the same engine, then times side by side, round by
round (median of `--runs`):

- the empty program's no-op preview (the engine's floor) and its `--refresh`;
- the dev region's no-op preview, plain and `--refresh`;
- in each, the program and the dynamic-provider processes: when they started after the command,
  how long they lived, their peak memory (benchmarks/procstats);

and beside them, in fresh interpreters: the program's module imports and the dynamic-provider
process's imports (`python -X importtime`, by package), the backend clients a refresh imports, and
the program's own work with the engine replaced by Pulumi's mocks (config validation and
registration of every resource).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.measure import Instrumented, Run, import_times, median, packages_line
from lab.ephemeral import running_lab, stack_config
from tests.enginekit import REPO, EngineStack, engine_bin_dir

PROGRAM_IMPORTS = ["pulumi", "components.config", "components.region"]
# The host (`python -m pulumi.dynamic`) and what unpickling the region's providers imports.
PROVIDER_IMPORTS = ["pulumi.dynamic", "pulumi.runtime.proto.provider_pb2_grpc", "dill",
                    "providers.ironic", "providers.ceph", "providers.xcpng", "providers.cloudstack"]
# What the providers import on their first call to a backend (a refresh).
CLIENT_IMPORTS = ["ironicclient.client", "cs", "XenAPI", "requests"]


def dev_region() -> dict[str, Any]:
    region = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["privatecloud:region"]
    region["deployTimeouts"] = {"manage": 60, "clean": 120, "deploy": 300, "undeploy": 300, "pollInterval": 0.5}
    return dict(region)


def mocked_declaration_seconds(runs: int) -> float:
    """The dev region's validation and declaration with Pulumi's mocks instead of the engine."""
    import subprocess

    code = (
        "import time; t = time.monotonic()\n"
        "from components.config import load_stack_file\n"
        "from tests.components.conftest import declare_region\n"
        "t = time.monotonic(); declare_region(load_stack_file('Pulumi.dev.yaml'))\n"
        "print(time.monotonic() - t)\n"
    )
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                             env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}).stdout
        times.append(float(out.strip().splitlines()[-1]))
    return median(times)


def process_line(role: str, runs: list[Run]) -> str | None:
    """When the role's process started after the command (median), how long it lived, its peak memory."""
    if not all(r.procs.of(role) for r in runs):
        return None
    first = median([min(p["start"] for p in r.procs.of(role)) - r.started for r in runs])
    life = median([r.procs.lifetime(role) for r in runs])
    peak = max(r.procs.peak_mb(role) for r in runs)
    return f"{role} starts at {first:.2f} s, lives {life:.2f} s, peak {peak:.0f} MB"


def row(label: str, runs: list[Run], floor: float | None = None) -> str:
    t = median([r.seconds for r in runs])
    extra = f"  (+{t - floor:.2f} s over the floor)" if floor is not None else ""
    parts = [p for role in ("program", "provider") if (p := process_line(role, runs))]
    cpu = (f"CPU s: engine and plugins {median([r.engine_cpu_s for r in runs]):.2f}, "
           f"program {median([r.procs.cpu('program') for r in runs]):.2f}, "
           f"provider {median([r.procs.cpu('provider') for r in runs]):.2f}")
    parts.append(cpu)
    spread = f"[{min(r.seconds for r in runs):.2f}-{max(r.seconds for r in runs):.2f}]"
    return f"{label:30s}{t:6.2f} s {spread}{extra}\n{'':32s}" + f"\n{'':32s}".join(parts)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    bin_dir = engine_bin_dir()

    print("imports in a fresh interpreter (median of 3; self ms by package):", flush=True)
    for label, modules in (("program", PROGRAM_IMPORTS), ("provider process", PROVIDER_IMPORTS),
                           ("backend clients (refresh)", CLIENT_IMPORTS), ("pulumi alone", ["pulumi"])):
        seconds, by_package = import_times(modules)
        print(f"  {label:28s}{seconds:5.2f} s  {packages_line(by_package)}", flush=True)
    print(f"dev region validated and declared with mocks instead of the engine: "
          f"{mocked_declaration_seconds(args.runs):.2f} s", flush=True)

    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        root = Path(tmp)
        with running_lab(root / "lab", xapi_hosts=[f"xcp-{i:02d}" for i in range(1, 7)]) as lab:
            config = stack_config(lab, dev_region())
            region = Instrumented.wrap(EngineStack.create(
                root / "region", bin_dir, project="privatecloud", program=(REPO / "__main__.py").read_text(),
                config=config["plain"], secrets=config["secret"],
            ), root / "procs-region")
            empty = Instrumented.wrap(EngineStack.create(root / "empty", bin_dir, program="import pulumi\n"),
                                      root / "procs-empty")
            t0 = time.monotonic()
            up = region.run("up", "--skip-preview")
            n = sum(1 for s in up.result.steps if s.type.startswith("pulumi-python:"))
            print(f"dev region deployed on the ephemeral lab: {n} dynamic resources in {time.monotonic() - t0:.0f} s",
                  flush=True)
            empty.run("up", "--skip-preview")

            runs: dict[str, list[Run]] = {k: [] for k in ("empty", "empty-refresh", "region", "region-refresh")}
            for _ in range(args.runs):  # round by round, so load on the machine hits all alike
                runs["empty"].append(empty.preview())
                runs["region"].append(region.preview())
                runs["empty-refresh"].append(empty.preview("--refresh"))
                runs["region-refresh"].append(region.preview("--refresh"))
            floor = median([r.seconds for r in runs["empty"]])
            print(f"\nno-op `pulumi preview`, median of {args.runs} [min-max], side by side:")
            print(row("empty program (the floor)", runs["empty"]))
            print(row("empty program --refresh", runs["empty-refresh"], floor))
            print(row("dev region", runs["region"], floor))
            print(row("dev region --refresh", runs["region-refresh"], floor))
            region.run("destroy", "--skip-preview")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
