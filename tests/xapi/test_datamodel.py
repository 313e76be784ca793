"""Pure tests: typed wire coding, record defaults and the state tables."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from lab.xapi.datamodel import NULL_REF, datamodel, split_map
from lab.xapi.models import PBD_TRANSITIONS, ROLE_TRANSITIONS, TASK_TERMINAL, TASK_TRANSITIONS


@pytest.mark.parametrize(
    ("value", "typ", "xml", "json"),
    [
        (1500, "int", "1500", 1500),
        (-1, "int", "-1", -1),
        (None, "int", "0", 0),
        (0.5, "float", 0.5, 0.5),
        (True, "bool", True, True),
        (None, "void", "", ""),
        (None, "host ref", NULL_REF, NULL_REF),
        ("lacp", "enum bond_mode", "lacp", "lacp"),
        ([1, 2], "int set", ["1", "2"], [1, 2]),
        ({"a": 1}, "(string -> int) map", {"a": "1"}, {"a": 1}),
        ({5: "x"}, "(int -> string) map", {"5": "x"}, {"5": "x"}),
    ],
)
def test_encode(value: Any, typ: str, xml: Any, json: Any) -> None:
    dm = datamodel()
    assert dm.encode(value, typ, "xml") == xml
    assert dm.encode(value, typ, "json") == json


def test_datetime_is_an_xmlrpc_datetime_and_a_json_string() -> None:
    dm = datamodel()
    assert isinstance(dm.encode("20260101T00:00:00Z", "datetime", "xml"), xmlrpc.client.DateTime)
    assert dm.encode("20260101T00:00:00Z", "datetime", "json") == "20260101T00:00:00Z"


@pytest.mark.parametrize(
    ("value", "typ", "expected"),
    [
        ("1500", "int", 1500),
        (1500, "int", 1500),
        ("-1", "int", -1),
        (True, "bool", True),
        ("true", "bool", True),
        (["a"], "string set", ["a"]),
        ({"k": "v"}, "(string -> string) map", {"k": "v"}),
        ("active-backup", "enum bond_mode", "active-backup"),
        ({"name_label": "n", "MTU": "9000", "bogus": 1}, "network record", {"name_label": "n", "MTU": 9000}),
    ],
)
def test_decode(value: Any, typ: str, expected: Any) -> None:
    assert datamodel().decode(value, typ) == expected


@pytest.mark.parametrize(
    ("value", "typ"),
    [("x", "int"), (True, "int"), (1500.0, "int"), ("yes", "bool"), ("x", "string set"), ("bogus", "enum bond_mode"),
     (None, "string"), (3, "host ref")],
)
def test_decode_refuses(value: Any, typ: str) -> None:
    with pytest.raises(TypeError):
        datamodel().decode(value, typ)


def test_split_map() -> None:
    assert split_map("(string -> host ref) map") == ("string", "host ref")


def test_default_records_carry_every_field() -> None:
    dm = datamodel()
    task = dm.default_record("task")
    assert set(task) == set(dm.classes["task"].fields)
    assert task["backtrace"] == "()" and task["subtask_of"] == NULL_REF and task["error_info"] == []
    assert dm.default_record("network")["MTU"] == 1500
    assert dm.default_record("VLAN")["tag"] == -1


def test_state_tables() -> None:
    assert all(state not in TASK_TERMINAL for state, _ in TASK_TRANSITIONS)
    assert set(TASK_TRANSITIONS.values()) == set(TASK_TERMINAL)
    assert {s for s, _ in ROLE_TRANSITIONS} | set(ROLE_TRANSITIONS.values()) == {"master", "member"}
    assert all(PBD_TRANSITIONS[(attached, "plug")] for attached in (False, True))
    assert not any(PBD_TRANSITIONS[(attached, "unplug")] for attached in (False, True))
