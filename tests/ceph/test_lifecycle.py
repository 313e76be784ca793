"""The providers against the real Ceph of the lab, with the idempotency choreography.

create, create again (adopts: no change), update, update again (no change), refresh after an
out-of-band change (made with the `ceph` / `radosgw-admin` CLI), delete, delete again.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from pulumi.dynamic import DiffResult

from lab import ceph as lab_ceph
from providers._core import Permanent
from providers.ceph import BucketProvider, PoolProvider, RgwUserProvider
from providers.ceph._base import CephProvider
from providers.ceph._rgw import s3, s3_client
from tests.ceph.conftest import configured

pytestmark = [pytest.mark.ceph, pytest.mark.slow]


@dataclass
class Outcome:
    id: str
    outs: dict[str, Any]
    inputs: dict[str, Any] | None = None


class Live:
    """A configured provider whose CRUD results are plain, typed dicts (for the assertions)."""

    def __init__(self, provider: CephProvider) -> None:
        self.p = provider

    def check(self, props: dict[str, Any]) -> dict[str, Any]:
        res = self.p.check({}, props)
        assert res.failures == [], res.failures
        return dict(res.inputs)

    def create(self, props: dict[str, Any]) -> Outcome:
        r = self.p.create(props)
        return Outcome(str(r.id), dict(r.outs or {}))

    def read(self, id_: str, props: dict[str, Any]) -> Outcome:
        r = self.p.read(id_, props)
        return Outcome(str(r.id or ""), dict(r.outs or {}), r.inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Outcome:
        return Outcome(id_, dict(self.p.update(id_, olds, news).outs or {}))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return self.p.diff(id_, olds, news)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.p.delete(id_, props)


def live_provider(provider: CephProvider, lab: dict[str, Any]) -> Live:
    return Live(configured(provider, lab))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def live_pool(lab: dict[str, Any], name: str) -> dict[str, Any]:
    import json

    pools = json.loads(lab_ceph.cli(lab["state_dir"], "osd", "pool", "ls", "detail", "--format", "json"))
    return next(p for p in pools if p["pool_name"] == name)


def test_pool_lifecycle(ceph_lab: dict[str, Any]) -> None:
    p = live_provider(PoolProvider(), ceph_lab)
    name = unique("pool")
    inputs = p.check({"name": name, "application": "rbd", "quota_max_objects": 1000,
                         "compression_mode": "passive", "allow_delete": False})

    # create
    created = p.create(inputs)
    assert created.id == name
    outs = created.outs
    assert outs["quota_max_objects"] == 1000 and outs["compression_mode"] == "passive"
    assert outs["live"]["applications"] == ["rbd"]
    pool_id = outs["pool_id"]

    # create again: adopts the pool of the same name, changes nothing
    again = p.create(inputs)
    assert again.outs == outs and again.outs["pool_id"] == pool_id
    assert p.diff(name, outs, inputs).changes is False

    # update: min_size, pg_num, quotas, compression, crush rule, application. (Not size: with one
    # OSD a pool of size 2 never gets clean, and Ceph then holds pg_num changes back.)
    updated_inputs = p.check({**inputs, "min_size": 1, "pg_num": 16, "quota_max_bytes": 10 << 20,
                                 "compression_algorithm": "zstd", "crush_rule": "replicated_rule",
                                 "application": "rgw"})
    assert p.diff(name, outs, updated_inputs).changes is True
    outs = p.update(name, outs, updated_inputs).outs
    live = live_pool(ceph_lab, name)
    assert (live["size"], live["min_size"], live["pg_num"]) == (1, 1, 16)
    assert live["quota_max_bytes"] == 10 << 20
    assert live["options"] == {"compression_algorithm": "zstd", "compression_mode": "passive"}
    assert list(live["application_metadata"]) == ["rgw"]

    # update again: nothing to do
    assert p.diff(name, outs, updated_inputs).changes is False
    assert p.update(name, outs, updated_inputs).outs == outs

    # out-of-band change, then refresh: the drift shows, the next update puts it back
    lab_ceph.cli(ceph_lab["state_dir"], "osd", "pool", "set-quota", name, "max_objects", "5")
    lab_ceph.cli(ceph_lab["state_dir"], "osd", "pool", "set", name, "compression_mode", "force")
    read = p.read(name, outs)
    assert read.outs["quota_max_objects"] == 5 and read.outs["compression_mode"] == "force"
    assert read.inputs is not None and read.inputs["quota_max_objects"] == 5
    assert p.diff(name, read.outs, updated_inputs).changes is True
    outs = p.update(name, read.outs, updated_inputs).outs
    assert live_pool(ceph_lab, name)["quota_max_objects"] == 1000

    # values removed from the program are unset, not left behind
    trimmed = p.check({"name": name, "allow_delete": True})
    outs = p.update(name, outs, trimmed).outs
    live = live_pool(ceph_lab, name)
    assert (live["quota_max_bytes"], live["quota_max_objects"]) == (0, 0)
    assert live["options"] == {} and live["application_metadata"] == {}
    assert live["pg_num"] == 8 and live["min_size"] == 1  # the cluster defaults
    assert p.diff(name, p.read(name, outs).outs, trimmed).changes is False

    # a change Ceph refuses at the API carries Ceph's own words
    with pytest.raises(Permanent, match=r"crush rule no-such-rule does not exist"):
        p.update(name, outs, {**trimmed, "crush_rule": "no-such-rule"})

    # delete needs the flag
    with pytest.raises(Permanent, match="allow_delete is not set"):
        p.delete(name, {**outs, "allow_delete": False})
    p.delete(name, outs)
    assert p.read(name, outs).id == ""
    p.delete(name, outs)  # delete again: already gone is fine


def test_pool_size_changes_and_the_size_one_refusal(ceph_lab: dict[str, Any]) -> None:
    """Size grows in place; going back to 1 is refused by check, with Ceph's reason."""
    p = live_provider(PoolProvider(), ceph_lab)
    name = unique("sized")
    inputs = p.check({"name": name, "allow_delete": True})
    outs = p.create(inputs).outs
    grown = p.check({**inputs, "size": 2, "min_size": 1})
    outs = p.update(name, outs, grown).outs
    assert (live_pool(ceph_lab, name)["size"], outs["size"]) == (2, 2)
    # Size 1 cannot be set again through the dashboard: check refuses it, before any call.
    failures = p.p.check({}, {**grown, "size": 1}).failures
    assert failures and "yes-i-really-mean-it" in failures[0].reason, failures
    # Removing size resets it to the cluster default, 1 in the lab: Ceph's EPERM comes through.
    with pytest.raises(Permanent, match="could lead to data loss"):
        p.update(name, outs, {**grown, "size": None})
    p.delete(name, outs)


def test_erasure_pool_with_autoscaler(ceph_lab: dict[str, Any]) -> None:
    """An erasure pool (its size is the profile's k+m); the autoscaler's mode set, then unset."""
    p = live_provider(PoolProvider(), ceph_lab)
    name = unique("ec")
    inputs = p.check({"name": name, "type": "erasure", "pg_autoscale_mode": "on", "allow_delete": True})
    outs = p.create(inputs).outs
    live = live_pool(ceph_lab, name)
    assert live["erasure_code_profile"] == "default" and live["pg_autoscale_mode"] == "on"
    assert outs["size"] is None and outs["live"]["size"] == live["size"]
    assert p.diff(name, outs, inputs).changes is False
    # The program now names the profile Ceph chose: a replace-only field, but no change.
    assert p.diff(name, outs, {**inputs, "erasure_code_profile": None}).changes is False
    assert list(p.diff(name, outs, {**inputs, "type": "replicated"}).replaces or []) == ["type"]
    unset = {k: v for k, v in inputs.items() if k != "pg_autoscale_mode"}
    outs = p.update(name, outs, unset).outs
    assert live_pool(ceph_lab, name)["pg_autoscale_mode"] == "off"  # the cluster default
    assert p.diff(name, p.read(name, outs).outs, unset).changes is False
    p.delete(name, outs)


def test_pool_vanished_reads_empty(ceph_lab: dict[str, Any]) -> None:
    p = live_provider(PoolProvider(), ceph_lab)
    assert p.read("no-such-pool", {}).id == ""


def s3_status(ceph_lab: dict[str, Any], access: str, secret: str) -> int:
    """GET / (list my buckets) with these keys: 200 when they work, 403 when not."""
    try:
        client = s3_client(ceph_lab["rgw_url"], access, secret)
        s3("test", "GET /", client.list_buckets)
    except Permanent as e:
        return int(e.message.split("HTTP ")[1][:3])
    return 200


def radosgw_admin(ceph_lab: dict[str, Any], *args: str) -> str:
    conf = str(ceph_lab["state_dir"] / "ceph.conf")
    return subprocess.run(["radosgw-admin", "-c", conf, *args], check=True, capture_output=True,
                          text=True).stdout


def test_rgw_user_lifecycle(ceph_lab: dict[str, Any]) -> None:
    u = live_provider(RgwUserProvider(), ceph_lab)
    b = live_provider(BucketProvider(), ceph_lab)
    uid = unique("user")
    inputs = u.check({"uid": uid, "display_name": "Secondary storage", "email": f"{uid}@example.org",
                         "caps": {"buckets": "read"}, "user_quota": {"max_size": 1 << 30},
                         "bucket_quota": {"max_objects": 10000}, "max_buckets": 10})

    created = u.create(inputs)
    outs = created.outs
    assert created.id == uid and outs["caps"] == {"buckets": "read"}
    assert s3_status(ceph_lab, outs["access_key"], outs["secret_key"]) == 200

    # create again: the engine would see no change; read agrees with what create returned
    assert u.diff(uid, outs, inputs).changes is False
    assert u.read(uid, outs).outs == outs

    # update: caps changed in place (same key, same user), email removed, quota changed, suspended
    changed = u.check({**{k: v for k, v in inputs.items() if k != "email"},
                          "caps": {"buckets": "*", "usage": "read"}, "user_quota": {"max_objects": 50}})
    outs2 = u.update(uid, outs, changed).outs
    assert outs2["access_key"] == outs["access_key"]  # not re-created
    assert outs2["caps"] == {"buckets": "*", "usage": "read"} and outs2["email"] is None
    assert outs2["user_quota"] == {"max_objects": 50}
    assert u.diff(uid, outs2, changed).changes is False  # update again: nothing

    # a bucket owned by the user (CloudStack secondary storage needs one)
    bucket = unique("bucket")
    bouts = b.create({"name": bucket, "access_key": outs2["access_key"], "secret_key": outs2["secret_key"]}).outs
    assert bouts["owner"] == uid
    assert b.read(bucket, bouts).id == bucket

    # key rotation: a new pair works, the old one stops working
    rotated = {**changed, "key_rotation": "2026-11"}
    assert u.diff(uid, outs2, rotated).changes is True
    outs3 = u.update(uid, outs2, rotated).outs
    assert outs3["access_key"] != outs2["access_key"]
    assert s3_status(ceph_lab, outs3["access_key"], outs3["secret_key"]) == 200
    assert s3_status(ceph_lab, outs2["access_key"], outs2["secret_key"]) == 403

    # out-of-band changes show at refresh and are undone by the next update
    radosgw_admin(ceph_lab, "caps", "add", f"--uid={uid}", "--caps=users=read")
    radosgw_admin(ceph_lab, "user", "suspend", f"--uid={uid}")
    read = u.read(uid, outs3)
    assert read.outs["caps"] == {"buckets": "*", "usage": "read", "users": "read"}
    assert read.outs["suspended"] is True
    assert u.diff(uid, read.outs, rotated).changes is True
    outs4 = u.update(uid, read.outs, rotated).outs
    assert outs4["caps"] == {"buckets": "*", "usage": "read"} and outs4["suspended"] is False
    assert outs4["access_key"] == outs3["access_key"]

    # delete keeps data: RGW refuses while the user owns a bucket, and we say why
    with pytest.raises(Permanent, match="purge_data is not set"):
        u.delete(uid, outs4)
    b.delete(bucket, {**bouts, "access_key": outs4["access_key"], "secret_key": outs4["secret_key"]})
    assert b.read(bucket, bouts).id == ""
    u.delete(uid, outs4)
    assert u.read(uid, outs4).id == ""
    u.delete(uid, outs4)  # delete again


def test_rgw_user_purge_deletes_buckets(ceph_lab: dict[str, Any]) -> None:
    u = live_provider(RgwUserProvider(), ceph_lab)
    uid = unique("purge")
    outs = u.create(u.check({"uid": uid, "display_name": "P", "purge_data": True})).outs
    live_provider(BucketProvider(), ceph_lab).create(
        {"name": unique("pb"), "access_key": outs["access_key"], "secret_key": outs["secret_key"]})
    u.delete(uid, outs)
    assert u.read(uid, outs).id == ""


def test_rgw_email_conflict_keeps_api_words(ceph_lab: dict[str, Any]) -> None:
    u = live_provider(RgwUserProvider(), ceph_lab)
    first = u.create(u.check({"uid": unique("e1"), "display_name": "A", "email": "dup@example.org"}))
    try:
        with pytest.raises(Permanent, match="EmailExists"):
            u.create(u.check({"uid": unique("e2"), "display_name": "B", "email": "dup@example.org"}))
    finally:
        u.delete(first.id, first.outs)


def test_bad_credentials_say_so(ceph_lab: dict[str, Any]) -> None:
    u = live_provider(RgwUserProvider(), {**ceph_lab, "rgw_secret_key": "wrong"})
    with pytest.raises(Permanent, match="SignatureDoesNotMatch"):
        u.read("anyone", {})
    p = live_provider(PoolProvider(), {**ceph_lab, "dashboard_password": "wrong"})
    with pytest.raises(Permanent, match="dashboard login: HTTP 400: Invalid credentials"):
        p.read("anything", {})
    assert requests.get(ceph_lab["dashboard_url"] + "/api/pool", timeout=10).status_code == 401


def test_a_refresh_logs_in_to_the_dashboard_before_its_first_ceph_read(ceph_lab: dict[str, Any],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's first read of any resource (an RGW user here; in the dev region an Ironic
    node) starts the dashboard login in the background; the Ceph read that follows uses that
    token, as every Ceph provider of the process does: one login, not one per provider."""
    import threading

    from providers._core import cache
    from providers.ceph import _http
    from providers.ceph.settings import Settings
    from tests.ceph.conftest import stack_config

    monkeypatch.setattr(cache, "_logged_in_early", False)
    _http.dashboard.clear()
    shared = _http.dashboard(Settings.from_config(stack_config(ceph_lab)))
    paths: list[str] = []
    shared.session.hooks["response"].append(lambda r, **_: paths.append(f"{r.request.method} {r.request.path_url}"))
    users, pools = configured(RgwUserProvider(), ceph_lab), configured(PoolProvider(), ceph_lab)
    assert users.read("nobody-" + unique("u"), {}).id == ""
    for login in [t for t in threading.enumerate() if t.name == "login-ceph"]:
        login.join(60)
    assert paths == ["POST /api/auth"]
    assert pools.read("no-such-pool-" + unique("p"), {}).id == ""
    assert configured(PoolProvider(), ceph_lab).dashboard is pools.dashboard is shared
    assert [p.split("?")[0] for p in paths] == ["POST /api/auth", "GET /api/pool"]
