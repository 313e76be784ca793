"""XML-RPC introspection (system.listMethods) and the event API (event.from with tokens,
event.inject, the legacy register/next/unregister, get_current_id), through the stock XenAPI client,
as clients that watch a pool (Xen Orchestra's xen-api) use them."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab
from lab.xapi.conformance import check_calls
from lab.xapi.datamodel import datamodel
from tests.xapi.conftest import PASSWORD

Login = Callable[[int], Any]
TOKEN = re.compile(r"^\d{20},\d{20}$")
NET = {"name_label": "ev", "name_description": "", "MTU": "1500", "other_config": {}}


def _jsonrpc(url: str, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}).encode()
    req = urllib.request.Request(url + "jsonrpc", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer = json.loads(resp.read())
    assert "error" not in answer, answer
    return answer["result"]


def test_list_methods_names_what_is_served_without_a_session(lab: XapiLab) -> None:
    answer: Any = xmlrpc.client.ServerProxy(lab.hosts[0].url).system.listMethods()
    assert answer["Status"] == "Success"
    methods = answer["Value"]
    assert methods == sorted(methods)
    dm = datamodel()
    assert all(dm.exists(m) for m in methods if m != "system.listMethods")
    # xen-api takes the classes to watch from the get_all_records it finds here.
    classes = {m.split(".")[0] for m in methods if m.endswith(".get_all_records")}
    assert classes == {"pool", "host", "host_metrics", "network", "PIF", "Bond", "VLAN", "SR", "PBD",
                       "task"}
    assert {"event.from", "event.inject", "event.register", "event.next", "system.listMethods"} <= set(methods)
    assert "VM.get_all_records" not in methods  # not modelled: not listed (real xapi lists its every message)
    assert _jsonrpc(lab.hosts[0].url, "system.listMethods") == methods
    assert check_calls(lab.request_log) == []


def test_event_from_empty_token_gives_every_object_then_only_changes(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    event_from = getattr(x.event, "from")  # `from` is a Python keyword
    batch = event_from(["network", "PIF"], "", 0.0)
    assert TOKEN.match(batch["token"])
    events = batch["events"]
    networks, pifs = x.network.get_all_records(), x.PIF.get_all_records()
    assert {(e["class"], e["ref"]) for e in events} == {("network", r) for r in networks} | {
        ("pif", r) for r in pifs}  # class names lower-cased, as xapi writes them
    assert {e["operation"] for e in events} == {"add"}
    for e in events:
        record = networks.get(e["ref"]) or pifs[e["ref"]]
        assert e["snapshot"] == record and e["obj_uuid"] == record["uuid"]
    assert batch["valid_ref_counts"] == {"network": len(networks), "pif": len(pifs)}

    token = batch["token"]
    assert event_from(["*"], token, 0.0)["events"] == []  # nothing happened since
    net = x.network.create(NET)
    x.network.set_name_label(net, "renamed")
    token2 = event_from(["network"], token, 0.0)
    (added,) = token2["events"]
    assert (added["operation"], added["ref"], added["snapshot"]["name_label"]) == ("add", net, "renamed")
    x.network.set_name_description(net, "d")
    (modified,) = event_from(["network/" + net], token2["token"], 0.0)["events"]
    assert (modified["operation"], modified["snapshot"]["name_description"]) == ("mod", "d")
    uuid = x.network.get_uuid(net)
    before = event_from(["network"], "", 0.0)["token"]
    x.network.destroy(net)
    (deleted,) = event_from(["NETWORK"], before, 0.0)["events"]  # class names in any case
    assert (deleted["operation"], deleted["ref"], deleted["obj_uuid"]) == ("del", net, uuid)
    assert "snapshot" not in deleted
    assert int(deleted["id"]) > int(modified["id"]) > int(added["id"])
    assert check_calls(lab.request_log) == []


def test_event_from_waits_for_a_change(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    event_from = getattr(x.event, "from")
    token = event_from(["network"], "", 0.0)["token"]
    got: list[Any] = []
    # A second client waits (up to 30 s) for network events; this one then makes one.
    waiter = threading.Thread(target=lambda: got.append(getattr(login(0).xenapi.event, "from")(
        ["network"], token, 30.0)))
    waiter.start()
    while not any(c.method == "event.from" and c.params.get("timeout") == 30.0 for c in lab.request_log):
        threading.Event().wait(0.01)  # until the waiter's call has reached the emulator
    net = x.network.create(NET)
    waiter.join(timeout=30)
    (batch,) = got
    assert [(e["operation"], e["ref"]) for e in batch["events"]] == [("add", net)]


def test_task_completion_is_an_event(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    event_from = getattr(x.event, "from")
    lab.clock.hold("network.create")
    token = event_from(["task"], "", 0.0)["token"]
    task = x.Async.network.create(NET)
    (created,) = event_from(["task"], token, 0.0)["events"]
    assert (created["operation"], created["snapshot"]["status"]) == ("add", "pending")
    seen = event_from(["task"], token, 0.0)["token"]
    lab.clock.release(task)
    (done,) = event_from(["task"], seen, 0.0)["events"]
    assert (done["operation"], done["ref"], done["snapshot"]["status"]) == ("mod", task, "success")


def test_event_inject_gives_the_token_xen_api_starts_from(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    event_from = getattr(x.event, "from")
    (pool,) = x.pool.get_all()
    token = x.event.inject("pool", pool)
    assert TOKEN.match(token)
    assert event_from(["pool", "host"], token, 0.0)["events"] == []
    x.event.inject("pool", pool)
    (touched,) = event_from(["pool", "host"], token, 0.0)["events"]
    assert (touched["class"], touched["operation"], touched["ref"]) == ("pool", "mod", pool)
    with pytest.raises(XenAPI.Failure) as e:
        x.event.inject("pool", "OpaqueRef:nothing")
    assert e.value.details == ["HANDLE_INVALID", "pool", "OpaqueRef:nothing"]


def test_event_from_refuses_bad_tokens_and_subscriptions(lab: XapiLab, login: Login) -> None:
    x = login(0).xenapi
    event_from = getattr(x.event, "from")
    with pytest.raises(XenAPI.Failure) as e:
        event_from(["network"], "not-a-token", 0.0)
    assert e.value.details == ["EVENT_FROM_TOKEN_PARSE_FAILURE", "not-a-token"]
    with pytest.raises(XenAPI.Failure) as e:
        event_from(["network/a/b"], "", 0.0)
    assert e.value.details == ["EVENT_SUBSCRIPTION_PARSE_FAILURE", "network/a/b"]


def test_legacy_register_next_unregister(lab: XapiLab, login: Login) -> None:
    s = login(0)
    x = s.xenapi
    with pytest.raises(XenAPI.Failure) as e:
        x.event.next()
    assert e.value.details == ["SESSION_NOT_REGISTERED", s.handle]
    start = int(x.event.get_current_id())
    x.event.register(["network"])
    net = x.network.create(NET)
    x.SR.get_all()  # not a change
    (added,) = x.event.next()
    assert (added["class"], added["operation"], added["ref"]) == ("network", "add", net)
    assert int(x.event.get_current_id()) > start
    x.event.unregister(["network"])
    x.event.register(["pif"])
    pif = x.PIF.get_all()[0]
    x.PIF.add_to_other_config(pif, "k", "v")
    x.network.set_name_label(net, "unseen")  # unregistered class
    (changed,) = x.event.next()
    assert (changed["class"], changed["ref"], changed["snapshot"]["other_config"]) == ("pif", pif, {"k": "v"})
    assert check_calls(lab.request_log) == []


def test_events_over_jsonrpc_carry_numbers(lab: XapiLab) -> None:
    url = lab.hosts[0].url
    session = _jsonrpc(url, "session.login_with_password", "root", PASSWORD, "1.0", "t")
    batch = _jsonrpc(url, "event.from", session, ["host"], "", 0.0)
    (host,) = batch["events"]
    assert isinstance(host["id"], int) and isinstance(host["snapshot"]["API_version_major"], int)
    assert isinstance(_jsonrpc(url, "event.get_current_id", session), int)
