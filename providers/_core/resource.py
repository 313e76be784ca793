"""The Pulumi resource of a declared resource: its properties and secrets follow from its Args."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pulumi
from pulumi.dynamic import Resource, ResourceProvider
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider
from pulumi.runtime._serialization import _serialize

from .declare import Args, secret

A = TypeVar("A", bound=Args)


_PICKLED: dict[type[ResourceProvider], str | None] = {}


def pickled(provider_type: type[ResourceProvider]) -> str | None:
    """The `__provider` of every resource of `provider_type`, pickled once per class; None when it
    must be pickled per resource (it captures a secret, or is always to be sent as one).

    A provider is a stateless instance of a class in an importable module (`providers._core.provider`),
    so it pickles by reference to the same bytes every time: the SDK's pickling (dill through the
    pure-Python pickler) costs a few hundred microseconds per resource for nothing."""
    if provider_type not in _PICKLED:
        provider = provider_type()
        text, captured_secret = _serialize(True, serialize_provider, provider)
        always_secret = getattr(provider, "serialize_as_secret_always", True)
        _PICKLED[provider_type] = None if captured_secret or always_secret else str(text)
    return _PICKLED[provider_type]


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
        props, opts = self.extra_properties(props, opts)
        text = pickled(self.provider_type)
        if text is None:
            super().__init__(self.provider_type(), resource_name, props, opts)
            return
        # What `pulumi.dynamic.Resource.__init__` does, with the provider pickled once per class.
        props[PROVIDER_KEY] = text
        pulumi.CustomResource.__init__(self, f"pulumi-python:{self._resource_type_name}", resource_name, props, opts)

    def extra_properties(self, props: dict[str, Any], opts: pulumi.ResourceOptions | None
                         ) -> tuple[dict[str, Any], pulumi.ResourceOptions | None]:
        """Properties a kind of resource adds beyond its Args (a CloudStack resource's connection),
        with their options; by default none."""
        return props, opts

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> pulumi.Output[Any]:
            """Every declared property is set by the engine as an Output."""
