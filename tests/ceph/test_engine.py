"""`ceph.Pool`, `ceph.RgwUser` and `ceph.Bucket` through the real Pulumi engine and the real Ceph.

Preview shows update versus replace; the S3 keys are secret in state (the exported state never
holds the secret key in plaintext); destroy refuses a pool without `allow_delete`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from lab import ceph as lab_ceph
from tests.ceph.conftest import stack_config
from tests.enginekit import EngineStack

pytestmark = [pytest.mark.engine, pytest.mark.ceph, pytest.mark.slow]

PROGRAM = """
import pulumi
from providers import ceph

cfg = pulumi.Config()
pool = ceph.Pool("pool", ceph.PoolArgs(
    name=cfg.require("pool_name"),
    application="rgw",
    quota_max_objects=cfg.get_int("quota"),
    allow_delete=cfg.get_bool("allow_delete") or False,
))
user = ceph.RgwUser("user", ceph.RgwUserArgs(
    uid=cfg.require("uid"),
    display_name="CloudStack secondary storage",
    caps={"buckets": cfg.get("bucket_caps") or "read"},
    key_rotation=cfg.get("rotation"),
))
bucket = ceph.Bucket("bucket", ceph.BucketArgs(
    name=cfg.require("bucket"), access_key=user.access_key, secret_key=user.secret_key))
pulumi.export("pool_id", pool.pool_id)
pulumi.export("access_key", user.access_key)
pulumi.export("secret_key", user.secret_key)
pulumi.export("owner", bucket.owner)
"""


def test_engine_lifecycle(tmp_path: Path, engine_bin: Path, ceph_lab: dict[str, Any]) -> None:
    tag = uuid.uuid4().hex[:6]
    pool_name = f"eng-{tag}"
    st = EngineStack.create(
        tmp_path, engine_bin, program=PROGRAM,
        config={"pool_name": pool_name, "uid": f"eng-{tag}", "bucket": f"eng-bucket-{tag}", "quota": "100"},
        secrets={"ceph": json.dumps(stack_config(ceph_lab))},
    )

    assert st.preview().changes == {"create": 4}
    assert st.up().changes == {"create": 4}
    assert st.outputs()["owner"] == f"eng-{tag}"

    # Keys are secret: masked in outputs, encrypted in the exported state.
    secret = st.outputs(show_secrets=True)["secret_key"]
    assert secret and st.outputs()["secret_key"] == "[secret]"
    exported = json.dumps(st.export())
    assert secret not in exported
    assert ceph_lab["dashboard_password"] not in exported and ceph_lab["rgw_secret_key"] not in exported

    # Again: nothing to do. Refresh: nothing drifted.
    again = st.up()
    assert again.changes == {}
    assert st.refresh().changes == {}

    # Out-of-band change, then refresh shows it and up puts it back.
    lab_ceph.cli(ceph_lab["state_dir"], "osd", "pool", "set-quota", pool_name, "max_objects", "7")
    assert st.refresh().changes == {"update": 1}
    assert st.preview().ops_by_name()["pool"] == "update"
    st.up()
    pools = json.loads(lab_ceph.cli(ceph_lab["state_dir"], "osd", "pool", "ls", "detail", "--format", "json"))
    assert next(p for p in pools if p["pool_name"] == pool_name)["quota_max_objects"] == 100

    # In-place updates: quota removed (unset), caps changed, keys rotated.
    st.set_config("bucket_caps", "*")
    st.set_config("rotation", "1")
    st.run("config", "rm", "quota").check()
    preview = st.preview()
    ops = preview.ops_by_name()
    assert ops["pool"] == "update" and ops["user"] == "update"
    up = st.up()
    assert up.ops_by_name()["user"] == "update"
    new_secret = st.outputs(show_secrets=True)["secret_key"]
    assert new_secret != secret and new_secret not in json.dumps(st.export())
    assert next(p for p in json.loads(lab_ceph.cli(ceph_lab["state_dir"], "osd", "pool", "ls", "detail",
                                                   "--format", "json"))
                if p["pool_name"] == pool_name)["quota_max_objects"] == 0

    # A new uid, a new pool name: replaces, known at preview.
    st.set_config("uid", f"eng2-{tag}")
    st.set_config("pool_name", f"eng2-{tag}")
    ops = st.preview().ops_by_name()
    assert ops["user"] == "replace" and ops["pool"] == "replace"
    st.set_config("pool_name", pool_name)

    # Destroy refuses the pool until the program allows it.
    refused = st.run("destroy", "--skip-preview")
    assert refused.returncode != 0
    assert any("allow_delete is not set" in d for d in refused.diagnostics())
    st.set_config("uid", f"eng-{tag}")
    st.set_config("allow_delete", "true")
    st.up()
    st.destroy()
    assert st.resources() == {}
