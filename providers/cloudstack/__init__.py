"""CloudStack zone infrastructure and tenants (domains, accounts, users, offerings, templates,
limits) as Pulumi resources, through the `cs` client.

    from providers import cloudstack
    zone = cloudstack.Zone("zone", cloudstack.ZoneArgs(name=..., dns1=..., internal_dns1=..., guest_cidr=...))
    net = cloudstack.PhysicalNetwork("net", cloudstack.PhysicalNetworkArgs(zone_id=zone.id, ...))
    ...
    cloudstack.ZoneEnablement("on", cloudstack.ZoneEnablementArgs(zone_id=zone.id),
                              pulumi.ResourceOptions(depends_on=[net, pod, cluster, storage, ...]))

The management server's endpoint and keys come from the stack-config object
`<project>:cloudstack` = {"endpoint", "apiKey", "secretKey"} (set it with `--secret`), read in
`configure()`. Optional keys: jobTimeout, pollInterval, retryTimeout, httpTimeout (seconds),
method (post|get; post by default, which keeps secrets out of URLs).
"""

from .api import Api, map_error
from .cluster import Cluster, ClusterArgs, ClusterProvider
from .network import PhysicalNetwork, PhysicalNetworkArgs, PhysicalNetworkProvider
from .offerings import (
    ComputeOffering,
    ComputeOfferingArgs,
    ComputeOfferingProvider,
    DiskOffering,
    DiskOfferingArgs,
    DiskOfferingProvider,
    NetworkOffering,
    NetworkOfferingArgs,
    NetworkOfferingProvider,
)
from .pod import Pod, PodArgs, PodProvider
from .settings import Settings
from .storage import (
    ImageStore,
    ImageStoreArgs,
    ImageStoreProvider,
    PrimaryStorage,
    PrimaryStorageArgs,
    PrimaryStorageProvider,
    StagingStore,
    StagingStoreArgs,
    StagingStoreProvider,
)
from .templates import Iso, IsoArgs, IsoProvider, Template, TemplateArgs, TemplateProvider
from .tenants import (
    Account,
    AccountArgs,
    AccountProvider,
    Domain,
    DomainArgs,
    DomainProvider,
    ResourceLimit,
    ResourceLimitArgs,
    ResourceLimitProvider,
    Role,
    RoleArgs,
    RoleProvider,
    User,
    UserArgs,
    UserProvider,
)
from .zone import Zone, ZoneArgs, ZoneEnablement, ZoneEnablementArgs, ZoneEnablementProvider, ZoneProvider

__all__ = [
    "Account",
    "AccountArgs",
    "AccountProvider",
    "Api",
    "Cluster",
    "ClusterArgs",
    "ClusterProvider",
    "ComputeOffering",
    "ComputeOfferingArgs",
    "ComputeOfferingProvider",
    "DiskOffering",
    "DiskOfferingArgs",
    "DiskOfferingProvider",
    "Domain",
    "DomainArgs",
    "DomainProvider",
    "ImageStore",
    "ImageStoreArgs",
    "ImageStoreProvider",
    "Iso",
    "IsoArgs",
    "IsoProvider",
    "NetworkOffering",
    "NetworkOfferingArgs",
    "NetworkOfferingProvider",
    "PhysicalNetwork",
    "PhysicalNetworkArgs",
    "PhysicalNetworkProvider",
    "Pod",
    "PodArgs",
    "PodProvider",
    "PrimaryStorage",
    "PrimaryStorageArgs",
    "PrimaryStorageProvider",
    "ResourceLimit",
    "ResourceLimitArgs",
    "ResourceLimitProvider",
    "Role",
    "RoleArgs",
    "RoleProvider",
    "Settings",
    "StagingStore",
    "StagingStoreArgs",
    "StagingStoreProvider",
    "Template",
    "TemplateArgs",
    "TemplateProvider",
    "User",
    "UserArgs",
    "UserProvider",
    "Zone",
    "ZoneArgs",
    "ZoneEnablement",
    "ZoneEnablementArgs",
    "ZoneEnablementProvider",
    "ZoneProvider",
    "map_error",
]
