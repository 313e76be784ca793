"""The tenants of a zone: what it offers (compute, disk and network offerings, templates and ISOs)
and who uses it (reseller domains, their customers' accounts and users, resource limits).

Offerings and images come first (they need only the zone); domains, then their accounts, then
the users and limits of each. Templates and ISOs are registered into the zone's secondary
storage and waited on until CloudStack has downloaded them, so the component is complete when a
tenant could deploy a VM. The API keys of users that ask for them are secret outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import TenantAccount, TenantDomain, TenantLimits
from components.config import Tenants as TenantsConfig
from components.options import child_options
from providers.cloudstack.offerings import (
    ComputeOffering,
    ComputeOfferingArgs,
    DiskOffering,
    DiskOfferingArgs,
    NetworkOffering,
    NetworkOfferingArgs,
)
from providers.cloudstack.templates import Iso, IsoArgs, Template, TemplateArgs
from providers.cloudstack.tenants import (
    Account,
    AccountArgs,
    Domain,
    DomainArgs,
    ResourceLimit,
    ResourceLimitArgs,
    Role,
    RoleArgs,
    User,
    UserArgs,
)

TYPE = "privatecloud:cloud:Tenants"
ACCOUNT_TYPES = {"user": "User", "domain-admin": "DomainAdmin", "admin": "Admin"}


@dataclass
class TenantsArgs:
    tenants: TenantsConfig
    """What the stack config declares (region.tenants)."""
    zone_id: pulumi.Input[str]
    """The zone the offerings, templates and ISOs are for."""
    connection: pulumi.Input[dict[str, str]] | None = None
    """A cloudstack.ManagementServer's connection (secret); None: the stack config's keys."""


class Tenants(pulumi.ComponentResource):
    compute_offerings: dict[str, ComputeOffering]
    disk_offerings: dict[str, DiskOffering]
    network_offerings: dict[str, NetworkOffering]
    templates: dict[str, Template]
    isos: dict[str, Iso]
    domains: dict[str, Domain]
    accounts: dict[str, Account]
    users: dict[str, User]
    limits: list[ResourceLimit]
    roles: dict[str, Role]

    def __init__(self, name: str, args: TenantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        cfg = args.tenants
        self.connection = conn = args.connection
        self._opts = opts
        child = child_options(self, opts)
        self.compute_offerings = {
            o.name: ComputeOffering(f"{name}-offering-{o.name}", ComputeOfferingArgs(
                name=o.name, display_text=o.display_text or o.name, cpu_number=o.cpus, cpu_speed=o.cpu_speed_mhz,
                memory=o.memory_mb, storage_type=o.storage_type, offer_ha=o.offer_ha, host_tags=o.host_tags,
                storage_tags=o.storage_tags), child, connection=conn)
            for o in cfg.compute_offerings
        }
        self.disk_offerings = {
            o.name: DiskOffering(f"{name}-disk-{o.name}", DiskOfferingArgs(
                name=o.name, display_text=o.display_text or o.name, disk_size=o.size_gb, storage_type=o.storage_type,
                tags=o.tags), child, connection=conn)
            for o in cfg.disk_offerings
        }
        self.network_offerings = {
            o.name: NetworkOffering(f"{name}-network-{o.name}", NetworkOfferingArgs(
                name=o.name, display_text=o.display_text or o.name, services=list(o.services),
                egress_default_allow=o.egress_default_allow), child, connection=conn)
            for o in cfg.network_offerings
        }
        self.templates = {
            t.name: Template(f"{name}-template-{t.name}", TemplateArgs(
                zone_id=args.zone_id, name=t.name, display_text=t.display_text or t.name, url=t.url,
                os_type=t.os_type, is_public=t.public, password_enabled=t.password_enabled), child, connection=conn)
            for t in cfg.templates
        }
        self.isos = {
            i.name: Iso(f"{name}-iso-{i.name}", IsoArgs(
                zone_id=args.zone_id, name=i.name, display_text=i.display_text or i.name, url=i.url,
                os_type=i.os_type, is_public=i.public), child, connection=conn)
            for i in cfg.isos
        }
        self.roles = {
            r.name: Role(f"{name}-role-{r.name.lower().replace(' ', '-')}",
                         RoleArgs(name=r.name, type=r.type, description=r.description), child, connection=conn)
            for r in cfg.roles
        }
        self.domains, self.accounts, self.users, self.limits = {}, {}, {}, []
        for d in cfg.domains:
            self._domain(name, d)

        keys = {
            user: pulumi.Output.all(u.api_key, u.secret_key).apply(lambda k: {"apiKey": k[0], "secretKey": k[1]})
            for user, u in self.users.items()
        }
        self.api_keys: pulumi.Output[dict[str, object]] = pulumi.Output.secret(pulumi.Output.all(**keys))
        self.register_outputs({
            "domain_ids": {n: d.id for n, d in self.domains.items()},
            "account_ids": {n: a.id for n, a in self.accounts.items()},
            "compute_offering_ids": {n: o.id for n, o in self.compute_offerings.items()},
            "template_ids": {n: t.id for n, t in self.templates.items()},
            "api_keys": self.api_keys,
        })

    def _domain(self, name: str, d: TenantDomain) -> None:
        domain = Domain(f"{name}-domain-{d.name}", DomainArgs(name=d.name, network_domain=d.network_domain),
                        child_options(self, self._opts), connection=self.connection)
        self.domains[d.name] = domain
        # The domain's limits come before its accounts' (an account's limit may not exceed them).
        domain_limits = self._limits(f"{name}-domain-{d.name}", d.limits, domain, None, [])
        for a in d.accounts:
            self._account(name, d, a, domain, domain_limits)

    def _account(self, name: str, d: TenantDomain, a: TenantAccount, domain: Domain,
                 after: list[pulumi.Resource]) -> None:
        key = f"{d.name}/{a.name}"
        owner = a.owner
        account = Account(f"{name}-account-{d.name}-{a.name}", AccountArgs(
            domain_id=domain.id, name=a.name, account_type=ACCOUNT_TYPES[a.type], username=owner.username,
            first_name=owner.first_name, last_name=owner.last_name, email=owner.email,
            role_id=self.roles[a.role].id if a.role else None),
            child_options(self, self._opts), connection=self.connection)
        self.accounts[key] = account
        self._limits(f"{name}-account-{d.name}-{a.name}", a.limits, domain, account, after)
        for u in a.users:
            self.users[f"{key}/{u.username}"] = User(
                f"{name}-user-{d.name}-{a.name}-{u.username}",
                UserArgs(domain_id=domain.id, account=account.name, username=u.username, first_name=u.first_name,
                         last_name=u.last_name, email=u.email),
                child_options(self, self._opts, [account]), connection=self.connection)

    def _limits(self, prefix: str, limits: TenantLimits | None, domain: Domain, account: Account | None,
                after: list[pulumi.Resource]) -> list[pulumi.Resource]:
        made: list[ResourceLimit] = []
        for resource_type, value in (limits.items() if limits else []):
            made.append(ResourceLimit(
                f"{prefix}-limit-{resource_type.replace('_', '-')}",
                ResourceLimitArgs(domain_id=domain.id, account=account.name if account else None,
                                  resource_type=resource_type, max=value),
                child_options(self, self._opts, [*after, *([account] if account else [])]),
                connection=self.connection))
        self.limits.extend(made)
        return list(made)
