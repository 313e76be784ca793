"""The XenAPI datamodel the emulator serves, read from the reference files, and typed wire coding.

Every message the emulator answers is looked up here, so its name and parameter list are the
datamodel's by construction; values are encoded from the declared type (an `int` travels as a
decimal string in XML-RPC and as a number in JSON-RPC, a `void` as "", a record field by field).
"""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

REFERENCE = Path(__file__).resolve().parent / "reference"
NULL_REF = "OpaqueRef:NULL"
Wire = Literal["xml", "json"]


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class MessageSpec:
    cls: str
    name: str
    params: tuple[Param, ...]
    result: str
    is_async: bool
    implicit: bool
    errors: tuple[str, ...] = ()

    @property
    def wire_name(self) -> str:
        return f"{self.cls}.{self.name}"

    @property
    def takes_session(self) -> bool:
        return bool(self.params) and self.params[0].name == "session_id"

    @property
    def call_params(self) -> tuple[Param, ...]:
        """The parameters after the session reference."""
        return self.params[1:] if self.takes_session else self.params

    @property
    def required_count(self) -> int:
        return sum(1 for p in self.call_params if p.required)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    qualifier: str
    default: str | None


@dataclass
class ClassSpec:
    name: str
    fields: dict[str, FieldSpec]
    enums: dict[str, tuple[str, ...]]
    messages: dict[str, MessageSpec] = field(default_factory=dict)


class Datamodel:
    """The 13 modelled classes (full specs) plus the names and parameters of all 2,007 messages."""

    def __init__(self) -> None:
        raw = json.loads((REFERENCE / "xenapi-classes-subset.json").read_text())["classes"]
        raw.update(json.loads((REFERENCE / "xenapi-extra-classes.json").read_text())["classes"])
        self.classes: dict[str, ClassSpec] = {}
        self.enums: dict[str, tuple[str, ...]] = {}
        for cname, c in raw.items():
            fields = {
                f["name"]: FieldSpec(f["name"], f["type"], f["qualifier"], f.get("default"))
                for f in c["fields"]
            }
            enums = {e["name"]: tuple(v["name"] for v in e["values"]) for e in c.get("enums", [])}
            self.enums.update(enums)
            spec = ClassSpec(cname, fields, enums)
            for m in c.get("messages", []):
                spec.messages[m["name"]] = MessageSpec(
                    cls=cname,
                    name=m["name"],
                    params=tuple(Param(p["name"], p["type"], bool(p.get("required", True))) for p in m["params"]),
                    result=m["result"][0],
                    is_async=bool(m["async"]),
                    implicit=bool(m["implicit"]),
                    errors=tuple(e["name"] if isinstance(e, dict) else str(e) for e in m.get("errors", [])),
                )
            self.classes[cname] = spec
        every = json.loads((REFERENCE / "xenapi-messages.json").read_text())["messages"]
        self.all_messages: dict[str, tuple[Param, ...]] = {
            name: tuple(Param(n, t, r) for n, t, r in params) for name, params in every.items()
        }

    def message(self, wire_name: str) -> MessageSpec | None:
        cls, _, name = wire_name.partition(".")
        c = self.classes.get(cls)
        return c.messages.get(name) if c else None

    def exists(self, wire_name: str) -> bool:
        """Whether real XAPI knows this message (any of the 72 classes)."""
        return wire_name in self.all_messages

    # --- records -------------------------------------------------------------------------------

    def default_record(self, cls: str) -> dict[str, Any]:
        """A record with every field of the class at its datamodel default (or the type's zero)."""
        return {f.name: default_value(f) for f in self.classes[cls].fields.values()}

    # --- coding ---------------------------------------------------------------------------------

    def encode(self, value: Any, typ: str, wire: Wire) -> Any:
        """A Python value of XenAPI type `typ` as it travels on `wire`."""
        t = typ.strip()
        if t == "void":
            return ""
        if t.endswith(" set"):
            return [self.encode(v, t[:-4], wire) for v in (value or [])]
        if t.endswith(" map"):
            k, v = split_map(t)
            return {str(self.encode(key, k, wire)): self.encode(val, v, wire) for key, val in (value or {}).items()}
        if t == "an event batch":  # event.from's result: a struct outside the type system
            return {"events": [self.encode(e, "event record", wire) for e in value["events"]],
                    "valid_ref_counts": {k: int(v) for k, v in value["valid_ref_counts"].items()},
                    "token": str(value["token"])}
        if t == "event record":
            return self.encode_event(value, wire)
        if t.endswith(" record"):
            cls = t[: -len(" record")]
            fields = self.classes[cls].fields
            return {name: self.encode(value.get(name), f.type, wire) for name, f in fields.items()}
        if t == "int":
            return str(int(value or 0)) if wire == "xml" else int(value or 0)
        if t == "float":
            return float(value or 0.0)
        if t == "bool":
            return bool(value)
        if t == "datetime":
            s = value or "19700101T00:00:00Z"
            return xmlrpc.client.DateTime(s) if wire == "xml" else s
        if t.endswith(" ref"):
            return value or NULL_REF
        return "" if value is None else str(value)

    def encode_event(self, value: dict[str, Any], wire: Wire) -> dict[str, Any]:
        """An event record; its snapshot is a record of the class it names (in any case)."""
        out = {k: self.encode(value[k], t, wire) for k, t in (
            ("id", "int"), ("timestamp", "datetime"), ("class", "string"), ("operation", "enum event_operation"),
            ("ref", "string"), ("obj_uuid", "string"))}
        if "snapshot" in value:
            cls = next(c for c in self.classes if c.lower() == value["class"].lower())
            out["snapshot"] = self.encode(value["snapshot"], f"{cls} record", wire)
        return out

    def decode(self, value: Any, typ: str) -> Any:
        """A parameter from the wire as a Python value; raises TypeError when it does not fit."""
        t = typ.strip()
        if t.endswith(" set"):
            if not isinstance(value, list | tuple):
                raise TypeError(t)
            return [self.decode(v, t[:-4]) for v in value]
        if t.endswith(" map"):
            if not isinstance(value, dict):
                raise TypeError(t)
            k, v = split_map(t)
            return {self.decode(key, k): self.decode(val, v) for key, val in value.items()}
        if t.endswith(" record"):
            if not isinstance(value, dict):
                raise TypeError(t)
            fields = self.classes[t[: -len(" record")]].fields
            return {n: self.decode(v, fields[n].type) for n, v in value.items() if n in fields}
        if t.startswith("enum "):
            values = self.enums.get(t[5:])
            if not isinstance(value, str) or (values is not None and value not in values):
                raise TypeError(t)
            return value
        return decode_scalar(value, t)


def _decode_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("int")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError("int")


def _decode_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("float")
    return float(value)


def _decode_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise TypeError("bool")


def _decode_string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("string")
    return value


def _decode_datetime(value: Any) -> str:
    return str(value)


SCALARS: dict[str, Callable[[Any], Any]] = {
    "int": _decode_int,
    "float": _decode_float,
    "bool": _decode_bool,
    "datetime": _decode_datetime,
}


def decode_scalar(value: Any, t: str) -> Any:
    """int, float, bool, datetime; anything else (string, refs) must be a string."""
    decoder = SCALARS.get(t)
    return _decode_string(value) if decoder is None else decoder(value)


def split_map(t: str) -> tuple[str, str]:
    """'(string -> host ref) map' -> ('string', 'host ref')."""
    inner = t[1 : -len(") map")]
    k, _, v = inner.partition(" -> ")
    return k.strip(), v.strip()


def default_value(f: FieldSpec) -> Any:
    t, d = f.type, f.default
    if t.endswith(" set"):
        return []
    if t.endswith(" map"):
        return {}
    if t == "int":
        return int(d) if d not in (None, "") else 0
    if t == "float":
        return float(d) if d not in (None, "") else 0.0
    if t == "bool":
        return d == "true"
    if t.endswith(" ref"):
        return d if d and d.startswith("OpaqueRef:") else NULL_REF
    if t == "datetime":
        return d or "19700101T00:00:00Z"
    if t.startswith("enum "):
        return d or ""
    if d is None:
        return ""
    return d[1:-1] if len(d) >= 2 and d[0] == d[-1] == '"' else d


@cache
def datamodel() -> Datamodel:
    return Datamodel()
