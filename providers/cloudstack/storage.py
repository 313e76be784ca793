"""Storage of a zone: `cloudstack.PrimaryStorage`, `cloudstack.ImageStore`, `cloudstack.StagingStore`.

- Primary storage is cluster-scoped: PreSetup (an SR the XCP-ng pool already has: how Ceph
  reaches XCP-ng, through an iSCSI gateway or NFS), NFS or iSCSI. CloudStack supports RBD primary
  storage on KVM only, so RBD on a XenServer cluster is refused in `check`, before any call.
  Deleting it puts the pool into maintenance first and waits for it, as CloudStack requires.
- The image (secondary) store is S3 on Ceph RGW, its keys secret, or NFS: a maintainer calls S3
  secondary storage poorly maintained (apache/cloudstack#10517), so NFS stays an option.
- S3 secondary storage needs an NFS secondary staging store in the zone ("Can't find staging
  storage in zone", apache/cloudstack#7337): `StagingStore`.

CloudStack can change little of these in place: a pool's name, tags and enabled state
(`updateStoragePool`) and an image store's read-only flag (`updateImageStore`). Everything else
is a replace, known at preview.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
from pydantic import ValidationInfo, field_validator
from typing_extensions import override

from providers._core import Change, InputError
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.lifecycle import Obj

from .api import Api, single
from .base import CloudStackProvider, CloudStackResource, Commands, as_bool, tag_list

# --- primary storage --------------------------------------------------------------------------

RBD_ON_XENSERVER = (
    "CloudStack supports RBD (Ceph) primary storage on KVM only; a XenServer (XCP-ng) cluster takes "
    "NFS, iSCSI or PreSetup (an SR that already exists on the pool, e.g. Ceph through an iSCSI "
    "gateway or NFS)"
)
URL_SCHEMES = {"PreSetup": "presetup://", "NFS": "nfs://", "iSCSI": "iscsi://", "RBD": "rbd://"}
# listStoragePools `type` (Storage.StoragePoolType) -> the declared type.
POOL_TYPES = {"presetup": "PreSetup", "networkfilesystem": "NFS", "iscsilun": "iSCSI", "iscsi": "iSCSI",
              "rbd": "RBD"}
POOL_MAINTENANCE_FAILURES = ("ErrorInMaintenance",)


class PrimaryChecks(PulumiInputsBase):
    """The type's spelling, RBD only on KVM, a URL of the type's scheme."""

    @field_validator("type", mode="before", check_fields=False)
    @classmethod
    def _spelling(cls, value: Any) -> Any:
        return {k.lower(): k for k in URL_SCHEMES}.get(str(value).lower(), value)

    @field_validator("type", check_fields=False)
    @classmethod
    def _rbd_needs_kvm(cls, value: str, info: ValidationInfo) -> str:
        if value == "RBD" and info.data.get("hypervisor") == "XenServer":
            raise ValueError(RBD_ON_XENSERVER)
        return value

    @field_validator("url", check_fields=False)
    @classmethod
    def _scheme_matches(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        scheme = URL_SCHEMES.get(kind) if kind else None
        if scheme and not value.lower().startswith(scheme):
            raise ValueError(f"a {kind} pool's URL starts with {scheme}")
        if "://" not in value or not value.split("://", 1)[1].strip("/"):
            raise ValueError("needs a host and a path after the scheme")
        return value


class PrimaryStorageArgs(Args, resource="cloudstack.PrimaryStorage", delete_before_replace=True,
                         checks=PrimaryChecks):
    """Cluster-scoped primary storage."""

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Id of the zone."""
    pod_id: pulumi.Input[str] = arg(api="podid", change=Change.REPLACE, min_length=1)
    """Id of the pod."""
    cluster_id: pulumi.Input[str] = arg(api="clusterid", change=Change.REPLACE, min_length=1)
    """Id of the cluster the pool is scoped to."""
    name: pulumi.Input[str] = arg(min_length=1)
    """Storage pool name (adopted by it within the cluster); renamed in place."""
    hypervisor: pulumi.Input[str] = arg(default="XenServer", change=Change.REPLACE, check=Literal["XenServer", "KVM"])
    """Hypervisor of the cluster (checked against CloudStack at create)."""
    type: pulumi.Input[str] = arg(change=Change.REPLACE, check=Literal["PreSetup", "NFS", "iSCSI", "RBD"])
    """PreSetup (an SR already on the pool), NFS or iSCSI (RBD only on KVM clusters)."""
    url: pulumi.Input[str] = arg(change=Change.REPLACE)
    """presetup://<host>/<SR name-label>, nfs://<server>/<path> or iscsi://<target>/<iqn>/<lun>."""
    tags: pulumi.Input[list[str]] | None = arg(default=None, normalize=tag_list)
    """Storage tags (disk offerings select by them)."""
    enabled: pulumi.Input[bool] = arg(default=True, normalize=as_bool)
    """False disables the pool for new volumes."""
    state: pulumi.Output[str] = output()
    """Up, Maintenance, Disabled..."""
    path: pulumi.Output[str] = output()
    """The pool's path as CloudStack answers it."""
    ip_address: pulumi.Output[str] = output(api="ipaddress")
    """The pool's host as CloudStack answers it."""


class PrimaryStorageProvider(CloudStackProvider):
    args = PrimaryStorageArgs
    commands = Commands("listStoragePools")
    kept = ("url",)  # CloudStack answers host and path, not the URL
    scope = ("zone_id", "cluster_id", "name")

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        outputs = super().outputs(api, obj, carried)
        outputs["type"] = POOL_TYPES.get(str(obj.get("type", "")).lower(), carried.get("type"))
        outputs["hypervisor"] = obj.get("hypervisor") or carried.get("hypervisor")
        outputs["enabled"] = obj.get("state") != "Disabled"
        outputs["tags"] = tag_list(obj.get("tags") or "") or None
        return {k: v for k, v in outputs.items() if v is not None}

    @override
    def settle(self, created: bool, wanted: Obj) -> bool:
        return not created or not wanted["enabled"]

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        self._check_cluster(api, wanted)
        payload = self.table.to_api(wanted, ["zone_id", "pod_id", "cluster_id", "name", "url", "hypervisor"])
        tags = ",".join(wanted["tags"]) if wanted.get("tags") else None
        return single(api.call("createStoragePool", scope="cluster", tags=tags, **payload))

    def _check_cluster(self, api: Api, wanted: Obj) -> None:
        """The declared hypervisor is what the cluster really runs (RBD's refusal depends on it)."""
        cluster = api.find("listClusters", id=wanted["cluster_id"])
        if cluster is None:
            raise InputError(api.resource, "cluster_id", wanted["cluster_id"], "no such cluster in CloudStack")
        actual = cluster.get("hypervisortype")
        if actual and actual != wanted["hypervisor"]:
            raise InputError(api.resource, "hypervisor", wanted["hypervisor"],
                             f"cluster {cluster.get('name')!r} runs {actual}")
        if actual == "XenServer" and wanted["type"] == "RBD":
            raise InputError(api.resource, "type", "RBD", RBD_ON_XENSERVER)

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        params = {n: wanted.get(n) for n in ("name", "tags", "enabled") if n in changed}
        if "tags" in params:
            params["tags"] = params["tags"] or []  # tags removed from the program are cleared
        if params:
            api.call("updateStoragePool", id=obj_id, **params)
        return None

    @override
    def destroy(self, api: Api, obj: Obj) -> None:
        """Maintenance first, and wait for it, as CloudStack requires."""
        pool_id = str(obj["id"])
        if obj.get("state") != "Maintenance":
            api.job("enableStorageMaintenance", "storage pool maintenance", id=pool_id)
            api.wait_state("listStoragePools", pool_id, key="state", target="Maintenance",
                           failures=POOL_MAINTENANCE_FAILURES, what="storage pool in Maintenance")
        api.call("deleteStoragePool", id=pool_id)


class PrimaryStorage(CloudStackResource[PrimaryStorageArgs], module="cloudstack", name="PrimaryStorage"):
    """Cluster-scoped primary storage."""

    provider_type = PrimaryStorageProvider


# --- image store (secondary storage) ------------------------------------------------------------

NEEDED = {"NFS": ("zone_id", "url"), "S3": ("bucket", "endpoint", "access_key", "secret_key")}


class ImageChecks(PulumiInputsBase):
    """What each kind needs."""

    @field_validator("zone_id", "url", "bucket", "endpoint", "access_key", "secret_key", check_fields=False)
    @classmethod
    def _needed_by_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind, name = info.data.get("kind"), info.field_name
        if kind in NEEDED and name in NEEDED[kind] and not value:
            raise ValueError(f"required for a {kind} image store")
        if kind == "NFS" and name == "url" and value and not value.startswith("nfs://"):
            raise ValueError("an NFS image store's URL is nfs://<server>/<path>")
        return value


def _needed(**kw: Any) -> Any:
    """An optional input that `ImageChecks` requires for one kind."""
    return arg(default=None, change=Change.REPLACE, validate_default=True, **kw)


class ImageStoreArgs(Args, resource="cloudstack.ImageStore", delete_before_replace=True, checks=ImageChecks):
    """Secondary storage: S3 (Ceph RGW) or NFS."""

    kind: pulumi.Input[str] = arg(change=Change.REPLACE, check=Literal["S3", "NFS"])
    """S3 (Ceph RGW; needs a StagingStore in the zone) or NFS."""
    name: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=1)
    """Image store name; a new name is a new store (CloudStack cannot rename one)."""
    zone_id: pulumi.Input[str] | None = _needed(api="zoneid")
    """NFS: id of the zone. S3 stores are region-wide: CloudStack refuses a zone for them ('does not
    support scope ZONE'), so a zone given for S3 is not sent."""
    url: pulumi.Input[str] | None = _needed()
    """NFS: nfs://<server>/<path>."""
    bucket: pulumi.Input[str] | None = _needed()
    """S3: bucket."""
    endpoint: pulumi.Input[str] | None = _needed()
    """S3: the RGW endpoint, host[:port]."""
    access_key: pulumi.Input[str] | None = _needed(secret=True)
    """S3: access key (secret)."""
    secret_key: pulumi.Input[str] | None = _needed(secret=True)
    """S3: secret key (secret)."""
    use_https: pulumi.Input[bool] | None = arg(default=None, change=Change.REPLACE, normalize=as_bool)
    """S3: HTTPS to the endpoint."""
    s3_signer: pulumi.Input[str] | None = arg(
        default=None, change=Change.REPLACE, check=Literal["S3SignerType", "AWSS3V4SignerType"]
    )
    """S3: S3SignerType or AWSS3V4SignerType."""
    read_only: pulumi.Input[bool] = arg(default=False, normalize=as_bool)
    """True: CloudStack stops placing new templates on this store."""
    protocol: pulumi.Output[str] = output()
    """s3 or nfs."""
    provider_name: pulumi.Output[str] = output(api="providername")
    """S3 or NFS."""
    scope: pulumi.Output[str] = output()
    """REGION (S3) or ZONE (NFS)."""


class ImageStoreProvider(CloudStackProvider):
    args = ImageStoreArgs
    commands = Commands("listImageStores", delete="deleteImageStore")
    kept = ("kind", "zone_id", "url", "bucket", "endpoint", "access_key", "secret_key", "use_https", "s3_signer")

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        outputs = super().outputs(api, obj, carried)
        outputs["read_only"] = as_bool(obj.get("readonly", False))
        return outputs

    @override
    def settle(self, created: bool, wanted: Obj) -> bool:
        return not created or wanted["read_only"]

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        if wanted["kind"] == "NFS":
            return single(api.call("addImageStore", name=wanted["name"], provider="NFS",
                                   zoneid=wanted["zone_id"], url=wanted["url"]))
        details = {
            "accesskey": wanted["access_key"],
            "secretkey": wanted["secret_key"],
            "bucket": wanted["bucket"],
            "endpoint": wanted["endpoint"],
            "usehttps": None if wanted.get("use_https") is None else str(wanted["use_https"]).lower(),
            "s3signer": wanted.get("s3_signer"),
        }
        return single(api.call(
            "addImageStore", name=wanted["name"], provider="S3",
            details=[{"key": k, "value": v} for k, v in details.items() if v is not None],
        ))

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        if "read_only" in changed:
            api.call("updateImageStore", id=obj_id, readonly=wanted["read_only"])
        return None


class ImageStore(CloudStackResource[ImageStoreArgs], module="cloudstack", name="ImageStore"):
    """Secondary storage: an S3 bucket on Ceph RGW (keys secret) or an NFS export."""

    provider_type = ImageStoreProvider


# --- staging store ------------------------------------------------------------------------------


class StagingStoreArgs(Args, resource="cloudstack.StagingStore", delete_before_replace=True):
    """The NFS secondary staging store S3 secondary storage needs in every zone.

    Deleted before its replacement: it is adopted by URL, a new one beside the old would be the old.
    """

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Id of the zone."""
    url: pulumi.Input[str] = arg(change=Change.REPLACE, pattern=r"^nfs://[^/]+/.+")
    """nfs://<server>/<path> of the staging area."""
    name: pulumi.Output[str] = output()
    """The name CloudStack gives it."""
    protocol: pulumi.Output[str] = output()
    """nfs."""
    provider_name: pulumi.Output[str] = output(api="providername")
    """NFS."""
    scope: pulumi.Output[str] = output()
    """ZONE."""


class StagingStoreProvider(CloudStackProvider):
    args = StagingStoreArgs
    label_field = "url"
    commands = Commands("listSecondaryStagingStores", "createSecondaryStagingStore",
                        delete="deleteSecondaryStagingStore")
    create_params = {"scope": "zone", "provider": "NFS"}

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        outputs = super().outputs(api, obj, carried)
        outputs["url"] = carried.get("url") or outputs.get("url")
        outputs["zone_id"] = outputs.get("zone_id") or carried.get("zone_id")
        return outputs

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        want = wanted["url"].rstrip("/")
        return next(
            (s for s in api.list("listSecondaryStagingStores", zoneid=wanted["zone_id"])
             if str(s.get("url", "")).rstrip("/") == want),
            None,
        )

    @override
    def settle(self, created: bool, wanted: Obj) -> bool:
        return False  # every field is replace-only: an adopted store is taken as it is


class StagingStore(CloudStackResource[StagingStoreArgs], module="cloudstack", name="StagingStore"):
    """The NFS secondary staging store of a zone (S3 secondary storage requires one)."""

    provider_type = StagingStoreProvider
