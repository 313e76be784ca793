"""The base of every dynamic provider: check through pydantic, diff through the table.

A provider is pickled into state (by reference, since it lives in an importable module), so it
holds no clients: connection settings arrive through `configure()` and clients are built lazily
from them. It captures no secrets, so it opts out of being serialised as a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import pydantic
from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ResourceProvider

from .diff import PROVIDER_KEY, diff, is_unknown
from .errors import InputError
from .fields import Table

M = TypeVar("M", bound=pydantic.BaseModel)


def failure_reason(error: Mapping[str, Any]) -> tuple[str, str]:
    """(property path, reason naming the value) of one pydantic error."""
    path = ".".join(str(p) for p in error["loc"])
    value = error.get("input")
    shown = "(missing)" if error["type"] == "missing" else repr(value)
    return path, f"{path or 'inputs'}={shown}: {error['msg']}"


def validate(model: type[M], props: Mapping[str, Any]) -> tuple[M | None, list[CheckFailure]]:
    """Validate `props` with `model`, ignoring errors caused by values unknown at preview."""
    try:
        return model.model_validate(dict(props)), []
    except pydantic.ValidationError as e:
        failures = []
        for err in e.errors():
            top = err["loc"][0] if err["loc"] else None
            if top is not None and is_unknown(props.get(str(top))):
                continue
            if is_unknown(err.get("input")):
                continue
            path, reason = failure_reason(err)
            failures.append(CheckFailure(path, reason))
        return None, failures


def parse(model: type[M], props: Mapping[str, Any], resource: str) -> M:
    """Validate fully-known inputs, raising an `InputError` for the first problem."""
    try:
        return model.model_validate({k: v for k, v in props.items() if k != PROVIDER_KEY})
    except pydantic.ValidationError as e:
        err = e.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        raise InputError(resource, path, err.get("input"), err["msg"]) from e


class TableProvider(ResourceProvider):
    """check and diff for a resource described by `table` and validated by `model`."""

    table: ClassVar[Table]
    model: ClassVar[type[pydantic.BaseModel]]
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        props = {k: v for k, v in news.items() if k != PROVIDER_KEY}
        parsed, failures = validate(self.model, props)
        if parsed is None:
            return CheckResult(props, failures)
        # Normalised inputs (defaults filled in) are what the engine stores and diffs.
        return CheckResult(parsed.model_dump(mode="json", exclude_none=True), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news, self.table)


def config_section(req: ConfigureRequest, name: str) -> dict[str, Any]:
    """The structured stack-config object `<project>:<name>` (a JSON string on the wire)."""
    raw = req.config.get(name)
    if raw is None:
        return {}
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError("config", name, "(not shown)", f"not a JSON object: {e}") from e
    else:
        value = raw
    if not isinstance(value, dict):
        raise InputError("config", name, "(not shown)", "must be an object")
    return value
