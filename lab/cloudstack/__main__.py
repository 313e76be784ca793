"""`python -m lab.cloudstack serve [--port N]`: run the emulator in the foreground.

Keys come from CLOUDSTACK_API_KEY / CLOUDSTACK_SECRET_KEY (generated when unset); with --info
the endpoint and keys are written there as JSON once the server listens (lab.emu.daemon).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lab.cloudstack import CloudStackLab, generate_key
from lab.emu import daemon


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.cloudstack")
    ap.add_argument("command", choices=["serve"])
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to serve on (a lab host's own)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--info", type=Path, help="write endpoint and keys here as JSON")
    ap.add_argument("--fresh", action="store_true", help="as a new install: admin/password, no API keys")
    args = ap.parse_args(argv)
    lab = CloudStackLab.start(os.environ.get("CLOUDSTACK_API_KEY") or generate_key(),
                              os.environ.get("CLOUDSTACK_SECRET_KEY") or generate_key(), port=args.port,
                              host=args.host, fresh=args.fresh)
    if args.info:
        daemon.write_info(args.info, lab.info())
    print(f"cloudstack emulator at {lab.endpoint}", file=sys.stderr, flush=True)
    daemon.wait_for_signal()
    lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
