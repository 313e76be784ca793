"""`cloudstack.Cluster`: a XenServer cluster, i.e. one XCP-ng pool, added from its master.

`addCluster` of a CloudManaged cluster creates it empty (ResourceManagerImpl.discoverCluster
returns before any discovery for that type); `addHost` with the pool master's URL and
credentials then makes CloudStack's XenServer discoverer log in to XAPI and add every host of
the pool. The pool's members must have joined it in XAPI first (the `xcpng.Pool` resource does
that). If the hosts cannot be added, the new empty cluster is deleted again (transactional).

The credentials never come back from CloudStack, so they are kept from the declared inputs;
changing them is `updateHostPassword` on the cluster, changing the master URL is a new cluster.

Deleting the cluster puts each of its hosts into maintenance first and waits for it, deletes the
hosts, then the cluster: CloudStack refuses to delete a host that is not in maintenance or a
cluster that still has hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import Field as Describe
from pydantic import field_validator

from providers._core import Change, Field, Permanent, ProviderError, Table, diff_fields

from .api import Api, single
from .base import CloudStackProvider, Inputs, as_bool

TABLE = Table(
    "cloudstack.Cluster",
    (
        Field("zone_id", api="zoneid", change=Change.REPLACE),
        Field("pod_id", api="podid", change=Change.REPLACE),
        Field("name"),
        Field("hypervisor", api="hypervisortype", change=Change.REPLACE),
        Field("url", change=Change.REPLACE),
        Field("username"),
        Field("password", secret=True),
        Field("enabled", normalize=as_bool),
        Field("members", normalize=sorted),
        Field("allocation_state", api="allocationstate", change=Change.OUTPUT),
        Field("managed_state", api="managedstate", change=Change.OUTPUT),
        Field("host_ids", change=Change.OUTPUT),
    ),
    delete_before_replace=True,  # one XAPI pool can be one cluster only
)

HOST_MAINTENANCE_FAILURES = ("ErrorInMaintenance", "ErrorInPrepareForMaintenance")
# What CloudStack does not return, kept from the declared inputs on read.
CARRIED = ("url", "username", "password")


class ClusterInputs(Inputs):
    """A XenServer cluster made of one XCP-ng pool."""

    zone_id: str = Describe(min_length=1, description="id of the zone")
    pod_id: str = Describe(min_length=1, description="id of the pod")
    name: str = Describe(min_length=1, description="cluster name (adopted by it within the pod)")
    hypervisor: Literal["XenServer"] = Describe(
        default="XenServer", description="XCP-ng pools are XenServer clusters to CloudStack"
    )
    url: str = Describe(description="the XCP-ng pool master's address as a URL, e.g. http://10.0.0.11")
    username: str = Describe(default="root", min_length=1, description="XAPI user on the pool")
    password: str = Describe(min_length=1, description="XAPI password (secret)")
    enabled: bool = Describe(default=True, description="allocation state Enabled/Disabled")
    members: list[str] | None = Describe(
        default=None,
        description="addresses of every host of the XCP-ng pool: hosts that join the pool later are added to "
        "the cluster (addHost), hosts that leave it are removed (maintenance, then deleteHost)",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1].strip("/")) == 0:
            raise ValueError("must be http://<pool master address> (the XAPI endpoint of the pool master)")
        return value


class ClusterProvider(CloudStackProvider):
    table = TABLE
    model = ClusterInputs

    def _hosts(self, api: Api, cluster_id: str) -> list[dict[str, Any]]:
        return [h for h in api.list("listHosts", clusterid=cluster_id) if h.get("clusterid", cluster_id) == cluster_id]

    def _outputs(self, api: Api, cluster: dict[str, Any], carried: dict[str, Any]) -> dict[str, Any]:
        outputs = {k: v for k, v in self.table.from_api(cluster).items() if v is not None}
        outputs.update({k: carried[k] for k in CARRIED if carried.get(k) is not None})
        outputs["enabled"] = cluster.get("allocationstate") != "Disabled"
        hosts = self._hosts(api, str(cluster["id"]))
        outputs["host_ids"] = sorted(str(h["id"]) for h in hosts)
        outputs["members"] = sorted(str(h.get("ipaddress")) for h in hosts)
        return outputs

    def _find_by_name(self, api: Api, wanted: dict[str, Any]) -> dict[str, Any] | None:
        found = next(
            (c for c in api.list("listClusters", zoneid=wanted["zone_id"], name=wanted["name"])
             if c.get("name") == wanted["name"]),
            None,
        )
        if found is not None and str(found.get("podid")) != wanted["pod_id"]:
            raise Permanent(api.resource, f"a cluster named {wanted['name']!r} already exists in pod "
                                          f"{found.get('podid')}, not in pod {wanted['pod_id']}")
        return found

    def _update(self, api: Api, cluster_id: str, current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
        changed = {c.path for c in diff_fields(current, wanted, self.table)}
        params: dict[str, Any] = {}
        if "name" in changed:
            params["clustername"] = wanted["name"]
        if "enabled" in changed:
            params["allocationstate"] = "Enabled" if wanted["enabled"] else "Disabled"
        cluster = single(api.call("updateCluster", id=cluster_id, **params)) if params else None
        if {"username", "password"} & changed:
            api.call("updateHostPassword", clusterid=cluster_id, username=wanted["username"],
                     password=wanted["password"])
        if wanted.get("members") is not None:
            self._converge_members(api, cluster_id, wanted)
        cluster = cluster or api.find("listClusters", id=cluster_id)
        if cluster is None:
            raise Permanent(api.resource, f"listClusters: cluster {cluster_id} vanished during the update")
        return self._outputs(api, cluster, wanted)

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        api = self.api(wanted)

        def make() -> dict[str, Any]:
            return single(api.call(
                "addCluster",
                zoneid=wanted["zone_id"],
                podid=wanted["pod_id"],
                clustername=wanted["name"],
                clustertype="CloudManaged",
                hypervisor=wanted["hypervisor"],
            ))

        cluster, created = api.ensure("addCluster", lambda: self._find_by_name(api, wanted), make)
        cluster_id = str(cluster["id"])
        had_hosts = bool(self._hosts(api, cluster_id))
        if not had_hosts:
            try:
                self._add_pool(api, cluster_id, wanted)
            except ProviderError:
                if created:  # transactional: no empty cluster left behind
                    api.remove("deleteCluster", lambda: api.find("listClusters", id=cluster_id),
                               lambda c: api.call("deleteCluster", id=c["id"]))
                raise
        # An adopted cluster's stored credentials are unknown: carry none, so they are set again.
        outputs = self._outputs(api, cluster, wanted if created or not had_hosts else {})
        if not created or not wanted["enabled"]:  # adopted, or to be disabled: converge
            outputs = self._update(api, cluster_id, outputs, wanted)
        return CreateResult(cluster_id, self.managed(outputs, wanted))

    def _converge_members(self, api: Api, cluster_id: str, wanted: dict[str, Any]) -> None:
        """Make the cluster's hosts the pool's: add the newcomers, remove those that left."""
        hosts = {str(h.get("ipaddress")): h for h in self._hosts(api, cluster_id)}
        wanted_members = set(wanted["members"])
        if wanted_members - set(hosts):
            # The discoverer, given the master, adds every pool host it does not know yet.
            api.call("addHost", zoneid=wanted["zone_id"], podid=wanted["pod_id"], clusterid=cluster_id,
                     hypervisor=wanted["hypervisor"], url=wanted["url"], username=wanted["username"],
                     password=wanted["password"])
        for address in sorted(set(hosts) - wanted_members):
            self._remove_host(api, str(hosts[address]["id"]))

    def _add_pool(self, api: Api, cluster_id: str, wanted: dict[str, Any]) -> None:
        """addHost with the pool master's URL: CloudStack's XenServer discoverer logs in there and
        adds every host of the XAPI pool. A lost answer is retried only after looking again."""
        api.ensure(
            "addHost",
            lambda: self._hosts(api, cluster_id) or None,
            lambda: api.call(
                "addHost",
                zoneid=wanted["zone_id"],
                podid=wanted["pod_id"],
                clusterid=cluster_id,
                hypervisor=wanted["hypervisor"],
                url=wanted["url"],
                username=wanted["username"],
                password=wanted["password"],
            ),
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        api = self.api(props)
        cluster = api.find("listClusters", id=id_)
        return self.gone() if cluster is None else self.read_result(id_, self._outputs(api, cluster, props), props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        return UpdateResult(self.managed(self._update(self.api(wanted), id_, olds, wanted), wanted))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = self.api(props)
        for host in self._hosts(api, id_) if api.find("listClusters", id=id_) else []:
            self._remove_host(api, str(host["id"]))
        api.remove("deleteCluster", lambda: api.find("listClusters", id=id_),
                   lambda c: api.call("deleteCluster", id=c["id"]))

    def _remove_host(self, api: Api, host_id: str) -> None:
        """Maintenance first (CloudStack migrates or stops what runs there), then delete."""

        def destroy(host: dict[str, Any]) -> None:
            if host.get("resourcestate") != "Maintenance":
                api.job("prepareHostForMaintenance", f"maintenance of host {host.get('name')}", id=host_id)
                api.wait_state("listHosts", host_id, key="resourcestate", target="Maintenance",
                               failures=HOST_MAINTENANCE_FAILURES, what=f"host {host.get('name')} in Maintenance")
            api.call("deleteHost", id=host_id)

        api.remove("deleteHost", lambda: api.find("listHosts", id=host_id), destroy)


@dataclass
class ClusterArgs:
    zone_id: pulumi.Input[str]
    """Id of the zone."""
    pod_id: pulumi.Input[str]
    """Id of the pod."""
    name: pulumi.Input[str]
    """Cluster name; renamed in place."""
    url: pulumi.Input[str]
    """The XCP-ng pool master's XAPI URL, e.g. http://10.0.0.11; a new master URL is a new cluster."""
    password: pulumi.Input[str]
    """XAPI password of the pool (secret)."""
    username: pulumi.Input[str] = "root"
    """XAPI user of the pool."""
    hypervisor: pulumi.Input[str] = "XenServer"
    """XenServer: XCP-ng pools are XenServer clusters to CloudStack."""
    enabled: pulumi.Input[bool] = True
    """Allocation state Enabled (true) or Disabled."""
    members: pulumi.Input[list[str]] | None = None
    """Addresses of every host of the pool (`xcpng.Pool.host_addresses`): joins and ejects follow."""


class Cluster(Resource, module="cloudstack", name="Cluster"):
    """A XenServer cluster: one XCP-ng pool added from its master."""

    name: pulumi.Output[str]
    host_ids: pulumi.Output[list[str]]
    allocation_state: pulumi.Output[str]
    managed_state: pulumi.Output[str]

    def __init__(self, resource_name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["password"]))
        super().__init__(ClusterProvider(), resource_name, TABLE.declared(args), opts)
