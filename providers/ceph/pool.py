"""`ceph.Pool`: a RADOS pool through the manager dashboard's REST API (`/api/pool`).

Name, type and erasure-code profile are fixed for a pool's life (a change is a replace, known at
preview). Everything else is changed in place with `PUT /api/pool/<name>`, which the dashboard
turns into `osd pool set` / `set-quota` / `application enable|disable` commands, in the order of
the payload's keys.

A value removed from the program is *unset*, not left behind: quotas go back to 0 (none),
compression is unset, the application is disabled, and size, min_size, pg_num, the autoscale mode
and the crush rule go back to the cluster's defaults (`osd_pool_default_*`, read from the
cluster's configuration database). Those five fields report a live value only while the program
declares them, so a pool that follows the cluster defaults shows no diff.

Values Ceph would refuse are refused by `check` (at preview, for this pool alone) with Ceph's
reason: pg_num while the autoscaler is on, size on an erasure-coded pool, min_size above size,
out-of-range sizes and pg counts, and size 1: the dashboard never sends the confirmation flag Ceph
needs to set it, so a pool declared with size 1 could never be brought back once its size drifted.
`diff` never raises: what drifted is a planned update, so one hard value cannot fail the refresh
or the preview of the whole stack.

Pools hold data: deleting one needs `allow_delete=True` in the program; otherwise destroy (and a
replace) fails and says so.

Each field is declared once, in `PoolArgs`; the lifecycle is the core's (`providers._core.lifecycle`)
with the hooks below: the pool by name (`fetch`, `find`), `make` (POST), `created`/`apply` (the
ordered PUT plan, full each time: what is left undeclared goes back to the cluster default), `undo`
(a pool made here that cannot be converged is removed again) and `destroy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pulumi
import pydantic
from typing_extensions import override

from providers._core import Change, NotFound, Permanent
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.lifecycle import Obj
from providers._core.resource import Declared

from ._base import DashboardProvider
from ._http import Dashboard

RESOURCE = "ceph.Pool"
# Fields that fall back to a cluster default when the program does not declare them.
DEFAULTED = ("size", "min_size", "pg_num", "pg_autoscale_mode", "crush_rule")
DEFAULT_OPTION = {
    "size": "osd_pool_default_size",
    "min_size": "osd_pool_default_min_size",
    "pg_num": "osd_pool_default_pg_num",
    "pg_autoscale_mode": "osd_pool_default_pg_autoscale_mode",
}


POOL_ATTRS = ",".join((
    "pool", "pool_name", "type", "erasure_code_profile", "size", "min_size", "pg_num",
    "pg_autoscale_mode", "crush_rule", "application_metadata", "quota_max_bytes",
    "quota_max_objects", "options",
))

SIZE_ONE = ("size: 1 cannot be reached through the dashboard API: Ceph needs --yes-i-really-mean-it to set it "
            "(EPERM: 'setting pool size 1 could lead to data loss') and the dashboard never sends it, so a pool "
            "that drifted to another size could never be brought back; declare size 2 or more")


class PoolChecks(PulumiInputsBase):
    """What Ceph would refuse, across fields (checked at preview, with Ceph's reason)."""

    @pydantic.model_validator(mode="after")
    def _ceph_rules(self) -> PoolChecks:
        f = dict(self)
        size, min_size = f["size"], f["min_size"]
        if f["type"] == "erasure" and size is not None:
            raise ValueError("size: an erasure-coded pool's size is k+m of its profile; Ceph refuses "
                             "to change it (EINVAL), leave size unset")
        if size == 1:
            raise ValueError(SIZE_ONE)
        if f["type"] == "replicated" and f["erasure_code_profile"] is not None:
            raise ValueError("erasure_code_profile: only erasure pools have one")
        if size is not None and min_size is not None and min_size > size:
            raise ValueError(f"min_size: {min_size} is above size {size}; Ceph requires "
                             "1 <= min_size <= size (EINVAL)")
        if f["pg_autoscale_mode"] == "on" and f["pg_num"] is not None:
            raise ValueError("pg_num: the autoscaler owns pg_num while pg_autoscale_mode is on; "
                             "leave pg_num unset or set the mode to off or warn")
        return self


class PoolArgs(Args, resource=RESOURCE, checks=PoolChecks):
    """Inputs of `ceph.Pool`."""

    name: pulumi.Input[str] = arg(api="pool_name", change=Change.REPLACE, min_length=1, max_length=255,
                                  pattern=r"^[^/@\s]+$")
    """Pool name; a change replaces the pool."""
    type: pulumi.Input[str] = arg(default="replicated", change=Change.REPLACE, check=Literal["replicated", "erasure"])
    """`replicated` or `erasure`; a change replaces the pool."""
    erasure_code_profile: pulumi.Input[str] | None = arg(default=None, change=Change.REPLACE)
    """Erasure-code profile (erasure pools; default `default`); a change replaces the pool."""
    size: pulumi.Input[int] | None = arg(default=None, normalize=int, ge=1, le=10)
    """Replica count of a replicated pool (unset: the cluster default)."""
    min_size: pulumi.Input[int] | None = arg(default=None, normalize=int, ge=1, le=10)
    """Replicas needed to serve I/O (unset: the cluster default)."""
    pg_num: pulumi.Input[int] | None = arg(default=None, normalize=int, ge=1, le=65536)
    """Placement groups, when the autoscaler is not on (unset: the cluster default)."""
    pg_autoscale_mode: pulumi.Input[str] | None = arg(default=None, check=Literal["on", "off", "warn"])
    """`on`, `off` or `warn` (unset: the cluster default)."""
    application: pulumi.Input[str] | None = arg(default=None, api="application_metadata", min_length=1)
    """The application tag (`rbd`, `rgw`, `cephfs`...); unset disables it."""
    quota_max_bytes: pulumi.Input[int] | None = arg(default=None, normalize=int, ge=1)
    """Byte quota; unset removes it."""
    quota_max_objects: pulumi.Input[int] | None = arg(default=None, normalize=int, ge=1)
    """Object quota; unset removes it."""
    compression_mode: pulumi.Input[str] | None = arg(
        default=None, check=Literal["none", "passive", "aggressive", "force"])
    """BlueStore compression mode: `none`, `passive`, `aggressive` or `force`; unset removes compression settings."""
    compression_algorithm: pulumi.Input[str] | None = arg(
        default=None, check=Literal["none", "snappy", "zlib", "zstd", "lz4"])
    """BlueStore compression algorithm: `snappy`, `zlib`, `zstd`, `lz4` or `none`; unset removes it."""
    crush_rule: pulumi.Input[str] | None = arg(default=None, min_length=1)
    """CRUSH rule name (unset: `replicated_rule` for replicated pools)."""
    allow_delete: pulumi.Input[bool] = arg(default=False, normalize=bool)
    """Pools hold data: destroying (or replacing) the pool needs this set first (never sent to Ceph)."""
    pool_id: pulumi.Output[int] = output(api="pool", normalize=int)
    """The pool's id."""
    live: pulumi.Output[dict[str, Any]] = output()
    """What Ceph reports, declared or not (sizes, pg_num, autoscale mode, crush rule, applications)."""


TABLE = PoolArgs.table()


def _live_view(pool: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs (all fields) from the dashboard's pool JSON."""
    options = pool.get("options") or {}
    apps = pool.get("application_metadata") or []
    quota_bytes = int(pool.get("quota_max_bytes") or 0)
    quota_objects = int(pool.get("quota_max_objects") or 0)
    live = {
        "size": int(pool["size"]),
        "min_size": int(pool["min_size"]),
        "pg_num": int(pool["pg_num"]),
        "pg_autoscale_mode": pool.get("pg_autoscale_mode"),
        "crush_rule": pool.get("crush_rule"),
        "applications": sorted(apps),
    }
    return {
        "name": pool["pool_name"],
        "type": pool["type"],
        "erasure_code_profile": pool.get("erasure_code_profile") or None,
        **{k: live[k] for k in DEFAULTED},
        "application": sorted(apps)[0] if apps else None,
        "quota_max_bytes": quota_bytes or None,
        "quota_max_objects": quota_objects or None,
        "compression_mode": options.get("compression_mode") or None,
        "compression_algorithm": options.get("compression_algorithm") or None,
        "pool_id": int(pool["pool"]),
        "live": live,
    }


def outputs_for(pool: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs as the diff should see them: defaulted fields only where the program declares them.

    `erasure_code_profile` is echoed only when declared too (Ceph fills in `default`).
    """
    out = _live_view(pool)
    for name in (*DEFAULTED, "erasure_code_profile"):
        if declared.get(name) is None:
            out[name] = None
    out["allow_delete"] = bool(declared.get("allow_delete", False))
    return out


# The PUT payload in the order Ceph must apply it: the autoscale mode before pg_num (refused under
# it), size before min_size (after it when shrinking: Ceph never sees min_size > size).
ORDER = ("pg_autoscale_mode", "size", "min_size", "pg_num", "crush_rule", "application", "quota_max_bytes",
         "quota_max_objects", "compression_mode", "compression_algorithm")
# What a value the program no longer declares is set to (the DEFAULTED ones get the cluster's default).
UNSET: dict[str, Any] = {"application": [], "quota_max_bytes": 0, "quota_max_objects": 0,
                         "compression_mode": "unset", "compression_algorithm": "unset"}


def plan(have: Mapping[str, Any], target: Mapping[str, Any]) -> dict[str, Any]:
    """The ordered `PUT /api/pool` payload turning `have` into `target` (both keyed as the table;
    None in `target`: unset it, or leave a DEFAULTED field alone), named as the table's API names say."""
    names = [f for f in ORDER if target[f] != have[f] and (target[f] is not None or f in UNSET)]
    if (target["pg_autoscale_mode"] or have["pg_autoscale_mode"]) == "on" and "pg_num" in names:
        names.remove("pg_num")  # the autoscaler owns it
    if "size" in names and "min_size" in names and target["size"] < have["size"]:
        names.remove("size")
        names.insert(names.index("min_size") + 1, "size")
    if "compression_mode" in names and target["compression_mode"] is None and target["compression_algorithm"] is None:
        names = [f for f in names if f != "compression_algorithm"]  # the dashboard unsets it with the mode
    return TABLE.to_api({f: UNSET[f] if target[f] is None else target[f] for f in names}, names)


class PoolProvider(DashboardProvider):
    args = PoolArgs
    transactional = True  # a pool made here that cannot be converged is removed again

    @override
    def fetch(self, client: Dashboard, obj_id: str) -> Obj | None:
        # The list, not GET /api/pool/<name>: that one also reads the pool's RBD configuration
        # from the pool itself, and blocks while the pool's PGs are inactive.
        for pool in client.call(RESOURCE, "GET", "/api/pool", params={"attrs": POOL_ATTRS}) or []:
            if pool.get("pool_name") == obj_id:
                return dict(pool)
        return None

    def _get(self, client: Dashboard, name: str) -> Obj:
        pool = self.fetch(client, name)
        if pool is None:
            raise NotFound(RESOURCE, f"pool {name} does not exist")
        return pool

    @override
    def make(self, client: Dashboard, wanted: Obj) -> Obj:
        name, kind = wanted["name"], wanted["type"]
        body: dict[str, Any] = {"pool": name, "pool_type": kind,
                                "pg_num": wanted.get("pg_num") or self._defaults(kind, wanted.get("size"))["pg_num"]}
        if kind == "erasure":
            body["erasure_code_profile"] = wanted.get("erasure_code_profile") or "default"
        if wanted.get("crush_rule"):
            body["rule_name"] = wanted["crush_rule"]
        if wanted.get("application"):
            body["application_metadata"] = [wanted["application"]]
        client.call(RESOURCE, "POST", "/api/pool", body, task="pool/create", task_meta={"pool_name": name})
        return self._get(client, name)

    @override
    def created(self, client: Dashboard, obj_id: str, obj: Obj, created: bool, wanted: Obj) -> Obj:
        # Made or adopted (what an earlier, interrupted run left), it is converged like an update.
        return self.outputs(client, self._settle(client, wanted, creating=created), wanted)

    @override
    def apply(self, client: Dashboard, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        return self._settle(client, wanted, creating=False)

    @override
    def outputs(self, client: Dashboard, obj: Obj, carried: Obj) -> Obj:
        return outputs_for(obj, carried)

    @override
    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        return dict(outputs)  # `outputs_for` already reports only what the program declares

    @override
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not props.get("allow_delete"):
            raise Permanent(
                RESOURCE,
                f"pool {id_} holds data and allow_delete is not set: set allow_delete=True on it, "
                "run `pulumi up`, then destroy (or remove it from state with `pulumi state delete`)",
            )
        super().delete(id_, props)

    @override
    def destroy(self, client: Dashboard, obj: Obj) -> None:
        # DELETE answers 204 for a pool that does not exist, so deleting twice is fine.
        name = self.obj_id(obj)
        client.call(RESOURCE, "DELETE", f"/api/pool/{name}", task="pool/delete", task_meta={"pool_name": name})

    # --- the plan -----------------------------------------------------------------------------

    def _defaults(self, pool_type: str, size: int | None) -> dict[str, Any]:
        """The cluster's defaults for the defaulted fields (from the configuration database)."""
        out: dict[str, Any] = {}
        for field, option in DEFAULT_OPTION.items():
            conf = self.dashboard.call(RESOURCE, "GET", f"/api/cluster_conf/{option}")
            values = {v["section"]: v["value"] for v in conf.get("value", [])}
            out[field] = values.get("global", values.get("mon", conf.get("default")))
        out["size"] = int(out["size"])
        min_size = int(out["min_size"])
        target = size or out["size"]
        out["min_size"] = min_size if min_size else target - target // 2
        out["pg_num"] = int(out["pg_num"])
        out["crush_rule"] = "replicated_rule" if pool_type == "replicated" else None
        if pool_type == "erasure":
            # k+m and k+min(1, m-1) of the profile: Ceph's own choice, left alone.
            out["size"] = out["min_size"] = None
        return out

    def _plan(self, live: Mapping[str, Any], want: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """The PUT payload that turns the live pool into `want` (defaults for what is unset)."""
        have = _live_view(live)
        have["application"] = have["live"]["applications"] or None
        defaults = {} if creating or all(want.get(f) is not None for f in DEFAULTED) else \
            self._defaults(want["type"], want.get("size"))
        target = {f: defaults.get(f) if want.get(f) is None else want[f] for f in ORDER}
        target["application"] = [want["application"]] if want.get("application") else None
        if want["type"] == "erasure":
            target["size"] = None
        return plan(have, target)

    def _settle(self, client: Dashboard, want: Obj, *, creating: bool) -> Obj:
        """Bring the live pool to `want` with one ordered PUT; the pool after it."""
        name = want["name"]
        live = self._get(client, name)
        if live["type"] != want["type"]:
            raise Permanent(RESOURCE, f"pool {name} exists as a {live['type']} pool, "
                                      f"the program wants {want['type']}; rename or remove one of them")
        body = self._plan(live, want, creating=creating)
        if not body:
            return live
        client.call(RESOURCE, "PUT", f"/api/pool/{name}", body, task="pool/edit", task_meta={"pool_name": name})
        return self._get(client, name)


class Pool(Declared[PoolArgs], module="ceph", name="Pool"):
    """A Ceph pool (`ceph.Pool`)."""

    provider_type = PoolProvider
