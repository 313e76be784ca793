"""The management server's state and rules: what exists, what refers to what, what is refused.

One `Backend` per emulator holds every object (in insertion order) with its uuid and the internal
numeric id that the real server prints in some error texts. Methods raise `CloudStackError`
carrying the exception the real service layer raises; the texts are the ones in apache/cloudstack
(ConfigurationManagerImpl, NetworkServiceImpl, ResourceManagerImpl, StorageManagerImpl,
CloudStackPrimaryDataStoreLifeCycleImpl) wherever they were read, and say so where paraphrased.

Relations modelled (each with the real server's refusal):
- a zone with hosts, pods, physical networks or zone-scoped image stores cannot be deleted;
  enabling an Advanced zone needs physical networks carrying Management and (without security
  groups) Public traffic; a Storage traffic type is then added like Management's, as the server does;
- a physical network comes with the default providers of 4.18 (VirtualRouter with a disabled
  virtual router element, VpcVirtualRouter, InternalLbVm, SecurityGroupProvider, ...); the
  VirtualRouter provider can be Enabled only once its element is enabled;
- a pod with clusters cannot be deleted, a cluster with hosts or storage pools cannot either;
- `addCluster` of clustertype CloudManaged (what XenServer uses) creates an EMPTY cluster, as
  ResourceManagerImpl.discoverCluster does; the pool's hosts arrive with `addHost` on any host
  of the pool (XcpServerDiscoverer logs in over XAPI, follows HOST_IS_SLAVE to the master and adds
  every host of the pool). With clustertype ExternalManaged, addCluster runs the discoverer on
  its url. Either way the emulator really connects to the XAPI endpoint with the XenAPI library;
- a host is deleted only in Maintenance (or forced); maintenance goes Enabled ->
  PrepareForMaintenance -> Maintenance (the last step on a later read, as the server's
  background check does), and only one host per cluster may be preparing at a time;
- primary storage: NFS, iSCSI (LUN in the URL), PreSetup (the SR, named by the URL path, must
  exist on the cluster's XAPI pool; the pool's uuid IS that name, as in CloudStack); RBD on a
  XenServer cluster fails on the host as CloudStack does ("The pool type: RBD is not supported");
  cluster scope needs an Up host in the cluster; a pool is deleted only in Maintenance;
- image stores of different providers cannot coexist; S3 is region-wide (no zoneid), NFS is
  zone-wide; an S3 store needs an NFS staging store in each zone (reported by `problems()`).
"""
from __future__ import annotations

from lab.cloudstack.objects import (
    Cluster,
    Host,
    ImageStore,
    PhysicalNetwork,
    Pod,
    Resource,
    RouterElement,
    ServiceProvider,
    StoragePool,
    TrafficType,
    Zone,
)
from lab.cloudstack.storage import StorageRules


class Backend(StorageRules):
    """Every object of one management server, and the rules between them (zones.py, compute.py,
    storage.py, on the object store of store.py)."""


__all__ = [
    "Backend", "Cluster", "Host", "ImageStore", "PhysicalNetwork", "Pod", "Resource", "RouterElement",
    "ServiceProvider", "StoragePool", "TrafficType", "Zone",
]
