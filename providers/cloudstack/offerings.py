"""`cloudstack.ComputeOffering`, `cloudstack.DiskOffering`, `cloudstack.NetworkOffering`.

CloudStack's update commands take only what can change in place (updateServiceOffering: name,
display text, host and storage tags, domain; updateDiskOffering: name, display text, tags;
updateNetworkOffering: name, display text, availability, state): everything else (CPU, speed,
memory, storage type, HA, disk size, guest IP type, services) is a replace, known at preview.
A network offering is created Disabled by CloudStack and enabled right after (`enabled`, read
back: an offering disabled out of band shows as drift and is enabled again). Offerings are
adopted by name (CloudStack allows duplicates: the first of that name is taken).
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
from typing_extensions import override

from providers._core import Change
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj

from .api import Api, single
from .base import CloudStackProvider, CloudStackResource, Commands, as_bool, as_int, lower


def _first_domain(value: Any) -> Any:
    """Offerings answer their domains as a comma-separated list: the program declares one."""
    return str(value).split(",")[0] if value else value


# --- compute ----------------------------------------------------------------------------------


class ComputeOfferingArgs(Args, resource="cloudstack.ComputeOffering", delete_before_replace=True):
    """A fixed compute offering: vCPUs, speed and memory."""

    name: pulumi.Input[str] = arg(min_length=1)
    """Offering name (adopted by it); renamed in place."""
    display_text: pulumi.Input[str] = arg(api="displaytext", min_length=1)
    """What tenants see in the UI; changed in place."""
    cpu_number: pulumi.Input[int] = arg(api="cpunumber", change=Change.REPLACE, normalize=as_int, ge=1)
    """vCPUs; a change replaces the offering (CloudStack cannot change it)."""
    cpu_speed: pulumi.Input[int] = arg(api="cpuspeed", change=Change.REPLACE, normalize=as_int, ge=1)
    """CPU speed in MHz; a change replaces the offering."""
    memory: pulumi.Input[int] = arg(change=Change.REPLACE, normalize=as_int, ge=32)
    """Memory in MiB; a change replaces the offering."""
    storage_type: pulumi.Input[str] = arg(default="shared", api="storagetype", change=Change.REPLACE, normalize=lower,
                                          check=Literal["shared", "local"])
    """Root disk on shared (primary) or local storage; a change replaces the offering."""
    offer_ha: pulumi.Input[bool] = arg(default=False, api="offerha", change=Change.REPLACE, normalize=as_bool)
    """Restart the VM elsewhere when its host fails; a change replaces the offering."""
    host_tags: pulumi.Input[str] | None = arg(default=None, api="hosttags")
    """Only hosts with these tags run it; changed in place."""
    storage_tags: pulumi.Input[str] | None = arg(default=None, api="storagetags")
    """Only primary storage with these tags holds its root disks; changed in place."""
    domain_id: pulumi.Input[str] | None = arg(default=None, api="domainid", normalize=_first_domain)
    """Offered to this domain only (public when not given); changed in place."""


class ComputeOfferingProvider(CloudStackProvider):
    args = ComputeOfferingArgs
    commands = Commands("listServiceOfferings", "createServiceOffering", "updateServiceOffering",
                        "deleteServiceOffering")

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        payload = self.table.to_api(wanted)
        payload["tags"] = payload.pop("storagetags", None)  # createServiceOffering calls them tags
        return single(api.call(self.commands.create, **payload))


class ComputeOffering(CloudStackResource[ComputeOfferingArgs], module="cloudstack", name="ComputeOffering"):
    """A compute (service) offering."""

    provider_type = ComputeOfferingProvider


# --- disk -------------------------------------------------------------------------------------


class DiskOfferingArgs(Args, resource="cloudstack.DiskOffering", delete_before_replace=True):
    """A data-disk offering of a fixed size."""

    name: pulumi.Input[str] = arg(min_length=1)
    """Offering name (adopted by it); renamed in place."""
    display_text: pulumi.Input[str] = arg(api="displaytext", min_length=1)
    """What tenants see; changed in place."""
    disk_size: pulumi.Input[int] = arg(api="disksize", change=Change.REPLACE, normalize=as_int, ge=1)
    """Size in GB; a change replaces the offering."""
    storage_type: pulumi.Input[str] = arg(default="shared", api="storagetype", change=Change.REPLACE, normalize=lower,
                                          check=Literal["shared", "local"])
    """Shared (primary) or local storage; a change replaces the offering."""
    tags: pulumi.Input[str] | None = None
    """Storage tags; changed in place."""
    domain_id: pulumi.Input[str] | None = arg(default=None, api="domainid", normalize=_first_domain)
    """Offered to this domain only (public when not given); changed in place."""


class DiskOfferingProvider(CloudStackProvider):
    args = DiskOfferingArgs
    commands = Commands("listDiskOfferings", "createDiskOffering", "updateDiskOffering", "deleteDiskOffering")


class DiskOffering(CloudStackResource[DiskOfferingArgs], module="cloudstack", name="DiskOffering"):
    """A disk offering."""

    provider_type = DiskOfferingProvider


# --- network ----------------------------------------------------------------------------------


def _services(value: Any) -> list[str]:
    """`service` answers [{name, provider: [...]}, ...]; the program declares sorted names."""
    if isinstance(value, str):
        return sorted(s for s in value.split(",") if s)
    return sorted(str(s["name"]) if isinstance(s, dict) else str(s) for s in value or [])


def _enabled(value: Any) -> bool:
    return value is True or str(value) == "Enabled" or str(value).lower() == "true"


class NetworkOfferingArgs(Args, resource="cloudstack.NetworkOffering", delete_before_replace=True):
    """A guest network offering whose services the virtual router provides."""

    name: pulumi.Input[str] = arg(min_length=1)
    """Offering name (adopted by it); renamed in place."""
    display_text: pulumi.Input[str] = arg(api="displaytext", min_length=1)
    """What tenants see; changed in place."""
    guest_ip_type: pulumi.Input[str] = arg(default="Isolated", api="guestiptype", change=Change.REPLACE,
                                           check=Literal["Isolated", "Shared", "L2"])
    """Isolated (a VR per network), Shared or L2; a change replaces the offering."""
    services: pulumi.Input[list[str]] = arg(api="service", change=Change.REPLACE, normalize=_services)
    """Services, all provided by the VirtualRouter (Dhcp, Dns, SourceNat, Firewall, ...); a change replaces."""
    conserve_mode: pulumi.Input[bool] = arg(default=True, api="conservemode", change=Change.REPLACE, normalize=as_bool)
    """One public IP for several services; a change replaces the offering."""
    egress_default_allow: pulumi.Input[bool] = arg(default=False, api="egressdefaultpolicy", change=Change.REPLACE,
                                                   normalize=as_bool)
    """Outgoing traffic allowed unless a rule denies it; a change replaces the offering."""
    availability: pulumi.Input[str] = arg(default="Optional", check=Literal["Optional", "Required"])
    """Required: the offering of the networks CloudStack creates by itself; changed in place."""
    enabled: pulumi.Input[bool] = arg(default=True, api="state", normalize=_enabled)
    """Enabled for use (CloudStack creates offerings Disabled); changed in place."""
    traffic_type: pulumi.Output[str] = output(api="traffictype")
    """Guest."""


class NetworkOfferingProvider(CloudStackProvider):
    args = NetworkOfferingArgs
    commands = Commands("listNetworkOfferings", delete="deleteNetworkOffering")

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        services = sorted(wanted["services"])
        offering = single(api.call(
            "createNetworkOffering", name=wanted["name"], displaytext=wanted["display_text"],
            guestiptype=wanted["guest_ip_type"], traffictype="GUEST", supportedservices=",".join(services),
            serviceproviderlist=[{"service": s, "provider": "VirtualRouter"} for s in services],
            conservemode=wanted["conserve_mode"], egressdefaultpolicy=wanted["egress_default_allow"],
            availability=wanted["availability"]))
        if wanted["enabled"]:
            offering = single(api.call("updateNetworkOffering", id=offering["id"], state="Enabled"))
        return offering

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        names = [n for n in ("name", "display_text", "availability") if n in changed]
        state = ("Enabled" if wanted["enabled"] else "Disabled") if "enabled" in changed else None
        if not names and state is None:
            return None
        return single(api.call("updateNetworkOffering", id=obj_id, **self.table.to_api(wanted, names), state=state))


class NetworkOffering(CloudStackResource[NetworkOfferingArgs], module="cloudstack", name="NetworkOffering"):
    """A network offering, enabled after creation."""

    provider_type = NetworkOfferingProvider
