"""`listApis` as ApiDiscoveryServiceImpl answers a root admin: every 4.18 API with its
description, parameters (with descriptions, types, `related`) and response fields, verbatim from
a real 4.18 server's output (reference/listApis-4.18-raw.json.gz), so clients that sync their
command list from it (CloudMonkey's `sync`) see what a real server offers. Commands the emulator
does not model are listed too (a real server has them); calling one answers 432.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.errors import REFERENCE


@cache
def _apis() -> tuple[dict[str, Any], ...]:
    raw = json.loads(gzip.decompress((REFERENCE / "listApis-4.18-raw.json.gz").read_bytes()))
    return tuple(raw["api"])


def list_apis(name: str | None) -> dict[str, Any]:
    """ListApisCmd: all of them, or the one named (an unknown name: the plugin's INTERNAL_ERROR)."""
    apis = list(_apis())
    if name is not None:
        apis = [a for a in apis if a["name"] == name]
        if not apis:
            raise errors.internal_error(
                "Api Discovery plugin was unable to find an api by that name or process any apis")
    return {"count": len(apis), "api": apis}
