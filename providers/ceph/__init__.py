"""Ceph as Pulumi resources: `ceph.Pool` and `ceph.FsDirectory` (dashboard REST API), `ceph.RgwUser` and
`ceph.Bucket` (RGW), `ceph.FsClient` (the ceph CLI on a storage server over SSH).

Endpoints and credentials come from the stack-config object `<project>:ceph`
(`dashboardUrl`, `dashboardUser`, `dashboardPassword`, `rgwUrl`, `rgwAccessKey`, `rgwSecretKey`; optional:
`httpTimeout`, seconds per request) through `configure()`; nothing of it is pickled into state.
Importing this package has no side effects.
"""

from .cephfs import FsDirectory, FsDirectoryArgs, FsDirectoryProvider
from .cephx import FsClient, FsClientArgs, FsClientProvider
from .pool import Pool, PoolArgs, PoolProvider
from .rgw import Bucket, BucketArgs, BucketProvider, RgwUser, RgwUserArgs, RgwUserProvider

__all__ = [
    "Bucket",
    "BucketArgs",
    "BucketProvider",
    "FsClient",
    "FsClientArgs",
    "FsClientProvider",
    "FsDirectory",
    "FsDirectoryArgs",
    "FsDirectoryProvider",
    "Pool",
    "PoolArgs",
    "PoolProvider",
    "RgwUser",
    "RgwUserArgs",
    "RgwUserProvider",
]
