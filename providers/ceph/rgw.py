"""`ceph.RgwUser` and `ceph.Bucket`: RGW users through the Admin Ops API, buckets through S3.

A user's uid is fixed (a change replaces the user); everything else changes in place: display
name, email and max buckets by "Modify User", caps by adding and removing exactly the capabilities
that changed (never by re-creating the user), quotas by "Set Quota". A value removed from the
program is unset: email cleared, caps removed, quotas disabled, max buckets back to RGW's 1000.

The user's S3 key pair is a secret output (`output(secret=True)`: `additional_secret_outputs`). Changing
`key_rotation` (any string: a date, a counter) rotates it without a gap: a new pair is generated
first, then the old one is removed. A managed key removed outside Pulumi shows up as drift on
`key_rotation` at refresh, and the next `up` issues a new one.

Delete keeps the user's buckets and objects unless `purge_data` is set; RGW then refuses to
delete a user who still owns buckets, and the error says so.

Each field is declared once, in `RgwUserArgs` / `BucketArgs`; the lifecycle is the core's
(`providers._core.lifecycle`) with the hooks below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pydantic
from typing_extensions import override

from providers._core import Change, NotFound, Permanent
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.lifecycle import Obj
from providers._core.resource import Declared

from ._base import CephProvider
from ._rgw import AdminOps, s3, s3_client

USER = "ceph.RgwUser"
BUCKET = "ceph.Bucket"
DEFAULT_MAX_BUCKETS = 1000  # rgw_user_max_buckets
KEY_GONE = "(managed key removed outside Pulumi)"
PERMS = {"read": {"read"}, "write": {"write"}, "*": {"read", "write"}}
KEY = "__key"  # the managed key pair, carried on a user object from `make`/`apply` to `outputs`


def perm_set(perm: str) -> set[str]:
    """'read', 'write', '*', 'read, write' -> a set of 'read'/'write'."""
    out: set[str] = set()
    for part in perm.replace(" ", "").split(","):
        if part not in PERMS:
            raise ValueError(f"unknown permission {part!r}; use read, write or *")
        out |= PERMS[part]
    return out


def perm_name(perms: set[str]) -> str:
    return "*" if perms == {"read", "write"} else next(iter(perms))


def norm_caps(caps: Any) -> dict[str, str] | None:
    """Caps as {type: 'read'|'write'|'*'} from a dict or RGW's [{'type', 'perm'}] list."""
    if not caps:
        return None
    items = caps.items() if isinstance(caps, dict) else ((c["type"], c["perm"]) for c in caps)
    return {t: perm_name(perm_set(p)) for t, p in sorted(items)}


def norm_quota(q: Any) -> dict[str, int] | None:
    """A quota as {max_size?, max_objects?} (bytes, objects); disabled or unlimited -> None."""
    if not q or (isinstance(q, dict) and q.get("enabled") is False):
        return None
    out = {k: int(q[k]) for k in ("max_size", "max_objects") if q.get(k) is not None and int(q[k]) >= 0}
    return out or None


class Quota(pydantic.BaseModel):
    """An RGW quota: either limit may be left out (unlimited)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    max_size: int | None = pydantic.Field(None, ge=0, description="Bytes.")
    max_objects: int | None = pydantic.Field(None, ge=0, description="Objects.")


class RgwUserChecks(PulumiInputsBase):
    """The key rotation is text (the engine may send a number); caps are capability names."""

    @pydantic.field_validator("key_rotation", mode="before", check_fields=False)
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return None if v is None else str(v)

    @pydantic.field_validator("caps", check_fields=False)
    @classmethod
    def _caps(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is None:
            return None
        for t in v:
            if not t or any(ch in t for ch in "=;, "):
                raise ValueError(f"cap type {t!r} is not a capability name (e.g. users, buckets)")
        return norm_caps(v)


class RgwUserArgs(Args, resource=USER, checks=RgwUserChecks):
    """Inputs of `ceph.RgwUser`."""

    uid: pulumi.Input[str] = arg(api="user_id", change=Change.REPLACE, min_length=1, max_length=255,
                                 pattern=r"^[A-Za-z0-9_.@-]+$")
    """User id; a change replaces the user."""
    display_name: pulumi.Input[str] = arg(min_length=1)
    """Display name (RGW requires one)."""
    email: pulumi.Input[str] | None = arg(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    """E-mail address (unique across users); unset clears it."""
    caps: pulumi.Input[dict[str, str]] | None = arg(default=None, normalize=norm_caps)
    """Admin capabilities, {type: 'read'|'write'|'*'}, e.g. {'buckets': '*', 'usage': 'read'}; changed in place."""
    user_quota: pulumi.Input[dict[str, int]] | None = arg(default=None, normalize=norm_quota, check=Quota)
    """{'max_size': bytes, 'max_objects': n} for the whole user; unset disables it."""
    bucket_quota: pulumi.Input[dict[str, int]] | None = arg(default=None, normalize=norm_quota, check=Quota)
    """The same per bucket; unset disables it."""
    max_buckets: pulumi.Input[int] | None = arg(default=None, normalize=int, ge=0)
    """How many buckets the user may own (unset: RGW's 1000)."""
    suspended: pulumi.Input[bool] = arg(default=False, normalize=bool)
    """Suspend the user (keys stop working, data stays)."""
    key_rotation: pulumi.Input[str] | None = arg(default=None, normalize=str)
    """Change this value to rotate the S3 key pair (new pair first, then the old one goes)."""
    purge_data: pulumi.Input[bool] = arg(default=False, normalize=bool)
    """Delete the user's buckets and objects with the user (otherwise delete keeps them)."""
    access_key: pulumi.Output[str] = output(secret=True)
    """The managed S3 access key (secret)."""
    secret_key: pulumi.Output[str] = output(secret=True)
    """The managed S3 secret key (secret)."""


def caps_string(caps: dict[str, set[str]]) -> str:
    return ";".join(f"{t}={perm_name(p)}" for t, p in sorted(caps.items()) if p)


def caps_delta(old: dict[str, str] | None, new: dict[str, str] | None) -> tuple[str, str]:
    """(caps to add, caps to remove) as RGW's `type=perm;...` strings, per permission bit."""
    old_s = {t: perm_set(p) for t, p in (old or {}).items()}
    new_s = {t: perm_set(p) for t, p in (new or {}).items()}
    add = {t: new_s[t] - old_s.get(t, set()) for t in new_s}
    remove = {t: old_s[t] - new_s.get(t, set()) for t in old_s}
    return caps_string(add), caps_string(remove)


def user_outputs(user: Mapping[str, Any], declared: Mapping[str, Any], key: Mapping[str, str] | None) -> dict[str, Any]:
    max_buckets = int(user.get("max_buckets", DEFAULT_MAX_BUCKETS))
    rotation = declared.get("key_rotation")
    return {
        "uid": user["user_id"],
        "display_name": user.get("display_name"),
        "email": user.get("email") or None,
        "caps": norm_caps(user.get("caps")),
        "user_quota": norm_quota(user.get("user_quota")),
        "bucket_quota": norm_quota(user.get("bucket_quota")),
        # Reported only while declared, unless it drifted from RGW's default.
        "max_buckets": max_buckets if declared.get("max_buckets") is not None
        or max_buckets != DEFAULT_MAX_BUCKETS else None,
        "suspended": bool(user.get("suspended")),
        "key_rotation": rotation if key is not None else KEY_GONE,
        "purge_data": bool(declared.get("purge_data", False)),
        "access_key": key["access_key"] if key else None,
        "secret_key": key["secret_key"] if key else None,
    }


def quota_body(q: Mapping[str, Any] | None) -> dict[str, Any]:
    norm = norm_quota(q) or {}
    return {"enabled": bool(norm), "check_on_raw": False,
            "max_size": norm.get("max_size", -1), "max_objects": norm.get("max_objects", -1)}


@dataclass(frozen=True)
class UserOp:
    """Admin Ops for one operation on a user, with what its delete needs from the state."""

    admin: AdminOps
    purge_data: bool = False


class RgwUserProvider(CephProvider[UserOp]):
    args = RgwUserArgs
    label_field = "uid"
    transactional = True  # a user made here that cannot be converged is removed again

    @override
    def client(self, props: Mapping[str, Any]) -> UserOp:
        return UserOp(self.rgw_admin, bool(props.get("purge_data")))

    @override
    def fetch(self, client: UserOp, obj_id: str) -> Obj | None:
        try:
            user = client.admin.get_user(USER, obj_id)
        except NotFound:
            return None
        return user if isinstance(user, dict) else None

    @override
    def make(self, client: UserOp, wanted: Obj) -> Obj:
        caps = caps_string({t: perm_set(p) for t, p in (wanted.get("caps") or {}).items()})
        user = client.admin.create_user(USER, wanted["uid"], wanted["display_name"], email=wanted.get("email"),
                                        max_buckets=wanted.get("max_buckets"),
                                        suspended=str(wanted["suspended"]).lower(), user_caps=caps or None,
                                        key_type="s3")
        assert isinstance(user, dict)
        first = user["keys"][0]
        return {**user, KEY: {"access_key": first["access_key"], "secret_key": first["secret_key"]}}

    @override
    def settle(self, created: bool, wanted: Obj) -> bool:
        return True  # a user made here still needs its quotas; an adopted one may differ (and needs a key)

    @override
    def apply(self, client: UserOp, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        """Everything live brought to `wanted`; the key rotated when asked or when ours is gone."""
        user = self.fetch(client, obj_id)
        if user is None:
            raise NotFound(USER, f"user {obj_id} vanished; run `pulumi refresh` to recreate it")
        self._converge(client.admin, user, wanted)
        key = self._key(user, current.get("access_key"))
        if key is None or current.get("key_rotation") != wanted.get("key_rotation"):
            # Rotate without a gap: the new pair exists before the old one goes (an adopted user:
            # our key is unknown, so one is issued, non-destructively).
            fresh = self._new_key(client.admin, obj_id, {k["access_key"] for k in user.get("keys", [])})
            if key is not None:
                client.admin.remove_key(USER, obj_id, key["access_key"])
            key = fresh
        return {**(self.fetch(client, obj_id) or user), KEY: key}

    @override
    def outputs(self, client: UserOp, obj: Obj, carried: Obj) -> Obj:
        key = obj[KEY] if KEY in obj else self._key(obj, carried.get("access_key"))
        return user_outputs(obj, carried, key)

    @override
    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        return dict(outputs)  # `user_outputs` already says what is managed (a vanished key: drift)

    @override
    def destroy(self, client: UserOp, obj: Obj) -> None:
        uid = self.obj_id(obj)
        try:
            client.admin.remove_user(USER, uid, purge_data=client.purge_data)
        except Permanent as e:
            if "BucketAlreadyExists" in e.message or "409" in e.message:
                raise Permanent(USER, f"user {uid} still owns buckets and purge_data is not set, so its "
                                      f"data is kept: remove the buckets or set purge_data=True ({e.message})"
                                ) from e
            raise

    # --- what converging a user takes -----------------------------------------------------------

    @staticmethod
    def _converge(api: AdminOps, user: Obj, want: Obj) -> None:
        uid = want["uid"]
        modify: dict[str, Any] = {}
        if user.get("display_name") != want["display_name"]:
            modify["display_name"] = want["display_name"]
        if (user.get("email") or None) != want.get("email"):
            modify["email"] = want.get("email") or ""
        max_buckets = want.get("max_buckets", DEFAULT_MAX_BUCKETS)
        if int(user.get("max_buckets", DEFAULT_MAX_BUCKETS)) != max_buckets:
            modify["max_buckets"] = max_buckets
        if bool(user.get("suspended")) != want["suspended"]:
            modify["suspended"] = str(want["suspended"]).lower()
        if modify:
            api.modify_user(USER, uid, **modify)
        add, remove = caps_delta(norm_caps(user.get("caps")), want.get("caps"))
        if remove:
            api.remove_caps(USER, uid, remove)
        if add:
            api.add_caps(USER, uid, add)
        for kind in ("user", "bucket"):
            wanted = want.get(f"{kind}_quota")
            if norm_quota(user.get(f"{kind}_quota")) != norm_quota(wanted):
                api.set_quota(USER, uid, kind, quota_body(wanted))

    @staticmethod
    def _new_key(api: AdminOps, uid: str, known: set[str]) -> dict[str, str]:
        keys = api.create_key(USER, uid)
        fresh = [k for k in keys if k["user"] == uid and k["access_key"] not in known]
        if len(fresh) != 1:
            raise Permanent(USER, f"user {uid}: expected one new S3 key, RGW listed {len(fresh)}")
        return {"access_key": fresh[0]["access_key"], "secret_key": fresh[0]["secret_key"]}

    @staticmethod
    def _key(user: Mapping[str, Any], access_key: str | None) -> dict[str, str] | None:
        for k in user.get("keys", []):
            if access_key and k.get("access_key") == access_key:
                return {"access_key": k["access_key"], "secret_key": k["secret_key"]}
        return None


class RgwUser(Declared[RgwUserArgs], module="ceph", name="RgwUser"):
    """An RGW user with one managed S3 key pair (`ceph.RgwUser`)."""

    provider_type = RgwUserProvider


# -------------------------------------------------------------------------------------- buckets


class BucketArgs(Args, resource=BUCKET):
    """Inputs of `ceph.Bucket` (created through S3 with the owner's own keys)."""

    name: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=3, max_length=63,
                                  pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$")
    """Bucket name (S3 rules); a change replaces the bucket."""
    access_key: pulumi.Input[str] = arg(secret=True, min_length=1)
    """The owner's S3 access key (e.g. `RgwUser.access_key`; secret)."""
    secret_key: pulumi.Input[str] = arg(secret=True, min_length=1)
    """The owner's S3 secret key (e.g. `RgwUser.secret_key`; secret)."""
    owner: pulumi.Output[str] = output()
    """The uid RGW reports as the bucket's owner."""


KEYS = ("access_key", "secret_key")


@dataclass(frozen=True)
class BucketOp:
    """One operation on a bucket: Admin Ops to read it, S3 with its owner's keys to make or remove it."""

    admin: AdminOps
    url: str
    access_key: str
    secret_key: str
    timeout: float

    def s3(self) -> Any:
        """boto3's S3 client with the owner's keys."""
        return s3_client(self.url, self.access_key, self.secret_key, self.timeout)


class BucketProvider(CephProvider[BucketOp]):
    """S3 `PUT /<bucket>` as its owner; read through the Admin Ops bucket info."""

    args = BucketArgs
    adopt = False  # S3 says whether a bucket of that name is the owner's (`make`)

    @override
    def client(self, props: Mapping[str, Any]) -> BucketOp:
        s = self.settings()
        return BucketOp(self.rgw_admin, s.rgw_url, str(props.get("access_key")), str(props.get("secret_key")),
                        s.http_timeout)

    @override
    def fetch(self, client: BucketOp, obj_id: str) -> Obj | None:
        owner = client.admin.bucket_owner(BUCKET, obj_id)
        return None if owner is None else {"name": obj_id, "owner": owner}

    @override
    def make(self, client: BucketOp, wanted: Obj) -> Obj:
        # Creating a bucket the same owner already has succeeds (S3 in us-east-1 style): adopts it.
        name, api = wanted["name"], client.s3()
        s3(BUCKET, f"PUT /{name}", lambda: api.create_bucket(Bucket=name))
        return {"name": name, "owner": client.admin.bucket_owner(BUCKET, name)}

    @override
    def apply(self, client: BucketOp, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        return None  # only the owner's keys change (a rotation): nothing to do in RGW

    @override
    def outputs(self, client: BucketOp, obj: Obj, carried: Obj) -> Obj:
        return {"name": obj["name"], **{k: carried.get(k) for k in KEYS}, "owner": obj["owner"]}

    @override
    def destroy(self, client: BucketOp, obj: Obj) -> None:
        name, api = obj["name"], client.s3()
        s3(BUCKET, f"DELETE /{name}", lambda: api.delete_bucket(Bucket=name))


class Bucket(Declared[BucketArgs], module="ceph", name="Bucket"):
    """An S3 bucket in RGW (`ceph.Bucket`), e.g. CloudStack's secondary storage."""

    provider_type = BucketProvider
