"""`python -m lab.xapi serve --hosts xcp-01,xcp-02 --base-port 19101 --password X [--write FILE]
[--address xcp-01=127.0.1.11] [--dom0 xcp-01=/proc/PID/root]`

Serves the emulated hosts until SIGTERM/SIGINT; prints (and optionally writes) their endpoints
as JSON once every server is listening. `python -m lab.xapi check` prints conformance problems.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from lab.emu import daemon
from lab.xapi import XapiLab
from lab.xapi.datamodel import datamodel
from lab.xapi.messages import check_conformance, served_messages


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab.xapi", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve emulated XCP-ng hosts on 127.0.0.1")
    serve.add_argument("--hosts", default="xcp-01,xcp-02,xcp-03")
    serve.add_argument("--base-port", type=int, default=0, help="first port (0: any free ports)")
    serve.add_argument("--password", default="password")
    serve.add_argument("--write", type=Path, help="write the endpoints JSON here once listening")
    serve.add_argument("--log", type=Path, help="append every call served to this file as JSON lines")
    serve.add_argument("--task-policy", action="append", default=[], metavar="METHOD=SECONDS[/POLLS]",
                       help="tasks of METHOD (or *) stay pending SECONDS (wall clock) and POLLS reads")
    serve.add_argument("--address", action="append", default=[], metavar="HOST=ADDRESS",
                       help="serve HOST on its own loopback ADDRESS, port 80 (as a real host serves XAPI)")
    serve.add_argument("--dom0", action="append", default=[], metavar="HOST=DIR",
                       help="HOST's dom0 filesystem is DIR (e.g. /proc/<pid>/root of a lab host): cephfs SRs")
    sub.add_parser("check", help="print conformance problems and the served messages")
    args = ap.parse_args(argv)

    if args.command == "check":
        dm = datamodel()
        problems = check_conformance(dm)
        for p in problems:
            print("PROBLEM", p)
        print(f"{len(served_messages(dm))} messages served")
        return 1 if problems else 0

    names = [n for n in args.hosts.split(",") if n]
    lab = XapiLab.start(names, args.password, base_port=args.base_port or None, realtime=bool(args.task_policy),
                        log_file=args.log, log_limit=10_000,
                        dom0={h: Path(d) for h, _, d in (item.partition("=") for item in args.dom0)},
                        addresses={h: a for h, _, a in (item.partition("=") for item in args.address)})
    for item in args.task_policy:
        method, _, spec = item.partition("=")
        secs, _, polls = spec.partition("/")
        lab.clock.set_policy(method, seconds=float(secs or 0) if secs != "inf" else math.inf, polls=int(polls or 0))
    endpoints = {"hosts": [h.as_dict() for h in lab.hosts]}
    print(json.dumps(endpoints, indent=2), flush=True)
    if args.write:
        daemon.write_info(args.write, endpoints)
    daemon.wait_for_signal()
    lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
