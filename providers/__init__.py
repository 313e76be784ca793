"""Pulumi dynamic providers for the four backends of a region.

One module per backend (`ironic`, `ceph`, `xcpng`, `cloudstack`), read as `ironic.Node`,
`ceph.Pool`, `cloudstack.Zone`; `_core` holds what they share: the field table and its pure diff,
the error taxonomy and the bounded wait. Importing any of them has no side effects.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_names(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """A backend package's `__getattr__`, `__dir__` (PEP 562) and `__all__`, from its one
    declaration of what it exports (`exports`: relative module -> the names it defines). Each name's
    module is imported on first use, so importing one resource's module (the provider process
    unpickling a provider, the stack config reading a settings model) does not import the others."""
    modules = {name: module for module, names in exports.items() for name in names}

    def getattr_(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *modules})

    return getattr_, dir_, sorted(modules)
