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

from ._xapi import Credentials, Xapi, map_error
from .network import Network, NetworkArgs, NetworkProvider
from .pool import Pool, PoolArgs, PoolProvider
from .settings import Settings
from .storage import SharedSR, SharedSRArgs, SharedSRProvider

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
