"""A dynamic provider for the engine smoke test, in an importable module (not `__main__`)."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from providers._core import Change, Field, Table, diff

TABLE = Table(
    "smoke.Greeting",
    (
        Field("text"),
        Field("slot", change=Change.REPLACE),
        Field("shout", change=Change.OUTPUT),
        Field("greeter", change=Change.OUTPUT),
    ),
)


class GreetingProvider(ResourceProvider):
    serialize_as_secret_always = False
    greeter: str = ""

    def configure(self, req: ConfigureRequest) -> None:
        self.greeter = req.config.get("greeter") or "nobody"

    def _outs(self, props: dict[str, Any]) -> dict[str, Any]:
        return {"text": props["text"], "slot": props["slot"], "shout": props["text"].upper(),
                "greeter": self.greeter}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"greeting-{props['slot']}", self._outs(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news, TABLE)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._outs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props, inputs=TABLE.input_props(props))


class Greeting(Resource, module="smoke", name="Greeting"):
    shout: pulumi.Output[str]
    greeter: pulumi.Output[str]

    def __init__(self, name: str, text: pulumi.Input[str], slot: int,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(GreetingProvider(), name, TABLE.declared({"text": text, "slot": slot}), opts)
