"""`cloudstack.Zone` and `cloudstack.ZoneEnablement`.

A zone is created Disabled and stays so while its physical network, pod, cluster and storage are
added: CloudStack starts system VMs as soon as a zone is enabled, and they fail on a half-built
zone. Enabling it is a resource of its own, `ZoneEnablement`, that the region declares last
(depending on everything else in the zone). That way:

- `pulumi up` enables the zone exactly once, after the last piece exists, in the same run;
- `pulumi destroy` deletes the enablement first (reverse order), which disables the zone before
  its pieces go (CloudStack refuses to remove some of them from an enabled zone);
- a zone disabled out of band reads as a vanished enablement on refresh, and the next `up`
  enables it again.

An `enabled` input on the zone itself could not do this: the zone is created before its pieces,
so the input would be applied too early or need a second run.

Every declared field of a zone changes in place (`updateZone`). An optional value removed from
the program (dns2, internal_dns2, domain) is left as CloudStack has it and is no longer managed:
updateZone cannot clear it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import Field as Describe

from providers._core import Change, Field, NotFound, Table, diff_fields

from .api import Api, single
from .base import CloudStackProvider, Inputs, lower

TABLE = Table(
    "cloudstack.Zone",
    (
        Field("name", doc="zone name; renamed in place"),
        Field("network_type", api="networktype", change=Change.REPLACE, normalize=lower),
        Field("dns1"),
        Field("dns2"),
        Field("internal_dns1", api="internaldns1"),
        Field("internal_dns2", api="internaldns2"),
        Field("guest_cidr", api="guestcidraddress"),
        Field("domain"),
        Field("allocation_state", api="allocationstate", change=Change.OUTPUT),
    ),
)


class ZoneInputs(Inputs):
    """An advanced-networking zone."""

    name: str = Describe(min_length=1, description="zone name (unique in CloudStack; adopted by it)")
    network_type: Literal["Advanced"] = Describe(
        default="Advanced", description="only advanced networking (VLAN-isolated guest networks)"
    )
    dns1: ipaddress.IPv4Address = Describe(description="first public DNS for guest VMs")
    dns2: ipaddress.IPv4Address | None = Describe(default=None, description="second public DNS")
    internal_dns1: ipaddress.IPv4Address = Describe(description="first DNS for system VMs")
    internal_dns2: ipaddress.IPv4Address | None = Describe(default=None, description="second internal DNS")
    guest_cidr: ipaddress.IPv4Network = Describe(description="CIDR of guest networks, e.g. 10.1.1.0/24")
    domain: str | None = Describe(default=None, description="network domain of the zone's networks")


class ZoneProvider(CloudStackProvider):
    table = TABLE
    model = ZoneInputs

    def _find_by_name(self, api: Api, name: str) -> dict[str, Any] | None:
        for zone in api.list("listZones", name=name):
            if zone.get("name") == name:  # listZones name= may match loosely
                return dict(zone)
        return None

    def _outputs(self, zone: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in self.table.from_api(zone).items() if v is not None}

    def _update(self, api: Api, zone_id: str, current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
        changed = [c.path for c in diff_fields(current, wanted, self.table) if c.new is not None]
        if not changed:
            return current
        payload = self.table.to_api(wanted, changed)
        return self._outputs(single(api.call("updateZone", id=zone_id, **payload)))

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)

        def make() -> dict[str, Any]:
            payload = self.table.to_api(wanted)
            payload["networktype"] = "Advanced"
            return single(api.call("createZone", allocationstate="Disabled", **payload))

        zone, created = api.ensure("createZone", lambda: self._find_by_name(api, wanted["name"]), make)
        outputs = self._outputs(zone)
        if not created:  # adopted: bring it to what is declared
            outputs = self._update(api, zone["id"], outputs, wanted)
        return CreateResult(str(zone["id"]), self.managed(outputs, wanted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        zone = self.api(props).find("listZones", id=id_)
        if zone is None:
            return self.gone()
        return self.read_result(id_, self._outputs(zone), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        api = self.api(wanted)
        return UpdateResult(self.managed(self._update(api, id_, olds, wanted), wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)
        api.remove("deleteZone", lambda: api.find("listZones", id=id_), lambda z: api.call("deleteZone", id=z["id"]))


@dataclass
class ZoneArgs:
    name: pulumi.Input[str]
    """Zone name, unique in CloudStack. An existing zone of that name is adopted."""
    dns1: pulumi.Input[str]
    """First public DNS server for guest VMs."""
    internal_dns1: pulumi.Input[str]
    """First DNS server for system VMs (resolves the management server)."""
    guest_cidr: pulumi.Input[str]
    """CIDR of the zone's guest networks, e.g. 10.1.1.0/24."""
    dns2: pulumi.Input[str] | None = None
    """Second public DNS server."""
    internal_dns2: pulumi.Input[str] | None = None
    """Second internal DNS server."""
    domain: pulumi.Input[str] | None = None
    """Network domain of the zone's networks."""
    network_type: pulumi.Input[str] = "Advanced"
    """Only Advanced (VLAN-isolated guest networks) is supported."""


class Zone(Resource, module="cloudstack", name="Zone"):
    """A CloudStack zone with advanced networking, created Disabled (see `ZoneEnablement`)."""

    name: pulumi.Output[str]
    allocation_state: pulumi.Output[str]

    def __init__(self, resource_name: str, args: ZoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ZoneProvider(), resource_name, TABLE.declared(args), opts)


# --- enablement -----------------------------------------------------------------------------

ENABLEMENT = Table(
    "cloudstack.ZoneEnablement",
    (
        Field("zone_id", api="id", change=Change.REPLACE),
        Field("allocation_state", api="allocationstate", change=Change.OUTPUT),
    ),
)


class ZoneEnablementInputs(Inputs):
    """Enables a zone; declared last so the zone is complete first."""

    zone_id: str = Describe(min_length=1, description="id of the zone to enable")


class ZoneEnablementProvider(CloudStackProvider):
    table = ENABLEMENT
    model = ZoneEnablementInputs

    def label(self, props: Any) -> str:
        return f"{self.table.resource} of zone {props.get('zone_id')!r}"

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)
        zone_id = wanted["zone_id"]
        zone = api.find("listZones", id=zone_id)
        if zone is None:
            raise NotFound(self.label(wanted), f"listZones: no zone with id {zone_id}")
        if zone.get("allocationstate") != "Enabled":
            api.call("updateZone", id=zone_id, allocationstate="Enabled")
        return CreateResult(f"{zone_id}-enabled", {"zone_id": zone_id, "allocation_state": "Enabled"})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        zone = self.api(props).find("listZones", id=props.get("zone_id") or id_.removesuffix("-enabled"))
        if zone is None or zone.get("allocationstate") != "Enabled":
            return self.gone()  # disabled out of band: the next `up` enables it again
        outputs = {"zone_id": zone["id"], "allocation_state": "Enabled"}
        return self.read_result(id_, outputs, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)
        zone = api.find("listZones", id=props.get("zone_id") or id_.removesuffix("-enabled"))
        if zone is not None and zone.get("allocationstate") == "Enabled":
            api.call("updateZone", id=zone["id"], allocationstate="Disabled")


@dataclass
class ZoneEnablementArgs:
    zone_id: pulumi.Input[str]
    """Id of the zone to enable. Declare it with `depends_on` every other piece of the zone."""


class ZoneEnablement(Resource, module="cloudstack", name="ZoneEnablement"):
    """Enables a zone once everything in it exists; deleting it disables the zone."""

    zone_id: pulumi.Output[str]
    allocation_state: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: ZoneEnablementArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(ZoneEnablementProvider(), resource_name, ENABLEMENT.declared(args), opts)
