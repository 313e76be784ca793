"""Pure tests of the Ceph providers: tables, diffs, refused changes, validation, signing, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from pulumi.runtime.rpc import UNKNOWN

from providers._core import InputError, NotFound, Permanent, Retryable, parse_settings
from providers.ceph import PoolProvider, RgwUserProvider
from providers.ceph._http import raise_for
from providers.ceph.pool import TABLE as POOL_TABLE
from providers.ceph.pool import outputs_for
from providers.ceph.rgw import RgwUserArgs, caps_delta, norm_caps, norm_quota, user_outputs
from providers.ceph.settings import CephSettings

POOL = {"name": "data", "type": "replicated", "allow_delete": False}
USER_TABLE = RgwUserArgs.table()
USER = {"uid": "cs", "display_name": "CloudStack", "suspended": False, "purge_data": False}


def pool_check(props: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    res = PoolProvider().check({}, props)
    return res.inputs, [(f.property, f.reason) for f in res.failures]


# ---------------------------------------------------------------------------------------- check


@pytest.mark.parametrize(
    ("props", "field", "words"),
    [
        ({"name": ""}, "name", "at least 1"),
        ({"name": "a/b"}, "name", "pattern"),
        ({"name": "p", "type": "mirrored"}, "type", "'replicated' or 'erasure'"),
        ({"name": "p", "size": 11}, "size", "less than or equal to 10"),
        ({"name": "p", "size": 0}, "size", "greater than or equal to 1"),
        ({"name": "p", "pg_num": 65537}, "pg_num", "65536"),
        ({"name": "p", "quota_max_bytes": -5}, "quota_max_bytes", "greater than or equal to 1"),
        ({"name": "p", "compression_mode": "always"}, "compression_mode", "aggressive"),
        ({"name": "p", "compression_algorithm": "gzip"}, "compression_algorithm", "zstd"),
        ({"name": "p", "size": 2, "min_size": 3}, "", "min_size: 3 is above size 2"),
        ({"name": "p", "type": "erasure", "size": 3}, "", "erasure-coded pool's size"),
        ({"name": "p", "erasure_code_profile": "k2m1"}, "", "only erasure pools"),
        ({"name": "p", "pg_autoscale_mode": "on", "pg_num": 16}, "", "autoscaler owns pg_num"),
        ({"name": "p", "colour": "blue"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_pool_check_names_field_value_and_reason(props: dict[str, Any], field: str, words: str) -> None:
    _, failures = pool_check(props)
    assert failures, f"{props} should fail"
    prop, reason = failures[0]
    assert prop == field
    assert words in reason
    if field:
        assert reason.startswith(f"{field}={props[field]!r}")


def test_pool_check_normalises_engine_floats_and_fills_defaults() -> None:
    inputs, failures = pool_check({"name": "p", "size": 2.0, "pg_num": 16.0, "quota_max_objects": 100.0})
    assert failures == []
    assert inputs == {"name": "p", "type": "replicated", "size": 2, "pg_num": 16,
                      "quota_max_objects": 100, "allow_delete": False}


def test_pool_check_tolerates_unknowns_in_preview() -> None:
    _, failures = pool_check({"name": UNKNOWN, "size": UNKNOWN, "min_size": 2})
    assert failures == []


# ----------------------------------------------------------------------------------------- diff


def olds(**kw: Any) -> dict[str, Any]:
    base = {f.name: None for f in POOL_TABLE}
    return {**base, **POOL, "pool_id": 3, **kw}


@pytest.mark.parametrize(
    ("old", "new", "changed", "replaces"),
    [
        ({}, {}, False, []),
        ({"size": 2}, {"size": 2.0}, False, []),
        ({"size": 2}, {"size": 3}, True, []),
        ({"min_size": 1}, {}, True, []),  # removed -> unset (back to the cluster default)
        ({"quota_max_bytes": 100}, {}, True, []),
        ({}, {"application": "rbd"}, True, []),
        ({"compression_mode": "force"}, {"compression_mode": "none"}, True, []),
        ({"crush_rule": "replicated_rule"}, {"crush_rule": "ssd"}, True, []),
        ({}, {"allow_delete": True}, True, []),
        ({}, {"name": "other"}, True, ["name"]),
        ({}, {"type": "erasure"}, True, ["type"]),
        ({"type": "erasure", "erasure_code_profile": "a"}, {"type": "erasure", "erasure_code_profile": "b"},
         True, ["erasure_code_profile"]),
        ({}, {"name": UNKNOWN}, True, ["name"]),  # unknown in preview: a replace-only field
        ({}, {"size": UNKNOWN}, True, []),
    ],
)
def test_pool_diff(old: dict[str, Any], new: dict[str, Any], changed: bool, replaces: list[str]) -> None:
    result = PoolProvider().diff("data", olds(**old), {**POOL, **new})
    assert result.changes is changed
    assert list(result.replaces or []) == replaces


def test_pool_diff_ignores_outputs_and_provider() -> None:
    old = olds(live={"size": 1}, pool_id=9)
    assert PoolProvider().diff("data", old, {**POOL, "__provider": "x"}).changes is False


def test_pool_diff_never_raises_check_refuses_size_one() -> None:
    # A pool that drifted from what the program declares is a planned update, never a failed preview.
    assert PoolProvider().diff("data", olds(size=2), {**POOL, "size": 3}).changes is True
    _, failures = pool_check({**POOL, "size": 1})
    assert failures and "--yes-i-really-mean-it" in failures[0][1], failures


def test_pool_outputs_report_defaulted_fields_only_when_declared() -> None:
    live = {"pool": 4, "pool_name": "data", "type": "replicated", "size": 1, "min_size": 1, "pg_num": 8,
            "pg_autoscale_mode": "off", "crush_rule": "replicated_rule", "application_metadata": ["rbd"],
            "quota_max_bytes": 0, "quota_max_objects": 7, "erasure_code_profile": "",
            "options": {"compression_mode": "force"}}
    out = outputs_for(live, {"size": 1, "allow_delete": True})
    assert out["size"] == 1 and out["min_size"] is None and out["pg_num"] is None
    assert out["quota_max_bytes"] is None and out["quota_max_objects"] == 7
    assert out["compression_mode"] == "force" and out["application"] == "rbd"
    assert out["live"]["pg_num"] == 8 and out["pool_id"] == 4 and out["allow_delete"] is True
    assert set(out) == {f.name for f in POOL_TABLE}


def test_pool_delete_without_flag_fails_clearly() -> None:
    with pytest.raises(Permanent, match="allow_delete is not set"):
        PoolProvider().delete("data", {"allow_delete": False})


def test_pool_table_replace_fields() -> None:
    assert [f.name for f in POOL_TABLE.inputs if f.change.value == "replace"] == [
        "name", "type", "erasure_code_profile"]


# ------------------------------------------------------------------------------------- RGW user


@pytest.mark.parametrize(
    ("props", "field", "words"),
    [
        ({"uid": "a b", "display_name": "x"}, "uid", "pattern"),
        ({"uid": "a"}, "display_name", "Field required"),
        ({"uid": "a", "display_name": "x", "email": "nope"}, "email", "pattern"),
        ({"uid": "a", "display_name": "x", "caps": {"users": "admin"}}, "caps", "unknown permission"),
        ({"uid": "a", "display_name": "x", "caps": {"us=ers": "read"}}, "caps", "not a capability name"),
        ({"uid": "a", "display_name": "x", "user_quota": {"max_size": -1}}, "user_quota.max_size", ">= 0"),
        ({"uid": "a", "display_name": "x", "user_quota": {"size": 1}}, "user_quota.size", "Extra inputs"),
        ({"uid": "a", "display_name": "x", "max_buckets": -1}, "max_buckets", "greater than or equal"),
    ],
)
def test_user_check(props: dict[str, Any], field: str, words: str) -> None:
    res = RgwUserProvider().check({}, props)
    assert res.failures, props
    assert res.failures[0].property == field
    assert words.replace(">= 0", "greater than or equal to 0") in res.failures[0].reason


def test_user_check_normalises() -> None:
    res = RgwUserProvider().check({}, {**USER, "caps": {"users": "read, write", "usage": "read"},
                                        "max_buckets": 3.0, "key_rotation": 2.0})
    assert res.failures == []
    assert res.inputs["caps"] == {"usage": "read", "users": "*"}
    assert res.inputs["max_buckets"] == 3 and res.inputs["key_rotation"] == "2"


@pytest.mark.parametrize(
    ("old", "new", "add", "remove"),
    [
        (None, {"users": "read"}, "users=read", ""),
        ({"users": "*"}, {"users": "read"}, "", "users=write"),
        ({"users": "read"}, {"users": "*"}, "users=write", ""),
        ({"users": "read", "usage": "read"}, {"buckets": "*"}, "buckets=*", "usage=read;users=read"),
        ({"users": "read"}, None, "", "users=read"),
        ({"users": "read"}, {"users": "read"}, "", ""),
    ],
)
def test_caps_change_in_place_per_permission(old: Any, new: Any, add: str, remove: str) -> None:
    assert caps_delta(old, new) == (add, remove)


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ([{"type": "users", "perm": "read, write"}], {"users": "*"}),
        ([], None),
        ({"b": "write", "a": "*"}, {"a": "*", "b": "write"}),
    ],
)
def test_norm_caps(raw: Any, norm: Any) -> None:
    assert norm_caps(raw) == norm


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ({"enabled": False, "max_size": 5, "max_objects": 1}, None),
        ({"enabled": True, "max_size": -1, "max_objects": 10, "max_size_kb": 0}, {"max_objects": 10}),
        ({"max_size": 1024}, {"max_size": 1024}),
        (None, None),
    ],
)
def test_norm_quota(raw: Any, norm: Any) -> None:
    assert norm_quota(raw) == norm


@pytest.mark.parametrize(
    ("old", "new", "changed", "replaces"),
    [
        ({}, {}, False, []),
        ({"caps": {"users": "*"}}, {"caps": {"users": "read,write"}}, False, []),
        ({"caps": {"users": "*"}}, {"caps": {"users": "read"}}, True, []),
        ({"email": "a@b.c"}, {}, True, []),
        ({}, {"key_rotation": "1"}, True, []),
        ({"user_quota": {"max_size": 1}}, {"user_quota": {"max_size": 1.0}}, False, []),
        ({}, {"uid": "other"}, True, ["uid"]),
        ({}, {"suspended": True}, True, []),
    ],
)
def test_user_diff(old: dict[str, Any], new: dict[str, Any], changed: bool, replaces: list[str]) -> None:
    base = {f.name: None for f in USER_TABLE}
    result = RgwUserProvider().diff("cs", {**base, **USER, "access_key": "AK", "secret_key": "SK", **old},
                                    {**USER, **new})
    assert result.changes is changed
    assert list(result.replaces or []) == replaces


def test_user_outputs_flag_a_vanished_key_as_drift() -> None:
    user = {"user_id": "cs", "display_name": "CS", "keys": [], "max_buckets": 1000}
    out = user_outputs(user, {"key_rotation": "1"}, None)
    assert out["key_rotation"] != "1" and out["access_key"] is None
    assert out["max_buckets"] is None  # RGW's default, not declared
    assert USER_TABLE.secrets == ["access_key", "secret_key"]


# --------------------------------------------------------------------------------- wire & errors


def response(status: int, body: Any) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
    r.reason = "X"
    return r


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (404, {"detail": "pool 'x' not found", "code": "pool_not_found"}, NotFound, "pool 'x' not found"),
        (409, {"message": "conflict"}, Permanent, "conflict"),
        (403, {"code": "forbidden"}, Permanent, "forbidden"),
        (400, {"detail": "[errno -34] 'pg_num' must be greater than 0", "code": "SendCommandError"},
         Permanent, "[errno -34]"),
        (500, "Internal Server Error", Retryable, "Internal Server Error"),
        (503, {"detail": "busy"}, Retryable, "busy"),
    ],
)
def test_raise_for_maps_dashboard_answers(status: int, body: Any, kind: type[Exception], words: str) -> None:
    with pytest.raises(kind) as e:
        raise_for("ceph.Pool", "PUT /api/pool/x", response(status, body))
    assert words in str(e.value) and "ceph.Pool" in str(e.value) and f"HTTP {status}" in str(e.value)


FULL = {"dashboardUrl": "http://d", "dashboardUser": "admin", "dashboardPassword": "hunter2",
        "rgwUrl": "http://r", "rgwAccessKey": "AK", "rgwSecretKey": "s3cr3t"}


def test_config_never_shows_secrets_and_rejects_unknown_keys() -> None:
    cfg = CephSettings.from_config(FULL)
    assert "hunter2" not in repr(cfg) and "s3cr3t" not in repr(cfg)
    with pytest.raises(InputError, match="unknown keys"):
        CephSettings.from_config({**FULL, "dashboardURL": "x"})
    with pytest.raises(InputError, match="rgwUrl"):
        parse_settings(CephSettings, "ceph", {k: v for k, v in FULL.items() if k != "rgwUrl"})


def test_providers_pickle_without_config() -> None:
    import pickle

    p = PoolProvider()
    p.configure_with(CephSettings.from_config(FULL))
    assert b"hunter2" not in pickle.dumps(p)


def test_every_request_is_bounded_by_the_settings_http_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dashboard or RGW that takes a request and never answers fails it after `httpTimeout` seconds."""
    from providers.ceph import BucketProvider

    assert CephSettings.from_config(FULL).http_timeout == 60.0
    p = PoolProvider()
    p.configure_with(CephSettings.from_config({**FULL, "httpTimeout": 7}))
    seen: list[Any] = []

    def request(*_args: Any, timeout: Any = None, **_kwargs: Any) -> Any:
        seen.append(timeout)
        raise requests.ConnectTimeout("no answer")

    dashboard = p.dashboard  # the process's for these settings: patched for this test only
    monkeypatch.setattr(dashboard.session, "request", request)
    with pytest.raises(Retryable, match="no answer"):
        dashboard.call("ceph.Pool", "POST", "/api/pool", {})
    assert seen == [7]
    assert p.rgw_admin.client._timeout == 7
    b = BucketProvider()
    b.configure_with(CephSettings.from_config({**FULL, "httpTimeout": 7}))
    config = b.client({"access_key": "AK", "secret_key": "SK"}).s3().meta.config
    assert (config.connect_timeout, config.read_timeout) == (7, 7)


class StubDefaults(PoolProvider):
    """The planner with the cluster defaults of the lab, and no API."""

    def _defaults(self, pool_type: str, size: int | None) -> dict[str, Any]:
        return {"size": 1, "min_size": 1, "pg_num": 8, "pg_autoscale_mode": "off",
                "crush_rule": "replicated_rule" if pool_type == "replicated" else None}


LIVE = {"pool": 1, "pool_name": "data", "type": "replicated", "size": 2, "min_size": 1, "pg_num": 8,
        "pg_autoscale_mode": "off", "crush_rule": "replicated_rule", "application_metadata": [],
        "quota_max_bytes": 0, "quota_max_objects": 0, "erasure_code_profile": "", "options": {}}


@pytest.mark.parametrize(
    ("live", "want", "body"),
    [
        ({}, {"size": 2}, {}),
        # growing: size before min_size; shrinking: min_size before size (never min_size > size)
        ({}, {"size": 4, "min_size": 3}, {"size": 4, "min_size": 3}),
        ({"size": 4, "min_size": 3}, {"size": 3, "min_size": 2}, {"min_size": 2, "size": 3}),
        # the autoscale mode goes before pg_num; under autoscale pg_num is left to Ceph
        ({"pg_autoscale_mode": "on", "pg_num": 32}, {"size": 2, "pg_autoscale_mode": "off", "pg_num": 16},
         {"pg_autoscale_mode": "off", "pg_num": 16}),
        ({"pg_num": 32}, {"size": 2, "pg_autoscale_mode": "on"}, {"pg_autoscale_mode": "on"}),
        # removed values are unset: defaults, quota 0, compression unset, application disabled
        ({"pg_num": 32, "quota_max_objects": 9, "application_metadata": ["rbd"],
          "options": {"compression_mode": "force", "compression_algorithm": "lz4"}},
         {"size": 2}, {"pg_num": 8, "application_metadata": [], "quota_max_objects": 0,
                       "compression_mode": "unset"}),
        ({"options": {"compression_algorithm": "lz4"}}, {"size": 2}, {"compression_algorithm": "unset"}),
        ({"options": {"compression_mode": "force"}}, {"size": 2}, {"compression_mode": "unset"}),
        ({"size": 3}, {"size": 2}, {"size": 2}),  # shrinking alone
        ({}, {"size": 2, "application": "rgw", "quota_max_bytes": 5, "compression_mode": "none",
              "crush_rule": "fast"},
         {"crush_rule": "fast", "application_metadata": ["rgw"], "quota_max_bytes": 5,
          "compression_mode": "none"}),
    ],
)
def test_pool_update_plan(live: dict[str, Any], want: dict[str, Any], body: dict[str, Any]) -> None:
    plan = StubDefaults()._plan({**LIVE, **live}, PoolProvider().inputs({"name": "data", **want}), creating=False)
    assert list(plan.items()) == list(body.items())


class HalfMade(PoolProvider):
    """A pool provider whose converge fails right after the pool is made (or adopted); no API."""

    def __init__(self, exists: bool) -> None:
        self.exists = exists
        self.calls: list[str] = []

    def client(self, props: Any) -> Any:
        return None

    def fetch(self, client: Any, obj_id: str) -> dict[str, Any] | None:
        return dict(LIVE) if self.exists else None

    def make(self, client: Any, wanted: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("make")
        return dict(LIVE)

    def _settle(self, client: Any, want: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        raise Permanent("ceph.Pool", "crush rule fast does not exist")

    def destroy(self, client: Any, obj: dict[str, Any]) -> None:
        self.calls.append(f"destroy {obj['pool_name']}")


@pytest.mark.parametrize(("exists", "calls"), [(False, ["make", "destroy data"]), (True, [])])
def test_pool_made_here_and_not_converged_is_removed_again(exists: bool, calls: list[str]) -> None:
    p = HalfMade(exists)
    with pytest.raises(Permanent, match="crush rule fast"):
        p.create({"name": "data", "crush_rule": "fast"})
    assert p.calls == calls  # an adopted pool is never removed by a failed create
