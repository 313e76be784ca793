"""Pulumi dynamic providers for the four backends of a region.

One module per backend (`ironic`, `ceph`, `xcpng`, `cloudstack`), read as `ironic.Node`,
`ceph.Pool`, `cloudstack.Zone`; `_core` holds what they share: the field table and its pure diff,
the error taxonomy and the bounded wait. Importing any of them has no side effects.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def declared_exports(init_file: str) -> dict[str, str]:
    """The names a package's `__init__.py` imports under `if TYPE_CHECKING:`, each with its relative
    module: the package's one declaration of what it exports."""
    exports: dict[str, str] = {}
    for node in ast.parse(Path(init_file).read_text()).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                if isinstance(imp, ast.ImportFrom):
                    module = "." * imp.level + (imp.module or "")
                    exports.update((alias.asname or alias.name, module) for alias in imp.names)
    return exports


def lazy_names(package: str, init_file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """A backend package's `__getattr__`, `__dir__` (PEP 562) and `__all__`, from its one
    declaration of what it exports: the imports under `if TYPE_CHECKING:` in its `__init__.py`,
    which type checkers read as written and which are read here, so that each name's module is
    imported on first use only. Importing one resource's module (the provider process unpickling a
    provider, the stack config reading a settings model) does not import the others."""
    modules = declared_exports(init_file)

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
