"""What every XCP-ng resource provider shares: settings, sessions, normalisation, read plumbing."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

import pydantic
from pulumi.dynamic import CheckResult, ConfigureRequest, DiffResult, ReadResult

from providers._core import (
    REAL_CLOCK,
    Clock,
    NotFound,
    Permanent,
    TableProvider,
    config_section,
    diff,
    is_unknown,
    parse,
)
from providers._core.diff import PROVIDER_KEY

from ._xapi import Credentials, Settings, Xapi

CONFIG_SECTION = "xcpng"

# host, IPv4 or [IPv6], with an optional port: what XAPI keeps in host.address and HOST_IS_SLAVE.
ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$")


def check_address(value: str) -> str:
    """An XAPI host address: a name or IP with an optional port, no scheme, no path."""
    value = value.strip()
    if "://" in value or "/" in value:
        raise ValueError("give the host address only (e.g. 10.0.0.11 or 10.0.0.11:443), no scheme or path")
    if not ADDRESS.match(value):
        raise ValueError("not a host name or IP address (with an optional :port)")
    return value


def as_int(value: Any) -> int:
    """XAPI answers ints as decimal strings over XML-RPC; the engine sends floats."""
    return int(float(value))


def warn(message: str) -> None:
    """A warning the CLI shows during preview and update.

    A dynamic provider runs in its own process with no engine connection, so `pulumi.log.warn`
    falls back to stderr; the engine relays a provider's stderr as diagnostics of the step.
    """
    print(f"warning: {message}", file=sys.stderr, flush=True)


class Inputs(pydantic.BaseModel):
    """Base of every input model: unknown properties are errors, not silently dropped."""

    model_config = pydantic.ConfigDict(extra="forbid")


class Connection(Inputs):
    """How a resource on an existing pool reaches it: any host of the pool and its root login."""

    address: str = pydantic.Field(
        min_length=1, description="address of the pool master, or of any member (the login follows HOST_IS_SLAVE)"
    )
    username: str = pydantic.Field(default="root", min_length=1, description="XAPI user (root)")
    password: str = pydantic.Field(min_length=1, description="XAPI password of that user (secret)")

    @pydantic.field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_address(value)


class XcpngProvider(TableProvider):
    """A `TableProvider` that talks to XAPI with settings from `configure()` (all optional).

    Nothing here is pickled but the class reference: `_settings` lives in the provider process.
    """

    clock: ClassVar[Clock] = REAL_CLOCK
    # Inputs that only order and check (a pool's uuid): unknown at preview whenever the pool is
    # being updated, yet they never change for an existing object, so unknown is not a change.
    stable_when_unknown: ClassVar[tuple[str, ...]] = ()
    _settings: Settings | None = None

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """As the core's, but defaults are filled in even when unknowns (preview) stop validation.

        Otherwise a preview would compare stored inputs (defaults included) with inputs lacking
        them and show changes to fields nobody touched.
        """
        result = super().check(olds, news)
        props = dict(result.inputs)
        if result.failures or not any(is_unknown(v) for v in props.values()):
            return result
        for name, info in self.model.model_fields.items():
            if name not in props and not info.is_required() and info.default is not None:
                props[name] = info.default
        return CheckResult(props, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, self.known(olds, news), self.table)

    def known(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """`news` with the stable-when-unknown inputs taken from `olds` while unknown."""
        return {
            k: olds.get(k) if k in self.stable_when_unknown and is_unknown(v) and k in olds else v
            for k, v in news.items()
        }

    def configure(self, req: ConfigureRequest) -> None:
        section = config_section(req, CONFIG_SECTION)
        self._settings = Settings.from_config(section) if section else Settings()

    def configure_with(self, settings: Settings) -> None:
        """Configure without the engine (tests and tools)."""
        self._settings = settings

    @property
    def settings(self) -> Settings:
        return self._settings or Settings()

    def label(self, props: Mapping[str, Any]) -> str:
        """How messages name the resource: its kind and XAPI name."""
        name = props.get("name_label")
        return f"{self.table.resource} {name!r}" if name else self.table.resource

    def inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Validated, normalised inputs (defaults filled in) of a CRUD call."""
        model = parse(self.model, {k: v for k, v in props.items() if k != PROVIDER_KEY}, self.label(props))
        return model.model_dump(mode="json", exclude_none=True)

    def xapi(self, props: Mapping[str, Any], address: str | None = None) -> Xapi:
        """A session (to be used with `with`) on the pool reached through `props`' connection."""
        creds = Credentials(address or str(props["address"]), str(props.get("username") or "root"),
                            str(props["password"]))
        return Xapi(self.settings, self.label(props), creds, clock=self.clock)

    def gone(self) -> ReadResult:
        """What `read` answers for an object XAPI no longer has: the engine recreates it."""
        return ReadResult("", {})

    @staticmethod
    def by_uuid(x: Xapi, cls: str, uuid: str) -> str | None:
        """The ref of the `cls` object with this uuid, or None when XAPI has none."""
        try:
            return str(x.read(f"{cls}.get_by_uuid", uuid))
        except NotFound:
            return None

    @staticmethod
    def check_pool(x: Xapi, wanted: Mapping[str, Any]) -> None:
        """Refuse to act when the host at the address is in another pool than the object's.

        Another pool answering there is no proof the object is gone (an address reassigned, a
        network blip to another host): the operator decides, told how.
        """
        if not wanted.get("pool_uuid"):
            return
        pool = next(iter(x.read("pool.get_all_records").values()))
        if pool["uuid"] != wanted["pool_uuid"]:
            raise Permanent(
                x.resource,
                f"pool_uuid={wanted['pool_uuid']!r}: {x.address} is in pool {pool['uuid']} now, so this "
                "object's pool does not answer there; if the hosts were reinstalled, their objects are gone: "
                "drop them from state (`pulumi state delete <urn>`) and run `pulumi up` to recreate them",
            )


