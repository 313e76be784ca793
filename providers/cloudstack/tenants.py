"""`cloudstack.Domain`, `cloudstack.Account`, `cloudstack.User` and `cloudstack.ResourceLimit`.

A reseller is a domain under ROOT (or under another reseller); its customers are accounts in it
(`User`, `DomainAdmin` or `Admin`), each created with its first user (CloudStack has no account
without one); further users are `User` resources, whose API keys (registerUserKeys at create)
are secret outputs. Limits are per account or per domain, for one resource type each.

What cannot change in place is a replace at preview: a domain's parent, an account's domain and
type, a user's account, a limit's owner and type. Adoption is by name within the parent (domain),
the domain (account, user) or by owner and type (limit: a limit always exists, so "create"
sets it and "delete" gives it back: unlimited for a domain, its domain's limit for an account).
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

import pulumi
from typing_extensions import override

from providers._core import Change, Permanent
from providers._core.cache import current_read
from providers._core.declare import Args, arg, output
from providers._core.lifecycle import Obj

from .api import Api, single
from .base import CloudStackProvider, CloudStackResource, Commands, as_int

ACCOUNT_TYPES = {"User": 0, "Admin": 1, "DomainAdmin": 2}


# --- domain -----------------------------------------------------------------------------------


class DomainArgs(Args, resource="cloudstack.Domain", delete_before_replace=True):
    """A domain: a reseller (or one of its sub-resellers)."""

    name: pulumi.Input[str] = arg(min_length=1, pattern=r"^[^/]+$")
    """Domain name, unique under its parent; renamed in place (`updateDomain`)."""
    parent_id: pulumi.Input[str] | None = arg(default=None, api="parentdomainid", change=Change.REPLACE)
    """Id of the parent domain (ROOT when not given); changing it replaces the domain."""
    network_domain: pulumi.Input[str] | None = arg(default=None, api="networkdomain")
    """DNS suffix of the domain's guest networks."""
    path: pulumi.Output[str] = output()
    """ROOT/<parent>/<name>."""
    level: pulumi.Output[int] = output()
    """Depth under ROOT (1 = a direct child)."""


class DomainProvider(CloudStackProvider):
    args = DomainArgs
    commands = Commands("listDomains", "createDomain", "updateDomain", "deleteDomain")
    delete_params = {"cleanup": False}

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        found = [d for d in api.list("listDomains", name=wanted["name"], listall=True)
                 if (wanted.get("parent_id") is None and d.get("level") == 1)
                 or d.get("parentdomainid") == wanted.get("parent_id")]
        return self.named(found, wanted["name"])


class Domain(CloudStackResource[DomainArgs], module="cloudstack", name="Domain"):
    """A CloudStack domain."""

    provider_type = DomainProvider


# --- account ----------------------------------------------------------------------------------


class AccountArgs(Args, resource="cloudstack.Account", delete_before_replace=True):
    """An account of a domain, created with its first user."""

    domain_id: pulumi.Input[str] = arg(api="domainid", change=Change.REPLACE, min_length=1)
    """Id of the account's domain; changing it replaces the account."""
    name: pulumi.Input[str] = arg(min_length=1)
    """Account name, unique in its domain; renamed in place (`updateAccount newname`)."""
    account_type: pulumi.Input[str] = arg(default="User", api="roletype", change=Change.REPLACE,
                                          check=Literal["User", "DomainAdmin", "Admin"])
    """User, DomainAdmin (manages its domain's tenants) or Admin; changing it replaces the account."""
    role_id: pulumi.Input[str] | None = arg(default=None, api="roleid")
    """A role of that type other than the default one (changed in place)."""
    network_domain: pulumi.Input[str] | None = arg(default=None, api="networkdomain")
    """DNS suffix of the account's guest networks."""
    username: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=1)
    """User name of the account's first user; changing it replaces the account."""
    first_name: pulumi.Input[str] = arg(min_length=1)
    """First name of the first user (`updateUser`)."""
    last_name: pulumi.Input[str] = arg(min_length=1)
    """Last name of the first user (`updateUser`)."""
    email: pulumi.Input[str] = arg(pattern=r"^[^@\s]+@[^@\s]+$")
    """E-mail of the first user (`updateUser`)."""
    password: pulumi.Input[str] | None = arg(default=None, secret=True, min_length=1)
    """Password of the first user (secret; set again with `updateUser` when it changes). Without one,
    a random password nobody knows: the user works with API keys until one is declared."""
    account_uuid: pulumi.Output[str] = output(api="id")
    """The account's id (as `accountid` elsewhere)."""
    user_id: pulumi.Output[str] = output()
    """Id of the first user."""
    domain_path: pulumi.Output[str] = output(api="domainpath")
    """ROOT/<reseller>/..."""


USER_FIELDS = {"username": "username", "first_name": "firstname", "last_name": "lastname", "email": "email"}


class AccountProvider(CloudStackProvider):
    args = AccountArgs
    commands = Commands("listAccounts", delete="deleteAccount")
    kept = ("password",)  # never answered: what was declared
    scope = ("name", "domain_id")
    list_params = {"listall": True}

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        payload = {"domainid": wanted["domain_id"], "account": wanted["name"],
                   "accounttype": ACCOUNT_TYPES[wanted["account_type"]], "roleid": wanted.get("role_id"),
                   "networkdomain": wanted.get("network_domain"),
                   "password": wanted.get("password") or secrets.token_urlsafe(24),
                   **{api_name: wanted[name] for name, api_name in USER_FIELDS.items()}}
        return single(api.call("createAccount", **payload))

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        outputs = super().outputs(api, obj, carried)
        users = obj.get("user") or []
        first = next((u for u in users if u.get("username") == carried.get("username")), users[0] if users else {})
        outputs.update({name: first.get(api_name) for name, api_name in USER_FIELDS.items()})
        outputs["user_id"] = first.get("id")
        return outputs

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        if changed & {"name", "role_id", "network_domain"}:
            api.call("updateAccount", id=obj_id, newname=wanted["name"] if "name" in changed else None,
                     **self.table.to_api(wanted, [n for n in ("role_id", "network_domain") if n in changed]))
        user_fields = changed & {"first_name", "last_name", "email", "password"}
        if user_fields:
            if not current.get("user_id"):
                raise Permanent(self.label(wanted), "the account has no user to update")
            api.call("updateUser", id=current["user_id"],
                     **{api_name: wanted[name] for name, api_name in USER_FIELDS.items() if name in user_fields},
                     password=wanted.get("password") if "password" in user_fields else None)
        return None


class Account(CloudStackResource[AccountArgs], module="cloudstack", name="Account"):
    """A CloudStack account (a customer, or a reseller's administrator)."""

    provider_type = AccountProvider


# --- user -------------------------------------------------------------------------------------


class UserArgs(Args, resource="cloudstack.User", delete_before_replace=True):
    """A further user of an account, with its own API keys."""

    domain_id: pulumi.Input[str] = arg(api="domainid", change=Change.REPLACE, min_length=1)
    """Id of the account's domain; changing it replaces the user."""
    account: pulumi.Input[str] = arg(change=Change.REPLACE, min_length=1)
    """Name of the account; changing it replaces the user."""
    username: pulumi.Input[str] = arg(min_length=1)
    """User name, unique in the domain; the user is adopted by it; renamed in place."""
    first_name: pulumi.Input[str] = arg(api="firstname", min_length=1)
    """First name."""
    last_name: pulumi.Input[str] = arg(api="lastname", min_length=1)
    """Last name."""
    email: pulumi.Input[str] = arg(pattern=r"^[^@\s]+@[^@\s]+$")
    """E-mail address."""
    password: pulumi.Input[str] | None = arg(default=None, secret=True, min_length=1)
    """Password (secret; set again when it changes); without one, a random password nobody knows."""
    api_key: pulumi.Output[str] = output(api="apikey", secret=True)
    """The user's API key (registered at create; secret)."""
    secret_key: pulumi.Output[str] = output(api="secretkey", secret=True)
    """The user's secret key (secret)."""
    account_id: pulumi.Output[str] = output(api="accountid")
    """Id of the user's account."""


class UserProvider(CloudStackProvider):
    args = UserArgs
    label_field = "username"
    commands = Commands("listUsers", delete="deleteUser")
    kept = ("password",)

    @override
    def fetch(self, api: Api, obj_id: str) -> Obj | None:
        user = api.find("listUsers", id=obj_id, listall=True)
        if user is None:
            return None
        keys = api.call("getUserKeys", id=obj_id).get("userkeys") or {}
        return {**user, "apikey": keys.get("apikey"), "secretkey": keys.get("secretkey")}

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        users = api.list("listUsers", username=wanted["username"], domainid=wanted["domain_id"], listall=True)
        found = next((u for u in users if u.get("username") == wanted["username"]), None)
        return None if found is None else self.fetch(api, str(found["id"]))

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        payload = {**self.table.to_api(wanted), "password": wanted.get("password") or secrets.token_urlsafe(24)}
        user = single(api.call("createUser", **payload))
        keys = api.call("registerUserKeys", id=user["id"]).get("userkeys") or {}
        return {**user, "apikey": keys.get("apikey"), "secretkey": keys.get("secretkey")}

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        self.update_call(api, "updateUser", obj_id, changed, wanted)
        return self.fetch(api, obj_id)


class User(CloudStackResource[UserArgs], module="cloudstack", name="User"):
    """A CloudStack user with API keys."""

    provider_type = UserProvider


# --- role -------------------------------------------------------------------------------------


class RoleArgs(Args, resource="cloudstack.Role", delete_before_replace=True):
    """A role beside CloudStack's four default ones, of one of their types."""

    name: pulumi.Input[str] = arg(min_length=1)
    """Role name, unique; the role is adopted by it; renamed in place."""
    type: pulumi.Input[str] = arg(change=Change.REPLACE, check=Literal["User", "DomainAdmin", "ResourceAdmin",
                                                                        "Admin"])
    """The type whose permissions it starts from; a change replaces the role."""
    description: pulumi.Input[str] | None = arg(default=None)
    """What it is for; changed in place."""


class RoleProvider(CloudStackProvider):
    args = RoleArgs
    commands = Commands("listRoles", "createRole", "updateRole", "deleteRole")


class Role(CloudStackResource[RoleArgs], module="cloudstack", name="Role"):
    """A custom CloudStack role."""

    provider_type = RoleProvider


# --- resource limit ---------------------------------------------------------------------------

# Resource.ResourceType: what the program calls it -> CloudStack's number.
RESOURCE_TYPES = {"instances": 0, "public_ips": 1, "volumes": 2, "snapshots": 3, "templates": 4, "projects": 5,
                  "networks": 6, "vpcs": 7, "cpus": 8, "memory_mb": 9, "primary_storage_gb": 10,
                  "secondary_storage_gb": 11}
TYPE_NAMES = {n: name for name, n in RESOURCE_TYPES.items()}
LimitType = Literal["instances", "public_ips", "volumes", "snapshots", "templates", "projects", "networks", "vpcs",
                    "cpus", "memory_mb", "primary_storage_gb", "secondary_storage_gb"]


def _type_name(value: Any) -> str:
    return TYPE_NAMES.get(as_int(value), str(value)) if str(value).lstrip("-").isdigit() else str(value)


class ResourceLimitArgs(Args, resource="cloudstack.ResourceLimit", delete_before_replace=True):
    """One limit of a domain, or of an account in it."""

    domain_id: pulumi.Input[str] = arg(api="domainid", change=Change.REPLACE, min_length=1)
    """Id of the domain (of the account, when `account` is given)."""
    account: pulumi.Input[str] | None = arg(default=None, change=Change.REPLACE)
    """Name of the account; without it the limit is the domain's."""
    resource_type: pulumi.Input[str] = arg(api="resourcetype", change=Change.REPLACE, normalize=_type_name,
                                           check=LimitType)
    """What is limited: instances, cpus, memory_mb, volumes, public_ips, networks, ..."""
    max: pulumi.Input[int] = arg(normalize=as_int, ge=-1)
    """The limit (-1: unlimited, within the parent domain's limit); changed in place."""


SEP = "/"


class ResourceLimitProvider(CloudStackProvider):
    args = ResourceLimitArgs
    label_field = "resource_type"

    @staticmethod
    def _owner(wanted: Obj) -> dict[str, Any]:
        return {"domainid": wanted["domain_id"], "account": wanted.get("account"),
                "resourcetype": RESOURCE_TYPES[_type_name(wanted["resource_type"])]}

    @override
    def obj_id(self, obj: Obj) -> str:
        return SEP.join((str(obj["domainid"]), str(obj.get("account") or ""), _type_name(obj["resourcetype"])))

    @override
    def fetch(self, api: Api, obj_id: str) -> Obj | None:
        domain_id, account, type_name = obj_id.split(SEP)
        return self._current(api, {"domain_id": domain_id, "account": account or None, "resource_type": type_name})

    def _current(self, api: Api, wanted: Obj) -> Obj | None:
        if api.find("listDomains", id=wanted["domain_id"], listall=True) is None:
            return None
        if wanted.get("account") and self.named(api.list("listAccounts", domainid=wanted["domain_id"],
                                                         name=wanted["account"], listall=True),
                                                wanted["account"]) is None:
            return None
        owner = self._owner(wanted)
        if current_read() is not None:  # a refresh: the owner's limits of every type in one listing
            mine = {k: v for k, v in owner.items() if k != "resourcetype"}
            found = [lim for lim in api.list("listResourceLimits", **mine)
                     if str(lim.get("resourcetype")) == str(owner["resourcetype"])]
            if found:
                return found[0]
        return api.find("listResourceLimits", **owner)

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        """A limit always exists: one already at the declared value is adopted, any other is set."""
        current = self._current(api, wanted)
        return current if current is not None and as_int(current.get("max")) == wanted["max"] else None

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        return single(api.call("updateResourceLimit", max=wanted["max"], **self._owner(wanted)))

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        outputs = super().outputs(api, obj, carried)
        outputs["account"] = obj.get("account") or None
        return outputs

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        return self.make(api, wanted)

    @override
    def destroy(self, api: Api, obj: Obj) -> None:
        """Give the limit back: unlimited for a domain; for an account, its domain's limit."""
        owner = {"domainid": obj["domainid"], "resourcetype": obj["resourcetype"]}
        if not obj.get("account"):
            api.call("updateResourceLimit", max=-1, **owner)
            return
        domain = api.find("listResourceLimits", **owner)
        api.call("updateResourceLimit", account=obj["account"], max=(domain or {}).get("max", -1), **owner)


class ResourceLimit(CloudStackResource[ResourceLimitArgs], module="cloudstack", name="ResourceLimit"):
    """A resource limit of a domain or an account."""

    provider_type = ResourceLimitProvider
