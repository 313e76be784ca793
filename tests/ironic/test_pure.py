"""Pure tests: the state machine as data, the diff (unknowns, masked passwords, replace once
deployed), the sorted JSON patch, input validation, and the Fleet's bookkeeping."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from providers._core import NotFound, Permanent, Retryable, is_unknown
from providers.ironic import NodeProvider
from providers.ironic import _states as st
from providers.ironic._api import errors
from providers.ironic._walk import Member, Track, advance, report
from providers.ironic.fleet import FleetArgs
from providers.ironic.node import NodeArgs, node_diff, node_patch

BASE: dict[str, Any] = {
    "name": "cmp-01",
    "driver": "fake-hardware",
    "driver_info": {"ipmi_address": "10.0.0.11", "ipmi_password": "s3cret"},
    "properties": {"cpus": 8, "memory_mb": 65536},
    "resource_class": "compute",
    "interfaces": {"boot": "fake"},
    "ports": ["52:54:00:00:01:01"],
    "target_state": "active",
    "instance_info": {"image_source": "http://img/debian.qcow2"},
}


def checked(props: dict[str, Any]) -> dict[str, Any]:
    res = NodeProvider().check({}, props)
    assert not res.failures, res.failures
    return dict(res.inputs)


def outputs(props: dict[str, Any], state: str = "active", **over: Any) -> dict[str, Any]:
    outs = checked(props)
    outs.update(uuid="u-1", provision_state=state, power_state="power on", walk="", **over)
    return outs


# --- the state machine ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("state", "target", "verb"),
    [
        ("enroll", "active", "manage"),
        ("manageable", "available", "provide"),
        ("manageable", "active", "provide"),
        ("available", "active", "active"),
        ("available", "manageable", "manage"),
        ("active", "available", "deleted"),
        ("active", "active", None),
        ("deploy failed", "active", "active"),  # resume a failed deploy
        ("deploy failed", "available", "deleted"),
        ("clean failed", "available", "manage"),
        ("error", "available", "deleted"),
    ],
)
def test_next_verb(state: str, target: str, verb: str | None) -> None:
    assert st.next_verb(state, target) == verb


def test_next_verb_unknown_walk_names_state() -> None:
    with pytest.raises(LookupError, match="rescue"):
        st.next_verb("rescue", "active")


@pytest.mark.parametrize(
    ("state", "target", "heading", "settled"),
    [
        ("active", None, "active", True),
        ("deploying", "active", "active", False),
        ("available", "active", "available", False),  # just asked, conductor not yet started
        ("deploy failed", "active", "deploy failed", True),
        ("cleaning", "available", "available", False),
    ],
)
def test_heading_and_settled(state: str, target: str | None, heading: str, settled: bool) -> None:
    assert st.heading(state, target) == heading
    assert st.settled(state, target) is settled


# --- diff ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "state", "changes", "replaces"),
    [
        ({}, "active", False, []),
        ({"properties": {"cpus": 8.0, "memory_mb": 65536.0}}, "active", False, []),  # engine floats
        ({"ports": ["52:54:00:00:01:01".upper()]}, "active", False, []),
        ({"properties": {"cpus": 16, "memory_mb": 65536}}, "active", True, []),
        ({"driver_info": {"ipmi_address": "10.0.0.99", "ipmi_password": "s3cret"}}, "active", True, []),
        ({"target_state": "available"}, "active", True, []),
        ({"instance_info": {"image_source": "http://img/other.qcow2"}}, "active", True, []),  # rebuild
        ({"timeouts": {"deploy": 60}}, "active", True, []),
        ({"resource_class": "storage"}, "available", True, []),
        ({"resource_class": "storage"}, "active", True, ["resource_class"]),
        ({"driver": "ipmi"}, "manageable", True, []),
        ({"driver": "ipmi"}, "active", True, ["driver"]),
        ({"interfaces": {"boot": "pxe"}}, "deploy failed", True, ["interfaces"]),
        ({"driver": UNKNOWN}, "active", True, ["driver"]),  # preview: unknown -> replace once deployed
        ({"driver": UNKNOWN}, "available", True, []),
        ({"properties": UNKNOWN}, "active", True, []),
    ],
)
def test_diff(change: dict[str, Any], state: str, changes: bool, replaces: list[str]) -> None:
    olds = outputs(BASE, state)
    news = {**checked({**BASE}), **change}
    if not any(v == UNKNOWN for v in change.values()):
        news = checked({**BASE, **change})
    result = node_diff(olds, news)
    assert result.changes is changes
    assert (result.replaces or []) == replaces
    assert result.delete_before_replace is (True if replaces else None)


def test_masked_password_is_not_drift() -> None:
    olds = outputs(BASE, driver_info={"ipmi_address": "10.0.0.11", "ipmi_password": "******"})
    assert node_diff(olds, checked(BASE)).changes is False


def test_masked_password_with_other_change_is_a_change() -> None:
    olds = outputs(BASE, driver_info={"ipmi_address": "10.0.0.12", "ipmi_password": "******"})
    assert node_diff(olds, checked(BASE)).changes is True


# --- the JSON patch (pinned wire format) --------------------------------------------------------

def test_patch_is_sorted_and_keeps_masked_password() -> None:
    live = {
        "name": "cmp-01", "driver": "fake-hardware", "resource_class": "compute", "boot_interface": "fake",
        "driver_info": {"ipmi_address": "10.0.0.11", "ipmi_password": "******", "added_by_ironic": 1},
        "properties": {"cpus": 4, "memory_mb": 65536, "old": "x", "from_inspection": 2},
        "instance_info": {},
    }
    want = NodeArgs.model().model_validate({**BASE, "resource_class": "big"})
    before = {**BASE, "properties": {**BASE["properties"], "old": "x"}}
    assert node_patch(live, want, before) == [
        {"op": "add", "path": "/instance_info/image_source", "value": "http://img/debian.qcow2"},
        {"op": "add", "path": "/properties/cpus", "value": 8},
        {"op": "remove", "path": "/properties/old"},
        {"op": "replace", "path": "/resource_class", "value": "big"},
    ]


def test_patch_of_adopted_node_sends_masked_password() -> None:
    live = {"name": "cmp-01", "driver": "fake-hardware", "resource_class": "compute", "boot_interface": "fake",
            "driver_info": {"ipmi_address": "10.0.0.11", "ipmi_password": "******"},
            "properties": {"cpus": 8, "memory_mb": 65536},
            "instance_info": {"image_source": "http://img/debian.qcow2"}}
    want = NodeArgs.model().model_validate(BASE)
    assert node_patch(live, want, None) == [
        {"op": "add", "path": "/driver_info/ipmi_password", "value": "s3cret"},
    ]
    assert node_patch(live, want, BASE) == []


def test_patch_escapes_json_pointer() -> None:
    want = NodeArgs.model().model_validate({**BASE, "properties": {"a/b~c": 1}})
    ops = node_patch({"properties": {}}, want, {})
    assert {"op": "add", "path": "/properties/a~1b~0c", "value": 1} in ops


# --- validation: field, value and reason --------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ports": ["52:54:00:00:01"]}, "ports", "'52:54:00:00:01' is not a MAC address"),
        ({"ports": ["52:54:00:00:01:01", "52-54-00-00-01-01"]}, "ports", "listed twice"),
        ({"target_state": "deployed"}, "target_state", "'deployed'"),
        ({"instance_info": None}, "", "needs instance_info"),
        ({"instance_info": {"image_source": "a", "boot_iso": "b"}}, "instance_info", "exactly one"),
        ({"instance_info": {"image_source": "a", "kernel_append_params": "x"}}, "instance_info", "boot_iso"),
        ({"name": "bad name"}, "name", "'bad name'"),
        ({"timeouts": {"deploy": -1}}, "timeouts.deploy", "-1"),
        ({"interfaces": {"boots": "pxe"}}, "interfaces.boots.[key]", "boots"),
        ({"colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_check_names_field_value_reason(change: dict[str, Any], field: str, words: str) -> None:
    res = NodeProvider().check({}, {**BASE, **change})
    assert res.failures, "expected a failure"
    f = res.failures[0]
    assert f.property == field
    assert words in f.reason


def test_check_tolerates_unknowns_at_preview() -> None:
    res = NodeProvider().check({}, {**BASE, "driver_info": UNKNOWN, "ports": UNKNOWN})
    assert res.failures == []


def test_iso_deploy_is_valid() -> None:
    props = {**BASE, "instance_info": {"boot_iso": "http://iso/xcp-ng.iso", "kernel_append_params": "install"}}
    assert checked(props)["instance_info"]["boot_iso"] == "http://iso/xcp-ng.iso"


# --- the Fleet ----------------------------------------------------------------------------------

def node(uuid: str, state: str, target: str | None = None, err: str | None = None) -> dict[str, Any]:
    return {"uuid": uuid, "provision_state": state, "target_provision_state": target, "last_error": err}


def member(i: int, target: str = "active") -> Member:
    return Member(id=f"u{i}", name=f"n{i}", target=target)  # type: ignore[arg-type]


def test_fleet_advance_issues_due_verbs_and_reports_failures() -> None:
    tracks = [Track(member(i)) for i in range(5)]
    tracks[3].watched = True  # we deployed it: its failure is ours
    nodes = {
        "u0": node("u0", "available"),
        "u1": node("u1", "deploying", "active"),
        "u2": node("u2", "deploy failed", "active", "boom"),  # failed before this run: resume
        "u3": node("u3", "deploy failed", "active", "disk on fire"),
        # u4 vanished
    }
    due = advance(tracks, nodes, now=0.0)
    assert [(t.member.name, v) for t, v in due] == [("n0", "active"), ("n2", "active")]
    assert tracks[1].phase == "deploy" and tracks[1].deadline == 3600
    assert "disk on fire" in (tracks[3].failed or "") and "deploy failed" in (tracks[3].failed or "")
    assert "no longer exists" in (tracks[4].failed or "")
    message = report(tracks) or ""
    assert message.startswith("2 of 5 nodes failed") and "n3" in message and "n4" in message


def test_fleet_advance_enforces_phase_deadline() -> None:
    t = Track(member(0))
    advance([t], {"u0": node("u0", "deploying", "active")}, now=0.0)
    advance([t], {"u0": node("u0", "deploying", "active")}, now=3599.0)
    assert t.open
    advance([t], {"u0": node("u0", "deploying", "active")}, now=3601.0)
    assert "timeouts.deploy" in (t.failed or "")


def test_fleet_done_at_target() -> None:
    t = Track(member(0, "available"))
    assert advance([t], {"u0": node("u0", "available")}, now=0.0) == []
    assert t.done and report([t]) is None


def test_fleet_inputs_refuse_duplicates() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        FleetArgs.model().model_validate({"members": [member(1), member(1)]})


# --- the error mapping and unknowns on the wire -------------------------------------------------

def _http(status: int, message: str) -> Exception:
    """The exception python-ironicclient raises for an error answer (as its http layer builds it)."""
    from ironicclient import exc

    response = SimpleNamespace(status_code=status, headers={"Content-Type": "application/json"},
                               json=lambda: {"error_message": json.dumps({"faultstring": message})}, text="")
    return exc.from_response(response, message, None, "PUT", "http://ironic/v1/nodes/x")  # type: ignore[arg-type,call-arg]


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (404, "Node x could not be found.", NotFound),
        (409, "Node x is locked by host ironic-lab, please retry after the current operation is completed.",
         Retryable),
        (409, "A node with name n1 already exists.", Permanent),
        (400, 'The requested action "active" can not be performed on node x while it is in state "enroll".',
         Permanent),
        (503, "Service Unavailable", Retryable),
    ],
)
def test_errors_map_to_taxonomy_with_api_words(status: int, message: str, kind: type[Exception]) -> None:
    with pytest.raises(kind) as caught, errors("ironic.Node n1", "do it"):
        raise _http(status, message)
    assert message in str(caught.value) and "ironic.Node n1: do it" in str(caught.value)


def test_connection_refused_is_retryable() -> None:
    from keystoneauth1 import exceptions as ks_exc

    with pytest.raises(Retryable, match="cannot reach Ironic"), errors("ironic.Node n1", "get"):
        raise ks_exc.ConnectFailure("refused")


def test_nested_unknown_objects_are_unknowns() -> None:
    from pulumi.output import Unknown

    assert is_unknown({"members": [Unknown(), {"id": Unknown()}]})
    res = NodeProvider().check({}, {**BASE, "ports": [Unknown()]})
    assert res.failures == []
    assert NodeProvider().diff("id", {**BASE, "uuid": "u"}, {**BASE, "ports": [Unknown()]}).changes is True


def test_every_request_is_bounded_by_the_settings_http_timeout() -> None:
    """An Ironic that takes a request and never answers fails it after `httpTimeout` seconds
    (ironicclient's session has no timeout unless given one)."""
    from providers.ironic._api import client
    from providers.ironic.settings import IronicSettings

    settings = IronicSettings.model_validate({"endpoint": "http://127.0.0.1:9", "httpTimeout": 7})
    assert client(settings.endpoint, settings.http_timeout).http_client.session.timeout == 7.0
    assert IronicSettings.model_validate({"endpoint": "http://127.0.0.1:9"}).http_timeout == 60.0
