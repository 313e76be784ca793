"""State compatibility, proven once: a region deployed by an older checkout previews with no changes here.

    .venv/bin/python -m tests.unit.compat_preview /path/to/old/checkout [--keep]

On an ephemeral lab (lab/ephemeral.py: its own ports and directory, never the dev lab's), the OLD
checkout's program and providers deploy the dev region into a file backend; then THIS checkout's
program and providers run `pulumi preview` (and `pulumi refresh`, then `preview` again) against
the same state. Type tokens, property names and stored state must be compatible: any step other
than `same` is printed and the script exits 1. The lab is stopped and the stack destroyed at the end.

Not a pytest module: after a merge, old and new would be the same code.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lab.ephemeral import running_lab, stack_config
from tests.enginekit import REPO, EngineStack, engine_bin_dir
from tests.region.conftest import HOSTS


def not_same(result: object) -> dict[str, str]:
    ops = result.ops_by_name()  # type: ignore[attr-defined]
    return {name: op for name, op in ops.items() if op not in ("same", "read")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="checkout of the older code (e.g. a worktree of main)")
    args = parser.parse_args()
    old = args.old.resolve()
    bin_dir = engine_bin_dir()
    region = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["privatecloud:region"]
    region["deployTimeouts"] = {"manage": 60, "clean": 120, "deploy": 300, "undeploy": 300, "pollInterval": 0.5}
    with tempfile.TemporaryDirectory(prefix="compat-") as tmp, running_lab(
        Path(tmp) / "lab", xapi_hosts=HOSTS, ironic_deploy_delay="1"
    ) as lab:
        config = stack_config(lab, region)
        stack = EngineStack.create(
            Path(tmp) / "engine", bin_dir, project="privatecloud", program=(old / "__main__.py").read_text(),
            config=config["plain"], secrets=config["secret"], extra_env={"PYTHONPATH": str(old)},
        )
        t0 = time.monotonic()
        first = stack.up()
        print(f"old code ({old}): up -> {first.changes} in {time.monotonic() - t0:.0f} s", flush=True)
        stack.env["PYTHONPATH"] = str(REPO)
        stack.write_program((REPO / "__main__.py").read_text())
        failed = False
        for step in ("preview", "refresh", "preview after refresh", "up"):
            if step == "refresh":
                result = stack.refresh()
                drift = result.drifted()
                print(f"new code ({REPO}): refresh -> drift {drift or 'none'}", flush=True)
                failed |= bool(drift)
                continue
            result = stack.preview() if step.startswith("preview") else stack.up()
            changed = not_same(result) if step.startswith("preview") else result.changes
            print(f"new code ({REPO}): {step} -> {changed or 'no changes'}", flush=True)
            failed |= bool(changed)
        stack.destroy()
        print("destroyed with the new code", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
