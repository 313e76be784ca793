"""What every XCP-ng resource provider shares: settings, sessions, normalisation, read plumbing."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
import pydantic
from pulumi.dynamic import CheckResult, DiffResult

from providers._core import (
    REAL_CLOCK,
    SESSIONS,
    Clock,
    NotFound,
    Permanent,
    Provider,
    diff,
    is_unknown,
)
from providers._core.declare import Args, PulumiInputsBase, arg

from ._xapi import Credentials, Xapi
from .settings import Settings

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


def warn(message: str) -> None:
    """A warning the CLI shows during preview and update.

    A dynamic provider runs in its own process with no engine connection, so `pulumi.log.warn`
    falls back to stderr; the engine relays a provider's stderr as diagnostics of the step.
    """
    print(f"warning: {message}", file=sys.stderr, flush=True)


class ConnectionChecks(PulumiInputsBase):
    """The connection's address is a host address."""

    @pydantic.field_validator("address", check_fields=False)
    @classmethod
    def _address(cls, value: str) -> str:
        return check_address(value)


class ConnectionArgs(Args):
    """How a resource on an existing pool reaches it: any host of the pool and its root login."""

    address: pulumi.Input[str] = arg(min_length=1)
    """Address of the pool master or any member (e.g. `pool.master_address`); the login follows HOST_IS_SLAVE."""
    username: pulumi.Input[str] = arg(default="root", min_length=1)
    """Root user (root)."""
    password: pulumi.Input[str] = arg(secret=True, min_length=1)
    """Root password of the pool (secret)."""


class XcpngProvider(Provider[Settings]):
    """A `TableProvider` that talks to XAPI with settings from `configure()` (all optional).

    Nothing here is pickled but the class reference: `_settings` lives in the provider process.
    """

    clock: ClassVar[Clock] = REAL_CLOCK
    # Inputs that only order and check (a pool's uuid): unknown at preview whenever the pool is
    # being updated, yet they never change for an existing object, so unknown is not a change.
    stable_when_unknown: ClassVar[tuple[str, ...]] = ()
    settings_model = Settings
    label_field = "name_label"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """As the core's, but defaults are filled in even when unknowns (preview) stop validation.

        Otherwise a preview would compare stored inputs (defaults included) with inputs lacking
        them and show changes to fields nobody touched.
        """
        result = super().check(olds, news)
        props = dict(result.inputs)
        if result.failures or not any(is_unknown(v) for v in props.values()):
            return result
        for name, info in self.input_model().model_fields.items():
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

    def xapi(self, props: Mapping[str, Any], address: str | None = None) -> Xapi:
        """A session (to be used with `with`) on the pool reached through `props`' connection."""
        creds = Credentials(address or str(props["address"]), str(props.get("username") or "root"),
                            str(props["password"]))
        return Xapi(self.settings(props), self.label(props), creds, clock=self.clock, sessions=SESSIONS)

    @staticmethod
    def by_uuid(x: Xapi, cls: str, uuid: str) -> str | None:
        """The ref of the `cls` object with this uuid, or None when XAPI has none."""
        try:
            return x.ref_by_uuid(cls, uuid)
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


