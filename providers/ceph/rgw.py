"""`ceph.RgwUser` and `ceph.Bucket`: RGW users through the Admin Ops API, buckets through S3.

A user's uid is fixed (a change replaces the user); everything else changes in place: display
name, email and max buckets by "Modify User", caps by adding and removing exactly the capabilities
that changed (never by re-creating the user), quotas by "Set Quota". A value removed from the
program is unset: email cleared, caps removed, quotas disabled, max buckets back to RGW's 1000.

The user's S3 key pair is a secret output (declared with `additional_secret_outputs`). Changing
`key_rotation` (any string: a date, a counter) rotates it without a gap: a new pair is generated
first, then the old one is removed. A managed key removed outside Pulumi shows up as drift on
`key_rotation` at refresh, and the next `up` issues a new one.

Delete keeps the user's buckets and objects unless `purge_data` is set; RGW then refuses to
delete a user who still owns buckets, and the error says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pydantic
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from providers._core import Change, Field, NotFound, Permanent, ProviderError, Table

from ._base import CephProvider
from ._rgw import s3, s3_client

USER = "ceph.RgwUser"
BUCKET = "ceph.Bucket"
DEFAULT_MAX_BUCKETS = 1000  # rgw_user_max_buckets
KEY_GONE = "(managed key removed outside Pulumi)"
PERMS = {"read": {"read"}, "write": {"write"}, "*": {"read", "write"}}


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


USER_TABLE = Table(
    USER,
    (
        Field("uid", change=Change.REPLACE),
        Field("display_name"),
        Field("email"),
        Field("caps", normalize=norm_caps),
        Field("user_quota", normalize=norm_quota),
        Field("bucket_quota", normalize=norm_quota),
        Field("max_buckets", normalize=int),
        Field("suspended", normalize=bool),
        Field("key_rotation", normalize=str),
        Field("purge_data", normalize=bool),
        Field("access_key", change=Change.OUTPUT, secret=True),
        Field("secret_key", change=Change.OUTPUT, secret=True),
    ),
)


class Quota(pydantic.BaseModel):
    """An RGW quota: either limit may be left out (unlimited)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    max_size: int | None = pydantic.Field(None, ge=0, description="Bytes.")
    max_objects: int | None = pydantic.Field(None, ge=0, description="Objects.")

    @pydantic.field_validator("max_size", "max_objects", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        return int(v) if isinstance(v, float) and v.is_integer() else v


class RgwUserInputs(pydantic.BaseModel):
    """The inputs of a `ceph.RgwUser`."""

    model_config = pydantic.ConfigDict(extra="forbid")

    uid: str = pydantic.Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.@-]+$",
                              description="User id; a change replaces the user.")
    display_name: str = pydantic.Field(min_length=1, description="Display name (required by RGW).")
    email: str | None = pydantic.Field(None, pattern=r"^[^@\s]+@[^@\s]+$", description="E-mail.")
    caps: dict[str, str] | None = pydantic.Field(
        None, description="Admin caps, e.g. {'buckets': '*', 'usage': 'read'}; changed in place.")
    user_quota: Quota | None = pydantic.Field(None, description="Per-user quota (unset: disabled).")
    bucket_quota: Quota | None = pydantic.Field(None, description="Per-bucket quota (unset: disabled).")
    max_buckets: int | None = pydantic.Field(None, ge=0, description="Max buckets (unset: 1000).")
    suspended: bool = pydantic.Field(False, description="Suspend the user.")
    key_rotation: str | None = pydantic.Field(None, description="Change to rotate the S3 key pair.")
    purge_data: bool = pydantic.Field(False, description="Delete the user's buckets with the user.")

    @pydantic.field_validator("max_buckets", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        return int(v) if isinstance(v, float) and v.is_integer() else v

    @pydantic.field_validator("key_rotation", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return None if v is None else str(v)

    @pydantic.field_validator("caps")
    @classmethod
    def _caps(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is None:
            return None
        for t in v:
            if not t or any(ch in t for ch in "=;, "):
                raise ValueError(f"cap type {t!r} is not a capability name (e.g. users, buckets)")
        return norm_caps(v)


def caps_string(caps: dict[str, set[str]]) -> str:
    return ";".join(f"{t}={perm_name(p)}" for t, p in sorted(caps.items()) if p)


def caps_delta(old: dict[str, str] | None, new: dict[str, str] | None) -> tuple[str, str]:
    """(caps to add, caps to remove) as RGW's `type=perm;...` strings, per permission bit."""
    old_s = {t: perm_set(p) for t, p in (old or {}).items()}
    new_s = {t: perm_set(p) for t, p in (new or {}).items()}
    add = {t: new_s[t] - old_s.get(t, set()) for t in new_s}
    remove = {t: old_s[t] - new_s.get(t, set()) for t in old_s}
    return caps_string(add), caps_string(remove)


def user_outputs(user: dict[str, Any], declared: dict[str, Any], key: dict[str, str] | None) -> dict[str, Any]:
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


def quota_body(q: dict[str, Any] | None) -> dict[str, Any]:
    q = norm_quota(q) or {}
    return {"enabled": bool(q), "check_on_raw": False,
            "max_size": q.get("max_size", -1), "max_objects": q.get("max_objects", -1)}


class RgwUserProvider(CephProvider):
    table: ClassVar[Table] = USER_TABLE
    model: ClassVar[type[pydantic.BaseModel]] = RgwUserInputs

    def _get(self, uid: str) -> dict[str, Any] | None:
        try:
            user = self.rgw_admin().get_user(USER, uid)
        except NotFound:
            return None
        return user if isinstance(user, dict) else None

    def _converge(self, user: dict[str, Any], want: RgwUserInputs) -> None:
        api = self.rgw_admin()
        modify: dict[str, Any] = {}
        if user.get("display_name") != want.display_name:
            modify["display_name"] = want.display_name
        if (user.get("email") or None) != want.email:
            modify["email"] = want.email or ""
        max_buckets = want.max_buckets if want.max_buckets is not None else DEFAULT_MAX_BUCKETS
        if int(user.get("max_buckets", DEFAULT_MAX_BUCKETS)) != max_buckets:
            modify["max_buckets"] = max_buckets
        if bool(user.get("suspended")) != want.suspended:
            modify["suspended"] = str(want.suspended).lower()
        if modify:
            api.modify_user(USER, want.uid, **modify)
        add, remove = caps_delta(norm_caps(user.get("caps")), want.caps)
        if remove:
            api.remove_caps(USER, want.uid, remove)
        if add:
            api.add_caps(USER, want.uid, add)
        for kind, q in (("user", want.user_quota), ("bucket", want.bucket_quota)):
            wanted = q.model_dump() if q else None
            if norm_quota(user.get(f"{kind}_quota")) != norm_quota(wanted):
                api.set_quota(USER, want.uid, kind, quota_body(wanted))

    def _new_key(self, uid: str, known: set[str]) -> dict[str, str]:
        keys = self.rgw_admin().create_key(USER, uid)
        fresh = [k for k in keys if k["user"] == uid and k["access_key"] not in known]
        if len(fresh) != 1:
            raise Permanent(USER, f"user {uid}: expected one new S3 key, RGW listed {len(fresh)}")
        return {"access_key": fresh[0]["access_key"], "secret_key": fresh[0]["secret_key"]}

    @staticmethod
    def _key(user: dict[str, Any], access_key: str | None) -> dict[str, str] | None:
        for k in user.get("keys", []):
            if access_key and k.get("access_key") == access_key:
                return {"access_key": k["access_key"], "secret_key": k["secret_key"]}
        return None

    def create(self, props: dict[str, Any]) -> CreateResult:
        want = RgwUserInputs.model_validate({k: v for k, v in props.items() if k in RgwUserInputs.model_fields})
        api = self.rgw_admin()
        user = self._get(want.uid)
        adopted = user is not None
        if user is None:
            user = api.create_user(USER, want.uid, want.display_name, email=want.email,
                                   max_buckets=want.max_buckets, suspended=str(want.suspended).lower(),
                                   user_caps=caps_string({t: perm_set(p) for t, p in (want.caps or {}).items()})
                                   or None, key_type="s3")
            assert isinstance(user, dict)
        try:
            self._converge(user, want)
            if adopted:
                # What a crashed run left: our key is unknown, so issue one (non-destructively).
                key = self._new_key(want.uid, {k["access_key"] for k in user.get("keys", [])})
            else:
                first = user["keys"][0]
                key = {"access_key": first["access_key"], "secret_key": first["secret_key"]}
            final = self._get(want.uid) or user
        except Exception:
            if not adopted:
                try:
                    api.remove_user(USER, want.uid, purge_data=False)
                except ProviderError as e:
                    pulumi.log.warn(f"{USER} {want.uid}: could not undo the create ({e}); next up adopts it")
            raise
        return CreateResult(want.uid, user_outputs(final, want.model_dump(), key))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        user = self._get(id_)
        if user is None:
            return ReadResult("", {})
        outs = user_outputs(user, props, self._key(user, props.get("access_key")))
        return ReadResult(id_, outs, inputs=USER_TABLE.input_props(outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = RgwUserInputs.model_validate({k: v for k, v in news.items() if k in RgwUserInputs.model_fields})
        user = self._get(id_)
        if user is None:
            raise NotFound(USER, f"user {id_} vanished; run `pulumi refresh` to recreate it")
        self._converge(user, want)
        key = self._key(user, olds.get("access_key"))
        if key is None or olds.get("key_rotation") != want.key_rotation:
            # Rotate without a gap: the new pair exists before the old one goes.
            fresh = self._new_key(id_, {k["access_key"] for k in user.get("keys", [])})
            if key is not None:
                self.rgw_admin().remove_key(USER, id_, key["access_key"])
            key = fresh
        final = self._get(id_) or user
        return UpdateResult(user_outputs(final, want.model_dump(), key))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        purge = bool(props.get("purge_data"))
        try:
            self.rgw_admin().remove_user(USER, id_, purge_data=purge)
        except NotFound:
            return  # already gone
        except Permanent as e:
            if "BucketAlreadyExists" in e.message or "409" in e.message:
                raise Permanent(USER, f"user {id_} still owns buckets and purge_data is not set, so its "
                                      f"data is kept: remove the buckets or set purge_data=True ({e.message})"
                                ) from e
            raise


@dataclass
class RgwUserArgs:
    """Inputs of `ceph.RgwUser`."""

    uid: pulumi.Input[str]
    """User id; a change replaces the user."""
    display_name: pulumi.Input[str]
    """Display name (RGW requires one)."""
    email: pulumi.Input[str] | None = None
    """E-mail address (unique across users); unset clears it."""
    caps: pulumi.Input[dict[str, str]] | None = None
    """Admin capabilities, {type: 'read'|'write'|'*'}; changed in place."""
    user_quota: pulumi.Input[dict[str, int]] | None = None
    """{'max_size': bytes, 'max_objects': n} for the whole user; unset disables it."""
    bucket_quota: pulumi.Input[dict[str, int]] | None = None
    """The same per bucket; unset disables it."""
    max_buckets: pulumi.Input[int] | None = None
    """How many buckets the user may own (unset: RGW's 1000)."""
    suspended: pulumi.Input[bool] = False
    """Suspend the user (keys stop working, data stays)."""
    key_rotation: pulumi.Input[str] | None = None
    """Change this value to rotate the S3 key pair (new pair first, then the old one goes)."""
    purge_data: pulumi.Input[bool] = False
    """Delete the user's buckets and objects with the user (otherwise delete keeps them)."""


class RgwUser(Resource, module="ceph", name="RgwUser"):
    """An RGW user with one managed S3 key pair (`ceph.RgwUser`)."""

    access_key: pulumi.Output[str]
    secret_key: pulumi.Output[str]

    def __init__(self, resource_name: str, args: RgwUserArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=USER_TABLE.secrets))
        super().__init__(RgwUserProvider(), resource_name, USER_TABLE.declared(args), opts)


# -------------------------------------------------------------------------------------- buckets

BUCKET_TABLE = Table(
    BUCKET,
    (
        Field("name", change=Change.REPLACE),
        Field("access_key", secret=True),
        Field("secret_key", secret=True),
        Field("owner", change=Change.OUTPUT),
    ),
)


class BucketInputs(pydantic.BaseModel):
    """The inputs of a `ceph.Bucket` (created through S3 with the owner's own keys)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = pydantic.Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$",
                               description="Bucket name (S3 rules); a change replaces the bucket.")
    access_key: str = pydantic.Field(min_length=1, description="The owner's S3 access key (secret).")
    secret_key: str = pydantic.Field(min_length=1, description="The owner's S3 secret key (secret).")


class BucketProvider(CephProvider):
    """S3 `PUT /<bucket>` as its owner; read through the Admin Ops bucket info."""

    table: ClassVar[Table] = BUCKET_TABLE
    model: ClassVar[type[pydantic.BaseModel]] = BucketInputs

    def _s3(self, props: dict[str, Any]) -> Any:
        """boto3's S3 client with the owner's keys."""
        return s3_client(self.settings().rgw_url, str(props["access_key"]), str(props["secret_key"]))

    def _owner(self, name: str) -> str | None:
        return self.rgw_admin().bucket_owner(BUCKET, name)

    def create(self, props: dict[str, Any]) -> CreateResult:
        want = BucketInputs.model_validate({k: v for k, v in props.items() if k in BucketInputs.model_fields})
        # Creating a bucket the same owner already has succeeds (S3 in us-east-1 style): adopts it.
        client = self._s3(props)
        s3(BUCKET, f"PUT /{want.name}", lambda: client.create_bucket(Bucket=want.name))
        return CreateResult(want.name, {**want.model_dump(), "owner": self._owner(want.name)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        owner = self._owner(id_)
        if owner is None:
            return ReadResult("", {})
        outs = {**{k: props.get(k) for k in ("access_key", "secret_key")}, "name": id_, "owner": owner}
        return ReadResult(id_, outs, inputs=BUCKET_TABLE.input_props(outs))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Only the owner's keys can change (a rotation): nothing to do in RGW.
        return UpdateResult({**{k: news.get(k) for k in ("name", "access_key", "secret_key")},
                             "owner": self._owner(id_)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self._s3(props)
        try:
            s3(BUCKET, f"DELETE /{id_}", lambda: client.delete_bucket(Bucket=id_))
        except NotFound:
            return


@dataclass
class BucketArgs:
    """Inputs of `ceph.Bucket`."""

    name: pulumi.Input[str]
    """Bucket name; a change replaces the bucket."""
    access_key: pulumi.Input[str]
    """The owner's S3 access key (e.g. `RgwUser.access_key`)."""
    secret_key: pulumi.Input[str]
    """The owner's S3 secret key (e.g. `RgwUser.secret_key`)."""


class Bucket(Resource, module="ceph", name="Bucket"):
    """An S3 bucket in RGW (`ceph.Bucket`), e.g. CloudStack's secondary storage."""

    owner: pulumi.Output[str]

    def __init__(self, resource_name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=BUCKET_TABLE.secrets))
        props = BUCKET_TABLE.declared(args)
        for key in BUCKET_TABLE.secrets:  # secret in state even when given as plain strings
            props[key] = pulumi.Output.secret(props[key])
        super().__init__(BucketProvider(), resource_name, props, opts)
