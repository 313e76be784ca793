"""Drive the real Pulumi engine from tests: a throwaway project, a file backend, a passphrase.

    stack = EngineStack.create(tmp_path, engine_bin, program=..., modules={...}, config={...})
    result = stack.up()
    assert result.changes == {"create": 2}
    assert result.ops_by_name()["thing"] == "create"

Engine commands run with `--json` (streaming engine events, previews included), and a `Result`
reads the change summary and the per-resource steps from it rather than parsing human-readable output.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
PASSPHRASE = "engine-tests"


def engine_bin_dir() -> Path:
    """The directory of the pinned engine, building it on first use (engine/setup)."""
    out = subprocess.run(
        [str(REPO / "engine" / "setup")], check=True, capture_output=True, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def plugin_cache() -> Path:
    """The plugin cache engine/setup installs into: PULUMI_HOME's (default ~/.pulumi) plugins."""
    return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi") / "plugins"


def json_events(stdout: str) -> list[dict[str, Any]]:
    """The engine's events in the output of a command run with `--json`: one object per line
    (other output, such as a stack's outputs printed after them, is left out)."""
    events = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def changed_inputs(md: Mapping[str, Any]) -> list[str]:
    """Input keys whose values differ between a step's old and new state (what the CLI shows).

    Dynamic providers report only whether something changed and what forces a replace, so the
    engine's events carry no `diffs`; the CLI compares old and new inputs itself, and so do we.
    """
    old = (md.get("old") or {}).get("inputs") or {}
    new = (md.get("new") or {}).get("inputs") or {}
    keys = (set(old) | set(new)) - {"__provider"}
    return sorted(k for k in keys if old.get(k) != new.get(k))


def changed_outputs(md: Mapping[str, Any]) -> list[str]:
    old = (md.get("old") or {}).get("outputs") or {}
    new = (md.get("new") or {}).get("outputs") or {}
    keys = (set(old) | set(new)) - {"__provider"}
    return sorted(k for k in keys if old.get(k) != new.get(k))


@dataclass
class Step:
    op: str
    urn: str
    type: str
    diffs: list[str]
    replaces: list[str]
    detailed: dict[str, Any]

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass
class Result:
    """What the engine reported for one command."""

    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]]

    @property
    def summary(self) -> dict[str, Any]:
        for ev in reversed(self.events):
            if "summaryEvent" in ev:
                return dict(ev["summaryEvent"])
        raise AssertionError(f"no summary event; stderr:\n{self.stderr}\nstdout:\n{self.stdout}")

    @property
    def changes(self) -> dict[str, int]:
        """The change summary without `same` (resources left alone)."""
        return {k: v for k, v in self.summary.get("resourceChanges", {}).items() if k != "same" and v}

    @property
    def steps(self) -> list[Step]:
        steps = []
        for ev in self.events:
            pre = ev.get("resourcePreEvent")
            if not pre:
                continue
            md = pre["metadata"]
            steps.append(
                Step(
                    op=md["op"],
                    urn=md["urn"],
                    type=md["type"],
                    diffs=list(md.get("diffs") or changed_inputs(md)),
                    replaces=list(md.get("keys") or []) if md["op"] in ("replace", "create-replacement") else [],
                    detailed=dict(md.get("detailedDiff") or {}),
                )
            )
        return steps

    def ops_by_name(self) -> dict[str, str]:
        """Logical resource name -> the step the engine took (`same` steps included).

        A replacement is several steps (create-replacement, replace, delete-replaced); it is
        reported as `replace`.
        """
        ops: dict[str, str] = {}
        for s in self.steps:
            if s.type == "pulumi:pulumi:Stack":
                continue
            if s.op == "replace" or s.name not in ops:
                ops[s.name] = s.op
        return ops

    def drifted(self) -> dict[str, list[str]]:
        """After a refresh: resource name -> the keys the backend's state changed.

        A refresh step's outcome is in its outputs event (op `update` when the read differed from
        state): the changed input keys, or the changed output keys when the inputs are the same.
        """
        out: dict[str, list[str]] = {}
        for ev in self.events:
            md = (ev.get("resOutputsEvent") or {}).get("metadata")
            if not md or md["op"] != "update":
                continue
            keys = changed_inputs(md) or changed_outputs(md)
            out[md["urn"].rsplit("::", 1)[-1]] = keys
        return out

    def diagnostics(self, severity: str | None = None) -> list[str]:
        out = []
        for ev in self.events:
            d = ev.get("diagnosticEvent")
            if d and (severity is None or d.get("severity") == severity):
                out.append(d.get("message", ""))
        return out

    def check(self) -> Result:
        if self.returncode != 0:
            errors = "".join(self.diagnostics("error"))
            raise AssertionError(
                f"pulumi exited {self.returncode}\nerrors:\n{errors}\nstderr:\n{self.stderr[-4000:]}"
                f"\nstdout:\n{self.stdout[-4000:]}"
            )
        return self


@dataclass
class EngineStack:
    workdir: Path
    bin_dir: Path
    name: str = "test"
    env: dict[str, str] = field(default_factory=dict)
    project: str = "enginetest"

    @classmethod
    def create(
        cls,
        root: Path,
        bin_dir: Path,
        *,
        program: str,
        project: str = "enginetest",
        modules: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        stack: str = "test",
        extra_env: Mapping[str, str] | None = None,
    ) -> EngineStack:
        """A project in `root/project` whose program is `program`, beside `modules` (name -> source).

        The project's interpreter is the repository's virtual environment, and the repository is
        on PYTHONPATH, so programs import `providers`, `components` and `lab` as the real one does.
        """
        workdir = root / "project"
        workdir.mkdir(parents=True)
        (root / "state").mkdir()
        (root / "home").mkdir()
        # Each test has a PULUMI_HOME of its own (credentials, workspaces), but the plugins are
        # those engine/setup installed into the operator's plugin cache (the command plugin).
        plugins = plugin_cache()
        if plugins.is_dir():
            (root / "home" / "plugins").symlink_to(plugins)
        (workdir / "Pulumi.yaml").write_text(
            f"name: {project}\nruntime:\n  name: python\n  options:\n    virtualenv: {VENV}\n"
        )
        (workdir / "__main__.py").write_text(textwrap.dedent(program))
        for name, source in (modules or {}).items():
            (workdir / f"{name}.py").write_text(textwrap.dedent(source))
        env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PYTHONPATH": str(REPO),
            **(extra_env or {}),
        }
        st = cls(workdir=workdir, bin_dir=bin_dir, name=stack, env=env, project=project)
        st.run("stack", "init", stack).check()
        for k, v in (config or {}).items():
            st.set_config(k, v)
        for k, v in (secrets or {}).items():
            st.set_config(k, v, secret=True)
        return st

    def set_config(self, key: str, value: str, *, secret: bool = False, path: bool = False) -> None:
        # Linux caps one argument at 128 KiB (MAX_ARG_STRLEN): a large region's config is more.
        # Without a value argument, a non-interactive `pulumi config set` reads it from stdin.
        long = len(value.encode()) > 64 * 1024
        args = ["config", "set", key] if long else ["config", "set", key, "--", value]
        if secret:
            args.insert(3, "--secret")
        if path:
            args.insert(3, "--path")
        self.run(*args, stdin=value if long else None).check()

    def write_program(self, program: str) -> None:
        (self.workdir / "__main__.py").write_text(textwrap.dedent(program))

    def run(self, *args: str, timeout: float = 1800, stdin: str | None = None) -> Result:
        """Run `pulumi <args>` in the project; engine commands stream their events as JSON."""
        cmd = ["pulumi", "--non-interactive", *args]
        streams = bool(args) and args[0] in ("up", "preview", "refresh", "destroy")
        if streams:
            cmd.append("--json")
            if args[0] != "preview":
                cmd.append("--yes")
        if args and args[0] not in ("stack", "config"):
            cmd += ["--stack", self.name]
        proc = subprocess.run(
            cmd,
            cwd=self.workdir,
            env={**os.environ, **self.env, "PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "true"},
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr, json_events(proc.stdout) if streams else [])

    def recover(self) -> Result:
        """What `bin/deploy` runs first: clear the lock and unreadable metadata a killed update left."""
        proc = subprocess.run(
            [str(VENV / "bin" / "python"), str(REPO / "engine" / "recovery.py"), "stale-locks",
             "--stack", self.name, "--project", self.project],
            env={**os.environ, **self.env}, capture_output=True, text=True, timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr, [])

    def preview(self, *args: str) -> Result:
        return self.run("preview", "--diff", *args).check()

    def up(self, *args: str) -> Result:
        return self.run("up", "--skip-preview", *args).check()

    def refresh(self, *args: str) -> Result:
        return self.run("refresh", "--skip-preview", *args).check()

    def destroy(self, *args: str) -> Result:
        return self.run("destroy", "--skip-preview", *args).check()

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", "--stack", self.name]
        if show_secrets:
            args.append("--show-secrets")
        res = self.run(*args).check()
        return dict(json.loads(res.stdout))

    def export(self) -> dict[str, Any]:
        """The stack's state (secrets stay encrypted)."""
        res = self.run("stack", "export", "--stack", self.name).check()
        return dict(json.loads(res.stdout))

    def resources(self) -> dict[str, dict[str, Any]]:
        """Custom resources in state by logical name."""
        out = {}
        for r in self.export()["deployment"].get("resources", []):
            if r.get("custom") and not r["type"].startswith("pulumi:providers:"):
                out[r["urn"].rsplit("::", 1)[-1]] = r
        return out


# The processes of an engine killed by a test: the engine starts its language host and each provider
# in a process group of its own, so they outlive `kill -9` of the engine's group; tests record them
# (`descendants`) before the kill and `reap` them by PID and group after it.


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (children, their children, ...), from /proc/<pid>/task/*/children."""
    out: list[int] = []
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def started(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/<pid>/stat), None once it is gone or a zombie:
    with the PID, it names one process even if the PID is reused later."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def reap(pids: list[int]) -> list[int]:
    """SIGKILL the recorded processes of a killed engine (each plugin in the process group the engine
    gave it, so what a plugin started goes too); the recorded ones still alive after (should be [])."""
    recorded = {pid: started(pid) for pid in pids}
    groups = set()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(pid))
    for group in groups - {os.getpgid(0)}:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30  # SIGKILL cannot be refused: this is the kernel's delay, not a test
    while time.monotonic() < deadline:
        alive = [p for p, t in recorded.items() if t is not None and started(p) == t]
        if not alive:
            return []
        time.sleep(0.05)
    return alive
