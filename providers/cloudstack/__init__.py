"""CloudStack zone infrastructure and tenants (domains, accounts, users, offerings, templates,
limits) as Pulumi resources, through the `cs` client.

One module per kind of object; import a resource from its module (the package lists nothing, so
a new resource is its module, its emulator handlers and its tests, and importing one resource does
not import the others' code):

    from providers.cloudstack.network import PhysicalNetwork, PhysicalNetworkArgs
    from providers.cloudstack.zone import Zone, ZoneArgs, ZoneEnablement, ZoneEnablementArgs

    zone = Zone("zone", ZoneArgs(name=..., dns1=..., internal_dns1=..., guest_cidr=...))
    net = PhysicalNetwork("net", PhysicalNetworkArgs(zone_id=zone.id, ...))
    ...
    ZoneEnablement("on", ZoneEnablementArgs(zone_id=zone.id),
                   pulumi.ResourceOptions(depends_on=[net, pod, cluster, storage, ...]))

The management server's endpoint and keys come from the stack-config object
`<project>:cloudstack` = {"endpoint", "apiKey", "secretKey"} (set it with `--secret`), read in
`configure()` (`settings.Settings`), or from a `management.ManagementServer`'s secret outputs
(each resource's `connection`). Optional keys: jobTimeout, pollInterval, retryTimeout,
httpTimeout (seconds), method (post|get; post by default, which keeps secrets out of URLs).
"""
