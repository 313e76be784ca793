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

if TYPE_CHECKING:  # what the package exports: read as written by type checkers, and by lazy_names
    from .cephfs import FsDirectory as FsDirectory
    from .cephfs import FsDirectoryArgs as FsDirectoryArgs
    from .cephfs import FsDirectoryProvider as FsDirectoryProvider
    from .cephx import FsClient as FsClient
    from .cephx import FsClientArgs as FsClientArgs
    from .cephx import FsClientProvider as FsClientProvider
    from .pool import Pool as Pool
    from .pool import PoolArgs as PoolArgs
    from .pool import PoolProvider as PoolProvider
    from .rgw import Bucket as Bucket
    from .rgw import BucketArgs as BucketArgs
    from .rgw import BucketProvider as BucketProvider
    from .rgw import RgwUser as RgwUser
    from .rgw import RgwUserArgs as RgwUserArgs
    from .rgw import RgwUserProvider as RgwUserProvider

# Each name's module is imported on first use: importing one resource's module (the provider process
# unpickling a provider, `components.config` reading a settings model) does not import the others.
__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)
