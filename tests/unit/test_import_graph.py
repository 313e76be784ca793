"""No import cycle anywhere in the repository's packages (issue 9).

The graph comes from grimp (import-linter's engine), which reads every import statement, those
inside functions and under `TYPE_CHECKING` included; the standard library's `graphlib` finds a
cycle in it, if there is one, and names its modules.
"""

from __future__ import annotations

import graphlib
import sys
from pathlib import Path

import grimp
import pytest

from tests.enginekit import REPO

PACKAGES = ("providers", "components", "lab", "policy", "benchmarks", "tests")


def import_cycle(*packages: str) -> list[str] | None:
    graph = grimp.build_graph(*packages, cache_dir=None)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as e:
        return list(e.args[1])
    return None


def test_no_import_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    assert import_cycle(*PACKAGES) is None


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "cyclic_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "store.py").write_text("from cyclic_pkg.rules import check\n")
    (pkg / "rules.py").write_text("def check() -> None:\n    from cyclic_pkg import store\n    del store\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cycle = import_cycle("cyclic_pkg")
    assert cycle is not None and set(cycle) == {"cyclic_pkg.store", "cyclic_pkg.rules"}
    assert "cyclic_pkg" not in sys.modules  # read, never imported
