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
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import Field as Describe
from pydantic import field_validator

from providers._core import Change, Field, Permanent, ProviderError, Table, diff_fields

from .api import Api, single
from .base import CloudStackProvider, Inputs, as_bool

TRAFFIC_TYPES = ("Management", "Guest", "Public", "Storage")
VIRTUAL_ROUTER = "VirtualRouter"
# Enabling an advanced zone adds Storage traffic with Management's labels when there is none
# (ConfigurationManagerImpl.editZone): left alone unless declared, so it is no drift.
IMPLICIT = "Storage"


def _upper(value: Any) -> str:
    """Upper case; a list (isolationmethods may come back as one) joined with commas."""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return str(value).upper()


def _tag_list(value: Any) -> list[str]:
    """Tags come back as a comma-separated string; declared as a list."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return sorted(str(t).strip() for t in items if str(t).strip())


def _labels(value: Any) -> dict[str, str]:
    return {str(k).capitalize(): str(v) for k, v in dict(value).items()}


TABLE = Table(
    "cloudstack.PhysicalNetwork",
    (
        Field("zone_id", api="zoneid", change=Change.REPLACE),
        Field("name", change=Change.REPLACE),  # updatePhysicalNetwork cannot rename
        Field("isolation_method", api="isolationmethods", change=Change.REPLACE, normalize=_upper),
        Field("broadcast_domain_range", api="broadcastdomainrange", change=Change.REPLACE, normalize=_upper),
        Field("vlan"),
        Field("network_speed", api="networkspeed"),
        Field("tags", normalize=_tag_list),
        Field("traffic_labels", normalize=_labels),
        Field("virtual_router_enabled", normalize=as_bool),
        Field("enabled", normalize=as_bool),
        Field("state", change=Change.OUTPUT),
        Field("virtual_router_provider_id", change=Change.OUTPUT),
        Field("traffic_type_ids", change=Change.OUTPUT),
    ),
    delete_before_replace=True,  # names are adopted: a new one beside the old would be the old
)


class PhysicalNetworkInputs(Inputs):
    """A physical network of an advanced zone."""

    zone_id: str = Describe(min_length=1, description="id of the zone")
    name: str = Describe(min_length=1, description="physical network name (adopted by it within the zone)")
    isolation_method: Literal["VLAN", "VXLAN", "GRE", "L3"] = Describe(
        default="VLAN", description="how guest networks are isolated"
    )
    broadcast_domain_range: Literal["ZONE", "POD"] = Describe(
        default="ZONE", description="broadcast domain of the network (ZONE for advanced zones)"
    )
    vlan: str | None = Describe(
        default=None, pattern=r"^\d+-\d+(,\d+-\d+)*$", description="guest VLAN range(s), e.g. 100-199"
    )
    network_speed: Literal["1G", "10G"] | None = Describe(default=None, description="link speed")
    tags: list[str] | None = Describe(default=None, description="physical network tags")
    traffic_labels: dict[Literal["Management", "Guest", "Public", "Storage"], str] = Describe(
        description="traffic type -> XenServer network label (the XAPI network name-label)"
    )
    virtual_router_enabled: bool = Describe(default=True, description="enable the VirtualRouter provider")
    enabled: bool = Describe(default=True, description="physical network state Enabled/Disabled")

    @field_validator("traffic_labels", mode="before")
    @classmethod
    def _capitalise(cls, value: Any) -> Any:
        return {str(k).capitalize(): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("traffic_labels")
    @classmethod
    def _needs_management_and_guest(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [t for t in ("Management", "Guest") if t not in value]
        if missing:
            raise ValueError(f"an advanced zone needs {' and '.join(missing)} traffic")
        empty = [t for t, label in value.items() if not label.strip()]
        if empty:
            raise ValueError(f"empty network label for {', '.join(empty)}")
        return value

    @field_validator("vlan")
    @classmethod
    def _vlan_ids(cls, value: str | None) -> str | None:
        for part in (value or "").split(",") if value else []:
            low, high = (int(x) for x in part.split("-"))
            if not 1 <= low <= high <= 4094:
                raise ValueError(f"VLAN range {part} must be within 1-4094 and ascending")
        return value


class PhysicalNetworkProvider(CloudStackProvider):
    table = TABLE
    model = PhysicalNetworkInputs

    # --- reading -----------------------------------------------------------------------------

    def _find_by_name(self, api: Api, zone_id: str, name: str) -> dict[str, Any] | None:
        for net in api.list("listPhysicalNetworks", zoneid=zone_id, name=name):
            if net.get("name") == name:
                return net
        return None

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

    def _state(self, api: Api, net: dict[str, Any]) -> dict[str, Any]:
        net_id = str(net["id"])
        traffic = self._traffic(api, net_id)
        nsp, element = self._router(api, net_id)
        outputs = {k: v for k, v in self.table.from_api(net).items() if v is not None}
        outputs.update(
            traffic_labels={t: str(o.get("xennetworklabel") or "") for t, o in traffic.items()},
            virtual_router_enabled=bool(
                nsp and nsp.get("state") == "Enabled" and element and as_bool(element.get("enabled"))
            ),
            enabled=net.get("state") == "Enabled",
            state=net.get("state"),
            virtual_router_provider_id=nsp["id"] if nsp else None,
            traffic_type_ids={t: str(o["id"]) for t, o in traffic.items()},
        )
        if "tags" in outputs:
            outputs["tags"] = _tag_list(outputs["tags"]) or None
        return {k: v for k, v in outputs.items() if v is not None}

    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        kept = super().managed(outputs, declared)
        labels = kept.get("traffic_labels")
        if isinstance(labels, dict) and IMPLICIT not in (declared.get("traffic_labels") or {}):
            kept["traffic_labels"] = {k: v for k, v in labels.items() if k != IMPLICIT}
        return kept

    # --- converging --------------------------------------------------------------------------

    def _converge(self, api: Api, net_id: str, current: dict[str, Any], wanted: dict[str, Any]) -> None:
        """Bring traffic types, the virtual router, VLAN/speed/tags and state to what is declared."""
        changed = {c.path for c in diff_fields(current, wanted, self.table)}
        if "traffic_labels" in changed or not current.get("traffic_type_ids"):
            self._converge_traffic(api, net_id, wanted["traffic_labels"])
        plain: list[str] = [n for n in ("vlan", "network_speed", "tags") if n in changed and wanted.get(n) is not None]
        if plain:
            payload = self.table.to_api(wanted, plain)
            api.job("updatePhysicalNetwork", "update of the physical network", id=net_id, **payload)
        if "virtual_router_enabled" in changed:
            self._converge_router(api, net_id, wanted["virtual_router_enabled"])
        if "enabled" in changed:
            state = "Enabled" if wanted["enabled"] else "Disabled"
            api.job("updatePhysicalNetwork", f"physical network {state}", id=net_id, state=state)

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

    # --- CRUD ----------------------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)

        def make() -> dict[str, Any]:
            payload = self.table.to_api(wanted, ["zone_id", "name", "isolation_method", "broadcast_domain_range",
                                                 "vlan", "network_speed", "tags"])
            return api.job("createPhysicalNetwork", "creation of the physical network", **payload)

        net, created = api.ensure(
            "createPhysicalNetwork", lambda: self._find_by_name(api, wanted["zone_id"], wanted["name"]), make
        )
        net_id = str(net["id"])
        try:
            current = self._state(api, api.find("listPhysicalNetworks", id=net_id) or net)
            self._converge(api, net_id, current, wanted)
        except ProviderError:
            if created:  # transactional: leave nothing half-built behind
                api.remove("deletePhysicalNetwork", lambda: api.find("listPhysicalNetworks", id=net_id),
                           lambda n: api.job("deletePhysicalNetwork", "undo", id=n["id"]))
            raise
        return CreateResult(net_id, self.managed(self._read_state(api, net_id), wanted))

    def _read_state(self, api: Api, net_id: str) -> dict[str, Any]:
        net = api.find("listPhysicalNetworks", id=net_id)
        if net is None:
            raise Permanent(api.resource, f"listPhysicalNetworks: {net_id} vanished")
        return self._state(api, net)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        api = self.api(props)
        net = api.find("listPhysicalNetworks", id=id_)
        if net is None:
            return self.gone()
        return self.read_result(id_, self._state(api, net), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        api = self.api(wanted)
        self._converge(api, id_, olds, wanted)
        return UpdateResult(self.managed(self._read_state(api, id_), wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)
        api.remove(
            "deletePhysicalNetwork",
            lambda: api.find("listPhysicalNetworks", id=id_),
            lambda n: api.job("deletePhysicalNetwork", "deletion of the physical network", id=n["id"]),
        )


@dataclass
class PhysicalNetworkArgs:
    zone_id: pulumi.Input[str]
    """Id of the zone."""
    name: pulumi.Input[str]
    """Physical network name; changing it replaces the network (CloudStack cannot rename one)."""
    traffic_labels: pulumi.Input[dict[str, str]]
    """Traffic type (Management, Guest, Public, Storage) -> XenServer network label."""
    isolation_method: pulumi.Input[str] = "VLAN"
    """VLAN, VXLAN, GRE or L3."""
    vlan: pulumi.Input[str] | None = None
    """Guest VLAN range(s), e.g. "100-199"."""
    broadcast_domain_range: pulumi.Input[str] = "ZONE"
    """ZONE (advanced zones) or POD."""
    network_speed: pulumi.Input[str] | None = None
    """1G or 10G."""
    tags: pulumi.Input[list[str]] | None = None
    """Physical network tags."""
    virtual_router_enabled: pulumi.Input[bool] = True
    """Whether the VirtualRouter network service provider is enabled."""
    enabled: pulumi.Input[bool] = True
    """Whether the physical network is Enabled."""


class PhysicalNetwork(Resource, module="cloudstack", name="PhysicalNetwork"):
    """A physical network with its traffic types and the virtual router provider."""

    state: pulumi.Output[str]
    virtual_router_provider_id: pulumi.Output[str]
    traffic_type_ids: pulumi.Output[dict[str, str]]

    def __init__(
        self, resource_name: str, args: PhysicalNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(PhysicalNetworkProvider(), resource_name, TABLE.declared(args), opts)
