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

Create adopts what it finds: hosts already members are not joined again, so a run that crashed
half-way through the joins is finished by the next one. Delete dissolves the pool by ejecting
every member but the master (use `retain_on_delete` to keep a pool out of `pulumi destroy`), and
gives the master's pool back the name and description it had before create (recorded then, as
`prior_name_label` / `prior_name_description`): the master is not the program's to keep renamed.
A pool adopted already bearing the declared name (a run killed after renaming it) is given back
XCP-ng's default, the empty name.

Credentials: `password` is the root password of the master, which becomes the pool's; a joining
host whose root password differs before it joins is given in `host_passwords`. Both are secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult
from pydantic import field_validator, model_validator

from providers._core import (
    SESSIONS,
    Args,
    Declared,
    NotFound,
    Permanent,
    ProviderError,
    arg,
    diff,
    is_unknown,
    output,
    wait_for,
)
from providers._core.declare import PulumiInputsBase
from providers._core.diff import PROVIDER_KEY

from ._base import XcpngProvider, check_address, warn
from ._xapi import Credentials, Xapi, is_null, map_error


class PoolChecks(PulumiInputsBase):
    """Addresses, no duplicate host, the master among the hosts, passwords only for hosts."""

    @field_validator("master", check_fields=False)
    @classmethod
    def _master(cls, value: str) -> str:
        return check_address(value)

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
    master: pulumi.Input[str] = arg()
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


TABLE = PoolArgs.table()
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


@dataclass(frozen=True)
class Members:
    """The pool as the master sees it."""

    pool_ref: str
    pool: dict[str, Any]
    master_ref: str
    by_address: dict[str, str]  # host address -> host ref
    records: dict[str, dict[str, Any]]  # host ref -> record

    @property
    def master_address(self) -> str:
        return str(self.records[self.master_ref]["address"])


class PoolProvider(XcpngProvider):
    args = PoolArgs

    # --- preview ------------------------------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        message = eject_warning(olds, news)
        if message:
            warn(message)
        return diff(olds, news, self.table)

    # --- sessions -----------------------------------------------------------------------------
    def _host_creds(self, wanted: Mapping[str, Any], address: str) -> Credentials:
        passwords = wanted.get("host_passwords") or {}
        return Credentials(address, wanted.get("username") or "root", passwords.get(address, wanted["password"]))

    def _pool_session(self, wanted: Mapping[str, Any], address: str | None = None) -> Xapi:
        """A session on the pool's master, reached from `address` (or the declared master)."""
        return Xapi(self.settings(), self.label(wanted), self._host_creds(wanted, address or wanted["master"]),
                    clock=self.clock)

    def _open_pool(self, wanted: Mapping[str, Any]) -> Xapi:
        """Log in to the pool from the declared master, else from any declared host (the master may have moved)."""
        errors: list[str] = []
        for address in [wanted["master"], *[h for h in wanted["hosts"] if h != wanted["master"]]]:
            x = self._pool_session(wanted, address)
            try:
                x.login()
                return x
            except ProviderError as e:
                errors.append(e.message)
        raise Permanent(self.label(wanted), "cannot log in to the pool from any declared host: " + "; ".join(errors))

    @contextlib.contextmanager
    def _reading_session(self, declared: Mapping[str, Any]) -> Iterator[Xapi]:
        """For a read: a session kept by the provider process (SESSIONS) from the declared master,
        else a new one from any declared host (`_open_pool`), logged out after."""
        kept = Xapi(self.settings(), self.label(declared), self._host_creds(declared, declared["master"]),
                    clock=self.clock, sessions=SESSIONS)
        try:
            kept.__enter__()
        except ProviderError:
            x = self._open_pool(declared)
            try:
                yield x
            finally:
                x.logout()
            return
        try:
            yield kept
        finally:
            kept.__exit__(None, None, None)

    @staticmethod
    def _members(x: Xapi) -> Members:
        pools = x.read("pool.get_all_records")
        if len(pools) != 1:
            raise Permanent(x.resource, f"pool.get_all_records: expected one pool, got {len(pools)}")
        pool_ref, pool = next(iter(pools.items()))
        records = x.read("host.get_all_records")
        return Members(
            pool_ref, pool, str(pool["master"]), {str(r["address"]): ref for ref, r in records.items()}, records
        )

    # --- operations ---------------------------------------------------------------------------
    def _join(self, x: Xapi, wanted: Mapping[str, Any], address: str) -> None:
        """`pool.join` on the joining host, waited on until the master lists it."""
        members = self._members(x)
        master_address = members.master_address
        joining = Xapi(self.settings(), self.label(wanted), self._host_creds(wanted, address), clock=self.clock,
                       follow_master=False)
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
                x, joining, task, f"pool.join of {address}", lambda: address in self._members(x).by_address
            )
        finally:
            joining.logout()

    def _wait_pool_change(self, x: Xapi, on: Xapi, task: str, what: str, reached: Callable[[], bool]) -> None:
        """Wait until `reached(members)` holds; the task's failure ends the wait with XAPI's words.

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

    def _designate(self, x: Xapi, wanted: Mapping[str, Any], address: str) -> Xapi:
        """`pool.designate_new_master`; returns a session on the new master (the old one ends)."""
        members = self._members(x)
        host = members.by_address[address]
        task = x.call("Async.pool.designate_new_master", host)
        new = self._pool_session(wanted, address)
        new.follow_master = False

        def on_new_master() -> bool:
            try:
                new.login()
            except ProviderError:
                return False
            new.logout()
            return True

        self._wait_pool_change(x, x, task, f"pool.designate_new_master to {address}", on_new_master)
        x.logout()
        fresh = self._pool_session(wanted, address)
        fresh.login()
        return fresh

    def _eject(self, x: Xapi, address: str) -> None:
        """`pool.eject` of a member, waited on until the pool no longer lists it."""
        members = self._members(x)
        host = members.by_address.get(address)
        if host is None:
            return
        if host == members.master_ref:
            raise Permanent(x.resource, f"cannot eject {address}: it is the master (designate another first)")
        x.run("pool.eject", host, what=f"pool.eject of {address}", timeout=self.settings().join_timeout)
        wait_for(lambda: self._members(x), resource=x.resource, what=f"{address} to leave the pool",
                 done=lambda m: address not in m.by_address, describe=lambda m: f"members {sorted(m.by_address)}",
                 timeout=self.settings().join_timeout, interval=self.settings().poll_interval, clock=self.clock)

    def _find_sr(self, x: Xapi, key: str) -> str:
        with contextlib.suppress(NotFound):
            return str(x.read("SR.get_by_uuid", key))
        refs = x.read("SR.get_by_name_label", key)
        if len(refs) != 1:
            raise Permanent(x.resource, f"default_sr={key!r}: {len(refs)} SRs have this uuid or name-label, need 1")
        return str(refs[0])

    def _converge(self, wanted: dict[str, Any], *, eject: bool) -> dict[str, Any]:
        """Join, designate, eject, name: make the pool what `wanted` says; return its outputs."""
        x = self._open_pool(wanted)
        try:
            members = self._members(x)
            for address in wanted["hosts"]:
                if address not in members.by_address:
                    self._join(x, wanted, address)
            members = self._members(x)
            if members.master_address != wanted["master"]:
                x = self._designate(x, wanted, wanted["master"])
                members = self._members(x)
            if eject:
                for address in sorted(set(members.by_address) - set(wanted["hosts"])):
                    self._eject(x, address)
                members = self._members(x)
            if members.pool.get("name_label") != wanted["name_label"]:
                x.call("pool.set_name_label", members.pool_ref, wanted["name_label"])
            if members.pool.get("name_description") != wanted.get("name_description", ""):
                x.call("pool.set_name_description", members.pool_ref, wanted.get("name_description", ""))
            if wanted.get("default_sr"):
                sr = self._find_sr(x, wanted["default_sr"])
                if members.pool.get("default_SR") != sr:
                    x.call("pool.set_default_SR", members.pool_ref, sr)
            return self._outputs(x, wanted)
        finally:
            x.logout()

    def _outputs(self, x: Xapi, declared: Mapping[str, Any]) -> dict[str, Any]:
        members = self._members(x)
        default_sr = None
        wanted_sr = declared.get("default_sr")
        current = members.pool.get("default_SR")
        if wanted_sr is not None:
            default_sr = "" if is_null(current) else str(current)
            if not is_null(current):
                rec = x.record("SR", str(current))
                default_sr = wanted_sr if wanted_sr in (rec.get("uuid"), rec.get("name_label")) else str(rec["uuid"])
        addresses = sorted(members.by_address)
        out: dict[str, Any] = {
            "name_label": members.pool.get("name_label", ""),
            "name_description": members.pool.get("name_description", ""),
            "master": members.master_address,
            "hosts": addresses,
            "default_sr": default_sr,
            "pool_uuid": str(members.pool["uuid"]),
            "master_address": members.master_address,
            "master_url": f"http://{members.master_address}",
            "master_uuid": str(members.records[members.master_ref]["uuid"]),
            "host_uuids": [str(members.records[members.by_address[a]]["uuid"]) for a in addresses],
            "host_addresses": addresses,
        }
        for key in (*CARRIED, *PRIOR):
            if declared.get(key) is not None:
                out[key] = declared[key]
        return {k: v for k, v in out.items() if v is not None}

    # --- CRUD ---------------------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        # Adopt what is there: members already joined stay, extra members are left for an update
        # (whose preview warns before ejecting them).
        x = self._open_pool(wanted)
        try:
            pool = self._members(x).pool
        finally:
            x.logout()
        renamed = pool.get("name_label") == wanted["name_label"]  # by a run that was killed
        prior = {"prior_name_label": "" if renamed else str(pool.get("name_label", "")),
                 "prior_name_description": "" if renamed else str(pool.get("name_description", ""))}
        outputs = self._converge({**wanted, **prior}, eject=False)
        return CreateResult(outputs["pool_uuid"], outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The pool as its master sees it. Unreachable hosts are an error, not a vanished pool:
        only hosts that answer as another pool (reinstalled) make the pool read as gone."""
        declared = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        with self._reading_session(declared) as x:
            outputs = self._outputs(x, declared)
        if outputs["pool_uuid"] != id_:
            return self.gone()  # the hosts now make up another pool
        return self.read_result(id_, outputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        prior = {k: olds[k] for k in PRIOR if olds.get(k) is not None}
        return UpdateResult(self._converge({**wanted, **prior}, eject=True))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        declared = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        x = self._open_pool(declared)  # unreachable hosts fail the delete: they may still be joined
        try:
            members = self._members(x)
            if str(members.pool["uuid"]) != _id:
                return  # the hosts make up another pool now: this one is gone
            others = sorted(a for a, ref in members.by_address.items() if ref != members.master_ref)
            if others:
                warn(f"{self.label(declared)}: ejecting {others} to dissolve the pool (eject wipes those hosts)")
            for address in others:
                self._eject(x, address)
            # The master is not the program's: its pool gets back the name it had before create.
            for key, field in (("prior_name_label", "name_label"), ("prior_name_description", "name_description")):
                if declared.get(key) is not None and members.pool.get(field) != declared[key]:
                    x.call(f"pool.set_{field}", members.pool_ref, declared[key])
        finally:
            x.logout()


class Pool(Declared[PoolArgs], module="xcpng", name="Pool"):
    """An XCP-ng pool: hosts joined to a master. `master_url` is what a CloudStack cluster takes."""

    provider_type = PoolProvider
