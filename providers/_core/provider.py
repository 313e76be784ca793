"""The one base of every dynamic provider: check, diff, settings, labels, reads.

A provider is pickled into state (by reference, since it lives in an importable module), so it
holds no clients: connection settings arrive through `configure()` as the backend's settings
model (`providers/<backend>/settings.py`, the same model the stack config validates) and clients
are built lazily from them. It captures no secrets, so it opts out of being serialised as one.

Every backend gets the same behaviour from here: how a resource is named in messages (`label`),
validated inputs (`inputs`), a vanished object (`gone`), what `read` answers (`read_result`),
settings from the stack (`configure`) or from a test (`configure_with`), and the error when they
are missing (`settings`: an `InputError` naming the config object).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import pydantic
import pydantic_core
from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ReadResult, ResourceProvider

from .cache import reading as cache_reading
from .cache import stack_config
from .cache import writing as cache_writing
from .declare import Args
from .diff import PROVIDER_KEY, diff, is_unknown
from .errors import InputError
from .fields import Table
from .settings import BackendSettings

M = TypeVar("M", bound=pydantic.BaseModel)
S = TypeVar("S", bound=BackendSettings)
F = TypeVar("F", bound=Callable[..., Any])
WRITES = ("create", "update", "delete")


def writing(method: F) -> F:
    """`method` (a create, update or delete) dropping the shared listings before and after it."""
    if getattr(method, "_writes", False):
        return method

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with cache_writing():
            return method(*args, **kwargs)

    wrapper._writes = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def reading(method: F) -> F:
    """`read(self, id_, props)` sharing listings with the other reads (providers._core.cache)."""
    if getattr(method, "_reads", False):
        return method

    @functools.wraps(method)
    def wrapper(self: Any, id_: str, *args: Any, **kwargs: Any) -> Any:
        with cache_reading((type(self).__qualname__, id_)):
            return method(self, id_, *args, **kwargs)

    wrapper._reads = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def validate(model: type[M], props: Mapping[str, Any]) -> tuple[M | None, list[CheckFailure]]:
    """Validate `props` with `model`, ignoring errors caused by values unknown at preview."""
    try:
        return model.model_validate(dict(props)), []
    except pydantic.ValidationError as e:
        failures = []
        for err in e.errors():
            top = err["loc"][0] if err["loc"] else None
            if (top is not None and is_unknown(props.get(str(top)))) or is_unknown(err.get("input")):
                continue
            path = ".".join(str(p) for p in err["loc"])
            shown = "(missing)" if err["type"] == "missing" else repr(err.get("input"))
            failures.append(CheckFailure(path, f"{path or 'inputs'}={shown}: {err['msg']}"))
        return None, failures


def parse(model: type[M], props: Mapping[str, Any], resource: str) -> M:
    """Validate fully-known inputs, raising an `InputError` for the first problem."""
    try:
        return model.model_validate({k: v for k, v in props.items() if k != PROVIDER_KEY})
    except pydantic.ValidationError as e:
        err = e.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        raise InputError(resource, path, err.get("input"), err["msg"]) from e


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


class TableProvider(ResourceProvider):
    """check and diff for a resource described by `table` and validated by `model`.

    Declare `args` (an `Args` class) and both follow from it; or set `table` and `model`.
    """

    args: ClassVar[type[Args]]
    table: ClassVar[Table]
    model: ClassVar[type[pydantic.BaseModel]]
    label_field: ClassVar[str] = "name"
    serialize_as_secret_always = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "args" in cls.__dict__:
            cls.table = cls.args.table()
        # Every backend's reads share listings and every write drops them (providers._core.cache).
        for name in WRITES:
            if name in cls.__dict__:
                setattr(cls, name, writing(cls.__dict__[name]))
        if "read" in cls.__dict__:
            cls.read = reading(cls.__dict__["read"])  # type: ignore[method-assign]

    @classmethod
    def input_model(cls) -> type[pydantic.BaseModel]:
        """The pydantic input model (built on first use, so importing costs nothing)."""
        if "model" not in cls.__dict__ and hasattr(cls, "args"):
            cls.model = cls.args.model()
        return cls.model

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        props = {k: v for k, v in news.items() if k != PROVIDER_KEY}
        parsed, failures = validate(self.input_model(), props)
        if parsed is not None:  # normalised inputs (defaults filled in) are what the engine stores and diffs
            return CheckResult(parsed.model_dump(mode="json", exclude_none=True), [])
        if failures:
            return CheckResult(props, failures)
        # Only values unknown at preview stopped validation: the defaults still fill in what was not
        # given, or the preview would compare stored inputs (defaults included) with inputs lacking
        # them and show changes (even replaces) of fields nobody touched.
        return CheckResult({**self.defaults(), **{k: v for k, v in props.items() if v is not None}}, [])

    def defaults(self) -> dict[str, Any]:
        """The inputs' defaults, as the validated inputs carry them."""
        fields = self.input_model().model_fields.items()
        filled = {n: f.get_default(call_default_factory=True) for n, f in fields if not f.is_required()}
        return {n: v for n, v in pydantic_core.to_jsonable_python(filled).items() if v is not None}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news, self.table)

    # --- what every provider does the same way ------------------------------------------------

    def label(self, props: Mapping[str, Any]) -> str:
        """How messages name the resource: its kind and name."""
        name = props.get(self.label_field)
        return f"{self.table.resource} {name!r}" if name else self.table.resource

    def parsed(self, props: Mapping[str, Any]) -> pydantic.BaseModel:
        """Validated inputs of a CRUD call, as the typed model."""
        return parse(self.input_model(), props, self.label(props))

    def inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Validated, normalised inputs (defaults filled in) of a CRUD call."""
        return self.parsed(props).model_dump(mode="json", exclude_none=True)

    def gone(self) -> ReadResult:
        """What `read` answers for an object the backend no longer has: the engine recreates it."""
        return ReadResult("", {})

    def managed(self, outputs: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
        """`outputs` without the optional inputs left undeclared (and without Nones).

        Backends fill in defaults for what they are not told (a network speed, a domain): those
        are not managed, so they must not show as a diff ("remove") on every run.
        """
        drop = {f.name for f in self.table.inputs if declared.get(f.name) is None}
        return {k: v for k, v in outputs.items() if k not in drop and v is not None}

    def read_result(
        self, obj_id: str, outputs: Mapping[str, Any], declared: Mapping[str, Any] | None = None
    ) -> ReadResult:
        """`declared` is the state `read` was given (what the program declared last time); with
        it, undeclared optional inputs are dropped (`managed`)."""
        kept = dict(outputs) if declared is None else self.managed(outputs, declared)
        return ReadResult(obj_id, kept, inputs=self.table.input_props(kept))


class Provider(TableProvider, Generic[S]):
    """A `TableProvider` with the settings of its backend (`<project>:<section>`).

    Nothing here is pickled but the class reference: `_settings` is set in the provider process
    by `configure()` (or by tests through `configure_with`) and never leaves it.
    """

    settings_model: ClassVar[type[BackendSettings]]
    _settings: S | None = None

    @property
    def section(self) -> str:
        return self.settings_model.section

    def configure(self, req: ConfigureRequest) -> None:
        stack_config(functools.partial(config_section, req))  # for the early logins (providers._core.cache)
        raw = config_section(req, self.section)
        if raw:
            self._settings = self.settings_model.from_config(raw)  # type: ignore[assignment]

    def configure_with(self, settings: S) -> None:
        """Configure without the engine (tests and tools)."""
        self._settings = settings

    def settings(self, props: Mapping[str, Any] | None = None) -> S:
        """The backend's settings; without them, an `InputError` naming the config object."""
        if self._settings is None:
            try:  # a backend whose settings all have defaults needs no config object
                self._settings = self.settings_model.model_validate({})  # type: ignore[assignment]
            except pydantic.ValidationError:
                required = [
                    info.alias or name
                    for name, info in self.settings_model.model_fields.items()
                    if info.is_required()
                ]
                raise InputError(
                    self.label(props or {}),
                    "config",
                    None,
                    f"no {self.section} settings: set the stack config object '<project>:{self.section}' "
                    f"= {{{', '.join(repr(r) for r in required)}}} (secrets with --secret)",
                ) from None
        assert self._settings is not None
        return self._settings
