"""`xcpng.Network`: a network of an XCP-ng pool, on every host: a VLAN, a bond, or a physical NIC.

CloudStack's traffic labels name XAPI networks by name-label, so the name-label is the handle the
cloud layer uses. Three kinds, fixed at create (a change of kind, device, tag or bond members is
a replace; name, description, MTU and bond mode change in place):

- VLAN: `device` + `vlan`: `pool.create_VLAN` puts the tagged PIF on that device of every host;
- bond: `bond_devices` + `bond_mode`: `Bond.create` on every host (a host with a bond cannot
  JOIN a pool, so networks come after the pool's joins: give the pool's outputs as inputs or
  `depends_on` the `xcpng.Pool`);
- physical: `device` alone: the network XAPI made for that NIC, adopted, renamed, its MTU set.

Create adopts what a crashed run left: a VLAN already there by tag and device, a bond network by
name-label, a network created but not yet wired. A VLAN created for this resource is undone if a
later step fails. Every create and update also wires hosts that lack the network (a host that
joined after it was made). MTU changes reach a PIF when it is next plugged, as in XAPI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pydantic import field_validator, model_validator

from providers._core import Change, Declared, NotFound, Permanent, ProviderError, arg, as_int, output
from providers._core.diff import PROVIDER_KEY

from ._base import ConnectionArgs, ConnectionChecks, XcpngProvider
from ._xapi import Xapi, is_null, xint

BondMode = Literal["balance-slb", "active-backup", "lacp"]

class NetworkChecks(ConnectionChecks):
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


TABLE = NetworkArgs.table()
CARRIED = ("address", "username", "password", "pool_uuid")


@dataclass(frozen=True)
class View:
    """The pool's network objects, read once per operation."""

    master: str
    hosts: dict[str, dict[str, Any]]
    networks: dict[str, dict[str, Any]]
    pifs: dict[str, dict[str, Any]]
    bonds: dict[str, dict[str, Any]]

    def pifs_on(self, network: str) -> dict[str, dict[str, Any]]:
        return {r: p for r, p in self.pifs.items() if p["network"] == network}

    def base_pif(self, host: str, device: str) -> str | None:
        """The untagged PIF of `device` on `host` that can carry VLANs (not a bond member)."""
        for ref, p in self.pifs.items():
            if p["host"] == host and p["device"] == device and as_int(p["VLAN"]) == -1 and is_null(
                p.get("bond_slave_of")
            ):
                return ref
        return None

    def hosts_with(self, network: str) -> set[str]:
        return {p["host"] for p in self.pifs_on(network).values()}


def read_view(x: Xapi) -> View:
    pools = x.read("pool.get_all_records")
    pool = next(iter(pools.values()))
    return View(
        str(pool["master"]),
        x.read("host.get_all_records"),
        x.read("network.get_all_records"),
        x.read("PIF.get_all_records"),
        x.read("Bond.get_all_records"),
    )


class NetworkProvider(XcpngProvider):
    args = NetworkArgs
    stable_when_unknown = ("pool_uuid",)

    # --- finding what is there ------------------------------------------------------------------
    @staticmethod
    def _existing(view: View, wanted: Mapping[str, Any]) -> str | None:
        """The network this resource is, if a previous (crashed) run or XAPI itself made it."""
        if wanted.get("bond_devices") is None and wanted.get("vlan") is None:
            for p in view.pifs.values():  # the physical NIC's own network, on the master
                if p["host"] == view.master and p["device"] == wanted["device"] and as_int(p["VLAN"]) == -1:
                    return str(p["network"])
            raise Permanent("xcpng.Network", f"device={wanted['device']!r}: no such NIC on the pool master")
        if wanted.get("vlan") is not None:
            for p in view.pifs.values():  # VLAN by tag and device, on any host
                if p["device"] == wanted["device"] and as_int(p["VLAN"]) == as_int(wanted["vlan"]):
                    return str(p["network"])
        named = [r for r, n in view.networks.items() if n.get("name_label") == wanted["name_label"]]
        for ref in named:  # created by a run that stopped before wiring it, or a bond network
            pifs = view.pifs_on(ref).values()
            if not pifs or (wanted.get("bond_devices") and any(p.get("bond_master_of") for p in pifs)):
                return ref
        return None

    # --- wiring every host ------------------------------------------------------------------------
    def _wire(self, x: Xapi, view: View, network: str, wanted: Mapping[str, Any]) -> None:
        """Put the network on every host that lacks it."""
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

    def _settle(self, x: Xapi, network: str, wanted: Mapping[str, Any]) -> None:
        """Name, description, MTU and bond mode as declared."""
        rec = x.read("network.get_record", network)
        if rec.get("name_label") != wanted["name_label"]:
            x.call("network.set_name_label", network, wanted["name_label"])
        if rec.get("name_description", "") != wanted.get("name_description", ""):
            x.call("network.set_name_description", network, wanted.get("name_description", ""))
        if as_int(rec.get("MTU", 1500)) != as_int(wanted.get("mtu", 1500)):
            x.call("network.set_MTU", network, xint(wanted.get("mtu", 1500)))
        if wanted.get("bond_mode"):
            view = read_view(x)
            for ref, bond in view.bonds.items():
                master = view.pifs.get(bond["master"])
                if master and master["network"] == network and bond.get("mode") != wanted["bond_mode"]:
                    x.run("Bond.set_mode", ref, wanted["bond_mode"], what=f"bond mode {wanted['bond_mode']}")

    def _outputs(self, x: Xapi, network: str, declared: Mapping[str, Any]) -> dict[str, Any]:
        rec = x.record("network", network)
        view = read_view(x)
        pifs = view.pifs_on(network)
        out: dict[str, Any] = {
            "name_label": rec.get("name_label", ""),
            "name_description": rec.get("name_description", ""),
            "mtu": as_int(rec.get("MTU", 1500)),
            "network_uuid": str(rec["uuid"]),
            "bridge": str(rec.get("bridge", "")),
            "host_uuids": sorted(str(view.hosts[h]["uuid"]) for h in view.hosts_with(network) if h in view.hosts),
        }
        bonds = [b for b in view.bonds.values() if b["master"] in pifs]
        vlans = [p for p in pifs.values() if as_int(p["VLAN"]) >= 0]
        if bonds:
            bond = next((b for b in bonds if pifs[b["master"]]["host"] == view.master), bonds[0])
            out["kind"] = "bond"
            out["bond_devices"] = sorted(view.pifs[s]["device"] for s in bond.get("slaves") or [] if s in view.pifs)
            out["bond_mode"] = bond.get("mode")
        elif vlans:
            out["kind"] = "vlan"
            out["device"] = vlans[0]["device"]
            out["vlan"] = as_int(vlans[0]["VLAN"])
        else:
            out["kind"] = "physical"
            physical = [p for p in pifs.values() if p.get("physical")]
            if physical:
                out["device"] = physical[0]["device"]
        for key in CARRIED:
            if declared.get(key) is not None:
                out[key] = declared[key]
        return {k: v for k, v in out.items() if v is not None}

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        with self.xapi(wanted) as x:
            self.check_pool(x, wanted)
            view = read_view(x)
            network = self._existing(view, wanted)
            made = network is None
            if network is None:
                network = str(x.call("network.create", {
                    "name_label": wanted["name_label"], "name_description": wanted.get("name_description", ""),
                    "MTU": xint(wanted.get("mtu", 1500)), "other_config": {}, "tags": [],
                }))
            try:
                self._wire(x, view, network, wanted)
                self._settle(x, network, wanted)
            except ProviderError:
                if made:
                    self._undo(x, network)
                raise
            outputs = self._outputs(x, network, wanted)
        return CreateResult(outputs["network_uuid"], outputs)

    def _undo(self, x: Xapi, network: str) -> None:
        """Remove what a failed create made, so the next create starts clean."""
        with contextlib.suppress(ProviderError):
            self._unwire(x, network)
            x.call("network.destroy", network)

    def _unwire(self, x: Xapi, network: str) -> None:
        view = read_view(x)
        pifs = view.pifs_on(network)
        for ref, bond in view.bonds.items():
            if bond["master"] in pifs:
                x.run("Bond.destroy", ref, what="Bond.destroy")
        for p in pifs.values():
            vlan = p.get("VLAN_master_of")
            if not is_null(vlan):
                x.run("VLAN.destroy", vlan, what=f"VLAN.destroy of tag {p.get('VLAN')}")

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        declared = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        with self.xapi(declared) as x:
            self.check_pool(x, declared)
            network = self.by_uuid(x, "network", id_)
            if network is None:
                return self.gone()
            return self.read_result(id_, self._outputs(x, network, declared))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        with self.xapi(wanted) as x:
            self.check_pool(x, wanted)
            network = self.by_uuid(x, "network", id_)
            if network is None:
                raise NotFound(x.resource, f"network {id_} is gone; run `pulumi refresh` to recreate it")
            self._wire(x, read_view(x), network, wanted)
            self._settle(x, network, wanted)
            return UpdateResult(self._outputs(x, network, wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        declared = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        with self.xapi(declared) as x:
            self.check_pool(x, declared)
            network = self.by_uuid(x, "network", id_)
            if network is None:
                return
            kind = declared.get("kind") or (
                "bond" if declared.get("bond_devices") else "vlan" if declared.get("vlan") is not None else "physical"
            )
            if kind == "physical":
                return  # a NIC's own network belongs to XAPI: left as it is
            self._unwire(x, network)
            x.call("network.destroy", network)


class Network(Declared[NetworkArgs], module="xcpng", name="Network"):
    """A network of an XCP-ng pool, present on every host."""

    provider_type = NetworkProvider
