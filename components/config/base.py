"""What every module of the stack config stands on: the project's namespace, the error that
carries every problem, the strict base model, and how a problem names a config path.

A problem is one line naming the config path (as `pulumi config set --path` takes it), the value
and the reason; `dotted` writes the path and `_nearest` the "did you mean" of a misspelled key.
"""

from __future__ import annotations

import difflib
import json
import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from providers._core.types import DnsLabel

PROJECT = "privatecloud"
POLICY_NAMESPACE = f"{PROJECT}-policy"  # the CrossGuard pack's stack settings (policy/)


class ConfigError(Exception):
    """The stack config is invalid: every line names a config path, the value and the reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack config:\n  " + "\n  ".join(problems))


Name = DnsLabel  # region, server and pool names: they also name Pulumi resources and Ironic nodes


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


def dotted(path: tuple[str | int, ...]) -> str:
    """A config path as `pulumi config set --path` takes it: privatecloud:region.servers[0].name."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not out:
            out = f"{PROJECT}:{part}"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out or f"{PROJECT}:"


def _nearest(word: str, options: list[str]) -> str:
    near = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not near:
        near = [o for o in options if o.lower() == word.lower()]
    return f"; did you mean {near[0]!r}?" if near else f" (it takes {sorted(options)})"
