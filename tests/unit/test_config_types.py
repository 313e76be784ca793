"""The shared value types (providers._core.types) and how the stack file is read: what they accept
matters as much as what they refuse, so valid values of every kind are here too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from components.config import ConfigError, is_secret_position, load_config, load_stack_file, parse_stack_file
from providers._core import types as t
from tests.enginekit import REPO


def ok(kind: Any, value: Any) -> Any:
    return TypeAdapter(kind).validate_python(value)


def refused(kind: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as e:
        TypeAdapter(kind).validate_python(value)
    return str(e.value.errors()[0]["msg"])


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (t.HttpUrl, "https://cloud.example.net/client/api"),
        (t.HttpUrl, "http://[fd00::5]:6385"),
        (t.HttpUrl, "http://127.0.0.1:65535/"),
        (t.ImageUrl, "https://images.example.net/xcp-ng-8.3.0.iso?sig=abc"),
        (t.NfsUrl, "nfs://nfs.example.net:2049/export/secondary"),
        (t.IscsiUrl, "iscsi://10.0.0.5/iqn.2026-11.net.example:pool1/0"),
        (t.IpHostPort, "10.0.0.1"),
        (t.IpHostPort, "127.0.0.1:19101"),
        (t.IpHostPort, "[fd00::1]:443"),
        (t.IpHostPort, "fd00::1"),
        (t.S3BucketName, "sgp-cloudstack-secondary"),
        (t.S3BucketName, "a.b-c"),
        (t.CephPoolName, "VM_disks.1"),
        (t.RgwUserId, "cloudstack-secondary"),
        (t.CloudStackName, "Singapore Zone 1"),
        (t.XapiNameLabel, "Pool-wide network associated with eth0"),
        (t.DeviceName, "eth12"),
        (t.Count, 3),
        (t.Seconds, 2),
        (t.Seconds, 0.5),
    ],
)
def test_valid_values_are_accepted(kind: Any, value: Any) -> None:
    ok(kind, value)


def test_mac_is_normalised_to_lower_case() -> None:
    assert ok(t.Mac, "3C:EC:EF:15:01:0A") == "3c:ec:ef:15:01:0a"


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        (t.HttpUrl, "http://u:p@host/", "must not carry credentials"),
        (t.HttpUrl, "http://host:/x", "port is empty or 0"),
        (t.HttpUrl, "http://host/a/%2e%2e/b", "must not contain '..'"),
        (t.HttpUrl, "http://host/x\n", "trailing control character"),
        (t.ImageUrl, "file:///srv/x.iso", "scheme must be http:// or https://, not file://"),
        (t.NfsUrl, "nfs://host/export?x=1", "no query or fragment"),
        (t.DnsLabel, "dev\n", "trailing control character"),
        (t.DnsLabel, "-dev", "lower-case letters"),
        (t.S3BucketName, "bucket-s3alias", "'-s3alias'"),
        (t.S3BucketName, "a.-b", "'.-'"),
        (t.CloudStackName, "zone\u200b", "U+200B"),
        (t.Count, True, "valid integer"),  # strict: a boolean is no number
        (t.Count, 3.0, "valid integer"),
        (t.Seconds, float("inf"), "finite"),
        (t.Seconds, False, "valid number"),
    ],
)
def test_invalid_values_are_refused_with_the_reason(kind: Any, value: Any, reason: str) -> None:
    assert reason in refused(kind, value)


def test_the_stack_file_is_read_as_yaml_1_2_like_pulumi() -> None:
    doc = parse_stack_file(b"a: yes\nb: 010\nc: 0x10\nd: 52:54:00:00:01:01\ne: 2026-01-01\nf: on\ng: ~\nh: 1e3\n")
    assert doc == {"a": "yes", "b": 10, "c": 16, "d": "52:54:00:00:01:01", "e": "2026-01-01", "f": "on",
                   "g": None, "h": 1000.0}


def test_merge_keys_and_small_aliases_are_fine() -> None:
    doc = parse_stack_file(b"base: &b {mtu: 9000}\nnet: {<<: *b, name: storage}\n")
    assert doc["net"] == {"mtu": 9000, "name": "storage"}


@pytest.mark.parametrize(
    ("path", "masked"),
    [
        (("credentials",), True),
        (("credentials", "bmcPasswords", "cmp-01"), True),
        (("credentials", "whatever", 3), True),
        (("ceph", "dashboardPassword"), True),
        (("ceph", "dashbordPasword"), True),  # a misspelled key beside secrets
        (("ceph",), True),  # holds secrets
        ((), True),
        (("ceph", "dashboardUrl"), False),
        (("cloudstack", "apiKey"), False),
        (("region", "zone", "dnss"), False),
        (("region", "servers", 0, "bmc", "username"), False),
    ],
)
def test_secrets_are_masked_by_position(path: tuple[str | int, ...], masked: bool) -> None:
    assert is_secret_position(path) is masked


def test_engine_path_refuses_a_credential_section_the_engine_did_not_get_as_secret() -> None:
    config = {"privatecloud:credentials": '{"bmcPassword": "hunter2", "xcpngRootPassword": "hunter2"}'}
    with pytest.raises(ConfigError) as e:
        load_config(config, secret_keys=set())
    text = "\n".join(e.value.problems)
    assert ("privatecloud:credentials.bmcPassword=(secret): a plaintext credential in the stack config; "
            "encrypt it: pulumi config set --secret --path 'privatecloud:credentials.bmcPassword' <value>") in text
    assert "hunter2" not in text
    assert "privatecloud:region=(missing): Field required" in text



def test_a_section_encrypted_as_a_whole_is_reported_as_unreadable_not_as_wrong(tmp_path: Path) -> None:
    """`pulumi config set --secret privatecloud:ceph '{...}'` is valid for the engine (it decrypts the
    section), but the validator cannot read it: it says so, and still checks the rest."""
    doc = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    doc["config"]["privatecloud:ceph"] = {"secure": "v1:AAAA:BBBB"}
    doc["config"]["privatecloud:region"]["zone"]["pod"]["netmask"] = "255.0.255.0"
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as e:
        load_stack_file(str(path))
    assert e.value.problems == [
        "privatecloud:region.zone.pod.netmask='255.0.255.0': not a contiguous netmask (ones, then zeros, "
        "e.g. 255.255.255.0)",
        "privatecloud:ceph=(secret): encrypted as a whole, so only the engine can check it (pulumi preview); "
        "set its values one by one to check it here: pulumi config set [--secret] --path "
        "'privatecloud:ceph.<key>' <value>",
    ]


NOT_A_NETMASK = "not a contiguous netmask (ones, then zeros, e.g. 255.255.255.0)"
AS_TEXT = "an address is written as text, e.g. 192.0.2.1 (a number is read as one)"


@pytest.mark.parametrize(("where", "value", "reason"), [
    (("pod", "netmask"), "255.0.255.0", NOT_A_NETMASK),
    (("publicIpRanges", 0, "netmask"), "255.0.255.0", NOT_A_NETMASK),
    (("storageIpRange", "netmask"), "255.0.255.0", NOT_A_NETMASK),
    (("storageIpRange", "netmask"), "0.0.0.255", NOT_A_NETMASK),  # a host mask: read as /24 by ipaddress
    (("publicIpRanges", 0, "gateway"), 99999, AS_TEXT),  # else 0.1.134.159
    (("pod", "startIp"), True, AS_TEXT),  # else 0.0.0.1
    (("dns", 0), 134744072, AS_TEXT),
])
def test_every_address_of_the_zone_is_checked_where_it_is_written(tmp_path: Path, where: tuple[str | int, ...],
                                                                  value: object, reason: str) -> None:
    """The pod's range, a public range and the storage range are one model, and every address is
    text: each bad value is refused naming its field (a public range's netmask once failed later,
    in the range checks, without its path; a number passed as an address)."""
    doc = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    target = doc["config"]["privatecloud:region"]["zone"]
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as e:
        load_stack_file(str(path))
    field = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in where)
    assert e.value.problems == [f"privatecloud:region.zone{field}={value!r}: {reason}"]
