"""The field table: one declaration per resource drives check, diff, payloads and read.

A `Field` names a property as Pulumi sees it (snake_case) and as the backend's API does, says
how a change to it lands (in place, by replacing the object, or never: a computed output), and
whether it is secret. Providers build their create and update payloads and turn API objects back
into outputs through the table, so a property is named in exactly one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import Any, cast


class Change(Enum):
    """How a change to a field reaches the backend."""

    UPDATE = "update"  # changed in place
    REPLACE = "replace"  # needs a new object: known at preview
    OUTPUT = "output"  # computed by the backend, never an input


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Field:
    name: str
    api: str | None = None
    change: Change = Change.UPDATE
    secret: bool = False
    normalize: Callable[[Any], Any] = _same
    doc: str = ""

    @property
    def api_name(self) -> str:
        return self.api or self.name

    @property
    def is_input(self) -> bool:
        return self.change is not Change.OUTPUT


def args_props(args: Any) -> dict[str, Any]:
    """The fields of an `...Args` dataclass as a dict.

    Never `dataclasses.asdict`: it deep-copies values, and `pulumi.Output`s refuse to be copied.
    """
    return {f.name: getattr(args, f.name) for f in fields(args)}


@dataclass(frozen=True)
class Table:
    """The fields of one resource, in declaration order."""

    resource: str
    fields: tuple[Field, ...]
    delete_before_replace: bool = False
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {f.name: f for f in self.fields}
        if len(by_name) != len(self.fields):
            raise ValueError(f"{self.resource}: duplicate field names in the table")
        object.__setattr__(self, "_by_name", by_name)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    @property
    def inputs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_input)

    @property
    def outputs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.is_input)

    @property
    def secrets(self) -> list[str]:
        return [f.name for f in self.fields if f.secret]

    def to_api(self, props: Mapping[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
        """The API payload for the given input properties (all set inputs, or only `names`)."""
        chosen = self.inputs if names is None else tuple(self[n] for n in names)
        return {f.api_name: props[f.name] for f in chosen if props.get(f.name) is not None}

    def from_api(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Python-named, normalised properties from an API object (fields it lacks are None)."""
        out: dict[str, Any] = {}
        for f in self.fields:
            value = obj.get(f.api_name)
            out[f.name] = None if value is None else f.normalize(value)
        return out

    def input_props(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Only the input properties of `props` (for `ReadResult.inputs`)."""
        return {f.name: props.get(f.name) for f in self.inputs if props.get(f.name) is not None}

    def declared(self, args: Mapping[str, Any] | Any) -> dict[str, Any]:
        """The property bag for `pulumi.dynamic.Resource`: inputs given, outputs declared as None.

        `args` is a mapping or an `...Args` dataclass (read with `args_props`).
        """
        if is_dataclass(args) and not isinstance(args, type):
            given: Mapping[str, Any] = args_props(args)
        else:
            given = cast(Mapping[str, Any], args)
        unknown = set(given) - set(self._by_name)
        if unknown:
            raise TypeError(f"{self.resource}: unknown properties {sorted(unknown)}")
        return {f.name: given.get(f.name) for f in self.fields}
