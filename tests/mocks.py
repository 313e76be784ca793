"""Pulumi mocks the unit tests share: the SDK's registrations without an engine."""

from __future__ import annotations

from typing import Any

import pulumi


class EchoMocks(pulumi.runtime.Mocks):
    """A resource's state is its inputs and its id `<name>-id`; an invoke answers nothing."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, _args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None
