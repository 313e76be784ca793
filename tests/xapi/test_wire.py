"""Wire shapes as XAPI sends them: the result envelope, ints as strings in XML-RPC and numbers in
JSON-RPC, errors as ErrorDescription (never XML-RPC faults), an HTML 500 for a malformed body."""

from __future__ import annotations

import http.client
import json
import xmlrpc.client
from typing import Any

import pytest

from lab.xapi import XapiLab
from tests.xapi.conftest import PASSWORD


def post(lab: XapiLab, path: str, body: bytes, ctype: str = "text/xml") -> tuple[int, str, bytes]:
    host, port = lab.hosts[0].address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", path, body, {"Content-Type": ctype})
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Content-Type") or "", resp.read()
    conn.close()
    return out


def xml_call(lab: XapiLab, method: str, *params: Any, path: str = "/") -> tuple[bytes, dict[str, Any]]:
    status, ctype, body = post(lab, path, xmlrpc.client.dumps(params, method, allow_none=True).encode())
    assert status == 200 and ctype == "text/xml"
    ((result,), _) = xmlrpc.client.loads(body)
    assert isinstance(result, dict)
    return body, result


def json_call(lab: XapiLab, method: str, *params: Any, version: str | None = "2.0", rid: Any = 7) -> dict[str, Any]:
    req: dict[str, Any] = {"method": method, "params": list(params), "id": rid}
    if version:
        req["jsonrpc"] = version
    status, ctype, body = post(lab, "/jsonrpc", json.dumps(req).encode(), "application/json")
    assert status == 200 and ctype == "application/json"
    return dict(json.loads(body))


@pytest.mark.parametrize("path", ["/", "/RPC2", "/xmlrpc"])
def test_xmlrpc_envelope_on_every_path(lab: XapiLab, path: str) -> None:
    _, result = xml_call(lab, "session.login_with_password", "root", PASSWORD, "1.0", "t", path=path)
    assert result["Status"] == "Success" and result["Value"].startswith("OpaqueRef:")
    assert set(result) == {"Status", "Value"}


def test_ints_travel_as_strings_in_xmlrpc(lab: XapiLab) -> None:
    _, login = xml_call(lab, "session.login_with_password", "root", PASSWORD)
    session = login["Value"]
    _, hosts = xml_call(lab, "host.get_all", session)
    body, major = xml_call(lab, "host.get_API_version_major", session, hosts["Value"][0])
    assert major["Value"] == "2"
    assert b"<i4>" not in body and b"<int>" not in body
    _, rec = xml_call(lab, "PIF.get_all_records", session)
    pif = next(iter(rec["Value"].values()))
    assert pif["MTU"] == "1500" and pif["VLAN"] == "-1" and pif["physical"] is True


def test_failure_is_an_error_description_not_a_fault(lab: XapiLab) -> None:
    _, result = xml_call(lab, "session.login_with_password", "root", "wrong")
    assert result == {"Status": "Failure", "ErrorDescription": ["SESSION_AUTHENTICATION_FAILED"]}
    _, result = xml_call(lab, "pool.get_all", "OpaqueRef:nope")
    assert result["ErrorDescription"] == ["SESSION_INVALID", "OpaqueRef:nope"]


def test_dispatch_errors(lab: XapiLab) -> None:
    _, login = xml_call(lab, "session.login_with_password", "root", PASSWORD)
    s = login["Value"]
    assert xml_call(lab, "no.such", s)[1]["ErrorDescription"] == ["MESSAGE_METHOD_UNKNOWN", "no.such"]
    assert xml_call(lab, "pool.get_record", s)[1]["ErrorDescription"] == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "pool.get_record", "1", "0"]
    # Defaulted parameters are not counted: login takes 2 required of 4.
    assert xml_call(lab, "session.login_with_password", "root")[1]["ErrorDescription"] == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", "1"]
    assert xml_call(lab, "Async.task.get_status", s, "x")[1]["ErrorDescription"] == [
        "MESSAGE_METHOD_UNKNOWN", "Async.task.get_status"]
    assert xml_call(lab, "VTPM.get_all", s)[1]["ErrorDescription"] == ["NOT_IMPLEMENTED", "VTPM.get_all"]
    assert xml_call(lab, "console.get_all", s)[1]["ErrorDescription"] == ["NOT_IMPLEMENTED", "console.get_all"]
    assert xml_call(lab, "Async.VM.snapshot", s, "x", "y", [])[1]["ErrorDescription"] == [
        "NOT_IMPLEMENTED", "Async.VM.snapshot"]
    (net, *_) = xml_call(lab, "network.get_all", s)[1]["Value"]
    assert xml_call(lab, "network.set_MTU", s, net, "lots")[1]["ErrorDescription"] == ["FIELD_TYPE_ERROR", "value"]
    assert xml_call(lab, "host.get_record", s, "OpaqueRef:missing")[1]["ErrorDescription"] == [
        "HANDLE_INVALID", "host", "OpaqueRef:missing"]


def test_malformed_xmlrpc_gets_an_html_500(lab: XapiLab) -> None:
    status, ctype, body = post(lab, "/", b'<?xml version="1.0"?><methodCall><methodName>session.logout')
    assert status == 500 and ctype == "text/html" and b"HTTP 500 internal server error" in body


def test_jsonrpc_v2(lab: XapiLab) -> None:
    login = json_call(lab, "session.login_with_password", "root", PASSWORD, "1.0", "t")
    assert set(login) == {"jsonrpc", "result", "id"} and login["id"] == 7
    s = login["result"]
    hosts = json_call(lab, "host.get_all", s)["result"]
    assert json_call(lab, "host.get_API_version_major", s, hosts[0])["result"] == 2  # a number in JSON
    err = json_call(lab, "pool.get_all", "OpaqueRef:gone")
    assert err == {"jsonrpc": "2.0", "error": {"code": 1, "message": "SESSION_INVALID", "data": ["OpaqueRef:gone"]},
                   "id": 7}


def test_jsonrpc_v1(lab: XapiLab) -> None:
    login = json_call(lab, "session.login_with_password", "root", PASSWORD, version=None, rid="xyz")
    assert login["error"] is None and login["id"] == "xyz"
    err = json_call(lab, "pool.get_all", "OpaqueRef:gone", version=None, rid="xyz")
    assert err == {"result": None, "error": ["SESSION_INVALID", "OpaqueRef:gone"], "id": "xyz"}


def test_jsonrpc_refuses_notifications(lab: XapiLab) -> None:
    body = json.dumps({"jsonrpc": "2.0", "method": "pool.get_all", "params": ["x"], "id": None}).encode()
    status, ctype, _ = post(lab, "/jsonrpc", body, "application/json")
    assert status == 500 and ctype == "text/html"


def test_logout_invalidates_the_session(lab: XapiLab) -> None:
    _, login = xml_call(lab, "session.login_with_password", "root", PASSWORD)
    s = login["Value"]
    assert xml_call(lab, "session.logout", s)[1] == {"Status": "Success", "Value": ""}  # void is ""
    assert xml_call(lab, "pool.get_all", s)[1]["ErrorDescription"] == ["SESSION_INVALID", s]


def test_request_log_masks_secrets_and_drops_the_session(lab: XapiLab) -> None:
    _, login = xml_call(lab, "session.login_with_password", "root", PASSWORD)
    xml_call(lab, "pool.get_all", login["Value"])
    first, second = lab.request_log[-2:]
    assert first == ("xcp-01", "session.login_with_password", {"uname": "root", "pwd": "******"})
    assert second == ("xcp-01", "pool.get_all", {})
