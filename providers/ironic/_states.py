"""Ironic's provision state machine, as the provider walks it: written as data.

A node is walked from wherever it is (a fresh `enroll`, a state a crashed run left, a `* failed`
state) to the state the program wants (manageable, available or active) one verb at a time.
Each verb belongs to a phase with its own deadline (`Timeouts`): verification, cleaning,
deployment and undeployment take very different times on real hardware.
Source: ironic/common/states.py (39.0.0) and the lifecycle observed on the lab's Ironic.
"""

from __future__ import annotations

from typing import Literal

Phase = Literal["manage", "clean", "deploy", "undeploy"]
Target = Literal["manageable", "available", "active"]

# States a node rests in; a walk moves on from them with a verb.
STABLE = frozenset({"enroll", "manageable", "available", "active"})

# States where the last action failed: `last_error` says why; a verb moves the node on (resume).
FAILED = frozenset({
    "deploy failed", "clean failed", "inspect failed", "adopt failed", "rescue failed",
    "unrescue failed", "service failed", "error",
})

# Where a node is in the middle of something, the phase whose deadline bounds the wait.
TRANSIENT: dict[str, Phase] = {
    "verifying": "manage",
    "inspecting": "manage",
    "inspect wait": "manage",
    "adopting": "manage",
    "cleaning": "clean",
    "clean wait": "clean",
    "clean hold": "clean",
    "deploying": "deploy",
    "wait call-back": "deploy",
    "deploy hold": "deploy",
    "deleting": "undeploy",
}

# (current state, target) -> the verb that moves the node one step closer. A missing pair is a
# state the provider does not walk out of (it says so, naming the state).
_NEXT: dict[str, dict[str, str]] = {
    "enroll": {"manageable": "manage", "available": "manage", "active": "manage"},
    "manageable": {"available": "provide", "active": "provide"},
    "available": {"manageable": "manage", "active": "active"},
    "active": {"manageable": "deleted", "available": "deleted"},
    "deploy failed": {"manageable": "deleted", "available": "deleted", "active": "active"},
    "error": {"manageable": "deleted", "available": "deleted", "active": "deleted"},
    "clean failed": {"manageable": "manage", "available": "manage", "active": "manage"},
    "inspect failed": {"manageable": "manage", "available": "manage", "active": "manage"},
    "adopt failed": {"manageable": "manage", "available": "manage", "active": "manage"},
}

# The phase (and so the deadline) of the wait that follows each verb.
VERB_PHASE: dict[str, Phase] = {
    "manage": "manage",
    "provide": "clean",
    "active": "deploy",
    "rebuild": "deploy",
    "deleted": "undeploy",
}

# Where Ironic heads a node once it accepted each verb (its `target_provision_state`).
VERB_TARGET: dict[str, str] = {
    "manage": "manageable",
    "provide": "available",
    "active": "active",
    "rebuild": "active",
    "deleted": "available",
}

# States in which Ironic changes driver, hardware interfaces and resource class in place
# (ironic/conductor/manager.py `update_node`); elsewhere such a change is a replace.
RECONFIGURABLE = frozenset({"enroll", "inspecting", "inspect wait", "manageable", "available"})

# States in which Ironic deletes a node (states.DELETE_ALLOWED_STATES, plus available).
DELETABLE = frozenset({"manageable", "enroll", "adopt failed", "available"})


def next_verb(state: str, target: str) -> str | None:
    """The verb that moves a node in `state` towards `target`; None when it is there already."""
    if state == target:
        return None
    verb = _NEXT.get(state, {}).get(target)
    if verb is None:
        raise LookupError(f"no walk from provision state {state!r} to {target!r}")
    return verb


def settled(state: str, target_state: str | None) -> bool:
    """Whether Ironic has finished with the node for now (resting or failed, nothing pending)."""
    return (state in STABLE or state in FAILED) and not (state in STABLE and target_state)


def heading(state: str, target_state: str | None) -> str:
    """Where the node is, as the program would declare it: its stable state, the state it is
    heading for while a transition runs, or the failed state it is stuck in.

    `read` reports this as the node's `target_state`, so an out-of-band undeploy or a failure
    shows as drift and the next `up` walks the node back.
    """
    if state in FAILED:
        return state
    if target_state and state not in STABLE:
        return target_state
    return state
