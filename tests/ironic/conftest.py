"""The real Ironic for the Ironic tests: installed (cached) and started once per session.

Ironic tests must run wherever the test command runs: a failed install or start is an error,
not a skip. Only a machine that truly cannot run it (no Python venv support) skips, loudly.
"""

from __future__ import annotations

import os
import venv as _venv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import ironic as lab_ironic
from providers.ironic import FleetProvider, NodeProvider
from providers.ironic.settings import Settings


def _cannot_run() -> str | None:
    if os.name != "posix":
        return f"the lab's Ironic needs a POSIX machine (os.name={os.name!r})"
    if not hasattr(_venv, "EnvBuilder"):
        return "this Python has no venv module to build Ironic's environment"
    return None


@pytest.fixture(scope="session")
def ironic_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real Ironic (fake hardware, no deploy delay) on a free port for the session."""
    reason = _cannot_run()
    if reason:
        pytest.skip(f"IRONIC TESTS SKIPPED: {reason}")
    state = tmp_path_factory.mktemp("ironic")
    info = lab_ironic.start(state, deploy_delay="0")
    try:
        yield str(info["endpoint"])
    finally:
        lab_ironic.stop(state)


@pytest.fixture
def slow_ironic(tmp_path: Path) -> Iterator[Callable[..., dict[str, Any]]]:
    """A private Ironic whose deploys take time; `restart(deploy_delay=..)` keeps its database."""
    state = tmp_path / "ironic"
    port: dict[str, int] = {}

    def start(deploy_delay: str = "0", fresh: bool = True) -> dict[str, Any]:
        lab_ironic.stop(state)
        info = lab_ironic.start(state, port=port.get("p"), deploy_delay=deploy_delay, fresh=fresh)
        port["p"] = int(str(info["endpoint"]).rsplit(":", 1)[1])
        return info

    try:
        yield start
    finally:
        lab_ironic.stop(state)


def node_provider(endpoint: str) -> NodeProvider:
    p = NodeProvider()
    p.configure_with(Settings(endpoint=endpoint))
    return p


def fleet_provider(endpoint: str) -> FleetProvider:
    p = FleetProvider()
    p.configure_with(Settings(endpoint=endpoint))
    return p
