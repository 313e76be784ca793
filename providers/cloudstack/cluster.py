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

from typing import Any, Literal

import pulumi
from pydantic import field_validator
from typing_extensions import override

from providers._core import Change, Permanent, ProviderError
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.lifecycle import Obj
from providers._core.wait import ensure, remove

from .api import Api, single
from .base import CloudStackProvider, CloudStackResource, Commands, as_bool

HOST_MAINTENANCE_FAILURES = ("ErrorInMaintenance", "ErrorInPrepareForMaintenance")


class ClusterChecks(PulumiInputsBase):
    @field_validator("url", check_fields=False)
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1].strip("/")) == 0:
            raise ValueError("must be http://<pool master address> (the XAPI endpoint of the pool master)")
        return value


class ClusterArgs(Args, resource="cloudstack.Cluster", delete_before_replace=True, checks=ClusterChecks):
    """A XenServer cluster made of one XCP-ng pool (one XAPI pool can be one cluster only)."""

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Id of the zone."""
    pod_id: pulumi.Input[str] = arg(api="podid", change=Change.REPLACE, min_length=1)
    """Id of the pod."""
    name: pulumi.Input[str] = arg(min_length=1)
    """Cluster name (adopted by it within the pod); renamed in place."""
    hypervisor: pulumi.Input[str] = arg(
        default="XenServer", api="hypervisortype", change=Change.REPLACE, check=Literal["XenServer"]
    )
    """XenServer: XCP-ng pools are XenServer clusters to CloudStack."""
    url: pulumi.Input[str] = arg(change=Change.REPLACE)
    """The XCP-ng pool master's XAPI URL, e.g. http://10.0.0.11; a new master URL is a new cluster."""
    username: pulumi.Input[str] = arg(default="root", min_length=1)
    """XAPI user of the pool."""
    password: pulumi.Input[str] = arg(secret=True, min_length=1)
    """XAPI password of the pool (secret)."""
    enabled: pulumi.Input[bool] = arg(default=True, normalize=as_bool)
    """Allocation state Enabled (true) or Disabled."""
    members: pulumi.Input[list[str]] | None = arg(default=None, normalize=sorted)
    """Addresses of every host of the pool (`xcpng.Pool.host_addresses`): hosts that join the pool later
    are added to the cluster (addHost), hosts that leave it are removed (maintenance, then deleteHost)."""
    allocation_state: pulumi.Output[str] = output(api="allocationstate")
    """Enabled or Disabled."""
    managed_state: pulumi.Output[str] = output(api="managedstate")
    """Managed, PrepareUnmanaged, Unmanaged..."""
    host_ids: pulumi.Output[list[str]] = output()
    """Ids of the cluster's hosts."""


class ClusterProvider(CloudStackProvider):
    args = ClusterArgs
    commands = Commands("listClusters")
    kept = ("url", "username", "password")

    def _hosts(self, api: Api, cluster_id: str) -> list[dict[str, Any]]:
        return [h for h in api.list("listHosts", clusterid=cluster_id) if h.get("clusterid", cluster_id) == cluster_id]

    @override
    def outputs(self, api: Api, obj: Obj, carried: Obj) -> Obj:
        outputs = super().outputs(api, obj, carried)
        outputs["enabled"] = obj.get("allocationstate") != "Disabled"
        hosts = self._hosts(api, str(obj["id"]))
        outputs["host_ids"] = sorted(str(h["id"]) for h in hosts)
        outputs["members"] = sorted(str(h.get("ipaddress")) for h in hosts)
        return outputs

    @override
    def find(self, api: Api, wanted: Obj) -> Obj | None:
        found = self.named(api.list("listClusters", zoneid=wanted["zone_id"], name=wanted["name"]), wanted["name"])
        if found is not None and str(found.get("podid")) != wanted["pod_id"]:
            raise Permanent(api.resource, f"a cluster named {wanted['name']!r} already exists in pod "
                                          f"{found.get('podid')}, not in pod {wanted['pod_id']}")
        return found

    @override
    def make(self, api: Api, wanted: Obj) -> Obj:
        return single(api.call("addCluster", zoneid=wanted["zone_id"], podid=wanted["pod_id"],
                               clustername=wanted["name"], clustertype="CloudManaged", hypervisor=wanted["hypervisor"]))

    @override
    def created(self, api: Api, obj_id: str, obj: Obj, created: bool, wanted: Obj) -> Obj:
        """The pool's hosts are added from its master; a new cluster they cannot join is deleted again."""
        had_hosts = bool(self._hosts(api, obj_id))
        if not had_hosts:
            try:  # a lost answer is retried only after looking again
                ensure(api.policy, "addHost", lambda: self._hosts(api, obj_id) or None,
                       lambda: self._add_hosts(api, obj_id, wanted))
            except ProviderError:
                if created:  # transactional: no empty cluster left behind
                    remove(api.policy, "deleteCluster", lambda: self.fetch(api, obj_id),
                           lambda c: api.call("deleteCluster", id=c["id"]))
                raise
        # An adopted cluster's stored credentials are unknown: carry none, so they are set again.
        outputs = self.outputs(api, obj, wanted if created or not had_hosts else {})
        if not created or not wanted["enabled"]:  # adopted, or to be disabled: converge
            outputs = self.converge(api, obj_id, outputs, wanted)
        return outputs

    @override
    def converge(self, api: Api, obj_id: str, current: Obj, wanted: Obj) -> Obj:
        """As the core's, but the members follow the pool on every update, changed or not."""
        if wanted.get("members") is not None:
            self._converge_members(api, obj_id, wanted)
        return super().converge(api, obj_id, current, wanted)

    @override
    def apply(self, api: Api, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        params: dict[str, Any] = {}
        if "name" in changed:
            params["clustername"] = wanted["name"]
        if "enabled" in changed:
            params["allocationstate"] = "Enabled" if wanted["enabled"] else "Disabled"
        cluster = single(api.call("updateCluster", id=obj_id, **params)) if params else None
        if {"username", "password"} & changed:
            api.call("updateHostPassword", clusterid=obj_id, username=wanted["username"],
                     password=wanted["password"])
        return cluster

    def _converge_members(self, api: Api, cluster_id: str, wanted: dict[str, Any]) -> None:
        """Make the cluster's hosts the pool's: add the newcomers, remove those that left."""
        hosts = {str(h.get("ipaddress")): h for h in self._hosts(api, cluster_id)}
        wanted_members = set(wanted["members"])
        if wanted_members - set(hosts):
            self._add_hosts(api, cluster_id, wanted)
        for address in sorted(set(hosts) - wanted_members):
            self._remove_host(api, str(hosts[address]["id"]))

    @staticmethod
    def _add_hosts(api: Api, cluster_id: str, wanted: dict[str, Any]) -> dict[str, Any]:
        """addHost with the pool master's URL: CloudStack's XenServer discoverer logs in there and
        adds every host of the XAPI pool it does not know yet."""
        return api.call("addHost", zoneid=wanted["zone_id"], podid=wanted["pod_id"], clusterid=cluster_id,
                        hypervisor=wanted["hypervisor"], url=wanted["url"], username=wanted["username"],
                        password=wanted["password"])

    @override
    def destroy(self, api: Api, obj: Obj) -> None:
        """Each host into maintenance, then deleted; then the cluster (CloudStack refuses otherwise)."""
        for host in self._hosts(api, str(obj["id"])):
            self._remove_host(api, str(host["id"]))
        api.call("deleteCluster", id=obj["id"])

    def _remove_host(self, api: Api, host_id: str) -> None:
        """Maintenance first (CloudStack migrates or stops what runs there), then delete."""

        def destroy(host: dict[str, Any]) -> None:
            if host.get("resourcestate") != "Maintenance":
                api.job("prepareHostForMaintenance", f"maintenance of host {host.get('name')}", id=host_id)
                api.wait_state("listHosts", host_id, key="resourcestate", target="Maintenance",
                               failures=HOST_MAINTENANCE_FAILURES, what=f"host {host.get('name')} in Maintenance")
            api.call("deleteHost", id=host_id)

        remove(api.policy, "deleteHost", lambda: api.find("listHosts", id=host_id), destroy)


class Cluster(CloudStackResource[ClusterArgs], module="cloudstack", name="Cluster"):
    """A XenServer cluster: one XCP-ng pool added from its master."""

    provider_type = ClusterProvider
