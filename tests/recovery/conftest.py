"""One small ephemeral lab for the recovery tests (lab.ephemeral): every piece on ports of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lab import ceph
from lab.ephemeral import running_lab
from tests.cloudstack.conftest import cs_lab, raw, xapi_lab  # noqa: F401  (the fault matrix's emulators)
from tests.ironic.conftest import slow_ironic  # noqa: F401  (an Ironic the fault matrix restarts)

HOSTS = [f"xcp-{i:02d}" for i in range(1, 3)]


@pytest.fixture(scope="session")
def recovery_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = ceph.unavailable_reason()
    if reason is not None:
        pytest.skip(f"RECOVERY TESTS SKIPPED: this machine cannot run the real Ceph of the lab: {reason}")
    # Each Ironic deploy takes a few seconds, so a test can stop the engine while deploys run.
    with running_lab(tmp_path_factory.mktemp("recovery-lab"), xapi_hosts=HOSTS, ironic_deploy_delay="2") as lab:
        yield lab


STANDALONE_DRIFT = "test_drift_scenario.py::test_drift_everywhere_converges_with_one_deploy"
DRIFT_HOST = "test_killed_deploy.py::test_killed_up_recovers_with_bin_deploy[ironic-deploys]"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The drift scenario runs inside the killed-deploy test on its recovered region (one deploy of
    the region for both): its standalone test is deselected when that test is selected too."""
    if not any(i.nodeid.endswith(DRIFT_HOST) for i in items):
        return
    dropped = [i for i in items if i.nodeid.endswith(STANDALONE_DRIFT)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]
