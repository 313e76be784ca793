"""Ironic bare metal as Pulumi resources: `ironic.Node` and `ironic.Fleet`.

    from providers import ironic
    n = ironic.Node("cmp-01", ironic.NodeArgs(name="cmp-01", driver="redfish", ..., wait=False))
    ironic.Fleet("rack-1", ironic.FleetArgs(nodes=[n, ...]))

Stack config: `<project>:ironic = {"endpoint": "http://..."}` (read in `configure()`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers import lazy_names

if TYPE_CHECKING:  # what the package exports: read as written by type checkers, and by lazy_names
    from ._walk import Member as Member
    from ._walk import Timeouts as Timeouts
    from .fleet import Fleet as Fleet
    from .fleet import FleetArgs as FleetArgs
    from .fleet import FleetProvider as FleetProvider
    from .node import InstanceInfo as InstanceInfo
    from .node import Node as Node
    from .node import NodeArgs as NodeArgs
    from .node import NodeProvider as NodeProvider

# Each name's module is imported on first use: importing one resource's module (the provider process
# unpickling a provider, `components.config` reading a settings model) does not import the others.
__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)
