"""The program's shortcuts around the SDK's per-resource work give what the SDK's own paths give.

`providers._core.declare.secret` (for `Output.secret`), the Fleet's `_member_of` (for
`Output.all(**values).apply(_member)`) and `providers._core.resource.pickled` (for pickling the
provider again for every resource): the same values, secrecy, knownness and dependencies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import settings as runtime_settings

from providers._core.declare import holds_output, secret
from providers._core.resource import pickled
from providers.ironic.fleet import _member, _member_of
from providers.ironic.node import NodeProvider
from tests.mocks import EchoMocks


@pytest.fixture(autouse=True)
def _mocks() -> Iterator[None]:
    """Fresh mocks for each test here (Outputs need the SDK's settings; no engine). The root stack
    resource `set_mocks` makes is kept for the session: the one before is put back afterwards, so
    tests declaring a stack of another name later see theirs."""
    before = runtime_settings.ROOT.get()
    pulumi.runtime.set_mocks(EchoMocks(), preview=False)
    yield
    runtime_settings.ROOT.set(before)


async def _same(ours: pulumi.Output[Any], sdk: pulumi.Output[Any]) -> None:
    assert await ours.future() == await sdk.future()
    assert await ours.is_secret() == await sdk.is_secret()
    assert await ours.is_known() == await sdk.is_known()
    assert await ours.resources() == await sdk.resources()


def _values() -> list[Any]:
    return [
        "plain", 0, None, [1, "a", {"k": [2.5, True]}],
        {"ipmi_address": "10.0.0.1", "ipmi_username": "admin", "ipmi_password": "pw"},
        {"ipmi_address": "10.0.0.1", "ipmi_password": pulumi.Output.secret("pw")},  # holds an Output
        pulumi.Output.from_input({"meta_data": {"hostname": "n1"}}),
    ]


@pulumi.runtime.test
def test_secret_is_output_secret() -> pulumi.Output[Any]:
    async def compare() -> None:
        for value in _values():
            if value is None:
                continue
            ours, sdk = secret(value), pulumi.Output.secret(value)
            await _same(ours, sdk)
            assert await ours.is_secret()

    return pulumi.Output.from_input(compare())


def test_holds_output_looks_inside_dicts_and_lists() -> None:
    assert not holds_output({"a": [1, {"b": "c"}]}) and not holds_output("x")
    assert holds_output({"a": [1, {"b": pulumi.Output.from_input("c")}]})
    assert holds_output((pulumi.Output.from_input(1),))


@pulumi.runtime.test
def test_a_fleet_member_is_what_output_all_gives() -> pulumi.Output[Any]:
    node = pulumi.Output.from_input("node-uuid")
    cases = [
        {"id": node, "walk": pulumi.Output.from_input(""), "name": "n1", "target": "active",
         "timeouts": {"manage": 600.0, "poll_interval": 1.0}, "config_drive": None, "power": "on"},
        {"id": node, "walk": pulumi.Output.from_input("w1"), "name": "n2", "target": "available",
         "timeouts": None, "config_drive": pulumi.Output.secret({"meta_data": {"hostname": "n2"}}), "power": None},
        {"id": node, "walk": pulumi.Output.from_input(None), "name": pulumi.Output.from_input("n3"),
         "target": "active", "timeouts": {"deploy": pulumi.Output.from_input(60.0)}, "power": None},
    ]

    async def compare() -> None:
        for values in cases:
            await _same(_member_of(values), pulumi.Output.all(**values).apply(_member))

    return pulumi.Output.from_input(compare())


class _Captures(ResourceProvider):
    serialize_as_secret_always = False


class _AlwaysSecret(ResourceProvider):
    pass  # the SDK's default: sent as a secret, so pickled per resource as the SDK does


def test_the_provider_is_pickled_once_as_the_sdk_pickles_it() -> None:
    assert pickled(NodeProvider) == serialize_provider(NodeProvider())
    assert pickled(NodeProvider) is pickled(NodeProvider)
    assert pickled(_Captures) == serialize_provider(_Captures())
    assert pickled(_AlwaysSecret) is None
