"""Walking one node through Ironic's state machine, with a deadline per phase.

`walk` blocks until the node rests in its target state (a `Node` with `wait=True`); `step`
issues at most one verb and returns once Ironic accepted it (a `Node` with `wait=False`, whose
`Fleet` waits for it). Both resume from wherever the node is: a `* failed` state a previous run
left is moved on with the verb that leaves it; a failure that happens while we watch is
reported with the node's `last_error` and state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers._core import REAL_CLOCK, Clock, Permanent, retry, wait_for

from . import _states as st
from ._api import errors

MAX_STEPS = 12  # enroll -> active is 3 verbs; a walk that needs more than this is going in circles


@dataclass(frozen=True)
class NodeRef:
    """What a walk needs to know about a node besides its live state."""

    resource: str  # for messages: "ironic.Node <name>"
    uuid: str
    name: str
    timeouts: Mapping[str, float]
    config_drive: Any = None

    @property
    def poll(self) -> float:
        return float(self.timeouts.get("poll_interval", 10.0))

    def deadline(self, phase: str) -> float:
        return float(self.timeouts[phase])


def failure(name: str, uuid: str, state: str, last_error: str | None) -> str:
    return f"node {name} ({uuid}) is in state '{state}': {last_error or 'no last_error reported'}"


def get(client: Any, ref: NodeRef) -> Any:
    """The live node (a safe read: retried on transient errors)."""

    def call() -> Any:
        with errors(ref.resource, f"get node {ref.uuid}"):
            return client.node.get(ref.uuid)

    return retry(call, resource=ref.resource, what=f"reading node {ref.uuid}", interval=min(ref.poll, 2.0))


def act(client: Any, ref: NodeRef, verb: str) -> None:
    """Ask Ironic for a provision-state change. A 409 for a lock means nothing happened: retried."""
    configdrive = ref.config_drive if verb in ("active", "rebuild") else None

    def call() -> None:
        with errors(ref.resource, f"provision action '{verb}' on node {ref.name}"):
            client.node.set_provision_state(ref.uuid, verb, configdrive=configdrive)

    retry(call, resource=ref.resource, what=f"provision action '{verb}'", interval=min(ref.poll, 2.0))


def wait_settled(client: Any, ref: NodeRef, phase: str, clock: Clock = REAL_CLOCK) -> Any:
    """Wait (bounded by the phase's deadline) until Ironic is done with the node for now."""
    return wait_for(
        lambda: get(client, ref),
        resource=ref.resource,
        what=f"{phase} of node {ref.name} (timeouts.{phase})",
        done=lambda n: st.settled(n.provision_state, n.target_provision_state),
        describe=lambda n: f"provision state '{n.provision_state}' -> '{n.target_provision_state}'",
        timeout=ref.deadline(phase),
        interval=ref.poll,
        clock=clock,
    )


def _phase_of(node: Any, last_verb: str | None) -> str:
    return st.TRANSIENT.get(node.provision_state) or st.VERB_PHASE.get(last_verb or "", "deploy")


def walk(client: Any, ref: NodeRef, target: str, *, clock: Clock = REAL_CLOCK, first: str | None = None) -> Any:
    """Move the node to `target` and wait; return the live node. `first` is a verb to issue first
    (a rebuild). Raises Permanent (with last_error and state) or Timeout (naming the phase)."""
    watched = False  # whether we issued a verb or saw a transition: a failure after that is ours
    verb: str | None = first
    if first:
        act(client, ref, first)
        watched = True
    for _ in range(MAX_STEPS):
        node = get(client, ref)
        if not st.settled(node.provision_state, node.target_provision_state):
            node = wait_settled(client, ref, _phase_of(node, verb), clock)
            watched = True
        state = node.provision_state
        if state in st.FAILED and watched:
            raise Permanent(ref.resource, failure(ref.name, ref.uuid, state, node.last_error))
        try:
            verb = st.next_verb(state, target)
        except LookupError as e:
            raise Permanent(ref.resource, f"node {ref.name} ({ref.uuid}): {e}") from e
        if verb is None:
            return node
        act(client, ref, verb)
        watched = True
    raise Permanent(ref.resource, f"node {ref.name} did not reach '{target}' in {MAX_STEPS} steps")


def step(client: Any, ref: NodeRef, target: str, *, node: Any = None) -> tuple[Any, bool]:
    """Issue at most one verb towards `target` and return (node, whether more is to come).

    `node` is the live node when the caller has just fetched or created it. A node in the
    middle of a transition is left to it (the Fleet waits for it)."""
    node = node if node is not None else get(client, ref)
    if not st.settled(node.provision_state, node.target_provision_state):
        return node, True
    try:
        verb = st.next_verb(node.provision_state, target)
    except LookupError as e:
        raise Permanent(ref.resource, f"node {ref.name} ({ref.uuid}): {e}") from e
    if verb is None:
        return node, False
    act(client, ref, verb)
    return get(client, ref), True


def settle(client: Any, ref: NodeRef, *, clock: Clock = REAL_CLOCK) -> Any:
    """The live node once no transition is running (updates and deletes need that)."""
    node = get(client, ref)
    if st.settled(node.provision_state, node.target_provision_state):
        return node
    return wait_settled(client, ref, _phase_of(node, None), clock)


def set_maintenance(client: Any, ref: NodeRef, node: Any, wanted: bool | None) -> Any:
    """Set or clear the maintenance flag when the program declares it and the node differs.

    Cleared first of all: Ironic refuses provisioning and power actions on a node in maintenance."""
    if wanted is None or bool(node.maintenance) == wanted:
        return node

    def call() -> None:
        with errors(ref.resource, f"{'set' if wanted else 'clear'} maintenance on node {ref.name}"):
            client.node.set_maintenance(ref.uuid, "true" if wanted else "false",
                                        maint_reason="declared by the program" if wanted else None)

    retry(call, resource=ref.resource, what="maintenance flag", interval=min(ref.poll, 2.0))
    return get(client, ref)


def set_power(client: Any, ref: NodeRef, node: Any, wanted: str | None, clock: Clock = REAL_CLOCK) -> Any:
    """Power a deployed node on (or off) when the program declares it, and wait until it is.

    Only a node resting in `active` is touched: a deploy or an undeploy manages power itself."""
    if wanted is None or node.provision_state != "active" or node.target_provision_state:
        return node
    target = f"power {wanted}"
    if node.power_state == target and not node.target_power_state:
        return node

    def call() -> None:
        with errors(ref.resource, f"power {wanted} node {ref.name}"):
            client.node.set_power_state(ref.uuid, wanted)

    retry(call, resource=ref.resource, what=f"power {wanted}", interval=min(ref.poll, 2.0))
    return wait_for(
        lambda: get(client, ref),
        resource=ref.resource,
        what=f"power {wanted} of node {ref.name} (timeouts.manage)",
        done=lambda n: n.power_state == target and not n.target_power_state,
        describe=lambda n: f"power state '{n.power_state}' -> '{n.target_power_state}'",
        timeout=ref.deadline("manage"),
        interval=ref.poll,
        clock=clock,
    )
