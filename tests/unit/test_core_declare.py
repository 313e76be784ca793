"""The core's one declaration per field, its settings base and its generic lifecycle, without a backend."""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar, Literal

import pulumi
import pydantic
import pytest
from pydantic import SecretStr

from providers._core import (
    Args,
    BackendSettings,
    Change,
    InputError,
    Lifecycle,
    Obj,
    Permanent,
    Policy,
    arg,
    output,
)


class ThingArgs(Args, resource="test.Thing", delete_before_replace=True):
    """A thing."""

    zone_id: pulumi.Input[str] = arg(api="zoneid", change=Change.REPLACE, min_length=1)
    """Id of the zone."""
    name: pulumi.Input[str] = arg(min_length=1)
    """Name; renamed in place."""
    gateway: pulumi.Input[str] | None = arg(default=None, check=ipaddress.IPv4Address)
    """A gateway."""
    kind: pulumi.Input[str] = arg(default="a", check=Literal["a", "b"])
    """a or b."""
    password: pulumi.Input[str] | None = arg(default=None, secret=True)
    """Secret."""
    state: pulumi.Output[str] = output(api="allocationstate")
    """Computed."""


def test_the_table_follows_from_the_declaration() -> None:
    table = ThingArgs.table()
    assert table.resource == "test.Thing" and table.delete_before_replace
    assert [f.name for f in table.inputs] == ["zone_id", "name", "gateway", "kind", "password"]
    assert [f.name for f in table.outputs] == ["state"]
    assert table["zone_id"].api_name == "zoneid" and table["zone_id"].change is Change.REPLACE
    assert table["state"].api_name == "allocationstate"
    assert table.secrets == ["password"]


def test_the_input_model_follows_from_the_declaration() -> None:
    model = ThingArgs.model()
    ok = model.model_validate({"zone_id": "z", "name": "n", "gateway": "10.0.0.1"})
    assert ok.model_dump(mode="json", exclude_none=True) == {"zone_id": "z", "name": "n", "gateway": "10.0.0.1",
                                                              "kind": "a"}
    for bad in ({"zone_id": "", "name": "n"}, {"zone_id": "z", "name": "n", "gateway": "x"},
                {"zone_id": "z", "name": "n", "kind": "c"}, {"zone_id": "z", "name": "n", "colour": 1},
                {"zone_id": "z", "name": "n", "state": "Enabled"}):
        with pytest.raises(pydantic.ValidationError):
            model.model_validate(bad)
    assert model.model_fields["name"].description == "Name; renamed in place."


def test_args_are_keyword_only_and_outputs_are_not_arguments() -> None:
    args = ThingArgs(zone_id="z", name="n")
    assert args.props() == {"zone_id": "z", "name": "n", "gateway": None, "kind": "a", "password": None}
    assert ThingArgs.table().declared(args)["state"] is None
    with pytest.raises(TypeError):
        ThingArgs("z", "n")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ThingArgs(zone_id="z", name="n", state="x")  # type: ignore[call-arg]


class DemoSettings(BackendSettings):
    section = "demo"
    endpoint: str
    secret_key: SecretStr
    job_timeout: float = 900.0


def test_settings_parse_camel_case_and_name_the_key() -> None:
    s = DemoSettings.from_config({"endpoint": "http://x", "secretKey": "TOPSECRET", "jobTimeout": 5})
    assert s.job_timeout == 5.0 and "TOPSECRET" not in repr(s)
    with pytest.raises(InputError) as e:
        DemoSettings.from_config({"endpoint": "http://x", "secretKey": "S", "jobTimout": 5})
    assert e.value.field == "demo.jobTimout" and "unknown keys" in e.value.reason
    with pytest.raises(InputError) as e:
        DemoSettings.from_config({"endpoint": "http://x", "secretKey": 12345})
    assert e.value.field == "demo.secretKey" and "12345" not in str(e.value)


# --- the generic lifecycle over a dict "backend" ----------------------------------------------


class Backend:
    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.calls: list[str] = []


class ThingProvider(Lifecycle[DemoSettings, Backend]):
    args: ClassVar[type[Args]] = ThingArgs
    settings_model = DemoSettings

    def client(self, props: Any) -> Backend:
        del props
        return BACKEND

    def policy(self, client: Backend) -> Policy:
        del client
        return Policy("test.Thing", timeout=0)

    def fetch(self, client: Backend, obj_id: str) -> Obj | None:
        return client.objects.get(obj_id)

    def find(self, client: Backend, wanted: Obj) -> Obj | None:
        return next((o for o in client.objects.values() if o["name"] == wanted["name"]), None)

    def make(self, client: Backend, wanted: Obj) -> Obj:
        client.calls.append("make")
        obj = {"id": str(len(client.objects) + 1), **self.table.to_api(wanted), "allocationstate": "Disabled"}
        client.objects[obj["id"]] = obj
        return obj

    def apply(self, client: Backend, obj_id: str, changed: set[str], current: Obj, wanted: Obj) -> Obj | None:
        del current
        client.calls.append(f"apply {sorted(changed)}")
        client.objects[obj_id].update(self.table.to_api(wanted, sorted(changed)))
        return None

    def destroy(self, client: Backend, obj: Obj) -> None:
        client.calls.append("destroy")
        del client.objects[obj["id"]]


BACKEND = Backend()


def test_create_adopts_update_applies_only_changes_delete_tolerates_gone() -> None:
    BACKEND.objects.clear()
    BACKEND.calls.clear()
    p = ThingProvider()
    made = p.create({"zone_id": "z", "name": "n"})
    again = p.create({"zone_id": "z", "name": "n"})  # adopted by name, not duplicated
    assert made.id == again.id == "1" and BACKEND.calls == ["make"]
    assert made.outs == {"zone_id": "z", "name": "n", "kind": "a", "state": "Disabled"}
    updated = p.update("1", dict(made.outs or {}), {"zone_id": "z", "name": "n", "kind": "b"})
    assert BACKEND.calls[-1] == "apply ['kind']" and (updated.outs or {})["kind"] == "b"
    read = p.read("1", dict(updated.outs or {}))
    assert read.id == "1" and read.inputs == {"zone_id": "z", "name": "n", "kind": "b"}
    p.delete("1", {})
    p.delete("1", {})
    assert BACKEND.calls.count("destroy") == 1
    assert p.read("1", {}).id == ""


def test_missing_settings_name_the_config_object() -> None:
    class Needs(ThingProvider):
        pass

    with pytest.raises(InputError, match=r"no demo settings: set the stack config object '<project>:demo'"):
        Needs().settings({"name": "n"})


def test_bad_inputs_fail_before_any_call() -> None:
    BACKEND.calls.clear()
    with pytest.raises(InputError) as e:
        ThingProvider().create({"zone_id": "z", "name": "n", "gateway": "nope"})
    assert e.value.field == "gateway" and BACKEND.calls == []


def test_a_replace_only_resource_changes_nothing_in_place() -> None:
    class OnlyReplaceArgs(Args, resource="test.Only"):
        url: pulumi.Input[str] = arg(change=Change.REPLACE)
        """A URL."""

    class Only(ThingProvider):
        args = OnlyReplaceArgs

    with pytest.raises(Permanent, match="nothing of it changes in place"):
        Only().update("1", {"url": "a"}, {"url": "b"})


def _docstrings_from_getsource(cls: type) -> dict[str, str]:
    """What `docstrings` answered before it cached each module's tree: `inspect.getsource` per class."""
    import ast
    import inspect
    import itertools
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def test_field_docstrings_are_those_of_the_source() -> None:
    """Every backend's Args (the module trees parsed once) and a class made inside a function."""
    import importlib
    import pkgutil

    import providers
    from providers._core.declare import docstrings

    for module in pkgutil.walk_packages(providers.__path__, "providers."):
        importlib.import_module(module.name)

    def every(cls: type) -> list[type]:
        found: list[type] = []
        subs: list[type] = cls.__subclasses__()
        for sub in subs:
            found += [sub, *every(sub)]
        return found

    class LocalArgs(Args, resource="test.Local"):
        size: pulumi.Input[int] = arg(default=1)
        """Made in a test function."""

    classes = every(Args)
    assert len(classes) > 20 and LocalArgs in classes
    for cls in classes:
        assert docstrings(cls) == _docstrings_from_getsource(cls), cls.__qualname__
    assert docstrings(LocalArgs) == {"size": "Made in a test function."}
    assert docstrings(ThingArgs)["name"] == "Name; renamed in place."
