"""`cloudstack.PhysicalNetwork`: isolation, VLAN range, traffic types and the virtual router.

One resource holds what CloudStack models as several objects hanging off a physical network:
its traffic types (each with the XenServer network label, which must equal the XAPI network
name-label on every host of the pool), and the VirtualRouter network service provider with its
virtual router element. They are created, changed and removed together, and a zone cannot be
enabled until they are all there, so splitting them into resources would only add ordering.

Storage traffic that CloudStack adds by itself when the zone is enabled (with Management's label)
is left alone unless declared. Create is transactional: if a traffic type or the provider cannot
be set up, the new physical network is deleted again before the error is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pulumi
from pydantic import field_validator
from typing_extensions import override

from providers._core import Change, Permanent
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.lifecycle import Obj
from providers._core.wait import remove

from .api import Api, single
from .base import CloudStackProvider, CloudStackResource, Commands, as_bool, tag_list

TRAFFIC_TYPES = ("Management", "Guest", "Public", "Storage")
VIRTUAL_ROUTER = "VirtualRouter"
# Enabling an advanced zone adds Storage traffic with Management's labels when there is none
# (ConfigurationManagerImpl.editZone): left alone unless declared, so it is no drift.
IMPLICIT = "Storage"
TrafficType = Literal["Management", "Guest", "Public", "Storage"]


def _upper(value: Any) -> str:
    """Upper case; a list (isolationmethods may come back as one) joined with commas."""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return str(value).upper()


def _labels(value: Any) -> dict[str, str]:
    return {str(k).capitalize(): str(v) for k, v in dict(value).items()}


class NetworkChecks(PulumiInputsBase):
    """Traffic types capitalised, Management and Guest present, labels not empty, VLANs in range."""

    @field_validator("traffic_labels", mode="before", check_fields=False)
    @classmethod
    def _capitalise(cls, value: Any) -> Any:
        return {str(k).capitalize(): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("traffic_labels", check_fields=False)
    @classmethod
    def _needs_management_and_guest(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [t for t in ("Management", "Guest") if t not in value]
        if missing:
            raise ValueError(f"an advanced zone needs {' and '.join(missing)} traffic")
        empty = [t for t, label in value.items() if not label.strip()]
        if empty:
            raise ValueError(f"empty network label for {', '.join(empty)}")
        return value

    @field_validator("vlan", check_fields=False)
    @classmethod
    def _vlan_ids(cls, value: str | None) -> str | None:
        for part in (value or "").split(",") if value else []:
            low, high = (int(x) for x in part.split("-"))
            if not 1 <= low <= high <= 4094:
                raise ValueError(f"VLAN range {part} must be within 1-4094 and ascending")
        return value


class PhysicalNetworkArgs(Args, resource="cloudstack.PhysicalNetwork", delete_before_replace=True,
                          checks=NetworkChecks):
    """A physical network of an advanced zone.

    Deleted before its replacement: names are adopted, a new one beside the old would be the old.
    """

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Id of the zone."""
    name: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=1)
    """Physical network name (adopted by it within the zone); changing it replaces the network
    (CloudStack cannot rename one)."""
    isolation_method: pulumi.Input[str] = arg(
        default="VLAN", api="isolationmethods", change=Change.REPLACE, normalize=_upper,
        check=Literal["VLAN", "VXLAN", "GRE", "L3"],
    )
    """VLAN, VXLAN, GRE or L3: how guest networks are isolated."""
    broadcast_domain_range: pulumi.Input[str] = arg(
        default="ZONE", api="broadcastdomainrange", change=Change.REPLACE, normalize=_upper,
        check=Literal["ZONE", "POD"],
    )
    """ZONE (advanced zones) or POD."""
    vlan: pulumi.Input[str] | None = arg(default=None, pattern=r"^\d+-\d+(,\d+-\d+)*$")
    """Guest VLAN range(s), e.g. "100-199"."""
    network_speed: pulumi.Input[str] | None = arg(default=None, api="networkspeed", check=Literal["1G", "10G"])
    """1G or 10G."""
    tags: pulumi.Input[list[str]] | None = arg(default=None, normalize=tag_list)
    """Physical network tags."""
    traffic_labels: pulumi.Input[dict[str, str]] = arg(normalize=_labels, check=dict[TrafficType, str])
    """Traffic type (Management, Guest, Public, Storage) -> XenServer network label (the XAPI network
    name-label)."""
    virtual_router_enabled: pulumi.Input[bool] = arg(default=True, normalize=as_bool)
    """Whether the VirtualRouter network service provider is enabled."""
    enabled: pulumi.Input[bool] = arg(default=True, normalize=as_bool)
    """Whether the physical network is Enabled."""
    state: pulumi.Output[str] = output()
    """Enabled or Disabled."""
    virtual_router_provider_id: pulumi.Output[str] = output()
    """Id of the VirtualRouter network service provider."""
    traffic_type_ids: pulumi.Output[dict[str, str]] = output()
    """Traffic type -> id of its traffic type object."""


class PhysicalNetworkProvider(CloudStackProvider):
    args = PhysicalNetworkArgs
    commands = Commands("listPhysicalNetworks", delete="deletePhysicalNetwork")
    scope = ("zone_id", "name")

    # --- reading -----------------------------------------------------------------------------

    def _traffic(self, api: Api, net_id: str) -> dict[str, dict[str, Any]]:
        types = api.list("listTrafficTypes", physicalnetworkid=net_id)
        return {str(t.get("traffictype") or t.get("name")).capitalize(): t for t in types}

    def _router(self, api: Api, net_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the VirtualRouter network service provider, its virtual router element)."""
        nsp = next(
            (p for p in api.list("listNetworkServiceProviders", physicalnetworkid=net_id, name=VIRTUAL_ROUTER)
             if p.get("name") == VIRTUAL_ROUTER),
            None,
        )
        if nsp is None:
            return None, None
        return nsp, api.find("listVirtualRouterElements", nspid=nsp["id"])

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        net_id = str(obj["id"])
        traffic = self._traffic(api, net_id)
        nsp, element = self._router(api, net_id)
        outputs = {k: v for k, v in self.table.from_api(obj).items() if v is not None}
        outputs.update(
            traffic_labels={t: str(o.get("xennetworklabel") or "") for t, o in traffic.items()},
            virtual_router_enabled=bool(
                nsp and nsp.get("state") == "Enabled" and element and as_bool(element.get("enabled"))
            ),
            enabled=obj.get("state") == "Enabled",
            state=obj.get("state"),
            virtual_router_provider_id=nsp["id"] if nsp else None,
            traffic_type_ids={t: str(o["id"]) for t, o in traffic.items()},
        )
        if "tags" in outputs:
            outputs["tags"] = tag_list(outputs["tags"]) or None
        return {k: v for k, v in outputs.items() if v is not None}

    @override
    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        kept = super().managed(outputs, declared)
        labels = kept.get("traffic_labels")
        if isinstance(labels, dict) and IMPLICIT not in (declared.get("traffic_labels") or {}):
            kept["traffic_labels"] = {k: v for k, v in labels.items() if k != IMPLICIT}
        return kept

    # --- converging --------------------------------------------------------------------------

    @override
    def settle(self, created: bool, wanted: Obj) -> bool:
        return True  # traffic types, the router and the state are set up after the network

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        """Bring traffic types, the virtual router, VLAN/speed/tags and state to what is declared."""
        if "traffic_labels" in changed or not current.get("traffic_type_ids"):
            self._converge_traffic(api, obj_id, wanted["traffic_labels"])
        plain: list[str] = [n for n in ("vlan", "network_speed", "tags") if n in changed and wanted.get(n) is not None]
        if plain:
            payload = self.table.to_api(wanted, plain)
            api.job("updatePhysicalNetwork", "update of the physical network", id=obj_id, **payload)
        if "virtual_router_enabled" in changed:
            self._converge_router(api, obj_id, wanted["virtual_router_enabled"])
        if "enabled" in changed:
            state = "Enabled" if wanted["enabled"] else "Disabled"
            api.job("updatePhysicalNetwork", f"physical network {state}", id=obj_id, state=state)
        return None

    def _converge_traffic(self, api: Api, net_id: str, labels: dict[str, str]) -> None:
        existing = self._traffic(api, net_id)
        for kind, label in labels.items():
            have = existing.get(kind)
            if have is None:
                api.job("addTrafficType", f"{kind} traffic", physicalnetworkid=net_id, traffictype=kind,
                        xennetworklabel=label)
            elif have.get("xennetworklabel") != label:
                api.job("updateTrafficType", f"{kind} traffic label", id=have["id"], xennetworklabel=label)
        for kind, have in existing.items():
            if kind not in labels and kind != IMPLICIT:
                api.job("deleteTrafficType", f"removal of {kind} traffic", id=have["id"])

    def _converge_router(self, api: Api, net_id: str, enable: bool) -> None:
        nsp, element = self._router(api, net_id)
        if nsp is None:
            raise Permanent(api.resource, f"listNetworkServiceProviders: no {VIRTUAL_ROUTER} provider on "
                                          f"physical network {net_id}")
        if element is None:
            element = single(api.job("createVirtualRouterElement", "virtual router element", nspid=nsp["id"]))
        if enable:
            if not as_bool(element.get("enabled")):
                api.job("configureVirtualRouterElement", "virtual router element enabled", id=element["id"],
                        enabled=True)
            if nsp.get("state") != "Enabled":
                api.job("updateNetworkServiceProvider", "VirtualRouter provider enabled", id=nsp["id"],
                        state="Enabled")
        elif nsp.get("state") == "Enabled":
            api.job("updateNetworkServiceProvider", "VirtualRouter provider disabled", id=nsp["id"],
                    state="Disabled")

    # --- the lifecycle's hooks --------------------------------------------------------------

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        payload = self.table.to_api(wanted, ["zone_id", "name", "isolation_method", "broadcast_domain_range",
                                             "vlan", "network_speed", "tags"])
        made = api.job("createPhysicalNetwork", "creation of the physical network", **payload)
        return self.fetch(api, str(made["id"])) or made

    @override
    def undo(self, api: Api, obj: Obj) -> None:
        """A network this create made whose traffic types or router failed: nothing half-built is left."""
        remove(api.policy, "deletePhysicalNetwork", lambda: self.fetch(api, str(obj["id"])),
               lambda n: self.destroy(api, n))


class PhysicalNetwork(CloudStackResource[PhysicalNetworkArgs], module="cloudstack", name="PhysicalNetwork"):
    """A physical network with its traffic types and the virtual router provider."""

    provider_type = PhysicalNetworkProvider
