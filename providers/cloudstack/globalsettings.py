"""`cloudstack.GlobalSettings`: the management-server settings the stack config names.

`values` maps setting names to values. With `zone_id`, a setting CloudStack scopes per zone is set
for that zone (`updateConfiguration zoneid=`); a global one is set globally either way. Values are
read back with `listConfigurations` (so a change made by hand shows at refresh), a setting removed
from `values` goes back to its default (`resetConfiguration`), and deleting the resource resets
every setting it managed.

`restart_required` lists the managed settings CloudStack applies only after a management-server
restart (`isdynamic` false). In preview, `check` names those among the settings about to change
under `restart_required` (looked up when the connection is known), so the plan says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, ReadResult, UpdateResult

from providers._core import Change, NotFound, Permanent
from providers._core.declare import Args, arg, output
from providers._core.diff import is_unknown

from .api import Api
from .base import CONNECTION, CloudStackProvider, CloudStackResource


def _as_text(value: Any) -> Any:
    """CloudStack answers every value as text; booleans as true/false."""
    if isinstance(value, Mapping):
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
    return value


class GlobalSettingsArgs(Args, resource="cloudstack.GlobalSettings"):
    """Management-server settings by name (global, or per zone where CloudStack scopes them)."""

    values: pulumi.Input[Mapping[str, str]] = arg(normalize=_as_text, check=dict[str, str])
    """Setting name -> value, e.g. {"expunge.delay": "600"}."""
    zone_id: pulumi.Input[str] | None = arg(None, api="zoneid", change=Change.REPLACE)
    """Zone whose zone-scoped settings these are; unset: every value is global."""
    restart_required: pulumi.Output[list[str]] = output()
    """The managed settings that take effect only after a management-server restart."""


class GlobalSettingsProvider(CloudStackProvider):
    args = GlobalSettingsArgs
    label_field = "zone_id"

    # --- CloudStack calls --------------------------------------------------------------------------
    def _setting(self, api: Api, name: str, zone_id: str | None) -> dict[str, Any]:
        """The setting as CloudStack has it (in the zone when it is zone-scoped and a zone is given)."""
        listed = [c for c in api.list("listConfigurations", name=name) if c.get("name") == name]
        if not listed:
            raise Permanent(api.resource, f"listConfigurations: CloudStack has no setting named {name!r}")
        if zone_id and str(listed[0].get("scope", "")).lower() == "zone":
            scoped = [c for c in api.list("listConfigurations", name=name, zoneid=zone_id) if c.get("name") == name]
            return {**scoped[0], "scope": "zone"} if scoped else listed[0]
        return listed[0]

    @staticmethod
    def _scope(setting: Mapping[str, Any], zone_id: str | None) -> dict[str, str]:
        return {"zoneid": zone_id} if zone_id and str(setting.get("scope", "")).lower() == "zone" else {}

    def _read(self, api: Api, names: list[str], zone_id: str | None) -> tuple[dict[str, str], list[str]]:
        values, static = {}, []
        for name in names:
            s = self._setting(api, name, zone_id)
            values[name] = "" if s.get("value") is None else str(s["value"])
            if str(s.get("isdynamic")).lower() == "false":
                static.append(name)
        return values, sorted(static)

    def _outputs(self, api: Api, wanted: Mapping[str, Any]) -> dict[str, Any]:
        values, static = self._read(api, sorted(wanted["values"]), wanted.get("zone_id"))
        return {**wanted, "values": values, "restart_required": static}

    def _apply(self, api: Api, zone_id: str | None, set_: Mapping[str, str], reset: list[str]) -> None:
        for name, value in sorted(set_.items()):
            s = self._setting(api, name, zone_id)
            if str(s.get("value")) != value:  # a re-run after a failure changes only what differs
                api.call("updateConfiguration", name=name, value=value, **self._scope(s, zone_id))
        for name in sorted(reset):
            s = self._setting(api, name, zone_id)
            api.call("resetConfiguration", name=name, **self._scope(s, zone_id))

    # --- the lifecycle -----------------------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validated inputs; the settings about to change that need a restart, when they can be known."""
        result = super().check(olds, news)
        if result.failures or is_unknown(news.get(CONNECTION)) or is_unknown(news.get("values")):
            return result
        old, new = _as_text(olds.get("values") or {}), _as_text(result.inputs.get("values") or {})
        changing = sorted(n for n, v in new.items() if old.get(n) != v)
        if not changing or (news.get(CONNECTION) is None and self._settings is None):
            return result
        try:
            api = self.client(result.inputs)
            static = [n for n in changing if str(self._setting(api, n, result.inputs.get("zone_id"))
                                                     .get("isdynamic")).lower() == "false"]
        except Exception:
            return result
        if static:
            result.inputs["restart_required"] = static
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.client(wanted)
        self._apply(api, wanted.get("zone_id"), wanted["values"], [])
        obj_id = f"zone:{wanted['zone_id']}" if wanted.get("zone_id") else "global"
        return CreateResult(obj_id, self.managed(self._outputs(api, wanted), wanted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        api = self.client(props)
        try:
            outs = self._outputs(api, {**props, "values": _as_text(props.get("values") or {})})
        except NotFound:
            return self.gone()
        return self.read_result(id_, outs, props)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        api = self.client(wanted)
        old, new = _as_text(olds.get("values") or {}), wanted["values"]
        self._apply(api, wanted.get("zone_id"), {n: v for n, v in new.items() if old.get(n) != v},
                    [n for n in old if n not in new])
        return UpdateResult(self.managed(self._outputs(api, wanted), wanted))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        api = self.client(props)
        self._apply(api, props.get("zone_id"), {}, sorted(_as_text(props.get("values") or {})))

    def inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        out = super().inputs({k: v for k, v in props.items() if k != "restart_required"})
        out["values"] = _as_text(out.get("values") or {})
        return out


class GlobalSettings(CloudStackResource[GlobalSettingsArgs], module="cloudstack", name="GlobalSettings"):
    """Management-server settings, global or per zone."""

    provider_type = GlobalSettingsProvider
