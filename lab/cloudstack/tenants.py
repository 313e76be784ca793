"""Domains, accounts, users, roles and API keys; who may call what; resource limits and counts.

A fresh server has the ROOT domain, the `admin` account (Root Admin role) whose user holds the
lab's key pair, and the four default roles of 4.18. A request signed with a user's own keys runs
as that user's account: commands its role does not allow are refused before the command runs,
as DynamicRoleBasedAPIAccessChecker does (UnavailableCommandException -> 432 "The API [x] does
not exist or is not available for the account ..."), and list* answers only what the caller may
see (its account; a domain admin its domain subtree; the root admin what it asks for).

Limits follow ResourceLimitManagerImpl: an account's explicit limit, else max.account.* (a
domain's: explicit, else max.domain.*; ROOT and admin accounts unlimited); an allocation over the
account's or any parent domain's limit fails with ResourceAllocationException's text.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.jobs import ADMIN_ACCOUNT_ID, ADMIN_USER_ID
from lab.cloudstack.objects import ROOT_DOMAIN_ID
from lab.cloudstack.store import Store
from lab.cloudstack.tenant_objects import RESOURCE_TYPES, Account, Domain, Role, User

P = dict[str, Any]

# The default roles of a 4.18 install (fixed uuids here; ids 1-4 as in the schema).
DEFAULT_ROLES = (
    ("f3c3a6e2-0000-4000-8000-0000000000a1", "Root Admin", "Admin"),
    ("f3c3a6e2-0000-4000-8000-0000000000a2", "Resource Admin", "ResourceAdmin"),
    ("f3c3a6e2-0000-4000-8000-0000000000a3", "Domain Admin", "DomainAdmin"),
    ("f3c3a6e2-0000-4000-8000-0000000000a4", "User", "User"),
)
ROLE_TYPES = ("Admin", "ResourceAdmin", "DomainAdmin", "User")
ACCOUNT_TYPE_ROLE = {0: "User", 1: "Admin", 2: "DomainAdmin", 3: "ResourceAdmin"}

# What the User role's default permissions allow (role_permissions of a 4.18 install, for the
# commands the emulator serves); a domain admin may also manage its domain's tenants.
USER_APIS = frozenset({
    "listCapabilities", "queryAsyncJobResult", "listZones", "listOsTypes",
    "listServiceOfferings", "listDiskOfferings", "listNetworkOfferings",
    "listTemplates", "registerTemplate", "updateTemplate", "deleteTemplate",
    "listIsos", "registerIso", "updateIso", "deleteIso",
    "listNetworks", "createNetwork", "deleteNetwork",
    "deployVirtualMachine", "listVirtualMachines", "startVirtualMachine", "stopVirtualMachine",
    "destroyVirtualMachine",
    "listResourceLimits", "listAccounts", "listUsers", "registerUserKeys", "getUserKeys", "updateUser",
})
DOMAIN_ADMIN_APIS = USER_APIS | frozenset({
    "listDomains", "createDomain", "updateDomain", "deleteDomain", "createAccount", "updateAccount",
    "deleteAccount", "createUser", "deleteUser", "updateResourceLimit", "listRoles",
})
ROLE_APIS: dict[str, frozenset[str] | None] = {
    "Admin": None, "ResourceAdmin": None, "DomainAdmin": DOMAIN_ADMIN_APIS, "User": USER_APIS,
}


class Tenants:
    """The rules of domains, accounts, users, roles, keys and limits, on the shared store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.roles: dict[str, Role] = {}
        for uid, name, typ in DEFAULT_ROLES:
            self.roles[typ] = store.add(Role(uid, store.next_dbid(), name, typ, f"Default {name} role", True))
        self.root = store.add(Domain(ROOT_DOMAIN_ID, store.next_dbid(), "ROOT"))
        self.admin = store.add(Account(ADMIN_ACCOUNT_ID, store.next_dbid(), "admin", self.root, 1,
                                       self.roles["Admin"], isdefault=True))
        self.admin_user = store.add(User(ADMIN_USER_ID, store.next_dbid(), "admin", self.admin, "Admin", "User",
                                         "admin@example.com", isdefault=True))
        # Who counts an account's resources (instances, cpu, memory, templates ...) and forgets them
        # when it is deleted: `count(account) -> {type: n}`, `forget(account)` (guests, templates).
        self.counters: list[Any] = []

    # --- lookups -----------------------------------------------------------------------------------
    def domain(self, uid: str | None) -> Domain:
        d = self.store.get(Domain, uid)
        if d is None or d.state != "Active":
            raise errors.invalid_parameter(f"Unable to find domain by id {uid}")
        return d

    def account(self, uid: str | None) -> Account:
        a = self.store.get(Account, uid)
        if a is None:
            raise errors.invalid_parameter(f"Unable to find account by id {uid}")
        return a

    def account_by_name(self, name: str, domain: Domain) -> Account | None:
        return next((a for a in self.store.all(Account) if a.name == name and a.domain is domain), None)

    def user(self, uid: str | None) -> User:
        u = self.store.get(User, uid)
        if u is None:
            raise errors.invalid_parameter(f"Unable to find user by id {uid}")
        return u

    def role(self, uid: str | None) -> Role:
        r = self.store.get(Role, uid)
        if r is None:
            raise errors.invalid_parameter(f"Unable to find role by id {uid}")
        return r

    def users_of(self, account: Account) -> list[User]:
        return [u for u in self.store.all(User) if u.account is account]

    def children(self, domain: Domain) -> list[Domain]:
        return [d for d in self.store.all(Domain) if d.parent is domain]

    # --- callers and permissions ----------------------------------------------------------------
    def user_by_key(self, apikey: str) -> User | None:
        return next((u for u in self.store.all(User) if u.apikey == apikey and u.state == "enabled"
                     and u.account is not None and u.account.state == "enabled"), None)

    def check_api(self, caller: Account, command: str) -> None:
        assert caller.role is not None
        allowed = ROLE_APIS.get(caller.role.type)
        if allowed is not None and command not in allowed:
            raise CloudStackError(
                errors.UNSUPPORTED_ACTION_ERROR,
                f"The API [{command}] does not exist or is not available for the account Account "
                f"[{{\"accountName\":\"{caller.name}\",\"id\":{caller.dbid},\"uuid\":\"{caller.id}\"}}].", 9999)

    def is_root_admin(self, caller: Account) -> bool:
        return caller.accounttype == 1

    def can_see(self, caller: Account, owner: Account) -> bool:
        if self.is_root_admin(caller) or owner is caller:
            return True
        assert owner.domain is not None and caller.domain is not None
        return caller.accounttype == 2 and owner.domain.within(caller.domain)

    def check_access(self, caller: Account, owner: Account, what: str) -> None:
        """AccountManagerImpl.checkAccess: the caller may act on what the owner owns."""
        if not self.can_see(caller, owner):
            raise errors.permission_denied(f"Account {caller.name} does not have permission to operate on {what}")

    def owner_for(self, caller: Account, p: P) -> Account:
        """The owner of what a command creates: the caller, or `account`+`domainid` given by an admin."""
        if p.get("account") is None:
            return caller
        domain = self.domain(p.get("domainid") or (caller.domain.id if caller.domain else None))
        owner = self.account_by_name(p["account"], domain)
        if owner is None:
            raise errors.invalid_parameter(
                f"Unable to find account {p['account']} in domain id={domain.dbid} to create the object")
        self.check_access(caller, owner, f"account {owner.name}")
        return owner

    def visible(self, caller: Account, p: P, owners: Iterable[Any]) -> list[Any]:
        """buildACLSearchParameters: without listall a caller sees its own account's objects (or the
        account named); with it, everything it may see."""
        objs = list(owners)
        if "account" in p and p.get("account") is not None:
            domain = self.domain(p.get("domainid") or (caller.domain.id if caller.domain else None))
            return [o for o in objs if o.owner.name == p["account"] and o.owner.domain is domain
                    and self.can_see(caller, o.owner)]
        if p.get("domainid") is not None:
            domain = self.domain(p["domainid"])
            return [o for o in objs if o.owner.domain is domain and self.can_see(caller, o.owner)]
        if p.get("listall") or p.get("id") is not None:
            return [o for o in objs if self.can_see(caller, o.owner)]
        return [o for o in objs if o.owner is caller]

    # --- domains -------------------------------------------------------------------------------
    def create_domain(self, caller: Account, p: P) -> Domain:
        parent = self.domain(p.get("parentdomainid") or (caller.domain.id if caller.domain else None))
        if caller.accounttype == 2 and caller.domain is not None and not parent.within(caller.domain):
            raise errors.permission_denied(f"Account {caller.name} does not have permission to operate "
                                           f"within domain id={parent.dbid}")
        name = p["name"]
        if any(d.name == name for d in self.children(parent) if d.state == "Active"):
            raise errors.invalid_parameter(f"Domain with name {name} already exists for the parent id={parent.dbid}")
        uid, dbid = self.store.new_id()
        return self.store.add(Domain(p.get("domainid") or uid, dbid, name, parent, p.get("networkdomain")))

    def update_domain(self, p: P) -> Domain:
        d = self.domain(p["id"])
        if "name" in p and p["name"] != d.name:
            if d.parent is None:
                raise errors.invalid_parameter("ROOT domain can not be edited with a new name")
            if any(c.name == p["name"] for c in self.children(d.parent)):
                raise errors.invalid_parameter(
                    f"Domain with name {p['name']} already exists for the parent id={d.parent.dbid}")
            d.name = p["name"]
        if "networkdomain" in p:
            d.networkdomain = p["networkdomain"] or None
        return d

    def delete_domain(self, d: Domain, cleanup: bool) -> None:
        if d.parent is None:
            raise errors.permission_denied("Can't delete ROOT domain")
        accounts = [a for a in self.store.all(Account) if a.domain is d]
        if (accounts or self.children(d)) and not cleanup:
            raise errors.cloud_runtime(
                f"Failed to delete domain {d.name}, because it has {len(accounts)} accounts and "
                f"{len(self.children(d))} subdomains. Please delete them first or use cleanup=true")
        for child in self.children(d):
            self.delete_domain(child, cleanup)
        for a in accounts:
            self.delete_account(a)
        self.store.remove(d)

    # --- accounts and users --------------------------------------------------------------------
    def _username_free(self, username: str, domain: Domain) -> None:
        if any(u.name == username and u.account is not None and u.account.domain is domain
               for u in self.store.all(User)):
            raise errors.invalid_parameter(f"The user {username} already exists in domain {domain.dbid}")

    def _role_for(self, p: P) -> Role:
        if p.get("roleid") is not None:
            return self.role(p["roleid"])
        if p.get("accounttype") is None:
            raise errors.invalid_parameter("Please specify a valid role id")
        typ = ACCOUNT_TYPE_ROLE.get(int(p["accounttype"]))
        if typ is None:
            raise errors.invalid_parameter(f"Invalid account type {p['accounttype']} given; unable to create user")
        return self.roles[typ]

    def create_account(self, caller: Account, p: P) -> Account:
        domain = self.domain(p.get("domainid") or (caller.domain.id if caller.domain else None))
        if caller.accounttype == 2 and caller.domain is not None and not domain.within(caller.domain):
            raise errors.permission_denied(f"Account {caller.name} does not have permission to operate "
                                           f"within domain id={domain.dbid}")
        role = self._role_for(p)
        accounttype = {"Admin": 1, "DomainAdmin": 2, "ResourceAdmin": 3}.get(role.type, 0)
        name = p.get("account") or p["username"]
        if self.account_by_name(name, domain) is not None:
            raise errors.invalid_parameter(f"The specified account: {name} already exists")
        self._username_free(p["username"], domain)
        uid, dbid = self.store.new_id()
        account = self.store.add(Account(p.get("accountid") or uid, dbid, name, domain, accounttype, role,
                                         p.get("networkdomain")))
        self._new_user(account, p, uid=p.get("userid"))
        return account

    def _new_user(self, account: Account, p: P, uid: str | None = None) -> User:
        new_uid, dbid = self.store.new_id()
        return self.store.add(User(uid or new_uid, dbid, p["username"], account, p["firstname"], p["lastname"],
                                   p["email"], p["password"], p.get("timezone")))

    def update_account(self, p: P) -> Account:
        if p.get("id") is not None:
            a = self.account(p["id"])
        else:
            found = self.account_by_name(p.get("account") or "", self.domain(p.get("domainid")))
            if found is None:
                raise errors.invalid_parameter(f"Unable to find account by name {p.get('account')}")
            a = found
        assert a.domain is not None
        if p.get("newname") and p["newname"] != a.name:
            if self.account_by_name(p["newname"], a.domain) is not None:
                raise errors.invalid_parameter(
                    f"There already exists an account with the name:{p['newname']} in the domain:{a.domain.dbid} "
                    "with existing user")
            a.name = p["newname"]
        if "networkdomain" in p:
            a.networkdomain = p["networkdomain"] or None
        if p.get("roleid") is not None:
            a.role = self.role(p["roleid"])
        return a

    def delete_account(self, a: Account) -> None:
        if a is self.admin:
            raise errors.permission_denied("Account id : 2 is a system account, delete is not allowed")
        for u in self.users_of(a):
            self.store.remove(u)
        for hook in self.counters:
            hook.forget(a)
        self.store.remove(a)

    def create_user(self, caller: Account, p: P) -> User:
        domain = self.domain(p.get("domainid") or (caller.domain.id if caller.domain else None))
        account = self.account_by_name(p["account"], domain)
        if account is None:
            raise errors.invalid_parameter(
                f"Unable to find account {p['account']} in domain id={domain.dbid} to create user")
        self.check_access(caller, account, f"account {account.name}")
        self._username_free(p["username"], domain)
        return self._new_user(account, p, uid=p.get("userid"))

    def update_user(self, caller: Account, p: P) -> User:
        u = self.user(p["id"])
        assert u.account is not None
        self.check_access(caller, u.account, f"user {u.name}")
        if p.get("username") and p["username"] != u.name:
            assert u.account.domain is not None
            self._username_free(p["username"], u.account.domain)
            u.name = p["username"]
        for attr in ("firstname", "lastname", "email", "timezone", "password"):
            if p.get(attr) is not None:
                setattr(u, attr, p[attr])
        return u

    def delete_user(self, p: P) -> None:
        u = self.user(p["id"])
        if u is self.admin_user:
            raise errors.invalid_parameter("The default admin user can't be deleted")
        self.store.remove(u)

    def register_keys(self, caller: Account, p: P) -> User:
        """registerUserKeys: a new pair replaces the old one (AccountManagerImpl.createUserApiKey)."""
        u = self.user(p["id"])
        assert u.account is not None
        self.check_access(caller, u.account, f"user {u.name}")
        u.apikey, u.secretkey = secrets.token_urlsafe(64), secrets.token_urlsafe(64)
        return u

    def user_keys(self, caller: Account, p: P) -> User:
        u = self.user(p["id"])
        assert u.account is not None
        self.check_access(caller, u.account, f"user {u.name}")
        return u

    # --- roles -----------------------------------------------------------------------------------
    def create_role(self, p: P) -> Role:
        if any(r.name == p["name"] for r in self.store.all(Role)):
            raise errors.invalid_parameter(f"Role with name {p['name']} already exists")
        if p.get("roleid") is not None:
            typ = self.role(p["roleid"]).type
        elif p.get("type") in ROLE_TYPES:
            typ = p["type"]
        else:
            raise errors.invalid_parameter(f"Invalid role type provided: {p.get('type')}")
        uid, dbid = self.store.new_id()
        return self.store.add(Role(uid, dbid, p["name"], typ, p.get("description") or ""))

    def update_role(self, p: P) -> Role:
        r = self.role(p["id"])
        if r.isdefault:
            raise errors.permission_denied("Default roles cannot be updated")
        if p.get("name"):
            r.name = p["name"]
        if p.get("description") is not None:
            r.description = p["description"]
        if p.get("type"):
            r.type = p["type"]
        return r

    def delete_role(self, p: P) -> None:
        r = self.role(p["id"])
        if r.isdefault:
            raise errors.permission_denied("Default roles cannot be deleted")
        if any(a.role is r for a in self.store.all(Account)):
            raise errors.permission_denied("Role is in use by an account, cannot delete the role")
        self.store.remove(r)

    # --- limits ----------------------------------------------------------------------------------
    def counts(self, account: Account) -> dict[int, int]:
        out: dict[int, int] = {}
        for hook in self.counters:
            for n, v in hook.count(account).items():
                out[n] = out.get(n, 0) + v
        return out

    def domain_counts(self, domain: Domain) -> dict[int, int]:
        out: dict[int, int] = {}
        for a in self.store.all(Account):
            if a.domain is not None and a.domain.within(domain):
                for n, v in self.counts(a).items():
                    out[n] = out.get(n, 0) + v
        return out

    def check_limit(self, account: Account, n: int, amount: int) -> None:
        """ResourceLimitManagerImpl.checkResourceLimit (ResourceAllocationException's text)."""
        name = RESOURCE_TYPES[n][0]
        limit = account.limit(n)
        if limit >= 0 and self.counts(account).get(n, 0) + amount > limit:
            assert account.domain is not None
            raise ResourceLimitExceeded(f"Maximum number of resources of type '{name}' for account name="
                                        f"{account.name} in domain id={account.domain.dbid} has been exceeded.")
        d = account.domain
        while d is not None:
            dlimit = d.limit(n)
            if dlimit >= 0 and self.domain_counts(d).get(n, 0) + amount > dlimit:
                raise ResourceLimitExceeded(f"Maximum number of resources of type '{name}' for domain id={d.dbid} "
                                            "has been exceeded.")
            d = d.parent

    def _resource_type(self, value: Any) -> int:
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = -1
        if n not in RESOURCE_TYPES:
            raise errors.invalid_parameter("Please specify valid resource type")
        return n

    def update_limit(self, caller: Account, p: P) -> dict[str, Any]:
        n = self._resource_type(p["resourcetype"])
        max_ = p.get("max", -1)
        if max_ < -1:
            raise errors.invalid_parameter(
                "Please specify either '-1' for an infinite limit, or a limit that is at least '0'.")
        name = RESOURCE_TYPES[n][0]
        if p.get("account") is not None:
            account = self.owner_for(caller, p)
            assert account.domain is not None
            if account.accounttype == 1:
                raise errors.invalid_parameter("Only -1 limit is supported for Root Account")
            dlimit = account.domain.limit(n)
            if dlimit >= 0 and (max_ < 0 or max_ > dlimit):
                raise errors.invalid_parameter(
                    f"Account {account.name}(id: {account.id}) has maximum allowed resource limit {dlimit} for "
                    f"{name}, please specify a value less than or equal to {dlimit}")
            account.limits[n] = max_
            return self.limit_api(n, account=account)
        domain = self.domain(p.get("domainid"))
        if domain.parent is None:
            raise errors.invalid_parameter("Cannot update resource limit for ROOT domain")
        if caller.accounttype == 2 and caller.domain is domain:
            raise errors.permission_denied("Cannot update resource limit for domain " + domain.name)
        plimit = domain.parent.limit(n)
        if plimit >= 0 and (max_ < 0 or max_ > plimit):
            raise errors.invalid_parameter(
                f"Domain {domain.name}(id: {domain.parent.dbid}) has maximum allowed resource limit {plimit} for "
                f"{name}, please specify a value less than or equal to {plimit}")
        domain.limits[n] = max_
        return self.limit_api(n, domain=domain)

    def limit_api(self, n: int, *, account: Account | None = None, domain: Domain | None = None) -> dict[str, Any]:
        """ResourceLimitResponse."""
        if account is not None:
            assert account.domain is not None
            return {"account": account.name, "domainid": account.domain.id, "domain": account.domain.name,
                    "resourcetype": str(n), "resourcetypename": RESOURCE_TYPES[n][0], "max": account.limit(n)}
        assert domain is not None
        return {"domainid": domain.id, "domain": domain.name, "resourcetype": str(n),
                "resourcetypename": RESOURCE_TYPES[n][0], "max": domain.limit(n)}

    def list_limits(self, caller: Account, p: P) -> list[dict[str, Any]]:
        wanted = list(RESOURCE_TYPES)
        if p.get("resourcetype") is not None:
            wanted = [self._resource_type(p["resourcetype"])]
        elif p.get("resourcetypename") is not None:
            wanted = [n for n, (name, _, _) in RESOURCE_TYPES.items() if name == p["resourcetypename"]]
        if p.get("account") is not None:
            account = self.owner_for(caller, p)
            return [self.limit_api(n, account=account) for n in wanted]
        if p.get("domainid") is not None:
            domain = self.domain(p["domainid"])
            if not self.is_root_admin(caller) and not (
                    caller.accounttype == 2 and caller.domain is not None and domain.within(caller.domain)):
                raise errors.permission_denied(f"Account {caller.name} does not have permission to operate "
                                               f"within domain id={domain.dbid}")
            return [self.limit_api(n, domain=domain) for n in wanted]
        return [self.limit_api(n, account=caller) for n in wanted]


class ResourceLimitExceeded(CloudStackError):
    """ResourceAllocationException: wrapped by the command into RESOURCE_ALLOCATION_ERROR (535)."""

    def __init__(self, text: str) -> None:
        super().__init__(errors.RESOURCE_ALLOCATION_ERROR, text, 9999)
