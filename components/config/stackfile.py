"""The stack file itself (Pulumi.<stack>.yaml), read as Pulumi reads it, and the size of the
config in the program's environment.

YAML 1.2 core scalars, no object-constructing tags, no duplicate or non-string keys, bounded
depth and alias expansion, UTF-8 without tabs; every problem as `line N: reason`, never quoting
the offending text. `env_bytes` counts the bytes of `PULUMI_CONFIG`, the one environment string
Pulumi's Python host hands the program, against Linux's limit for one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml  # PyYAML arrives with the pulumi SDK

from components.config.base import ConfigError, _nearest
from components.config.masking import _is_encrypted, plaintext_problems

# --- the stack file itself --------------------------------------------------------------------

MAX_FILE_BYTES = 1 << 20
MAX_EXPANDED = 100_000  # scalar and collection nodes after aliases are expanded (alias bombs)
MAX_DEPTH = 64
STACK_FILE_KEYS = ["config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"]
_TAG = "tag:yaml.org,2002:"
_CORE_SCALARS = {
    # YAML 1.2 core schema, as Pulumi (Go's yaml.v3) reads a stack file: `yes`, `on`, `010` and
    # `52:54:00:00:01:01` are a string, a string, ten and a string, not YAML 1.1's true, true, 8 and an int.
    f"{_TAG}bool": (r"true|True|TRUE|false|False|FALSE", "tTfF"),
    f"{_TAG}null": (r"~|null|Null|NULL|", "~nN"),
    f"{_TAG}int": (r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    f"{_TAG}float": (r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
                     "-+0123456789."),
    f"{_TAG}merge": (r"<<", "<"),
}
_ALLOWED_TAGS = {*_CORE_SCALARS, f"{_TAG}str", f"{_TAG}map", f"{_TAG}seq"}


class _StackFileLoader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]  # PyYAML ships no stubs here
    """PyYAML's safe loader with YAML 1.2 core scalars; nodes are checked before construction."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        return int(text, 0) if text.startswith(("0o", "0x")) else int(text, 10)


_StackFileLoader.yaml_implicit_resolvers = {}
for _tag, (_regexp, _first) in _CORE_SCALARS.items():
    _firsts = [*_first, ""] if _tag.endswith("null") else list(_first)  # '' : the empty scalar is null
    _StackFileLoader.add_implicit_resolver(_tag, re.compile(rf"^(?:{_regexp})$"), _firsts)
_StackFileLoader.add_constructor(f"{_TAG}int", _StackFileLoader.construct_yaml_int)


class _NodeCheck:
    """Walks the composed YAML graph once (aliases counted, not followed twice) before anything
    is constructed: tags, keys, depth and the expanded size."""

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}
        self.active: set[int] = set()

    def size(self, node: yaml.Node, depth: int = 0) -> int:
        if id(node) in self.sizes:
            return self.sizes[id(node)]
        line = node.start_mark.line + 1
        if id(node) in self.active or depth > MAX_DEPTH:
            raise ConfigError([f"line {line}: nested more than {MAX_DEPTH} levels deep (or an alias refers to itself)"])
        self._tag(node, line)
        self.active.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            self._keys(node)
            total += sum(self.size(k, depth + 1) + self.size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(self.size(v, depth + 1) for v in node.value)
        else:
            total += len(str(node.value)) // 100
        self.active.discard(id(node))
        if total > MAX_EXPANDED:
            raise ConfigError([f"line {line}: aliases expand this value beyond {MAX_EXPANDED} nodes (an alias bomb?)"])
        self.sizes[id(node)] = total
        return total

    @staticmethod
    def _tag(node: yaml.Node, line: int) -> None:
        if node.tag not in _ALLOWED_TAGS:
            raise ConfigError([f"line {line}: YAML tag {node.tag.replace(_TAG, '!!')!r} is not allowed in a "
                               "stack file (only strings, numbers, booleans, null, mappings and lists)"])
        if node.tag in _CORE_SCALARS and not re.fullmatch(_CORE_SCALARS[node.tag][0], str(node.value)):
            raise ConfigError([f"line {line}: {str(node.value)[:40]!r} is not a valid {node.tag.replace(_TAG, '!!')}"])

    @staticmethod
    def _keys(node: yaml.MappingNode) -> None:
        first: dict[str, int] = {}
        for key, _ in node.value:
            line = key.start_mark.line + 1
            if key.tag == f"{_TAG}merge":
                continue
            if not isinstance(key, yaml.ScalarNode) or key.tag != f"{_TAG}str":
                shown = f"key {str(key.value)[:40]!r}" if isinstance(key, yaml.ScalarNode) else f"a {key.id} as a key"
                raise ConfigError([f"line {line}: {shown} is not a string (quote it)"])
            if key.value in first:
                raise ConfigError([f"line {line}: duplicate key {key.value!r} (first at line {first[key.value]}); "
                                   "Pulumi refuses the file"])
            first[key.value] = line


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([f"line 1: the file has {len(data)} bytes; a stack file is at most {MAX_FILE_BYTES}"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError([f"line {line}: not UTF-8 (byte 0x{data[e.start]:02x}); save the file as UTF-8"]) from None
    text = text.removeprefix("\ufeff")
    for n, line_text in enumerate(text.splitlines(), 1):
        if "\t" in line_text:
            raise ConfigError([f"line {n}: a tab character; YAML indents with spaces and a value "
                               "never needs a tab"])
    return text


def _yaml_error(e: yaml.YAMLError, text: str) -> ConfigError:
    """A one-line error with the line number; never the offending text (it may be a secret)."""
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(p for p in (e.context, e.problem) if p)
        return ConfigError([f"line {line}: not valid YAML: {reason}"])
    if isinstance(e, yaml.reader.ReaderError):
        line = text[: e.position].count("\n") + 1
        return ConfigError([f"line {line}: a control character (#x{e.character:04x}) that YAML does not allow"])
    return ConfigError([f"line 1: not valid YAML: {type(e).__name__}"])


def parse_stack_file(data: bytes) -> Any:
    """The document of a stack file, or ConfigError with one `line N: reason` problem."""
    text = _decode(data)
    try:
        loader = _StackFileLoader(text)
    except yaml.YAMLError as e:
        raise _yaml_error(e, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _NodeCheck().size(node)
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        raise _yaml_error(e, text) from None
    except RecursionError:
        raise ConfigError([f"line 1: nested more than {MAX_DEPTH} levels deep"]) from None
    finally:
        loader.dispose()


def _key_line(text: str, key: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith((f"{key}:", f"'{key}':", f'"{key}":')):
            return n
    return 1


def _config_section(doc: Any, text: str) -> dict[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        line = next((n for n, t in enumerate(text.splitlines(), 1) if t.strip() and not t.startswith("#")), 1)
        raise ConfigError([f"line {line}: the top level is a {type(doc).__name__}; a stack file is a mapping "
                           "with a 'config' key"])
    unknown = [k for k in doc if k not in STACK_FILE_KEYS]
    if unknown:
        key = unknown[0]
        hint = _nearest(key, STACK_FILE_KEYS)
        raise ConfigError([f"line {_key_line(text, key)}: unknown top-level key {key!r}{hint}"])
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError([f"line {_key_line(text, 'config')}: 'config' is a {type(config).__name__}, not a mapping"])
    return config


def _placeholders(v: Any) -> Any:
    """Encrypted values stand in as a placeholder string (the validator cannot decrypt them)."""
    if _is_encrypted(v):
        return "(encrypted)"
    if isinstance(v, dict):
        return {k: _placeholders(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_placeholders(x) for x in v]
    return v


# Linux's cap on one environment string (MAX_ARG_STRLEN, its NUL included): Pulumi's Python host
# hands the program the whole stack config in one (`PULUMI_CONFIG`).
ENV_STRING_LIMIT = 128 * 1024


def _go_json(value: Any) -> str:
    """JSON as Go's `json.Marshal` writes it: compact, UTF-8, `<`, `>`, `&` escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def env_bytes(config: Mapping[str, Any]) -> int:
    """The bytes of the `PULUMI_CONFIG` environment string the program of `config` gets (namespaced
    keys; the engine sends each structured value as JSON, the host all of them as one JSON object).
    Measured on the file, an encrypted value counts its ciphertext: a little more."""
    values = {k: v if isinstance(v, str) else _go_json(v) for k, v in config.items()}
    return len(f"PULUMI_CONFIG={_go_json(values)}".encode()) + 1


def env_size_problems(size: int) -> Iterator[str]:
    """A config of `size` bytes (`env_bytes`) the program's environment cannot take."""
    if size > ENV_STRING_LIMIT:
        yield (f"config: {size:,} bytes reach the program in one environment variable (PULUMI_CONFIG), over "
               f"Linux's {ENV_STRING_LIMIT:,} for one: the engine could not start the program (argument list "
               "too long); split the region into stacks (one per set of pools)")


def read_stack_file(path: str) -> tuple[dict[str, Any], list[str], int]:
    """A stack file's config (namespaced keys, encrypted values as placeholders), the problems only
    the file shows (plaintext where a credential should be `secure:`), and the bytes the config
    takes in the program's environment (`env_bytes`, counted on the file as written)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError([f"cannot read the file: {e.strerror}"]) from None
    text = data.decode("utf-8", errors="replace")
    config = _config_section(parse_stack_file(data), text)
    problems = list(plaintext_problems(config, lambda _, value: _is_encrypted(value)))
    return {k: _placeholders(v) for k, v in config.items()}, problems, env_bytes(config)
