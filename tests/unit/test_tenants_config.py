"""The tenants section of the stack config (region.tenants): what the dev stack declares, and
bad input named by its config path before any API call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError, load
from tests.unit.test_config import raw  # noqa: F401  (the dev stack's config as the program sees it)


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(data)
    return e.value.problems


def test_the_dev_stack_declares_a_reseller_a_customer_offerings_a_template_and_limits(
        raw: dict[str, Any]) -> None:  # noqa: F811
    t = load(raw).region.tenants
    assert t is not None
    (reseller,) = t.domains
    (customer,) = reseller.accounts
    assert (reseller.name, customer.name, customer.type) == ("reseller-a", "customer-1", "user")
    assert [o.name for o in t.compute_offerings] == ["small", "medium"] and len(t.disk_offerings) == 1
    assert t.templates[0].os_type.startswith("Debian") and t.templates[0].url.endswith(".vhd")
    assert reseller.limits is not None and customer.limits is not None
    assert dict(customer.limits.items()) == {"instances": 5, "cpus": 10, "memory_mb": 16384}


@pytest.mark.parametrize(("change", "expected"), [
    (lambda t: t["computeOfferings"].append(dict(t["computeOfferings"][0])),
     "computeOfferings[2]='small': two compute offerings are called 'small' (also computeOfferings[0])"),
    (lambda t: t["computeOfferings"][0].update(memoryMb=16),
     "region.tenants.computeOfferings[0].memoryMb=16: Input should be greater than or equal to 32"),
    (lambda t: t["templates"][0].update(url="ftp://x/y.vhd"),
     "region.tenants.templates[0].url='ftp://x/y.vhd': String should match pattern '^https?://'"),
    (lambda t: t["domains"][0]["accounts"][0]["users"].append(
        dict(t["domains"][0]["accounts"][0]["owner"])),
     "two users of the account are called 'alice'"),
    (lambda t: t["domains"][0]["limits"].update(instances=-5),
     "region.tenants.domains[0].limits.instances=-5: Input should be greater than or equal to -1"),
    (lambda t: t.update(networkOfferings=[{"name": "iso", "services": ["Dhcp", "Teleport"]}]),
     "'Teleport' is not a service the virtual router provides"),
    (lambda t: t["domains"][0]["accounts"][0].update(role="Support"),
     "domains[0].accounts[0].role='Support': not one of tenants.roles (none declared)"),
    (lambda t: (t.update(roles=[{"name": "Reseller", "type": "DomainAdmin"}]),
                t["domains"][0]["accounts"][0].update(role="Reseller")),
     "domains[0].accounts[0].role='Reseller': a DomainAdmin role for a user account"),
], ids=["duplicate-offering", "tiny-memory", "ftp-url", "duplicate-user", "limit-below-minus-one", "service",
        "unknown-role", "role-of-another-type"])
def test_bad_tenants_are_named_by_their_path(raw: dict[str, Any], change: Any, expected: str) -> None:  # noqa: F811
    data = json.loads(json.dumps(raw))
    change(data["region"]["tenants"])
    problems = _problems(data)
    assert len(problems) == 1 and expected in problems[0], problems
