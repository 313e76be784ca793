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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import pulumi
import pydantic
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult
from typing_extensions import override

from providers._core import Change, Field, InputError, NotFound, Permanent, Table, diff_fields, diff_result

from ._base import CephProvider

RESOURCE = "ceph.Pool"
COMPRESSION_MODES = ("none", "passive", "aggressive", "force")
COMPRESSION_ALGORITHMS = ("none", "snappy", "zlib", "zstd", "lz4")
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


def _int(v: Any) -> int:
    return int(v)


TABLE = Table(
    RESOURCE,
    (
        Field("name", api="pool_name", change=Change.REPLACE, doc="Pool name"),
        Field("type", change=Change.REPLACE, doc="replicated or erasure"),
        Field("erasure_code_profile", change=Change.REPLACE, doc="EC profile (erasure pools)"),
        Field("size", normalize=_int),
        Field("min_size", normalize=_int),
        Field("pg_num", normalize=_int),
        Field("pg_autoscale_mode"),
        Field("application"),
        Field("quota_max_bytes", normalize=_int),
        Field("quota_max_objects", normalize=_int),
        Field("compression_mode"),
        Field("compression_algorithm"),
        Field("crush_rule"),
        Field("allow_delete", normalize=bool, doc="Not sent to Ceph: permits destroy"),
        Field("pool_id", api="pool", change=Change.OUTPUT, normalize=_int),
        Field("live", change=Change.OUTPUT, doc="What Ceph reports, declared or not"),
    ),
)


class PoolInputs(pydantic.BaseModel):
    """The inputs of a `ceph.Pool` (validated in `check`, before any API call)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = pydantic.Field(min_length=1, max_length=255, pattern=r"^[^/@\s]+$",
                               description="Pool name; changing it replaces the pool.")
    type: Literal["replicated", "erasure"] = pydantic.Field(
        "replicated", description="Pool type; changing it replaces the pool.")
    erasure_code_profile: str | None = pydantic.Field(
        None, description="Erasure-code profile (erasure pools only; default `default`). Replace.")
    size: int | None = pydantic.Field(None, ge=1, le=10, description="Replicas (replicated pools).")
    min_size: int | None = pydantic.Field(None, ge=1, le=10, description="Replicas needed for I/O.")
    pg_num: int | None = pydantic.Field(None, ge=1, le=65536,
                                        description="Placement groups (not while autoscale is on).")
    pg_autoscale_mode: Literal["on", "off", "warn"] | None = pydantic.Field(
        None, description="PG autoscaler mode.")
    application: str | None = pydantic.Field(None, min_length=1, description="e.g. rbd, rgw, cephfs.")
    quota_max_bytes: int | None = pydantic.Field(None, ge=1, description="Byte quota (unset: none).")
    quota_max_objects: int | None = pydantic.Field(None, ge=1, description="Object quota (unset: none).")
    compression_mode: Literal["none", "passive", "aggressive", "force"] | None = pydantic.Field(
        None, description="BlueStore compression mode.")
    compression_algorithm: Literal["none", "snappy", "zlib", "zstd", "lz4"] | None = pydantic.Field(
        None, description="BlueStore compression algorithm.")
    crush_rule: str | None = pydantic.Field(None, min_length=1, description="CRUSH rule name.")
    allow_delete: bool = pydantic.Field(False, description="Pools hold data: destroy needs this.")

    @pydantic.field_validator("size", "min_size", "pg_num", "quota_max_bytes", "quota_max_objects",
                              mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        # The engine sends numbers as floats (1 -> 1.0).
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v

    @pydantic.model_validator(mode="after")
    def _ceph_rules(self) -> PoolInputs:
        if self.type == "erasure" and self.size is not None:
            raise ValueError("size: an erasure-coded pool's size is k+m of its profile; Ceph refuses "
                             "to change it (EINVAL), leave size unset")
        if self.size == 1:
            raise ValueError(SIZE_ONE)
        if self.type == "replicated" and self.erasure_code_profile is not None:
            raise ValueError("erasure_code_profile: only erasure pools have one")
        if self.size is not None and self.min_size is not None and self.min_size > self.size:
            raise ValueError(f"min_size: {self.min_size} is above size {self.size}; Ceph requires "
                             "1 <= min_size <= size (EINVAL)")
        if self.pg_autoscale_mode == "on" and self.pg_num is not None:
            raise ValueError("pg_num: the autoscaler owns pg_num while pg_autoscale_mode is on; "
                             "leave pg_num unset or set the mode to off or warn")
        return self


SIZE_ONE = ("size: 1 cannot be reached through the dashboard API: Ceph needs --yes-i-really-mean-it to set it "
            "(EPERM: 'setting pool size 1 could lead to data loss') and the dashboard never sends it, so a pool "
            "that drifted to another size could never be brought back; declare size 2 or more")


def refused(olds: dict[str, Any], news: dict[str, Any]) -> str | None:
    """Why Ceph (through the dashboard) would refuse this in-place change, or None."""
    old_size, new_size = olds.get("size"), news.get("size")
    if new_size is not None and not isinstance(new_size, str) and int(new_size) == 1 \
            and old_size is not None and int(old_size) != 1:
        return ("size: setting size 1 needs Ceph's --yes-i-really-mean-it flag, which the dashboard "
                "API never sends (EPERM: 'setting pool size 1 could lead to data loss'); set it with "
                "the ceph CLI or keep size >= 2")
    return None


def _live_view(pool: dict[str, Any]) -> dict[str, Any]:
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


def outputs_for(pool: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """Outputs as the diff should see them: defaulted fields only where the program declares them.

    `erasure_code_profile` is echoed only when declared too (Ceph fills in `default`).
    """
    out = _live_view(pool)
    for name in (*DEFAULTED, "erasure_code_profile"):
        if declared.get(name) is None:
            out[name] = None
    out["allow_delete"] = bool(declared.get("allow_delete", False))
    return out


@dataclass
class Plan:
    """The ordered `PUT /api/pool` payload for one set of changes (order matters to Ceph)."""

    body: dict[str, Any]

    def empty(self) -> bool:
        return not self.body


def _plan_sizes(body: dict[str, Any], current: dict[str, Any], size: Any, min_size: Any) -> None:
    """size before min_size when growing and after when shrinking: Ceph never sees min_size > size."""
    size_change = size is not None and size != current["size"]
    if size_change and (size or 0) >= current["size"]:
        body["size"] = size
    if min_size is not None and min_size != current["min_size"]:
        body["min_size"] = min_size
    if size_change and "size" not in body:
        body["size"] = size


def _plan_compression(body: dict[str, Any], current: dict[str, Any], mode: str | None, algorithm: str | None) -> None:
    if mode is None and current["compression_mode"] is not None:
        body["compression_mode"] = "unset"  # the dashboard also unsets algorithm and ratios
    elif mode != current["compression_mode"]:
        body["compression_mode"] = mode
    if algorithm != current["compression_algorithm"] and not (
        algorithm is None and body.get("compression_mode") == "unset"
    ):
        body["compression_algorithm"] = algorithm or "unset"


class PoolProvider(CephProvider):
    table: ClassVar[Table] = TABLE
    model: ClassVar[type[pydantic.BaseModel]] = PoolInputs

    # ------------------------------------------------------------------ preview

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # No refusal here: the engine calls diff for every resource of a refresh-and-up, and an
        # error fails the whole stack's preview. Unreachable values are refused by check.
        return diff_result(diff_fields(olds, news, TABLE), TABLE)

    # ------------------------------------------------------------------ API helpers

    def _get(self, name: str) -> dict[str, Any]:
        # The list, not GET /api/pool/<name>: that one also reads the pool's RBD configuration
        # from the pool itself, and blocks while the pool's PGs are inactive.
        pools = self.dashboard().call(RESOURCE, "GET", "/api/pool", params={"attrs": POOL_ATTRS})
        for pool in pools or []:
            if pool.get("pool_name") == name:
                return dict(pool)
        raise NotFound(RESOURCE, f"pool {name} does not exist")

    def _find(self, name: str) -> dict[str, Any] | None:
        try:
            return self._get(name)
        except NotFound:
            return None

    def _defaults(self, pool_type: str, size: int | None) -> dict[str, Any]:
        """The cluster's defaults for the defaulted fields (from the configuration database)."""
        out: dict[str, Any] = {}
        for field, option in DEFAULT_OPTION.items():
            conf = self.dashboard().call(RESOURCE, "GET", f"/api/cluster_conf/{option}")
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

    def _plan(self, live: dict[str, Any], want: PoolInputs, *, creating: bool) -> Plan:
        """The PUT payload that turns the live pool into `want` (defaults for what is unset)."""
        current = _live_view(live)
        body: dict[str, Any] = {}
        need_defaults = [f for f in DEFAULTED if getattr(want, f) is None]
        defaults = self._defaults(want.type, want.size) if need_defaults and not creating else {}

        def target(f: str) -> Any:
            v = getattr(want, f)
            if v is None and not creating:
                v = defaults.get(f)
            return v

        # The autoscale mode first (pg_num is refused under it), size before min_size when
        # growing and after when shrinking, so Ceph never sees min_size > size.
        mode = target("pg_autoscale_mode")
        if mode is not None and mode != current["pg_autoscale_mode"]:
            body["pg_autoscale_mode"] = mode
        _plan_sizes(body, current, None if want.type == "erasure" else target("size"), target("min_size"))
        effective_mode = mode or current["pg_autoscale_mode"]
        pg_num = target("pg_num")
        if effective_mode != "on" and pg_num is not None and pg_num != current["pg_num"]:
            body["pg_num"] = pg_num
        rule = target("crush_rule")
        if rule is not None and rule != current["crush_rule"]:
            body["crush_rule"] = rule
        if want.application != current["application"] or len(current["live"]["applications"]) > 1:
            body["application_metadata"] = [want.application] if want.application else []
        for f in ("quota_max_bytes", "quota_max_objects"):
            if getattr(want, f) != current[f]:
                body[f] = getattr(want, f) or 0
        _plan_compression(body, current, want.compression_mode, want.compression_algorithm)
        return Plan(body)

    def _apply(self, name: str, plan: Plan) -> None:
        if plan.empty():
            return
        self.dashboard().call(RESOURCE, "PUT", f"/api/pool/{name}", plan.body,
                              task="pool/edit", task_meta={"pool_name": name})

    def _converge(self, want: PoolInputs, *, creating: bool) -> dict[str, Any]:
        live = self._get(want.name)
        if live["type"] != want.type:
            raise Permanent(RESOURCE, f"pool {want.name} exists as a {live['type']} pool, "
                                      f"the program wants {want.type}; rename or remove one of them")
        self._apply(want.name, self._plan(live, want, creating=creating))
        return outputs_for(self._get(want.name), want.model_dump())

    # ------------------------------------------------------------------ CRUD

    def create(self, props: dict[str, Any]) -> CreateResult:
        want = PoolInputs.model_validate({k: v for k, v in props.items() if k in PoolInputs.model_fields})
        existed = self._find(want.name) is not None
        if not existed:
            body: dict[str, Any] = {"pool": want.name, "pool_type": want.type}
            if want.pg_num is not None:
                body["pg_num"] = want.pg_num
            else:
                body["pg_num"] = self._defaults(want.type, want.size)["pg_num"]
            if want.type == "erasure":
                body["erasure_code_profile"] = want.erasure_code_profile or "default"
            if want.crush_rule:
                body["rule_name"] = want.crush_rule
            if want.application:
                body["application_metadata"] = [want.application]
            self.dashboard().call(RESOURCE, "POST", "/api/pool", body, task="pool/create",
                                  task_meta={"pool_name": want.name})
        try:
            # Adopting what an earlier, interrupted run left converges it like an update.
            outs = self._converge(want, creating=not existed)
        except Exception:
            if not existed:
                self._undo_create(want.name)
            raise
        return CreateResult(want.name, outs)

    def _undo_create(self, name: str) -> None:
        try:
            self.dashboard().call(RESOURCE, "DELETE", f"/api/pool/{name}", task="pool/delete",
                                  task_meta={"pool_name": name})
        except Exception as e:  # undo is best effort: the next create adopts the pool by name
            pulumi.log.warn(f"{RESOURCE} {name}: could not remove the half-made pool ({e}); "
                            "the next up adopts it")

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        pool = self._find(id_)
        if pool is None:
            return ReadResult("", {})
        outs = outputs_for(pool, props)
        return ReadResult(id_, outs, inputs=TABLE.input_props(outs))

    @override
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = PoolInputs.model_validate({k: v for k, v in news.items() if k in PoolInputs.model_fields})
        reason = refused(olds, news)
        if reason:
            raise InputError(RESOURCE, "size", want.size, reason)
        return UpdateResult(self._converge(want, creating=False))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not props.get("allow_delete"):
            raise Permanent(
                RESOURCE,
                f"pool {id_} holds data and allow_delete is not set: set allow_delete=True on it, "
                "run `pulumi up`, then destroy (or remove it from state with `pulumi state delete`)",
            )
        # DELETE answers 204 for a pool that does not exist, so deleting twice is fine.
        self.dashboard().call(RESOURCE, "DELETE", f"/api/pool/{id_}", task="pool/delete",
                              task_meta={"pool_name": id_})


@dataclass
class PoolArgs:
    """Inputs of `ceph.Pool` (see `PoolInputs` for the rules)."""

    name: pulumi.Input[str]
    """Pool name; a change replaces the pool."""
    type: pulumi.Input[str] = "replicated"
    """`replicated` or `erasure`; a change replaces the pool."""
    erasure_code_profile: pulumi.Input[str] | None = None
    """Erasure-code profile (erasure pools; default `default`); a change replaces the pool."""
    size: pulumi.Input[int] | None = None
    """Replica count of a replicated pool (unset: the cluster default)."""
    min_size: pulumi.Input[int] | None = None
    """Replicas needed to serve I/O (unset: the cluster default)."""
    pg_num: pulumi.Input[int] | None = None
    """Placement groups, when the autoscaler is not on (unset: the cluster default)."""
    pg_autoscale_mode: pulumi.Input[str] | None = None
    """`on`, `off` or `warn` (unset: the cluster default)."""
    application: pulumi.Input[str] | None = None
    """The application tag (`rbd`, `rgw`, `cephfs`...); unset disables it."""
    quota_max_bytes: pulumi.Input[int] | None = None
    """Byte quota; unset removes it."""
    quota_max_objects: pulumi.Input[int] | None = None
    """Object quota; unset removes it."""
    compression_mode: pulumi.Input[str] | None = None
    """`none`, `passive`, `aggressive` or `force`; unset removes compression settings."""
    compression_algorithm: pulumi.Input[str] | None = None
    """`snappy`, `zlib`, `zstd`, `lz4` or `none`; unset removes it."""
    crush_rule: pulumi.Input[str] | None = None
    """CRUSH rule name (unset: `replicated_rule` for replicated pools)."""
    allow_delete: pulumi.Input[bool] = False
    """Pools hold data: destroying (or replacing) the pool needs this set first."""


class Pool(Resource, module="ceph", name="Pool"):
    """A Ceph pool (`ceph.Pool`)."""

    pool_id: pulumi.Output[int]
    live: pulumi.Output[dict[str, Any]]
    size: pulumi.Output[int | None]
    name: pulumi.Output[str]

    def __init__(self, resource_name: str, args: PoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PoolProvider(), resource_name, TABLE.declared(args), opts)
