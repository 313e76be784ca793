"""`CephCluster` with a file system: day 0 also makes CephFS (its two pools, `fs new`) and starts a
metadata server on the first storage server; a second `up` runs no command; destroy stops it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.enginekit import EngineStack
from tests.hosts.test_cephcluster_engine import ceph_daemons, hosts_lab, on  # noqa: F401 - hosts_lab: fixture

pytestmark = [pytest.mark.engine, pytest.mark.ceph, pytest.mark.slow]

PROGRAM = """
import json
import pulumi
from components.cephcluster import CephCluster, CephClusterArgs, CephHost

cfg = pulumi.Config()
hosts = [CephHost(h["name"], h["address"]) for h in json.loads(cfg.require("hosts"))]
c = CephCluster("ceph", CephClusterArgs(hosts=hosts, private_key=cfg.require_secret("deployKey"), lab=True,
                                        allow_osd_purge=True, file_system="cephfs"))
pulumi.export("file_system", c.file_system)
"""


def test_day0_makes_the_file_system_and_its_mds(tmp_path: Path, engine_bin: Path,
                                                 hosts_lab: dict[str, Any]) -> None:  # noqa: F811
    lab = hosts_lab
    lab["ironic"].deploy("sto-a", lab["public"])
    one = [{"name": "sto-a", "address": lab["addresses"]["sto-a"]}]
    st = EngineStack.create(tmp_path / "engine", engine_bin, program=PROGRAM,
                            config={"hosts": json.dumps(one)}, secrets={"deployKey": lab["private"]})
    st.up()
    assert st.outputs()["file_system"] == "cephfs"
    assert "up:active" in on(lab, "sto-a", "ceph", "mds", "stat")
    assert json.loads(on(lab, "sto-a", "ceph", "fs", "ls", "--format", "json"))[0]["name"] == "cephfs"
    assert "ceph-mds" in ceph_daemons(lab, "sto-a")
    assert st.up().changes == {}
    st.destroy()
    assert ceph_daemons(lab, "sto-a") == []
