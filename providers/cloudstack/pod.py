"""`cloudstack.Pod`: a pod of the zone, its gateway, netmask and reserved IP range.

The reserved range (start_ip..end_ip) is the pod's management-network range that CloudStack
hands to system VMs; it must lie inside gateway/netmask and not include the gateway, which
`check` verifies before CloudStack is asked. Everything but the zone changes in place
(`updatePod`, and `updatePodManagementNetworkIpRange` for the range).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import Field as Describe
from pydantic import ValidationInfo, field_validator

from providers._core import Change, Field, Permanent, Table, diff_fields

from .api import Api, single
from .base import CloudStackProvider, Inputs


def _first(value: Any) -> str:
    """listPods answers startip/endip as lists (one entry per management IP range since 4.16):
    the pod's own range is the first."""
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else ""
    return str(value)


TABLE = Table(
    "cloudstack.Pod",
    (
        Field("zone_id", api="zoneid", change=Change.REPLACE),
        Field("name"),
        Field("gateway"),
        Field("netmask"),
        Field("start_ip", api="startip", normalize=_first),
        Field("end_ip", api="endip", normalize=_first),
        Field("allocation_state", api="allocationstate", change=Change.OUTPUT),
    ),
    delete_before_replace=True,
)


class PodInputs(Inputs):
    """A pod: one L2 management network of the zone."""

    zone_id: str = Describe(min_length=1, description="id of the zone")
    name: str = Describe(min_length=1, description="pod name (adopted by it within the zone)")
    gateway: ipaddress.IPv4Address = Describe(description="gateway of the pod's management network")
    netmask: ipaddress.IPv4Address = Describe(description="netmask of the pod's management network")
    start_ip: ipaddress.IPv4Address = Describe(description="first address reserved for system VMs")
    end_ip: ipaddress.IPv4Address = Describe(description="last address reserved for system VMs")

    @field_validator("netmask")
    @classmethod
    def _contiguous(cls, value: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
        bits = int(value)
        if bits and (~bits & 0xFFFFFFFF) & ((~bits & 0xFFFFFFFF) + 1):
            raise ValueError(f"{value} is not a contiguous netmask")
        return value

    @field_validator("start_ip", "end_ip")
    @classmethod
    def _in_pod_network(cls, value: ipaddress.IPv4Address, info: ValidationInfo) -> ipaddress.IPv4Address:
        gateway, netmask = info.data.get("gateway"), info.data.get("netmask")
        if gateway is None or netmask is None:
            return value  # reported on the field that failed
        net = ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)
        if value not in net:
            raise ValueError(f"{value} is outside the pod network {net}")
        start = info.data.get("start_ip")
        if info.field_name == "end_ip" and start is not None:
            if start > value:
                raise ValueError(f"{value} is before start_ip {start}")
            if start <= gateway <= value:
                raise ValueError(f"the range {start}-{value} includes the gateway {gateway}")
        return value


class PodProvider(CloudStackProvider):
    table = TABLE
    model = PodInputs

    def _outputs(self, pod: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in self.table.from_api(pod).items() if v is not None}

    def _find_by_name(self, api: Api, zone_id: str, name: str) -> dict[str, Any] | None:
        return next((p for p in api.list("listPods", zoneid=zone_id, name=name) if p.get("name") == name), None)

    def _update(self, api: Api, pod_id: str, current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
        """updatePod for name, gateway and netmask; the reserved range through its own command.

        CloudStack 4.18's updatePod takes startip/endip but ignores them (editPod passes null
        for both): a pod's management IP range changes with updatePodManagementNetworkIpRange.
        """
        changed = {c.path for c in diff_fields(current, wanted, self.table) if c.new is not None}
        if not changed:
            return current
        plain = sorted(changed & {"name", "gateway", "netmask"})
        if plain:
            api.call("updatePod", id=pod_id, **self.table.to_api(wanted, plain))
        if changed & {"start_ip", "end_ip"}:
            api.job(
                "updatePodManagementNetworkIpRange",
                "change of the reserved IP range",
                podid=pod_id,
                currentstartip=current["start_ip"],
                currentendip=current["end_ip"],
                newstartip=wanted["start_ip"],
                newendip=wanted["end_ip"],
            )
        pod = api.find("listPods", id=pod_id)
        if pod is None:
            raise Permanent(api.resource, f"listPods: pod {pod_id} vanished during the update")
        return self._outputs(pod)

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)
        pod, created = api.ensure(
            "createPod",
            lambda: self._find_by_name(api, wanted["zone_id"], wanted["name"]),
            lambda: single(api.call("createPod", **self.table.to_api(wanted))),
        )
        outputs = self._outputs(pod)
        if not created:
            outputs = self._update(api, str(pod["id"]), outputs, wanted)
        return CreateResult(str(pod["id"]), self.managed(outputs, wanted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        pod = self.api(props).find("listPods", id=id_)
        return self.gone() if pod is None else self.read_result(id_, self._outputs(pod), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        return UpdateResult(self.managed(self._update(self.api(wanted), id_, olds, wanted), wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)
        api.remove("deletePod", lambda: api.find("listPods", id=id_), lambda p: api.call("deletePod", id=p["id"]))


@dataclass
class PodArgs:
    zone_id: pulumi.Input[str]
    """Id of the zone; changing it replaces the pod."""
    name: pulumi.Input[str]
    """Pod name; renamed in place."""
    gateway: pulumi.Input[str]
    """Gateway of the pod's management network."""
    netmask: pulumi.Input[str]
    """Netmask of the pod's management network."""
    start_ip: pulumi.Input[str]
    """First address of the range reserved for system VMs."""
    end_ip: pulumi.Input[str]
    """Last address of the range reserved for system VMs."""


class Pod(Resource, module="cloudstack", name="Pod"):
    """A pod of a zone."""

    name: pulumi.Output[str]
    allocation_state: pulumi.Output[str]

    def __init__(self, resource_name: str, args: PodArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PodProvider(), resource_name, TABLE.declared(args), opts)
