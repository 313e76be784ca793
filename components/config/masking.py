"""Where secrets sit in the stack config, and how its values are shown in errors.

A value is masked by its position, never by a key's spelling: a secret field or below one, all of
`credentials`, whatever holds one, and an unknown key beside one (`is_secret_position`, from the
`StackConfig` layout). Here too: pydantic's errors as one line per problem (`_format`), the
one-line text rule (`_text_problems`), and secret fields given in plaintext (`plaintext_problems`).
"""

from __future__ import annotations

import contextlib
import json
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, SecretStr, ValidationError

from components.config.base import PROJECT, _nearest, dotted
from components.config.stackconfig import StackConfig
from providers._core.types import control_character

# --- where secrets sit, and how values are shown ----------------------------------------------

Path = tuple[str, ...]


def _inner_types(annotation: Any) -> list[Any]:
    """The types a field annotation can hold values of (unwrapping Annotated, unions and lists)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _inner_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) if a is not type(None) for t in _inner_types(a)]
    if origin is list:
        return _inner_types(typing.get_args(annotation)[0])
    return [annotation]


def _layout(model: type[BaseModel], prefix: Path = ()) -> Iterator[tuple[Path, str]]:
    """(path, kind) of every field of the stack config: kind is 'secret', 'model' or 'value';
    a dict's keys are '*'."""
    for name, f in model.model_fields.items():
        path = (*prefix, f.alias or name)
        for t in _inner_types(f.annotation):
            if typing.get_origin(t) is dict:
                value = typing.get_args(t)[1]
                yield (*path, "*"), ("secret" if value is SecretStr else "value")
                yield path, "value"
            elif t is SecretStr:
                yield path, "secret"
            elif isinstance(t, type) and issubclass(t, BaseModel):
                yield path, "model"
                yield from _layout(t, path)
            else:
                yield path, "value"


def _matches(pattern: Path, path: Path) -> bool:
    return len(pattern) == len(path) and all(p in ("*", q) for p, q in zip(pattern, path, strict=True))


def _under(path: Path, pattern: Path) -> bool:
    """`path` is `pattern` or lies below it."""
    return len(path) >= len(pattern) and _matches(pattern, path[: len(pattern)])


def _secret_layout() -> tuple[list[Path], set[Path]]:
    layout = list(_layout(StackConfig))
    secrets = [p for p, kind in layout if kind == "secret"]
    return [("credentials",), *secrets], {p for p, _ in layout}


SECRET_PATHS, KNOWN_PATHS = _secret_layout()


def is_secret_position(path: tuple[str | int, ...]) -> bool:
    """Whether a value at `path` may hold a secret: a secret field or below one, anything that holds
    one, or an unknown key beside one (a misspelled secret field is still a secret)."""
    p = tuple(k for k in path if isinstance(k, str))
    for s in SECRET_PATHS:
        if _under(p, s) or _under(s, p):
            return True
    known = any(_matches(k, p) for k in KNOWN_PATHS)
    return bool(p) and not known and any(_under(s, p[:-1]) for s in SECRET_PATHS)


_USERINFO = re.compile(r"(?<=//)[^/@\s]*@")


def _show(path: tuple[str | int, ...], value: Any) -> str:
    if is_secret_position(path):
        return "(secret)"
    text = _USERINFO.sub("(credentials)@", repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _fields_at(path: tuple[str | int, ...]) -> list[str]:
    """The field names the model accepts at `path` (for 'did you mean')."""
    p = tuple(k for k in path if isinstance(k, str))
    return [k[-1] for k in KNOWN_PATHS if len(k) == len(p) + 1 and _matches(k[:-1], p) and k[-1] != "*"]


def _format(e: ValidationError) -> Iterator[tuple[str, str]]:
    """(path, line) per problem; the cross-layer invariants come as whole lines already."""
    for err in e.errors():
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "value_error" and loc in ((), ("region",)):
            prefix = f"{PROJECT}:region." if loc else ""
            yield from (("", f"{prefix}{line}") for line in msg.split("\n"))
            continue
        if err["type"] == "extra_forbidden":
            msg = "unknown key" + _nearest(str(loc[-1]), _fields_at(loc[:-1]))
        shown = "(missing)" if err["type"] == "missing" else _show(loc, err.get("input"))
        yield dotted(loc), f"{dotted(loc)}={shown}: {msg}"


MULTILINE_PATHS = {("cephBootstrap", "deployKey")}
"""Fields whose value is many lines by nature (a PEM private key): exempt from the one-line rule."""


def _text_problems(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    """Control characters anywhere (keys and values), which no field of the config may hold but
    the MULTILINE_PATHS."""
    if tuple(path) in MULTILINE_PATHS:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and (found := control_character(k)):
                yield dotted(path), f"{dotted(path)}: a key has {found}"
            yield from _text_problems(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _text_problems(v, (*path, i))
    elif isinstance(value, str) and (found := control_character(value)):
        yield dotted(path), f"{dotted(path)}={_show(path, value)}: has {found}; values are one line of printable text"


# --- plaintext credentials --------------------------------------------------------------------

Loc = tuple[str | int, ...]


def _secret_leaves(value: Any, pattern: Path, path: Loc = ()) -> Iterator[tuple[Loc, Any]]:
    """The values at a secret field's position (a '*' in the pattern is every key of a mapping)."""
    if not pattern:
        yield path, value
        return
    if not isinstance(value, dict):
        return
    head, rest = pattern[0], pattern[1:]
    for k, v in value.items():
        if head in ("*", k):
            yield from _secret_leaves(v, rest, (*path, k))


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _plaintext_problem(path: tuple[str | int, ...]) -> str:
    where = dotted(path)
    return (f"{where}=(secret): a plaintext credential in the stack config; encrypt it: "
            f"pulumi config set --secret --path '{where}' <value>")


def plaintext_problems(config: Mapping[str, Any], is_encrypted: Callable[[str, Any], bool]) -> Iterator[str]:
    """Secret fields whose value the stack config holds in plaintext.

    `is_encrypted(key, value)` says whether a leaf under a top-level key was given encrypted."""
    for s in SECRET_PATHS:
        if len(s) < 2:
            continue
        section = config.get(f"{PROJECT}:{s[0]}")
        if isinstance(section, str):
            with contextlib.suppress(json.JSONDecodeError):
                section = json.loads(section)
        for path, value in _secret_leaves(section, s[1:], (s[0],)):
            if value is not None and value != "" and not is_encrypted(f"{PROJECT}:{s[0]}", value):
                yield _plaintext_problem(path)
