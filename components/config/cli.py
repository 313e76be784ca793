"""The JSON Schema of the stack file and the `python -m components.config` command.

    python -m components.config Pulumi.<stack>.yaml   # check stack files without the engine (exit 1)
    python -m components.config --schema              # print the JSON Schema (schema/stack-config.schema.json)
"""

from __future__ import annotations

import json
from typing import Any

from components.config.base import PROJECT, ConfigError
from components.config.load import check_stack_file
from components.config.stackconfig import StackConfig
from components.config.stackfile import ENV_STRING_LIMIT
from policy.rules import LEVELS
from policy.rules import NAMESPACE as POLICY

SECURE: dict[str, Any] = {
    "description": "a value encrypted with `pulumi config set --secret [--path]`",
    "type": "object",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}
SHOWN = ("title", "description", "default")  # what an editor shows of a value: kept beside the encrypted form


def _or_secure(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or the value encrypted: Pulumi encrypts any value or leaf of the stack config."""
    shown = {k: schema[k] for k in SHOWN if k in schema}
    plain = {k: v for k, v in schema.items() if k not in SHOWN}
    return {**shown, "anyOf": [plain, {"$ref": "#/$defs/Secure"}]}


def _encryptable(node: Any) -> Any:
    """Every value under `node` (properties, items, map values) may be written encrypted."""
    if isinstance(node, list):
        return [_encryptable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _encryptable(v) for k, v in node.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _or_secure(v) for k, v in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _or_secure(out[key])
    return out


def _policy_config() -> dict[str, Any]:
    """The policy pack's keys (`privatecloud-policy:*`, checked by policy/rules.py's parse_settings)."""
    names = {"type": "array", "items": {"type": "string", "minLength": 1}}
    return {
        f"{POLICY}:production": {"type": "boolean", "default": True,
                                 "description": "false for lab stacks: the production-only rules are advisory"},
        f"{POLICY}:enforcement": {"type": "object", "additionalProperties": {"enum": list(LEVELS)},
                                  "description": "rule name -> its level"},
        f"{POLICY}:approvals": {"type": "object", "additionalProperties": False,
                                "properties": {"ejectHosts": names, "undeployNodes": names}},
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the stack config, keyed as in Pulumi.<stack>.yaml.

    Any value may be encrypted (`{secure: ...}`), and the policy pack's keys sit beside the
    program's, so every stack file Pulumi and the program accept validates.
    """
    inner = StackConfig.model_json_schema(by_alias=True)
    props = {f"{PROJECT}:{k}": v for k, v in inner.pop("properties").items()}
    config = _encryptable({
        "type": "object",
        "properties": {**props, **_policy_config()},
        "required": [f"{PROJECT}:{k}" for k in inner.pop("required", [])],
        "patternProperties": {"^pulumi:": {}},
        "additionalProperties": False,
    })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Pulumi.<stack>.yaml of the privatecloud project",
        "type": "object",
        "properties": {
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
            "config": config,
        },
        "additionalProperties": False,
        "$defs": {**_encryptable(inner.get("$defs", {})), "Secure": SECURE},
    }


def main(argv: list[str]) -> int:
    """`python -m components.config [--schema | Pulumi.<stack>.yaml ...]`: exit 0 when every file
    is valid, 1 when one is not (one line per problem, `<file>: <problem>`), 2 on bad usage."""
    if argv[:1] == ["--schema"]:
        print(json.dumps(json_schema(), indent=2))
        return 0
    if not argv or any(a.startswith("-") for a in argv):
        print("usage: python -m components.config [--schema | Pulumi.<stack>.yaml ...]")
        return 2
    status = 0
    for path in argv:
        try:
            cfg, size = check_stack_file(path)
        except ConfigError as e:
            for problem in e.problems:
                print(f"{path}: {problem}")
            status = 1
        else:
            print(f"{path}: ok (region {cfg.region.name}: {len(cfg.region.servers)} servers, "
                  f"{len(cfg.region.hypervisor_pools)} hypervisor pools; config {size / 1024:.0f} KiB of the "
                  f"{ENV_STRING_LIMIT // 1024} KiB the program's environment takes)")
    return status
