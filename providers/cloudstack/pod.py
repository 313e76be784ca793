"""`cloudstack.Pod`: a pod of the zone, its gateway, netmask and reserved IP range.

The reserved range (start_ip..end_ip) is the pod's management-network range that CloudStack
hands to system VMs; it must lie inside gateway/netmask and not include the gateway, which
`check` verifies before CloudStack is asked. Everything but the zone changes in place
(`updatePod`, and `updatePodManagementNetworkIpRange` for the range).
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import pulumi
from pydantic import ValidationInfo, field_validator
from typing_extensions import override

from providers._core import Change
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj
from providers._core.types import IPv4, Netmask

from .api import Api
from .base import CloudStackProvider, CloudStackResource, Commands
from .ipranges import RangeChecks


def _first(value: Any) -> str:
    """listPods answers startip/endip as lists (one entry per management IP range since 4.16):
    the pod's own range is the first."""
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else ""
    return str(value)


class PodChecks(RangeChecks):
    """A reserved range inside the pod network, ascending, without the gateway."""

    network = "the pod network"

    @field_validator("end_ip", check_fields=False)
    @classmethod
    def _not_the_gateway(cls, value: IPv4Address, info: ValidationInfo) -> IPv4Address:
        start, gateway = info.data.get("start_ip"), info.data.get("gateway")
        if start is not None and gateway is not None and start <= gateway <= value:
            raise ValueError(f"the range {start}-{value} includes the gateway {gateway}")
        return value


class PodArgs(Args, resource="cloudstack.Pod", delete_before_replace=True, checks=PodChecks):
    """A pod: one L2 management network of the zone."""

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Id of the zone; changing it replaces the pod."""
    name: pulumi.Input[str] = arg(min_length=1)
    """Pod name (adopted by it within the zone); renamed in place."""
    gateway: pulumi.Input[str] = arg(check=IPv4)
    """Gateway of the pod's management network."""
    netmask: pulumi.Input[str] = arg(check=Netmask)
    """Netmask of the pod's management network."""
    start_ip: pulumi.Input[str] = arg(api="startip", normalize=_first, check=IPv4)
    """First address of the range reserved for system VMs."""
    end_ip: pulumi.Input[str] = arg(api="endip", normalize=_first, check=IPv4)
    """Last address of the range reserved for system VMs."""
    allocation_state: pulumi.Output[str] = output(api="allocationstate")
    """Enabled or Disabled."""


class PodProvider(CloudStackProvider):
    args = PodArgs
    commands = Commands("listPods", "createPod", "updatePod", "deletePod")
    scope = ("zone_id", "name")

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        """updatePod for name, gateway and netmask; the reserved range through its own command.

        CloudStack 4.18's updatePod takes startip/endip but ignores them (editPod passes null
        for both): a pod's management IP range changes with updatePodManagementNetworkIpRange.
        """
        self.update_call(api, "updatePod", obj_id, changed & {"name", "gateway", "netmask"}, wanted)
        if changed & {"start_ip", "end_ip"}:
            api.job(
                "updatePodManagementNetworkIpRange",
                "change of the reserved IP range",
                podid=obj_id,
                currentstartip=current["start_ip"],
                currentendip=current["end_ip"],
                newstartip=wanted["start_ip"],
                newendip=wanted["end_ip"],
            )
        return None  # listPods again: updatePod answers the range CloudStack had


class Pod(CloudStackResource[PodArgs], module="cloudstack", name="Pod"):
    """A pod of a zone."""

    provider_type = PodProvider
