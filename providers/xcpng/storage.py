"""`xcpng.SharedSR`: a shared SR on an XCP-ng pool, plugged on every host, optionally the default.

This is how Ceph storage reaches XCP-ng (CloudStack takes RBD primary storage for KVM only): a
CephFS directory through XCP-ng's own `cephfs` driver (device-config server, serverpath,
serverport, options `name=<client>,secretfile=<path>`: the secret file must be on every host
first), an NFS export (CephFS/NFS-Ganesha) as `nfs`, or an iSCSI gateway LUN as `lvmoiscsi`,
registered in CloudStack afterwards as PreSetup, NFS or iSCSI primary storage. The iSCSI CHAP
password is a separate secret input merged into device_config as `chappassword`.

The lifecycle is the core's (`OnPool`) with these hooks:

- `find`/`make`: an SR with the same name-label and type is adopted (a crashed run), else
  `SR.create` on the master with `shared=true` (XAPI makes a PBD per host); `undo` forgets an SR
  this create made (never destroys it) when a later step fails;
- `converge_ref` (create and update): name and description in place; a new `device_config` or
  CHAP password applied the XAPI way (every PBD unplugged, `PBD.set_device_config`, plugged
  again); a PBD created and plugged on every host; the pool default when asked. `type` replaces;
- `outputs`: `device_config` is what is in effect on EVERY host: a host without a plugged PBD (a
  cephfs key revoked, a host that joined later) makes it read as {} so the next update re-plugs
  everywhere; `host_uuids` lists the hosts whose PBD is plugged;
- `destroy`: PBDs unplugged, then `SR.forget` (the data stays on the storage), or `SR.destroy`
  when `destroy_on_delete` is set (the data is deleted).
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
from ._xapi import NULL_REF, Xapi, xint

SrType = Literal["cephfs", "nfs", "lvmoiscsi"]

# device_config keys each SM driver requires (xcp-ng sm: CephFSSR.py, NFSSR.py, LVMoISCSISR.py).
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "cephfs": ("server", "serverpath", "options"),
    "nfs": ("server", "serverpath"),
    "lvmoiscsi": ("target", "targetIQN", "SCSIid"),
}
SECRET_KEYS = ("chappassword", "chappassword_secret")

class SharedSRChecks(PulumiInputsBase):
    """The driver's keys present; the CHAP password only as chap_password, only for iSCSI."""

    @field_validator("device_config", mode="before", check_fields=False)
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if isinstance(value, dict):  # the engine sends numbers (a port) as floats
            return {k: str(int(v)) if isinstance(v, float) and v.is_integer() else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _driver_keys(self) -> Any:
        values = self.__dict__
        kind, config = values["type"], values["device_config"]
        missing = [k for k in REQUIRED_KEYS[kind] if not config.get(k)]
        if missing:
            raise ValueError(f"device_config of a {kind} SR needs {missing}")
        secret = [k for k in SECRET_KEYS if k in config]
        if secret:
            raise ValueError(f"give the CHAP password as chap_password (secret), not device_config{secret}")
        if values.get("chap_password") is not None and kind != "lvmoiscsi":
            raise ValueError("chap_password applies to lvmoiscsi only")
        return self


class SharedSRArgs(ConnectionArgs, resource="xcpng.SharedSR", delete_before_replace=True, checks=SharedSRChecks):
    """A shared SR: CephFS, NFS or iSCSI (LVM over iSCSI), plugged on every host of the pool.

    Deleted before its replacement: the same storage cannot hold two SRs of one name.
    """

    pool_uuid: pulumi.Input[str] | None = None
    """`xcpng.Pool.pool_uuid`: checked, and orders the SR after the pool's joins."""
    name_label: pulumi.Input[str] = arg(min_length=1)
    """Name-label of the SR; renamed in place; an SR with this name and type is adopted."""
    name_description: pulumi.Input[str] = ""
    """Description."""
    type: pulumi.Input[str] = arg(change=Change.REPLACE, check=SrType)
    """cephfs, nfs or lvmoiscsi (how Ceph storage reaches XCP-ng); a change replaces the SR."""
    device_config: pulumi.Input[dict[str, pulumi.Input[str]]] = arg(check=dict[str, str])
    """SM configuration (cephfs: server, serverpath, options `name=<client>,secretfile=<path>`[, serverport];
    nfs: server, serverpath[, nfsversion]; lvmoiscsi: target, targetIQN, SCSIid[, port, chapuser]); changed by
    re-plugging."""
    chap_password: pulumi.Input[str] | None = arg(default=None, secret=True)
    """iSCSI CHAP password (secret)."""
    make_default: pulumi.Input[bool] = False
    """Make this SR the pool's default SR."""
    destroy_on_delete: pulumi.Input[bool] = False
    """On delete, SR.destroy (deletes the data) instead of SR.forget."""
    sr_uuid: pulumi.Output[str] = output()
    """uuid of the SR."""
    physical_size: pulumi.Output[int] = output()
    """Size in bytes."""
    host_uuids: pulumi.Output[list[str]] = output()
    """The hosts the SR is plugged on."""


CARRIED = ("address", "username", "password", "pool_uuid", "chap_password", "destroy_on_delete")


def full_config(wanted: Mapping[str, Any]) -> dict[str, str]:
    """device_config as the SM driver gets it: the CHAP password merged in."""
    config = {k: str(v) for k, v in (wanted.get("device_config") or {}).items()}
    if wanted.get("chap_password"):
        config["chappassword"] = str(wanted["chap_password"])
    return config


class SharedSRProvider(OnPool):
    args = SharedSRArgs
    cls = "SR"

    @override
    def find(self, client: Xapi, wanted: Obj) -> Obj | None:
        refs = [str(r) for r in client.read("SR.get_by_name_label", wanted["name_label"])]
        same = [r for r in refs if client.read("SR.get_record", r).get("type") == wanted["type"]]
        if len(same) > 1:
            raise Permanent(client.resource, f"{len(same)} {wanted['type']} SRs are named {wanted['name_label']!r}")
        return self.record(client, same[0]) if same else None

    @override
    def make(self, client: Xapi, wanted: Obj) -> Obj:
        return self.record(client, str(client.run(
            "SR.create", View(client).master, full_config(wanted), xint(0), wanted["name_label"],
            wanted.get("name_description", ""), wanted["type"], "user", True, {},
            what=f"SR.create of {wanted['type']} SR {wanted['name_label']!r}",
        )))

    @override
    def undo(self, client: Xapi, obj: Obj) -> None:
        with contextlib.suppress(ProviderError):
            self._unplug_everywhere(client, obj["ref"])
            client.run("SR.forget", obj["ref"], what="SR.forget (undo)")

    def _plug_everywhere(self, x: Xapi, sr: str, config: dict[str, str]) -> None:
        """A PBD on every host, each plugged."""
        view = View(x)
        hosts, pbds = view.hosts, view.pbds_on(sr)
        covered = {p["host"] for p in pbds.values()}
        for host in hosts:
            if host not in covered:
                ref = str(x.call("PBD.create", {"host": host, "SR": sr, "device_config": config, "other_config": {}}))
                pbds[ref] = {"host": host, "currently_attached": False}
        for ref, pbd in pbds.items():
            if not pbd.get("currently_attached"):
                address = hosts.get(pbd["host"], {}).get("address", pbd["host"])
                x.run("PBD.plug", ref, what=f"PBD.plug on {address}")

    def _unplug_everywhere(self, x: Xapi, sr: str) -> list[str]:
        pbds = View(x).pbds_on(sr)
        for ref, pbd in pbds.items():
            if pbd.get("currently_attached"):
                x.run("PBD.unplug", ref, what="PBD.unplug")
        return list(pbds)

    @override
    def converge_ref(self, x: Xapi, ref: str, changed: set[str], wanted: Obj) -> None:
        set_fields(x, "SR", ref, x.read("SR.get_record", ref), {
            "name_label": wanted["name_label"], "name_description": wanted.get("name_description", "")})
        config = full_config(wanted)
        if changed & {"device_config", "chap_password"}:
            for pbd in self._unplug_everywhere(x, ref):
                x.run("PBD.set_device_config", pbd, config, what="PBD.set_device_config")
        self._plug_everywhere(x, ref, config)
        if wanted.get("make_default") and (view := View(x)).pool.get("default_SR") != ref:
            x.call("pool.set_default_SR", view.pool_ref, ref)

    @override
    def outputs(self, client: Xapi, obj: Obj, carried: Obj) -> Obj:
        sr, view = obj["ref"], View(client)
        pool, hosts, pbds = view.pool, view.hosts, list(view.pbds_on(sr).values())
        master_pbd = next((p for p in pbds if p["host"] == view.master), pbds[0] if pbds else None)
        actual = dict(master_pbd["device_config"]) if master_pbd else {}
        declared_keys = set((carried.get("device_config") or {}).keys())
        # Keys the SM driver adds on its own are not drift; keys declared and changed or gone are.
        config = {k: str(v) for k, v in actual.items() if k in declared_keys and k not in SECRET_KEYS}
        if len(pbds) < len(hosts) or not all(p.get("currently_attached") for p in pbds):
            config = {}  # not in effect on every host: the next update plugs it everywhere
        return {
            "name_label": obj.get("name_label", ""),
            "name_description": obj.get("name_description", ""),
            "type": obj.get("type"),
            "device_config": config,
            "make_default": pool.get("default_SR") == sr,
            "sr_uuid": str(obj["uuid"]),
            "physical_size": as_int(obj.get("physical_size") or 0),
            "host_uuids": sorted(
                str(hosts[p["host"]]["uuid"]) for p in pbds if p.get("currently_attached") and p["host"] in hosts
            ),
            **{k: carried.get(k) for k in CARRIED},  # None: dropped (`managed`)
        }

    @override
    def destroy(self, client: Xapi, obj: Obj) -> None:
        sr, view = obj["ref"], View(client)
        if view.pool.get("default_SR") == sr:
            client.call("pool.set_default_SR", view.pool_ref, NULL_REF)
        self._unplug_everywhere(client, sr)
        if client.declared.get("destroy_on_delete"):
            client.run("SR.destroy", sr, what="SR.destroy")
        else:
            client.run("SR.forget", sr, what="SR.forget")


class SharedSR(Declared[SharedSRArgs], module="xcpng", name="SharedSR"):
    """A shared SR on an XCP-ng pool, plugged on every host."""

    provider_type = SharedSRProvider
