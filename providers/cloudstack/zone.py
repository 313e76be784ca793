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

from typing import Any, Literal

import pulumi
from typing_extensions import override

from providers._core import Change, NotFound
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj
from providers._core.types import IPv4, IPv4Cidr

from .api import Api
from .base import CloudStackProvider, CloudStackResource, Commands, lower


class ZoneArgs(Args, resource="cloudstack.Zone"):
    """An advanced-networking zone."""

    name: pulumi.Input[str] = arg(min_length=1)
    """Zone name, unique in CloudStack; renamed in place. An existing zone of that name is adopted."""
    network_type: pulumi.Input[str] = arg(
        default="Advanced", api="networktype", change=Change.REPLACE, normalize=lower, check=Literal["Advanced"]
    )
    """Only Advanced (VLAN-isolated guest networks) is supported."""
    dns1: pulumi.Input[str] = arg(check=IPv4)
    """First public DNS server for guest VMs."""
    dns2: pulumi.Input[str] | None = arg(default=None, check=IPv4)
    """Second public DNS server."""
    internal_dns1: pulumi.Input[str] = arg(api="internaldns1", check=IPv4)
    """First DNS server for system VMs (resolves the management server)."""
    internal_dns2: pulumi.Input[str] | None = arg(default=None, api="internaldns2", check=IPv4)
    """Second internal DNS server."""
    guest_cidr: pulumi.Input[str] = arg(api="guestcidraddress", check=IPv4Cidr)
    """CIDR of the zone's guest networks, e.g. 10.1.1.0/24."""
    domain: pulumi.Input[str] | None = None
    """Network domain of the zone's networks."""
    allocation_state: pulumi.Output[str] = output(api="allocationstate")
    """Disabled until `ZoneEnablement` enables the zone."""


class ZoneProvider(CloudStackProvider):
    args = ZoneArgs
    commands = Commands("listZones", "createZone", "updateZone", "deleteZone")
    create_params = {"allocationstate": "Disabled"}


class Zone(CloudStackResource[ZoneArgs], module="cloudstack", name="Zone"):
    """A CloudStack zone with advanced networking, created Disabled (see `ZoneEnablement`)."""

    provider_type = ZoneProvider


# --- enablement -----------------------------------------------------------------------------


class ZoneEnablementArgs(Args, resource="cloudstack.ZoneEnablement"):
    """Enables a zone; declared last so the zone is complete first."""

    zone_id: pulumi.Input[str] = arg(api="id", change=Change.REPLACE, min_length=1)
    """Id of the zone to enable. Declare it with `depends_on` every other piece of the zone."""
    allocation_state: pulumi.Output[str] = output(api="allocationstate")
    """Enabled."""


SUFFIX = "-enabled"


class ZoneEnablementProvider(CloudStackProvider):
    """The enablement "exists" while its zone is Enabled: a zone disabled out of band reads as
    gone, and the next `up` enables it again."""

    args = ZoneEnablementArgs

    @override
    def label(self, props: Any) -> str:
        return f"{self.table.resource} of zone {props.get('zone_id')!r}"

    @override
    def obj_id(self, obj: Obj) -> str:
        return f"{obj['id']}{SUFFIX}"

    @override
    def fetch(self, api: Api, obj_id: str) -> Obj | None:
        zone = api.find("listZones", id=obj_id.removesuffix(SUFFIX))
        return zone if zone is not None and zone.get("allocationstate") == "Enabled" else None

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        zone = api.find("listZones", id=wanted["zone_id"])
        if zone is None:
            raise NotFound(self.label(wanted), f"listZones: no zone with id {wanted['zone_id']}")
        return zone if zone.get("allocationstate") == "Enabled" else None

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        api.call("updateZone", id=wanted["zone_id"], allocationstate="Enabled")
        return {"id": wanted["zone_id"], "allocationstate": "Enabled"}

    @override
    def destroy(self, api: Api, obj: Obj) -> None:
        api.call("updateZone", id=obj["id"], allocationstate="Disabled")


class ZoneEnablement(CloudStackResource[ZoneEnablementArgs], module="cloudstack", name="ZoneEnablement"):
    """Enables a zone once everything in it exists; deleting it disables the zone."""

    provider_type = ZoneEnablementProvider
