"""Coercions every backend uses the same way, so a value means one thing everywhere."""

from __future__ import annotations

from typing import Any


def lower(value: Any) -> str:
    """Case-insensitive comparison of names backends spell freely (Advanced/advanced)."""
    return str(value).lower()


def as_int(value: Any) -> int:
    """Backends answer numbers as strings or numbers; the engine sends floats."""
    return int(float(value))


def as_bool(value: Any) -> bool:
    """"true"/"false" (any case) as backends answer them, or a real bool."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
