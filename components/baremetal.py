"""Bare metal: the region's servers as Ironic nodes, deployed together.

Each server is an `ironic.Node` walked to `active` with what its role installs (compute: the
XCP-ng installer ISO with its answer file; storage and controller: a disk image). Nodes start
their deploys and return (`wait=False`); one `ironic.Fleet` then waits for all of them in a single
provider slot, so dozens of servers deploy in about the time of one while each keeps its own place
in preview and state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.config import DeployTimeouts, Images, Server
from providers.ironic import Fleet, FleetArgs, Node, NodeArgs

TYPE = "privatecloud:baremetal:BareMetal"


def driver_info(server: Server, password: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The BMC section of a node for its hardware type (fake-hardware stores ipmi-style keys)."""
    prefix = "redfish" if server.bmc.driver == "redfish" else "ipmi"
    return pulumi.Output.secret(password).apply(
        lambda pw: {
            f"{prefix}_address": server.bmc.address,
            f"{prefix}_username": server.bmc.username,
            f"{prefix}_password": pw,
        }
    )


def instance_info(server: Server, images: Images) -> dict[str, Any]:
    """What a deploy writes, by role: hypervisors install from the ISO, the others from an image."""
    if server.role == "compute":
        info: dict[str, Any] = {"boot_iso": images.hypervisor_iso}
        if images.hypervisor_kernel_params:
            info["kernel_append_params"] = images.hypervisor_kernel_params
        return info
    image = images.storage_image if server.role == "storage" else images.controller_image
    return {"image_source": image}


@dataclass
class BareMetalArgs:
    servers: Sequence[Server]
    """The region's servers; each has exactly one role."""
    images: Images
    """What each role installs."""
    bmc_password: pulumi.Input[str]
    """BMC password of every server without an entry in `bmc_passwords` (secret)."""
    bmc_passwords: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Server name -> BMC password (secret)."""
    timeouts: DeployTimeouts = field(default_factory=DeployTimeouts)
    """Ironic deadlines per phase."""


class BareMetal(pulumi.ComponentResource):
    """Every server of the region enrolled, deployed and waited for."""

    nodes: dict[str, Node]
    fleet: Fleet
    node_uuids: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: BareMetalArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        timeouts = args.timeouts.model_dump(exclude_none=True)
        self.nodes = {}
        for server in args.servers:
            password = args.bmc_passwords.get(server.name, args.bmc_password)
            self.nodes[server.name] = Node(
                f"{name}-{server.name}",
                NodeArgs(
                    name=server.name,
                    driver=server.bmc.driver,
                    driver_info=driver_info(server, password),
                    properties={"cpus": server.cpus, "memory_mb": server.memory_mb, "local_gb": server.local_gb},
                    resource_class=f"baremetal.{server.role}",
                    ports=list(server.macs),
                    target_state="active",
                    # Kept, not just recorded: a server powered off or put in maintenance by hand
                    # is drift that refresh shows and up repairs.
                    power="on",
                    maintenance=False,
                    instance_info=instance_info(server, args.images),
                    timeouts=timeouts or None,
                    wait=False,
                ),
                child,
            )
        self.fleet = Fleet(f"{name}-fleet", FleetArgs(nodes=list(self.nodes.values())), child)
        self.node_uuids = pulumi.Output.all(
            *[pulumi.Output.all(n, node.uuid) for n, node in self.nodes.items()]
        ).apply(lambda pairs: {n: u for n, u in pairs})
        self.register_outputs({"node_uuids": self.node_uuids, "states": self.fleet.states})
