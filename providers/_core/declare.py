"""One declaration per field: the `...Args` class is the source of everything else.

A resource declares each of its fields exactly once, in its Args class:

    class PodArgs(Args, resource="cloudstack.Pod", delete_before_replace=True):
        zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
        \"\"\"Id of the zone; changing it replaces the pod.\"\"\"
        gateway: pulumi.Input[str] = arg(check=ipaddress.IPv4Address)
        \"\"\"Gateway of the pod's management network.\"\"\"
        allocation_state: pulumi.Output[str] = output(api="allocationstate")
        \"\"\"Computed by CloudStack.\"\"\"

From that one class come:

- the Args dataclass the components construct (keyword-only; mypy sees its signature through
  `dataclass_transform`, the docstrings are the documentation);
- the field `Table` (API name, how a change lands, secret, normalisation): `PodArgs.table()`;
- the pydantic input model `check` validates with: `PodArgs.model()`. A field's validation type
  is `check=` or the `T` of `pulumi.Input[T]`; keyword constraints (`min_length`, `pattern`,
  `gt`, ...) go to `pydantic.Field` (`default_factory=` there fills in a value the Args leaves
  None, so the validated inputs carry it); cross-field validators live on a pydantic base given as
  `checks=` (validators there use `check_fields=False`);
- the secrets (`secret=True`), which the resource passes as `additional_secret_outputs`;
- the output properties (`output()`), which the engine sets on the resource.

This is openstacksdk's `resource.Body("driver_info", type=dict)` in a small table, not its
2,700 lines of descriptors.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import itertools
import linecache
import sys
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Literal, cast, dataclass_transform

import pulumi
import pydantic
import pydantic_core

from .fields import Change, Field, Table, _same

META = "privatecloud"


@dataclasses.dataclass(frozen=True)
class Spec:
    """What one field declares beyond its name, type and default."""

    api: str | None = None
    change: Change = Change.UPDATE
    secret: bool = False
    normalize: Callable[[Any], Any] = _same
    check: Any = None  # the validation type, when not the T of Input[T]
    constraints: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def arg(
    default: Any = dataclasses.MISSING,
    *,
    api: str | None = None,
    change: Change = Change.UPDATE,
    secret: bool = False,
    normalize: Callable[[Any], Any] = _same,
    check: Any = None,
    init: bool = True,
    **constraints: Any,
) -> Any:
    """An input field: its API name, how a change lands, secrecy, normalisation and validation.

    `init=False`: an input the Args computes itself (in `__post_init__`) from what it was given."""
    spec = Spec(api, change, secret, normalize, check, constraints)
    return dataclasses.field(default=default, init=init, metadata={META: spec})


def output(
    *,
    api: str | None = None,
    secret: bool = False,
    normalize: Callable[[Any], Any] = _same,
    init: Literal[False] = False,
) -> Any:
    """A computed field: never an input, set on the resource from the provider's outputs."""
    spec = Spec(api, Change.OUTPUT, secret, normalize)
    return dataclasses.field(default=None, init=init, metadata={META: spec})


def _spec(f: dataclasses.Field[Any]) -> Spec:
    spec = f.metadata.get(META)
    return spec if isinstance(spec, Spec) else Spec()


def _plain(annotation: Any) -> Any:
    """`pulumi.Input[T]` (a union of T, Awaitable[T], Output[T]) -> T; None kept."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kept = [
            a for a in typing.get_args(annotation)
            if typing.get_origin(a) not in (Awaitable, pulumi.Output)
            and a is not pulumi.Output and not isinstance(a, typing.ForwardRef)
        ]
        plain = [_plain(a) for a in kept]
        return plain[0] if len(plain) == 1 else typing.Union[tuple(plain)]  # noqa: UP007
    return annotation


def _annotation(annotation: Any, namespace: dict[str, Any]) -> Any:
    """A field's annotation, evaluated in its module (`pulumi.Input` refers to `Output` lazily)."""
    return eval(annotation, namespace) if isinstance(annotation, str) else annotation


def holds_output(value: Any) -> bool:
    """Whether `value` is, or holds in a dict, list or tuple, a `pulumi.Output`."""
    if isinstance(value, dict):
        return any(holds_output(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_output(v) for v in value)
    return isinstance(value, pulumi.Output)


def secret(value: Any) -> pulumi.Output[Any]:
    """`value` as a secret Output: what `pulumi.Output.secret(value)` gives, for less.

    `Output.secret` unwraps a dict or a list deeply, one Output (and asyncio task) per key and per
    value: a dozen for a BMC section, for each of hundreds of nodes. A value holding no Output has
    nothing to unwrap: one secret apply returns it as it is (known, secret, no dependencies).
    """
    if holds_output(value):
        return pulumi.Output.secret(value)
    return pulumi.Output.secret(True).apply(lambda _: value)


class PulumiInputsBase(pydantic.BaseModel):
    """Base of every generated input model: unknown properties are errors, not dropped."""

    model_config = pydantic.ConfigDict(extra="forbid")


@dataclass_transform(kw_only_default=True, field_specifiers=(arg, output, dataclasses.field))
class Args:
    """Base of every resource's Args class (see the module docstring)."""

    __resource__: ClassVar[str] = ""
    __delete_before_replace__: ClassVar[bool] = False
    __checks__: ClassVar[type[pydantic.BaseModel]] = PulumiInputsBase

    def __init_subclass__(
        cls,
        *,
        resource: str = "",
        delete_before_replace: bool = False,
        checks: type[pydantic.BaseModel] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.__resource__ = resource or cls.__name__.removesuffix("Args")
        cls.__delete_before_replace__ = delete_before_replace
        if checks is not None:
            cls.__checks__ = checks
        dataclasses.dataclass(kw_only=True)(cls)

    @classmethod
    def table(cls) -> Table:
        """The field table (built once per class)."""
        if "__table__" not in cls.__dict__:
            cls.__table__ = _table(cls)
        return cls.__table__

    @classmethod
    def model(cls) -> type[pydantic.BaseModel]:
        """The pydantic input model (built on first use: importing a provider costs nothing)."""
        if "__model__" not in cls.__dict__:
            cls.__model__ = _model(cls)
        return cls.__model__

    def props(self) -> dict[str, Any]:
        """The input fields as a dict (never `asdict`: it deep-copies, and Outputs refuse that)."""
        return {f.name: getattr(self, f.name) for f in _fields(type(self)) if f.init}

    __table__: ClassVar[Table]
    __model__: ClassVar[type[pydantic.BaseModel]]


def _fields(cls: type[Args]) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cast(Any, cls))


def _table(cls: type[Args]) -> Table:
    fields = []
    for f in _fields(cls):
        s = _spec(f)
        fields.append(Field(f.name, api=s.api, change=s.change, secret=s.secret, normalize=s.normalize))
    return Table(cls.__resource__, tuple(fields), delete_before_replace=cls.__delete_before_replace__)


def docstrings(cls: type) -> dict[str, str]:
    """The attribute docstrings of `cls` and its bases (the string right after a field)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            filename = inspect.getsourcefile(klass)
        except (OSError, TypeError):
            continue
        if filename:
            docs.update(_attribute_docs(filename).get(klass.__qualname__, {}))
    return docs


@functools.cache
def _attribute_docs(filename: str) -> dict[str, dict[str, str]]:
    """The attribute docstrings of every class in a source file, by qualified name: one parse per
    file (inspect.getsource parses the whole module again for every class it is asked about)."""
    try:
        tree = ast.parse("".join(linecache.getlines(filename)))
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                name = prefix + node.name
                found.setdefault(name, _class_docs(node))
                visit(node.body, name + ".")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, f"{prefix}{node.name}.<locals>.")

    visit(tree.body, "")
    return found


def _class_docs(node: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    for field, after in itertools.pairwise(node.body):
        if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _model(cls: type[Args]) -> type[pydantic.BaseModel]:
    namespace = vars(sys.modules[cls.__module__])
    docs = docstrings(cls)
    fields: dict[str, Any] = {}
    for f in _fields(cls):
        s = _spec(f)
        if s.change is Change.OUTPUT:
            continue
        kind = s.check if s.check is not None else _plain(_annotation(f.type, namespace))
        if f.default is None and s.check is not None:
            kind = kind | None
        default = ... if f.default is dataclasses.MISSING else f.default
        if "default_factory" in s.constraints:  # the model's default when absent (the Args' stays)
            default = pydantic_core.PydanticUndefined
        fields[f.name] = (kind, pydantic.Field(default, description=docs.get(f.name), **s.constraints))
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{cls.__name__.removesuffix('Args')}Inputs", __base__=cls.__checks__, **fields
    )
    return model
