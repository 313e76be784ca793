"""Parse, verify, validate, call, serialise: one management-server request end to end.

The order is ApiServlet/ApiServer's: verify the request (command known, apiKey and signature
present, key known, signatureVersion 3 expiry, HMAC-SHA1 over the sorted, URL-encoded,
lower-cased parameters) -> 401 on any failure; then the faults a test asked for; then the
dispatcher's parameter processing (431); then the command. Sync commands answer
`{"<cmd>response": {...}}`; async ones `{"<cmd>response": {"jobid": ...}}` (plus "id" for an
async create) and run as jobs (see jobs.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from lab.cloudstack import errors, spec
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.faults import Faults
from lab.cloudstack.jobs import Job
from lab.cloudstack.models import Backend

# Parameters that belong to the transport, not to the command: left out of the request log.
TRANSPORT = {"apikey", "signature", "signatureversion", "expires", "response", "command", "sessionkey"}


class LoggedRequest(NamedTuple):
    """One request: command, its parameters (no transport ones: apiKey, signature, signatureVersion,
    expires, response), the error answered (None on success), and whether a fault dropped it."""

    command: str
    params: dict[str, str]
    error: CloudStackError | None
    dropped: bool = False


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | None  # None: drop the connection
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    xml: bool = False  # no response=json: the server's default, XML


# ----------------------------------------------------------------------------------- signature


def java_urlencode(value: str) -> str:
    """URLEncoder.encode(value, "UTF-8") with "+" replaced by "%20", as ApiServer signs."""
    return urllib.parse.quote(value, safe="*-._").replace("~", "%7E")


def string_to_sign(params: dict[str, str]) -> str:
    """All parameters but `signature` (any case), names sorted as sent (case-sensitive), lower-cased."""
    names = sorted(n for n in params if n.lower() != "signature")
    return "&".join(f"{n}={java_urlencode(params[n])}" for n in names).lower()


def sign(params: dict[str, str], secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), string_to_sign(params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


EXPIRES_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def parse_expires(text: str) -> datetime | None:
    """DateUtil.parseTZDateString: yyyy-MM-dd'T'HH:mm:ssZ (and the RFC 3339 forms clients send)."""
    m = EXPIRES_RE.match(text)
    if not m:
        return None
    tz = m.group(3)
    tz = "+0000" if tz == "Z" else tz.replace(":", "")
    try:
        return datetime.strptime(m.group(1) + tz, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def verify(params: dict[str, str], api_key: str, secret_key: str, clock: Callable[[], float]) -> bool:
    """ApiServer.verifyRequest for one admin key pair."""
    lower = {k.lower(): v for k, v in params.items()}
    if spec.lookup(params.get("command")) is None:
        return False
    given_key, signature = lower.get("apikey"), lower.get("signature")
    if not given_key or not signature or given_key != api_key:
        return False
    if lower.get("signatureversion") == "3":
        expires = parse_expires(lower.get("expires", ""))
        if expires is None or expires.timestamp() < clock():
            return False
    expected = sign(params, secret_key)
    return hmac.compare_digest(expected.encode(), signature.encode())


# ------------------------------------------------------------------------------------ dispatch

Handler = Callable[["Responses", dict[str, Any]], "Reply"]
HANDLERS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    """Register a handler; the command must exist in listApis 4.18."""
    if spec.lookup(name) is None:
        raise ValueError(f"{name} is not a CloudStack 4.18 command")

    def deco(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return deco


@dataclass
class Reply:
    """A handler's result: the response body, or a job (async) with the id of what it creates."""

    body: dict[str, Any] | None = None
    job: Job | None = None
    created_id: str | None = None


def one(key: str, obj: dict[str, Any]) -> Reply:
    return Reply({key: obj})


def listing(key: str, objs: list[dict[str, Any]], p: dict[str, Any]) -> Reply:
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


class Responses:
    """Request handling for one emulator: keys, backend, faults, request log."""

    def __init__(self, backend: Backend, api_key: str, secret_key: str, faults: Faults,
                 clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.api_key = api_key
        self.secret_key = secret_key
        self.faults = faults
        self.clock = clock
        self.request_log: list[LoggedRequest] = []

    def handle(self, params: dict[str, str]) -> Answer:
        answer = self._handle(params)
        wanted = next((v for k, v in params.items() if k.lower() == "response"), "")
        answer.xml = wanted.lower() != "json"
        return answer

    def _handle(self, params: dict[str, str]) -> Answer:
        command_name = params.get("command") or ""
        api = spec.lookup(command_name)
        logged = {k: v for k, v in params.items() if k.lower() not in TRANSPORT}
        response_name = api.response_name if api else "errorresponse"

        def fail(err: CloudStackError) -> Answer:
            self.request_log.append(LoggedRequest(command_name, logged, err))
            name = err.response_name or response_name
            return Answer(err.errorcode, {name: err.body()}, {"X-Description": err.errortext})

        if not verify(params, self.api_key, self.secret_key, self.clock) or api is None:
            err = errors.unauthorized()
            if api is None:
                err.response_name = "errorresponse"
            return fail(err)

        delay = 0.0
        lat = self.faults.take("latency", command_name)
        if lat is not None:
            delay = lat.seconds
        if self.faults.take("drop", command_name) is not None:
            self.request_log.append(LoggedRequest(command_name, logged, None, dropped=True))
            return Answer(0, None, delay=delay)
        injected = self.faults.take("error", command_name)
        if injected is not None and injected.error is not None:
            answer = fail(injected.error)
            answer.delay = delay
            return answer

        handler = HANDLERS.get(command_name)
        if handler is None:
            answer = fail(errors.unsupported(
                f"The CloudStack emulator does not implement {command_name} (it exists in CloudStack 4.18)"))
            answer.delay = delay
            return answer

        with self.backend.lock:
            try:
                typed = spec.process(api, params, self.backend.exists)
                job_fault = self.faults.take("job", command_name) if api.isasync else None
                self._job_fault = job_fault.error if job_fault is not None else None
                reply = handler(self, typed)
            except CloudStackError as err:
                answer = fail(err)
                answer.delay = delay
                return answer
            except spec.UndeclaredParameter as bug:  # an emulator bug, made loud
                answer = fail(errors.internal_error(f"CloudStack emulator bug: {bug.args[0]}"))
                answer.delay = delay
                return answer
        self.request_log.append(LoggedRequest(command_name, logged, None))
        if reply.job is not None:
            body: dict[str, Any] = {"jobid": reply.job.id}
            if reply.created_id is not None:
                body["id"] = reply.created_id
        else:
            body = reply.body or {}
        return Answer(200, {response_name: body}, delay=delay)

    _job_fault: CloudStackError | None = None

    def submit(self, command_name: str, instance_type: str, instance_id: str | None,
               run: Callable[[], dict[str, Any]], on_fail: Callable[[], None] | None = None) -> Job:
        """Start a job for the current request, failing it if a test asked for that."""
        return self.backend.submit(command_name, instance_type, instance_id, run,
                                   fail_with=self._job_fault, on_fail=on_fail)


# ------------------------------------------------------------------------------------ commands
# Each handler receives the typed parameters (spec.process) and calls the backend; async ones
# return a job whose work runs when the test lets it (jobs.py).

from lab.cloudstack.models import (  # noqa: E402 - handlers below use the model classes
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


def _filter(objs: list[Any], p: dict[str, Any], **attrs: Callable[[Any], Any]) -> list[Any]:
    """Keep objects whose attribute equals the parameter, for each parameter given."""
    for param, get in attrs.items():
        if param in p:
            objs = [o for o in objs if get(o) == p[param]]
    return objs


def _keyword(objs: list[Any], p: dict[str, Any], key: str = "keyword") -> list[Any]:
    if key in p:
        objs = [o for o in objs if p[key].lower() in o.name.lower()]
    return objs


def _serialise(r: Responses, objs: Sequence[Resource]) -> list[dict[str, Any]]:
    return [o.to_api(r.backend) for o in objs]


def _async_create(r: Responses, command_name: str, instance_type: str, obj: Resource, key: str) -> Reply:
    """BaseAsyncCreateCmd: the object exists at once (create()), the job then returns it (execute())."""
    b = r.backend
    job = r.submit(command_name, instance_type, obj.id, lambda: {key: obj.to_api(b)}, on_fail=lambda: b.remove(obj))
    return Reply(job=job, created_id=obj.id)


def _async(r: Responses, command_name: str, instance_type: str, instance_id: str | None,
           run: Callable[[], dict[str, Any]]) -> Reply:
    return Reply(job=r.submit(command_name, instance_type, instance_id, run))


@command("queryAsyncJobResult")
def query_async_job_result(r: Responses, p: dict[str, Any]) -> Reply:
    job = r.backend.jobs.poll(p["jobid"])
    if job is None:
        raise errors.invalid_parameter(f"Unable to find a job by id {p['jobid']}")
    return Reply(job.to_api())


@command("listCapabilities")
def list_capabilities(r: Responses, p: dict[str, Any]) -> Reply:
    """What clients call first to learn the version; the values of a default 4.18 install."""
    return one("capability", {
        "cloudstackversion": "4.18.0.0", "securitygroupsenabled": False, "userpublictemplateenabled": True,
        "supportELB": "false", "projectinviterequired": False, "allowusercreateprojects": True,
        "customdiskofferingminsize": 1, "customdiskofferingmaxsize": 1024, "regionsecondaryenabled": False,
        "kvmsnapshotenabled": False, "allowuserviewdestroyedvm": False, "allowuserexpungerecovervm": False,
        "allowuserexpungerecovervolume": True, "allowuserviewalldomainaccounts": False,
        "kubernetesserviceenabled": False, "kubernetesclusterexperimentalfeaturesenabled": False,
        "defaultuipagesize": 20, "dynamicrolesenabled": True, "apilimitinterval": 1, "apilimitmax": 20,
    })


# --- zones ---------------------------------------------------------------------------------------


@command("listZones")
def list_zones(r: Responses, p: dict[str, Any]) -> Reply:
    zones = _filter(r.backend.listed(Zone), p, id=lambda z: z.id, name=lambda z: z.name,
                    networktype=lambda z: z.networktype)
    return listing("zone", _serialise(r, _keyword(zones, p)), p)


@command("createZone")
def create_zone(r: Responses, p: dict[str, Any]) -> Reply:
    return one("zone", r.backend.create_zone(p).to_api(r.backend))


@command("updateZone")
def update_zone(r: Responses, p: dict[str, Any]) -> Reply:
    return one("zone", r.backend.update_zone(p).to_api(r.backend))


@command("deleteZone")
def delete_zone(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_zone(p["id"])
    return success()


# --- physical networks, traffic types, providers ---------------------------------------------------


@command("listPhysicalNetworks")
def list_physical_networks(r: Responses, p: dict[str, Any]) -> Reply:
    nets = _filter(r.backend.listed(PhysicalNetwork), p, id=lambda n: n.id, zoneid=lambda n: n.zone.id)
    if "name" in p:  # SQL LIKE %name%
        nets = [n for n in nets if p["name"] in n.name]
    return listing("physicalnetwork", _serialise(r, _keyword(nets, p)), p)


@command("createPhysicalNetwork")
def create_physical_network(r: Responses, p: dict[str, Any]) -> Reply:
    net = r.backend.create_physical_network(p)
    b = r.backend
    job = r.submit("createPhysicalNetwork", "PhysicalNetwork", net.id, lambda: {"physicalnetwork": net.to_api(b)},
                   on_fail=lambda: b.delete_physical_network(net))
    return Reply(job=job, created_id=net.id)


@command("updatePhysicalNetwork")
def update_physical_network(r: Responses, p: dict[str, Any]) -> Reply:
    net = r.backend.physical_network(p["id"])
    return _async(r, "updatePhysicalNetwork", "PhysicalNetwork", net.id,
                  lambda: {"physicalnetwork": r.backend.update_physical_network(p).to_api(r.backend)})


@command("deletePhysicalNetwork")
def delete_physical_network(r: Responses, p: dict[str, Any]) -> Reply:
    net = r.backend.physical_network(p["id"])

    def run() -> dict[str, Any]:
        r.backend.delete_physical_network(r.backend.physical_network(net.id))
        return {"success": True}

    return _async(r, "deletePhysicalNetwork", "PhysicalNetwork", net.id, run)


@command("listTrafficTypes")
def list_traffic_types(r: Responses, p: dict[str, Any]) -> Reply:
    net = r.backend.physical_network(p["physicalnetworkid"])
    types = [t for t in r.backend.listed(TrafficType) if t.network is net]
    return listing("traffictype", _serialise(r, types), p)


@command("addTrafficType")
def add_traffic_type(r: Responses, p: dict[str, Any]) -> Reply:
    return _async_create(r, "addTrafficType", "TrafficType", r.backend.add_traffic_type(p), "traffictype")


@command("updateTrafficType")
def update_traffic_type(r: Responses, p: dict[str, Any]) -> Reply:
    t = r.backend.traffic_type(p["id"])
    return _async(r, "updateTrafficType", "TrafficType", t.id,
                  lambda: {"traffictype": r.backend.update_traffic_type(p).to_api(r.backend)})


@command("deleteTrafficType")
def delete_traffic_type(r: Responses, p: dict[str, Any]) -> Reply:
    t = r.backend.traffic_type(p["id"])

    def run() -> dict[str, Any]:
        r.backend.remove(r.backend.traffic_type(t.id))
        return {"success": True}

    return _async(r, "deleteTrafficType", "TrafficType", t.id, run)


@command("listNetworkServiceProviders")
def list_network_service_providers(r: Responses, p: dict[str, Any]) -> Reply:
    nsps = _filter(r.backend.listed(ServiceProvider), p, physicalnetworkid=lambda s: s.network.id,
                   name=lambda s: s.name, state=lambda s: s.state)
    return listing("networkserviceprovider", _serialise(r, _keyword(nsps, p)), p)


@command("addNetworkServiceProvider")
def add_network_service_provider(r: Responses, p: dict[str, Any]) -> Reply:
    net = r.backend.physical_network(p["physicalnetworkid"])
    if any(s.network is net and s.name == p["name"] for s in r.backend.all(ServiceProvider)):
        raise errors.cloud_runtime(
            f"The '{p['name']}' provider already exists on physical network : {net.dbid}")
    nsp = r.backend.add_provider(net, p["name"])
    if p.get("servicelist") is not None:
        nsp.servicelist = list(p["servicelist"])
    return _async_create(r, "addNetworkServiceProvider", "PhysicalNetworkServiceProvider", nsp,
                         "networkserviceprovider")


@command("updateNetworkServiceProvider")
def update_network_service_provider(r: Responses, p: dict[str, Any]) -> Reply:
    nsp = r.backend.provider(p["id"])
    return _async(r, "updateNetworkServiceProvider", "PhysicalNetworkServiceProvider", nsp.id,
                  lambda: {"networkserviceprovider": r.backend.update_provider(nsp, p).to_api(r.backend)})


@command("deleteNetworkServiceProvider")
def delete_network_service_provider(r: Responses, p: dict[str, Any]) -> Reply:
    nsp = r.backend.provider(p["id"])

    def run() -> dict[str, Any]:
        for el in [e for e in r.backend.all(RouterElement) if e.nsp is nsp]:
            r.backend.remove(el)
        r.backend.remove(nsp)
        return {"success": True}

    return _async(r, "deleteNetworkServiceProvider", "PhysicalNetworkServiceProvider", nsp.id, run)


@command("listVirtualRouterElements")
def list_virtual_router_elements(r: Responses, p: dict[str, Any]) -> Reply:
    els = _filter(r.backend.listed(RouterElement), p, id=lambda e: e.id, nspid=lambda e: e.nsp.id,
                  enabled=lambda e: e.enabled)
    return listing("virtualrouterelement", _serialise(r, els), p)


@command("createVirtualRouterElement")
def create_virtual_router_element(r: Responses, p: dict[str, Any]) -> Reply:
    nsp = r.backend.provider(p["nspid"])
    if any(e.nsp is nsp for e in r.backend.all(RouterElement)):
        raise errors.invalid_parameter(f"There is already a virtual router element with service provider id {nsp.dbid}")
    el = r.backend.add(RouterElement(*r.backend.new_id(), nsp.name, nsp=nsp))
    return _async_create(r, "createVirtualRouterElement", "None", el, "virtualrouterelement")


@command("configureVirtualRouterElement")
def configure_virtual_router_element(r: Responses, p: dict[str, Any]) -> Reply:
    el = r.backend.router_element(p["id"])

    def run() -> dict[str, Any]:
        el.enabled = p["enabled"]
        return {"virtualrouterelement": el.to_api(r.backend)}

    return _async(r, "configureVirtualRouterElement", "None", el.id, run)


# --- pods, clusters, hosts -----------------------------------------------------------------------


@command("listPods")
def list_pods(r: Responses, p: dict[str, Any]) -> Reply:
    pods = _filter(r.backend.listed(Pod), p, id=lambda x: x.id, zoneid=lambda x: x.zone.id, name=lambda x: x.name,
                   allocationstate=lambda x: x.allocationstate)
    return listing("pod", _serialise(r, _keyword(pods, p)), p)


@command("createPod")
def create_pod(r: Responses, p: dict[str, Any]) -> Reply:
    return one("pod", r.backend.create_pod(p).to_api(r.backend))


@command("updatePod")
def update_pod(r: Responses, p: dict[str, Any]) -> Reply:
    return one("pod", r.backend.update_pod(p).to_api(r.backend))


@command("deletePod")
def delete_pod(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_pod(p["id"])
    return success()


@command("createManagementNetworkIpRange")
def create_management_network_ip_range(r: Responses, p: dict[str, Any]) -> Reply:
    pod = r.backend.pod(p["podid"])
    return _async(r, "createManagementNetworkIpRange", "None", pod.id,
                  lambda: {"pod": r.backend.create_pod_ip_range(p).to_api(r.backend)})


@command("deleteManagementNetworkIpRange")
def delete_management_network_ip_range(r: Responses, p: dict[str, Any]) -> Reply:
    def run() -> dict[str, Any]:
        r.backend.delete_pod_ip_range(p)
        return {"success": True}

    return _async(r, "deleteManagementNetworkIpRange", "None", p["podid"], run)


@command("updatePodManagementNetworkIpRange")
def update_pod_management_network_ip_range(r: Responses, p: dict[str, Any]) -> Reply:
    def run() -> dict[str, Any]:
        r.backend.update_pod_ip_range(p)
        return {"success": True}

    return _async(r, "updatePodManagementNetworkIpRange", "None", p["podid"], run)


@command("listClusters")
def list_clusters(r: Responses, p: dict[str, Any]) -> Reply:
    cs = _filter(r.backend.listed(Cluster), p, id=lambda c: c.id, name=lambda c: c.name, podid=lambda c: c.pod.id,
                 zoneid=lambda c: c.pod.zone.id, hypervisor=lambda c: c.hypervisor,
                 clustertype=lambda c: c.clustertype, allocationstate=lambda c: c.allocationstate,
                 managedstate=lambda c: c.managedstate)
    return listing("cluster", _serialise(r, _keyword(cs, p)), p)


@command("addCluster")
def add_cluster(r: Responses, p: dict[str, Any]) -> Reply:
    """AddClusterCmd answers a list: {"count": 1, "cluster": [...]}."""
    cluster = r.backend.add_cluster(p)
    return Reply({"count": 1, "cluster": [cluster.to_api(r.backend)]})


@command("updateCluster")
def update_cluster(r: Responses, p: dict[str, Any]) -> Reply:
    return one("cluster", r.backend.update_cluster(p).to_api(r.backend))


@command("deleteCluster")
def delete_cluster(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_cluster(p["id"])
    return success()


@command("listHosts")
def list_hosts(r: Responses, p: dict[str, Any]) -> Reply:
    hosts = r.backend.listed(Host)
    hosts = _filter(hosts, p, id=lambda h: h.id, name=lambda h: h.name, clusterid=lambda h: h.cluster.id,
                    podid=lambda h: h.cluster.pod.id, zoneid=lambda h: h.cluster.pod.zone.id,
                    state=lambda h: h.state, resourcestate=lambda h: h.resourcestate,
                    hypervisor=lambda h: h.cluster.hypervisor)
    if p.get("type") not in (None, "Routing"):
        hosts = []
    return listing("host", _serialise(r, _keyword(hosts, p)), p)


@command("addHost")
def add_host(r: Responses, p: dict[str, Any]) -> Reply:
    """AddHostCmd answers a list of every host discovered."""
    hosts = r.backend.add_host(p)
    return Reply({"count": len(hosts), "host": [h.to_api(r.backend) for h in hosts]})


@command("updateHost")
def update_host(r: Responses, p: dict[str, Any]) -> Reply:
    return one("host", r.backend.update_host(p).to_api(r.backend))


@command("updateHostPassword")
def update_host_password(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.update_host_password(p)
    return success()


@command("prepareHostForMaintenance")
def prepare_host_for_maintenance(r: Responses, p: dict[str, Any]) -> Reply:
    host = r.backend.get(Host, p["id"])
    if host is None:
        raise errors.invalid_parameter(f"Unable to find host with ID: {p['id']}. Please specify a valid host ID.")
    return _async(r, "prepareHostForMaintenance", "Host", host.id,
                  lambda: {"host": r.backend.maintain(host).to_api(r.backend)})


@command("cancelHostMaintenance")
def cancel_host_maintenance(r: Responses, p: dict[str, Any]) -> Reply:
    host = r.backend.host(p["id"])
    return _async(r, "cancelHostMaintenance", "Host", host.id,
                  lambda: {"host": r.backend.cancel_maintenance(host).to_api(r.backend)})


@command("deleteHost")
def delete_host(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_host(p)
    return success()


# --- primary storage ----------------------------------------------------------------------------


@command("listStoragePools")
def list_storage_pools(r: Responses, p: dict[str, Any]) -> Reply:
    pools = _filter(r.backend.listed(StoragePool), p, id=lambda s: s.id, name=lambda s: s.name,
                    zoneid=lambda s: s.zone.id, podid=lambda s: s.pod.id if s.pod else None,
                    clusterid=lambda s: s.cluster.id if s.cluster else None, scope=lambda s: s.scope,
                    ipaddress=lambda s: s.ipaddress, path=lambda s: s.path)
    return listing("storagepool", _serialise(r, _keyword(pools, p)), p)


@command("createStoragePool")
def create_storage_pool(r: Responses, p: dict[str, Any]) -> Reply:
    return one("storagepool", r.backend.create_storage_pool(p).to_api(r.backend))


@command("updateStoragePool")
def update_storage_pool(r: Responses, p: dict[str, Any]) -> Reply:
    return one("storagepool", r.backend.update_storage_pool(p).to_api(r.backend))


@command("enableStorageMaintenance")
def enable_storage_maintenance(r: Responses, p: dict[str, Any]) -> Reply:
    pool = r.backend.storage_pool(p["id"])

    def run() -> dict[str, Any]:
        r.backend.check_storage_maintenance(pool)
        pool.state = "Maintenance"
        return {"storagepool": pool.to_api(r.backend)}

    return _async(r, "enableStorageMaintenance", "StoragePool", pool.id, run)


@command("cancelStorageMaintenance")
def cancel_storage_maintenance(r: Responses, p: dict[str, Any]) -> Reply:
    pool = r.backend.storage_pool(p["id"])

    def run() -> dict[str, Any]:
        r.backend.check_cancel_storage_maintenance(pool)
        pool.state = "Up"
        return {"storagepool": pool.to_api(r.backend)}

    return _async(r, "cancelStorageMaintenance", "StoragePool", pool.id, run)


@command("deleteStoragePool")
def delete_storage_pool(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_storage_pool(p)
    return success()


# --- secondary storage -------------------------------------------------------------------------


def _details(p: dict[str, Any]) -> dict[str, str] | None:
    """AddImageStoreCmd.getDetails: None without a details map; else its `key`/`value` pairs.

    A map sent as `details[0].accesskey=...` (what `cs` makes of a plain dict) gives the real
    server one null key and value, so the S3 keys are simply missing; the emulator does the same.
    """
    if p.get("details") is None:
        return None
    out: dict[str, str] = {}
    for d in p["details"]:
        if d.get("key") is not None and d.get("value") is not None:
            out[d["key"]] = d["value"]
    return out


def _stores(r: Responses, p: dict[str, Any], role: str) -> list[ImageStore]:
    stores = [s for s in r.backend.listed(ImageStore) if s.role == role]
    stores = _filter(stores, p, id=lambda s: s.id, name=lambda s: s.name,
                     zoneid=lambda s: s.zone.id if s.zone else None,
                     provider=lambda s: s.providername, protocol=lambda s: s.protocol)
    if role == "Image":  # listSecondaryStagingStores has no readonly filter
        stores = _filter(stores, p, readonly=lambda s: s.readonly)
    return _keyword(stores, p)


@command("listImageStores")
def list_image_stores(r: Responses, p: dict[str, Any]) -> Reply:
    return listing("imagestore", _serialise(r, _stores(r, p, "Image")), p)


@command("addImageStore")
def add_image_store(r: Responses, p: dict[str, Any]) -> Reply:
    store = r.backend.add_image_store(p["provider"], p.get("url"), p.get("name"), p.get("zoneid"), _details(p))
    return one("imagestore", store.to_api(r.backend))


@command("addImageStoreS3")
def add_image_store_s3(r: Responses, p: dict[str, Any]) -> Reply:
    details = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in p.items()}
    store = r.backend.add_image_store("S3", None, None, None, details)
    return one("imagestore", store.to_api(r.backend))


@command("updateImageStore")
def update_image_store(r: Responses, p: dict[str, Any]) -> Reply:
    store = r.backend.image_store(p["id"])
    store.readonly = p["readonly"]
    return one("imagestore", store.to_api(r.backend))


@command("deleteImageStore")
def delete_image_store(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_image_store(p["id"])
    return success()


@command("listSecondaryStagingStores")
def list_secondary_staging_stores(r: Responses, p: dict[str, Any]) -> Reply:
    return listing("imagestore", _serialise(r, _stores(r, p, "ImageCache")), p)


@command("createSecondaryStagingStore")
def create_secondary_staging_store(r: Responses, p: dict[str, Any]) -> Reply:
    return one("secondarystorage", r.backend.create_staging_store(p).to_api(r.backend))


@command("deleteSecondaryStagingStore")
def delete_secondary_staging_store(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_staging_store(p["id"])
    return success()
