"""The CloudStack emulator under a Go client nobody here wrote: Exoscale's egoscale v0.18.1 (from
the Go module proxy), with its own request signing (signatureVersion 3, `expires` with a numeric
zone offset) and its own decoding of listApis and listZones.

Needs Go and the module proxy (the first build takes a few minutes on two busy cores; later ones
come from the Go build cache); without them the test skips and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import cs
import pytest

from lab.cloudstack import CloudStackLab
from lab.cloudstack.conformance import problems

SOURCE = Path(__file__).with_name("egoscale_check")


@pytest.fixture(scope="session")
def egoscale_check(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("SKIPPED LOUDLY: Go is needed to build the egoscale client check")
    env = {**os.environ, "GOFLAGS": "-mod=readonly"}
    fetched = subprocess.run([go, "mod", "download"], cwd=SOURCE, env=env, capture_output=True, text=True,
                             timeout=600, check=False)
    if fetched.returncode != 0:
        pytest.skip(f"SKIPPED LOUDLY: the Go module proxy did not serve egoscale: {fetched.stderr[-500:]}")
    binary = tmp_path_factory.mktemp("egoscale") / "egoscale-check"
    built = subprocess.run([go, "build", "-o", str(binary), "."], cwd=SOURCE, env=env, capture_output=True,
                           text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    return binary


def test_egoscale_signs_lists_apis_and_zones(lab: CloudStackLab, client: cs.CloudStack,
                                            egoscale_check: Path) -> None:
    for name in ("zone-a", "zone-b"):
        client.createZone(name=name, networktype="Advanced", dns1="10.0.0.2", internaldns1="10.0.0.3")
    env = {**os.environ, "CLOUDSTACK_ENDPOINT": lab.endpoint, "CLOUDSTACK_API_KEY": lab.api_key,
           "CLOUDSTACK_SECRET_KEY": lab.secret_key}
    done = subprocess.run([str(egoscale_check)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got == {"api_count": 705, "api_listed": 705, "createzone_required_networktype": True,
                   "deletephysicalnetwork_isasync": True, "zones": ["zone-a", "zone-b"], "zones_by_name": ["zone-b"]}
    assert [(r.command, r.error) for r in lab.request_log[2:]] == [("listApis", None), ("listZones", None),
                                                                  ("listZones", None)]
    assert problems([(r.command, r.params) for r in lab.request_log]) == []
