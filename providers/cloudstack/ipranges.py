"""`cloudstack.PublicIpRange` and `cloudstack.StorageNetworkIpRange`.

A public range (`createVlanIpRange`, forvirtualnetwork) gives an Advanced zone's system VMs and
virtual routers their public addresses: without one the secondary storage VM and console proxy
cannot start. Its addresses and gateway/netmask change in place (`updateVlanIpRange`, which keeps
the addresses in use inside the range); the zone, physical network and VLAN replace it.

A storage network range (`createStorageNetworkIpRange`, async) gives a pod's secondary storage VM
an address on the storage network where storage traffic has a network of its own; it changes in
place (`updateStorageNetworkIpRange`) while none of its addresses is in use.

Both are adopted by zone/pod and start address. `check` verifies the addresses against
gateway/netmask before CloudStack is asked.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar

import pulumi
from pydantic import ValidationInfo, field_validator

from providers._core import Change
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.types import IPv4, Netmask

from .base import CloudStackProvider, CloudStackResource, Commands


def _vlan(value: Any) -> str:
    """vlan://100 -> 100, vlan://untagged -> untagged (CloudStack answers the URI form)."""
    text = str(value)
    return text.split("://", 1)[1] if "://" in text else text.lower() if text.lower() == "untagged" else text


class RangeChecks(PulumiInputsBase):
    """start_ip..end_ip ascending, inside gateway/netmask."""

    network: ClassVar[str] = "the network"

    @field_validator("start_ip", "end_ip", check_fields=False)
    @classmethod
    def _in_network(cls, value: ipaddress.IPv4Address, info: ValidationInfo) -> ipaddress.IPv4Address:
        gateway, netmask = info.data.get("gateway"), info.data.get("netmask")
        if gateway is not None and netmask is not None:
            net = ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)
            if value not in net:
                raise ValueError(f"{value} is outside {cls.network} {net} (gateway {gateway}, netmask {netmask})")
        start = info.data.get("start_ip")
        if info.field_name == "end_ip" and start is not None and start > value:
            raise ValueError(f"{value} is before start_ip {start}")
        return value


class PublicIpRangeArgs(Args, resource="cloudstack.PublicIpRange", delete_before_replace=True, checks=RangeChecks):
    """A public IP range of an Advanced zone."""

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Id of the zone."""
    physical_network_id: pulumi.Input[str] | None = arg(None, api="physicalnetworkid", change=Change.REPLACE)
    """The physical network with Public traffic; unset: the zone's one."""
    vlan: pulumi.Input[str] = arg(default="untagged", change=Change.REPLACE, normalize=_vlan,
                                  pattern=r"^(untagged|\d+)$")
    """VLAN of the public network: a tag (e.g. "200") or "untagged"."""
    gateway: pulumi.Input[str] = arg(check=IPv4)
    """Gateway of the public network."""
    netmask: pulumi.Input[str] = arg(check=Netmask)
    """Netmask of the public network."""
    start_ip: pulumi.Input[str] = arg(api="startip", check=IPv4)
    """First address of the range."""
    end_ip: pulumi.Input[str] = arg(api="endip", check=IPv4)
    """Last address of the range."""
    cidr: pulumi.Output[str] = output()
    """The public network's CIDR."""


class PublicIpRangeProvider(CloudStackProvider):
    args = PublicIpRangeArgs
    label_field = "start_ip"
    commands = Commands("listVlanIpRanges", "createVlanIpRange", "updateVlanIpRange", "deleteVlanIpRange")
    scope = ("zone_id",)
    list_params = create_params = {"forvirtualnetwork": True}


class PublicIpRange(CloudStackResource[PublicIpRangeArgs], module="cloudstack", name="PublicIpRange"):
    """A public IP range of a zone (system VMs and virtual routers take their addresses from it)."""

    provider_type = PublicIpRangeProvider


class StorageNetworkIpRangeArgs(Args, resource="cloudstack.StorageNetworkIpRange", delete_before_replace=True,
                                checks=RangeChecks):
    """A pod's range on the storage network."""

    pod_id: pulumi.Input[str] = arg(api="podid", change=Change.REPLACE, min_length=1)
    """Id of the pod."""
    gateway: pulumi.Input[str] = arg(change=Change.REPLACE, check=IPv4)
    """Gateway of the storage network (updateStorageNetworkIpRange cannot change it)."""
    netmask: pulumi.Input[str] = arg(check=Netmask)
    """Netmask of the storage network."""
    start_ip: pulumi.Input[str] = arg(api="startip", check=IPv4)
    """First address."""
    end_ip: pulumi.Input[str] = arg(api="endip", check=IPv4)
    """Last address."""
    vlan: pulumi.Input[int] | None = arg(None, ge=1, le=4094)
    """VLAN of the storage network; unset: untagged."""
    zone_id: pulumi.Output[str] = output(api="zoneid")
    """The pod's zone."""


class StorageNetworkIpRangeProvider(CloudStackProvider):
    args = StorageNetworkIpRangeArgs
    label_field = "start_ip"
    commands = Commands("listStorageNetworkIpRange", "createStorageNetworkIpRange", "updateStorageNetworkIpRange",
                        "deleteStorageNetworkIpRange")
    scope = ("pod_id",)


class StorageNetworkIpRange(CloudStackResource[StorageNetworkIpRangeArgs], module="cloudstack",
                            name="StorageNetworkIpRange"):
    """A pod's range of storage network addresses (for the secondary storage VM)."""

    provider_type = StorageNetworkIpRangeProvider
