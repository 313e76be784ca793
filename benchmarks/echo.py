"""The same-bytes baseline of the preview benchmark: a region's own resources, with no logic.

`benchmarks.region compare --same-bytes` exports a deployed region's state and previews it again
with this program instead of the region's: every component and dynamic resource of the state, of
the same type, name, parent and dependencies, declared with the property bag the state holds
(its secrets secret), through a provider that accepts its inputs as they are and compares them
key by key. The engine, the SDK and the provider process handle the same bytes as for the region;
what the region costs beyond this baseline is its program's and its providers' own work.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider

from components.prestart import start_dynamic_provider
from providers._core.diff import PROVIDER_KEY
from providers._core.resource import pickled

# How a secret is written in state and on the wire: the signature key, and the secret's signature.
SECRET_SIG, SECRET = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
ROOT_TYPE = "pulumi:pulumi:Stack"


class EchoProvider(ResourceProvider):
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("echo", dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k, v in news.items() if k != PROVIDER_KEY and k in olds and olds[k] != v]
        return DiffResult(changes=bool(changed), replaces=[])


def resources_file(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """What the program declares, from `pulumi stack export --show-secrets`: the state's components
    and dynamic resources in state order, and the stack's outputs (the root's, type ROOT_TYPE).

    A resource's inputs are the state's, except where its provider keeps a value normalised in its
    outputs (a zone's `Advanced` for `advanced`): there the output's, so that the echo's diff,
    key by key, finds no change."""
    out = []
    for r in deployment["deployment"]["resources"]:
        if r["type"].startswith("pulumi:providers:"):
            continue  # the default providers, which the engine makes
        outputs = r.get("outputs", {})
        out.append({
            "urn": r["urn"], "type": r["type"], "custom": r.get("custom", False), "parent": r.get("parent"),
            "dependencies": r.get("dependencies", []), "protect": r.get("protect", False),
            "additionalSecretOutputs": r.get("additionalSecretOutputs", []),
            "inputs": {k: outputs.get(k, v) for k, v in r.get("inputs", {}).items() if k != PROVIDER_KEY},
            "outputs": outputs if r["type"] == ROOT_TYPE else {},
        })
    return out


def revived(value: Any) -> Any:
    """`value` from the export, its secrets made secret Outputs again."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET:
            return pulumi.Output.secret(json.loads(value["plaintext"]))
        return {k: revived(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revived(v) for v in value]
    return value


def declare(path: Path) -> None:
    """Declare the resources `resources_file` wrote to `path` (the program of the baseline), set up
    as the region's program is (`__main__.py`): the dynamic-provider process started first, and
    its garbage-collector threshold."""
    start_dynamic_provider()
    gc.set_threshold(100_000, 50, 100)
    made: dict[str, pulumi.Resource] = {}
    provider = pickled(EchoProvider)
    for r in json.loads(path.read_text()):
        if r["type"] == ROOT_TYPE:
            for k, v in r["outputs"].items():
                pulumi.export(k, revived(v))
            continue
        name = r["urn"].split("::")[-1]
        opts = pulumi.ResourceOptions(
            parent=made.get(r["parent"] or ""), depends_on=[made[u] for u in r["dependencies"] if u in made],
            protect=r["protect"], additional_secret_outputs=r["additionalSecretOutputs"] or None)
        if r["custom"]:
            made[r["urn"]] = pulumi.CustomResource(r["type"], name, {**revived(r["inputs"]), PROVIDER_KEY: provider},
                                                   opts)
        else:
            made[r["urn"]] = pulumi.ComponentResource(r["type"], name, None, opts)
