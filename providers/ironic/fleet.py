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

import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import InitVar, dataclass
from typing import Any

import pulumi
import pydantic
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from providers._core import (
    REAL_CLOCK,
    Clock,
    Permanent,
    Provider,
    ProviderError,
    parse,
    retry,
    wait_for,
)
from providers._core.declare import Args, PulumiInputsBase, arg, output
from providers._core.resource import Declared

from . import _states as st
from . import _walk
from ._api import LIST_FIELDS, client, errors
from .node import ConfigDrive, Node, Power, Target, Timeouts
from .settings import Settings

RESOURCE = "ironic.Fleet"
ACTION_THREADS = 8  # verbs issued at once per poll (each is one short API call)


class Member(pydantic.BaseModel):
    """One node the Fleet waits for (built from an `ironic.Node`'s outputs)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    id: str = pydantic.Field(min_length=1, description="node UUID")
    name: str = pydantic.Field(description="node name, for messages")
    target: Target = pydantic.Field(description="target state")
    timeouts: Timeouts = pydantic.Field(
        default_factory=lambda: Timeouts.model_validate({}), description="the node's deadlines"
    )
    walk: str = pydantic.Field(default="", description="the node's walk id: a new one makes the Fleet wait again")
    config_drive: ConfigDrive | None = pydantic.Field(default=None, description="for the deploy verb")
    power: Power | None = pydantic.Field(
        default=None, description="the node's declared power: set once it rests at its target (active)")


@dataclass
class Track:
    """Where one member's walk is, as the Fleet follows it."""

    member: Member
    state: str = "?"
    watched: bool = False  # a failure seen after we acted or saw a transition is reported
    verb: str | None = None
    phase: str | None = None
    deadline: float | None = None
    done: bool = False
    failed: str | None = None

    @property
    def open(self) -> bool:
        return not self.done and self.failed is None

    def ref(self) -> _walk.NodeRef:
        m = self.member
        return _walk.NodeRef(RESOURCE, m.id, m.name, m.timeouts.model_dump(), m.config_drive)


def listing(c: Any) -> dict[str, Any]:
    """Every node's state in one request (a safe read: retried)."""

    def call() -> dict[str, Any]:
        with errors(RESOURCE, "list nodes"):
            return {n.uuid: n for n in c.node.list(fields=LIST_FIELDS, limit=0)}

    return retry(call, resource=RESOURCE, what="listing nodes")


def advance(tracks: Sequence[Track], nodes: dict[str, Any], now: float) -> list[tuple[Track, str]]:
    """Pure: update each open track from the listing; return the verbs now due.

    A node in transition is left to it, under its phase's deadline; a node resting short of its
    target gets its next verb; a node found failed before we touched it is resumed (its next
    verb); one that fails while we watch is reported with its state and last_error."""
    due: list[tuple[Track, str]] = []
    for t in tracks:
        if not t.open:
            continue
        m = t.member
        n = nodes.get(m.id)
        if n is None:
            t.failed = f"node {m.name} ({m.id}) no longer exists"
            continue
        t.state = n.provision_state
        if not st.settled(n.provision_state, n.target_provision_state):
            phase = st.TRANSIENT.get(n.provision_state) or st.VERB_PHASE.get(t.verb or "", "deploy")
            if phase != t.phase or t.deadline is None:
                t.phase, t.deadline = phase, now + m.timeouts.model_dump()[phase]
            elif now > t.deadline:
                t.failed = (f"node {m.name} ({m.id}) still '{n.provision_state}' after "
                            f"{m.timeouts.model_dump()[phase]:g} s (timeouts.{phase})")
            t.watched = True
            continue
        if n.provision_state in st.FAILED and t.watched:
            t.failed = _walk.failure(m.name, m.id, n.provision_state, n.last_error)
            continue
        try:
            verb = st.next_verb(n.provision_state, m.target)
        except LookupError as e:
            t.failed = f"node {m.name} ({m.id}): {e}"
            continue
        if verb is None:
            t.done = True
        else:
            due.append((t, verb))
    return due


def drive(members: Sequence[Member], client_for: Callable[[], Any], *, interval: float,
          clock: Clock = REAL_CLOCK) -> list[Track]:
    """Walk every member to its target; return the tracks (done or failed) when all have ended."""
    tracks = [Track(m) for m in members]
    if not tracks:
        return tracks

    def issue(item: tuple[Track, str]) -> None:
        t, verb = item
        try:
            _walk.act(client_for(), t.ref(), verb)
        except ProviderError as e:
            t.failed = f"node {t.member.name} ({t.member.id}): {e.message}"
            return
        phase = st.VERB_PHASE[verb]
        t.verb, t.phase, t.watched = verb, phase, True
        t.deadline = clock.now() + t.member.timeouts.model_dump()[phase]

    pool = ThreadPoolExecutor(max_workers=min(ACTION_THREADS, len(tracks)), thread_name_prefix="fleet")

    def poll() -> list[Track]:
        due = advance(tracks, listing(client_for()), clock.now())
        list(pool.map(issue, due))
        return tracks

    def describe(ts: list[Track]) -> str:
        counts: dict[str, int] = {}
        for t in ts:
            if t.open:
                counts[t.state] = counts.get(t.state, 0) + 1
        done = sum(t.done for t in ts)
        return f"{done}/{len(ts)} at target; waiting: {counts}"

    # Each member has its own phase deadlines; this bound only stops a walk going in circles.
    bound = max(sum(m.timeouts.model_dump()[p] for p in ("manage", "clean", "deploy", "undeploy"))
                for m in members)
    with pool:
        wait_for(poll, resource=RESOURCE, what=f"{len(tracks)} nodes to reach their targets",
                 done=lambda ts: not any(t.open for t in ts), describe=describe,
                 timeout=bound, interval=interval, clock=clock)
    return tracks


def report(tracks: Sequence[Track]) -> str | None:
    """Every failed node with its state and last_error, or None when all reached their target."""
    failed = [t for t in tracks if t.failed]
    if not failed:
        return None
    lines = "; ".join(t.failed or "" for t in failed)
    return f"{len(failed)} of {len(tracks)} nodes failed (the next `up` resumes them): {lines}"


def _member(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _has_output(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_output(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_output(v) for v in value)
    return isinstance(value, pulumi.Output)


def _member_of(values: dict[str, Any]) -> pulumi.Output[dict[str, Any]]:
    """One member from a node's values: an apply over its Outputs only (the same member as
    `Output.all(**values).apply(_member)`, without an Output per plain value: hundreds of nodes)."""
    pending = {k: v for k, v in values.items() if _has_output(v)}
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


TABLE = FleetArgs.table()
FleetInputs = FleetArgs.model()  # the validated inputs (check)


class FleetProvider(Provider[Settings]):
    args = FleetArgs
    settings_model = Settings

    def _client(self) -> Any:
        settings = self.settings()
        return client(settings.endpoint, settings.http_timeout)

    def _wanted(self, props: Mapping[str, Any]) -> tuple[pydantic.BaseModel, list[Member], float | None]:
        """The validated inputs, their members and the declared poll interval."""
        want = parse(self.input_model(), props, RESOURCE)
        values = dict(want)
        return want, values["members"], values.get("poll_interval")

    def _run(self, props: dict[str, Any]) -> dict[str, Any]:
        want, members, poll = self._wanted(props)
        interval = poll or min((m.timeouts.poll_interval for m in members), default=10.0)
        tracks = drive(members, self._client, interval=interval)
        problem = report(tracks)
        if problem:
            raise Permanent(RESOURCE, problem)
        # A deploy leaves the power where the driver left it: a node declared powered on is
        # switched on here, so the first refresh after the deploy finds no drift.
        c = self._client()
        for t in tracks:
            if t.member.power is not None:
                _walk.set_power(c, t.ref(), _walk.get(c, t.ref()), t.member.power)
        outs = want.model_dump(mode="json", exclude_none=True)
        outs["states"] = {t.member.name: t.state for t in tracks}
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._run(props)
        return CreateResult(f"fleet-{uuid.uuid4().hex[:12]}", outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._run(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        nodes = listing(self._client())
        outs = dict(props)
        outs["states"] = {
            m["name"]: (nodes[m["id"]].provision_state if m["id"] in nodes else "(gone)")
            for m in props.get("members") or []
        }
        return ReadResult(id_, outs, inputs=self.table.input_props(outs))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Each Node undeploys and deletes itself; with `undeploy_on_delete` the Fleet first
        undeploys all its members at once, so the Nodes' deletes find them undeployed."""
        want, declared, poll = self._wanted(self.table.input_props(props))
        if not dict(want)["undeploy_on_delete"]:
            return
        present = listing(self._client())
        members = [
            m.model_copy(update={"target": "available"})
            for m in declared
            if m.id in present and m.target != "manageable"
        ]
        interval = poll or min((m.timeouts.poll_interval for m in members), default=10.0)
        problem = report(drive(members, self._client, interval=interval))
        if problem:
            raise Permanent(RESOURCE, problem)


class Fleet(Declared[FleetArgs], module="ironic", name="Fleet"):
    """Waits, in one provider slot, until every node reached its target state."""

    provider_type = FleetProvider

    def __init__(self, resource_name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(args.node_resources)))
        super().__init__(resource_name, args, opts)
