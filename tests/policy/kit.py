"""Small throwaway programs for the policy pack: stand-ins with the real resources' type tokens.

`fakes.py` (put beside a program through EngineStack's `modules`) declares dynamic resources whose
type tokens are the region's (`pulumi-python:dynamic/ceph:Pool`, ...) and whose provider only
echoes its inputs, so a program can show the pack any shape of resource without a lab.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.enginekit import REPO, EngineStack, Result

PACK = REPO / "policy"

FAKES = '''
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult


class Echo(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props.get("name") or "echo", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = (set(olds) | set(news)) - {"__provider"}
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)


def _kind(module: str, name: str) -> type:
    class Kind(Resource, module=module, name=name):
        def __init__(self, resource_name: str, props: dict[str, Any],
                     opts: pulumi.ResourceOptions | None = None) -> None:
            super().__init__(Echo(), resource_name, props, opts)

    return Kind


CephPool = _kind("ceph", "Pool")
XcpngPool = _kind("xcpng", "Pool")
IronicNode = _kind("ironic", "Node")
ImageStore = _kind("cloudstack", "ImageStore")
'''


@dataclass
class Violation:
    policy: str
    level: str
    message: str
    urn: str


def violations(res: Result) -> list[Violation]:
    out = []
    for ev in res.events:
        p = ev.get("policyEvent")
        if p:
            out.append(Violation(p["policyName"], p["enforcementLevel"], p["message"], p.get("resourceUrn", "")))
    return out


def stack(root: Path, engine_bin: Path, program: str, **kw: Any) -> EngineStack:
    return EngineStack.create(root, engine_bin, program=program, modules={"fakes": FAKES}, **kw)


def preview(st: EngineStack) -> Result:
    """`pulumi preview` with the pack (not checked: a mandatory violation fails it)."""
    return st.run("preview", "--policy-pack", str(PACK))
