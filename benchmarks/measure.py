"""What the benchmarks share: timing engine commands side by side, the processes they ran, imports.

- `Procs`: per-process records (role, start, end, peak memory, optional stack samples) written by
  `benchmarks/procstats/sitecustomize.py` in every Python process of an engine command.
- `import_times`: `python -X importtime` of a set of modules in a fresh interpreter, total and by
  top-level package (bytecode cached, as in the engine runs).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.enginekit import REPO, VENV, EngineStack, Result

PROCSTATS = REPO / "benchmarks" / "procstats"
APICOUNT = REPO / "benchmarks" / "apicount"
PYCACHE = os.path.join(tempfile.gettempdir(), "privatecloud-bench-pycache")


def use(stack: Instrumented, tree: Path) -> None:
    """Run `stack` with the region's program (and its modules) of `tree`."""
    stack.stack.write_program((tree / "__main__.py").read_text())
    stack.stack.env["PYTHONPATH"] = os.pathsep.join([str(PROCSTATS), str(tree)])


def checkout(revision: str, into: Path) -> Path:
    """The repository's tree at `revision` (git archive), extracted into `into`: the program as it was."""
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


@dataclass
class Procs:
    """The Python processes of one engine command, as procstats recorded them."""

    records: list[dict[str, Any]]

    def of(self, role: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["role"] == role]

    def peak_mb(self, role: str) -> float:
        return max((r["peak_rss_kb"] for r in self.of(role)), default=0) / 1024

    def cpu(self, role: str) -> float:
        return sum(r.get("cpu_s", 0.0) for r in self.of(role))

    def gc_cpu(self, role: str) -> float:
        """The CPU seconds of the cyclic garbage collector in `role`'s processes."""
        return sum(r.get("gc_cpu_s", 0.0) for r in self.of(role))

    def lifetime(self, role: str) -> float:
        rs = self.of(role)
        return max(r["end"] for r in rs) - min(r["start"] for r in rs) if rs else 0.0


@dataclass
class Run:
    seconds: float
    result: Result
    procs: Procs
    started: float = 0.0
    cpu_s: float = 0.0
    """CPU seconds of the whole command: the engine, the language host and the Python processes."""

    @property
    def engine_cpu_s(self) -> float:
        """CPU seconds outside the program and the provider process (the engine and its plugins)."""
        return self.cpu_s - self.procs.cpu("program") - self.procs.cpu("provider")


@dataclass
class Instrumented:
    """An engine stack whose Python processes record themselves (procstats) into `dir`."""

    stack: EngineStack
    dir: Path
    sample_ms: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def wrap(cls, stack: EngineStack, dir: Path, *, api_log: Path | None = None) -> Instrumented:
        dir.mkdir(parents=True, exist_ok=True)
        paths = [str(PROCSTATS), str(REPO)]
        stack.env["PYTHONPATH"] = os.pathsep.join(paths)
        stack.env["PRIVATECLOUD_PROCSTATS"] = str(dir)
        # Bytecode cached as on an operator's machine (this one sets PYTHONDONTWRITEBYTECODE, and
        # every program and provider process would compile the project's sources again: 0.3-0.4 s
        # each), kept beside the run rather than in the repository.
        stack.env["PYTHONDONTWRITEBYTECODE"] = ""
        stack.env["PYTHONPYCACHEPREFIX"] = str(dir.parent / "pycache")
        if api_log is not None:
            stack.env["PRIVATECLOUD_API_LOG"] = str(api_log)
        return cls(stack, dir)

    def run(self, *args: str, sample_ms: float | None = None) -> Run:
        for f in self.dir.glob("*.json"):
            f.unlink()
        if sample_ms:
            self.stack.env["PRIVATECLOUD_SAMPLE_MS"] = str(sample_ms)
        else:
            self.stack.env.pop("PRIVATECLOUD_SAMPLE_MS", None)
        started = time.time()
        cpu0 = sum(os.times()[2:4])  # children's user and system CPU, as they are reaped
        t0 = time.monotonic()
        result = self.stack.run(*args)
        seconds = time.monotonic() - t0
        cpu = sum(os.times()[2:4]) - cpu0
        result.check()
        records = [json.loads(f.read_text()) for f in sorted(self.dir.glob("*.json"))]
        return Run(seconds, result, Procs(records), started, cpu)

    def preview(self, *args: str, sample_ms: float | None = None) -> Run:
        run = self.run("preview", *args, sample_ms=sample_ms)
        if run.result.changes:
            steps = {n: op for n, op in run.result.ops_by_name().items() if op != "same"}
            detail = {s.name: s.diffs for s in run.result.steps if s.name in steps}
            raise SystemExit(f"the no-op preview is not a no-op: {run.result.changes}: {steps}; changed keys {detail}")
        return run


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes, as `1.2/0.9/0.8`."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def import_times(modules: Sequence[str], runs: int = 3) -> tuple[float, Counter[str]]:
    """Seconds `import <modules>` takes in a fresh interpreter of the project's venv (median of
    `runs`, from -X importtime), and the self time by top-level package of the median run."""
    code = "; ".join(f"import {m}" for m in modules)
    measured: list[tuple[float, Counter[str]]] = []
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": PYCACHE}
    subprocess.run([str(VENV / "bin" / "python"), "-c", code], check=True, cwd=REPO, env=env)  # compile once
    for _ in range(runs):
        proc = subprocess.run(
            [str(VENV / "bin" / "python"), "-X", "importtime", "-c", code],
            capture_output=True, text=True, check=True, cwd=REPO, env=env,
        )
        total, by_package = 0, Counter[str]()
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, cumulative_us, name = line[len("import time:"):].split("|")
            by_package[name.strip().split(".")[0]] += int(self_us)
            if not name.startswith("  "):  # a top-level import: its cumulative time counts once
                total += int(cumulative_us)
        measured.append((total / 1e6, by_package))
    measured.sort(key=lambda m: m[0])
    seconds, by_package = measured[len(measured) // 2]
    return seconds, by_package


def packages_line(by_package: Counter[str], top: int = 8) -> str:
    return ", ".join(f"{name} {us / 1000:.0f}" for name, us in by_package.most_common(top))
