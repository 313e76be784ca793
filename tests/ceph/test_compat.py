"""State made by the old `ceph.Pool` / `ceph.RgwUser` / `ceph.Bucket` diffs as no change under the new code.

The old code (a pydantic `...Inputs` model, an `...Args` dataclass and a hand-written table per
resource, each with its own CRUD) recorded these inputs (what its `check` returned: what the engine
stores as a resource's inputs) and outputs (what its `outputs_for` / `user_outputs` returned for
the dashboard's and Admin Ops' answers; the same shape its create, read and update returned). They
were produced by running the old code at commit 0e36450 on the program values below. A stack
deployed with the old code previews as: `check` (old inputs, the program's values) then `diff`
(old outputs, new inputs): both must say nothing changed. The property names the resources
declare (and so the state's keys) are the old ones too.
"""

from __future__ import annotations

from typing import Any

import pytest

from providers.ceph import BucketArgs, BucketProvider, PoolArgs, PoolProvider, RgwUserArgs, RgwUserProvider
from providers.ceph._base import CephProvider

# (provider, the program's values, the old check's inputs, the old outputs)
CASES: list[tuple[type[CephProvider], dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        PoolProvider,
        {"name": "data", "application": "rgw", "quota_max_objects": 100, "compression_mode": "passive",
         "allow_delete": False},
        {"name": "data", "type": "replicated", "application": "rgw", "quota_max_objects": 100,
         "compression_mode": "passive", "allow_delete": False},
        {"name": "data", "type": "replicated", "erasure_code_profile": None, "size": None, "min_size": None,
         "pg_num": None, "pg_autoscale_mode": None, "crush_rule": None, "application": "rgw",
         "quota_max_bytes": None, "quota_max_objects": 100, "compression_mode": "passive",
         "compression_algorithm": None, "pool_id": 1,
         "live": {"size": 2, "min_size": 1, "pg_num": 8, "pg_autoscale_mode": "off", "crush_rule": "replicated_rule",
                  "applications": ["rgw"]},
         "allow_delete": False},
    ),
    (
        PoolProvider,
        {"name": "ec", "type": "erasure", "pg_autoscale_mode": "on", "quota_max_bytes": 1048576.0,
         "compression_mode": "force", "compression_algorithm": "zstd", "allow_delete": True},
        {"name": "ec", "type": "erasure", "pg_autoscale_mode": "on", "quota_max_bytes": 1048576,
         "compression_mode": "force", "compression_algorithm": "zstd", "allow_delete": True},
        {"name": "ec", "type": "erasure", "erasure_code_profile": None, "size": None, "min_size": None,
         "pg_num": None, "pg_autoscale_mode": "on", "crush_rule": None, "application": None,
         "quota_max_bytes": 1048576, "quota_max_objects": None, "compression_mode": "force",
         "compression_algorithm": "zstd", "pool_id": 7,
         "live": {"size": 3, "min_size": 2, "pg_num": 32, "pg_autoscale_mode": "on", "crush_rule": "ec",
                  "applications": []},
         "allow_delete": True},
    ),
    (
        RgwUserProvider,
        {"uid": "cs", "display_name": "CloudStack secondary storage", "caps": {"buckets": "read"},
         "key_rotation": "1"},
        {"uid": "cs", "display_name": "CloudStack secondary storage", "caps": {"buckets": "read"},
         "suspended": False, "key_rotation": "1", "purge_data": False},
        {"uid": "cs", "display_name": "CloudStack secondary storage", "email": None, "caps": {"buckets": "read"},
         "user_quota": None, "bucket_quota": None, "max_buckets": None, "suspended": False, "key_rotation": "1",
         "purge_data": False, "access_key": "AK", "secret_key": "SK"},
    ),
    (
        RgwUserProvider,
        {"uid": "u2", "display_name": "Two", "email": "u2@example.org",
         "caps": {"users": "read, write", "usage": "read"}, "user_quota": {"max_size": 1073741824},
         "bucket_quota": {"max_objects": 10000.0}, "max_buckets": 10.0, "purge_data": True},
        {"uid": "u2", "display_name": "Two", "email": "u2@example.org", "caps": {"usage": "read", "users": "*"},
         "user_quota": {"max_size": 1073741824}, "bucket_quota": {"max_objects": 10000}, "max_buckets": 10,
         "suspended": False, "purge_data": True},
        {"uid": "u2", "display_name": "Two", "email": "u2@example.org", "caps": {"usage": "read", "users": "*"},
         "user_quota": {"max_size": 1073741824}, "bucket_quota": {"max_objects": 10000}, "max_buckets": 10,
         "suspended": False, "key_rotation": None, "purge_data": True, "access_key": "AK2", "secret_key": "SK2"},
    ),
    (
        BucketProvider,
        {"name": "cs-secondary", "access_key": "AK", "secret_key": "SK"},
        {"name": "cs-secondary", "access_key": "AK", "secret_key": "SK"},
        {"name": "cs-secondary", "access_key": "AK", "secret_key": "SK", "owner": "cs"},
    ),
]


@pytest.mark.parametrize(("provider", "program", "old_inputs", "old_outputs"), CASES)
def test_old_state_diffs_as_no_change(
    provider: type[CephProvider], program: dict[str, Any], old_inputs: dict[str, Any], old_outputs: dict[str, Any]
) -> None:
    p = provider()
    checked = p.check(old_inputs, program)
    assert checked.failures == []
    assert dict(checked.inputs) == old_inputs  # the engine sees the same inputs
    result = p.diff("id", old_outputs, dict(checked.inputs))
    assert result.changes is False and not result.replaces


# The property names each resource declared with the old code (in its table's order): the
# state's keys, and what `pulumi.dynamic.Resource` is given.
OLD_PROPERTIES = [
    (PoolArgs, ["name", "type", "erasure_code_profile", "size", "min_size", "pg_num", "pg_autoscale_mode",
                "application", "quota_max_bytes", "quota_max_objects", "compression_mode",
                "compression_algorithm", "crush_rule", "allow_delete", "pool_id", "live"], []),
    (RgwUserArgs, ["uid", "display_name", "email", "caps", "user_quota", "bucket_quota", "max_buckets",
                   "suspended", "key_rotation", "purge_data", "access_key", "secret_key"],
     ["access_key", "secret_key"]),
    (BucketArgs, ["name", "access_key", "secret_key", "owner"], ["access_key", "secret_key"]),
]


@pytest.mark.parametrize(("args", "names", "secrets"), OLD_PROPERTIES)
def test_properties_and_secrets_are_the_old_ones(args: Any, names: list[str], secrets: list[str]) -> None:
    table = args.table()
    assert [f.name for f in table] == names
    assert table.secrets == secrets
