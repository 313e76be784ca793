"""What every CloudStack resource provider shares: configuration, the client, read plumbing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pydantic
from pulumi.dynamic import ConfigureRequest, ReadResult

from providers._core import REAL_CLOCK, Clock, InputError, TableProvider, config_section, parse
from providers._core.diff import PROVIDER_KEY

from .api import Api, Settings

CONFIG_SECTION = "cloudstack"


def lower(value: Any) -> str:
    """Case-insensitive comparison of names CloudStack spells freely (Advanced/advanced)."""
    return str(value).lower()


def as_int(value: Any) -> int:
    """CloudStack answers numbers as strings or numbers; the engine sends floats."""
    return int(float(value))


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


class CloudStackProvider(TableProvider):
    """A `TableProvider` that talks to CloudStack with settings from `configure()`.

    Nothing here is pickled but the class reference: `_settings` is set in the provider process
    by `configure()` (or by tests through `configure_with`) and never leaves it.
    """

    clock: ClassVar[Clock] = REAL_CLOCK
    _settings: Settings | None = None

    def configure(self, req: ConfigureRequest) -> None:
        section = config_section(req, CONFIG_SECTION)
        if section:
            self._settings = Settings.from_config(section)

    def configure_with(self, settings: Settings) -> None:
        """Configure without the engine (tests and tools)."""
        self._settings = settings

    def api(self, props: Mapping[str, Any]) -> Api:
        if self._settings is None:
            raise InputError(
                self.label(props),
                "config",
                None,
                f"no cloudstack settings: set the stack config object '<project>:{CONFIG_SECTION}' "
                '= {"endpoint", "apiKey", "secretKey"} (secret)',
            )
        return Api(self._settings, self.label(props), self.clock)

    def label(self, props: Mapping[str, Any]) -> str:
        """How messages name the resource: its kind and CloudStack name."""
        name = props.get("name")
        return f"{self.table.resource} {name!r}" if name else self.table.resource

    def inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Validated, normalised inputs (defaults filled in) of a CRUD call."""
        model = parse(self.model, {k: v for k, v in props.items() if k != PROVIDER_KEY}, self.label(props))
        return model.model_dump(mode="json", exclude_none=True)

    def gone(self) -> ReadResult:
        """What `read` answers for an object CloudStack no longer has: the engine recreates it."""
        return ReadResult("", {})

    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        """`outputs` without the optional inputs left undeclared.

        CloudStack fills in defaults for what it is not told (a network speed of 1G, a network
        domain): those are not managed, so they must not show as a diff ("remove") on every run.
        """
        drop = {f.name for f in self.table.inputs if declared.get(f.name) is None}
        return {k: v for k, v in outputs.items() if k not in drop and v is not None}

    def read_result(self, obj_id: str, outputs: dict[str, Any], declared: Mapping[str, Any]) -> ReadResult:
        """`declared` is the state `read` was given: what the program declared last time."""
        kept = self.managed(outputs, declared)
        return ReadResult(obj_id, kept, inputs=self.table.input_props(kept))


class Inputs(pydantic.BaseModel):
    """Base of every input model: unknown properties are errors, not silently dropped."""

    model_config = pydantic.ConfigDict(extra="forbid")

