"""`xcpng.Network`: a network of an XCP-ng pool, on every host: a VLAN, a bond, or a physical NIC.

CloudStack's traffic labels name XAPI networks by name-label, so the name-label is the handle the
cloud layer uses. Three kinds, fixed at create (a change of kind, device, tag or bond members is
a replace; name, description, MTU and bond mode change in place):

- VLAN: `device` + `vlan`: `pool.create_VLAN` puts the tagged PIF on that device of every host;
- bond: `bond_devices` + `bond_mode`: `Bond.create` on every host (a host with a bond cannot
  JOIN a pool, so networks come after the pool's joins: give the pool's outputs as inputs or
  `depends_on` the `xcpng.Pool`);
- physical: `device` alone: the network XAPI made for that NIC, adopted, renamed, its MTU set,
  and left to XAPI on delete.

The lifecycle is the core's (`OnPool`): `find` adopts what a crashed run left (a VLAN already
there by tag and device, a bond network by name-label, a network created but not yet wired);
`undo` removes a network this create made if a later step fails; `converge_ref`, on every create
and update, wires hosts that lack the network (a host that joined after it was made) and sets its
fields. MTU changes reach a PIF when it is next plugged, as in XAPI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Literal

import pulumi
from pydantic import field_validator, model_validator
from typing_extensions import override

from providers._core import Change, Declared, Obj, Permanent, ProviderError, arg, as_int, output
from providers._core.declare import PulumiInputsBase

from ._base import ConnectionArgs, OnPool, View, set_fields
from ._xapi import Xapi, is_null, xint

BondMode = Literal["balance-slb", "active-backup", "lacp"]

class NetworkChecks(PulumiInputsBase):
    """At least two distinct bond devices; a bond, or a device (with a VLAN tag), not both."""

    @field_validator("bond_devices", check_fields=False)
    @classmethod
    def _bond_devices(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if len(value) < 2:
            raise ValueError("a bond needs at least two devices")
        if len(set(value)) != len(value):
            raise ValueError("a device is listed more than once")
        return sorted(value)

    @model_validator(mode="after")
    def _one_kind(self) -> Any:
        values = self.__dict__
        if values.get("bond_devices") is not None:
            if values.get("device") is not None or values.get("vlan") is not None:
                raise ValueError("give either bond_devices (a bond) or device (and vlan), not both")
            if values.get("bond_mode") is None:
                self.__dict__["bond_mode"] = "balance-slb"
        else:
            if values.get("device") is None:
                raise ValueError("give device (with vlan for a VLAN) or bond_devices")
            if values.get("bond_mode") is not None:
                raise ValueError("bond_mode applies to bond_devices only")
        return self


class NetworkArgs(ConnectionArgs, resource="xcpng.Network", delete_before_replace=True, checks=NetworkChecks):
    """A pool-wide network: a VLAN on a device, a bond of devices, or a physical device's network.

    Deleted before its replacement: a VLAN tag on a device, and a NIC in a bond, exist once per host.
    """

    pool_uuid: pulumi.Input[str] | None = None
    """`xcpng.Pool.pool_uuid`: checked, and orders the network after the pool's joins."""
    name_label: pulumi.Input[str] = arg(min_length=1)
    """Name-label of the network, as CloudStack traffic labels name it; renamed in place."""
    name_description: pulumi.Input[str] = ""
    """Description."""
    mtu: pulumi.Input[int] = arg(default=1500, api="MTU", normalize=as_int, ge=68, le=9216)
    """MTU in octets (1500, or 9000 for jumbo frames); changed in place."""
    device: pulumi.Input[str] | None = arg(default=None, change=Change.REPLACE, min_length=1)
    """Device (eth1, bond0) of a VLAN, or a NIC whose own network this is; a change replaces."""
    vlan: pulumi.Input[int] | None = arg(default=None, change=Change.REPLACE, normalize=as_int, ge=1, le=4094)
    """802.1Q tag of a VLAN on `device`; a change replaces."""
    bond_devices: pulumi.Input[list[pulumi.Input[str]]] | None = arg(
        default=None, change=Change.REPLACE, normalize=sorted, check=list[str]
    )
    """NICs bonded on every host; a change replaces."""
    bond_mode: pulumi.Input[str] | None = arg(default=None, check=BondMode)
    """balance-slb (default for a bond), active-backup or lacp; changed in place."""
    network_uuid: pulumi.Output[str] = output()
    """uuid of the network."""
    bridge: pulumi.Output[str] = output()
    """Its bridge on the hosts (xapi1, ...)."""
    kind: pulumi.Output[str] = output()
    """vlan, bond or physical."""
    host_uuids: pulumi.Output[list[str]] = output()
    """The hosts the network is on."""


CARRIED = ("address", "username", "password", "pool_uuid")


def kind_of(view: View, pifs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the network is, from its PIFs: a bond (its members and mode), a VLAN (device and tag)
    or a physical NIC's network."""
    bonds = [b for b in view.bonds.values() if b["master"] in pifs]
    vlans = [p for p in pifs.values() if as_int(p["VLAN"]) >= 0]
    if bonds:
        bond = next((b for b in bonds if pifs[b["master"]]["host"] == view.master), bonds[0])
        members = sorted(view.pifs[s]["device"] for s in bond.get("slaves") or [] if s in view.pifs)
        return {"kind": "bond", "bond_devices": members, "bond_mode": bond.get("mode")}
    if vlans:
        return {"kind": "vlan", "device": vlans[0]["device"], "vlan": as_int(vlans[0]["VLAN"])}
    physical = [p for p in pifs.values() if p.get("physical")]
    return {"kind": "physical", "device": physical[0]["device"] if physical else None}


class NetworkProvider(OnPool):
    args = NetworkArgs
    cls = "network"

    @override
    def find(self, client: Xapi, wanted: Obj) -> Obj | None:
        """The network this resource is, if a previous (crashed) run or XAPI itself made it."""
        view = View(client)
        if wanted.get("bond_devices") is None and wanted.get("vlan") is None:
            for p in view.pifs.values():  # the physical NIC's own network, on the master
                if p["host"] == view.master and p["device"] == wanted["device"] and as_int(p["VLAN"]) == -1:
                    return self.record(client, str(p["network"]))
            raise Permanent("xcpng.Network", f"device={wanted['device']!r}: no such NIC on the pool master")
        if wanted.get("vlan") is not None:
            for p in view.pifs.values():  # VLAN by tag and device, on any host
                if p["device"] == wanted["device"] and as_int(p["VLAN"]) == as_int(wanted["vlan"]):
                    return self.record(client, str(p["network"]))
        named = [r for r, n in view.networks.items() if n.get("name_label") == wanted["name_label"]]
        for ref in named:  # created by a run that stopped before wiring it, or a bond network
            pifs = view.pifs_on(ref).values()
            if not pifs or (wanted.get("bond_devices") and any(p.get("bond_master_of") for p in pifs)):
                return self.record(client, ref)
        return None

    @override
    def make(self, client: Xapi, wanted: Obj) -> Obj:
        return self.record(client, str(client.call("network.create", {
            "name_label": wanted["name_label"], "name_description": wanted.get("name_description", ""),
            "MTU": xint(wanted.get("mtu", 1500)), "other_config": {}, "tags": [],
        })))

    @override
    def undo(self, client: Xapi, obj: Obj) -> None:
        with contextlib.suppress(ProviderError):  # the next create starts clean
            self.destroy(client, obj)

    def _wire(self, x: Xapi, network: str, wanted: Mapping[str, Any]) -> None:
        """Put the network on every host that lacks it."""
        view = View(x)
        missing = [h for h in view.hosts if h not in view.hosts_with(network)]
        if not missing:
            return
        if wanted.get("vlan") is not None:
            tag = as_int(wanted["vlan"])
            if len(missing) == len(view.hosts):
                x.run("pool.create_VLAN", wanted["device"], network, xint(tag),
                      what=f"VLAN {tag} on {wanted['device']}")
                return
            for host in missing:
                pif = view.base_pif(host, wanted["device"])
                if pif is None:
                    address = view.hosts[host]["address"]
                    raise Permanent(x.resource, f"host {address} has no device {wanted['device']!r}")
                x.run("VLAN.create", pif, xint(tag), network, what=f"VLAN {tag} on {view.hosts[host]['address']}")
        elif wanted.get("bond_devices") is not None:
            for host in missing:
                members = [view.base_pif(host, d) for d in wanted["bond_devices"]]
                if any(m is None for m in members):
                    raise Permanent(
                        x.resource,
                        f"host {view.hosts[host]['address']} lacks free devices {wanted['bond_devices']} to bond",
                    )
                x.run("Bond.create", network, members, "", wanted["bond_mode"], {},
                      what=f"bond {wanted['bond_devices']} on {view.hosts[host]['address']}")

    @override
    def converge_ref(self, x: Xapi, ref: str, changed: set[str], wanted: Obj) -> None:
        self._wire(x, ref, wanted)
        set_fields(x, "network", ref, x.read("network.get_record", ref), {
            "name_label": wanted["name_label"], "name_description": wanted.get("name_description", ""),
            "MTU": xint(wanted.get("mtu", 1500))})
        if wanted.get("bond_mode"):
            view = View(x)
            for bond_ref, bond in view.bonds.items():
                master = view.pifs.get(bond["master"])
                if master and master["network"] == ref and bond.get("mode") != wanted["bond_mode"]:
                    x.run("Bond.set_mode", bond_ref, wanted["bond_mode"], what=f"bond mode {wanted['bond_mode']}")

    @override
    def outputs(self, client: Xapi, obj: Obj, carried: Obj) -> Obj:
        view = View(client)
        pifs = view.pifs_on(obj["ref"])
        hosts_with = view.hosts_with(obj["ref"])
        return {
            "name_label": obj.get("name_label", ""),
            "name_description": obj.get("name_description", ""),
            "mtu": as_int(obj.get("MTU", 1500)),
            "network_uuid": str(obj["uuid"]),
            "bridge": str(obj.get("bridge", "")),
            "host_uuids": sorted(str(view.hosts[h]["uuid"]) for h in hosts_with if h in view.hosts),
            **kind_of(view, pifs),
            **{k: carried.get(k) for k in CARRIED},  # None: dropped (`managed`)
        }

    @override
    def destroy(self, client: Xapi, obj: Obj) -> None:
        view = View(client)
        pifs = view.pifs_on(obj["ref"])
        if pifs and kind_of(view, pifs)["kind"] == "physical":
            return  # a NIC's own network belongs to XAPI
        for ref, bond in view.bonds.items():
            if bond["master"] in pifs:
                client.run("Bond.destroy", ref, what="Bond.destroy")
        for p in pifs.values():
            if not is_null(p.get("VLAN_master_of")):
                client.run("VLAN.destroy", p["VLAN_master_of"], what=f"VLAN.destroy of tag {p.get('VLAN')}")
        client.call("network.destroy", obj["ref"])


class Network(Declared[NetworkArgs], module="xcpng", name="Network"):
    """A network of an XCP-ng pool, present on every host."""

    provider_type = NetworkProvider
