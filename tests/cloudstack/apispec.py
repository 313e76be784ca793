"""CloudStack 4.18's own description of its API (listApis), to check requests against.

`problems(command, params)` lists what is wrong with one request as the management server would
see it: an unknown command, a parameter the command does not take, a required one missing, or a
value of the wrong type. The request log of the emulator, filled by the provider tests, must give
no problems (issue 5).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# The shared reference beside the checkout; a checkout elsewhere uses the trimmed copy the
# emulator ships (lab/cloudstack/reference, same commands, parameters and types).
REFERENCE = REPO.parent / "shared" / "reference" / "cloudstack-listApis.json"
REPO_COPY = REPO / "lab" / "cloudstack" / "reference" / "listApis-4.18.json"


@cache
def _apis() -> list[dict[str, Any]]:
    """listApis entries as `{name, isasync, params: [{name, required, type, ...}]}`."""
    if REFERENCE.exists():
        raw = json.loads(REFERENCE.read_text())
        return list(raw.get("listapisresponse", raw)["api"])
    trimmed = json.loads(REPO_COPY.read_text())
    return [
        {"name": name, "isasync": api["isasync"],
         "params": [{"name": p, **spec} for p, spec in api["params"].items()]}
        for name, api in trimmed.items()
    ]

# Parameters of the request protocol itself (ApiServer), not of any command.
PROTOCOL = {"command", "apikey", "signature", "signatureversion", "expires", "response", "sessionkey"}
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAP_KEY = re.compile(r"^(?P<name>[a-z0-9_]+)\[\d+\]\.[a-z0-9_]+$")


@cache
def commands() -> dict[str, dict[str, dict[str, Any]]]:
    """command (lower case) -> parameter name (lower case) -> its listApis description."""
    return {a["name"].lower(): {p["name"].lower(): p for p in a["params"]} for a in _apis()}


@cache
def async_commands() -> frozenset[str]:
    return frozenset(a["name"].lower() for a in _apis() if a["isasync"])


def _type_problem(name: str, kind: str, value: str, other_ids: frozenset[str]) -> str | None:
    # CloudStack also takes the numeric database id where it takes a uuid.
    if kind == "uuid" and not UUID.match(value) and not value.isdigit() and value not in other_ids:
        return f"{name}={value!r} is not a uuid"
    if kind == "boolean" and value.lower() not in ("true", "false"):
        return f"{name}={value!r} is not a boolean"
    if kind in ("integer", "long", "short"):
        try:
            int(value)
        except ValueError:
            return f"{name}={value!r} is not an {kind}"
    return None


def problems(command: str, params: Mapping[str, Any], other_ids: frozenset[str] = frozenset()) -> list[str]:
    """What the 4.18 API description says is wrong with this request (empty: nothing).

    `other_ids`: ids that are not uuid-shaped but are real CloudStack ids (a PreSetup pool's
    uuid is the SR's name-label).
    """
    spec = commands().get(command.lower())
    if spec is None:
        return [f"{command}: no such command in CloudStack 4.18"]
    out: list[str] = []
    seen: set[str] = set()
    for raw_name, raw_value in params.items():
        name = raw_name.lower()
        if name in PROTOCOL:
            continue
        value = raw_value[0] if isinstance(raw_value, (list, tuple)) and raw_value else raw_value
        m = MAP_KEY.match(name)
        base = m.group("name") if m else name
        desc = spec.get(base)
        if desc is None:
            out.append(f"{command}: takes no parameter {raw_name!r}")
            continue
        if m and desc["type"] != "map":
            out.append(f"{command}: {base} is a {desc['type']}, not a map")
            continue
        seen.add(base)
        if not m:
            problem = _type_problem(base, desc["type"], str(value), other_ids)
            if problem:
                out.append(f"{command}: {problem}")
    for name, desc in spec.items():
        if desc["required"] and name not in seen:
            out.append(f"{command}: required parameter {name!r} missing")
    return out


def presetup_ids(log: Iterable[tuple[str, Mapping[str, Any]]]) -> frozenset[str]:
    """The ids of PreSetup pools created in `log`: CloudStack makes the SR name-label the uuid."""
    out = set()
    for command, params in log:
        url = str(params.get("url", ""))
        if command == "createStoragePool" and url.lower().startswith("presetup://"):
            out.add(url.split("://", 1)[1].split("/", 1)[-1].strip("/"))
    return frozenset(out)


def all_problems(log: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    entries = list(log)
    ids = presetup_ids(entries)
    return [p for command, params in entries for p in problems(command, params, ids)]
