"""Walking one node through Ironic's state machine, with a deadline per phase.

`walk` blocks until the node rests in its target state (a `Node` with `wait=True`); `step`
issues at most one verb and returns once Ironic accepted it (a `Node` with `wait=False`, whose
`Fleet` waits for it). Both resume from wherever the node is: a `* failed` state a previous run
left is moved on with the verb that leaves it; a failure that happens while we watch is
reported with the node's `last_error` and state. Nodes are Ironic's JSON (`Obj`); a function
given the live node (`node=`) does not read it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from providers._core import REAL_CLOCK, Clock, Obj, Permanent, wait_for

from . import _states as st
from ._api import call

MAX_STEPS = 12  # enroll -> active is 3 verbs; a walk that needs more than this is going in circles
T = TypeVar("T")


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

    def deadline(self, phase: str) -> float:
        return float(self.timeouts[phase])

    def call(self, action: str, fn: Callable[[], T]) -> T:
        return call(self.resource, action, fn, interval=min(self.poll, 2.0))


def failure(name: str, uuid: str, state: str, last_error: str | None) -> str:
    return f"node {name} ({uuid}) is in state '{state}': {last_error or 'no last_error reported'}"


def get(ref: NodeRef) -> Obj:
    """The live node (a safe read: retried on transient errors)."""
    return dict(ref.call(f"get node {ref.uuid}", lambda: ref.client.node.get(ref.uuid).to_dict()))


def act(ref: NodeRef, verb: str) -> None:
    """Ask Ironic for a provision-state change. A 409 for a lock means nothing happened: retried."""
    drive = ref.config_drive if verb in ("active", "rebuild") else None
    ref.call(f"provision action '{verb}' on node {ref.name}",
             lambda: ref.client.node.set_provision_state(ref.uuid, verb, configdrive=drive))


def settled(node: Obj) -> bool:
    return st.settled(node["provision_state"], node["target_provision_state"])


def wait_settled(ref: NodeRef, phase: str, clock: Clock = REAL_CLOCK) -> Obj:
    """Wait (bounded by the phase's deadline) until Ironic is done with the node for now."""
    return wait_for(
        lambda: get(ref), resource=ref.resource, what=f"{phase} of node {ref.name} (timeouts.{phase})",
        done=settled,
        describe=lambda n: f"provision state '{n['provision_state']}' -> '{n['target_provision_state']}'",
        timeout=ref.deadline(phase), interval=ref.poll, clock=clock,
    )


def _phase_of(node: Obj, last_verb: str | None) -> str:
    return st.TRANSIENT.get(node["provision_state"]) or st.VERB_PHASE.get(last_verb or "", "deploy")


def _next(ref: NodeRef, node: Obj, target: str) -> str | None:
    try:
        return st.next_verb(node["provision_state"], target)
    except LookupError as e:
        raise Permanent(ref.resource, f"node {ref.name} ({ref.uuid}): {e}") from e


def walk(ref: NodeRef, target: str, *, node: Obj | None = None, first: str | None = None,
         clock: Clock = REAL_CLOCK) -> Obj:
    """Move the node to `target` and wait; return the live node. `first` is a verb to issue first
    (a rebuild). Raises Permanent (with last_error and state) or Timeout (naming the phase)."""
    watched = False  # whether we issued a verb or saw a transition: a failure after that is ours
    verb: str | None = first
    if first:
        act(ref, first)
        watched, node = True, None
    for _ in range(MAX_STEPS):
        node = node if node is not None else get(ref)
        if not settled(node):
            node = wait_settled(ref, _phase_of(node, verb), clock)
            watched = True
        if node["provision_state"] in st.FAILED and watched:
            raise Permanent(ref.resource, failure(ref.name, ref.uuid, node["provision_state"], node["last_error"]))
        verb = _next(ref, node, target)
        if verb is None:
            return node
        act(ref, verb)
        watched, node = True, None
    raise Permanent(ref.resource, f"node {ref.name} did not reach '{target}' in {MAX_STEPS} steps")


def step(ref: NodeRef, target: str, *, node: Obj | None = None, first: str | None = None) -> tuple[Obj, bool]:
    """Issue at most one verb (`first`, or the next towards `target`) and return (node, whether
    more is to come). A node in the middle of a transition is left to it (the Fleet waits for it)."""
    node = node if node is not None else get(ref)
    if not first:
        if not settled(node):
            return node, True
        first = _next(ref, node, target)
        if first is None:
            return node, False
    act(ref, first)
    return get(ref), True


def settle(ref: NodeRef, node: Obj | None = None, *, clock: Clock = REAL_CLOCK) -> Obj:
    """The live node once no transition is running (updates and deletes need that)."""
    node = node if node is not None else get(ref)
    return node if settled(node) else wait_settled(ref, _phase_of(node, None), clock)


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
        timeout=ref.deadline("manage"), interval=ref.poll, clock=clock,
    )
