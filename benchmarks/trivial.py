"""The baseline of the preview benchmark: dynamic resources that do nothing but exist.

Its provider has the shape of the region's (an importable module, a pure table diff, no secrets
captured), so the difference in preview time is what the region's providers add on top.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from providers._core import Change, Field, Table, diff

TABLE = Table("trivial.Thing", (Field("name", change=Change.REPLACE), Field("value")))


class ThingProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"thing-{props['name']}", dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news, TABLE)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # The default update returns no outputs, and the next diff would see every field gone.
        return UpdateResult(dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props, inputs=TABLE.input_props(props))


class Thing(Resource, module="trivial", name="Thing"):
    def __init__(self, name: str, value: int, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ThingProvider(), name, {"name": name, "value": value}, opts)
