"""The core's check at preview: values unknown until apply stop validation, not the defaults.

The engine diffs the inputs check returns against the stored ones, which carry every default.
Inputs lacking them showed as changes of fields nobody touched (a CloudStack cluster's
`hypervisor`: a replace) whenever some other field was unknown.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers._core import diff_fields
from providers._core.provider import TableProvider
from providers.cloudstack.cluster import ClusterProvider
from providers.ironic.node import NodeProvider
from providers.xcpng.network import NetworkProvider

CASES: list[tuple[TableProvider, dict[str, Any], str]] = [
    # members (a list) unknown while the XCP-ng pool changes; hypervisor, username and enabled defaulted
    (ClusterProvider(), {"zone_id": "z", "pod_id": "p", "name": "c", "url": "http://10.0.0.1", "password": "pw",
                         "members": ["10.0.0.2"]}, "members"),
    # ports, properties, interfaces, timeouts: filled by default factories
    (NodeProvider(), {"name": "cmp-01", "driver": "fake-hardware", "ports": ["52:54:00:00:01:01"]}, "ports"),
    # vlan (an integer) unknown; mtu and the rest defaulted
    (NetworkProvider(), {"address": "10.0.0.11", "password": "pw", "name_label": "public", "device": "eth1",
                         "vlan": 100}, "vlan"),
]


@pytest.mark.parametrize(("provider", "given", "unknown"), CASES, ids=lambda c: type(c).__name__)
def test_an_unknown_value_changes_only_its_own_field(
    provider: TableProvider, given: dict[str, Any], unknown: str
) -> None:
    stored = provider.check({}, given)
    assert stored.failures == []
    preview = provider.check(stored.inputs, {**given, unknown: UNKNOWN})
    assert preview.failures == []
    assert set(preview.inputs) == set(stored.inputs)
    assert [c.path for c in diff_fields(stored.inputs, preview.inputs, provider.table)] == [unknown]


def test_a_real_failure_beside_an_unknown_is_still_reported() -> None:
    given = {"zone_id": "z", "pod_id": "p", "name": "", "url": "http://10.0.0.1", "password": "pw",
             "members": UNKNOWN}
    result = ClusterProvider().check({}, given)
    assert [f.property for f in result.failures] == ["name"]
