"""Pulumi dynamic providers for the four backends of a region.

One module per backend (`ironic`, `ceph`, `xcpng`, `cloudstack`), read as `ironic.Node`,
`ceph.Pool`, `cloudstack.Zone`; `_core` holds what they share: the field table and its pure diff,
the error taxonomy and the bounded wait. Importing any of them has no side effects.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, modules: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A backend package's `__getattr__` and `__dir__` (PEP 562): each exported name's module
    (`modules`: name -> relative module) is imported on first use, so importing one resource's
    module (the provider process unpickling a provider, the stack config reading a settings
    model) does not import the others."""

    def getattr_(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *modules})

    return getattr_, dir_

