"""Tenants of the cloud zone (issue 15): what the zone offers its tenants and who they are.

Roles, domains with their accounts and users, compute, disk and network offerings, templates and
ISOs, and resource limits (components/tenants.py declares them). Additive: the region's design
refers to `Tenants` from `Region.tenants` only (components/config/region.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.config.base import Model, Name
from providers._core.types import Count

GUEST_SERVICES = ("Dhcp", "Dns", "Firewall", "Gateway", "Lb", "PortForwarding", "SourceNat", "StaticNat",
                  "UserData", "Vpn")


def _unique_names(what: str, key: str, names: list[str]) -> None:
    """Names must be unique: the error names the second item by its path under the model."""
    for i, n in enumerate(names):
        if n in names[:i]:
            raise ValueError(f"{key}[{i}]={n!r}: two {what} are called {n!r} (also {key}[{names.index(n)}])")


Limit = Annotated[Count, Field(ge=-1)]


class TenantLimits(Model):
    """Resource limits (-1: unlimited; an account's within its domain's)."""

    instances: Limit | None = None
    cpus: Limit | None = None
    memory_mb: Limit | None = None
    volumes: Limit | None = None
    public_ips: Limit | None = None
    networks: Limit | None = None
    primary_storage_gb: Limit | None = None

    def items(self) -> list[tuple[str, int]]:
        """(resource type, max) of the limits that are set."""
        return [(k, v) for k, v in self.model_dump().items() if v is not None]


class TenantUser(Model):
    """A user of an account."""

    username: str = Field(min_length=1)
    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")


class TenantRole(Model):
    """A custom role, starting from the permissions of a default role's type."""

    name: str = Field(min_length=1)
    type: Literal["User", "DomainAdmin", "ResourceAdmin", "Admin"] = "User"
    description: str | None = None


class TenantAccount(Model):
    name: Name
    type: Literal["user", "domain-admin", "admin"] = "user"
    role: str | None = Field(default=None, description="a role of tenants.roles (of the account type's kind)")
    owner: TenantUser = Field(description="the account's first user (CloudStack creates it with the account)")
    users: list[TenantUser] = Field(
        default_factory=list, description="further users, each with an API key pair (secret stack outputs)")
    limits: TenantLimits | None = None

    @model_validator(mode="after")
    def _users(self) -> TenantAccount:
        _unique_names("users of the account", "usernames", [self.owner.username] + [u.username for u in self.users])
        return self


class TenantDomain(Model):
    """A reseller: a domain under ROOT with its customers' accounts."""

    name: Name
    network_domain: str | None = None
    limits: TenantLimits | None = None
    accounts: list[TenantAccount] = Field(default_factory=list)

    @model_validator(mode="after")
    def _accounts(self) -> TenantDomain:
        _unique_names("accounts of the domain", "accounts", [a.name for a in self.accounts])
        _unique_names("users of the domain", "usernames",
                [u.username for a in self.accounts for u in [a.owner, *a.users]])
        return self


class ComputeOffering(Model):
    name: Name
    display_text: str | None = None
    cpus: Count = Field(ge=1)
    cpu_speed_mhz: Count = Field(default=1000, ge=1)
    memory_mb: Count = Field(ge=32)
    storage_type: Literal["shared", "local"] = "shared"
    offer_ha: bool = False
    host_tags: str | None = None
    storage_tags: str | None = None


class DiskOffering(Model):
    name: Name
    display_text: str | None = None
    size_gb: Count = Field(ge=1)
    storage_type: Literal["shared", "local"] = "shared"
    tags: str | None = None


def _services(value: list[str]) -> list[str]:
    unknown = [s for s in value if s not in GUEST_SERVICES]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a service the virtual router provides ({', '.join(GUEST_SERVICES)})")
    return value


class NetworkOffering(Model):
    """A custom isolated-network offering (CloudStack ships DefaultIsolatedNetworkOfferingWithSourceNatService)."""

    name: Name
    display_text: str | None = None
    services: Annotated[list[str], AfterValidator(_services)] = Field(min_length=1)
    egress_default_allow: bool = False


class TenantImage(Model):
    """A template (VHD for XenServer) or an ISO, registered from a URL into the zone."""

    name: Name
    display_text: str | None = None
    url: str = Field(pattern=r"^https?://")
    os_type: str = Field(min_length=1, description="listOsTypes description, e.g. 'Debian GNU/Linux 12 (64-bit)'")
    public: bool = True
    password_enabled: bool = False


ROLE_TYPE = {"user": "User", "domain-admin": "DomainAdmin", "admin": "Admin"}


class Tenants(Model):
    roles: list[TenantRole] = Field(default_factory=list)
    domains: list[TenantDomain] = Field(default_factory=list)
    compute_offerings: list[ComputeOffering] = Field(default_factory=list)
    disk_offerings: list[DiskOffering] = Field(default_factory=list)
    network_offerings: list[NetworkOffering] = Field(default_factory=list)
    templates: list[TenantImage] = Field(default_factory=list)
    isos: list[TenantImage] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> Tenants:
        for what, key, items in (
            ("domains", "domains", self.domains), ("compute offerings", "computeOfferings", self.compute_offerings),
            ("disk offerings", "diskOfferings", self.disk_offerings),
            ("network offerings", "networkOfferings", self.network_offerings),
            ("templates", "templates", self.templates), ("ISOs", "isos", self.isos), ("roles", "roles", self.roles),
        ):
            _unique_names(what, key, [i.name for i in items])
        roles = {r.name: r for r in self.roles}
        for d, domain in enumerate(self.domains):
            for a, account in enumerate(domain.accounts):
                if account.role is None:
                    continue
                where = f"domains[{d}].accounts[{a}].role={account.role!r}"
                if account.role not in roles:
                    raise ValueError(f"{where}: not one of tenants.roles ({', '.join(roles) or 'none declared'})")
                if roles[account.role].type != ROLE_TYPE[account.type]:
                    raise ValueError(f"{where}: a {roles[account.role].type} role for a {account.type} account")
        return self
