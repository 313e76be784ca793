"""The policy pack through the real engine: every rule fails a preview with its message on a stack
that breaks it and lets a compliant one through; levels and approvals come from the stack config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.enginekit import EngineStack
from tests.policy.kit import PACK, preview, stack, violations

pytestmark = pytest.mark.engine

ENDPOINTS = {
    "privatecloud:ironic": {"endpoint": "https://ironic.example.net:6385"},
    "privatecloud:ceph": {"dashboardUrl": "https://ceph.example.net:8443", "rgwUrl": "https://s3.example.net"},
    "privatecloud:cloudstack": {"endpoint": "https://cloud.example.net/client/api"},
}

RESOURCES = """
import pulumi
from fakes import CephPool, ImageStore

cfg = pulumi.Config("t")
CephPool("vm-disks", {"name": "vm-disks", "size": cfg.get_int("size") or 3, "min_size": cfg.get_int("min") or 2,
                      "allow_delete": cfg.get_bool("allowDelete") or False})
ImageStore("secondary", {"kind": "S3", "name": "secondary", "endpoint": cfg.get("s3") or "https://s3.example.net",
                         "access_key": "AK", "secret_key": pulumi.Output.secret(cfg.get("sk") or "s3cr3t"),
                         "use_https": cfg.get_bool("https")})
"""


def config(**overrides: object) -> dict[str, str]:
    out = {k: json.dumps(v) for k, v in ENDPOINTS.items()}
    out.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()})
    return out


@pytest.fixture
def compliant(tmp_path: Path, engine_bin: Path) -> EngineStack:
    return stack(tmp_path, engine_bin, RESOURCES, config=config())


def test_compliant_stack_passes(compliant: EngineStack) -> None:
    res = preview(compliant)
    assert res.returncode == 0, res.stderr + res.stdout[-3000:]
    assert violations(res) == []


@pytest.mark.parametrize(
    ("key", "value", "policy", "message"),
    [
        ("t:size", "2", "ceph-pool-durability", "ceph.Pool 'vm-disks': size=2 (needs >= 3)"),
        ("t:min", "1", "ceph-pool-durability", "min_size=1 (needs >= 2)"),
        ("t:allowDelete", "true", "ceph-pool-no-delete", "ceph.Pool 'vm-disks': allow_delete=true in a production"),
        ("t:s3", "http://s3.example.net", "s3-image-store-https",
         "cloudstack.ImageStore 'secondary': S3 endpoint 'http://s3.example.net'"),
        ("t:https", "false", "s3-image-store-https", "use_https=False: S3 image stores use https"),
        ("privatecloud:ironic", '{"endpoint": "http://ironic.example.net:6385"}', "https-endpoints",
         "privatecloud:ironic.endpoint='http://ironic.example.net:6385': API endpoints of real regions use https"),
        ("privatecloud:xcpng", '{"scheme": "http"}', "https-endpoints", "privatecloud:xcpng.scheme='http'"),
    ],
)
def test_each_rule_fails_a_preview(
    compliant: EngineStack, key: str, value: str, policy: str, message: str
) -> None:
    compliant.set_config(key, value)
    res = preview(compliant)
    assert res.returncode != 0
    found = violations(res)
    assert [v.policy for v in found] == [policy], found
    assert found[0].level == "mandatory"
    assert message in found[0].message


def test_plaintext_secret_input_fails(tmp_path: Path, engine_bin: Path) -> None:
    program = RESOURCES.replace('pulumi.Output.secret(cfg.get("sk") or "s3cr3t")', '"s3cr3t"') + (
        'CephPool("bmc", {"name": "bmc", "size": 3, "min_size": 2,'
        ' "driver_info": {"redfish_address": "10.0.0.1", "redfish_password": "hunter2"},'
        ' "host_passwords": pulumi.Output.secret({"10.0.0.2": "kept-secret"})})\n'
    )
    st = stack(tmp_path, engine_bin, program, config=config())
    res = preview(st)
    assert res.returncode != 0
    found = {v.message.splitlines()[-1] for v in violations(res) if v.policy == "no-plaintext-secrets"}
    assert found == {
        "cloudstack.ImageStore 'secondary': plaintext secret input(s) secret_key: pass them as secrets "
        "(pulumi config set --secret, pulumi.Output.secret) so state and logs keep them encrypted",
        "ceph.Pool 'bmc': plaintext secret input(s) driver_info.redfish_password: pass them as secrets "
        "(pulumi config set --secret, pulumi.Output.secret) so state and logs keep them encrypted",
    }
    # The rule names the leak without echoing the value.
    assert not [v for v in violations(res) if "hunter2" in v.message]


def test_levels_and_production_come_from_the_stack_config(compliant: EngineStack) -> None:
    compliant.set_config("t:size", "2")
    compliant.set_config("t:allowDelete", "true")
    compliant.set_config("privatecloud-policy:enforcement.ceph-pool-durability", "advisory", path=True)
    compliant.set_config("privatecloud-policy:enforcement.ceph-pool-no-delete", "disabled", path=True)
    res = preview(compliant)
    assert res.returncode == 0, res.stderr
    assert [(v.policy, v.level) for v in violations(res)] == [("ceph-pool-durability", "advisory")]

    # A lab stack: the production-only rules do not apply.
    compliant.set_config("privatecloud-policy:enforcement.ceph-pool-durability", "mandatory", path=True)
    compliant.set_config("privatecloud:ironic", '{"endpoint": "http://127.0.0.1:6385"}')
    compliant.set_config("privatecloud-policy:production", "false")
    res = preview(compliant)
    assert res.returncode == 0, res.stderr
    assert violations(res) == []


def test_bad_pack_config_is_named(compliant: EngineStack) -> None:
    compliant.set_config("privatecloud-policy:enforcement.ceph-pool-durability", "sometimes", path=True)
    res = preview(compliant)
    assert res.returncode != 0
    assert ("privatecloud-policy:enforcement.ceph-pool-durability='sometimes': expected one of "
            "mandatory, advisory, disabled") in res.stdout + res.stderr


FLEET = """
import pulumi
from fakes import IronicNode, XcpngPool

cfg = pulumi.Config("t")
XcpngPool("pool-1", {"name": "pool-1", "hosts": cfg.require_object("hosts")})
for name in cfg.require_object("nodes"):
    IronicNode(name, {"name": name, "target_state": cfg.get("target") or "active"})
"""


def test_hosts_leaving_and_nodes_undeployed_need_approval(tmp_path: Path, engine_bin: Path) -> None:
    st = stack(tmp_path, engine_bin, FLEET, config=config(**{
        "t:hosts": ["10.0.0.1", "10.0.0.2", "10.0.0.3"], "t:nodes": ["cmp-1", "cmp-2", "cmp-3"],
    }))
    first = st.run("up", "--skip-preview", "--policy-pack", str(PACK)).check()
    assert first.changes == {"create": 5}
    assert violations(first) == []

    # A host joining and nodes staying: fine.
    st.set_config("t:hosts", '["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]')
    assert preview(st).returncode == 0

    # A host leaving, one node removed, the others told to undeploy.
    st.set_config("t:hosts", '["10.0.0.1", "10.0.0.2"]')
    st.set_config("t:nodes", '["cmp-1", "cmp-2"]')
    st.set_config("t:target", "available")
    res = preview(st)
    assert res.returncode != 0
    messages = sorted(v.message.splitlines()[-1] for v in violations(res))
    assert messages == [
        "ironic.Node 'cmp-1' targets 'available': that undeploys a deployed server; approve with "
        "`pulumi config set --path privatecloud-policy:approvals.undeployNodes[N] cmp-1`",
        "ironic.Node 'cmp-2' targets 'available': that undeploys a deployed server; approve with "
        "`pulumi config set --path privatecloud-policy:approvals.undeployNodes[N] cmp-2`",
        "ironic.Node 'cmp-3' is removed: that undeploys a deployed server; approve with "
        "`pulumi config set --path privatecloud-policy:approvals.undeployNodes[N] cmp-3`",
        "xcpng.Pool 'pool-1': host(s) 10.0.0.3 would leave the pool and pool.eject wipes a host; approve each "
        "with `pulumi config set --path privatecloud-policy:approvals.ejectHosts[N] <address>`",
    ]

    # Approved in the stack config: the same change passes.
    st.set_config("privatecloud-policy:approvals.ejectHosts[0]", "10.0.0.3", path=True)
    for i, node in enumerate(["cmp-1", "cmp-2", "cmp-3"]):
        st.set_config(f"privatecloud-policy:approvals.undeployNodes[{i}]", node, path=True)
    res = preview(st)
    assert res.returncode == 0, res.stdout[-3000:]
    assert violations(res) == []
