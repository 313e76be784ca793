"""The pure diff: (old outputs, new inputs, table) -> the field changes, and their DiffResult.

In preview, new inputs may hold unknown values (not yet computed). An unknown counts as a
change, and as a replace when the field is replace-only: preview must never promise an update
that will turn out to be a replace. `None` and an absent property are the same thing, and values
are normalised by the field before they are compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pulumi.dynamic import DiffResult
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from .fields import Change, Table

PROVIDER_KEY = "__provider"


def is_unknown(value: Any) -> bool:
    """Whether `value` is, or contains, a value not known until the update runs.

    The dynamic-provider host hands providers unknowns as `pulumi.output.Unknown` objects; the
    wire form, a sentinel string, is recognised too.
    """
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


@dataclass(frozen=True)
class FieldChange:
    op: Literal["add", "change", "remove"]
    path: str
    old: Any
    new: Any
    replace: bool


def diff_fields(old: Mapping[str, Any], new: Mapping[str, Any], table: Table) -> list[FieldChange]:
    """The changed input fields, in table order. Outputs and `__provider` are ignored."""
    changes: list[FieldChange] = []
    for f in table.inputs:
        before, after = old.get(f.name), new.get(f.name)
        replace = f.change is Change.REPLACE
        if is_unknown(after):
            changes.append(FieldChange("change", f.name, before, after, replace))
            continue
        norm_before = None if before is None else f.normalize(before)
        norm_after = None if after is None else f.normalize(after)
        if norm_before == norm_after:
            continue
        op: Literal["add", "change", "remove"] = (
            "add" if before is None else "remove" if after is None else "change"
        )
        changes.append(FieldChange(op, f.name, before, after, replace))
    return changes


def diff_result(changes: list[FieldChange], table: Table) -> DiffResult:
    """The engine's view of a list of changes."""
    replaces = [c.path for c in changes if c.replace]
    return DiffResult(
        changes=bool(changes),
        replaces=replaces,
        stables=[f.name for f in table.inputs if f.change is Change.REPLACE and f.name not in replaces],
        delete_before_replace=table.delete_before_replace if replaces else None,
    )


def diff(old: Mapping[str, Any], new: Mapping[str, Any], table: Table) -> DiffResult:
    return diff_result(diff_fields(old, new, table), table)
