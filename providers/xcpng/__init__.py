"""XCP-ng pools, their networks and shared storage as Pulumi resources, through `XenAPI`.

    from providers import xcpng
    pool = xcpng.Pool("pool", xcpng.PoolArgs(name_label="pool-a", master="10.0.0.11",
                      hosts=["10.0.0.11", "10.0.0.12"], password=cfg.require_secret("xcpRoot")))
    public = xcpng.Network("public", xcpng.NetworkArgs(address=pool.master_address, password=...,
                           pool_uuid=pool.pool_uuid, name_label="cloud-public", device="eth1", vlan=100))
    sr = xcpng.SharedSR("sr", xcpng.SharedSRArgs(address=pool.master_address, password=...,
                        pool_uuid=pool.pool_uuid, name_label="ceph-nfs", type="nfs",
                        device_config={"server": "10.0.0.5", "serverpath": "/xcp"}, make_default=True))

Credentials are (secret) inputs: every host has its own root password until it joins a pool.
The optional stack-config object `<project>:xcpng` sets transport and deadlines: scheme
(https|http), verifyTls, taskTimeout, joinTimeout, pollInterval, retryTimeout, httpTimeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers import lazy_names

if TYPE_CHECKING:  # what the package exports: read as written by type checkers, and by lazy_names
    from ._xapi import Credentials as Credentials
    from ._xapi import Xapi as Xapi
    from ._xapi import map_error as map_error
    from .network import Network as Network
    from .network import NetworkArgs as NetworkArgs
    from .network import NetworkProvider as NetworkProvider
    from .pool import Pool as Pool
    from .pool import PoolArgs as PoolArgs
    from .pool import PoolProvider as PoolProvider
    from .settings import Settings as Settings
    from .storage import SharedSR as SharedSR
    from .storage import SharedSRArgs as SharedSRArgs
    from .storage import SharedSRProvider as SharedSRProvider

# Each name's module is imported on first use: importing one resource's module (the provider process
# unpickling a provider, `components.config` reading a settings model) does not import the others.
__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)
