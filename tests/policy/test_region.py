"""The policy pack on the real region program: the example regions pass, a violating edit fails.

A preview from an empty state needs no backend (the providers' checks are local), so the examples'
own stack files are previewed as they are, with their example passphrase.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.enginekit import REPO, EngineStack
from tests.policy.kit import preview, violations

pytestmark = [pytest.mark.engine, pytest.mark.slow]

EXAMPLE_PASSPHRASE = "example-only"  # what the example stack files say their placeholders use


def example(root: Path, engine_bin: Path, region: str) -> EngineStack:
    st = EngineStack.create(
        root, engine_bin, project="privatecloud", program=(REPO / "__main__.py").read_text(), stack=region,
        extra_env={"PULUMI_CONFIG_PASSPHRASE": EXAMPLE_PASSPHRASE},
    )
    shutil.copy(REPO / f"Pulumi.{region}.yaml", st.workdir / f"Pulumi.{region}.yaml")
    return st


@pytest.mark.parametrize("region", ["sgp1", "tyo1"])
def test_example_regions_pass(tmp_path: Path, engine_bin: Path, region: str) -> None:
    res = preview(example(tmp_path, engine_bin, region))
    assert res.returncode == 0, "\n".join(res.diagnostics("error")) + res.stderr
    assert violations(res) == []
    assert res.changes["create"] > 40  # the whole region was planned and checked


def test_a_thin_pool_fails_the_region_preview(tmp_path: Path, engine_bin: Path) -> None:
    st = example(tmp_path, engine_bin, "sgp1")
    st.set_config("privatecloud:region.storage.pools[0].minSize", "1", path=True)
    res = preview(st)
    assert res.returncode != 0
    found = violations(res)
    assert [(v.policy, v.level) for v in found] == [("ceph-pool-durability", "mandatory")]
    assert "ceph.Pool 'sgp1-storage-vm-disks': min_size=1 (needs >= 2)" in found[0].message
