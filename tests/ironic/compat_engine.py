"""State compatibility of `ironic.Node`/`ironic.Fleet` through the real engine, in a minute.

    .venv/bin/python -m tests.ironic.compat_engine /path/to/old/checkout

A real Ironic on a free port (lab/ironic.py); the OLD checkout's providers deploy
tests/ironic/test_engine.py's program (a deployed node, three nodes and their Fleet); then THIS
checkout's providers preview, refresh, preview again and up against the same state. Any step
other than `same` is printed and the script exits 1. Not a pytest module: after a merge, old and
new are the same code (tests/ironic/test_compat.py keeps the recorded state for that).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from lab import ironic as lab_ironic
from tests.enginekit import REPO, EngineStack, engine_bin_dir
from tests.ironic.test_engine import PROGRAM
from tests.unit.compat_preview import not_same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="checkout of the older code")
    old = parser.parse_args().old.resolve()
    failed = False
    with tempfile.TemporaryDirectory(prefix="ironic-compat-") as tmp:
        info = lab_ironic.start(Path(tmp) / "ironic", deploy_delay="0")
        try:
            st = EngineStack.create(
                Path(tmp) / "engine", engine_bin_dir(), program=PROGRAM, config={"cpus": "8", "rc": "compute"},
                secrets={"bmc": "s3cret", "ironic": json.dumps({"endpoint": info["endpoint"]})},
                extra_env={"PYTHONPATH": str(old)},
            )
            print(f"old code ({old}): up -> {st.up().changes}", flush=True)
            st.env["PYTHONPATH"] = str(REPO)
            for step in ("preview", "refresh", "preview after refresh", "up"):
                changed: object
                if step == "refresh":
                    changed = st.refresh().drifted()
                elif step == "up":
                    changed = st.up().changes
                else:
                    changed = not_same(st.preview())
                print(f"new code ({REPO}): {step} -> {changed or 'no changes'}", flush=True)
                failed |= bool(changed)
            st.destroy()
        finally:
            lab_ironic.stop(Path(tmp) / "ironic")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
