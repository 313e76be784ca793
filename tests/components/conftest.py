"""The region's graph under Pulumi's mocks: no engine, no backend, no provider call.

`pulumi.runtime.set_mocks` swaps the engine's resource monitor for an in-process one. A recording
monitor keeps every registration as the engine would receive it (type, name, parent URN,
dependencies, inputs), and the mocks answer `new_resource` with the inputs as the state, so the
dynamic providers are never asked to check, diff or create anything (their methods raise here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.runtime.mocks import MockMonitor

from components.config import StackConfig, load_stack_file

REPO = Path(__file__).resolve().parents[2]
PROJECT, STACK = "privatecloud", "dev"


@dataclass(frozen=True)
class Registration:
    """One resource as the monitor saw it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    dependencies: frozenset[str]
    inputs: dict[str, Any] = field(hash=False)
    secrets: frozenset[str] = frozenset()
    """Input keys sent as secrets (wrapped in Pulumi's secret signature on the wire)."""
    secret_outputs: frozenset[str] = frozenset()
    """Output keys the resource asked the engine to keep secret (`additional_secret_outputs`)."""
    provider: str = ""
    """The explicit provider it was given (`<provider URN>::<id>`), or "" for the default one."""


GENERATED_SECRETS = {  # what the mocked day-0 commands print that must stay secret, each value distinct
    "monKey": "mock-mon-key", "adminKey": "mock-admin-key", "dashboardPassword": "mock-dashboard-password",
    "sshPrivateKey": "mock-ssh-private-key", "secret_key": "mock-rgw-secret-key",
}
COMMAND_STDOUT = json.dumps({
    "fsid": "00000000-0000-4000-8000-000000000000", "sshPublicKey": "ssh-ed25519 AAAA lab",
    "access_key": "mock-rgw-access-key", **GENERATED_SECRETS,
})


class Mocks(pulumi.runtime.Mocks):
    """State = inputs (minus the pickled provider): outputs that only a backend knows stay empty."""

    def __init__(self) -> None:
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.inputs[args.typ, args.name] = dict(args.inputs)
        state = {k: v for k, v in args.inputs.items() if k != "__provider"}
        if args.typ.startswith("command:"):
            # A day-0 command's stdout is what it printed on the host: the generated cluster secrets
            # (components.keygen) or the RGW admin user's keys, as JSON.
            state["stdout"] = COMMAND_STDOUT
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"the components made an invoke: {args.token}")


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps what every RegisterResource request carried."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.recorder = mocks
        self.registered: dict[str, Registration] = {}
        self.component_outputs: dict[str, dict[str, bool]] = {}

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered[response.urn] = Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=request.custom,
                dependencies=frozenset(request.dependencies),
                inputs=self.recorder.inputs.get((request.type, request.name), {}),
                secrets=frozenset(k for k, v in request.object.fields.items() if _is_secret(v)),
                secret_outputs=frozenset(request.additionalSecretOutputs),
                provider=request.provider,
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # the gRPC method's name
        """A component's `register_outputs`: which keys it registered, and which of them as secrets."""
        self.component_outputs[request.urn] = {k: _is_secret(v) for k, v in request.outputs.fields.items()}
        return super().RegisterResourceOutputs(request)


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's signature of a secret value on the wire


def _is_secret(value: Any) -> bool:
    if value.WhichOneof("kind") != "struct_value":
        return False
    sig = value.struct_value.fields.get(SECRET_SIG)
    return sig is not None and sig.string_value == "1b47061264138c4ac30d75fd1eb44270"


def _all_subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


@pytest.fixture(scope="session")
def dev_config() -> StackConfig:
    """The dev stack's config, validated without the engine (encrypted values stand in as secrets)."""
    return load_stack_file(str(REPO / "Pulumi.dev.yaml"))


@dataclass
class Graph:
    """Every resource the region registered, by name, and the URN of each."""

    by_name: dict[str, Registration]
    region: Any
    outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, bool]] = field(default_factory=dict)
    """Each component's registered outputs, by the component's name: key -> sent as a secret."""

    def __getitem__(self, name: str) -> Registration:
        return self.by_name[name]

    def urn(self, name: str) -> str:
        return self.by_name[name].urn

    def children(self, name: str) -> set[str]:
        parent = self.urn(name)
        return {r.name for r in self.by_name.values() if r.parent == parent}


def declare_region(cfg: StackConfig) -> Graph:
    """Declare a `Region` from `cfg` under fresh mocks; the providers' lifecycle methods raise meanwhile."""
    import components.region  # the providers' modules load here, so every provider class is known

    calls: list[str] = []
    patched: list[tuple[type, str, Any]] = []
    for cls in [ResourceProvider, *_all_subclasses(ResourceProvider)]:
        for method in ("check", "diff", "create", "read", "update", "delete", "configure"):
            if method in vars(cls):

                def refuse(*_a: Any, _name: str = f"{cls.__name__}.{method}", **_k: Any) -> Any:
                    calls.append(_name)
                    raise AssertionError(f"a provider was called under the mocks: {_name}")

                patched.append((cls, method, vars(cls)[method]))
                setattr(cls, method, refuse)

    mocks = Mocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    built: dict[str, Any] = {}

    @pulumi.runtime.test
    def declare() -> pulumi.Output[Any]:
        region = components.region.Region(cfg.region.name, cfg)
        built["region"] = region
        return pulumi.Output.all(
            zone_id=region.cloud.zone_id, node_uuids=region.baremetal.node_uuids, host_ids=region.cloud.host_ids,
            ceph_dashboard_url=region.ceph_dashboard_url,
            tenant_api_keys=region.tenants.api_keys if region.tenants else {},
        ).apply(built.update)

    try:
        declare()
    finally:
        for cls, method, original in patched:
            setattr(cls, method, original)
    assert calls == [], f"providers were called: {calls}"
    name_of = {r.urn: r.name for r in monitor.registered.values()}
    return Graph(
        {r.name: r for r in monitor.registered.values()}, built.pop("region"), built,
        {name_of[urn]: keys for urn, keys in monitor.component_outputs.items() if urn in name_of},
    )


@pytest.fixture(scope="module")
def region_graph(dev_config: StackConfig) -> Graph:
    """The dev region, declared once for the module."""
    return declare_region(dev_config)
