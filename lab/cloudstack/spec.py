"""The 4.18 API description (the real server's listApis answer) and the dispatcher's parameter processing.

`process()` follows ParamProcessWorker.processParameters in apache/cloudstack: a required
parameter that is absent fails with "Unable to execute API command <cmd> due to missing parameter
<name>"; a value that does not convert to the declared type fails with "... due to invalid value
<v> for parameter <name>"; a uuid that names nothing fails with "... due to invalid value. Invalid
parameter <name> value=<v> due to incorrect long value format, or entity does not exist ...";
all PARAM_ERROR 431 with cserrorcode 9999. Unknown parameters are ignored, as the server does
(it only logs them); the request log keeps them so tests can assert that clients send none.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from lab.cloudstack.errors import REFERENCE, param_error

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAP_KEY_RE = re.compile(r"^([a-z0-9_]+)\[(\d+)\]\.(.+)$", re.IGNORECASE)
JAVA_INT = (-(2**31), 2**31 - 1)
JAVA_LONG = (-(2**63), 2**63 - 1)
JAVA_SHORT = (-(2**15), 2**15 - 1)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool
    length: int
    since: str | None


@dataclass(frozen=True)
class Api:
    name: str
    isasync: bool
    params: Mapping[str, Param]
    response: frozenset[str]

    @property
    def short(self) -> str:
        """cmd.getCommandName() minus "response": the lower-cased command, as error texts use it."""
        return self.name.lower()

    @property
    def response_name(self) -> str:
        return f"{self.name.lower()}response"


@cache
def apis() -> dict[str, Api]:
    """What the dispatcher needs of each command (`reference/listApis-4.18.json`, extracted from the
    full answer by `reference/_extract.py`): isasync, the parameters, the response field names."""
    raw = json.loads((REFERENCE / "listApis-4.18.json").read_text())
    out: dict[str, Api] = {}
    for name, a in raw.items():
        params = {
            p: Param(p, d["type"], bool(d["required"]), int(d.get("length", 255)), d.get("since"))
            for p, d in a["params"].items()
        }
        out[name] = Api(name, bool(a["isasync"]), params, frozenset(a["response"]))
    return out


@cache
def discovery() -> dict[str, dict[str, Any]]:
    """The 4.18 server's own listApis answer (`reference/listApis-4.18.json.gz`, verbatim), by name.
    Read only when listApis is called: it takes a good part of a second to parse."""
    with gzip.open(REFERENCE / "listApis-4.18.json.gz", "rt", encoding="utf-8") as f:
        raw = json.load(f)
    return {a["name"]: a for a in raw["api"]}


def lookup(command: str | None) -> Api | None:
    """Command names are case-sensitive, as in ApiServer's command-class map."""
    return apis().get(command) if command else None


def group_maps(raw: Mapping[str, str]) -> dict[str, Any]:
    """`details[0].key=a&details[0].value=b` -> {"details": [{"key": "a", "value": "b"}]}."""
    out: dict[str, Any] = {}
    maps: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in raw.items():
        m = MAP_KEY_RE.match(key)
        if m:
            maps.setdefault(m.group(1).lower(), {}).setdefault(int(m.group(2)), {})[m.group(3)] = value
        else:
            out[key] = value
    for name, entries in maps.items():
        out[name] = [entries[i] for i in sorted(entries)]
    return out


def _to_int(text: str, bounds: tuple[int, int]) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(text)
    value = int(text)
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(text)
    return value


class UndeclaredParameter(KeyError):
    """The emulator read a parameter the command does not declare in listApis (an emulator bug)."""


class Params(dict[str, Any]):
    """The typed parameters of one call. Reading a name the command does not declare raises, so
    a handler can only act on parameters the real command accepts (checked by the tests)."""

    def __init__(self, api: Api, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.api = api

    def _check(self, key: object) -> None:
        if key not in self.api.params:
            raise UndeclaredParameter(f"{self.api.name} does not declare parameter {key!r}")

    def __getitem__(self, key: str) -> Any:
        self._check(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._check(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return super().__contains__(key)


_SKIP = object()  # the value is dropped, as the dispatcher leaves the field null

# Plain conversions by listApis type (ValueError: "invalid value"); the others are below.
_CONVERT: dict[str, Callable[[str], Any]] = {
    "boolean": lambda v: v.lower() == "true",  # Boolean.valueOf never fails
    "integer": lambda v: _to_int(v, JAVA_INT) if v.strip() else _SKIP,
    "long": lambda v: _to_int(v, JAVA_LONG),
    "short": lambda v: _to_int(v, JAVA_SHORT),
    "float": lambda v: float(v) if v.strip() else _SKIP,
    "double": lambda v: float(v) if v.strip() else _SKIP,
    "list": lambda v: [t for t in v.split(",") if t],
}


def _value(cmd: str, p: Param, value: str, exists: Callable[[str], bool]) -> Any:
    """One parameter's typed value (or _SKIP); raises CloudStackError (431) as the dispatcher does."""
    if p.type == "uuid":
        resolved = _uuid(cmd, p, value, exists)
        return _SKIP if resolved is None else resolved
    if p.type == "string" and len(value) > p.length:
        raise param_error(
            f"Unable to execute API command {cmd} due to invalid value. "
            f"Value greater than max allowed length {p.length} for param: {p.name}"
        )
    convert = _CONVERT.get(p.type)
    if convert is None:  # string, date, tzdate, object: passed through as text
        return value
    try:
        return convert(value)
    except ValueError:
        raise param_error(
            f"Unable to execute API command {cmd} due to invalid value {value} for parameter {p.name}") from None


def process(api: Api, raw: Mapping[str, str], exists: Callable[[str], bool]) -> Params:
    """Typed parameters of one call; raises CloudStackError (431) as the real dispatcher does."""
    grouped = group_maps(raw)
    cmd = api.short
    out: dict[str, Any] = {}
    for p in api.params.values():
        value = grouped.get(p.name)
        if value is None:
            if p.required:
                raise param_error(f"Unable to execute API command {cmd} due to missing parameter {p.name}")
            continue
        if p.type == "map":
            if not isinstance(value, str):  # a map sent flat is ignored by the real server too
                out[p.name] = value
            continue
        assert isinstance(value, str)
        typed = _value(cmd, p, value, exists)
        if typed is not _SKIP:
            out[p.name] = typed
    return Params(api, out)


def _uuid(cmd: str, p: Param, value: str, exists: Callable[[str], bool]) -> str | None:
    """translateUuidToInternalId: a non-uuid on a post-3.x parameter is silently dropped; on an
    older parameter it is looked up as it is (a PreSetup storage pool's uuid is its SR name)."""
    if value == "-1":
        return None
    if not UUID_RE.match(value) and p.since:
        return None
    if exists(value):
        return value
    raise param_error(
        f"Unable to execute API command {cmd} due to invalid value. Invalid parameter {p.name} value={value} "
        "due to incorrect long value format, or entity does not exist or due to incorrect parameter "
        "annotation for the field in api cmd class."
    )


def unknown_params(api: Api, raw: Mapping[str, str]) -> list[str]:
    """Names the command does not declare (map entries counted by their map name)."""
    return sorted({k for k in group_maps(raw) if k not in api.params})
