"""What every XCP-ng resource provider shares: settings, sessions, normalisation, read plumbing."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Generic, TypeVar

import pulumi
import pydantic
from pulumi.dynamic import DiffResult
from typing_extensions import override

from providers._core import (
    REAL_CLOCK,
    SESSIONS,
    Clock,
    Lifecycle,
    NotFound,
    Obj,
    Permanent,
    Policy,
    as_int,
    diff,
    is_unknown,
)
from providers._core.declare import Args, arg

from ._xapi import Credentials, Xapi, is_null
from .settings import Settings

C = TypeVar("C")

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


Address = Annotated[str, pydantic.AfterValidator(check_address)]


def warn(message: str) -> None:
    """A warning the CLI shows during preview and update.

    A dynamic provider runs in its own process with no engine connection, so `pulumi.log.warn`
    falls back to stderr; the engine relays a provider's stderr as diagnostics of the step.
    """
    print(f"warning: {message}", file=sys.stderr, flush=True)


def set_fields(x: Xapi, cls: str, ref: str, rec: Mapping[str, Any], wanted: Mapping[str, str]) -> None:
    """`<cls>.set_<field>` of each field whose wanted value differs from the object's record."""
    for field, value in wanted.items():
        if str(rec.get(field, "")) != value:
            x.call(f"{cls}.set_{field}", ref, value)


class View:
    """A pool's objects as its master lists them: the pool at once, the other listings when first
    used (take a new `View` after a change)."""

    def __init__(self, x: Xapi) -> None:
        pools = x.read("pool.get_all_records")
        if len(pools) != 1:
            raise Permanent(x.resource, f"pool.get_all_records: expected one pool, got {len(pools)}")
        self.x = x
        ref, self.pool = next(iter(pools.items()))
        self.pool_ref, self.master = str(ref), str(self.pool["master"])

    def _all(self, cls: str) -> dict[str, dict[str, Any]]:
        return dict(self.x.read(f"{cls}.get_all_records"))

    hosts = functools.cached_property(lambda self: self._all("host"))
    networks = functools.cached_property(lambda self: self._all("network"))
    pifs = functools.cached_property(lambda self: self._all("PIF"))
    bonds = functools.cached_property(lambda self: self._all("Bond"))
    pbds = functools.cached_property(lambda self: self._all("PBD"))

    @property
    def by_address(self) -> dict[str, str]:
        """Host address -> host ref."""
        return {str(r["address"]): ref for ref, r in self.hosts.items()}

    @property
    def master_address(self) -> str:
        return str(self.hosts[self.master]["address"])

    def pifs_on(self, network: str) -> dict[str, dict[str, Any]]:
        return {r: p for r, p in self.pifs.items() if p["network"] == network}

    def hosts_with(self, network: str) -> set[str]:
        return {p["host"] for p in self.pifs_on(network).values()}

    def base_pif(self, host: str, device: str) -> str | None:
        """The untagged PIF of `device` on `host` that can carry VLANs (not a bond member)."""
        return next((r for r, p in self.pifs.items() if p["host"] == host and p["device"] == device
                     and as_int(p["VLAN"]) == -1 and is_null(p.get("bond_slave_of"))), None)

    def pbds_on(self, sr: str) -> dict[str, dict[str, Any]]:
        return {r: p for r, p in self.pbds.items() if p["SR"] == sr}


class ConnectionArgs(Args):
    """How a resource on an existing pool reaches it: any host of the pool and its root login."""

    address: pulumi.Input[str] = arg(check=Address, min_length=1)
    """Address of the pool master or any member (e.g. `pool.master_address`); the login follows HOST_IS_SLAVE."""
    username: pulumi.Input[str] = arg(default="root", min_length=1)
    """Root user (root)."""
    password: pulumi.Input[str] = arg(secret=True, min_length=1)
    """Root password of the pool (secret)."""


class XcpngProvider(Lifecycle[Settings, C], Generic[C]):
    """The generic lifecycle over XAPI, with settings from `configure()` (all optional).

    Nothing here is pickled but the class reference: `_settings` lives in the provider process.
    """

    clock: ClassVar[Clock] = REAL_CLOCK
    settings_model = Settings
    label_field = "name_label"

    @override
    def outstanding(self, changed: set[str]) -> bool:
        return True  # what is beyond the fields (hosts to wire, to join) converges on every update

    @override
    def obj_id(self, obj: Obj) -> str:
        return str(obj["uuid"])  # pools, networks and SRs are known by their uuid

    @override
    def policy(self, client: C) -> Policy:
        s = self.settings()
        return Policy(self.table.resource, s.retry_timeout, s.poll_interval, self.clock)

    def xapi(self, props: Mapping[str, Any], address: str | None = None, **kw: Any) -> Xapi:
        """A session (to be used with `with`) on the pool, logged in to `address` (default: the
        connection's address, or the pool's master) with that host's password."""
        address = address or str(props.get("address") or props.get("master"))
        password = str((props.get("host_passwords") or {}).get(address, props["password"]))
        creds = Credentials(address, str(props.get("username") or "root"), password)
        return Xapi(self.settings(props), self.label(props), creds, clock=self.clock, **kw)


class OnPool(XcpngProvider[Xapi]):
    """A resource of an existing pool (a network, an SR), found by uuid: one session per
    operation through the resource's connection, refusing to act on another pool than the
    object's (`check_pool`); `converge_ref` puts it on every host and sets its fields."""

    cls: ClassVar[str]  # the XAPI class (network, SR)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """`pool_uuid` only orders and checks: unknown at preview whenever the pool is updated, yet
        it never changes for an existing object, so unknown is not a change."""
        if is_unknown(news.get("pool_uuid")) and "pool_uuid" in olds:
            news = {**news, "pool_uuid": olds["pool_uuid"]}
        return diff(olds, news, self.table)

    @override
    @contextlib.contextmanager
    def connect(self, props: Mapping[str, Any]) -> Iterator[Xapi]:
        with self.xapi(props, sessions=SESSIONS, declared=props) as x:
            self.check_pool(x, props)
            yield x

    def ref(self, x: Xapi, uuid: str) -> str | None:
        with contextlib.suppress(NotFound):
            return x.ref_by_uuid(self.cls, uuid)
        return None

    @override
    def fetch(self, client: Xapi, obj_id: str) -> Obj | None:
        ref = self.ref(client, obj_id)
        return None if ref is None else self.record(client, ref)

    def record(self, x: Xapi, ref: str) -> Obj:
        return {**x.record(self.cls, ref), "ref": ref}

    @override
    def created(self, client: Xapi, obj_id: str, obj: Obj, created: bool, wanted: Obj) -> Obj:
        self.converge_ref(client, obj["ref"], set(), wanted)  # made or adopted: on every host
        return self.outputs(client, self.record(client, obj["ref"]), wanted)

    @override
    def apply(self, client: Xapi, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        ref = self.ref(client, obj_id)
        if ref is None:
            raise NotFound(client.resource, f"{self.cls} {obj_id} is gone; run `pulumi refresh` to recreate it")
        self.converge_ref(client, ref, changed, wanted)
        return None

    def converge_ref(self, x: Xapi, ref: str, changed: set[str], wanted: Obj) -> None:
        """Make the object at `ref` what `wanted` declares (`changed`: the fields that differ)."""
        raise NotImplementedError

    @staticmethod
    def check_pool(x: Xapi, wanted: Mapping[str, Any]) -> None:
        """Refuse to act when the host at the address is in another pool than the object's.

        Another pool answering there is no proof the object is gone (an address reassigned, a
        network blip to another host): the operator decides, told how.
        """
        if wanted.get("pool_uuid") and (uuid := View(x).pool["uuid"]) != wanted["pool_uuid"]:
            raise Permanent(
                x.resource,
                f"pool_uuid={wanted['pool_uuid']!r}: {x.address} is in pool {uuid} now, so this "
                "object's pool does not answer there; if the hosts were reinstalled, their objects are gone: "
                "drop them from state (`pulumi state delete <urn>`) and run `pulumi up` to recreate them",
            )
