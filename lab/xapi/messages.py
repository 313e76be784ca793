"""The messages the emulator serves: explicit handlers, the event API and the implicit accessors.

Explicit handlers take exactly the datamodel's parameter names (checked by `check_conformance`);
the implicit accessors (get_record, get_<field>, set_<field>, add_to_<map> ...) of the modelled
classes are made from the field table. `HANDLERS` is the registry (lab.emu.registry) the dispatcher
(responses.py) looks messages up in.
"""

from __future__ import annotations

import inspect
import keyword
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.emu.registry import Registry
from lab.xapi.datamodel import NULL_REF, Datamodel, MessageSpec, Wire, datamodel
from lab.xapi.errors import XapiError, handle_invalid
from lab.xapi.events import Event, Registration, Subscription, parse_token, subscriptions
from lab.xapi.events import token as event_token
from lab.xapi.models import SR_DRIVERS, Db, Node, World

MODELLED = ("session", "pool", "host", "host_metrics", "network", "PIF", "Bond", "VLAN", "SR", "PBD", "task",
            "VM", "VDI", "VBD", "VIF")  # the last four: lab/xapi/vms.py
# The classes whose messages are served: the modelled objects, and the event API on them.
SERVED_CLASSES = (*MODELLED, "event")


@dataclass
class Ctx:
    world: World
    node: Node
    db: Db
    session: str
    wire: Wire


Handler = Callable[..., Any]


def _in_datamodel(wire_name: str) -> str | None:
    return None if datamodel().message(wire_name) is not None else "not a message of the modelled classes"


HANDLERS: Registry[Handler] = Registry("XenAPI message", _in_datamodel)


def message(wire_name: str) -> Callable[[Handler], Handler]:
    """Register an explicit handler; its parameters are checked against the datamodel by `check_conformance`."""
    return HANDLERS(wire_name)


# --- explicit handlers (parameter names = datamodel names) -------------------------------------


@message("session.logout")
def session_logout(ctx: Ctx) -> None:
    ctx.world.logout(ctx.db, ctx.session)


@message("session.local_logout")
def session_local_logout(ctx: Ctx) -> None:
    ctx.world.logout(ctx.db, ctx.session)


@message("pool.join")
def pool_join(ctx: Ctx, master_address: str, master_username: str, master_password: str) -> None:
    ctx.world.pool_join(ctx.node, master_address, master_username, master_password)


@message("pool.eject")
def pool_eject(ctx: Ctx, host: str) -> None:
    ctx.world.pool_eject(ctx.db, host)


@message("pool.designate_new_master")
def pool_designate_new_master(ctx: Ctx, host: str) -> None:
    ctx.world.designate_new_master(ctx.db, host)


@message("pool.create_VLAN")
def pool_create_vlan(ctx: Ctx, device: str, network: str, VLAN: int) -> list[str]:
    return ctx.world.pool_create_vlan(ctx.db, device, network, VLAN)


@message("pool.create_VLAN_from_PIF")
def pool_create_vlan_from_pif(ctx: Ctx, pif: str, network: str, VLAN: int) -> list[str]:
    return ctx.world.pool_create_vlan(ctx.db, ctx.db.get("PIF", pif)["device"], network, VLAN)


@message("pool.join_force")
def pool_join_force(ctx: Ctx, master_address: str, master_username: str, master_password: str) -> None:
    ctx.world.pool_join(ctx.node, master_address, master_username, master_password)


@message("host.disable")
def host_disable(ctx: Ctx, host: str, auto_enable: bool = True) -> None:
    del auto_enable  # no VMs are modelled: nothing is ever auto-enabled
    ctx.db.get("host", host)["enabled"] = False


@message("host.enable")
def host_enable(ctx: Ctx, host: str) -> None:
    ctx.db.get("host", host)["enabled"] = True


@message("host.assert_can_evacuate")
def host_assert_can_evacuate(ctx: Ctx, host: str) -> None:
    ctx.db.get("host", host)  # no VMs are modelled, so there is never anything to move


@message("host.evacuate")
def host_evacuate(ctx: Ctx, host: str, network: str = NULL_REF, evacuate_batch_size: int = 0) -> None:
    del network, evacuate_batch_size  # no VMs are modelled, so there is nothing to move
    ctx.db.get("host", host)


@message("host.get_servertime")
def host_get_servertime(ctx: Ctx, host: str) -> str:
    ctx.db.get("host", host)
    return ctx.world.clock.stamp()


@message("host.get_management_interface")
def host_get_management_interface(ctx: Ctx, host: str) -> str:
    ctx.db.get("host", host)
    refs = ctx.db.refs("PIF", host=host, management=True)
    if not refs:
        raise XapiError("PIF_HAS_NO_NETWORK_CONFIGURATION", NULL_REF)
    return refs[0]


@message("host.get_server_localtime")
def host_get_server_localtime(ctx: Ctx, host: str) -> str:
    ctx.db.get("host", host)
    return ctx.world.clock.stamp()


@message("network.create")
def network_create(ctx: Ctx, args: dict[str, Any]) -> str:
    return ctx.world.network_create(ctx.db, args)


@message("network.destroy")
def network_destroy(ctx: Ctx, self: str) -> None:
    ctx.world.network_destroy(ctx.db, self)


@message("network.set_MTU")
def network_set_mtu(ctx: Ctx, self: str, value: int) -> None:
    ctx.world.network_set_mtu(ctx.db, self, value)


@message("VLAN.create")
def vlan_create(ctx: Ctx, tagged_PIF: str, tag: int, network: str) -> str:
    return ctx.world.vlan_create(ctx.db, tagged_PIF, tag, network)


@message("VLAN.destroy")
def vlan_destroy(ctx: Ctx, self: str) -> None:
    ctx.world.vlan_destroy(ctx.db, self)


@message("PIF.create_VLAN")
def pif_create_vlan(ctx: Ctx, device: str, network: str, host: str, VLAN: int) -> str:
    tagged = ctx.db.refs("PIF", host=host, device=device, VLAN=-1)
    if not tagged:
        raise XapiError("PIF_DEVICE_NOT_FOUND")
    vlan = ctx.world.vlan_create(ctx.db, tagged[0], VLAN, network)
    return str(ctx.db.get("VLAN", vlan)["untagged_PIF"])


@message("PIF.destroy")
def pif_destroy(ctx: Ctx, self: str) -> None:
    ctx.world.pif_destroy(ctx.db, self)


@message("PIF.plug")
def pif_plug(ctx: Ctx, self: str) -> None:
    ctx.world.pif_plug(ctx.db, self, True)


@message("PIF.unplug")
def pif_unplug(ctx: Ctx, self: str) -> None:
    ctx.world.pif_plug(ctx.db, self, False)


@message("PIF.reconfigure_ip")
def pif_reconfigure_ip(ctx: Ctx, self: str, mode: str, IP: str, netmask: str, gateway: str,
                       DNS: str) -> None:
    ctx.db.get("PIF", self).update(ip_configuration_mode=mode, IP=IP, netmask=netmask, gateway=gateway, DNS=DNS)


@message("Bond.create")
def bond_create(ctx: Ctx, network: str, members: list[str], MAC: str, mode: str = "balance-slb",
                properties: dict[str, str] | None = None) -> str:
    return ctx.world.bond_create(ctx.db, network, members, MAC, mode, properties or {})


@message("Bond.destroy")
def bond_destroy(ctx: Ctx, self: str) -> None:
    ctx.world.bond_destroy(ctx.db, self)


@message("Bond.set_mode")
def bond_set_mode(ctx: Ctx, self: str, value: str) -> None:
    ctx.world.bond_set_mode(ctx.db, self, value)


@message("SR.create")
def sr_create(ctx: Ctx, host: str, device_config: dict[str, str], physical_size: int, name_label: str,
              name_description: str, type: str, content_type: str, shared: bool,
              sm_config: dict[str, str] | None = None) -> str:
    return ctx.world.sr_create(ctx.db, host, device_config, physical_size, name_label, name_description, type,
                               content_type, shared, sm_config)


@message("SR.introduce")
def sr_introduce(ctx: Ctx, uuid: str, name_label: str, name_description: str, type: str, content_type: str,
                 shared: bool, sm_config: dict[str, str] | None = None) -> str:
    return ctx.world.sr_introduce(ctx.db, uuid, name_label, name_description, type, content_type, shared, sm_config)


@message("SR.forget")
def sr_forget(ctx: Ctx, sr: str) -> None:
    ctx.world.sr_forget(ctx.db, sr)


@message("SR.destroy")
def sr_destroy(ctx: Ctx, sr: str) -> None:
    ctx.world.sr_destroy(ctx.db, sr)


@message("SR.scan")
def sr_scan(ctx: Ctx, sr: str) -> None:
    ctx.db.get("SR", sr)


@message("SR.update")
def sr_update(ctx: Ctx, sr: str) -> None:
    ctx.db.get("SR", sr)


@message("SR.set_name_label")
def sr_set_name_label(ctx: Ctx, sr: str, value: str) -> None:
    ctx.db.get("SR", sr)["name_label"] = value


@message("SR.set_name_description")
def sr_set_name_description(ctx: Ctx, sr: str, value: str) -> None:
    ctx.db.get("SR", sr)["name_description"] = value


@message("SR.set_shared")
def sr_set_shared(ctx: Ctx, sr: str, value: bool) -> None:
    ctx.db.get("SR", sr)["shared"] = value


@message("SR.get_supported_types")
def sr_get_supported_types(_ctx: Ctx) -> list[str]:
    return sorted(SR_DRIVERS)


@message("PBD.create")
def pbd_create(ctx: Ctx, args: dict[str, Any]) -> str:
    return ctx.world.pbd_create(ctx.db, args)


@message("PBD.destroy")
def pbd_destroy(ctx: Ctx, self: str) -> None:
    ctx.world.pbd_destroy(ctx.db, self)


@message("PBD.plug")
def pbd_plug(ctx: Ctx, self: str) -> None:
    ctx.world.pbd_transition(ctx.db, self, "plug")


@message("PBD.unplug")
def pbd_unplug(ctx: Ctx, self: str) -> None:
    ctx.world.pbd_transition(ctx.db, self, "unplug")


@message("PBD.set_device_config")
def pbd_set_device_config(ctx: Ctx, self: str, value: dict[str, str]) -> None:
    ctx.db.get("PBD", self)["device_config"] = dict(value)


@message("task.cancel")
def task_cancel(ctx: Ctx, task: str) -> None:
    ctx.world.cancel_task(ctx.db, task)


@message("task.destroy")
def task_destroy(ctx: Ctx, self: str) -> None:
    ctx.world.destroy_task(ctx.db, self)


# --- events (events.py): event.from with tokens, the legacy register/next, inject -----------------

EVENT_WAIT_MAX = 300.0  # seconds an event.from may wait, whatever timeout it asks for
EVENT_NEXT_WAIT = 60.0  # event.next waits for events this long, then answers none


def _wait_for_events(ctx: Ctx, since: int, subs: list[Subscription], seconds: float) -> list[Event]:
    """The events after `since` on what `subs` cover, waiting up to `seconds` (real time) for one.
    The world's lock is released while waiting, so other calls run and wake the waiter."""
    deadline = time.monotonic() + max(0.0, min(seconds, EVENT_WAIT_MAX))
    while True:
        ctx.world.sync_events(ctx.db)
        events = ctx.db.events.since(since, subs, ctx.db.record)
        remaining = deadline - time.monotonic()
        if events or remaining <= 0:
            return events
        ctx.world.changed.wait(remaining)


@message("event.from")
def event_from(ctx: Ctx, classes: list[str], token: str, timeout: float) -> dict[str, Any]:
    subs, since = subscriptions(classes), parse_token(token)
    events = _wait_for_events(ctx, since, subs, timeout)
    return {"events": [e.as_record() for e in events], "valid_ref_counts": ctx.db.events.counts(subs),
            "token": event_token(ctx.db.events.generation)}


@message("event.register")
def event_register(ctx: Ctx, classes: list[str]) -> None:
    subs = subscriptions(classes)
    ctx.world.sync_events(ctx.db)
    reg = ctx.world.registrations.setdefault(ctx.session, Registration([], ctx.db.events.generation))
    reg.subs.extend(s for s in subs if s not in reg.subs)


@message("event.unregister")
def event_unregister(ctx: Ctx, classes: list[str]) -> None:
    subs = subscriptions(classes)
    reg = ctx.world.registrations.get(ctx.session)
    if reg is not None:
        reg.subs = [s for s in reg.subs if s not in subs]


@message("event.next")
def event_next(ctx: Ctx) -> list[dict[str, Any]]:
    reg = ctx.world.registrations.get(ctx.session)
    if reg is None:
        raise XapiError("SESSION_NOT_REGISTERED", ctx.session)
    events = _wait_for_events(ctx, reg.since, reg.subs, EVENT_NEXT_WAIT)
    reg.since = max([reg.since, *(e.id for e in events)])
    return [e.as_record() for e in events]


@message("event.get_current_id")
def event_get_current_id(ctx: Ctx) -> int:
    ctx.world.sync_events(ctx.db)
    return ctx.db.events.generation


@message("event.inject")
def event_inject(ctx: Ctx, class_: str, ref: str) -> str:
    """A `mod` event on the object, whatever changed; its token (what xen-api starts event.from with)."""
    cls = next((c for c in ctx.db.tables if c.lower() == class_.lower()), class_)
    if not ctx.db.has(cls, ref):
        raise handle_invalid(class_, ref)
    ctx.world.sync_events(ctx.db)
    return event_token(ctx.db.events.touch(ref, ctx.world.clock.stamp()))


# --- generic implicit accessors ------------------------------------------------------------------


def _get_all(cls: str) -> Handler:
    return lambda ctx: list(ctx.db.tables[cls])


def _get_all_records(cls: str) -> Handler:
    return lambda ctx: {r: ctx.db.record(cls, r) for r in ctx.db.tables[cls]}


def _get_record(cls: str) -> Handler:
    return lambda ctx, self: ctx.db.record(cls, self)


def _get_by_uuid(cls: str) -> Handler:
    def by_uuid(ctx: Ctx, uuid: str) -> str:
        for r, rec in ctx.db.tables[cls].items():
            if rec["uuid"] == uuid:
                return r
        raise XapiError("UUID_INVALID", cls, uuid)
    return by_uuid


def _get_by_name_label(cls: str) -> Handler:
    return lambda ctx, label: ctx.db.refs(cls, name_label=label)


# Implicit messages named in full: name -> handler factory for a class.
WHOLE: dict[str, Callable[[str], Handler]] = {
    "get_all": _get_all,
    "get_all_records": _get_all_records,
    "get_record": _get_record,
    "get_by_uuid": _get_by_uuid,
    "get_by_name_label": _get_by_name_label,
}


def _getter(cls: str, fname: str, _ftype: str) -> Handler:
    return lambda ctx, self: ctx.db.record(cls, self)[fname]


def _setter(cls: str, fname: str, ftype: str) -> Handler:
    def setter(ctx: Ctx, self: str, value: Any) -> None:
        rec = ctx.db.get(cls, self)
        if ftype.endswith(" ref") and value != NULL_REF:
            target = ftype[: -len(" ref")]
            if target in ctx.db.tables and not ctx.db.has(target, value):
                raise handle_invalid(target, value)
        rec[fname] = value
    return setter


def _add_to(cls: str, fname: str, _ftype: str) -> Handler:
    def add_to(ctx: Ctx, self: str, key: str, value: str) -> None:
        rec = ctx.db.get(cls, self)
        if key in rec[fname]:
            raise XapiError("MAP_DUPLICATE_KEY", cls, fname, rec["uuid"], key)
        rec[fname][key] = value
    return add_to


def _remove_from(cls: str, fname: str, _ftype: str) -> Handler:
    return lambda ctx, self, key: ctx.db.get(cls, self)[fname].pop(key, None) and None


def _add(cls: str, fname: str, _ftype: str) -> Handler:
    def add(ctx: Ctx, self: str, value: Any) -> None:
        rec = ctx.db.get(cls, self)
        if value not in rec[fname]:
            rec[fname].append(value)
    return add


def _remove(cls: str, fname: str, _ftype: str) -> Handler:
    def remove(ctx: Ctx, self: str, value: Any) -> None:
        rec = ctx.db.get(cls, self)
        if value in rec[fname]:
            rec[fname].remove(value)
    return remove


# Implicit messages on one field: prefix -> handler factory (class, field, field type). Longer
# prefixes first: "add_to_" before "add_", "remove_from_" before "remove_".
PER_FIELD: tuple[tuple[str, Callable[[str, str, str], Handler]], ...] = (
    ("get_", _getter),
    ("set_", _setter),
    ("add_to_", _add_to),
    ("remove_from_", _remove_from),
    ("add_", _add),
    ("remove_", _remove),
)


def implicit(dm: Datamodel, spec: MessageSpec) -> Handler | None:
    """A handler for an implicit getter/setter of a modelled class, or None."""
    if not spec.implicit or spec.cls not in MODELLED:
        return None
    cls, name, fields = spec.cls, spec.name, dm.classes[spec.cls].fields
    if name in WHOLE:
        return WHOLE[name](cls)
    for prefix, factory in PER_FIELD:
        fname = name[len(prefix):]
        if name.startswith(prefix) and fname in fields:
            return factory(cls, fname, fields[fname].type)
    return None


def handler_for(dm: Datamodel, spec: MessageSpec) -> Handler | None:
    return HANDLERS.get(spec.wire_name) or implicit(dm, spec)


def served_messages(dm: Datamodel) -> dict[str, MessageSpec]:
    """Every message the emulator answers (other than with NOT_IMPLEMENTED), by wire name."""
    out = {"session.login_with_password": dm.classes["session"].messages["login_with_password"]}
    for cls in SERVED_CLASSES:
        for spec in dm.classes[cls].messages.values():
            if handler_for(dm, spec) is not None:
                out[spec.wire_name] = spec
    return out


def check_conformance(dm: Datamodel) -> list[str]:
    """Problems: explicit handlers whose name or parameters differ from the datamodel."""
    problems = []
    for wire_name, fn in HANDLERS.items():
        spec = dm.message(wire_name)
        if spec is None:
            problems.append(f"{wire_name}: not in the datamodel")
            continue
        # A datamodel name that is a Python keyword (event.inject's `class`) is spelt with a trailing "_".
        names = [n[:-1] if n.endswith("_") and keyword.iskeyword(n[:-1]) else n
                 for n in list(inspect.signature(fn).parameters)[1:]]
        expected = [p.name for p in spec.call_params]
        if names != expected:
            problems.append(f"{wire_name}: handler takes {names}, datamodel says {expected}")
    return problems
