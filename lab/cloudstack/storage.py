"""Primary storage (NFS, iSCSI, PreSetup, refused RBD), image stores (NFS, S3) and staging stores.

Rules and texts from StorageManagerImpl (createPool, deletePool, preparePrimaryStorageForMaintenance,
discoverImageStore, createSecondaryStagingStore) and CloudStackPrimaryDataStoreLifeCycleImpl.
"""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.compute import Compute
from lab.cloudstack.objects import Cluster, Host, ImageStore, Pod, StoragePool, Zone
from lab.cloudstack.store import Store
from lab.cloudstack.xapi_discovery import XapiDiscoveryError
from lab.cloudstack.zones import Zones


class Storage:
    """Primary storage, image stores and staging stores."""

    def __init__(self, store: Store, zones: Zones, compute: Compute) -> None:
        self.store = store
        self.zones = zones
        self.compute = compute

    # --- primary storage ------------------------------------------------------------------------
    def storage_pool(self, uid: str | None) -> StoragePool:
        s = self.store.get(StoragePool, uid)
        if s is None:
            raise errors.invalid_parameter(f"Unable to find pool by id {uid}")
        return s

    def create_storage_pool(self, p: dict[str, Any]) -> StoragePool:
        """StorageManagerImpl.createPool + CloudStackPrimaryDataStoreLifeCycleImpl (initialize, attachCluster)."""
        zone = self.zones.zone(p["zoneid"], f"Could not find zone by ID: {p['zoneid']}")
        scope, pod, cluster = self._pool_scope(p)
        kind, host, path = self._pool_url(p["url"])
        # The pool uuid: PreSetup takes the SR name; others a name-based UUID of host + path.
        pool_uuid = path.replace("/", "") if kind == "PreSetup" else str(uuid.uuid3(uuid.NAMESPACE_URL, host + path))
        if any(s.id == pool_uuid for s in self.store.all(StoragePool)):
            raise errors.cloud_runtime(
                "Failed to add data store: Another active pool with the same "
                "uuid already exists")
        if cluster is not None:
            self._attach_cluster(cluster, kind, pool_uuid)
        pool = StoragePool(
            pool_uuid, self.store.next_dbid(), p["name"], zone=zone, pod=pod, cluster=cluster, scope=scope, type=kind,
            ipaddress=host or "localhost", path=path, hypervisor=cluster.hypervisor if cluster else p.get("hypervisor"),
            provider=p.get("provider") or "DefaultPrimary", tags=[t for t in (p.get("tags") or "").split(",") if t],
            capacitybytes=p.get("capacitybytes") or 0, capacityiops=p.get("capacityiops"), created=self.store.stamp())
        return self.store.add(pool)

    def _pool_scope(self, p: dict[str, Any]) -> tuple[str, Pod | None, Cluster | None]:
        """createPool's scope: CLUSTER (pod and cluster given) or ZONE (hypervisors that support it)."""
        scope = (p.get("scope") or "CLUSTER").upper()
        if scope not in ("CLUSTER", "ZONE"):
            raise errors.invalid_parameter(f"invalid scope for pool {p.get('scope')}")
        if scope == "CLUSTER":
            if p.get("clusterid") and not p.get("podid"):
                raise errors.invalid_parameter("Cluster id requires pod id")
            if not p.get("clusterid") or not p.get("podid"):
                raise errors.invalid_parameter("cluster id or pod id is null when scope is cluster")
            cluster = self.compute.cluster(p["clusterid"])
            return scope, self.compute.pod(p["podid"]), cluster
        hv = p.get("hypervisor")
        if not hv:
            raise errors.invalid_parameter("hypervisor type can't be null for zone wide primary storage")
        if hv not in ("KVM", "VMware", "Hyperv", "LXC", "Any", "Simulator"):
            raise errors.invalid_parameter(f"zone wide storage pool is not supported for hypervisor type {hv}")
        return scope, None, None

    @staticmethod
    def _pool_url(url: str) -> tuple[str, str, str]:
        """(pool type, host, path) from a primary storage URL, with createPool's refusals."""
        parsed = urllib.parse.urlsplit(url)
        scheme = parsed.scheme.lower()
        if not scheme:
            raise errors.invalid_parameter(f"scheme is null {url}, add nfs:// as a prefix")
        host, path = parsed.hostname or "", urllib.parse.unquote(parsed.path)
        if scheme == "nfs":
            if not host or not path.strip():
                raise errors.invalid_parameter("host or path is null, should be nfs://hostname/path")
            return "NetworkFilesystem", host, path
        if scheme == "iscsi":
            lun = path.rstrip("/").rsplit("/", 1)[-1]
            if not lun.isdigit():
                raise errors.cloud_runtime("Failed to add data store: iSCSI needs to have LUN number")
            return "IscsiLUN", host, path
        if scheme == "presetup":
            return "PreSetup", host, path
        if scheme == "rbd":
            if not path:
                raise errors.invalid_parameter("host or path is null, should be rbd://hostname/pool")
            return "RBD", host, path.lstrip("/")
        raise errors.cloud_runtime(f"Failed to add data store: Unable to figure out the scheme for URI: {url}")

    def _attach_cluster(self, cluster: Cluster, kind: str, pool_uuid: str) -> None:
        """attachCluster: an Up and Enabled host of the cluster creates the pool on its hypervisor."""
        hosts = [h for h in self.store.all(Host) if h.cluster is cluster and h.state == "Up"
                 and h.resourcestate == "Enabled"]
        if not hosts:
            raise errors.cloud_runtime(f"Failed to add data store: No host up to associate a storage pool with in "
                                       f"cluster {cluster.dbid}")
        if kind == "RBD" and cluster.hypervisor == "XenServer":
            raise errors.cloud_runtime(
                f"Failed to add data store: Can not create storage pool through host {hosts[0].dbid} due to "
                "The pool type: RBD is not supported.")
        if kind == "PreSetup" and cluster.hypervisor == "XenServer":
            self._check_presetup_sr(cluster, pool_uuid, hosts[0])

    def _check_presetup_sr(self, cluster: Cluster, sr_name: str, host: Host) -> None:
        """The XenServer resource looks the SR up by name-label on the pool (SR.get_by_name_label)."""
        assert cluster.xapi is not None
        url, username, password = cluster.xapi
        try:
            info = self.store.discover(url, username, password)
        except XapiDiscoveryError as e:
            raise errors.cloud_runtime(f"Failed to add data store: {e}") from None
        if sr_name not in info.sr_names:
            raise errors.cloud_runtime(
                f"Failed to add data store: Can not see storage pool: {sr_name} from on host:{host.guid}")

    def update_storage_pool(self, p: dict[str, Any]) -> StoragePool:
        s = self.storage_pool(p["id"])
        if p.get("name"):
            s.name = p["name"]
        if p.get("tags") is not None:
            s.tags = list(p["tags"])
        if p.get("capacitybytes") is not None:
            s.capacitybytes = p["capacitybytes"]
        if p.get("capacityiops") is not None:
            s.capacityiops = p["capacityiops"]
        if "enabled" in p:
            if p["enabled"]:
                if s.state == "Disabled":
                    s.state = "Up"
            elif s.state == "Up":
                s.state = "Disabled"
        return s

    def check_storage_maintenance(self, s: StoragePool) -> None:
        if s.state not in ("Up", "ErrorInMaintenance"):
            raise errors.invalid_parameter(
                f"Primary storage with id {s.dbid} is not ready for migration, as the status is:{s.state}")

    def check_cancel_storage_maintenance(self, s: StoragePool) -> None:
        if s.state not in ("Maintenance", "ErrorInMaintenance", "PrepareForMaintenance"):
            raise errors.invalid_parameter(
                f"Primary storage with id {s.dbid} is not ready to complete migration, as the status is:{s.state}")

    def enable_maintenance(self, s: StoragePool) -> StoragePool:
        self.check_storage_maintenance(s)
        s.state = "Maintenance"
        return s

    def cancel_maintenance(self, s: StoragePool) -> StoragePool:
        self.check_cancel_storage_maintenance(s)
        s.state = "Up"
        return s

    def delete_storage_pool(self, p: dict[str, Any]) -> None:
        s = self.storage_pool(p["id"])
        if s.state != "Maintenance" and not p.get("forced"):
            raise errors.invalid_parameter(
                f"Unable to delete storage due to it is not in Maintenance state, id: {s.dbid}")
        self.store.remove(s)

    # --- secondary storage ----------------------------------------------------------------------
    def image_store(self, uid: str | None, role: str = "Image") -> ImageStore:
        s = self.store.get(ImageStore, uid)
        if s is None or s.role != role:
            what = "Image store" if role == "Image" else "Cache store"
            raise errors.invalid_parameter(f"{what} with id {uid} doesn't exist")
        return s

    def add_image_store(self, provider: str, url: str | None, name: str | None, zoneid: str | None,
                        details: dict[str, str] | None) -> ImageStore:
        """StorageManagerImpl.discoverImageStore + the provider's lifecycle initialize().

        S3 (S3ImageStoreLifeCycleImpl) stores url and name as given (both may be null) and reads
        nothing from the details but usehttps: a store without usable keys is accepted and fails
        later (see `problems()`). Without any details map at all it fails ("Failed to add data
        store", a NullPointerException in the real server).
        """
        canonical = {"nfs": "NFS", "s3": "S3", "swift": "Swift"}.get(provider.lower(), "NFS")
        scope = "ZONE" if zoneid else "REGION"
        name = name or url
        if name and any(s.name == name for s in self.store.all(ImageStore)):
            raise errors.invalid_parameter(
                f"The image store with name {name} already exists, try creating with another name")
        supported = {"NFS": ("ZONE",), "S3": ("REGION",), "Swift": ("REGION",)}[canonical]
        if scope not in supported:
            raise errors.invalid_parameter(f"Image store provider {canonical} does not support scope {scope}")
        for other in self.store.all(ImageStore):
            if other.role == "Image" and other.providername.lower() != canonical.lower():
                raise errors.invalid_parameter(
                    f"You can only add new image stores from the same provider {other.providername} already added")
        zone = self.zones.zone(zoneid, f"Can't find zone by id {zoneid}") if zoneid else None
        if canonical == "S3":
            if details is None:
                raise errors.cloud_runtime("Failed to add data store")
            protocol = "https" if (details.get("usehttps") or "").lower() == "true" else "http"
        else:
            parsed = urllib.parse.urlsplit(url or "")
            if parsed.scheme.lower() != "nfs" or not parsed.hostname or not parsed.path:
                raise errors.cloud_runtime("Failed to add data store")
            protocol = "nfs"
        uid, dbid = self.store.new_id()
        return self.store.add(ImageStore(uid, dbid, name or "", role="Image", zone=zone, url=url or "",
                                   protocol=protocol, providername=canonical, scope=scope,
                                   details=dict(details or {})))

    def update_image_store(self, p: dict[str, Any]) -> ImageStore:
        store = self.image_store(p["id"])
        store.readonly = p["readonly"]
        return store

    def delete_image_store(self, uid: str) -> None:
        self.store.remove(self.image_store(uid))

    def create_staging_store(self, p: dict[str, Any]) -> ImageStore:
        """StorageManagerImpl.createSecondaryStagingStore (NFS cache store, zone-wide)."""
        scope = p.get("scope")
        if scope is not None:
            if scope.upper() not in ("ZONE", "CLUSTER", "HOST", "REGION", "GLOBAL"):
                raise errors.invalid_parameter(f"invalid scope for cache store {scope}")
            if scope.upper() != "ZONE":
                raise errors.invalid_parameter("Only zone wide cache storage is supported")
            if not p.get("zoneid"):
                raise errors.invalid_parameter("zone id can't be null, if scope is zone")
        zone = self.zones.zone(p.get("zoneid"), f"Can't find zone by id {p.get('zoneid')}")
        url = p["url"]
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme.lower() != "nfs" or not parsed.hostname or not parsed.path:
            raise errors.internal_error("Failed to add data store")
        uid, dbid = self.store.new_id()
        details = {d.get("key", ""): d.get("value", "") for d in p.get("details") or []}
        return self.store.add(ImageStore(uid, dbid, url, role="ImageCache", zone=zone, url=url, protocol="nfs",
                                   providername="NFS", scope="ZONE", details=details))

    def delete_staging_store(self, uid: str) -> None:
        self.store.remove(self.image_store(uid, role="ImageCache"))

    # --- readiness ------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What a real zone would complain about later (template copies, system VMs), in its words."""
        out = []
        s3 = [s for s in self.store.all(ImageStore) if s.role == "Image" and s.providername == "S3"]
        for store in s3:
            missing = [k for k in ("accesskey", "secretkey", "endpoint", "bucket") if not store.details.get(k)]
            if missing:
                out.append(f"image store {store.name or store.id}: S3 details missing {', '.join(missing)}")
        for zone in self.store.all(Zone):
            staging = [s for s in self.store.all(ImageStore) if s.role == "ImageCache" and s.zone is zone]
            if s3 and not staging:
                out.append(f"zone {zone.name}: Can't find staging storage in zone {zone.dbid}")
        return out


