"""The stack config model: the committed stacks validate; each invariant names path, value, reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.config import ConfigError, json_schema, load, load_stack_file

REPO = Path(__file__).resolve().parents[2]
R = "privatecloud:region."
STACKS = sorted(REPO.glob("Pulumi.*.yaml"))


@pytest.fixture()
def raw() -> dict[str, Any]:
    """The dev stack's config as the program sees it (secrets decrypted to placeholders)."""
    cfg = load_stack_file(str(REPO / "Pulumi.dev.yaml"))
    data = json.loads(cfg.model_dump_json(by_alias=True))
    # The dev stack forms its Ceph cluster (cephBootstrap); these tests use the existing-cluster mode.
    data.pop("cephBootstrap")
    data["ceph"] = {"dashboardUrl": "http://127.0.0.1:18080", "dashboardUser": "admin",
                    "rgwUrl": "http://127.0.0.1:17480", "rgwAccessKey": "LABRGWADMINACCESS001"}
    # ...whose pools have NFS SRs (a cephfs SR's chain needs cephBootstrap's SSH).
    for i, pool in enumerate(data["region"]["hypervisorPools"]):
        pool["sr"] = {"name": f"nfs-{i}", "type": "nfs",
                      "deviceConfig": {"server": "127.0.0.1", "serverpath": f"/vm-disks/{pool['name']}"}}
    for section, key in [("ceph", "dashboardPassword"), ("ceph", "rgwSecretKey"), ("cloudstack", "secretKey"),
                         ("credentials", "bmcPassword"), ("credentials", "xcpngRootPassword")]:
        data[section][key] = "s3cret"
    return data


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(raw)
    return e.value.problems


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.name)
def test_committed_stacks_validate(path: Path) -> None:
    cfg = load_stack_file(str(path))
    assert cfg.region.servers


def test_there_are_example_regions_beside_dev() -> None:
    assert {p.name for p in STACKS} >= {"Pulumi.dev.yaml", "Pulumi.sgp1.yaml", "Pulumi.tyo1.yaml"}


def test_objects_arrive_as_json_strings(raw: dict[str, Any]) -> None:
    cfg = load({k: json.dumps(v) for k, v in raw.items()})
    assert cfg.region.name == "dev"
    assert cfg.ceph is not None and cfg.ceph.dashboard_password.get_secret_value() == "s3cret"


def test_rbd_primary_storage_refused_for_xcpng(raw: dict[str, Any]) -> None:
    raw["region"]["zone"]["primaryStorage"] = {"type": "rbd"}
    [p] = problems(raw)
    assert p.startswith(R + "zone.primaryStorage.type='rbd': CloudStack supports RBD primary storage on KVM only")


def test_s3_secondary_needs_staging_store(raw: dict[str, Any]) -> None:
    raw["region"]["zone"]["stagingStoreUrl"] = None
    [p] = problems(raw)
    assert p.startswith(R + "zone.stagingStoreUrl=None: S3 secondary storage needs an NFS secondary staging store")


def test_traffic_label_must_name_a_pool_network(raw: dict[str, Any]) -> None:
    raw["region"]["zone"]["physicalNetwork"]["traffic"]["guest"] = "guests"
    found = problems(raw)
    assert len(found) == 2  # both pools lack it
    assert found[0].startswith(
        R + "zone.physicalNetwork.traffic.guest='guests': pool hypervisorPools[0]='pool-a' has no network"
    )


def test_replicas_not_above_storage_hosts(raw: dict[str, Any]) -> None:
    raw["region"]["storage"]["pools"][0]["size"] = 4
    [p] = problems(raw)
    assert p.startswith(R + "storage.pools[0].size=4: more replicas than storage servers (3)")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"guestCidr": "10.10.0.0/16"}, R + "zone.guestCidr=10.10.0.0/16: overlaps the pod network 10.10.0.0/24"),
        ({"pod": {"startIp": "10.10.1.5"}}, R + "zone.pod: reserved range 10.10.1.5-10.10.0.199 is outside"),
        ({"pod": {"gateway": "10.10.0.150"}}, R + "zone.pod.gateway=10.10.0.150: inside the reserved range"),
    ],
)
def test_ip_ranges(raw: dict[str, Any], change: dict[str, Any], expected: str) -> None:
    zone = raw["region"]["zone"]
    for k, v in change.items():
        if isinstance(v, dict):
            zone[k].update(v)
        else:
            zone[k] = v
    assert any(p.startswith(expected) for p in problems(raw)), problems(raw)


def test_every_server_has_one_role(raw: dict[str, Any]) -> None:
    raw["region"]["servers"][0]["role"] = "compute,storage"
    [p] = problems(raw)
    assert p.startswith(R + "servers[0].role='compute,storage': Input should be 'compute', 'storage' or")


def test_hypervisor_must_be_a_compute_server_in_one_pool(raw: dict[str, Any]) -> None:
    raw["region"]["hypervisorPools"][1]["members"].append("cmp-01")
    raw["region"]["hypervisorPools"][0]["members"].append("sto-01")
    found = problems(raw)
    assert (
        R + "hypervisorPools[0].members[2]='sto-01': a hypervisor must be a compute server, this one is storage"
    ) in found
    assert R + "hypervisorPools[1].members[2]='cmp-01': already in pool 'pool-a'; a host joins one pool" in found


def test_pool_size_within_cloudstack_cluster_limit(raw: dict[str, Any]) -> None:
    raw["region"]["maxHostsPerCluster"] = 2
    found = problems(raw)
    assert found[0] == (
        R + "hypervisorPools[0]='pool-a': 3 hosts exceed CloudStack's limit of 2 hosts per XenServer cluster"
    )


def test_unknown_keys_are_refused(raw: dict[str, Any]) -> None:
    raw["region"]["zone"]["dnss"] = ["1.1.1.1"]
    [p] = problems(raw)
    assert p == R + "zone.dnss=['1.1.1.1']: unknown key; did you mean 'dns'?"


def test_secrets_are_not_echoed(raw: dict[str, Any]) -> None:
    raw["cloudstack"]["secretKey"] = 12345
    [p] = problems(raw)
    assert p.startswith("privatecloud:cloudstack.secretKey=(secret):")
    assert "12345" not in p


def test_json_schema_is_keyed_as_in_the_stack_file() -> None:
    schema = json_schema()
    assert "privatecloud:region" in schema["properties"]["config"]["properties"]
    assert "privatecloud:credentials" in schema["properties"]["config"]["required"]


def test_committed_schema_is_current() -> None:
    committed = json.loads((REPO / "schema" / "stack-config.schema.json").read_text())
    regenerate = "python -m components.config --schema > schema/stack-config.schema.json"
    assert committed == json_schema(), f"the schema is stale: {regenerate}"


def schema_validator() -> Any:
    """The committed schema in `jsonschema`, checking formats (ipv4) as editors' tools do."""
    schema = json.loads((REPO / "schema" / "stack-config.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema, format_checker=validator.FORMAT_CHECKER)


@pytest.mark.parametrize("stack", STACKS, ids=[s.name for s in STACKS])
def test_the_schema_accepts_every_committed_stack_file(stack: Path) -> None:
    """Encrypted values (a leaf, or a section as a whole) and the policy pack's keys included: an
    editor using the schema shows no error on a file Pulumi and the program accept."""
    doc = yaml.safe_load(stack.read_text())
    assert [(list(e.absolute_path), e.message) for e in schema_validator().iter_errors(doc)] == []
    doc["config"]["privatecloud:ceph"] = {"secure": "v1:AAAA:BBBB"}  # encrypted as a whole
    assert list(schema_validator().iter_errors(doc)) == []


@pytest.mark.parametrize(("where", "value", "words"), [
    (("privatecloud:region", "servers", 0, "cpus"), 0, "less than or equal to the minimum of 0"),
    (("privatecloud:region", "zone", "readinessTimeout"), 100000, "greater than the maximum of 86400"),
    (("privatecloud:region", "zone", "pod", "netmask"), "not-a-mask", "is not a 'ipv4'"),
    (("privatecloud:region", "tenants", "domains", 0, "limits", "cpus"), True, "not valid under any"),
    (("privatecloud-policy:enforcement", "https-endpoints"), "sometimes", "not valid under any"),
])
def test_the_schema_refuses_a_wrong_type_or_range_at_its_path(where: tuple[str | int, ...], value: Any,
                                                              words: str) -> None:
    doc = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    target = doc["config"]
    for step in where[:-1]:
        target = target.setdefault(step, {}) if isinstance(step, str) else target[step]
    target[where[-1]] = value
    error = jsonschema.exceptions.best_match(schema_validator().iter_errors(doc))
    assert error is not None and tuple(error.absolute_path) == ("config", *where)
    assert words in error.message
