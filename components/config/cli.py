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


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the stack config, keyed as in Pulumi.<stack>.yaml."""
    inner = StackConfig.model_json_schema(by_alias=True)
    props = {f"{PROJECT}:{k}": v for k, v in inner.pop("properties").items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Pulumi.<stack>.yaml of the privatecloud project",
        "type": "object",
        "properties": {
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
            "config": {
                "type": "object",
                "properties": props,
                "required": [f"{PROJECT}:{k}" for k in inner.pop("required", [])],
                "patternProperties": {"^pulumi:": {}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
        "$defs": inner.get("$defs", {}),
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
