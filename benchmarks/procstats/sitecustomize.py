"""What each Python process of a benchmark run did, for benchmarks (not imported in normal runs).

A benchmark puts this directory on PYTHONPATH and sets PRIVATECLOUD_PROCSTATS to a directory;
every Python process of the run (the program, the dynamic-provider host) then writes, when it
ends, one JSON file there: its role (program, provider or other), wall-clock start and end, the
CPU seconds it used, those of the cyclic garbage collector and its collections by generation, and its peak
resident memory (VmHWM). With PRIVATECLOUD_SAMPLE_MS set, a thread also samples every
thread's Python stack at that interval and the file carries the counts per function (self and
inclusive), so the program and the provider process can be profiled without changing them.
With PRIVATECLOUD_CPU_PROFILE set to a directory, the program and the provider process are also
profiled by CPU time: cProfile in every thread (the main thread from here, every thread the
`threading` module starts from its first event), timed by the thread's own CPU clock, so waits
cost nothing; at exit the threads' profiles are merged into one pstats file `<role>-<pid>.prof`
there. Threads the `threading` module does not start (gRPC's C core) are not in it: the record's
`profiled_cpu_s` beside `cpu_s` says how much of the process's CPU the profile covers.

The engine stops the provider process with SIGINT (the host ends on KeyboardInterrupt), so the
atexit handler runs in both processes.
"""

from __future__ import annotations

import atexit
import cProfile
import gc
import json
import os
import sys
import threading
import time
from collections import Counter
from typing import Any

_dir = os.environ.get("PRIVATECLOUD_PROCSTATS")
# Wall-clock time the interpreter started (this module is imported while site initialises).
_started = time.time()


def _role() -> str:
    try:
        with open("/proc/self/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return "other"
    joined = b" ".join(argv)
    if b"pulumi.dynamic" in joined:
        return "provider"
    if b"pulumi-language-python-exec" in joined:
        return "program"
    return "other"


def _peak_rss_kb() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _Sampler(threading.Thread):
    """Samples every other thread's Python stack: where wall time goes, waits included."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="procstats-sampler", daemon=True)
        self.interval = interval
        self.samples = 0
        self.self_counts: Counter[str] = Counter()
        self.incl_counts: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        me = threading.get_ident()
        while not self.stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                self.samples += 1
                seen: set[str] = set()
                f: Any = frame
                top = True
                while f is not None:
                    code = f.f_code
                    key = f"{code.co_filename}:{code.co_firstlineno}({code.co_name})"
                    if top:
                        self.self_counts[key] += 1
                        top = False
                    if key not in seen:
                        seen.add(key)
                        self.incl_counts[key] += 1
                    f = f.f_back


class _Snapshot:
    """A running thread's profile as pstats loads it, without disabling it (it is not ours to stop)."""

    def __init__(self, profile: cProfile.Profile) -> None:
        self.profile = profile
        self.stats: dict[Any, Any] = {}

    def create_stats(self) -> None:
        self.profile.snapshot_stats()
        self.stats = self.profile.stats


class _CpuProfiles:
    """One cProfile per thread, timed by that thread's CPU clock."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()
        self.main = self._new()
        self.main.enable()
        threading.setprofile(self._thread_started)

    def _new(self) -> cProfile.Profile:
        p = cProfile.Profile(time.thread_time_ns, 1e-9)
        with self.lock:
            self.profiles.append(p)
        return p

    def _thread_started(self, _frame: Any, _event: str, _arg: Any) -> None:
        # threading calls this as the thread's profile function at its first event: replace it by
        # the thread's own profiler.
        self._new().enable()

    def dump(self, path: str) -> float:
        """Merge every thread's profile into `path`; the CPU seconds the profiles saw."""
        import pstats

        self.main.disable()
        threading.setprofile(None)
        with self.lock:
            profiles = list(self.profiles)
        stats = pstats.Stats(_Snapshot(profiles[0]))  # type: ignore[arg-type]
        for p in profiles[1:]:
            stats.add(_Snapshot(p))  # type: ignore[arg-type]
        stats.dump_stats(path)
        return float(stats.total_tt)  # type: ignore[attr-defined]


class _GcClock:
    """The CPU seconds the cyclic garbage collector takes, and its collections, by generation."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.seconds[info["generation"]] += time.thread_time() - self._started
            self.collections[info["generation"]] += 1


def _install(out_dir: str) -> None:
    role = _role()
    cpu_dir = os.environ.get("PRIVATECLOUD_CPU_PROFILE")
    profiles = _CpuProfiles() if cpu_dir and role != "other" else None
    gc_clock = _GcClock()
    if role != "other":
        gc.callbacks.append(gc_clock)
    sampler: _Sampler | None = None
    interval_ms = os.environ.get("PRIVATECLOUD_SAMPLE_MS")
    if interval_ms and role != "other":
        sampler = _Sampler(float(interval_ms) / 1000)
        sampler.start()

    def _write() -> None:
        record: dict[str, Any] = {
            "role": role, "pid": os.getpid(), "start": _started, "end": time.time(),
            "peak_rss_kb": _peak_rss_kb(), "cpu_s": sum(os.times()[:2]),
            "gc_cpu_s": sum(gc_clock.seconds), "gc_generation_s": gc_clock.seconds,
            "gc_collections": gc_clock.collections,
        }
        if sampler is not None:
            sampler.stop.set()
            record["samples"] = sampler.samples
            record["interval_ms"] = float(interval_ms or 0)
            record["self"] = dict(sampler.self_counts.most_common(400))
            record["inclusive"] = dict(sampler.incl_counts.most_common(400))
        if profiles is not None and cpu_dir:
            record["profile"] = os.path.join(cpu_dir, f"{role}-{os.getpid()}.prof")
            record["profiled_cpu_s"] = profiles.dump(record["profile"])
        path = os.path.join(out_dir, f"{role}-{os.getpid()}.json")
        with open(path, "w") as f:
            json.dump(record, f)

    atexit.register(_write)


if _dir:
    _install(_dir)
