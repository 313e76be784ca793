"""Resource options the layer components give their children."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


def child_options(
    parent: pulumi.ComponentResource,
    opts: pulumi.ResourceOptions | None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> pulumi.ResourceOptions:
    """Options for a child of `parent`: parented to it, and after what `parent` itself waits for.

    Pulumi does not make a component's children wait for the component's own `depends_on`
    (pulumi/pulumi#8721): a layer declared after the bare-metal fleet would otherwise start
    creating its resources while the servers are still deploying. So the layer's dependencies are
    handed down to every child, with the child's own (`depends_on`).
    """
    inherited = (opts.depends_on if opts is not None else None) or []
    if not isinstance(inherited, list):
        raise TypeError("a layer's depends_on must be a list of resources")
    deps: list[pulumi.Resource] = [*inherited, *depends_on]
    return pulumi.ResourceOptions(parent=parent, depends_on=deps or None)
