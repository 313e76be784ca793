"""The pure diff of the tenant resources: in place vs replace at preview, normalisation, unknowns."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers._core import Table, diff, diff_fields
from providers.cloudstack.offerings import ComputeOfferingArgs, DiskOfferingArgs, NetworkOfferingArgs
from providers.cloudstack.templates import IsoArgs, TemplateArgs
from providers.cloudstack.tenants import AccountArgs, DomainArgs, ResourceLimitArgs, RoleArgs, UserArgs

DOMAIN = DomainArgs.table()
ACCOUNT = AccountArgs.table()
USER = UserArgs.table()
LIMIT = ResourceLimitArgs.table()
COMPUTE = ComputeOfferingArgs.table()
DISK = DiskOfferingArgs.table()
NETWORK = NetworkOfferingArgs.table()
TEMPLATE = TemplateArgs.table()
ISO = IsoArgs.table()
ROLE = RoleArgs.table()
ROLE_OLD = {"name": "Support", "type": "User", "description": "tickets"}

DOMAIN_OLD = {"name": "reseller", "parent_id": "root", "network_domain": "r.example", "path": "ROOT/reseller",
              "level": 1}
ACCOUNT_OLD = {"domain_id": "d", "name": "customer", "account_type": "User", "username": "alice",
               "first_name": "A", "last_name": "T", "email": "a@example.com", "password": "pw", "user_id": "u"}
USER_OLD = {"domain_id": "d", "account": "customer", "username": "api", "first_name": "A", "last_name": "R",
            "email": "r@example.com", "password": "pw", "api_key": "k", "secret_key": "s"}
LIMIT_OLD = {"domain_id": "d", "account": "customer", "resource_type": "instances", "max": 10}
COMPUTE_OLD = {"name": "small", "display_text": "small", "cpu_number": 1, "cpu_speed": 1000, "memory": 1024,
               "storage_type": "shared", "offer_ha": False, "host_tags": "gold"}
DISK_OLD = {"name": "d20", "display_text": "20 GB", "disk_size": 20, "storage_type": "shared", "tags": "ceph"}
NETWORK_OLD = {"name": "iso", "display_text": "iso", "guest_ip_type": "Isolated", "services": ["Dhcp", "Dns"],
               "conserve_mode": True, "egress_default_allow": False, "availability": "Optional", "enabled": True,
               "traffic_type": "Guest"}
TEMPLATE_OLD = {"zone_id": "z", "name": "debian", "display_text": "Debian", "url": "http://i/d.vhd",
                "os_type": "Other Linux (64-bit)", "hypervisor": "XenServer", "format": "VHD", "is_public": True,
                "password_enabled": False, "status": "Download Complete", "is_ready": True, "size": 2}
ISO_OLD = {"zone_id": "z", "name": "tools", "display_text": "tools", "url": "http://i/t.iso",
           "os_type": "Other Linux (64-bit)", "bootable": True, "is_public": True}

CASES = [
    ("domain same", DOMAIN, DOMAIN_OLD, {}, [], []),
    ("domain rename", DOMAIN, DOMAIN_OLD, {"name": "reseller-2"}, ["name"], []),
    ("domain move", DOMAIN, DOMAIN_OLD, {"parent_id": "other"}, ["parent_id"], ["parent_id"]),
    ("account email", ACCOUNT, ACCOUNT_OLD, {"email": "b@example.com"}, ["email"], []),
    ("account password", ACCOUNT, ACCOUNT_OLD, {"password": "pw2"}, ["password"], []),
    ("account type", ACCOUNT, ACCOUNT_OLD, {"account_type": "DomainAdmin"}, ["account_type"], ["account_type"]),
    ("account domain", ACCOUNT, ACCOUNT_OLD, {"domain_id": "e"}, ["domain_id"], ["domain_id"]),
    ("account first user", ACCOUNT, ACCOUNT_OLD, {"username": "bob"}, ["username"], ["username"]),
    ("user keys are outputs", USER, USER_OLD, {"api_key": "other"}, [], []),
    ("user rename", USER, USER_OLD, {"username": "robot"}, ["username"], []),
    ("user account", USER, USER_OLD, {"account": "other"}, ["account"], ["account"]),
    ("limit max", LIMIT, LIMIT_OLD, {"max": 20}, ["max"], []),
    ("limit max as text", LIMIT, LIMIT_OLD, {"max": "10"}, [], []),
    ("limit type", LIMIT, LIMIT_OLD, {"resource_type": "cpus"}, ["resource_type"], ["resource_type"]),
    ("limit type as number", LIMIT, LIMIT_OLD, {"resource_type": "0"}, [], []),
    ("compute text", COMPUTE, COMPUTE_OLD, {"display_text": "Small"}, ["display_text"], []),
    ("compute tags", COMPUTE, COMPUTE_OLD, {"host_tags": "silver"}, ["host_tags"], []),
    ("compute memory", COMPUTE, COMPUTE_OLD, {"memory": 2048}, ["memory"], ["memory"]),
    ("compute cpus and speed", COMPUTE, COMPUTE_OLD, {"cpu_number": 2, "cpu_speed": 2000},
     ["cpu_number", "cpu_speed"], ["cpu_number", "cpu_speed"]),
    ("compute storage type case", COMPUTE, COMPUTE_OLD, {"storage_type": "Shared"}, [], []),
    ("compute ha", COMPUTE, COMPUTE_OLD, {"offer_ha": True}, ["offer_ha"], ["offer_ha"]),
    ("disk size", DISK, DISK_OLD, {"disk_size": 40}, ["disk_size"], ["disk_size"]),
    ("disk tags", DISK, DISK_OLD, {"tags": "ssd"}, ["tags"], []),
    ("network services order", NETWORK, NETWORK_OLD, {"services": ["Dns", "Dhcp"]}, [], []),
    ("network services", NETWORK, NETWORK_OLD, {"services": ["Dhcp"]}, ["services"], ["services"]),
    ("network disabled", NETWORK, NETWORK_OLD, {"enabled": False}, ["enabled"], []),
    ("network state as text", NETWORK, {**NETWORK_OLD, "enabled": "Enabled"}, {"enabled": True}, [], []),
    ("template os type", TEMPLATE, TEMPLATE_OLD, {"os_type": "CentOS 7"}, ["os_type"], []),
    ("template url", TEMPLATE, TEMPLATE_OLD, {"url": "http://i/d2.vhd"}, ["url"], ["url"]),
    ("template visibility", TEMPLATE, TEMPLATE_OLD, {"is_public": False}, ["is_public"], ["is_public"]),
    ("template status is an output", TEMPLATE, TEMPLATE_OLD, {"status": "50% Downloaded"}, [], []),
    ("iso bootable", ISO, ISO_OLD, {"bootable": False}, ["bootable"], []),
    ("iso zone", ISO, ISO_OLD, {"zone_id": "y"}, ["zone_id"], ["zone_id"]),
    ("role description", ROLE, ROLE_OLD, {"description": "calls"}, ["description"], []),
    ("role type", ROLE, ROLE_OLD, {"type": "DomainAdmin"}, ["type"], ["type"]),
]


@pytest.mark.parametrize(("name", "table", "old", "change", "changed", "replaces"), CASES,
                         ids=[c[0] for c in CASES])
def test_diff(name: str, table: Table, old: dict[str, Any], change: dict[str, Any], changed: list[str],
              replaces: list[str]) -> None:
    del name
    news = {**table.input_props(old), **change}
    assert [c.path for c in diff_fields(old, news, table)] == changed
    result = diff(old, news, table)
    assert result.changes is bool(changed)
    assert sorted(result.replaces or []) == sorted(replaces)
    if replaces:
        assert result.delete_before_replace is True  # a replacement would adopt the old one by its name


@pytest.mark.parametrize(("table", "old", "field", "replace"), [
    (COMPUTE, COMPUTE_OLD, "memory", True),
    (COMPUTE, COMPUTE_OLD, "display_text", False),
    (TEMPLATE, TEMPLATE_OLD, "url", True),
    (ACCOUNT, ACCOUNT_OLD, "password", False),
])
def test_unknown_in_preview(table: Table, old: dict[str, Any], field: str, replace: bool) -> None:
    result = diff(old, {**table.input_props(old), field: UNKNOWN}, table)
    assert result.changes is True
    assert (field in (result.replaces or [])) is replace


def test_secrets_are_declared() -> None:
    assert ACCOUNT.secrets == ["password"]
    assert sorted(USER.secrets) == ["api_key", "password", "secret_key"]
