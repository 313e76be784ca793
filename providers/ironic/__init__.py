"""Ironic bare metal as Pulumi resources: `ironic.Node` and `ironic.Fleet`.

    from providers import ironic
    n = ironic.Node("cmp-01", ironic.NodeArgs(name="cmp-01", driver="redfish", ..., wait=False))
    ironic.Fleet("rack-1", ironic.FleetArgs(nodes=[n, ...]))

Stack config: `<project>:ironic = {"endpoint": "http://..."}` (read in `configure()`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers import lazy_names

if TYPE_CHECKING:
    from ._walk import Member, Timeouts
    from .fleet import Fleet, FleetArgs, FleetInputs, FleetProvider
    from .node import InstanceInfo, Node, NodeArgs, NodeInputs, NodeProvider

# Each name's module, imported on first use: importing one resource's module (the provider process
# unpickling a provider, `components.config` reading a settings model) does not import the others.
_MODULES = {
    "Fleet": ".fleet",
    "FleetArgs": ".fleet",
    "FleetInputs": ".fleet",
    "FleetProvider": ".fleet",
    "InstanceInfo": ".node",
    "Member": "._walk",
    "Node": ".node",
    "NodeArgs": ".node",
    "NodeInputs": ".node",
    "NodeProvider": ".node",
    "Timeouts": "._walk",
}

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

__getattr__, __dir__ = lazy_names(__name__, _MODULES)
