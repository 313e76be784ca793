"""Every served getter answers for every object of a populated pool, over XML-RPC and JSON-RPC."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab
from lab.xapi.conformance import check_calls
from lab.xapi.datamodel import datamodel
from lab.xapi.responses import MODELLED, served_messages
from tests.xapi.conftest import PASSWORD

Login = Callable[[int], Any]


def populate(lab: XapiLab, login: Login) -> Any:
    x = login(0).xenapi
    login(1).xenapi.pool.join(lab.hosts[0].address, "root", PASSWORD)
    (pool,) = x.pool.get_all()
    master = x.pool.get_master(pool)
    pifs = {(p["host"], p["device"]): r for r, p in x.PIF.get_all_records().items()}
    net = x.network.create({"name_label": "v", "name_description": "", "MTU": "1500", "other_config": {}})
    x.VLAN.create(pifs[(master, "eth1")], "10", net)
    bnet = x.network.create({"name_label": "b", "name_description": "", "MTU": "1500", "other_config": {}})
    x.Bond.create(bnet, [pifs[(master, "eth2")], pifs[(master, "eth3")]], "", "lacp", {})
    x.SR.create(master, {"server": "s", "serverpath": "/p"}, "0", "nfs", "", "nfs", "user", True, {})
    x.task.get_status(x.Async.host.enable(master))
    sr = x.SR.get_by_name_label("nfs")[0]
    vm = x.VM.create({"name_label": "guest", "memory_static_max": str(1 << 30), "VCPUs_max": "1"})
    vdi = x.VDI.create({"name_label": "root", "SR": sr, "virtual_size": str(1 << 30), "type": "user"})
    x.VBD.create({"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True, "mode": "RW", "type": "Disk"})
    x.VIF.create({"VM": vm, "network": net, "device": "0", "MAC": "", "MTU": "1500"})
    x.VM.start_on(vm, master, False, False)
    return x


def test_every_getter_answers_over_xmlrpc(lab: XapiLab, login: Login) -> None:
    x = populate(lab, login)
    s = login(0)
    dm = datamodel()
    calls = 0
    for spec in served_messages(dm).values():
        if spec.cls not in MODELLED or not spec.name.startswith("get_") or spec.name.startswith("get_by_"):
            continue
        fn = getattr(getattr(x, spec.cls), spec.name)
        if [p.name for p in spec.call_params] == []:
            fn()
            calls += 1
            continue
        if [p.type for p in spec.call_params] != [f"{spec.cls} ref"]:
            continue
        refs = [s.handle] if spec.cls == "session" else getattr(x, spec.cls).get_all()
        for ref in refs:
            fn(ref)
            calls += 1
    assert calls > 800
    assert check_calls(lab.request_log) == []


@pytest.mark.parametrize("cls", [c for c in MODELLED if c != "session"])
def test_get_all_records_over_jsonrpc(lab: XapiLab, login: Login, cls: str) -> None:
    populate(lab, login)

    def rpc(method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}).encode()
        req = urllib.request.Request(lab.hosts[0].url + "jsonrpc", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = json.loads(resp.read())
        assert "error" not in answer, answer
        return answer["result"]

    session = rpc("session.login_with_password", "root", PASSWORD, "1.0", "t")
    records = rpc(f"{cls}.get_all_records", session)
    assert records
    fields = datamodel().classes[cls].fields
    for rec in records.values():
        assert set(rec) == set(fields)
        for name, f in fields.items():
            if f.type == "int":
                assert isinstance(rec[name], int), name


def test_session_accessors(lab: XapiLab, login: Login) -> None:
    s = login(0)
    x = s.xenapi
    me = s.handle
    assert x.session.get_this_host(me) == x.host.get_all()[0]
    assert x.session.get_record(me)["is_local_superuser"] is True
    with pytest.raises(XenAPI.Failure):
        x.session.get_record("OpaqueRef:other")
