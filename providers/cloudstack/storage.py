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

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import Field as Describe
from pydantic import ValidationInfo, field_validator

from providers._core import Change, Field, InputError, Permanent, Table, diff_fields

from .api import Api, single
from .base import CloudStackProvider, Inputs, as_bool

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


def _tag_list(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return sorted(str(t).strip() for t in items if str(t).strip())


PRIMARY = Table(
    "cloudstack.PrimaryStorage",
    (
        Field("zone_id", api="zoneid", change=Change.REPLACE),
        Field("pod_id", api="podid", change=Change.REPLACE),
        Field("cluster_id", api="clusterid", change=Change.REPLACE),
        Field("name"),
        Field("hypervisor", change=Change.REPLACE),
        Field("type", change=Change.REPLACE),
        Field("url", change=Change.REPLACE),
        Field("tags", normalize=_tag_list),
        Field("enabled", normalize=as_bool),
        Field("state", change=Change.OUTPUT),
        Field("path", change=Change.OUTPUT),
        Field("ip_address", api="ipaddress", change=Change.OUTPUT),
    ),
    delete_before_replace=True,
)


class PrimaryStorageInputs(Inputs):
    """Cluster-scoped primary storage."""

    zone_id: str = Describe(min_length=1, description="id of the zone")
    pod_id: str = Describe(min_length=1, description="id of the pod")
    cluster_id: str = Describe(min_length=1, description="id of the cluster")
    name: str = Describe(min_length=1, description="storage pool name (adopted by it within the cluster)")
    hypervisor: Literal["XenServer", "KVM"] = Describe(
        default="XenServer", description="hypervisor of the cluster (checked against CloudStack at create)"
    )
    type: Literal["PreSetup", "NFS", "iSCSI", "RBD"] = Describe(
        description="PreSetup (an SR already on the pool), NFS or iSCSI; RBD is KVM-only"
    )
    url: str = Describe(
        description="presetup://<host>/<SR name-label>, nfs://<server>/<path>, iscsi://<target>/<iqn>/<lun>"
    )
    tags: list[str] | None = Describe(default=None, description="storage tags (disk offerings select by them)")
    enabled: bool = Describe(default=True, description="false disables the pool for new volumes")

    @field_validator("type", mode="before")
    @classmethod
    def _spelling(cls, value: Any) -> Any:
        return {k.lower(): k for k in URL_SCHEMES}.get(str(value).lower(), value)

    @field_validator("type")
    @classmethod
    def _rbd_needs_kvm(cls, value: str, info: ValidationInfo) -> str:
        if value == "RBD" and info.data.get("hypervisor") == "XenServer":
            raise ValueError(RBD_ON_XENSERVER)
        return value

    @field_validator("url")
    @classmethod
    def _scheme_matches(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        scheme = URL_SCHEMES.get(kind) if kind else None
        if scheme and not value.lower().startswith(scheme):
            raise ValueError(f"a {kind} pool's URL starts with {scheme}")
        if "://" not in value or not value.split("://", 1)[1].strip("/"):
            raise ValueError("needs a host and a path after the scheme")
        return value


class PrimaryStorageProvider(CloudStackProvider):
    table = PRIMARY
    model = PrimaryStorageInputs

    def _outputs(self, pool: dict[str, Any], carried: dict[str, Any]) -> dict[str, Any]:
        outputs = {k: v for k, v in self.table.from_api(pool).items() if v is not None}
        outputs["type"] = POOL_TYPES.get(str(pool.get("type", "")).lower(), carried.get("type"))
        outputs["url"] = carried.get("url")  # CloudStack answers host and path, not the URL
        outputs["hypervisor"] = pool.get("hypervisor") or carried.get("hypervisor")
        outputs["enabled"] = pool.get("state") != "Disabled"
        outputs["tags"] = _tag_list(pool.get("tags") or "") or None
        return {k: v for k, v in outputs.items() if v is not None}

    def _find_by_name(self, api: Api, wanted: dict[str, Any]) -> dict[str, Any] | None:
        return next(
            (p for p in api.list("listStoragePools", zoneid=wanted["zone_id"], clusterid=wanted["cluster_id"],
                                 name=wanted["name"]) if p.get("name") == wanted["name"]),
            None,
        )

    def _check_cluster(self, api: Api, wanted: dict[str, Any]) -> None:
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

    def _update(self, api: Api, pool_id: str, current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
        changed = {c.path for c in diff_fields(current, wanted, self.table)}
        params: dict[str, Any] = {}
        if "name" in changed:
            params["name"] = wanted["name"]
        if "tags" in changed:
            params["tags"] = wanted.get("tags") or []
        if "enabled" in changed:
            params["enabled"] = wanted["enabled"]
        if params:
            api.call("updateStoragePool", id=pool_id, **params)
        pool = api.find("listStoragePools", id=pool_id)
        if pool is None:
            raise Permanent(api.resource, f"listStoragePools: pool {pool_id} vanished during the update")
        return self._outputs(pool, wanted)

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)
        self._check_cluster(api, wanted)

        def make() -> dict[str, Any]:
            return single(api.call(
                "createStoragePool",
                zoneid=wanted["zone_id"],
                podid=wanted["pod_id"],
                clusterid=wanted["cluster_id"],
                name=wanted["name"],
                url=wanted["url"],
                scope="cluster",
                hypervisor=wanted["hypervisor"],
                tags=",".join(wanted["tags"]) if wanted.get("tags") else None,
            ))

        pool, created = api.ensure("createStoragePool", lambda: self._find_by_name(api, wanted), make)
        pool_id = str(pool["id"])
        outputs = self._outputs(pool, wanted)
        if not created or not wanted["enabled"]:
            outputs = self._update(api, pool_id, outputs, wanted)
        return CreateResult(pool_id, self.managed(outputs, wanted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        pool = self.api(props).find("listStoragePools", id=id_)
        return self.gone() if pool is None else self.read_result(id_, self._outputs(pool, props), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        return UpdateResult(self.managed(self._update(self.api(wanted), id_, olds, wanted), wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)

        def destroy(pool: dict[str, Any]) -> None:
            if pool.get("state") != "Maintenance":
                api.job("enableStorageMaintenance", "storage pool maintenance", id=id_)
                api.wait_state("listStoragePools", id_, key="state", target="Maintenance",
                               failures=POOL_MAINTENANCE_FAILURES, what="storage pool in Maintenance")
            api.call("deleteStoragePool", id=id_)

        api.remove("deleteStoragePool", lambda: api.find("listStoragePools", id=id_), destroy)


@dataclass
class PrimaryStorageArgs:
    zone_id: pulumi.Input[str]
    """Id of the zone."""
    pod_id: pulumi.Input[str]
    """Id of the pod."""
    cluster_id: pulumi.Input[str]
    """Id of the cluster the pool is scoped to."""
    name: pulumi.Input[str]
    """Storage pool name; renamed in place."""
    type: pulumi.Input[str]
    """PreSetup, NFS or iSCSI (RBD only on KVM clusters)."""
    url: pulumi.Input[str]
    """presetup://<host>/<SR name-label>, nfs://<server>/<path> or iscsi://<target>/<iqn>/<lun>."""
    hypervisor: pulumi.Input[str] = "XenServer"
    """Hypervisor of the cluster."""
    tags: pulumi.Input[list[str]] | None = None
    """Storage tags."""
    enabled: pulumi.Input[bool] = True
    """False disables the pool for new volumes."""


class PrimaryStorage(Resource, module="cloudstack", name="PrimaryStorage"):
    """Cluster-scoped primary storage."""

    name: pulumi.Output[str]
    state: pulumi.Output[str]
    path: pulumi.Output[str]
    ip_address: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: PrimaryStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(PrimaryStorageProvider(), resource_name, PRIMARY.declared(args), opts)


# --- image store (secondary storage) ------------------------------------------------------------

IMAGE = Table(
    "cloudstack.ImageStore",
    (
        Field("kind", change=Change.REPLACE),
        Field("name", change=Change.REPLACE),  # updateImageStore cannot rename
        Field("zone_id", api="zoneid", change=Change.REPLACE),
        Field("url", change=Change.REPLACE),
        Field("bucket", change=Change.REPLACE),
        Field("endpoint", change=Change.REPLACE),
        Field("access_key", change=Change.REPLACE, secret=True),
        Field("secret_key", change=Change.REPLACE, secret=True),
        Field("use_https", change=Change.REPLACE, normalize=as_bool),
        Field("s3_signer", change=Change.REPLACE),
        Field("read_only", normalize=as_bool),
        Field("protocol", change=Change.OUTPUT),
        Field("provider_name", api="providername", change=Change.OUTPUT),
        Field("scope", change=Change.OUTPUT),
    ),
    delete_before_replace=True,
)
# Declared inputs CloudStack never answers (S3 details): kept from the inputs on read.
IMAGE_CARRIED = ("kind", "zone_id", "url", "bucket", "endpoint", "access_key", "secret_key", "use_https", "s3_signer")


class ImageStoreInputs(Inputs):
    """Secondary storage: S3 (Ceph RGW) or NFS."""

    kind: Literal["S3", "NFS"] = Describe(description="S3 (needs a StagingStore in the zone) or NFS")
    name: str = Describe(min_length=1, description="image store name (adopted by it)")
    zone_id: str | None = Describe(
        default=None,
        validate_default=True,
        description="NFS: id of the zone. S3 stores are region-wide: CloudStack refuses a zone for them "
        "('does not support scope ZONE'), so a zone given for S3 is not sent",
    )
    url: str | None = Describe(default=None, validate_default=True, description="NFS: nfs://<server>/<path>")
    bucket: str | None = Describe(default=None, validate_default=True, description="S3: bucket")
    endpoint: str | None = Describe(default=None, validate_default=True, description="S3: RGW endpoint host[:port]")
    access_key: str | None = Describe(default=None, validate_default=True, description="S3: access key (secret)")
    secret_key: str | None = Describe(default=None, validate_default=True, description="S3: secret key (secret)")
    use_https: bool | None = Describe(default=None, description="S3: talk HTTPS to the endpoint")
    s3_signer: Literal["S3SignerType", "AWSS3V4SignerType"] | None = Describe(
        default=None, description="S3: request signer"
    )
    read_only: bool = Describe(default=False, description="true: no new templates go to this store")

    @field_validator("zone_id", "url", "bucket", "endpoint", "access_key", "secret_key")
    @classmethod
    def _needed_by_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind, name = info.data.get("kind"), info.field_name
        needed = {"NFS": ("zone_id", "url"), "S3": ("bucket", "endpoint", "access_key", "secret_key")}
        if kind in needed and name in needed[kind] and not value:
            raise ValueError(f"required for a {kind} image store")
        if kind == "NFS" and name == "url" and value and not value.startswith("nfs://"):
            raise ValueError("an NFS image store's URL is nfs://<server>/<path>")
        return value


class ImageStoreProvider(CloudStackProvider):
    table = IMAGE
    model = ImageStoreInputs

    def _outputs(self, store: dict[str, Any], carried: dict[str, Any]) -> dict[str, Any]:
        outputs = {k: v for k, v in self.table.from_api(store).items() if v is not None}
        for k in IMAGE_CARRIED:
            outputs.pop(k, None)
            if carried.get(k) is not None:
                outputs[k] = carried[k]
        outputs["read_only"] = as_bool(store.get("readonly", False))
        return outputs

    def _find_by_name(self, api: Api, wanted: dict[str, Any]) -> dict[str, Any] | None:
        return next((s for s in api.list("listImageStores", name=wanted["name"]) if s.get("name") == wanted["name"]),
                    None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)

        def make() -> dict[str, Any]:
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

        store, created = api.ensure("addImageStore", lambda: self._find_by_name(api, wanted), make)
        store_id = str(store["id"])
        outputs = self._outputs(store, wanted)
        if not created or wanted["read_only"]:
            outputs = self._update(api, store_id, outputs, wanted)
        return CreateResult(store_id, self.managed(outputs, wanted))

    def _update(self, api: Api, store_id: str, current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
        if "read_only" in {c.path for c in diff_fields(current, wanted, self.table)}:
            api.call("updateImageStore", id=store_id, readonly=wanted["read_only"])
        store = api.find("listImageStores", id=store_id)
        if store is None:
            raise Permanent(api.resource, f"listImageStores: store {store_id} vanished during the update")
        return self._outputs(store, wanted)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        store = self.api(props).find("listImageStores", id=id_)
        return self.gone() if store is None else self.read_result(id_, self._outputs(store, props), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        return UpdateResult(self.managed(self._update(self.api(wanted), id_, olds, wanted), wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)
        api.remove("deleteImageStore", lambda: api.find("listImageStores", id=id_),
                   lambda s: api.call("deleteImageStore", id=s["id"]))


@dataclass
class ImageStoreArgs:
    kind: pulumi.Input[str]
    """S3 (Ceph RGW; needs a StagingStore in the zone) or NFS."""
    name: pulumi.Input[str]
    """Image store name; a new name is a new store (CloudStack cannot rename one)."""
    zone_id: pulumi.Input[str] | None = None
    """NFS: id of the zone. S3 image stores are region-wide."""
    url: pulumi.Input[str] | None = None
    """NFS: nfs://<server>/<path>."""
    bucket: pulumi.Input[str] | None = None
    """S3: bucket."""
    endpoint: pulumi.Input[str] | None = None
    """S3: the RGW endpoint, host[:port]."""
    access_key: pulumi.Input[str] | None = None
    """S3: access key (secret)."""
    secret_key: pulumi.Input[str] | None = None
    """S3: secret key (secret)."""
    use_https: pulumi.Input[bool] | None = None
    """S3: HTTPS to the endpoint."""
    s3_signer: pulumi.Input[str] | None = None
    """S3: S3SignerType or AWSS3V4SignerType."""
    read_only: pulumi.Input[bool] = False
    """True: CloudStack stops placing new templates on this store."""


class ImageStore(Resource, module="cloudstack", name="ImageStore"):
    """Secondary storage: an S3 bucket on Ceph RGW (keys secret) or an NFS export."""

    protocol: pulumi.Output[str]
    provider_name: pulumi.Output[str]
    scope: pulumi.Output[str]

    def __init__(self, resource_name: str, args: ImageStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["access_key", "secret_key"])
        )
        super().__init__(ImageStoreProvider(), resource_name, IMAGE.declared(args), opts)


# --- staging store ------------------------------------------------------------------------------

STAGING = Table(
    "cloudstack.StagingStore",
    (
        Field("zone_id", api="zoneid", change=Change.REPLACE),
        Field("url", change=Change.REPLACE),
        Field("name", change=Change.OUTPUT),
        Field("protocol", change=Change.OUTPUT),
        Field("provider_name", api="providername", change=Change.OUTPUT),
        Field("scope", change=Change.OUTPUT),
    ),
    delete_before_replace=True,  # adopted by URL: a new one beside the old would be the old
)


class StagingStoreInputs(Inputs):
    """The NFS secondary staging store S3 secondary storage needs in every zone."""

    zone_id: str = Describe(min_length=1, description="id of the zone")
    url: str = Describe(pattern=r"^nfs://[^/]+/.+", description="nfs://<server>/<path>")


class StagingStoreProvider(CloudStackProvider):
    table = STAGING
    model = StagingStoreInputs

    def label(self, props: Any) -> str:
        return f"{self.table.resource} {props.get('url')!r}"

    def _outputs(self, store: dict[str, Any], carried: dict[str, Any]) -> dict[str, Any]:
        outputs = {k: v for k, v in self.table.from_api(store).items() if v is not None}
        outputs["url"] = carried.get("url") or outputs.get("url")
        outputs["zone_id"] = outputs.get("zone_id") or carried.get("zone_id")
        return outputs

    def _find(self, api: Api, wanted: dict[str, Any]) -> dict[str, Any] | None:
        want = wanted["url"].rstrip("/")
        return next(
            (s for s in api.list("listSecondaryStagingStores", zoneid=wanted["zone_id"])
             if str(s.get("url", "")).rstrip("/") == want),
            None,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)
        store, _ = api.ensure(
            "createSecondaryStagingStore",
            lambda: self._find(api, wanted),
            lambda: single(api.call("createSecondaryStagingStore", url=wanted["url"], zoneid=wanted["zone_id"],
                                    scope="zone", provider="NFS")),
        )
        return CreateResult(str(store["id"]), self.managed(self._outputs(store, wanted), wanted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        store = self.api(props).find("listSecondaryStagingStores", id=id_)
        return self.gone() if store is None else self.read_result(id_, self._outputs(store, props), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        raise Permanent(self.label(news), "a staging store has nothing to change in place")  # all replace

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)
        api.remove("deleteSecondaryStagingStore", lambda: api.find("listSecondaryStagingStores", id=id_),
                   lambda s: api.call("deleteSecondaryStagingStore", id=s["id"]))


@dataclass
class StagingStoreArgs:
    zone_id: pulumi.Input[str]
    """Id of the zone."""
    url: pulumi.Input[str]
    """nfs://<server>/<path> of the staging area."""


class StagingStore(Resource, module="cloudstack", name="StagingStore"):
    """The NFS secondary staging store of a zone (S3 secondary storage requires one)."""

    name: pulumi.Output[str]
    protocol: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: StagingStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(StagingStoreProvider(), resource_name, STAGING.declared(args), opts)
