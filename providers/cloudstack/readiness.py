"""`cloudstack.NetworkServiceProvider` and `cloudstack.ZoneReadiness`.

A physical network comes with its network service providers (CloudStack adds them, Disabled);
`NetworkServiceProvider` enables one the zone uses: the virtual-router kinds and the internal load
balancer through their element first (`configureVirtualRouterElement` /
`configureInternalLoadBalancerElement`), then the provider (`updateNetworkServiceProvider`).
Deleting it disables the provider again (CloudStack keeps it with the network).

`ZoneReadiness` is what an enabled zone is for: once the zone is enabled the management server
starts its secondary storage VM and console proxy, and until both run no template downloads and no
console works. It waits (bounded by `timeout`) until both are Running with their agent Up, and
otherwise fails with the reason CloudStack gives in its alerts ("Insufficient address capacity":
no free public IP; "Not able to find the System templates ..."; no primary storage). A later
`up` waits again, so adding what was missing repairs it; refresh reads it as gone when a system VM
stopped running.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from typing_extensions import override

from providers._core import Change, NotFound, Permanent, Timeout
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj

from .api import Api
from .base import CloudStackProvider, CloudStackResource, Commands, as_bool

ELEMENTS = {  # provider -> (list command, configure command) of its element
    "VirtualRouter": ("listVirtualRouterElements", "configureVirtualRouterElement"),
    "VpcVirtualRouter": ("listVirtualRouterElements", "configureVirtualRouterElement"),
    "InternalLbVm": ("listInternalLoadBalancerElements", "configureInternalLoadBalancerElement"),
}
SYSTEM_VMS = ("secondarystoragevm", "consoleproxy")


class NetworkServiceProviderArgs(Args, resource="cloudstack.NetworkServiceProvider"):
    """One network service provider of a physical network, enabled or not."""

    physical_network_id: pulumi.Input[str] = arg(api="physicalnetworkid", change=Change.REPLACE, min_length=1)
    """Id of the physical network."""
    name: pulumi.Input[str] = arg(change=Change.REPLACE, check=str, pattern=r"^[A-Za-z]+$")
    """Provider name: VirtualRouter, VpcVirtualRouter, InternalLbVm, ConfigDrive, ..."""
    enabled: pulumi.Input[bool] = arg(default=True)
    """Whether the provider (and its element) is enabled."""
    state: pulumi.Output[str] = output()
    """Enabled or Disabled, as CloudStack has it."""


class NetworkServiceProviderProvider(CloudStackProvider):
    args = NetworkServiceProviderArgs
    commands = Commands("listNetworkServiceProviders")
    scope = ("physical_network_id", "name")

    @override
    def fetch(self, api: Api, obj_id: str) -> Obj | None:
        return self.named(api.list(self.commands.list), obj_id, "id")  # it takes no id=

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        raise Permanent(self.label(wanted), f"the physical network {wanted['physical_network_id']} has no "
                        f"{wanted['name']!r} network service provider (CloudStack adds them with the network)")

    @override
    def settle(self, created: bool, wanted: Obj) -> bool:
        return True  # found, not made: bring it to what is declared

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        return {"physical_network_id": obj.get("physicalnetworkid"), "name": obj.get("name"),
                "state": obj.get("state"), "enabled": obj.get("state") == "Enabled"}

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        enable = as_bool(wanted["enabled"])
        if enable and wanted["name"] in ELEMENTS:
            lister, configure = ELEMENTS[wanted["name"]]
            elements = api.list(lister, nspid=obj_id)
            if not elements:
                raise Permanent(self.label(wanted), f"{lister}: the provider has no element to enable")
            if not as_bool(elements[0].get("enabled")):
                api.job(configure, f"{wanted['name']} element enabled", id=elements[0]["id"], enabled=True)
        api.job("updateNetworkServiceProvider", f"{wanted['name']} provider state", id=obj_id,
                state="Enabled" if enable else "Disabled")
        return None

    @override
    def destroy(self, api: Api, obj: Obj) -> None:
        if obj.get("state") == "Enabled":
            api.job("updateNetworkServiceProvider", f"{obj.get('name')} provider disabled", id=obj["id"],
                    state="Disabled")


class NetworkServiceProvider(CloudStackResource[NetworkServiceProviderArgs], module="cloudstack",
                             name="NetworkServiceProvider"):
    """A network service provider of a physical network, enabled."""

    provider_type = NetworkServiceProviderProvider


# ------------------------------------------------------------------------------------------ readiness


class ZoneReadinessArgs(Args, resource="cloudstack.ZoneReadiness"):
    """An enabled zone whose system VMs run."""

    zone_id: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=1)
    """Id of the (enabled) zone."""
    timeout: pulumi.Input[float] = arg(default=900.0, gt=0)
    """Seconds to wait for both system VMs to run."""
    secondary_storage_vm: pulumi.Output[str] = output()
    """Name of the secondary storage VM."""
    console_proxy: pulumi.Output[str] = output()
    """Name of the console proxy VM."""


class ZoneReadinessProvider(CloudStackProvider):
    args = ZoneReadinessArgs
    label_field = "zone_id"

    @staticmethod
    def _vms(api: Api, zone_id: str) -> dict[str, dict[str, Any]]:
        return {v.get("systemvmtype", ""): v for v in api.list("listSystemVms", zoneid=zone_id)}

    @staticmethod
    def _running(vms: dict[str, dict[str, Any]]) -> bool:
        return all(vms.get(k, {}).get("state") == "Running" and vms[k].get("agentstate", "Up") == "Up"
                   for k in SYSTEM_VMS)

    @staticmethod
    def _describe(vms: dict[str, dict[str, Any]]) -> str:
        return ", ".join(f"{k} {vms[k].get('name')} {vms[k].get('state')}" if k in vms else f"no {k}"
                         for k in SYSTEM_VMS)

    def _reason(self, api: Api, zone_id: str) -> str:
        """The newest alert about the zone's system VMs, in CloudStack's words."""
        zones = api.list("listZones", id=zone_id)
        name = zones[0].get("name") if zones else zone_id
        for alert in api.list("listAlerts"):
            text = str(alert.get("description", ""))
            if f"[{name}]" in text and alert.get("name") in ("ALERT.SERVICE.SSVM", "ALERT.SERVICE.CONSOLEPROXY"):
                return text
        return "CloudStack raised no alert about them"

    def _wait(self, wanted: dict[str, Any]) -> dict[str, Any]:
        api = self.client(wanted)
        zone_id = wanted["zone_id"]
        try:
            vms = api.wait(lambda: self._vms(api, zone_id), done=self._running, describe=self._describe,
                           what="the secondary storage VM and the console proxy Running", timeout=wanted["timeout"])
        except Timeout as e:
            raise Permanent(self.label(wanted), f"{e.message}; CloudStack says: {self._reason(api, zone_id)}") \
                from e
        return {**wanted, "secondary_storage_vm": vms["secondarystoragevm"]["name"],
                "console_proxy": vms["consoleproxy"]["name"]}

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        return CreateResult(wanted["zone_id"], self.managed(self._wait(wanted), wanted))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        return UpdateResult(self.managed(self._wait(wanted), wanted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            vms = self._vms(self.client(props), id_)
        except NotFound:
            return self.gone()
        if not self._running(vms):
            return self.gone()  # the next up waits for them again
        outs = {**props, "secondary_storage_vm": vms["secondarystoragevm"]["name"],
                "console_proxy": vms["consoleproxy"]["name"]}
        return self.read_result(id_, outs, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Nothing to undo: the system VMs belong to the zone."""


class ZoneReadiness(CloudStackResource[ZoneReadinessArgs], module="cloudstack", name="ZoneReadiness"):
    """Waits until the zone's secondary storage VM and console proxy run."""

    provider_type = ZoneReadinessProvider
