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
from components.options import child_options
from providers.ironic import Fleet, FleetArgs, Node, NodeArgs

TYPE = "privatecloud:baremetal:BareMetal"


def driver_info(server: Server, password: pulumi.Input[str]) -> dict[str, pulumi.Input[str] | None]:
    """The BMC section of a node for its hardware type (fake-hardware stores ipmi-style keys).

    `ironic.Node` makes the whole section secret: given a plain password (as `Region` does), the
    section holds no Output and is made secret in one step rather than unwrapped key by key.
    """
    prefix = "redfish" if server.bmc.driver == "redfish" else "ipmi"
    return {
        f"{prefix}_address": server.bmc.address,
        f"{prefix}_username": server.bmc.username,
        f"{prefix}_password": password,
    }


def instance_info(server: Server, images: Images) -> dict[str, Any]:
    """What a deploy writes, by role: hypervisors install from the ISO, the others from an image."""
    if server.role == "compute":
        info: dict[str, Any] = {"boot_iso": images.hypervisor_iso}
        if images.hypervisor_kernel_params:
            info["kernel_append_params"] = images.hypervisor_kernel_params
        return info
    image = images.storage_image if server.role == "storage" else images.controller_image
    return {"image_source": image}


def config_drive(server: Server, public_key: pulumi.Input[str] | None) -> pulumi.Output[Any] | None:
    """A storage or compute server's config drive: its hostname and the deploy key (cloud-init
    installs it; on a compute server, root of its dom0)."""
    if server.role not in ("storage", "compute") or public_key is None:
        return None
    return pulumi.Output.from_input(public_key).apply(
        lambda key: {"meta_data": {"hostname": server.name, "public_keys": {"deploy": key}}}
    )


@dataclass
class BareMetalArgs:
    servers: Sequence[Server]
    """The region's servers; each has exactly one role."""
    images: Images
    """What each role installs."""
    bmc_password: pulumi.Input[str]
    """BMC password of every server without an entry in `bmc_passwords` (secret: each node's
    driver_info is; a plain string costs the least)."""
    bmc_passwords: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Server name -> BMC password (secret, as `bmc_password`)."""
    timeouts: DeployTimeouts = field(default_factory=DeployTimeouts)
    """Ironic deadlines per phase."""
    storage_public_key: pulumi.Input[str] | None = None
    """SSH public key for root on the storage servers (their config drive's meta_data
    `public_keys`, which cloud-init installs): the key the program forms Ceph with."""


class BareMetal(pulumi.ComponentResource):
    """Every server of the region enrolled, deployed and waited for."""

    nodes: dict[str, Node]
    fleet: Fleet
    node_uuids: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: BareMetalArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = child_options(self, opts)
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
                    # is drift that refresh shows and up repairs (unless its power is unmanaged).
                    power="on" if server.power == "managed" else None,
                    maintenance=False,
                    instance_info=instance_info(server, args.images),
                    timeouts=timeouts or None,
                    config_drive=config_drive(server, args.storage_public_key),
                    wait=False,
                ),
                child,
            )
        self.fleet = Fleet(f"{name}-fleet", FleetArgs(nodes=list(self.nodes.values())), child)
        # One Output over every node (keyword form: a dict), not one per node.
        uuids = {n: node.uuid for n, node in self.nodes.items()}
        self.node_uuids = pulumi.Output.all(**uuids) if uuids else pulumi.Output.from_input({})
        self.register_outputs({"node_uuids": self.node_uuids, "states": self.fleet.states})
