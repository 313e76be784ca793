"""components.cycles: the same answers and the same recorded graph as the SDK's cycle check."""

from __future__ import annotations

import random

from pulumi.runtime import resource_cycle_breaker, rpc

from components import cycles


class Res:
    """Stands in for a resource: the check only keeps `_direct_computed_dependencies` on it."""

    def __init__(self, n: int) -> None:
        self.n = n


def test_same_answers_and_graph_as_the_sdk_on_random_dependencies() -> None:
    original = rpc.declare_dependency
    try:
        cycles._installed = False
        cycles.faster_cycle_check()
        fast = rpc.declare_dependency
        assert fast is not original
        rng = random.Random(17)
        for _ in range(20):
            size = rng.randint(2, 30)
            sdk_nodes, fast_nodes = [Res(i) for i in range(size)], [Res(i) for i in range(size)]
            for _ in range(rng.randint(1, 120)):
                a, b = rng.randrange(size), rng.randrange(size)
                assert fast(fast_nodes[a], fast_nodes[b]) == resource_cycle_breaker.declare_dependency(
                    sdk_nodes[a], sdk_nodes[b]
                ), (a, b)
            for s, f in zip(sdk_nodes, fast_nodes, strict=True):
                assert {d.n for d in resource_cycle_breaker._deps(s)} == {d.n for d in resource_cycle_breaker._deps(f)}
    finally:
        rpc.declare_dependency = original
        cycles._installed = False


def test_a_cycle_is_refused_and_a_chain_is_not() -> None:
    original = rpc.declare_dependency
    try:
        cycles._installed = False
        cycles.faster_cycle_check()
        a, b, c = Res(0), Res(1), Res(2)
        assert rpc.declare_dependency(a, b) and rpc.declare_dependency(b, c)
        assert not rpc.declare_dependency(c, a)  # c -> a would close a -> b -> c -> a
        assert not rpc.declare_dependency(a, a)
        assert rpc.declare_dependency(a, c)
    finally:
        rpc.declare_dependency = original
        cycles._installed = False
