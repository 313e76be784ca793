"""Validating a stack config: the three ways in, all refusing the same mistakes.

`load` (raw values without the namespace), `load_config` (the engine's path, from `__main__.py`:
every key the engine hands the program, plus what only the stack file shows) and
`load_stack_file` / `check_stack_file` (a Pulumi.<stack>.yaml without the engine). Here too the
namespace check: keys outside `privatecloud:` or unknown in it, with the nearest valid key.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from components.config.base import POLICY_NAMESPACE, PROJECT, ConfigError, _nearest
from components.config.masking import _format, _text_problems, plaintext_problems
from components.config.stackconfig import StackConfig
from components.config.stackfile import env_size_problems, read_stack_file


def _value_problems(raw: Mapping[str, Any]) -> tuple[StackConfig | None, list[str]]:
    data = {}
    for key, value in raw.items():
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        data[key] = value
    found = list(_text_problems(data, ()))
    seen = {path for path, _ in found}
    try:
        return StackConfig.model_validate(data), [line for _, line in found]
    except ValidationError as e:
        more = [(path, line) for path, line in _format(e) if not path or path not in seen]
        return None, [line for _, line in found + more]


def load(raw: dict[str, Any]) -> StackConfig:
    """Validate raw stack config (keys without the project namespace; values as Pulumi gives them:
    objects as JSON strings, secrets decrypted)."""
    cfg, problems = _value_problems(raw)
    if cfg is None or problems:
        raise ConfigError(problems)
    return cfg


# --- namespaces -------------------------------------------------------------------------------


SECTIONS = [f.alias or n for n, f in StackConfig.model_fields.items()]
"""The keys of the project's namespace (privatecloud:<section>), one per field of `StackConfig`."""


def _namespace_problems(keys: list[str]) -> Iterator[str]:
    """Keys outside the project's namespace, or unknown in it, with the nearest valid key."""
    names = SECTIONS
    valid = [f"{PROJECT}:{n}" for n in names]
    for key in keys:
        namespace, colon, name = key.partition(":")
        if namespace == "pulumi" and colon:
            continue  # the engine's own settings (pulumi:tags, ...)
        if namespace == POLICY_NAMESPACE and colon:
            continue  # the policy pack's settings (policy/): the pack reads and checks them
        if namespace == PROJECT and name in names:
            continue
        if not colon:
            hint = _nearest(key, names).replace("'", f"'{PROJECT}:", 1) if key in names else _nearest(key, valid)
            yield f"{key}: a config key needs a namespace{hint}"
        elif namespace == PROJECT:
            yield f"{key}: unknown key of the project{_nearest(name, names)}"
        elif namespace in names:
            yield f"{key}: outside the project's namespace; did you mean {name!r} under {PROJECT}:{namespace}?"
        else:
            near = difflib.get_close_matches(key, valid, n=1, cutoff=0.8)
            hint = f"; did you mean {near[0]!r}?" if near else f" (this project reads only {PROJECT}:* keys)"
            yield f"{key}: outside the project's namespace{hint}"


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def load_config(config: Mapping[str, Any], *, secret_keys: set[str], stack_file: str | None = None) -> StackConfig:
    """The engine's path: validate the stack config the engine hands the program (every key,
    namespaced, secrets decrypted; `secret_keys` the keys it marks secret). With the `stack_file`
    it came from, what only the file shows is checked too (a file Pulumi should not have read,
    plaintext where a credential should be `secure:`), so this refuses what the CLI refuses."""
    file_problems = read_stack_file(stack_file)[1] if stack_file else []
    return _checked_config(config, secret_keys, file_problems)


def _checked_config(config: Mapping[str, Any], secret_keys: set[str], file_problems: list[str]) -> StackConfig:
    problems = list(file_problems)
    problems += _namespace_problems(sorted(config))
    problems += plaintext_problems(config, lambda key, _: key in secret_keys)
    names = set(SECTIONS)
    raw = {k.partition(":")[2]: v for k, v in config.items() if k.partition(":")[::2] in {(PROJECT, n) for n in names}}
    cfg, more = _value_problems(raw)
    problems = _unique(problems + more)
    if problems or cfg is None:
        raise ConfigError(problems)
    return cfg


def load_stack_file(path: str) -> StackConfig:
    """Validate a Pulumi.<stack>.yaml without the engine (encrypted values stand in as secrets)."""
    return check_stack_file(path)[0]


def check_stack_file(path: str) -> tuple[StackConfig, int]:
    """A valid Pulumi.<stack>.yaml's config and the bytes it takes in the program's environment;
    a file too large for that environment is refused with the rest.

    A section encrypted as a whole (`pulumi config set --secret privatecloud:ceph '{...}'`) is
    valid for the engine but unreadable here: it is reported as such, not as a wrong type."""
    config, problems, size = read_stack_file(path)
    problems += env_size_problems(size)
    sealed = [k for k, v in config.items() if v == "(encrypted)" and k.startswith(f"{PROJECT}:")]
    try:
        cfg = _checked_config(config, set(config), problems)
    except ConfigError as e:
        problems = [p for p in e.problems if not any(p.startswith(f"{k}=") for k in sealed)]
    else:
        if not sealed:
            return cfg, size
    problems += [
        f"{k}=(secret): encrypted as a whole, so only the engine can check it (pulumi preview); set its "
        f"values one by one to check it here: pulumi config set [--secret] --path '{k}.<key>' <value>"
        for k in sealed
    ]
    raise ConfigError(problems)
