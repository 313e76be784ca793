"""`ironic.Fleet`: waits for many nodes at once, in one provider slot.

One dynamic-provider process serves four operations at a time (DOMAIN.md), so 64 nodes that
each wait for their own deploy take 16 deploy times. Instead, each `ironic.Node` with
`wait=False` enrolls (or adopts) its node, applies its settings and ports, starts the next step
of its walk and returns within a second; one `Fleet` then drives all of them to their targets
(manage, provide, deploy) with ONE node listing per poll, issuing the verbs that come due in a
small thread pool, each node under its own per-phase deadlines. N nodes deploy in about the
time of one, and each node keeps its own place in preview and state.

A failure of any node fails the Fleet with every failed node's name, state and `last_error`;
the nodes that succeeded stay where they are, and the next `up` resumes the failed ones from
their failed state (a Fleet that failed to create is created again; one that failed to update
still differs from the program).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar
from typing import Any

import pulumi
import pydantic
from typing_extensions import override

from providers._core import Lifecycle, Obj, Permanent, Policy
from providers._core.declare import Args, PulumiInputsBase, arg, holds_output, output
from providers._core.resource import Declared

from ._api import Once, client
from ._walk import Member, Track, drive, listing, report, set_power
from .node import Node
from .settings import Settings

RESOURCE = "ironic.Fleet"
Connect = Callable[[], Any]  # this thread's client (verbs are issued from a small thread pool)


def _member(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _member_of(values: dict[str, Any]) -> pulumi.Output[dict[str, Any]]:
    """One member from a node's values: an apply over its Outputs only (the same member as
    `Output.all(**values).apply(_member)`, without an Output per plain value: hundreds of nodes)."""
    pending = {k: v for k, v in values.items() if holds_output(v)}
    return pulumi.Output.all(**pending).apply(lambda got: _member({k: got.get(k, v) for k, v in values.items()}))


class FleetChecks(PulumiInputsBase):
    """A node listed once."""

    @pydantic.model_validator(mode="after")
    def _unique(self) -> FleetChecks:
        ids = [m.id for m in getattr(self, "members", [])]
        if len(set(ids)) != len(ids):
            raise ValueError("a node is listed twice")
        return self


class FleetArgs(Args, resource=RESOURCE, checks=FleetChecks):
    """Inputs of `ironic.Fleet`: each field declared once."""

    nodes: InitVar[Sequence[Node]]
    """The nodes to wait for (create them with `wait=False`); they become `members`."""
    members: pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]] = arg(init=False, check=list[Member])
    """The nodes to wait for, as the provider sees them (from each Node's id, walk and inputs)."""
    poll_interval: pulumi.Input[float] | None = arg(default=None, gt=0)
    """Seconds between listings; default: the shortest `timeouts.poll_interval` of the nodes."""
    undeploy_on_delete: pulumi.Input[bool] = arg(default=False)
    """Deleting the Fleet undeploys its members all at once (a destroy of many nodes then takes
    one undeploy time, not N/4); off by default, since removing or renaming the Fleet alone would
    then undeploy the nodes too."""
    states: pulumi.Output[dict[str, str]] = output()
    """Provision state by node name."""

    def __post_init__(self, nodes: Sequence[Node]) -> None:
        self.node_resources = list(nodes)
        self.members = [_member_of({"id": n.id, "walk": n.walk, **n.fleet_inputs}) for n in nodes]


class FleetProvider(Lifecycle[Settings, Connect]):
    """The core's lifecycle; a Fleet has no object in Ironic (its id is made up): `make` and
    `apply` drive the members, `fetch` lists the nodes, delete undeploys them when asked to."""

    args = FleetArgs
    settings_model = Settings

    @override
    def client(self, props: Mapping[str, Any]) -> Connect:
        s = self.settings(props)
        return functools.partial(client, s.endpoint, s.http_timeout)

    @override
    def policy(self, client: Connect) -> Policy:
        return Once(RESOURCE)

    @override
    def fetch(self, client: Connect, obj_id: str) -> Obj | None:
        return {"id": obj_id, "nodes": listing(client(), RESOURCE)}

    @override
    def make(self, client: Connect, wanted: Obj) -> Obj:
        return {"id": f"fleet-{uuid.uuid4().hex[:12]}", "nodes": self._run(client, wanted)}

    @override
    def apply(self, client: Connect, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj:
        return {"id": obj_id, "nodes": self._run(client, wanted)}

    @override
    def outputs(self, client: Connect, obj: Obj, carried: Obj) -> Obj:
        nodes = obj["nodes"]
        return {**carried, "states": {m["name"]: nodes[m["id"]]["provision_state"] if m["id"] in nodes else "(gone)"
                                      for m in carried.get("members") or []}}

    @override
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Each Node undeploys and deletes itself; with `undeploy_on_delete` the Fleet first
        undeploys all its members at once, so the Nodes' deletes find them undeployed."""
        want = self.inputs(self.table.input_props(props))
        if want["undeploy_on_delete"]:
            connect = self.client(want)
            present = listing(connect(), RESOURCE)
            members = [{**m, "target": "available"} for m in want["members"]
                       if m["id"] in present and m["target"] != "manageable"]
            self._run(connect, {**want, "members": members})

    def _run(self, connect: Connect, wanted: Obj) -> dict[str, Obj]:
        """Walk every member to its target; the nodes as last seen, by UUID."""
        members = [Member.model_validate(m) for m in wanted["members"]]
        interval = wanted.get("poll_interval") or min((m.timeouts.poll_interval for m in members), default=10.0)
        tracks = drive([Track(m) for m in members], connect, lambda c: listing(c, RESOURCE), interval=interval,
                       quick=True)
        problem = report(tracks)
        if problem:
            raise Permanent(RESOURCE, problem)
        # A deploy leaves the power where the driver left it: a node declared powered on is
        # switched on here (from its last listing), so the first refresh after the deploy finds no drift.
        return {t.member.id: set_power(t.ref(connect()), t.node or {}, t.member.power) for t in tracks}


class Fleet(Declared[FleetArgs], module="ironic", name="Fleet"):
    """Waits, in one provider slot, until every node reached its target state."""

    provider_type = FleetProvider

    def __init__(self, resource_name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(args.node_resources)))
        super().__init__(resource_name, args, opts)
