"""Start-up benchmark: where the seconds of a no-op `pulumi preview` of a small stack go.

    .venv/bin/python -m benchmarks.startup [--runs 3] [--base <git revision>]

On an ephemeral lab of its own (lab/ephemeral.py, free ports; never the dev lab's), it deploys the
dev region and an empty Python program on the same engine, then times side by side, round by
round (median of `--runs`):

- the empty program's no-op preview (the engine's floor) and its `--refresh`; the same empty
  program with the dev region's stack config (what the engine spends on the config and its secrets);
- the dev region's no-op preview, plain and `--refresh`; with `--base`, also the program at that
  revision previewing the same state in the same rounds (before and after a change, side by side);
- in each, the program and the dynamic-provider processes: when they started after the command,
  how long they lived, their peak memory (benchmarks/procstats), and the CPU seconds of each
  process and of the whole command (against the floor's), with the load average before and after;
  with `--refresh`, the refresh phase (the reading provider process's start to the program's,
  which the engine starts when every read is done);

and beside them, in fresh interpreters: the program's module imports and the dynamic-provider
process's imports (`python -X importtime`, by package), the backend clients a refresh imports, what
the provider process does at each kind's first check (import the resource modules, build the input
models), and the program's own work with the engine replaced by Pulumi's mocks (config validation and
registration of every resource).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.measure import Instrumented, Run, checkout, import_times, load_average, median, packages_line, use
from lab.ephemeral import running_lab, stack_config
from tests.enginekit import REPO, EngineStack, engine_bin_dir
from tests.unit.test_startup_imports import PROGRAM  # what __main__.py imports

# The host (`python -m pulumi.dynamic`) and what unpickling the region's providers imports: each
# provider's own module (the packages load their modules on first use).
PROVIDER_IMPORTS = ["pulumi.dynamic", "pulumi.runtime.proto.provider_pb2_grpc", "dill",
                    *(f"providers.ironic.{m}" for m in ("node", "fleet")),
                    *(f"providers.ceph.{m}" for m in ("pool", "rgw", "cephfs", "cephx")),
                    *(f"providers.xcpng.{m}" for m in ("pool", "network", "storage")),
                    *(f"providers.cloudstack.{m}" for m in ("management", "globalsettings", "zone", "network", "pod",
                                                            "cluster", "storage", "ipranges", "readiness",
                                                            "offerings", "templates", "tenants"))]
# What the providers import on their first call to a backend (a refresh).
CLIENT_IMPORTS = ["ironicclient.client", "cs", "XenAPI", "requests"]


def dev_region() -> dict[str, Any]:
    region = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["privatecloud:region"]
    region["deployTimeouts"] = {"manage": 60, "clean": 120, "deploy": 300, "undeploy": 300, "pollInterval": 0.5}
    return dict(region)


def mocked_declaration_seconds(runs: int) -> float:
    """The dev region's validation and declaration with Pulumi's mocks instead of the engine."""
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


# What the provider process does at each kind's first check, in a fresh interpreter: import every
# resource module (as unpickling the providers does), then build every input model (pydantic, with
# the fields' docstrings as descriptions). CPU seconds of each step.
MODELS_CODE = """
import importlib, pkgutil, time
import pulumi.dynamic, dill
t0 = time.process_time()
for backend in ("ironic", "ceph", "xcpng", "cloudstack"):
    package = importlib.import_module("providers." + backend)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"providers.{backend}.{info.name}")
t1 = time.process_time()
from providers._core.declare import Args
def subclasses(c):
    for s in c.__subclasses__():
        yield s
        yield from subclasses(s)
kinds = [a for a in subclasses(Args) if a.__module__.startswith("providers.")]
for a in kinds:
    a.model()
print(len(kinds), t1 - t0, time.process_time() - t1)
"""


def provider_first_check_seconds(runs: int) -> tuple[int, float, float]:
    """(kinds, CPU s importing every resource module, CPU s building every input model), medians."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "",
           "PYTHONPYCACHEPREFIX": os.path.join(tempfile.gettempdir(), "privatecloud-bench-pycache")}
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", MODELS_CODE], capture_output=True, text=True, check=True,
                             cwd=REPO, env=env).stdout.split()
        rows.append((int(out[0]), float(out[1]), float(out[2])))
    return rows[0][0], median([r[1] for r in rows]), median([r[2] for r in rows])


def import_cpu_seconds(modules: list[str], runs: int) -> float:
    """CPU seconds of `import <modules>` in a fresh interpreter (median): unlike -X importtime's
    wall times, barely moved by the load of a shared machine."""
    code = ("import time\nt = time.process_time()\n" + "".join(f"import {m}\n" for m in modules)
            + "print(time.process_time() - t)\n")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "",
           "PYTHONPYCACHEPREFIX": os.path.join(tempfile.gettempdir(), "privatecloud-bench-pycache")}
    return median([float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                        cwd=REPO, env=env).stdout) for _ in range(runs)])


def process_line(role: str, runs: list[Run]) -> str | None:
    """When the role's process started after the command (median), how long it lived, its peak memory."""
    if not all(r.procs.of(role) for r in runs):
        return None
    first = median([min(p["start"] for p in r.procs.of(role)) - r.started for r in runs])
    life = median([r.procs.lifetime(role) for r in runs])
    peak = max(r.procs.peak_mb(role) for r in runs)
    return f"{role} starts at {first:.2f} s, lives {life:.2f} s, peak {peak:.0f} MB"


def refresh_line(runs: list[Run]) -> str | None:
    """With `--refresh`, the refresh phase: from the start of the provider process that reads
    (started before the program) to the program's start, which waits for the refresh's end."""
    spans = []
    for r in runs:
        programs, providers = r.procs.of("program"), r.procs.of("provider")
        program = min((p["start"] for p in programs), default=None)
        reader = min((p["start"] for p in providers), default=None)
        if program is None or reader is None or reader >= program:
            return None
        spans.append(program - reader)
    return f"refresh phase (provider start to program start) {median(spans):.2f} s [{min(spans):.2f}-{max(spans):.2f}]"


def row(label: str, runs: list[Run], floor: list[Run] | None = None) -> str:
    """Wall time (median, spread) and CPU seconds by process; with `floor`, both over the floor's."""
    t = median([r.seconds for r in runs])
    cpu_total = median([r.cpu_s for r in runs])
    extra = ""
    if floor is not None:
        extra = (f"  (+{t - median([r.seconds for r in floor]):.2f} s over the floor, "
                 f"CPU +{cpu_total - median([r.cpu_s for r in floor]):.2f} s)")
    parts = [p for role in ("program", "provider") if (p := process_line(role, runs))]
    if (refresh := refresh_line(runs)) is not None:
        parts.append(refresh)
    providers = max(len(r.procs.of("provider")) for r in runs)
    cpu = (f"CPU s: all {cpu_total:.2f}; engine and plugins {median([r.engine_cpu_s for r in runs]):.2f}, "
           f"program {median([r.procs.cpu('program') for r in runs]):.2f}, "
           f"provider {median([r.procs.cpu('provider') for r in runs]):.2f}"
           + (f" ({providers} provider processes)" if providers > 1 else ""))
    parts.append(cpu)
    logs = median([len(r.result.diagnostics("debug")) for r in runs])
    if logs:  # a Log RPC each from the SDK (pulumi.log.debug; 4-5 per registration; components/sdklog.py)
        parts.append(f"SDK debug messages to the engine: {logs:.0f}")
    spread = f"[{min(r.seconds for r in runs):.2f}-{max(r.seconds for r in runs):.2f}]"
    return f"{label:30s}{t:6.2f} s {spread}{extra}\n{'':32s}" + f"\n{'':32s}".join(parts)


def one_round(runs: dict[str, list[Run]], empty: Instrumented, configured: Instrumented, region: Instrumented,
              trees: dict[str, Path]) -> None:
    """Every side's previews once, plain then `--refresh` (round by round, load hits all alike)."""
    runs["empty"].append(empty.preview())
    runs["configured"].append(configured.preview())
    for label, tree in trees.items():
        use(region, tree)
        runs[label].append(region.preview())
    runs["empty --refresh"].append(empty.preview("--refresh"))
    for label, tree in trees.items():
        use(region, tree)
        runs[f"{label} --refresh"].append(region.preview("--refresh"))
    use(region, REPO)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--base", help="also preview with the program at this git revision, side by side")
    args = ap.parse_args(argv)
    bin_dir = engine_bin_dir()

    print(f"imports in a fresh interpreter (median of 3; wall s, CPU s, self wall ms by package; load average "
          f"{load_average()}):", flush=True)
    for label, modules in (("program", PROGRAM), ("provider process", PROVIDER_IMPORTS),
                           ("backend clients (refresh)", CLIENT_IMPORTS), ("pulumi alone", ["pulumi"])):
        seconds, by_package = import_times(modules)
        cpu = import_cpu_seconds(modules, 3)
        print(f"  {label:28s}{seconds:5.2f} s, CPU {cpu:4.2f} s  {packages_line(by_package)}", flush=True)
    kinds, imports_s, models_s = provider_first_check_seconds(args.runs)
    print(f"provider process, CPU s: every resource module {imports_s:.2f}, then the {kinds} input models "
          f"{models_s:.2f}", flush=True)
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
            # The same empty program with the region's stack config (its secrets included): what
            # the engine spends on the config alone (decrypting it with the passphrase).
            configured = Instrumented.wrap(EngineStack.create(
                root / "configured", bin_dir, project="privatecloud", program="import pulumi\n",
                config=config["plain"], secrets=config["secret"],
            ), root / "procs-configured")
            configured.run("up", "--skip-preview")

            trees = {"dev region": REPO}
            if args.base:
                trees[f"dev region at {args.base}"] = checkout(args.base, root / "base")
            runs: dict[str, list[Run]] = {k: [] for k in ("empty", "empty --refresh", "configured", *trees,
                                                          *(f"{t} --refresh" for t in trees))}
            load_before = load_average()
            for _ in range(args.runs):
                one_round(runs, empty, configured, region, trees)
            floor = runs["empty"]
            print(f"\nno-op `pulumi preview`, median of {args.runs} [min-max], side by side "
                  f"(load average 1/5/15 min: {load_before} before, {load_average()} after):")
            print(row("empty program (the floor)", runs["empty"]))
            print(row("empty program --refresh", runs["empty --refresh"], floor))
            print(row("empty, the region's config", runs["configured"], floor))
            for label in trees:
                print(row(label, runs[label], floor))
            for label in trees:
                print(row(f"{label} --refresh", runs[f"{label} --refresh"], floor))
            region.run("destroy", "--skip-preview")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
