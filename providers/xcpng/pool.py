"""`xcpng.Pool`: an XCP-ng pool built from installed hosts: one master, the others joined to it.

Every freshly installed host is the master of a pool of one. Building the pool is calling
`pool.join(master_address, master_username, master_password)` ON EACH JOINING HOST, waiting for
each join (the joining host restarts its toolstack) with a deadline, then naming the pool and
choosing its default SR. The pool is identified by its uuid, which is the master's pool's and
survives joins and master changes.

What a change does, as preview shows it:

- a host added to `hosts`: joined (update);
- a host removed from `hosts`: EJECTED (update, with a warning at preview: eject wipes the host's
  local state and reboots it as a fresh installation);
- another `master`: `pool.designate_new_master` (update, not a rebuild);
- name, description, default SR: set in place.

The lifecycle is the core's with these hooks: `connect` (a session on the master, from any
declared host), `find` (the pool the master is in: always adopted, so hosts already members are
not joined again and a run that crashed half-way through the joins is finished by the next one),
`created`/`apply` (the walk: joins, a designation, ejects on update only, names, default SR),
`destroy` (dissolves the pool by ejecting every member but the master; `retain_on_delete` keeps
a pool out of `pulumi destroy`). The master's pool gets back the name and description it had
before create (recorded then, as `prior_name_label` / `prior_name_description`): the master is
not the program's to keep renamed. A pool adopted already bearing the declared name (a run killed
after renaming it) is given back XCP-ng's default, the empty name.

Credentials: `password` is the root password of the master, which becomes the pool's; a joining
host whose root password differs before it joins is given in `host_passwords`. Both are secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import DiffResult
from pydantic import field_validator, model_validator
from typing_extensions import override

from providers._core import (
    SESSIONS,
    Args,
    Declared,
    NotFound,
    Obj,
    Permanent,
    ProviderError,
    arg,
    is_unknown,
    output,
    wait_for,
)
from providers._core.declare import PulumiInputsBase

from ._base import Address, View, XcpngProvider, check_address, set_fields, warn
from ._xapi import Xapi, is_null, map_error


class PoolChecks(PulumiInputsBase):
    """Addresses, no duplicate host, the master among the hosts, passwords only for hosts."""

    @field_validator("hosts", check_fields=False)
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        hosts = [check_address(h) for h in value]
        dupes = sorted({h for h in hosts if hosts.count(h) > 1})
        if dupes:
            raise ValueError(f"listed more than once: {dupes}")
        return sorted(hosts)

    @model_validator(mode="after")
    def _master_is_a_host(self) -> Any:
        values = self.__dict__
        if values["master"] not in values["hosts"]:
            raise ValueError(f"master {values['master']!r} must be one of hosts {values['hosts']}")
        extra = sorted(set(values.get("host_passwords") or {}) - set(values["hosts"]))
        if extra:
            raise ValueError(f"host_passwords names hosts not in hosts: {extra}")
        return self


class PoolArgs(Args, resource="xcpng.Pool", checks=PoolChecks):
    """An XCP-ng pool: its hosts by address, which one is master, and how to log in."""

    name_label: pulumi.Input[str] = arg(min_length=1)
    """Name of the pool; renamed in place."""
    name_description: pulumi.Input[str] = ""
    """Description of the pool."""
    master: pulumi.Input[str] = arg(check=Address)
    """Address of the pool master, one of `hosts`; a change is `pool.designate_new_master`."""
    hosts: pulumi.Input[list[pulumi.Input[str]]] = arg(normalize=sorted, check=list[str], min_length=1)
    """Addresses of every host of the pool, master included; added ones join, removed ones are EJECTED (wiped)."""
    username: pulumi.Input[str] = arg(default="root", min_length=1)
    """Root user of the hosts (root)."""
    password: pulumi.Input[str] = arg(secret=True, min_length=1)
    """Root password of the master, which is the pool's (secret)."""
    host_passwords: pulumi.Input[dict[str, pulumi.Input[str]]] | None = arg(
        default=None, secret=True, check=dict[str, str]
    )
    """Root passwords of joining hosts whose own differs from `password`, by address (secret)."""
    default_sr: pulumi.Input[str] | None = None
    """Uuid or name-label of the pool's default SR; left alone when unset."""
    pool_uuid: pulumi.Output[str] = output()
    """uuid of the pool."""
    master_address: pulumi.Output[str] = output()
    """Address of the master (what resources on the pool log in to)."""
    master_url: pulumi.Output[str] = output()
    """XAPI URL of the master: what a CloudStack cluster takes."""
    master_uuid: pulumi.Output[str] = output()
    """uuid of the master host."""
    host_uuids: pulumi.Output[list[str]] = output()
    """uuids of the pool's hosts."""
    host_addresses: pulumi.Output[list[str]] = output()
    """Addresses of the pool's hosts (`cloudstack.Cluster.members`)."""
    prior_name_label: pulumi.Output[str] = output()
    """The pool's name before create: destroy gives it back."""
    prior_name_description: pulumi.Output[str] = output()
    """The pool's description before create: destroy gives it back."""


# Inputs XAPI cannot give back, kept from the declared ones on read.
CARRIED = ("username", "password", "host_passwords")
# Outputs recorded at create and carried through reads and updates (what destroy restores).
PRIOR = ("prior_name_label", "prior_name_description")


def eject_warning(olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
    """The preview warning for hosts that an update would eject (None when none would be)."""
    before, after = olds.get("hosts"), news.get("hosts")
    if not isinstance(before, list) or not isinstance(after, list) or is_unknown(after):
        return None
    removed = sorted(set(before) - set(after))
    if not removed:
        return None
    name = news.get("name_label") or olds.get("name_label") or "?"
    return (
        f"xcpng.Pool {name!r}: hosts {removed} will be EJECTED from the pool; pool.eject wipes each "
        "ejected host's local storage and configuration and reboots it as a fresh installation"
    )


@dataclass
class Walk:
    """The client of one pool operation: a session on the pool's master (a designation moves it to
    the new master), the pool's declared properties, and the sessions to log out afterwards."""

    x: Xapi
    declared: Mapping[str, Any]
    stack: contextlib.ExitStack

    def obj(self) -> Obj:
        view = View(self.x)
        return {"uuid": str(view.pool["uuid"]), "view": view}


class PoolProvider(XcpngProvider[Walk]):
    args = PoolArgs

    @override
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        message = eject_warning(olds, news)
        if message:
            warn(message)
        return super().diff(_id, olds, news)

    # --- sessions -----------------------------------------------------------------------------
    @override
    @contextlib.contextmanager
    def connect(self, props: Mapping[str, Any]) -> Iterator[Walk]:
        """A session on the pool from the declared master, else from any declared host (the master
        may have moved); kept by the provider process for reads (SESSIONS), logged out after writes."""
        errors: list[str] = []
        with contextlib.ExitStack() as stack:
            for address in [props["master"], *[h for h in props["hosts"] if h != props["master"]]]:
                try:
                    x = stack.enter_context(self.xapi(props, address, sessions=SESSIONS))
                    break
                except ProviderError as e:
                    errors.append(e.message)
            else:
                raise Permanent(self.label(props), "cannot log in to the pool from any declared host: "
                                + "; ".join(errors))
            yield Walk(x, props, stack)

    # --- the hooks ----------------------------------------------------------------------------
    @override
    def fetch(self, client: Walk, obj_id: str) -> Obj | None:
        """The pool the hosts make up, unless it is another one now (the hosts were reinstalled).
        Unreachable hosts are an error (from `connect`), not a vanished pool."""
        obj = client.obj()
        return obj if obj["uuid"] == obj_id else None

    @override
    def find(self, client: Walk, wanted: Obj) -> Obj | None:
        return client.obj()  # members already joined stay; extra ones are left for an update (it warns)

    @override
    def created(self, client: Walk, obj_id: str, obj: Obj, created: bool, wanted: Obj) -> Obj:
        pool = obj["view"].pool
        renamed = pool.get("name_label") == wanted["name_label"]
        prior = {"prior_name_label": "" if renamed else str(pool.get("name_label", "")),
                 "prior_name_description": "" if renamed else str(pool.get("name_description", ""))}
        return self.outputs(client, self._walk(client, wanted, eject=False), {**wanted, **prior})

    @override
    def apply(self, client: Walk, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        prior = {k: current[k] for k in PRIOR if current.get(k) is not None}
        return {**self._walk(client, wanted, eject=True), **prior}

    @override
    def outputs(self, client: Walk, obj: Obj, carried: Obj) -> Obj:
        view: View = obj["view"]
        addresses = sorted(view.by_address)
        return {
            "name_label": view.pool.get("name_label", ""),
            "name_description": view.pool.get("name_description", ""),
            "master": view.master_address,
            "hosts": addresses,
            "default_sr": self._default_sr(client.x, view, carried.get("default_sr")),
            "pool_uuid": str(view.pool["uuid"]),
            "master_address": view.master_address,
            "master_url": f"http://{view.master_address}",
            "master_uuid": str(view.hosts[view.master]["uuid"]),
            "host_uuids": [str(view.hosts[view.by_address[a]]["uuid"]) for a in addresses],
            "host_addresses": addresses,
            **{k: carried.get(k) for k in CARRIED},  # None: dropped (`managed`)
            **{k: obj.get(k, carried.get(k)) for k in PRIOR},
        }

    @override
    def destroy(self, client: Walk, obj: Obj) -> None:
        view: View = obj["view"]
        others = sorted(a for a, ref in view.by_address.items() if ref != view.master)
        if others:
            warn(f"{self.label(client.declared)}: ejecting {others} to dissolve the pool (eject wipes those hosts)")
        for address in others:
            self._eject(client.x, address)
        prior = {k.removeprefix("prior_"): client.declared[k] for k in PRIOR if client.declared.get(k) is not None}
        set_fields(client.x, "pool", view.pool_ref, view.pool, prior)

    # --- the walk -----------------------------------------------------------------------------
    def _walk(self, walk: Walk, wanted: Obj, *, eject: bool) -> Obj:
        """Join, designate, eject, name: make the pool what `wanted` says; the pool after."""
        joined = View(walk.x).by_address
        for address in wanted["hosts"]:
            if address not in joined:
                self._join(walk.x, wanted, address)
        if View(walk.x).master_address != wanted["master"]:
            walk.x = self._designate(walk, wanted["master"])
        if eject:
            for address in sorted(set(View(walk.x).by_address) - set(wanted["hosts"])):
                self._eject(walk.x, address)
        view, x = View(walk.x), walk.x
        names = {"name_label": wanted["name_label"], "name_description": wanted.get("name_description", "")}
        default = {"default_SR": self._find_sr(x, wanted["default_sr"])} if wanted.get("default_sr") else {}
        set_fields(x, "pool", view.pool_ref, view.pool, {**names, **default})
        return walk.obj()

    def _join(self, x: Xapi, wanted: Mapping[str, Any], address: str) -> None:
        """`pool.join` on the joining host, waited on until the master lists it."""
        master_address = View(x).master_address
        joining = self.xapi(wanted, address, follow_master=False)
        try:
            joining.login()
        except Permanent as e:
            if "HOST_IS_SLAVE" in e.message:
                if f"'{master_address}'" in e.message:  # HOST_IS_SLAVE ['<this pool's master>']
                    return  # joined meanwhile
                raise Permanent(self.label(wanted), f"host {address} is a member of another pool: {e.message}") from e
            raise
        try:
            task = joining.call("Async.pool.join", master_address, wanted.get("username") or "root",
                                wanted["password"])
            self._wait_pool_change(
                x, joining, task, f"pool.join of {address}", lambda: address in View(x).by_address
            )
        finally:
            joining.logout()

    def _wait_pool_change(self, x: Xapi, on: Xapi, task: str, what: str, reached: Callable[[], bool]) -> None:
        """Wait until `reached()` holds (an error there: not yet); the task's failure ends the wait
        with XAPI's words.

        The host running the task may restart its toolstack on the way (a joining host does), so
        errors reading the task are not failures: the pool's own view decides.
        """

        def probe() -> tuple[str, list[str]]:
            try:
                if reached():
                    return "done", []
            except ProviderError:
                pass  # the master may be busy with the change itself
            try:
                rec = on.call("task.get_record", task)
            except ProviderError as e:
                return f"restarting ({e.message})", []
            return str(rec.get("status")), [str(d) for d in rec.get("error_info") or []]

        def failed(state: tuple[str, list[str]]) -> str | None:
            if state[0] in ("failure", "cancelled"):
                raise map_error(x.resource, what, state[1])
            return None

        try:
            wait_for(probe, resource=x.resource, what=what, done=lambda s: s[0] == "done", failed=failed,
                     describe=lambda s: s[0], timeout=self.settings().join_timeout,
                     interval=self.settings().poll_interval, clock=self.clock)
        finally:
            with contextlib.suppress(ProviderError):
                on.call("task.destroy", task)

    def _designate(self, walk: Walk, address: str) -> Xapi:
        """`pool.designate_new_master`; a session on the new master (the old one ends with the walk)."""
        x = walk.x
        task = x.call("Async.pool.designate_new_master", View(x).by_address[address])
        new = self.xapi(walk.declared, address, follow_master=False)

        def on_new_master() -> bool:  # a failed login (HOST_IS_SLAVE still) is not there yet
            new.login()
            new.logout()
            return True

        self._wait_pool_change(x, x, task, f"pool.designate_new_master to {address}", on_new_master)
        return walk.stack.enter_context(self.xapi(walk.declared, address))

    def _eject(self, x: Xapi, address: str) -> None:
        """`pool.eject` of a member, waited on until the pool no longer lists it."""
        view = View(x)
        host = view.by_address.get(address)
        if host is None:
            return
        if host == view.master:
            raise Permanent(x.resource, f"cannot eject {address}: it is the master (designate another first)")
        task = x.call("Async.pool.eject", host)
        self._wait_pool_change(x, x, task, f"pool.eject of {address}", lambda: address not in View(x).by_address)

    def _find_sr(self, x: Xapi, key: str) -> str:
        with contextlib.suppress(NotFound):
            return str(x.read("SR.get_by_uuid", key))
        refs = x.read("SR.get_by_name_label", key)
        if len(refs) != 1:
            raise Permanent(x.resource, f"default_sr={key!r}: {len(refs)} SRs have this uuid or name-label, need 1")
        return str(refs[0])

    @staticmethod
    def _default_sr(x: Xapi, view: View, wanted: str | None) -> str | None:
        """The default SR as declared (uuid or name-label) while it is that SR, else its uuid
        ('' for none); None when undeclared (not managed)."""
        current = view.pool.get("default_SR")
        if wanted is None or is_null(current):
            return None if wanted is None else ""
        rec = x.record("SR", str(current))
        return wanted if wanted in (rec.get("uuid"), rec.get("name_label")) else str(rec["uuid"])


class Pool(Declared[PoolArgs], module="xcpng", name="Pool"):
    """An XCP-ng pool: hosts joined to a master. `master_url` is what a CloudStack cluster takes."""

    provider_type = PoolProvider
