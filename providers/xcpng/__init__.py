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

if TYPE_CHECKING:
    from ._xapi import Credentials, Xapi, map_error
    from .network import Network, NetworkArgs, NetworkProvider
    from .pool import Pool, PoolArgs, PoolProvider
    from .settings import Settings
    from .storage import SharedSR, SharedSRArgs, SharedSRProvider

# Each name's module, imported on first use: importing one resource's module (the provider process
# unpickling a provider, `components.config` reading a settings model) does not import the others.
_MODULES = {
    "Credentials": "._xapi",
    "Network": ".network",
    "NetworkArgs": ".network",
    "NetworkProvider": ".network",
    "Pool": ".pool",
    "PoolArgs": ".pool",
    "PoolProvider": ".pool",
    "Settings": ".settings",
    "SharedSR": ".storage",
    "SharedSRArgs": ".storage",
    "SharedSRProvider": ".storage",
    "Xapi": "._xapi",
    "map_error": "._xapi",
}

__all__ = [
    "Credentials",
    "Network",
    "NetworkArgs",
    "NetworkProvider",
    "Pool",
    "PoolArgs",
    "PoolProvider",
    "Settings",
    "SharedSR",
    "SharedSRArgs",
    "SharedSRProvider",
    "Xapi",
    "map_error",
]

__getattr__, __dir__ = lazy_names(__name__, _MODULES)
