"""XenAPI errors as the emulator raises them: a code and parameter list from xenapi-errors.json.

An error whose code is unknown or whose parameter count differs from the documented list is a
bug in the emulator, so constructing one fails loudly (ValueError) instead of reaching a client.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lab.emu.errors import ApiError, reference
from lab.xapi.datamodel import REFERENCE


@cache
def error_table() -> dict[str, tuple[str, ...] | None]:
    """code -> documented parameter names (None: declared in api_errors.ml without a doc entry)."""
    raw = reference(REFERENCE / "xenapi-errors.json")
    table: dict[str, tuple[str, ...] | None] = {e["code"]: tuple(e["params"]) for e in raw["errors"]}
    for code in raw["codes_declared_without_datamodel_entry"]:
        table.setdefault(code, None)
    return table


def check_error(code: str, params: tuple[str, ...]) -> None:
    table = error_table()
    if code not in table:
        raise ValueError(f"{code} is not a XenAPI error code (xenapi-errors.json)")
    documented = table[code]
    if documented is not None and len(documented) != len(params):
        raise ValueError(f"{code} takes {list(documented)}, got {list(params)}")


class XapiError(ApiError):
    """A XenAPI failure: ErrorDescription = [code, *params] (all strings)."""

    code: str

    def __init__(self, code: str, *params: object) -> None:
        strs = tuple(str(p) for p in params)
        super().__init__(code, *strs)
        self.args = (code, *strs)
        self.params = strs

    @classmethod
    def check(cls, code: Any, args: tuple[object, ...]) -> None:
        check_error(code, tuple(str(a) for a in args))

    @property
    def description(self) -> list[str]:
        return [self.code, *self.params]

    def __str__(self) -> str:
        return " ".join(self.description)


def handle_invalid(cls: str, ref: str) -> XapiError:
    return XapiError("HANDLE_INVALID", cls, ref)


def not_allowed(reason: str) -> XapiError:
    return XapiError("OPERATION_NOT_ALLOWED", reason)
