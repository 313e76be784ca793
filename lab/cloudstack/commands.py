"""The commands the emulator serves: most are rows of tables, a few are functions.

A command whose handler differs from others only by its table is a row: `LIST` (list* commands:
the object class, the response key, the filters), `SYNC` (one object answered under a key),
`DONE` (a rule, then `{"success": true}`), `ASYNC` (a job on an existing object) and
`ASYNC_CREATE` (BaseAsyncCreateCmd: the object exists at once, the job answers it). Commands
with their own answer shapes are functions registered with `@command`.

Every handler receives the typed parameters (spec.process) and calls the rules through the
backend; async ones return a job whose work runs when the test lets it (jobs.py). `HANDLERS`
is the registry the request pipeline (responses.py) dispatches through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lab.cloudstack import errors, spec
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.jobs import Job
from lab.cloudstack.models import (
    Backend,
    Cluster,
    Host,
    ImageStore,
    PhysicalNetwork,
    Pod,
    Resource,
    RouterElement,
    ServiceProvider,
    StoragePool,
    TrafficType,
    Zone,
)
from lab.emu.registry import Registry

P = dict[str, Any]  # the typed parameters of one call (spec.Params)


@dataclass
class Ctx:
    """What a handler works with: the backend, the command, and the job fault a test armed for it."""

    backend: Backend
    command: str
    job_fault: CloudStackError | None = None
    caller: Any = None  # the account whose keys signed the request (None: the lab's admin keys)

    def submit(self, instance_type: str, instance_id: str | None, run: Callable[[], dict[str, Any]],
               on_fail: Callable[[], None] | None = None) -> Job:
        """Start a job for this request, failing it if a test asked for that."""
        return self.backend.jobs.submit(self.command, instance_type, instance_id, run, fail_with=self.job_fault,
                                        on_fail=on_fail)


@dataclass
class Reply:
    """A handler's result: the response body, or a job (async) with the id of what it creates."""

    body: dict[str, Any] | None = None
    job: Job | None = None
    created_id: str | None = None

    def answer(self) -> dict[str, Any]:
        """What goes under `<command>response`: the body, or the job id (and the created object's id)."""
        if self.job is None:
            return self.body or {}
        return {"jobid": self.job.id} if self.created_id is None else {"jobid": self.job.id, "id": self.created_id}


class Handler(Protocol):
    def __call__(self, ctx: Ctx, p: P, /) -> Reply: ...


def _known(name: str) -> str | None:
    return None if spec.lookup(name) is not None else "not a CloudStack 4.18 command"


HANDLERS: Registry[Handler] = Registry("CloudStack command", _known)


def command(name: str) -> Callable[[Handler], Handler]:
    """Register a handler function; the command must exist in listApis 4.18."""
    return HANDLERS(name)


def listing(key: str, objs: list[dict[str, Any]], p: P) -> Reply:
    """`{"count": N, "<key>": [...]}`, or `{}` when empty; page/pagesize as BaseListCmd does."""
    total = len(objs)
    if "pagesize" in p and p["pagesize"] > 0:
        page = max(p.get("page", 1), 1)
        objs = objs[(page - 1) * p["pagesize"]: page * p["pagesize"]]
    if not objs:
        return Reply({})
    return Reply({"count": total, key: objs})


def success() -> Reply:
    return Reply({"success": True})


# --- the row types --------------------------------------------------------------------------------

Getter = Callable[[Any], Any]
Select = Callable[[Backend, P, list[Any]], list[Any]]


@dataclass(frozen=True)
class Listed:
    """A list* command: the objects of `cls`, filtered by each parameter given (param -> attribute),
    by `keyword` (a substring of the name) and by `select` (what the table cannot say)."""

    key: str
    cls: type[Resource]
    filters: Mapping[str, Getter] = field(default_factory=dict)
    keyword: bool = True
    select: Select | None = None

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        objs: list[Any] = ctx.backend.store.listed(self.cls)
        if self.select is not None:
            objs = self.select(ctx.backend, p, objs)
        for param, get in self.filters.items():
            if param in p:
                objs = [o for o in objs if get(o) == p[param]]
        if self.keyword and "keyword" in p:
            objs = [o for o in objs if p["keyword"].lower() in o.name.lower()]
        return listing(self.key, [o.to_api() for o in objs], p)


@dataclass(frozen=True)
class Sync:
    """A command answering one object under `key` (create*, update*); `many` answers a list with a count."""

    key: str
    rule: Callable[[Backend, P], Any]
    many: bool = False

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        if self.many:
            objs: Sequence[Resource] = self.rule(ctx.backend, p)
            return Reply({"count": len(objs), self.key: [o.to_api() for o in objs]})
        return Reply({self.key: self.rule(ctx.backend, p).to_api()})


@dataclass(frozen=True)
class Done:
    """A command that runs a rule and answers `{"success": true}` (delete*)."""

    rule: Callable[[Backend, P], None]

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        self.rule(ctx.backend, p)
        return success()


@dataclass(frozen=True)
class Async:
    """An async command on an existing object: `find` looks it up when the request comes (its
    errors answer the request), `run` is the job's work on it; `key` None answers success."""

    instance_type: str
    find: Callable[[Backend, P], Any]
    run: Callable[[Backend, Any, P], Any]
    key: str | None = None

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        b = ctx.backend
        obj = self.find(b, p)
        instance_id = obj.id if isinstance(obj, Resource) else obj

        def work() -> dict[str, Any]:
            result = self.run(b, obj, p)
            return {"success": True} if self.key is None else {self.key: result.to_api()}

        return Reply(job=ctx.submit(self.instance_type, instance_id, work))


@dataclass(frozen=True)
class AsyncCreate:
    """BaseAsyncCreateCmd: `create` makes the object at once (create()), the job answers it
    (execute()); a failed job undoes the creation."""

    instance_type: str
    key: str
    create: Callable[[Backend, P], Resource]
    undo: Callable[[Backend, Any], None] = lambda b, obj: b.store.remove(obj)

    def __call__(self, ctx: Ctx, p: P) -> Reply:
        b = ctx.backend
        obj = self.create(b, p)
        job = ctx.submit(self.instance_type, obj.id, lambda: {self.key: obj.to_api()},
                         on_fail=lambda: self.undo(b, obj))
        return Reply(job=job, created_id=obj.id)


# --- the tables -------------------------------------------------------------------------------------


def _traffic_of_network(b: Backend, p: P, objs: list[Any]) -> list[Any]:
    net = b.zones.physical_network(p["physicalnetworkid"])
    return [t for t in objs if t.network is net]


def _name_like(_b: Backend, p: P, objs: list[Any]) -> list[Any]:
    """listPhysicalNetworks' name is SQL LIKE %name%."""
    return [n for n in objs if p["name"] in n.name] if "name" in p else objs


def _routing_hosts(_b: Backend, p: P, objs: list[Any]) -> list[Any]:
    return objs if p.get("type") in (None, "Routing") else []


def _role(role: str) -> Select:
    return lambda _b, _p, objs: [s for s in objs if s.role == role]


_STORE_FILTERS: dict[str, Getter] = {
    "id": lambda s: s.id, "name": lambda s: s.name, "zoneid": lambda s: s.zone.id if s.zone else None,
    "provider": lambda s: s.providername, "protocol": lambda s: s.protocol,
}

LIST: dict[str, Listed] = {
    "listZones": Listed("zone", Zone, {"id": lambda z: z.id, "name": lambda z: z.name,
                                     "networktype": lambda z: z.networktype}),
    "listPhysicalNetworks": Listed("physicalnetwork", PhysicalNetwork,
                                 {"id": lambda n: n.id, "zoneid": lambda n: n.zone.id}, select=_name_like),
    "listTrafficTypes": Listed("traffictype", TrafficType, keyword=False, select=_traffic_of_network),
    "listNetworkServiceProviders": Listed("networkserviceprovider", ServiceProvider, {
        "physicalnetworkid": lambda s: s.network.id, "name": lambda s: s.name, "state": lambda s: s.state}),
    "listVirtualRouterElements": Listed("virtualrouterelement", RouterElement, {
        "id": lambda e: e.id, "nspid": lambda e: e.nsp.id, "enabled": lambda e: e.enabled}, keyword=False),
    "listPods": Listed("pod", Pod, {"id": lambda x: x.id, "zoneid": lambda x: x.zone.id, "name": lambda x: x.name,
                                  "allocationstate": lambda x: x.allocationstate}),
    "listClusters": Listed("cluster", Cluster, {
        "id": lambda c: c.id, "name": lambda c: c.name, "podid": lambda c: c.pod.id,
        "zoneid": lambda c: c.pod.zone.id, "hypervisor": lambda c: c.hypervisor,
        "clustertype": lambda c: c.clustertype, "allocationstate": lambda c: c.allocationstate,
        "managedstate": lambda c: c.managedstate}),
    "listHosts": Listed("host", Host, {
        "id": lambda h: h.id, "name": lambda h: h.name, "clusterid": lambda h: h.cluster.id,
        "podid": lambda h: h.cluster.pod.id, "zoneid": lambda h: h.cluster.pod.zone.id,
        "state": lambda h: h.state, "resourcestate": lambda h: h.resourcestate,
        "hypervisor": lambda h: h.cluster.hypervisor}, select=_routing_hosts),
    "listStoragePools": Listed("storagepool", StoragePool, {
        "id": lambda s: s.id, "name": lambda s: s.name, "zoneid": lambda s: s.zone.id,
        "podid": lambda s: s.pod.id if s.pod else None, "clusterid": lambda s: s.cluster.id if s.cluster else None,
        "scope": lambda s: s.scope, "ipaddress": lambda s: s.ipaddress, "path": lambda s: s.path}),
    "listImageStores": Listed("imagestore", ImageStore, {**_STORE_FILTERS, "readonly": lambda s: s.readonly},
                            select=_role("Image")),
    # listSecondaryStagingStores has no readonly filter.
    "listSecondaryStagingStores": Listed("imagestore", ImageStore, _STORE_FILTERS, select=_role("ImageCache")),
}


def _details(p: P) -> dict[str, str] | None:
    """AddImageStoreCmd.getDetails: None without a details map; else its `key`/`value` pairs.

    A map sent as `details[0].accesskey=...` (what `cs` makes of a plain dict) gives the real
    server one null key and value, so the S3 keys are simply missing; the emulator does the same.
    """
    if p.get("details") is None:
        return None
    return {d["key"]: d["value"] for d in p["details"] if d.get("key") is not None and d.get("value") is not None}


def _s3_details(p: P) -> dict[str, str]:
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in p.items()}


SYNC: dict[str, Sync] = {
    "createZone": Sync("zone", lambda b, p: b.zones.create_zone(p)),
    "updateZone": Sync("zone", lambda b, p: b.zones.update_zone(p)),
    "createPod": Sync("pod", lambda b, p: b.compute.create_pod(p)),
    "updatePod": Sync("pod", lambda b, p: b.compute.update_pod(p)),
    # AddClusterCmd answers a list: {"count": 1, "cluster": [...]}; AddHostCmd every host discovered.
    "addCluster": Sync("cluster", lambda b, p: [b.compute.add_cluster(p)], many=True),
    "updateCluster": Sync("cluster", lambda b, p: b.compute.update_cluster(p)),
    "addHost": Sync("host", lambda b, p: b.compute.add_host(p), many=True),
    "updateHost": Sync("host", lambda b, p: b.compute.update_host(p)),
    "createStoragePool": Sync("storagepool", lambda b, p: b.storage.create_storage_pool(p)),
    "updateStoragePool": Sync("storagepool", lambda b, p: b.storage.update_storage_pool(p)),
    "addImageStore": Sync("imagestore", lambda b, p: b.storage.add_image_store(
        p["provider"], p.get("url"), p.get("name"), p.get("zoneid"), _details(p))),
    "addImageStoreS3": Sync("imagestore", lambda b, p: b.storage.add_image_store("S3", None, None, None,
                                                                                 _s3_details(p))),
    "updateImageStore": Sync("imagestore", lambda b, p: b.storage.update_image_store(p)),
    "createSecondaryStagingStore": Sync("secondarystorage", lambda b, p: b.storage.create_staging_store(p)),
}

DONE: dict[str, Done] = {
    "deleteZone": Done(lambda b, p: b.zones.delete_zone(p["id"])),
    "deletePod": Done(lambda b, p: b.compute.delete_pod(p["id"])),
    "deleteCluster": Done(lambda b, p: b.compute.delete_cluster(p["id"])),
    "deleteHost": Done(lambda b, p: b.compute.delete_host(p)),
    "updateHostPassword": Done(lambda b, p: b.compute.update_host_password(p)),
    "deleteStoragePool": Done(lambda b, p: b.storage.delete_storage_pool(p)),
    "deleteImageStore": Done(lambda b, p: b.storage.delete_image_store(p["id"])),
    "deleteSecondaryStagingStore": Done(lambda b, p: b.storage.delete_staging_store(p["id"])),
}


def _host_for_maintenance(b: Backend, p: P) -> Host:
    host = b.store.get(Host, p["id"])
    if host is None:
        raise errors.invalid_parameter(f"Unable to find host with ID: {p['id']}. Please specify a valid host ID.")
    return host


def _pod_of(_b: Backend, p: P) -> str:
    return str(p["podid"])


ASYNC: dict[str, Async] = {
    "updatePhysicalNetwork": Async("PhysicalNetwork", lambda b, p: b.zones.physical_network(p["id"]),
                                   lambda b, _net, p: b.zones.update_physical_network(p), "physicalnetwork"),
    "deletePhysicalNetwork": Async("PhysicalNetwork", lambda b, p: b.zones.physical_network(p["id"]),
                                   lambda b, net, _p: b.zones.delete_physical_network(
                                       b.zones.physical_network(net.id))),
    "updateTrafficType": Async("TrafficType", lambda b, p: b.zones.traffic_type(p["id"]),
                               lambda b, _t, p: b.zones.update_traffic_type(p), "traffictype"),
    "deleteTrafficType": Async("TrafficType", lambda b, p: b.zones.traffic_type(p["id"]),
                               lambda b, t, _p: b.store.remove(b.zones.traffic_type(t.id))),
    "updateNetworkServiceProvider": Async("PhysicalNetworkServiceProvider", lambda b, p: b.zones.provider(p["id"]),
                                          lambda b, nsp, p: b.zones.update_provider(nsp, p),
                                          "networkserviceprovider"),
    "deleteNetworkServiceProvider": Async("PhysicalNetworkServiceProvider", lambda b, p: b.zones.provider(p["id"]),
                                          lambda b, nsp, _p: b.zones.delete_provider(nsp)),
    "configureVirtualRouterElement": Async("None", lambda b, p: b.zones.router_element(p["id"]),
                                           lambda b, el, p: b.zones.configure_router_element(el, p),
                                           "virtualrouterelement"),
    "createManagementNetworkIpRange": Async("None", lambda b, p: b.compute.pod(p["podid"]),
                                            lambda b, _pod, p: b.compute.create_pod_ip_range(p), "pod"),
    "deleteManagementNetworkIpRange": Async("None", _pod_of, lambda b, _pod, p: b.compute.delete_pod_ip_range(p)),
    "updatePodManagementNetworkIpRange": Async("None", _pod_of,
                                               lambda b, _pod, p: b.compute.update_pod_ip_range(p)),
    "prepareHostForMaintenance": Async("Host", _host_for_maintenance, lambda b, h, _p: b.compute.maintain(h),
                                       "host"),
    "cancelHostMaintenance": Async("Host", lambda b, p: b.compute.host(p["id"]),
                                   lambda b, h, _p: b.compute.cancel_maintenance(h), "host"),
    "enableStorageMaintenance": Async("StoragePool", lambda b, p: b.storage.storage_pool(p["id"]),
                                      lambda b, s, _p: b.storage.enable_maintenance(s), "storagepool"),
    "cancelStorageMaintenance": Async("StoragePool", lambda b, p: b.storage.storage_pool(p["id"]),
                                      lambda b, s, _p: b.storage.cancel_maintenance(s), "storagepool"),
}

ASYNC_CREATE: dict[str, AsyncCreate] = {
    "createPhysicalNetwork": AsyncCreate("PhysicalNetwork", "physicalnetwork",
                                         lambda b, p: b.zones.create_physical_network(p),
                                         lambda b, net: b.zones.delete_physical_network(net)),
    "addTrafficType": AsyncCreate("TrafficType", "traffictype", lambda b, p: b.zones.add_traffic_type(p)),
    "addNetworkServiceProvider": AsyncCreate("PhysicalNetworkServiceProvider", "networkserviceprovider",
                                             lambda b, p: b.zones.add_network_service_provider(p)),
    "createVirtualRouterElement": AsyncCreate("None", "virtualrouterelement",
                                              lambda b, p: b.zones.create_router_element(p)),
}



def _register(tables: Mapping[bool, Sequence[Mapping[str, Handler]]]) -> None:
    """Register every row; a row in a table of the wrong kind (async or not, per listApis) fails here."""
    for is_async, group in tables.items():
        for table in group:
            for name, handler in table.items():
                HANDLERS.add(name, handler)
                api = spec.lookup(name)
                if api is not None and api.isasync != is_async:
                    raise ValueError(f"{name}: isasync is {api.isasync} in listApis 4.18; move its row")


_register({False: (LIST, SYNC, DONE), True: (ASYNC, ASYNC_CREATE)})


# --- commands with their own shapes -------------------------------------------------------------------


@command("queryAsyncJobResult")
def query_async_job_result(ctx: Ctx, p: P) -> Reply:
    job = ctx.backend.jobs.poll(p["jobid"])
    if job is None:
        raise errors.invalid_parameter(f"Unable to find a job by id {p['jobid']}")
    return Reply(job.to_api())


@command("listApis")
def list_apis(_ctx: Ctx, p: P) -> Reply:
    """ApiDiscoveryServiceImpl.listApis for the admin (every command allowed): the 4.18 server's own
    answer, every command or the one named (names are case-sensitive); what CloudMonkey syncs from."""
    found = spec.discovery()
    name = p.get("name")
    if name is not None:
        if name not in found:
            raise errors.internal_error(
                "Api Discovery plugin was unable to find an api by that name or process any apis")
        return Reply({"count": 1, "api": [found[name]]})
    return Reply({"count": len(found), "api": list(found.values())})


@command("listCapabilities")
def list_capabilities(_ctx: Ctx, _p: P) -> Reply:
    """What clients call first to learn the version; the values of a default 4.18 install."""
    return Reply({"capability": {
        "cloudstackversion": "4.18.0.0", "securitygroupsenabled": False, "userpublictemplateenabled": True,
        "supportELB": "false", "projectinviterequired": False, "allowusercreateprojects": True,
        "customdiskofferingminsize": 1, "customdiskofferingmaxsize": 1024, "regionsecondaryenabled": False,
        "kvmsnapshotenabled": False, "allowuserviewdestroyedvm": False, "allowuserexpungerecovervm": False,
        "allowuserexpungerecovervolume": True, "allowuserviewalldomainaccounts": False,
        "kubernetesserviceenabled": False, "kubernetesclusterexperimentalfeaturesenabled": False,
        "defaultuipagesize": 20, "dynamicrolesenabled": True, "apilimitinterval": 1, "apilimitmax": 20,
    }})


# The tenant side's commands (domains, accounts, offerings, templates, VMs) register themselves.
from lab.cloudstack import tenant_commands as _tenant_commands  # noqa: E402,F401
