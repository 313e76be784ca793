"""The Pulumi resource of a declared resource: its properties and secrets follow from its Args."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from .declare import Args, secret

A = TypeVar("A", bound=Args)


class Declared(Resource, Generic[A]):
    """A dynamic resource made from its Args; `provider_type` is its provider class.

        class Zone(Declared[ZoneArgs], module="cloudstack", name="Zone"):  # the type token
            \"\"\"A CloudStack zone.\"\"\"
            provider_type = ZoneProvider

    The secrets of the Args (`secret=True`) are made secret here, once: their inputs are wrapped
    as secrets and they become `additional_secret_outputs`, so they are secret in state even
    when given as plain strings.
    """

    provider_type: ClassVar[type[ResourceProvider]]

    def __init__(self, resource_name: str, args: A, opts: pulumi.ResourceOptions | None = None) -> None:
        table = type(args).table()
        props = table.declared(args)
        if table.secrets:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=table.secrets))
            for name in table.secrets:  # secret in state even when given as plain strings
                if props.get(name) is not None:
                    props[name] = secret(props[name])
        super().__init__(self.provider_type(), resource_name, props, opts)

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> pulumi.Output[Any]:
            """Every declared property is set by the engine as an Output."""
