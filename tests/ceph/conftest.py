"""Fixtures for the Ceph tests: a real cluster from the lab, and providers configured for it.

The cluster (mon, mgr + dashboard, one OSD, RGW) is started once per session on free ports in a
temporary directory and stopped by its recorded PIDs. Tests marked `ceph` need it. If this machine
truly cannot run it (not root, no Ceph and no apt-get) they are skipped with that reason, loudly;
any other failure to start is an error, not a skip.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pulumi.dynamic import ConfigureRequest

from lab import ceph as lab_ceph
from providers.ceph._base import CephProvider

P = TypeVar("P", bound=CephProvider)


class FakeConfig:
    """The part of `pulumi.Config` that `config_section` uses."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, key: str) -> Any:
        return self.values.get(key)


def stack_config(info: dict[str, Any]) -> dict[str, str]:
    """The `<project>:ceph` object for a lab cluster's endpoints (as `python -m lab env` prints)."""
    return {
        "dashboardUrl": info["dashboard_url"],
        "dashboardUser": info["dashboard_user"],
        "dashboardPassword": info["dashboard_password"],
        "rgwUrl": info["rgw_url"],
        "rgwAccessKey": info["rgw_access_key"],
        "rgwSecretKey": info["rgw_secret_key"],
    }


def configured(provider: P, info: dict[str, Any]) -> P:
    provider.configure(ConfigureRequest(FakeConfig({"ceph": json.dumps(stack_config(info))})))  # type: ignore[arg-type]
    return provider


@pytest.fixture(scope="session")
def ceph_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running lab cluster: its endpoints plus `state_dir` (for `lab.ceph.cli`)."""
    reason = lab_ceph.unavailable_reason()
    if reason:
        print(f"\n*** SKIPPING Ceph tests: {reason} ***", file=sys.stderr)
        pytest.skip(f"this machine cannot run the Ceph lab: {reason}")
    state_dir: Path = tmp_path_factory.mktemp("ceph-lab")
    try:
        info = lab_ceph.start(state_dir)
    except Exception:
        lab_ceph.stop(state_dir)
        raise
    try:
        yield {**info, "state_dir": state_dir}
    finally:
        lab_ceph.stop(state_dir)
