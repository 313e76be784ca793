"""The SDK's dependency-cycle check, without its walks over every node.

Before recording that resource A depends on B, Pulumi's Python SDK checks that B does not
already reach A (`pulumi.runtime.resource_cycle_breaker.declare_dependency`) by walking
everything B depends on, transitively, for every dependency of every resource: each explicit
`depends_on` and each property's. In this program the bare-metal `ironic.Fleet` depends on every
node and every layer after it depends on the Fleet, so each of those checks walks all the nodes:
the work grows with (resources after the Fleet) x (nodes), quadratically with the region
(`python -m benchmarks.declared` counts the steps).

The same question is answered here from both ends: forward from B over what it depends on,
backward from A over what depends on it, each step on the side whose next resource has fewer
neighbours, until the two meet (a cycle) or either side has nothing left (none). One side is
usually small, and ends after a few steps. The edges are recorded with the SDK's own function, so its
graph, and every answer, are exactly what they were.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import resource_cycle_breaker, rpc

_installed = False


def reaches(start: Any, goal: Any, dependents: dict[Any, list[Any]]) -> bool:
    """Whether `goal` is `start` or something `start` depends on, transitively (bidirectional search)."""
    if start is goal:
        return True
    ahead, behind = {start}, {goal}
    forward, backward = [start], [goal]
    while forward and backward:
        # Expand whichever side's next resource has fewer neighbours: a side that runs out
        # answers the question, and the Fleet (every node before it, every layer after it) is
        # then rarely expanded at all.
        after, before = resource_cycle_breaker._deps(forward[-1]), dependents.get(backward[-1], ())
        if len(before) <= len(after):
            backward.pop()
            for x in before:
                if x in ahead:
                    return True
                if x not in behind:
                    behind.add(x)
                    backward.append(x)
        else:
            forward.pop()
            for x in after:
                if x in behind:
                    return True
                if x not in ahead:
                    ahead.add(x)
                    forward.append(x)
    return False


def faster_cycle_check() -> None:
    """Replace the SDK's `declare_dependency` with the equivalent one above (idempotent)."""
    global _installed
    if _installed:
        return
    dependents: dict[Any, list[Any]] = {}  # resource -> the resources recorded as depending on it

    def declare_dependency(from_resource: Any, to_resource: Any) -> bool:
        if reaches(to_resource, from_resource, dependents):
            return False
        if to_resource not in resource_cycle_breaker._deps(from_resource):
            resource_cycle_breaker._add_dep(from_resource, to_resource)
            dependents.setdefault(to_resource, []).append(from_resource)
        return True

    rpc.declare_dependency = declare_dependency  # its one caller: `rpc._add_dependency`
    _installed = True
