"""Walking nodes through Ironic's state machine, each under its own deadline per phase.

One stepper, `advance`, follows any number of nodes: from each node's live state it issues the
next verb, waits out a transition under the phase's deadline, resumes a `* failed` state a
previous run left, and reports a failure that happens while we watch with the node's state and
`last_error`. `drive` polls it until every node rests at its target: a `Fleet` with one listing
per poll for all its nodes, a waiting `Node` (`walk`) with the node alone; `step` is one round
without waiting (a `Node` with `wait=False`, whose Fleet waits for it). Nodes are Ironic's JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import pydantic

from providers._core import REAL_CLOCK, Clock, Obj, Permanent, ProviderError, Timeout, wait_for

from . import _states as st
from ._api import LIST_FIELDS, call

ACTION_THREADS = 8  # verbs issued at once per poll (each is one short API call)
QUICK_ROUNDS = 3  # quick polls in a row after verbs were issued (`drive(quick=True)`)
T = TypeVar("T")
Power = Literal["on", "off"]
ConfigDrive = str | dict[str, Any]  # a URL, a gzipped base64 ISO, or {meta_data, user_data}


class Timeouts(pydantic.BaseModel):
    """Deadlines per phase, in seconds. The defaults fit real servers: a BMC check takes minutes,
    automated cleaning (disk erase) and an image deploy each up to an hour."""

    model_config = pydantic.ConfigDict(extra="forbid")
    manage: float = pydantic.Field(default=600, gt=0, description="enroll -> manageable (BMC verification)")
    clean: float = pydantic.Field(default=3600, gt=0, description="manageable -> available (automated cleaning)")
    deploy: float = pydantic.Field(default=3600, gt=0, description="available -> active (deploy, or rebuild)")
    undeploy: float = pydantic.Field(default=3600, gt=0, description="active -> available (tear down and clean)")
    poll_interval: float = pydantic.Field(default=10, gt=0, description="seconds between state polls")


@dataclass(frozen=True)
class NodeRef:
    """A node as one operation addresses it: the client, how messages name it, its deadlines and
    config drive. Before the node is known its `uuid` is empty (`at` sets it)."""

    client: Any  # python-ironicclient
    resource: str  # for messages: "ironic.Node 'name'"
    name: str
    timeouts: Mapping[str, float]
    config_drive: Any = None
    uuid: str = ""

    def at(self, uuid: str) -> NodeRef:
        return dataclasses.replace(self, uuid=uuid)

    @property
    def poll(self) -> float:
        return float(self.timeouts.get("poll_interval", 10.0))

    def call(self, action: str, fn: Callable[[], T]) -> T:
        return call(self.resource, action, fn, interval=min(self.poll, 2.0))


def get(ref: NodeRef) -> Obj:
    """The live node (a safe read: retried on transient errors)."""
    return dict(ref.call(f"get node {ref.uuid}", lambda: ref.client.node.get(ref.uuid).to_dict()))


def listing(client: Any, resource: str) -> dict[str, Obj]:
    """Every node's state in one request (a safe read: retried)."""
    nodes = call(resource, "list nodes", lambda: client.node.list(fields=LIST_FIELDS, limit=0))
    return {n.uuid: n.to_dict() for n in nodes}


def act(ref: NodeRef, verb: str) -> None:
    """Ask Ironic for a provision-state change. A 409 for a lock means nothing happened: retried."""
    drive = ref.config_drive if verb in ("active", "rebuild") else None
    ref.call(f"provision action '{verb}' on node {ref.name}",
             lambda: ref.client.node.set_provision_state(ref.uuid, verb, configdrive=drive))


def settled(node: Obj) -> bool:
    return st.settled(node["provision_state"], node["target_provision_state"])


def settle(ref: NodeRef, node: Obj | None = None, *, clock: Clock = REAL_CLOCK) -> Obj:
    """The live node once no transition is running (updates and deletes need that)."""
    node = node if node is not None else get(ref)
    if settled(node):
        return node
    phase = st.TRANSIENT.get(node["provision_state"], "deploy")
    return wait_for(
        lambda: get(ref), resource=ref.resource, what=f"{phase} of node {ref.name} (timeouts.{phase})",
        done=settled,
        describe=lambda n: f"provision state '{n['provision_state']}' -> '{n['target_provision_state']}'",
        timeout=float(ref.timeouts[phase]), interval=ref.poll, clock=clock,
    )


def set_maintenance(ref: NodeRef, node: Obj, wanted: bool | None) -> Obj:
    """Set or clear the maintenance flag when the program declares it and the node differs.

    Cleared first of all: Ironic refuses provisioning and power actions on a node in maintenance."""
    if wanted is None or bool(node["maintenance"]) == wanted:
        return node
    ref.call(f"{'set' if wanted else 'clear'} maintenance on node {ref.name}",
             lambda: ref.client.node.set_maintenance(ref.uuid, "true" if wanted else "false",
                                                     maint_reason="declared by the program" if wanted else None))
    return get(ref)


def set_power(ref: NodeRef, node: Obj, wanted: str | None, clock: Clock = REAL_CLOCK) -> Obj:
    """Power a deployed node on (or off) when the program declares it, and wait until it is.

    Only a node resting in `active` is touched: a deploy or an undeploy manages power itself."""
    if wanted is None or node["provision_state"] != "active" or node["target_provision_state"]:
        return node

    def there(n: Obj) -> bool:
        return bool(n["power_state"] == f"power {wanted}" and not n["target_power_state"])

    if there(node):
        return node
    ref.call(f"power {wanted} node {ref.name}", lambda: ref.client.node.set_power_state(ref.uuid, wanted))
    return wait_for(
        lambda: get(ref), resource=ref.resource, what=f"power {wanted} of node {ref.name} (timeouts.manage)",
        done=there, describe=lambda n: f"power state '{n['power_state']}' -> '{n['target_power_state']}'",
        timeout=float(ref.timeouts["manage"]), interval=ref.poll, clock=clock,
    )


# ---------------------------------------------------------------------------------------------
# The stepper


class Member(pydantic.BaseModel):
    """One node to walk (for a Fleet: built from an `ironic.Node`'s outputs)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    id: str = pydantic.Field(min_length=1, description="node UUID")
    name: str = pydantic.Field(description="node name, for messages")
    target: st.Target = pydantic.Field(description="target state")
    timeouts: Timeouts = pydantic.Field(default_factory=Timeouts, description="the node's deadlines")
    walk: str = pydantic.Field(default="", description="the node's walk id: a new one makes the Fleet wait again")
    config_drive: ConfigDrive | None = pydantic.Field(default=None, description="for the deploy verb")
    power: Power | None = pydantic.Field(
        default=None, description="the node's declared power: set once it rests at its target (active)")


@dataclass
class Track:
    """Where one member's walk is, as `drive` follows it."""

    member: Member
    resource: str = "ironic.Fleet"
    state: str = "?"
    watched: bool = False  # a failure seen after we acted or saw a transition is reported
    verb: str | None = None
    phase: str | None = None
    deadline: float | None = None
    done: bool = False
    failed: str | None = None
    timed_out: bool = False
    node: Obj | None = None  # as last seen

    @property
    def open(self) -> bool:
        return not self.done and self.failed is None

    def ref(self, client: Any) -> NodeRef:
        m = self.member
        return NodeRef(client, self.resource, m.name, m.timeouts.model_dump(), m.config_drive, m.id)

    def issue(self, client: Any, verb: str, now: float) -> None:
        """Ask for `verb`; a refusal (after the retries of a lock) fails this member alone."""
        try:
            act(self.ref(client), verb)
        except ProviderError as e:
            self.failed = f"node {self.member.name} ({self.member.id}): {e.message}"
            return
        self.verb, self.phase, self.watched = verb, st.VERB_PHASE[verb], True
        self.deadline = now + self.member.timeouts.model_dump()[self.phase]


def _follow(t: Track, n: Obj, now: float) -> str | None:
    """Update one open track from its live node; the verb now due, if any."""
    m = t.member
    t.state, t.node = n["provision_state"], n
    if not settled(n):
        phase = st.TRANSIENT.get(t.state) or st.VERB_PHASE.get(t.verb or "", "deploy")
        limit = m.timeouts.model_dump()[phase]
        if phase != t.phase or t.deadline is None:
            t.phase, t.deadline = phase, now + limit
        elif now > t.deadline:
            t.failed, t.timed_out = (f"gave up after {limit:g} s waiting for {phase} of node {m.name} "
                                     f"(timeouts.{phase}); last seen: provision state '{t.state}'"), True
        t.watched = True
        return None
    if t.state in st.FAILED and t.watched:
        t.failed = f"node {m.name} ({m.id}) is in state '{t.state}': {n['last_error'] or 'no last_error reported'}"
        return None
    try:
        verb = st.next_verb(t.state, m.target)
    except LookupError as e:
        t.failed = f"node {m.name} ({m.id}): {e}"
        return None
    t.done = verb is None
    return verb


def advance(tracks: Sequence[Track], nodes: Mapping[str, Obj], now: float) -> list[tuple[Track, str]]:
    """Pure: update each open track from the live nodes; return the verbs now due.

    A node in transition is left to it, under its phase's deadline; a node resting short of its
    target gets its next verb; a node found failed before we touched it is resumed (its next
    verb); one that fails while we watch is reported with its state and last_error."""
    due: list[tuple[Track, str]] = []
    for t in tracks:
        if not t.open:
            continue
        n = nodes.get(t.member.id)
        if n is None:
            t.failed = f"node {t.member.name} ({t.member.id}) no longer exists"
        elif (verb := _follow(t, n, now)) is not None:
            due.append((t, verb))
    return due


def drive(tracks: Sequence[Track], client_for: Callable[[], Any], poll: Callable[[Any], Mapping[str, Obj]], *,
          interval: float, quick: bool = False, clock: Clock = REAL_CLOCK) -> Sequence[Track]:
    """Walk every track to its target (`poll(client)`: the live nodes by UUID); return the tracks
    (done or failed) when all have ended.

    `quick` (a Fleet, whose poll is one listing for all its nodes): after a poll that issued
    verbs, poll again a quarter interval later (at most QUICK_ROUNDS times in a row), not a
    whole one: a short step (BMC verification, cleaning with nothing to clean) is over by then,
    and the next verb follows it at once."""
    if not tracks:
        return tracks
    pool = ThreadPoolExecutor(max_workers=min(ACTION_THREADS, len(tracks)), thread_name_prefix="walk")

    def step() -> Sequence[Track]:
        for round_ in range(QUICK_ROUNDS + 1 if quick else 1):
            if round_:
                clock.sleep(interval / 4)
            due = advance(tracks, poll(client_for()), clock.now())
            list(pool.map(lambda item: item[0].issue(client_for(), item[1], clock.now()), due))
            if not due:
                break
        return tracks

    def describe(ts: Sequence[Track]) -> str:
        counts: dict[str, int] = {}
        for t in ts:
            if t.open:
                counts[t.state] = counts.get(t.state, 0) + 1
        return f"{sum(t.done for t in ts)}/{len(ts)} at target; waiting: {counts}"

    # Each member has its own phase deadlines; this bound only stops a walk going in circles.
    bound = max(sum(t.member.timeouts.model_dump()[p] for p in ("manage", "clean", "deploy", "undeploy"))
                for t in tracks)
    with pool:
        wait_for(step, resource=tracks[0].resource, what=f"{len(tracks)} nodes to reach their targets",
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


def _track(ref: NodeRef, target: str) -> Track:
    member = Member.model_validate({"id": ref.uuid, "name": ref.name, "target": target,
                                    "timeouts": dict(ref.timeouts), "config_drive": ref.config_drive})
    return Track(member, ref.resource)


def walk(ref: NodeRef, target: str, *, first: str | None = None, clock: Clock = REAL_CLOCK) -> Obj:
    """Move one node to `target` (`first`: a verb to issue first, a rebuild) and wait; the live
    node. Raises Permanent (with last_error and state) or Timeout (naming the phase)."""
    t = _track(ref, target)
    if first:
        t.issue(ref.client, first, clock.now())
    drive([t], lambda: ref.client, lambda _c: {ref.uuid: get(ref)}, interval=ref.poll, clock=clock)
    if t.failed:
        raise (Timeout if t.timed_out else Permanent)(ref.resource, t.failed)
    assert t.node is not None
    return t.node


def step(ref: NodeRef, target: str, *, node: Obj, first: str | None = None) -> tuple[Obj, bool]:
    """Issue at most one verb (`first`, or the next towards `target`) and return (node, whether
    more is to come). A node in the middle of a transition is left to it (the Fleet waits for it).

    The node is not read again after its verb: it is returned as it was, heading where Ironic
    heads it once it accepted the verb (the Fleet's listing, or the next refresh, sees the rest)."""
    t = _track(ref, target)
    due = [first] if first else [verb for _, verb in advance([t], {ref.uuid: node}, 0.0)]
    if t.failed:
        raise Permanent(ref.resource, t.failed)
    if not due:
        return node, not t.done
    t.issue(ref.client, due[0], 0.0)
    if t.failed:
        raise Permanent(ref.resource, t.failed)
    return {**node, "target_provision_state": st.VERB_TARGET[due[0]]}, True
