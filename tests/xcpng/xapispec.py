"""The XenAPI datamodel as the provider's tests check calls against it.

Read from `xenapi-datamodel.json` (xapi-project/xapi-project.github.io `_data/xenapi.json`, all
72 classes): the shared reference copy when it is there (`$XENAPI_DATAMODEL` or
../shared/reference/ beside the checkout), else the repository's extract of the same file (lab/xapi/reference/:
every message's parameters, and the enums of the classes the provider uses). Deliberately
independent of the emulator's own checker: it also checks the type of every value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "xenapi-datamodel.json"
EXTRACT = REPO / "lab" / "xapi" / "reference"

Param = tuple[str, str, bool]  # name, type, required


@dataclass(frozen=True)
class Spec:
    messages: dict[str, list[Param]]  # "<class>.<message>" -> params, session_id included
    enums: dict[str, set[str]]
    fields: dict[str, dict[str, str]]  # class -> field -> type
    no_async: set[str]  # messages known to have no Async form
    source: str


def _from_full(path: Path) -> Spec:
    classes = json.loads(path.read_text())
    messages: dict[str, list[Param]] = {}
    enums: dict[str, set[str]] = {}
    fields: dict[str, dict[str, str]] = {}
    no_async: set[str] = set()
    for c in classes:
        fields[c["name"]] = {f["name"]: f["type"] for f in c["fields"]}
        for e in c.get("enums", []):
            enums[e["name"]] = {v["name"] for v in e["values"]}
        for m in c["messages"]:
            name = f"{c['name']}.{m['name']}"
            messages[name] = [(p["name"], p["type"], bool(p.get("required", True))) for p in m["params"]]
            if c["name"] in ("session", "event") or (m.get("implicit") and m["name"].startswith(("get_", "set_"))):
                no_async.add(name)
    _add_async_flags(no_async)
    return Spec(messages, enums, fields, no_async, str(path))


def _add_async_flags(no_async: set[str]) -> None:
    """Async availability is not in xenapi.json: the subset carries it, derived from the OCaml model."""
    subset = json.loads((EXTRACT / "xenapi-classes-subset.json").read_text())["classes"]
    for cls, c in subset.items():
        for m in c.get("messages", []):
            if not m.get("async"):
                no_async.add(f"{cls}.{m['name']}")


def _from_extract() -> Spec:
    raw = json.loads((EXTRACT / "xenapi-messages.json").read_text())["messages"]
    messages = {k: [(p[0], p[1], bool(p[2])) for p in v] for k, v in raw.items()}
    subset = json.loads((EXTRACT / "xenapi-classes-subset.json").read_text())["classes"]
    enums: dict[str, set[str]] = {}
    fields: dict[str, dict[str, str]] = {}
    for cls, c in subset.items():
        fields[cls] = {f["name"]: f["type"] for f in c["fields"]}
        for e in c.get("enums", []):
            values = e["values"]
            enums[e["name"]] = {v["name"] if isinstance(v, Mapping) else str(v) for v in values}
    no_async: set[str] = set()
    _add_async_flags(no_async)
    return Spec(messages, enums, fields, no_async, str(EXTRACT / "xenapi-messages.json"))


@cache
def spec() -> Spec:
    path = Path(os.environ.get("XENAPI_DATAMODEL", str(SHARED)))
    return _from_full(path) if path.exists() else _from_extract()


def type_problem(value: Any, typ: str, s: Spec) -> str | None:
    """Why `value` (as the emulator decoded it from the wire) is not of XenAPI type `typ`."""
    t = typ.strip()
    if t.endswith(" set"):
        if not isinstance(value, list):
            return f"{value!r} is not a {t}"
        return next((p for v in value if (p := type_problem(v, t[:-4], s))), None)
    if t.endswith(" map"):
        if not isinstance(value, dict):
            return f"{value!r} is not a {t}"
        k, _, v = t[1 : -len(") map")].partition(" -> ")
        for key, val in value.items():
            p = type_problem(key, k, s) or type_problem(val, v, s)
            if p:
                return p
        return None
    if t.endswith(" record"):
        cls = t[: -len(" record")]
        if not isinstance(value, dict):
            return f"{value!r} is not a {t}"
        known = s.fields.get(cls)
        if known is None:
            return None
        for name, val in value.items():
            if name not in known:
                return f"{cls} has no field {name!r}"
            p = type_problem(val, known[name], s)
            if p:
                return f"{cls}.{name}: {p}"
        return None
    if t.endswith(" ref"):
        return None if isinstance(value, str) and value.startswith("OpaqueRef:") else f"{value!r} is not a {t}"
    if t.startswith("enum "):
        values = s.enums.get(t[5:])
        if not isinstance(value, str) or (values is not None and value not in values):
            return f"{value!r} is not one of {t} {sorted(values or [])}"
        return None
    if t == "int":  # XAPI's XML-RPC carries a 64-bit int as a decimal string, not <i4>
        ok = isinstance(value, str) and value.strip().lstrip("-").isdigit()
        return None if ok else f"{value!r} is not an int as XML-RPC carries it (a decimal string)"
    checks: dict[str, type | tuple[type, ...]] = {"float": (int, float), "bool": bool, "string": str}
    want = checks.get(t)
    if want is None:
        return None
    return None if isinstance(value, want) and not (t == "float" and isinstance(value, bool)) else (
        f"{value!r} is not a {t}")


def call_problem(method: str, params: Mapping[str, Any], s: Spec | None = None) -> str | None:
    """Why a logged call (wire method, params by name without the session) is not valid XenAPI."""
    s = s or spec()
    name = method.removeprefix("Async.")
    declared = s.messages.get(name)
    if declared is None:
        return f"{method}: no such message in the datamodel"
    if method.startswith("Async.") and name in s.no_async:
        return f"{method}: {name} has no Async form"
    expected = [p for p in declared if p[0] != "session_id"]
    names = [p[0] for p in expected]
    given = list(params)
    if given != names[: len(given)]:
        return f"{method}: parameters {given}, the datamodel has {names}"
    missing = [p[0] for p in expected[len(given) :] if p[2]]
    if missing:
        return f"{method}: required parameters {missing} missing"
    for pname, ptype, _ in expected[: len(given)]:
        p = type_problem(params[pname], ptype, s)
        if p:
            return f"{method}({pname}): {p}"
    return None


def problems(calls: Iterable[Any]) -> list[str]:
    """Every invalid call among `calls` (items with .method and .params), once each."""
    seen: dict[str, None] = {}
    for c in calls:
        p = call_problem(c.method, c.params)
        if p:
            seen.setdefault(p, None)
    return list(seen)
