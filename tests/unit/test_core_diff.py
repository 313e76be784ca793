"""The pure diff of the shared core: (old outputs, new inputs, table) -> changes and replaces."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from providers._core import Change, Field, FieldChange, Table, diff, diff_fields, is_unknown

TABLE = Table(
    "test.Thing",
    (
        Field("name", change=Change.REPLACE),
        Field("size", normalize=int),
        Field("labels"),
        Field("password", secret=True),
        Field("uuid", change=Change.OUTPUT),
    ),
    delete_before_replace=True,
)

OLD = {"__provider": "x", "name": "a", "size": 3, "labels": {"k": "v"}, "password": "p", "uuid": "u-1"}


@pytest.mark.parametrize(
    ("news", "expected"),
    [
        ({"name": "a", "size": 3, "labels": {"k": "v"}, "password": "p"}, []),
        # numbers arrive from the engine as floats, from APIs as strings
        ({"name": "a", "size": 3.0, "labels": {"k": "v"}, "password": "p"}, []),
        ({"name": "a", "size": "3", "labels": {"k": "v"}, "password": "p"}, []),
        (
            {"name": "a", "size": 4, "labels": {"k": "v"}, "password": "p"},
            [FieldChange("change", "size", 3, 4, False)],
        ),
        (
            {"name": "b", "size": 3, "labels": {"k": "v"}, "password": "p"},
            [FieldChange("change", "name", "a", "b", True)],
        ),
        (
            {"name": "a", "size": 3, "password": "p"},
            [FieldChange("remove", "labels", {"k": "v"}, None, False)],
        ),
        (
            {"name": "a", "size": 3, "labels": {"k": "v"}},
            [FieldChange("remove", "password", "p", None, False)],
        ),
        # an output in the new bag is not an input change
        ({"name": "a", "size": 3, "labels": {"k": "v"}, "password": "p", "uuid": "other"}, []),
    ],
)
def test_diff_fields(news: dict[str, Any], expected: list[FieldChange]) -> None:
    assert diff_fields(OLD, {"__provider": "y", **news}, TABLE) == expected


def test_unknown_is_a_change_and_a_replace_on_replace_only_fields() -> None:
    news = {"name": Unknown(), "size": UNKNOWN, "labels": {"k": Unknown()}, "password": "p"}
    result = diff(OLD, news, TABLE)
    assert result.changes is True
    assert result.replaces == ["name"]
    assert result.delete_before_replace is True


def test_update_only_diff_result() -> None:
    result = diff(OLD, {**OLD, "size": 5}, TABLE)
    assert (result.changes, result.replaces, result.delete_before_replace) == (True, [], None)
    assert result.stables == ["name"]


def test_no_change_result() -> None:
    result = diff(OLD, dict(OLD), TABLE)
    assert result.changes is False
    assert result.replaces == []


@pytest.mark.parametrize(
    ("value", "unknown"),
    [
        (UNKNOWN, True),
        (Unknown(), True),
        ({"a": [1, Unknown()]}, True),
        ([{"b": UNKNOWN}], True),
        ("x", False),
        (None, False),
    ],
)
def test_is_unknown(value: Any, unknown: bool) -> None:
    assert is_unknown(value) is unknown


def test_table_payloads() -> None:
    t = Table("t.T", (Field("pg_num", api="pg_placement_num"), Field("id", change=Change.OUTPUT)))
    assert t.to_api({"pg_num": 8, "id": "x"}) == {"pg_placement_num": 8}
    assert t.from_api({"pg_placement_num": 8, "id": "x", "extra": 1}) == {"pg_num": 8, "id": "x"}
    assert t.input_props({"pg_num": 8, "id": "x"}) == {"pg_num": 8}
    assert t.declared({"pg_num": 8}) == {"pg_num": 8, "id": None}
    with pytest.raises(TypeError, match="unknown properties"):
        t.declared({"pgnum": 8})
    with pytest.raises(ValueError, match="duplicate"):
        Table("t.Dup", (Field("a"), Field("a")))


def test_declared_reads_dataclass_args_without_copying_outputs() -> None:
    import dataclasses

    @dataclasses.dataclass
    class Args:
        pg_num: object

    class Uncopyable:
        def __deepcopy__(self, memo: object) -> None:
            raise AssertionError("deep-copied")

    value = Uncopyable()
    t = Table("t.T", (Field("pg_num"), Field("id", change=Change.OUTPUT)))
    assert t.declared(Args(pg_num=value)) == {"pg_num": value, "id": None}
