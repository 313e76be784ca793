"""The CloudStack resources' declarations as main 829bd4a recorded them: a stack deployed before the
providers were made declarations of their commands previews with no change.

Recorded by importing each module of `providers/cloudstack` at commit 829bd4a (`git archive 829bd4a
providers`) and listing, per Args class, its property names in table order (the state's keys and
what `pulumi.dynamic.Resource` is given), its replace-only inputs (what a diff replaces) and its
secrets (`additional_secret_outputs`); per resource class, its type token.
"""

from __future__ import annotations

from typing import Any

import pytest

from providers.cloudstack import (
    cluster,
    globalsettings,
    ipranges,
    management,
    network,
    offerings,
    pod,
    readiness,
    storage,
    templates,
    tenants,
    zone,
)

# (Args, its property names, its replace-only inputs, its secrets: space-separated)
OLD_PROPERTIES: list[tuple[Any, str, str, str]] = [
    (zone.ZoneArgs,
     "name network_type dns1 dns2 internal_dns1 internal_dns2 guest_cidr domain allocation_state",
     "network_type", ""),
    (zone.ZoneEnablementArgs,
     "zone_id allocation_state",
     "zone_id", ""),
    (pod.PodArgs,
     "zone_id name gateway netmask start_ip end_ip allocation_state",
     "zone_id", ""),
    (ipranges.PublicIpRangeArgs,
     "zone_id physical_network_id vlan gateway netmask start_ip end_ip cidr",
     "zone_id physical_network_id vlan", ""),
    (ipranges.StorageNetworkIpRangeArgs,
     "pod_id gateway netmask start_ip end_ip vlan zone_id",
     "pod_id gateway", ""),
    (cluster.ClusterArgs,
     "zone_id pod_id name hypervisor url username password enabled members allocation_state managed_state "
     "host_ids",
     "zone_id pod_id hypervisor url", "password"),
    (storage.PrimaryStorageArgs,
     "zone_id pod_id cluster_id name hypervisor type url tags enabled state path ip_address",
     "zone_id pod_id cluster_id hypervisor type url", ""),
    (storage.ImageStoreArgs,
     "kind name zone_id url bucket endpoint access_key secret_key use_https s3_signer read_only protocol "
     "provider_name scope",
     "kind name zone_id url bucket endpoint access_key secret_key use_https s3_signer", "access_key secret_key"),
    (storage.StagingStoreArgs,
     "zone_id url name protocol provider_name scope",
     "zone_id url", ""),
    (network.PhysicalNetworkArgs,
     "zone_id name isolation_method broadcast_domain_range vlan network_speed tags traffic_labels "
     "virtual_router_enabled enabled state virtual_router_provider_id traffic_type_ids",
     "zone_id name isolation_method broadcast_domain_range", ""),
    (tenants.DomainArgs,
     "name parent_id network_domain path level",
     "parent_id", ""),
    (tenants.AccountArgs,
     "domain_id name account_type role_id network_domain username first_name last_name email password "
     "account_uuid user_id domain_path",
     "domain_id account_type username", "password"),
    (tenants.UserArgs,
     "domain_id account username first_name last_name email password api_key secret_key account_id",
     "domain_id account", "password api_key secret_key"),
    (tenants.RoleArgs,
     "name type description",
     "type", ""),
    (tenants.ResourceLimitArgs,
     "domain_id account resource_type max",
     "domain_id account resource_type", ""),
    (offerings.ComputeOfferingArgs,
     "name display_text cpu_number cpu_speed memory storage_type offer_ha host_tags storage_tags domain_id",
     "cpu_number cpu_speed memory storage_type offer_ha", ""),
    (offerings.DiskOfferingArgs,
     "name display_text disk_size storage_type tags domain_id",
     "disk_size storage_type", ""),
    (offerings.NetworkOfferingArgs,
     "name display_text guest_ip_type services conserve_mode egress_default_allow availability enabled "
     "traffic_type",
     "guest_ip_type services conserve_mode egress_default_allow", ""),
    (templates.TemplateArgs,
     "zone_id name display_text url os_type hypervisor format is_public password_enabled domain_id account "
     "status is_ready size",
     "zone_id url hypervisor format is_public domain_id account", ""),
    (templates.IsoArgs,
     "zone_id name display_text url os_type bootable is_public domain_id account status is_ready",
     "zone_id url is_public domain_id account", ""),
    (readiness.NetworkServiceProviderArgs,
     "physical_network_id name enabled state",
     "physical_network_id name", ""),
    (readiness.ZoneReadinessArgs,
     "zone_id timeout secondary_storage_vm console_proxy",
     "zone_id", ""),
    (globalsettings.GlobalSettingsArgs,
     "values zone_id restart_required",
     "zone_id", ""),
    (management.ManagementServerArgs,
     "endpoint username password new_password key_version answer_timeout user_id api_key secret_key",
     "endpoint username", "password new_password api_key secret_key"),
]


@pytest.mark.parametrize(("args", "names", "replaces", "secrets"), OLD_PROPERTIES,
                         ids=[a.__name__ for a, *_ in OLD_PROPERTIES])
def test_properties_replaces_and_secrets_are_the_old_ones(args: Any, names: str, replaces: str, secrets: str) -> None:
    table = args.table()
    assert [f.name for f in table] == names.split()
    assert [f.name for f in table.inputs if f.change.value == "replace"] == replaces.split()
    assert table.secrets == secrets.split()


OLD_TOKENS: list[tuple[Any, str]] = [
    (zone.Zone, 'dynamic/cloudstack:Zone'),
    (zone.ZoneEnablement, 'dynamic/cloudstack:ZoneEnablement'),
    (pod.Pod, 'dynamic/cloudstack:Pod'),
    (ipranges.PublicIpRange, 'dynamic/cloudstack:PublicIpRange'),
    (ipranges.StorageNetworkIpRange, 'dynamic/cloudstack:StorageNetworkIpRange'),
    (cluster.Cluster, 'dynamic/cloudstack:Cluster'),
    (storage.PrimaryStorage, 'dynamic/cloudstack:PrimaryStorage'),
    (storage.ImageStore, 'dynamic/cloudstack:ImageStore'),
    (storage.StagingStore, 'dynamic/cloudstack:StagingStore'),
    (network.PhysicalNetwork, 'dynamic/cloudstack:PhysicalNetwork'),
    (tenants.Domain, 'dynamic/cloudstack:Domain'),
    (tenants.Account, 'dynamic/cloudstack:Account'),
    (tenants.User, 'dynamic/cloudstack:User'),
    (tenants.Role, 'dynamic/cloudstack:Role'),
    (tenants.ResourceLimit, 'dynamic/cloudstack:ResourceLimit'),
    (offerings.ComputeOffering, 'dynamic/cloudstack:ComputeOffering'),
    (offerings.DiskOffering, 'dynamic/cloudstack:DiskOffering'),
    (offerings.NetworkOffering, 'dynamic/cloudstack:NetworkOffering'),
    (templates.Template, 'dynamic/cloudstack:Template'),
    (templates.Iso, 'dynamic/cloudstack:Iso'),
    (readiness.NetworkServiceProvider, 'dynamic/cloudstack:NetworkServiceProvider'),
    (readiness.ZoneReadiness, 'dynamic/cloudstack:ZoneReadiness'),
    (globalsettings.GlobalSettings, 'dynamic/cloudstack:GlobalSettings'),
    (management.ManagementServer, 'dynamic/cloudstack:ManagementServer'),
]


@pytest.mark.parametrize(("resource", "token"), OLD_TOKENS, ids=[r.__name__ for r, _ in OLD_TOKENS])
def test_type_tokens_are_the_old_ones(resource: Any, token: str) -> None:
    assert resource._resource_type_name == token
