"""Ironic bare metal as Pulumi resources: `ironic.Node` and `ironic.Fleet`.

    from providers import ironic
    n = ironic.Node("cmp-01", ironic.NodeArgs(name="cmp-01", driver="redfish", ..., wait=False))
    ironic.Fleet("rack-1", ironic.FleetArgs(nodes=[n, ...]))

Stack config: `<project>:ironic = {"endpoint": "http://..."}` (read in `configure()`).
"""

from ._walk import Member, Timeouts
from .fleet import Fleet, FleetArgs, FleetInputs, FleetProvider
from .node import InstanceInfo, Node, NodeArgs, NodeInputs, NodeProvider

__all__ = [
    "Fleet",
    "FleetArgs",
    "FleetInputs",
    "FleetProvider",
    "InstanceInfo",
    "Member",
    "Node",
    "NodeArgs",
    "NodeInputs",
    "NodeProvider",
    "Timeouts",
]
