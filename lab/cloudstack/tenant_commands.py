"""The tenant side's commands: domains, accounts, users and keys, roles, offerings, templates and
ISOs, resource limits, guest networks, routers and VMs.

Rows of the same shapes as commands.py's, except that each rule also gets the calling account
(`ctx.caller`: the account whose keys signed the request), since what a tenant may see and own
depends on it. Registered into commands.HANDLERS when commands.py is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lab.cloudstack import jobs
from lab.cloudstack.commands import HANDLERS, Ctx, P, Reply, listing, success
from lab.cloudstack.models import Backend
from lab.cloudstack.tenant_objects import (
    Account,
    DiskOffering,
    Domain,
    GuestNetwork,
    NetworkOffering,
    OsType,
    Role,
    ServiceOffering,
    Template,
    User,
)

Rule = Callable[[Backend, Account, P], Any]


def _caller(ctx: Ctx) -> Account:
    caller = ctx.caller
    return caller if isinstance(caller, Account) else ctx.backend.tenants.admin


@dataclass(frozen=True)
class One:
    """A sync command answering one object (or, `many`, a list with its count) under `key`."""

    key: str
    rule: Rule
    many: bool = False

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        out = self.rule(ctx.backend, _caller(ctx), p)
        if self.many:
            objs: Sequence[Any] = out
            return Reply({"count": len(objs), self.key: [_api(ctx.backend, o) for o in objs]})
        return Reply({self.key: _api(ctx.backend, out)})


@dataclass(frozen=True)
class Many:
    """A list command: the rule returns the objects (or answers) the caller may see."""

    key: str
    rule: Rule

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        objs = self.rule(ctx.backend, _caller(ctx), p)
        if p.get("keyword"):
            objs = [o for o in objs if p["keyword"].lower() in str(getattr(o, "name", "")).lower()]
        return listing(self.key, [_api(ctx.backend, o) for o in objs], p)


@dataclass(frozen=True)
class Ok:
    """A sync command answering `{"success": true}`."""

    rule: Rule

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        self.rule(ctx.backend, _caller(ctx), p)
        return success()


@dataclass(frozen=True)
class Job:
    """An async command: `find` (at request time, its errors answer the request) then `run` in the
    job; `key` None answers success. `create` makes it an async create (the id is answered at once)."""

    instance_type: str
    find: Rule
    run: Callable[[Backend, Account, Any, P], Any]
    key: str | None = None
    create: bool = False

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        b, caller = ctx.backend, _caller(ctx)
        obj = self.find(b, caller, p)

        def work() -> dict[str, Any]:
            result = self.run(b, caller, obj, p)
            return {"success": True} if self.key is None else {self.key: _api(b, result)}

        job = ctx.submit(self.instance_type, getattr(obj, "id", None), work)
        return Reply(job=job, created_id=obj.id if self.create else None)


def _api(b: Backend, obj: Any) -> dict[str, Any]:
    """Accounts and domains answer their users and resource counts, which live elsewhere."""
    if isinstance(obj, dict):
        return obj
    t = b.tenants
    if isinstance(obj, Account):
        return obj.api(t.users_of(obj), t.counts(obj))
    if isinstance(obj, Domain):
        return obj.api(bool(t.children(obj)), t.domain_counts(obj))
    return dict(obj.to_api())


def _filter(objs: list[Any], p: P, **getters: Callable[[Any], Any]) -> list[Any]:
    for param, get in getters.items():
        if p.get(param) is not None:
            objs = [o for o in objs if get(o) == p[param]]
    return objs


# --- domains, accounts, users, roles ------------------------------------------------------------------


def _list_domains(b: Backend, caller: Account, p: P) -> list[Domain]:
    assert caller.domain is not None
    out = [d for d in b.store.all(Domain) if d.state == "Active" and (
        b.tenants.is_root_admin(caller) or d.within(caller.domain))]
    if not p.get("listall") and p.get("id") is None and p.get("name") is None and p.get("level") is None:
        out = [d for d in out if d is caller.domain] if not b.tenants.is_root_admin(caller) else out
    return _filter(out, p, id=lambda d: d.id, name=lambda d: d.name, level=lambda d: d.level)


def _list_accounts(b: Backend, caller: Account, p: P) -> list[Account]:
    t = b.tenants
    out = [a for a in b.store.all(Account) if t.can_see(caller, a)]
    if p.get("domainid") is not None:
        d = t.domain(p["domainid"])
        out = [a for a in out if a.domain is d or (p.get("isrecursive") and a.domain is not None
                                                   and a.domain.within(d))]
    elif not p.get("listall") and p.get("id") is None and not t.is_root_admin(caller) and caller.accounttype != 2:
        out = [a for a in out if a is caller]
    return _filter(out, p, id=lambda a: a.id, name=lambda a: a.name, accounttype=lambda a: a.accounttype,
                   state=lambda a: a.state)


def _list_users(b: Backend, caller: Account, p: P) -> list[User]:
    t = b.tenants
    out = [u for u in b.store.all(User) if u.account is not None and t.can_see(caller, u.account)]
    if p.get("domainid") is not None:
        d = t.domain(p["domainid"])
        out = [u for u in out if u.account is not None and u.account.domain is d]
    return _filter(out, p, id=lambda u: u.id, username=lambda u: u.name,
                   account=lambda u: u.account.name if u.account else None, state=lambda u: u.state)


def _keys(b: Backend, caller: Account, p: P, register: bool) -> dict[str, Any]:
    u = b.tenants.register_keys(caller, p) if register else b.tenants.user_keys(caller, p)
    if u.apikey is None:
        return {}
    return {"apikey": u.apikey, "secretkey": u.secretkey}


@dataclass(frozen=True)
class Keys:
    """registerUserKeys answers {"userkeys": {...}}; getUserKeys the same (empty without keys)."""

    register: bool

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        keys = _keys(ctx.backend, _caller(ctx), p, self.register)
        return Reply({"userkeys": keys} if keys else {})


def _limits(b: Backend, caller: Account, p: P) -> list[dict[str, Any]]:
    return b.tenants.list_limits(caller, p)


# --- offerings -----------------------------------------------------------------------------------------


def _offerings(cls: type[Any]) -> Rule:
    def rule(b: Backend, caller: Account, p: P) -> list[Any]:
        out = [o for o in b.store.all(cls) if getattr(o, "state", "Active") != "Inactive"
               and b.offerings.offered_to(caller, o)]
        if cls is ServiceOffering:
            out = [o for o in out if o.issystem == bool(p.get("issystem", False))]
        if cls is NetworkOffering:
            out = _filter(out, p, state=lambda o: o.state, guestiptype=lambda o: o.guestiptype,
                          isdefault=lambda o: o.isdefault)
        return _filter(out, p, id=lambda o: o.id, name=lambda o: o.name)
    return rule


# --- templates -----------------------------------------------------------------------------------------


def _templates(iso: bool) -> Rule:
    def rule(b: Backend, caller: Account, p: P) -> list[Template]:
        out = b.templates.listed(caller, p, iso)
        return _filter(out, p, id=lambda t: t.id, name=lambda t: t.name,
                       zoneid=lambda t: t.zone.id if t.zone else None)
    return rule


def _template_in_use(b: Backend, t: Template) -> bool:
    return any(v.template is t and v.state not in ("Expunging",) for v in b.guests.user_vms())


# --- guests ------------------------------------------------------------------------------------------


def _networks(b: Backend, caller: Account, p: P) -> list[GuestNetwork]:
    out = b.tenants.visible(caller, p, b.store.all(GuestNetwork))
    return _filter(out, p, id=lambda n: n.id, zoneid=lambda n: n.zone.id if n.zone else None,
                   networkofferingid=lambda n: n.offering.id if n.offering else None)


def _vms(b: Backend, caller: Account, p: P) -> list[Any]:
    out = b.guests.list_vms(caller, p)
    return _filter(out, p, id=lambda v: v.id, name=lambda v: v.hostname, state=lambda v: v.state,
                   zoneid=lambda v: v.zone.id if v.zone else None, networkid=lambda v: v.network.id,
                   templateid=lambda v: v.template.id if v.template else None,
                   hostid=lambda v: v.host.id if v.host else None)


def _routers(b: Backend, caller: Account, p: P) -> list[Any]:
    del caller
    return _filter(b.guests.routers(), p, id=lambda r: r.id, networkid=lambda r: r.network.id,
                   state=lambda r: r.state, zoneid=lambda r: r.zone.id if r.zone else None)


def _os_types(b: Backend, _caller: Account, p: P) -> list[OsType]:
    return _filter(b.store.all(OsType), p, id=lambda o: o.id, description=lambda o: o.name)


def _deploy_vm(b: Backend, caller: Account, p: P) -> Any:
    return b.guests.deploy(caller, p)


def _vm(b: Backend, caller: Account, p: P) -> Any:
    vm = b.guests.vm(p["id"])
    assert vm.owner is not None
    b.tenants.check_access(caller, vm.owner, f"VM {vm.name}")
    return vm


def _vm_to_destroy(b: Backend, caller: Account, p: P) -> Any:
    vm = _vm(b, caller, p)
    b.guests.check_destroy(caller, vm, p)
    return vm


def _delete_template(b: Backend, caller: Account, t: Any, p: P) -> None:
    """deleteTemplate: refused while VMs use it, unless forced (their disks stay)."""
    b.templates.delete(caller, t, _template_in_use(b, t) and not p.get("forced"))


def _delete_iso(b: Backend, caller: Account, t: Any, _p: P) -> None:
    b.templates.delete(caller, t, _template_in_use(b, t))


TENANT_COMMANDS: dict[str, Any] = {
    # domains, accounts, users, roles
    "createDomain": One("domain", lambda b, c, p: b.tenants.create_domain(c, p)),
    "updateDomain": One("domain", lambda b, _c, p: b.tenants.update_domain(p)),
    "listDomains": Many("domain", _list_domains),
    "deleteDomain": Job("Domain", lambda b, _c, p: b.tenants.domain(p["id"]),
                        lambda b, _c, d, p: b.tenants.delete_domain(d, bool(p.get("cleanup", False)))),
    "createAccount": One("account", lambda b, c, p: b.tenants.create_account(c, p)),
    "updateAccount": One("account", lambda b, _c, p: b.tenants.update_account(p)),
    "listAccounts": Many("account", _list_accounts),
    "deleteAccount": Job("Account", lambda b, _c, p: b.tenants.account(p["id"]),
                         lambda b, _c, a, _p: b.tenants.delete_account(a)),
    "createUser": One("user", lambda b, c, p: b.tenants.create_user(c, p)),
    "updateUser": One("user", lambda b, c, p: b.tenants.update_user(c, p)),
    "listUsers": Many("user", _list_users),
    "deleteUser": Ok(lambda b, _c, p: b.tenants.delete_user(p)),
    "registerUserKeys": Keys(register=True),
    "getUserKeys": Keys(register=False),
    "createRole": One("role", lambda b, _c, p: b.tenants.create_role(p)),
    "updateRole": One("role", lambda b, _c, p: b.tenants.update_role(p)),
    "listRoles": Many("role", lambda b, _c, p: _filter(b.store.all(Role), p, id=lambda r: r.id,
                                                       name=lambda r: r.name, type=lambda r: r.type)),
    "deleteRole": Ok(lambda b, _c, p: b.tenants.delete_role(p)),
    "updateResourceLimit": One("resourcelimit", lambda b, c, p: b.tenants.update_limit(c, p)),
    "listResourceLimits": Many("resourcelimit", _limits),
    # offerings
    "createServiceOffering": One("serviceoffering", lambda b, _c, p: b.offerings.create_service_offering(p)),
    "updateServiceOffering": One("serviceoffering", lambda b, _c, p: b.offerings.update_service_offering(p)),
    "listServiceOfferings": Many("serviceoffering", _offerings(ServiceOffering)),
    "deleteServiceOffering": Ok(lambda b, _c, p: b.offerings.delete_service_offering(p)),
    "createDiskOffering": One("diskoffering", lambda b, _c, p: b.offerings.create_disk_offering(p)),
    "updateDiskOffering": One("diskoffering", lambda b, _c, p: b.offerings.update_disk_offering(p)),
    "listDiskOfferings": Many("diskoffering", _offerings(DiskOffering)),
    "deleteDiskOffering": Ok(lambda b, _c, p: b.offerings.delete_disk_offering(p)),
    "createNetworkOffering": One("networkoffering", lambda b, _c, p: b.offerings.create_network_offering(p)),
    "updateNetworkOffering": One("networkoffering", lambda b, _c, p: b.offerings.update_network_offering(p)),
    "listNetworkOfferings": Many("networkoffering", _offerings(NetworkOffering)),
    "deleteNetworkOffering": Ok(lambda b, _c, p: b.offerings.delete_network_offering(p, any(
        n.offering is not None and n.offering.id == p["id"] for n in b.store.all(GuestNetwork)))),
    # templates and ISOs
    "listOsTypes": Many("ostype", _os_types),
    "registerTemplate": One("template", lambda b, c, p: [b.templates.register(c, p, iso=False)], many=True),
    "updateTemplate": One("template", lambda b, c, p: b.templates.update(c, p, iso=False)),
    "listTemplates": Many("template", _templates(iso=False)),
    "deleteTemplate": Job("Template", lambda b, _c, p: b.templates.template(p["id"]), _delete_template),
    "registerIso": One("iso", lambda b, c, p: [b.templates.register(c, p, iso=True)], many=True),
    "updateIso": One("iso", lambda b, c, p: b.templates.update(c, p, iso=True)),
    "listIsos": Many("iso", _templates(iso=True)),
    "deleteIso": Job("Iso", lambda b, _c, p: b.templates.template(p["id"], iso=True), _delete_iso),
    # guest networks, routers, VMs
    "createNetwork": One("network", lambda b, c, p: b.guests.create_network(c, p)),
    "listNetworks": Many("network", _networks),
    "deleteNetwork": Job("Network", lambda b, c, p: _owned_network(b, c, p),
                         lambda b, c, n, _p: b.guests.delete_network(c, n)),
    "listRouters": Many("router", _routers),
    "deployVirtualMachine": Job("VirtualMachine", _deploy_vm, lambda b, _c, vm, _p: b.guests.run_deploy(vm),
                                "virtualmachine", create=True),
    "listVirtualMachines": Many("virtualmachine", _vms),
    "startVirtualMachine": Job("VirtualMachine", _vm, lambda b, c, vm, _p: b.guests.start(c, vm), "virtualmachine"),
    "stopVirtualMachine": Job("VirtualMachine", _vm, lambda b, c, vm, p: b.guests.stop(c, vm, bool(p.get("forced"))),
                              "virtualmachine"),
    "destroyVirtualMachine": Job("VirtualMachine", _vm_to_destroy,
                                 lambda b, _c, vm, p: b.guests.destroy(vm, bool(p.get("expunge"))), "virtualmachine"),
    "expungeVirtualMachine": Job("VirtualMachine", _vm, lambda b, _c, vm, _p: b.guests.expunge(vm)),
}


def _owned_network(b: Backend, caller: Account, p: P) -> GuestNetwork:
    n = b.guests.network(p["id"])
    assert n.owner is not None
    b.tenants.check_access(caller, n.owner, f"network {n.name}")
    return n


_PKG = "org.apache.cloudstack.api.command"
jobs.CMD_CLASS.update({
    "deleteDomain": f"{_PKG}.admin.domain.DeleteDomainCmd",
    "deleteAccount": f"{_PKG}.admin.account.DeleteAccountCmd",
    "deleteTemplate": f"{_PKG}.user.template.DeleteTemplateCmd",
    "deleteIso": f"{_PKG}.user.iso.DeleteIsoCmd",
    "deleteNetwork": f"{_PKG}.user.network.DeleteNetworkCmd",
    "deployVirtualMachine": f"{_PKG}.user.vm.DeployVMCmd",
    "startVirtualMachine": f"{_PKG}.user.vm.StartVMCmd",
    "stopVirtualMachine": f"{_PKG}.user.vm.StopVMCmd",
    "destroyVirtualMachine": f"{_PKG}.user.vm.DestroyVMCmd",
    "expungeVirtualMachine": f"{_PKG}.admin.vm.ExpungeVMCmd",
})

for _name, _handler in TENANT_COMMANDS.items():
    HANDLERS.add(_name, _handler)
