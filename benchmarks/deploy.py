"""Deploy benchmark: `./bin/deploy dev` from nothing, and where its minutes go.

    .venv/bin/python -m benchmarks.deploy [--runs 1]

Each run starts from nothing in a directory of its own (the lab's state, Pulumi's state and home):
the dev lab started afresh (`python -m lab up`, the dev profile), `./bin/deploy dev --json` (the
engine's events), then `./bin/deploy dev` again (a no-op), then the lab stopped. The dev profile
has fixed addresses and ports, so the operator's dev lab must be down (`python -m lab down`): the
benchmark says so and stops rather than touch it.

Printed, median of the runs: the lab's start; for each deploy its wall time, when its update began
(before it: bin/deploy's checks and the up's preview, with the refresh and the policy pack) and how
long the update took; and the parts of the first update: for each part of the region (a component
under the region: the bare metal, the Ceph cluster's day 0, the storage, each XCP-ng pool, the
zone, its tenants) when its first step began and its last ended, in seconds after the update
began (the engine's event times, whole seconds), and the same for each kind of resource in it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.measure import load_average, median
from tests.enginekit import REPO, VENV, json_events, plugin_cache

REGION = "privatecloud:region:Region"


@dataclass
class Span:
    start: int
    end: int
    count: int = 1

    def add(self, start: int, end: int) -> None:
        self.start, self.end, self.count = min(self.start, start), max(self.end, end), self.count + 1


@dataclass
class Part:
    """A component under the region, and its resources' steps by kind."""

    name: str
    span: Span
    kinds: dict[str, Span] = field(default_factory=dict)


def kind(type_token: str) -> str:
    """`ironic:Node` for `pulumi-python:dynamic/ironic:Node`, `command:remote:Command` as it is."""
    return type_token.removeprefix("pulumi-python:dynamic/")


def parts(events: Iterable[Mapping[str, Any]]) -> list[Part]:
    """The update's parts, in order of their start: each custom
    resource's step, from its pre-event to its outputs event, counts in the component right under
    the region that holds it (resources the region holds itself count in the region's part)."""
    parent: dict[str, str] = {}
    types: dict[str, str] = {}
    began: dict[str, int] = {}
    ended: dict[str, int] = {}
    custom: set[str] = set()
    first = None
    for ev in events:
        first = ev["timestamp"] if first is None else first
        for key, times in (("resourcePreEvent", began), ("resOutputsEvent", ended)):
            md = ev.get(key, {}).get("metadata")
            if md is None:
                continue
            urn, new = md["urn"], md.get("new") or {}
            times[urn] = ev["timestamp"] - first
            types[urn] = md["type"]
            if new.get("parent"):
                parent[urn] = new["parent"]
            if new.get("custom") and not md["type"].startswith("pulumi:providers:"):
                custom.add(urn)

    def part_of(urn: str) -> str:
        chain = [urn]
        while chain[-1] in parent and types.get(chain[-1]) != REGION:
            chain.append(parent[chain[-1]])
        return chain[-2] if len(chain) > 2 and types.get(chain[-1]) == REGION else chain[-1]

    found: dict[str, Part] = {}
    for urn in sorted(custom & began.keys() & ended.keys(), key=lambda u: began[u]):
        top, start, end, k = part_of(urn), began[urn], ended[urn], kind(types[urn])
        name = f"{top.rsplit('::', 1)[-1]} ({kind(types[top]).rsplit(':', 1)[-1]})"
        if top not in found:
            found[top] = Part(name, Span(start, end, 0))
        found[top].span.add(start, end)
        if k in found[top].kinds:
            found[top].kinds[k].add(start, end)
        else:
            found[top].kinds[k] = Span(start, end)
    return list(found.values())


@dataclass
class Pass:
    """One `bin/deploy dev`: its wall time, when its update began (before it: bin/deploy's own
    checks and the up's preview, with the refresh and the policy pack), how long the update took
    (the engine's summary), what it changed, and the update's parts."""

    seconds: float
    began: int
    update_s: int
    changes: dict[str, int]
    parts: list[Part]


@dataclass
class Deploy:
    lab_s: float
    first: Pass
    again: Pass


def one_deploy(root: Path) -> Deploy:
    """The dev region deployed from nothing in `root`, deployed again, and its lab stopped."""
    (root / "home").mkdir(parents=True)
    if plugin_cache().is_dir():  # the command plugin engine/setup installed
        (root / "home" / "plugins").symlink_to(plugin_cache())
    env = {**os.environ, "PRIVATECLOUD_LAB_DIR": str(root / "lab"), "PULUMI_HOME": str(root / "home"),
           "PULUMI_BACKEND_URL": f"file://{root / 'state'}"}
    (root / "state").mkdir()

    def run(*argv: str) -> tuple[float, float, str]:
        started, t = time.time(), time.monotonic()
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-4000:]}"
                             f"\n{done.stdout[-4000:]}")
        return time.monotonic() - t, started, done.stdout

    def deploy() -> Pass:
        seconds, started, out = run(str(REPO / "bin" / "deploy"), "dev", "--json")
        events = [ev for ev in json_events(out) if "sequence" in ev]  # the update's: its preview streams none
        summary = next(ev["summaryEvent"] for ev in reversed(events) if "summaryEvent" in ev)
        return Pass(seconds, round(events[0]["timestamp"] - started), int(summary["durationSeconds"]),
                    dict(summary["resourceChanges"]), parts(events))

    lab = [str(VENV / "bin" / "python"), "-m", "lab"]
    try:
        lab_s = run(*lab, "up", "--profile", "dev")[0]
        return Deploy(lab_s, deploy(), deploy())
    finally:
        subprocess.run([*lab, "down"], cwd=REPO, env=env, capture_output=True)


def span_text(spans: list[Span]) -> str:
    start, end = median([s.start for s in spans]), median([s.end for s in spans])
    return f"{start:4.0f} - {end:4.0f} s  ({end - start:3.0f} s)"


def pass_line(label: str, passes: list[Pass]) -> str:
    changes = ", ".join(f"{n} {op}" for op, n in passes[0].changes.items())
    seconds, began = median([p.seconds for p in passes]), median([p.began for p in passes])
    return (f"  {label:29s}{seconds:6.1f} s: its update began at {began:.0f} s and took "
            f"{median([p.update_s for p in passes]):.0f} s ({changes})")


def report(runs: list[Deploy]) -> None:
    print(f"`./bin/deploy dev` from nothing, median of {len(runs)}; the engine's event times are whole seconds:")
    print(f"  lab up (dev profile)         {median([r.lab_s for r in runs]):6.1f} s")
    print(pass_line("bin/deploy dev", [r.first for r in runs]))
    print(pass_line("bin/deploy dev again", [r.again for r in runs]))
    print("    (before an update: bin/deploy's checks, then the up's preview: refresh, program, policy pack)")
    print("  the first update's parts, seconds after it began (first step's start - last step's end):")
    by_part: dict[str, list[Part]] = defaultdict(list)
    for r in runs:
        for p in r.first.parts:
            by_part[p.name].append(p)
    for name, ps in by_part.items():
        print(f"    {name:38s}{span_text([p.span for p in ps])}  {ps[0].span.count} resources")
        for k in ps[0].kinds:
            spans = [p.kinds[k] for p in ps if k in p.kinds]
            print(f"      {k:36s}{span_text(spans)}  {spans[0].count}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.deploy", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args(argv)
    from lab.__main__ import PIECES, running  # the operator's dev lab (.lab, or $PRIVATECLOUD_LAB_DIR)

    if busy := [n for n in PIECES if running(n)]:
        raise SystemExit(f"the dev lab is running ({', '.join(busy)}); its addresses are the ones this benchmark "
                         "needs: stop it first (.venv/bin/python -m lab down)")
    print(f"load average {load_average()}", flush=True)
    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="privatecloud-deploy-", ignore_cleanup_errors=True) as tmp:
            runs.append(one_deploy(Path(tmp)))
        print(f"run {i + 1}: {runs[-1].first.seconds:.1f} s", flush=True)
    report(runs)
    print(f"load average {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
