"""The base of every backend's settings model (`providers/<backend>/settings.py`).

One model per backend, used twice: the stack config (`components/config/stackconfig.py`) validates
`<project>:<section>` with it before any API call, and the backend's providers parse the same
object with it in `configure()`. So every documented key is accepted and reaches the provider,
and a value is parsed once, the same way in both places. Keys are camelCase on the wire
(`jobTimeout`), snake_case in Python (`job_timeout`); unknown keys are errors; secrets are
`SecretStr`, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self, TypeVar

import pydantic
from pydantic.alias_generators import to_camel

from .errors import InputError

SECRET_WORDS = ("secret", "password", "key")
M = TypeVar("M", bound=pydantic.BaseModel)


class BackendSettings(pydantic.BaseModel):
    """Subclass with the backend's fields and `section` (the stack-config object's name)."""

    model_config = pydantic.ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    section: ClassVar[str]

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> Self:
        """The settings from the stack-config object; an `InputError` names `<section>.<key>`."""
        return parse_settings(cls, cls.section, raw)


def parse_settings(model: type[M], section: str, raw: Mapping[str, Any]) -> M:
    """Validate a backend's stack-config object; the first problem as an `InputError`.

    The error names `<section>.<key>` as the stack file spells it; secret values are never shown.
    """
    try:
        return model.model_validate(dict(raw))
    except pydantic.ValidationError as e:
        err = e.errors()[0]
        aliases = {name: info.alias or name for name, info in model.model_fields.items()}
        path = ".".join([section, *(aliases.get(str(p), str(p)) for p in err["loc"])])
        secret = any(w in path.lower() for w in SECRET_WORDS)
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            known = sorted(info.alias or name for name, info in model.model_fields.items())
            unknown = sorted(set(raw) - set(known) - set(model.model_fields))
            reason = f"unknown keys {unknown}; known keys: {known}"
        raise InputError("config", path, "(not shown)" if secret else err.get("input"), reason) from e
