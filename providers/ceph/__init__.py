"""Ceph as Pulumi resources: `ceph.Pool` and `ceph.FsDirectory` (dashboard REST API), `ceph.RgwUser` and
`ceph.Bucket` (RGW), `ceph.FsClient` (the ceph CLI on a storage server over SSH).

Endpoints and credentials come from the stack-config object `<project>:ceph`
(`dashboardUrl`, `dashboardUser`, `dashboardPassword`, `rgwUrl`, `rgwAccessKey`, `rgwSecretKey`; optional:
`httpTimeout`, seconds per request) through `configure()`; nothing of it is pickled into state.
Importing this package has no side effects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers import lazy_names

if TYPE_CHECKING:
    from .cephfs import FsDirectory, FsDirectoryArgs, FsDirectoryProvider
    from .cephx import FsClient, FsClientArgs, FsClientProvider
    from .pool import Pool, PoolArgs, PoolProvider
    from .rgw import Bucket, BucketArgs, BucketProvider, RgwUser, RgwUserArgs, RgwUserProvider

# Each name's module, imported on first use: importing one resource's module (the provider process
# unpickling a provider, `components.config` reading a settings model) does not import the others.
_MODULES = {
    "Bucket": ".rgw",
    "BucketArgs": ".rgw",
    "BucketProvider": ".rgw",
    "FsClient": ".cephx",
    "FsClientArgs": ".cephx",
    "FsClientProvider": ".cephx",
    "FsDirectory": ".cephfs",
    "FsDirectoryArgs": ".cephfs",
    "FsDirectoryProvider": ".cephfs",
    "Pool": ".pool",
    "PoolArgs": ".pool",
    "PoolProvider": ".pool",
    "RgwUser": ".rgw",
    "RgwUserArgs": ".rgw",
    "RgwUserProvider": ".rgw",
}

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

__getattr__, __dir__ = lazy_names(__name__, _MODULES)
