"""The pack's rules as pure functions: the cases the engine tests do not walk through."""

from __future__ import annotations

import pytest

from policy import rules
from policy.rules import Res, SecretText, SettingsError


def res(type_: str, logical: str, /, **props: object) -> Res:
    return Res(f"pulumi-python:dynamic/{type_}", f"urn:pulumi:s::p::pulumi-python:dynamic/{type_}::{logical}", props)


@pytest.mark.parametrize(
    ("props", "bad"),
    [
        ({"size": 3.0, "min_size": 2.0}, False),
        ({"size": 5, "min_size": 3}, False),
        ({"size": 3}, True),  # unset min_size: the cluster default, not a reviewed value
        ({"size": 2, "min_size": 2}, True),
        ({"type": "erasure"}, False),  # erasure pools have no replica size
    ],
)
def test_pool_durability(props: dict[str, object], bad: bool) -> None:
    assert bool(rules.ceph_pool_durability(res("ceph:Pool", "p", **props))) is bad


def test_rules_ignore_other_kinds() -> None:
    other = res("ceph:Bucket", "b", size=1, allow_delete=True, password="x")
    assert rules.ceph_pool_durability(other) == []
    assert rules.ceph_pool_no_delete(other) == []
    assert rules.s3_image_store_https(res("cloudstack:ImageStore", "nfs", kind="NFS", url="nfs://x/y")) == []


def test_secrets_nested_and_marked() -> None:
    r = res("ironic:Node", "n", driver_info={"ipmi_password": SecretText("s"), "ipmi_address": "10.0.0.1"},
            host_passwords={"a": SecretText("x"), "b": "leak"}, ports=[{"token": "t"}], secret_key="")
    assert rules.plaintext_secrets(r) == [
        (r.urn, "ironic.Node 'n': plaintext secret input(s) host_passwords.b, ports[0].token: pass them as "
                "secrets (pulumi config set --secret, pulumi.Output.secret) so state and logs keep them encrypted")
    ]


def test_https_endpoints_reads_each_section() -> None:
    config = {"ironic": {"endpoint": "https://i"}, "ceph": {"dashboardUrl": "http://d", "rgwUrl": "https://r"},
              "cloudstack": None}
    assert rules.https_endpoints(config.get) == [
        (None, "privatecloud:ceph.dashboardUrl='http://d': API endpoints of real regions use https")
    ]


def test_a_destroyed_pool_ejects_all_its_hosts() -> None:
    old = [res("xcpng:Pool", "p1", hosts=["h1", "h2"])]
    assert rules.host_ejections(old, [], frozenset({"h1"})) == [
        (old[0].urn, "xcpng.Pool 'p1' is destroyed: host(s) h2 would leave the pool and pool.eject wipes a host; "
                     "approve each with `pulumi config set --path privatecloud-policy:approvals.ejectHosts[N] "
                     "<address>`")
    ]


def test_undeployed_only_matters_for_deployed_nodes() -> None:
    enrolled = res("ironic:Node", "n1", name="n1", target_state="available", provision_state="available")
    assert rules.node_undeploys([enrolled], [], frozenset()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("yes", None, None), "privatecloud-policy:production='yes': expected true or false"),
        ((True, {"nope": "advisory"}, None), "privatecloud-policy:enforcement.nope: no such rule"),
        ((True, None, {"ejectHosts": "h1"}), "privatecloud-policy:approvals.ejectHosts='h1': expected a list"),
        ((True, None, {"eject": []}), "privatecloud-policy:approvals={'eject': []}: expected keys"),
    ],
)
def test_settings_errors_name_the_field(args: tuple[object, object, object], message: str) -> None:
    with pytest.raises(SettingsError, match="^" + message.replace("[", r"\[").replace("(", r"\(")):
        rules.parse_settings(*args, rules=["ceph-pool-durability"])
