"""`cloudstack.Template` and `cloudstack.Iso`: images registered from a URL into a zone.

registerTemplate/registerIso answer at once; the secondary storage then downloads the image.
Create waits until CloudStack says it is ready, bounded by the provider's job timeout; the
message of a failed or unfinished download carries CloudStack's own status ("45% Downloaded",
the download error), and a download that failed is unregistered again so the next run starts
afresh. Name, display text and OS type change in place (`updateTemplate`/`updateIso`); the URL,
zone, hypervisor, format and visibility are a replace. Adoption is by name in the zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import pulumi
from typing_extensions import override

from providers._core import Change, Permanent
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj

from .api import Api, first_list
from .base import CloudStackProvider, CloudStackResource, Commands, as_bool

IN_PROGRESS = ("Downloaded", "Installing Template", "Processing", "Download Complete")


def _download_failed(obj: Obj) -> str | None:
    """CloudStack's status text when the download ended in an error (None while it runs)."""
    if as_bool(obj.get("isready", False)):
        return None
    status = str(obj.get("status") or "")
    if not status or any(status.endswith(s) or status == s for s in IN_PROGRESS):
        return None
    return status


class RegisteredArgs(Args):
    """What a template and an ISO registered from a URL both begin with."""

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Zone whose secondary storage holds it; a change replaces it."""
    name: pulumi.Input[str] = arg(min_length=1)
    """Its name (adopted by it in the zone); renamed in place."""
    display_text: pulumi.Input[str] = arg(api="displaytext", min_length=1)
    """What tenants see; changed in place."""
    url: pulumi.Input[str] = arg(change=Change.REPLACE, pattern=r"^https?://")
    """http(s) URL the secondary storage downloads it from; a change replaces it."""
    os_type: pulumi.Input[str] = arg(api="ostypename", min_length=1)
    """Guest OS type by its description in listOsTypes ("Debian GNU/Linux 12 (64-bit)"); changed in place."""


class TemplateArgs(RegisteredArgs, resource="cloudstack.Template", delete_before_replace=True):
    """A VM template (a VHD for XenServer) registered from a URL."""

    hypervisor: pulumi.Input[str] = arg(default="XenServer", change=Change.REPLACE, check=Literal["XenServer"])
    """The region's hypervisor."""
    format: pulumi.Input[str] = arg(default="VHD", change=Change.REPLACE, check=Literal["VHD"])
    """Image format (XenServer takes VHD)."""
    is_public: pulumi.Input[bool] = arg(default=True, api="ispublic", change=Change.REPLACE, normalize=as_bool)
    """Offered to every tenant (else to its owner's domain); a change replaces the template."""
    password_enabled: pulumi.Input[bool] = arg(default=False, api="passwordenabled", normalize=as_bool)
    """The image runs CloudStack's password script; changed in place."""
    domain_id: pulumi.Input[str] | None = arg(default=None, api="domainid", change=Change.REPLACE)
    """Owner's domain, with `account` (the caller's account when not given)."""
    account: pulumi.Input[str] | None = arg(default=None, change=Change.REPLACE)
    """Owner account in `domain_id`."""
    status: pulumi.Output[str] = output()
    """CloudStack's download status ("Download Complete")."""
    is_ready: pulumi.Output[bool] = output(api="isready")
    """Ready to deploy VMs from."""
    size: pulumi.Output[int] = output()
    """Virtual size in bytes."""


class TemplateProvider(CloudStackProvider):
    args: ClassVar[Any] = TemplateArgs
    commands = Commands("listTemplates", "registerTemplate", "updateTemplate", "deleteTemplate")
    scope = ("name", "zone_id")
    list_params: ClassVar[Mapping[str, Any]] = {"templatefilter": "all"}
    delete_params: ClassVar[Mapping[str, Any]] = {"forced": True}  # VMs made from it keep their disks

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        found = super().find(api, wanted)
        return None if found is None else self._ready(api, found, wanted)

    def os_type_id(self, api: Api, wanted: Obj) -> str:
        """listOsTypes' id of the declared description (CloudStack takes the id, answers the name)."""
        found = [o for o in api.list("listOsTypes", description=wanted["os_type"])
                 if o.get("description") == wanted["os_type"]]
        if not found:
            raise Permanent(self.label(wanted), f"listOsTypes: no guest OS type {wanted['os_type']!r}")
        return str(found[0]["id"])

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        payload = self.table.to_api(wanted)
        payload.pop("ostypename")
        (obj,) = first_list(api.call(self.commands.create, ostypeid=self.os_type_id(api, wanted), **payload))[:1]
        return self._ready(api, obj, wanted)

    def _ready(self, api: Api, obj: Obj, wanted: Obj) -> Obj:
        """Wait (bounded) until it is ready; a failed download is unregistered again."""
        if as_bool(obj.get("isready", False)):
            return obj
        try:
            return api.wait(lambda: self.fetch(api, str(obj["id"])) or obj, what=f"the download of {wanted['url']}",
                            done=lambda o: as_bool(o.get("isready", False)), failed=_download_failed,
                            describe=lambda o: f"status {o.get('status') or 'not started'}")
        except Permanent:
            self.destroy(api, obj)
            raise

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        if "os_type" in changed:
            api.call(self.commands.update, id=obj_id, ostypeid=self.os_type_id(api, wanted))
        self.update_call(api, self.commands.update, obj_id, changed - {"os_type"}, wanted)
        return None


class Template(CloudStackResource[TemplateArgs], module="cloudstack", name="Template"):
    """A template registered from a URL, waited on until it is ready."""

    provider_type = TemplateProvider


class IsoArgs(RegisteredArgs, resource="cloudstack.Iso", delete_before_replace=True):
    """An ISO image registered from a URL (install media, driver discs)."""

    bootable: pulumi.Input[bool] = arg(default=True, normalize=as_bool)
    """VMs can boot from it; changed in place."""
    is_public: pulumi.Input[bool] = arg(default=True, api="ispublic", change=Change.REPLACE, normalize=as_bool)
    """Offered to every tenant; a change replaces the ISO."""
    domain_id: pulumi.Input[str] | None = arg(default=None, api="domainid", change=Change.REPLACE)
    """Owner's domain, with `account`."""
    account: pulumi.Input[str] | None = arg(default=None, change=Change.REPLACE)
    """Owner account in `domain_id`."""
    status: pulumi.Output[str] = output()
    """CloudStack's download status."""
    is_ready: pulumi.Output[bool] = output(api="isready")
    """Ready to attach."""


class IsoProvider(TemplateProvider):
    args: ClassVar[Any] = IsoArgs
    commands = Commands("listIsos", "registerIso", "updateIso", "deleteIso")
    list_params: ClassVar[Mapping[str, Any]] = {"isofilter": "all"}
    delete_params: ClassVar[Mapping[str, Any]] = {}


class Iso(CloudStackResource[IsoArgs], module="cloudstack", name="Iso"):
    """An ISO registered from a URL, waited on until it is ready."""

    provider_type = IsoProvider
