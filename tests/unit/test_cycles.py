"""components.cycles: the same answers and the same recorded graph as the SDK's cycle check."""

from __future__ import annotations

import random
from typing import Any

from pulumi.runtime import resource_cycle_breaker, rpc

from components import cycles

# The SDK's functions are typed for resources; these stand-ins are enough for them.
SDK_DECLARE: Any = resource_cycle_breaker.declare_dependency
SDK_DEPS: Any = resource_cycle_breaker._deps


class Res:
    """Stands in for a resource: the check only keeps `_direct_computed_dependencies` on it."""

    def __init__(self, n: int) -> None:
        self.n = n


def test_same_answers_and_graph_as_the_sdk_on_random_dependencies() -> None:
    original = rpc.declare_dependency
    try:
        cycles._installed = False
        cycles.faster_cycle_check()
        fast: Any = rpc.declare_dependency
        assert fast is not original
        rng = random.Random(17)
        for _ in range(200):
            size = rng.randint(2, 30)
            sdk_nodes, fast_nodes = [Res(i) for i in range(size)], [Res(i) for i in range(size)]
            for _ in range(rng.randint(1, 120)):
                a, b = rng.randrange(size), rng.randrange(size)
                assert fast(fast_nodes[a], fast_nodes[b]) == SDK_DECLARE(sdk_nodes[a], sdk_nodes[b]), (a, b)
            for s, f in zip(sdk_nodes, fast_nodes, strict=True):
                assert {d.n for d in SDK_DEPS(s)} == {d.n for d in SDK_DEPS(f)}
    finally:
        rpc.declare_dependency = original
        cycles._installed = False


def test_a_cycle_is_refused_and_a_chain_is_not() -> None:
    original = rpc.declare_dependency
    try:
        cycles._installed = False
        cycles.faster_cycle_check()
        declare: Any = rpc.declare_dependency
        a, b, c = Res(0), Res(1), Res(2)
        assert declare(a, b) and declare(b, c)
        assert not declare(c, a)  # c -> a would close a -> b -> c -> a
        assert not declare(a, a)
        assert declare(a, c)
    finally:
        rpc.declare_dependency = original
        cycles._installed = False
