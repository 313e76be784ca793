"""Every served message exists in the XenAPI datamodel with the same parameters; every error the
emulator can raise has a code and parameter list from xenapi-errors.json."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from lab.xapi.conformance import check_calls
from lab.xapi.datamodel import datamodel
from lab.xapi.errors import XapiError, error_table
from lab.xapi.responses import HANDLERS, Call, check_conformance, served_messages

PACKAGE = Path(__file__).resolve().parents[2] / "lab" / "xapi"
SHARED_DATAMODEL = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "xenapi-datamodel.json"


def test_explicit_handlers_take_the_datamodel_parameters() -> None:
    assert check_conformance(datamodel()) == []


def test_every_served_message_is_in_the_full_datamodel_with_the_same_parameters() -> None:
    dm = datamodel()
    served = served_messages(dm)
    assert len(served) > 300
    for name, spec in served.items():
        full = dm.all_messages[name]
        assert [(p.name, p.type, p.required) for p in full] == [(p.name, p.type, p.required) for p in spec.params]


@pytest.mark.skipif(not SHARED_DATAMODEL.exists(), reason="shared reference not present on this machine")
def test_bundled_reference_matches_the_shared_datamodel() -> None:
    shared = {
        f"{c['name']}.{m['name']}": [(p["name"], p["type"], bool(p.get("required", True))) for p in m["params"]]
        for c in json.loads(SHARED_DATAMODEL.read_text())
        for m in c["messages"]
    }
    dm = datamodel()
    for name in served_messages(dm):
        assert [(p.name, p.type, p.required) for p in dm.all_messages[name]] == shared[name]


def test_the_modelled_messages_include_what_pools_need() -> None:
    served = served_messages(datamodel())
    needed = {
        "session.login_with_password", "session.logout", "pool.join", "pool.eject", "pool.designate_new_master",
        "pool.set_name_label", "pool.set_default_SR", "pool.create_VLAN", "host.get_all_records",
        "PIF.get_all_records", "network.create", "network.set_MTU", "network.set_name_label", "VLAN.create",
        "VLAN.destroy", "Bond.create", "Bond.destroy", "Bond.set_mode", "SR.create", "SR.forget", "SR.destroy",
        "PBD.plug", "PBD.unplug", "PBD.create", "task.get_status", "task.get_record", "task.get_result",
        "task.get_error_info", "task.destroy", "task.cancel",
    }
    assert needed <= set(served)


def _raised_errors() -> list[tuple[str, int | None, str]]:
    """(code, number of params or None when starred, where) of every XapiError(...) in the package."""
    out = []
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "XapiError"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                rest = node.args[1:]
                n = None if any(isinstance(a, ast.Starred) for a in rest) else len(rest)
                out.append((str(node.args[0].value), n, f"{path.name}:{node.lineno}"))
    return out


def test_every_error_the_emulator_raises_is_documented_with_its_parameter_count() -> None:
    table = error_table()
    raised = _raised_errors()
    assert len(raised) > 30
    for code, n, where in raised:
        assert code in table, f"{where}: {code} is not in xenapi-errors.json"
        if n is not None and table[code] is not None:
            assert n == len(table[code] or ()), f"{where}: {code} takes {table[code]}"


def test_an_undocumented_error_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        XapiError("NO_SUCH_ERROR")
    with pytest.raises(ValueError):
        XapiError("HANDLE_INVALID", "host")  # takes [class, handle]
    assert XapiError("HANDLE_INVALID", "host", "OpaqueRef:x").description == ["HANDLE_INVALID", "host", "OpaqueRef:x"]


def test_handlers_are_registered_only_for_datamodel_messages() -> None:
    dm = datamodel()
    assert all(dm.message(name) is not None for name in HANDLERS)


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (Call("h", "pool.join", {"master_address": "a", "master_username": "u", "master_password": "p"}), None),
        (Call("h", "Async.pool.join", {"master_address": "a", "master_username": "u", "master_password": "p"}),
         None),
        (Call("h", "session.login_with_password", {"uname": "root", "pwd": "x"}), None),
        (Call("h", "VM.no_such", {}), "no such XenAPI message"),
        (Call("h", "Async.task.get_status", {"self": "r"}), "no Async form"),
        (Call("h", "pool.join", {"master_address": "a"}), "required"),
        (Call("h", "pool.join", {"address": "a"}), "parameters"),
    ],
)
def test_check_calls(call: Call, problem: str | None) -> None:
    problems = check_calls([call])
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]
