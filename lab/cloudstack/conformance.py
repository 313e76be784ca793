"""Check a request log against CloudStack 4.18's listApis: what a real server would not take.

For the tests of clients (issue 5: "the emulators' request logs hold only commands and messages
that exist in the reference API descriptions, with valid parameters"): an unknown command, a
parameter the command does not declare, a missing required parameter or a value of the wrong
type. Whether a uuid names an existing object is not judged here (the emulator answers that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lab.cloudstack import spec
from lab.cloudstack.errors import CloudStackError


def problems(requests: Iterable[tuple[str, Mapping[str, str]]]) -> list[str]:
    """One line per problem, naming the command and the parameter; [] when all would be taken."""
    out: list[str] = []
    for command, params in requests:
        api = spec.lookup(command)
        if api is None:
            out.append(f"{command or '(no command)'}: not a CloudStack 4.18 command")
            continue
        out += [f"{command}: unknown parameter {name!r}" for name in spec.unknown_params(api, params)]
        try:
            spec.process(api, params, lambda _uuid: True)
        except CloudStackError as e:
            out.append(f"{command}: {e.errortext}")
    return out
