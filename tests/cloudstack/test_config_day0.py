"""The stack config's day-0 parts: public and storage ranges against the pod range, the guest CIDR
and each other; CloudStack access by keys or by the management server's admin password."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError, load, load_config, load_stack_file
from tests.enginekit import REPO

PUBLIC = {"gateway": "192.0.2.1", "netmask": "255.255.255.0", "startIp": "192.0.2.10", "endIp": "192.0.2.50"}


@pytest.fixture()
def raw() -> dict[str, Any]:
    cfg = load_stack_file(str(REPO / "Pulumi.dev.yaml"))
    data: dict[str, Any] = json.loads(cfg.model_dump_json(by_alias=True, exclude_none=True))
    for section, key in [("ceph", "dashboardPassword"), ("ceph", "rgwSecretKey"), ("managementServer", "adminPassword"),
                         ("managementServer", "newAdminPassword"), ("credentials", "bmcPassword"),
                         ("credentials", "xcpngRootPassword")]:
        if section in data:  # the dev stack forms its Ceph (cephBootstrap): no `ceph` section
            data[section][key] = "s3cret-value"
    return data


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(raw)
    return e.value.problems


def test_the_dev_stack_bootstraps_cloudstack_and_has_a_public_range(raw: dict[str, Any]) -> None:
    cfg = load(raw)
    assert cfg.management_server is not None and cfg.cloudstack.api_key is None
    assert len(cfg.region.zone.public_ip_ranges) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"publicIpRanges": [{**PUBLIC, "startIp": "10.10.0.150", "endIp": "10.10.0.160", "gateway": "10.10.0.1"}]},
         "region.zone.publicIpRanges[0]: range 10.10.0.150-10.10.0.160 overlaps the pod's reserved range "
         "10.10.0.100-10.10.0.199"),
        ({"publicIpRanges": [{"gateway": "10.1.5.1", "netmask": "255.255.255.0", "startIp": "10.1.5.10",
                              "endIp": "10.1.5.20"}]},
         "region.zone.publicIpRanges[0]: network 10.1.5.0/24 overlaps the guest CIDR 10.1.0.0/16"),
        ({"publicIpRanges": [{**PUBLIC, "endIp": "192.0.3.5"}]},
         "region.zone.publicIpRanges[0]: range 192.0.2.10-192.0.3.5 is outside its network 192.0.2.0/24"),
        ({"publicIpRanges": [PUBLIC, {**PUBLIC, "startIp": "192.0.2.40", "endIp": "192.0.2.60"}]},
         "region.zone.publicIpRanges[1]: range 192.0.2.40-192.0.2.60 overlaps zone.publicIpRanges[0]"),
        ({"publicIpRanges": [{**PUBLIC, "gateway": "192.0.2.20"}]},
         "region.zone.publicIpRanges[0].gateway=192.0.2.20: inside the range 192.0.2.10-192.0.2.50"),
        ({"storageIpRange": {"gateway": "10.10.0.1", "netmask": "255.255.255.0", "startIp": "10.10.0.190",
                             "endIp": "10.10.0.210"}},
         "region.zone.storageIpRange: range 10.10.0.190-10.10.0.210 overlaps the pod's reserved range"),
        ({"settings": {"Expunge Delay": "1"}}, "region.zone.settings.Expunge Delay: not a CloudStack setting name"),
    ],
)
def test_day0_ranges_and_settings_are_checked(raw: dict[str, Any], change: dict[str, Any], expected: str) -> None:
    raw["region"]["zone"].update(change)
    assert any(expected in p for p in problems(raw)), problems(raw)


def test_a_storage_range_needs_storage_traffic(raw: dict[str, Any]) -> None:
    del raw["region"]["zone"]["physicalNetwork"]["traffic"]["storage"]
    assert any("region.zone.storageIpRange: a storage network range needs storage traffic "
               "(zone.physicalNetwork.traffic.storage)" in p for p in problems(raw)), problems(raw)


def test_cloudstack_access_needs_keys_or_the_admin_password(raw: dict[str, Any]) -> None:
    del raw["managementServer"]
    assert any(p.endswith("=(secret): missing: give cloudstack.apiKey and cloudstack.secretKey, or this section with "
                          "the admin password (the program then registers its own keys)")
               for p in problems(raw)), problems(raw)
    raw["cloudstack"].update(apiKey="key", secretKey="s3cret-value")
    assert load(raw).management_server is None


def test_the_admin_passwords_are_secrets_in_errors_and_in_the_file(raw: dict[str, Any]) -> None:
    """managementServer's passwords sit where secrets sit: masked in every error, refused in plaintext."""
    raw["managementServer"]["adminPassword"] = "s3cret-value\x07"
    found = problems(raw)
    assert "privatecloud:managementServer.adminPassword=(secret): has a trailing control character '\\x07'; " \
           "values are one line of printable text" in found, found
    assert not any("s3cret" in p for p in found), found
    raw["managementServer"]["adminPassword"] = "s3cret-value"
    config = {f"privatecloud:{k}": json.dumps(v) for k, v in raw.items()}
    with pytest.raises(ConfigError) as e:
        load_config(config, secret_keys=set(config) - {"privatecloud:managementServer"})
    assert e.value.problems == [
        f"privatecloud:managementServer.{key}=(secret): a plaintext credential in the stack config; encrypt it: "
        f"pulumi config set --secret --path 'privatecloud:managementServer.{key}' <value>"
        for key in ("adminPassword", "newAdminPassword")]
