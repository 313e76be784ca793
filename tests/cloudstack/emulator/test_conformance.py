"""Conformance to CloudStack 4.18: signing, the command set and parameters, error and response shapes."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import cs
import pytest

from lab.cloudstack import CloudStackLab, spec
from lab.cloudstack.responses import HANDLERS, sign, string_to_sign
from tests.cloudstack.emulator.conftest import Pool, build_zone, s3_details

# dev.rst's worked example (apache/cloudstack-documentation source/developersguide/dev.rst).
DOC_APIKEY = "plgWJfZK4gyS3mOMTVmjUVg-X-jlWlnfaUJ9GAbBbf9EdM-kAYMmAiLqzzq1ElZLYq_u38zCm0bewzGUdP66mg"
DOC_SECRET = "VDaACYb0LV9eNjTetIOElcVQkvJck_J_QljX_FcHRj87ZKiy0z0ty0ZsYBkoXkY9b7eq1EhwJaw7FF3akA3KBQ"
DOC_SIGNATURE = "TTpdDq/7j/J58XCRHomKoQXEQds="


def test_signature_of_the_documented_example() -> None:
    params = {"apikey": DOC_APIKEY, "command": "listUsers", "response": "json"}
    assert sign(params, DOC_SECRET) == DOC_SIGNATURE


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # names sorted as sent (Collections.sort: upper case first), lower-cased afterwards
        ({"aa": "2", "Zz": "1"}, "zz=1&aa=2"),
        # URLEncoder: space -> %20, "*" kept, "~" "+" "/" escaped, UTF-8 bytes, all lower-cased
        ({"v": "a b*~+/é"}, "v=a%20b*%7e%2b%2f%c3%a9"),
        # signature itself never signed, whatever its case
        ({"command": "listZones", "Signature": "x", "apiKey": "K"}, "apikey=k&command=listzones"),
    ],
)
def test_string_to_sign(params: dict[str, str], expected: str) -> None:
    assert string_to_sign(params) == expected


def test_every_served_command_is_in_listapis_418() -> None:
    assert set(HANDLERS) <= set(spec.apis())
    asyncs = {n for n in HANDLERS if spec.apis()[n].isasync}
    # FACTS.md A, "Which commands are asynchronous"
    assert {"createPhysicalNetwork", "addTrafficType", "updatePhysicalNetwork", "prepareHostForMaintenance",
            "enableStorageMaintenance", "updateNetworkServiceProvider", "configureVirtualRouterElement"} <= asyncs
    assert not {"createZone", "addCluster", "addHost", "createStoragePool", "addImageStore",
                "createSecondaryStagingStore", "queryAsyncJobResult"} & asyncs


def test_handlers_read_only_declared_parameters() -> None:
    params = spec.Params(spec.apis()["listZones"], {"name": "z"})
    assert params["name"] == "z"
    with pytest.raises(spec.UndeclaredParameter):
        params.get("podid")


# --------------------------------------------------------------------------- raw HTTP helpers


def call(lab: CloudStackLab, params: dict[str, str], *, secret: str | None = None, post: bool = False,
         signed: bool = True) -> tuple[int, dict[str, Any], Any]:
    params = {"response": "json", **params}
    if signed:
        params.setdefault("apiKey", lab.api_key)
        params["signature"] = sign(params, secret or lab.secret_key)
    data = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    req = urllib.request.Request(lab.endpoint if post else f"{lab.endpoint}?{data}",
                                 data=data.encode() if post else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers


def test_success_shape_and_content_type(lab: CloudStackLab) -> None:
    status, body, headers = call(lab, {"command": "listZones"})
    assert (status, body) == (200, {"listzonesresponse": {}})
    assert headers["Content-Type"] == "application/json; charset=UTF-8"


def test_post_form_is_signed_and_served_like_get(lab: CloudStackLab) -> None:
    status, body, _ = call(lab, {"command": "createZone", "name": "z p", "networktype": "Advanced",
                                 "dns1": "8.8.8.8", "internaldns1": "10.0.0.2"}, post=True)
    assert status == 200 and body["createzoneresponse"]["zone"]["name"] == "z p"


UNAUTH = {"uuidList": [], "errorcode": 401, "errortext": "unable to verify user credentials and/or request signature"}


@pytest.mark.parametrize(
    ("params", "kw", "name"),
    [
        ({"command": "listZones"}, {"secret": "wrong"}, "listzonesresponse"),
        ({"command": "listZones", "apiKey": "someone-else"}, {}, "listzonesresponse"),
        ({"command": "listZones"}, {"signed": False}, "listzonesresponse"),
        ({"command": "noSuchCommand"}, {}, "errorresponse"),
        ({"command": "listzones"}, {}, "errorresponse"),  # command names are case-sensitive
        ({}, {}, "errorresponse"),
        ({"command": "listZones", "signatureVersion": "3",
          "expires": (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")}, {},
         "listzonesresponse"),
        ({"command": "listZones", "signatureVersion": "3"}, {}, "listzonesresponse"),
    ],
    ids=["bad-secret", "unknown-key", "unsigned", "unknown-command", "wrong-case", "no-command", "expired",
         "v3-without-expires"],
)
def test_credential_failures_are_401_without_cserrorcode(
    lab: CloudStackLab, params: dict[str, str], kw: dict[str, Any], name: str
) -> None:
    status, body, headers = call(lab, params, **kw)
    assert status == 401
    assert body == {name: UNAUTH}
    assert headers["X-Description"] == UNAUTH["errortext"]


def test_signature_version_3_with_future_expiry_is_accepted(lab: CloudStackLab) -> None:
    expires = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, _, _ = call(lab, {"command": "listZones", "signatureVersion": "3", "expires": expires})
    assert status == 200


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"command": "createZone", "name": "z", "networktype": "Advanced", "dns1": "8.8.8.8"},
         "Unable to execute API command createzone due to missing parameter internaldns1"),
        ({"command": "listZones", "page": "one"},
         "Unable to execute API command listzones due to invalid value one for parameter page"),
        ({"command": "listPods", "zoneid": "7f1f6b0e-0000-4000-8000-000000000000"},
         "Unable to execute API command listpods due to invalid value. Invalid parameter zoneid "
         "value=7f1f6b0e-0000-4000-8000-000000000000 due to incorrect long value format, or entity does not exist "
         "or due to incorrect parameter annotation for the field in api cmd class."),
        ({"command": "createZone", "name": "x" * 256, "networktype": "Advanced", "dns1": "8.8.8.8",
          "internaldns1": "10.0.0.2"},
         "Unable to execute API command createzone due to invalid value. Value greater than max allowed length "
         "255 for param: name"),
    ],
    ids=["missing", "bad-integer", "unknown-uuid", "too-long"],
)
def test_parameter_errors_are_431_with_the_dispatcher_text(
    lab: CloudStackLab, params: dict[str, str], text: str
) -> None:
    status, body, headers = call(lab, params)
    name = f"{params['command'].lower()}response"
    assert status == 431
    assert body == {name: {"uuidList": [], "errorcode": 431, "cserrorcode": 9999, "errortext": text}}
    assert headers["X-Description"] == text


def test_service_errors_carry_the_exception_code(lab: CloudStackLab) -> None:
    zone = {"command": "createZone", "name": "z", "networktype": "Advanced", "dns1": "8.8.8.8",
            "internaldns1": "10.0.0.2"}
    assert call(lab, zone)[0] == 200
    status, body, _ = call(lab, zone)
    assert status == 431
    assert body["createzoneresponse"]["cserrorcode"] == 4350  # InvalidParameterValueException


def test_a_command_the_emulator_does_not_model_is_432(lab: CloudStackLab) -> None:
    status, body, _ = call(lab, {"command": "listLoadBalancers"})
    assert status == 432
    assert body["errorresponse"]["errorcode"] == 432


def test_request_log_has_every_command_without_credentials(lab: CloudStackLab) -> None:
    call(lab, {"command": "listZones", "name": "a"})
    call(lab, {"command": "listZones"}, secret="wrong")
    call(lab, {"command": "listZones", "page": "x"})
    log = lab.request_log
    assert [r.command for r in log] == ["listZones"] * 3
    assert log[0].params == {"name": "a"} and log[0].error is None
    assert log[1].error is not None and log[1].error.errorcode == 401
    assert log[2].error is not None and log[2].error.errorcode == 431
    assert all("apiKey" not in r.params and "signature" not in r.params for r in log)


# --------------------------------------------------------------------- response field conformance

# listApis 4.18 annotates listTrafficTypes with ProviderResponse; the objects are TrafficTypeResponse.
SAME_OBJECT = {"listTrafficTypes": "addTrafficType"}


def _fields_ok(command: str, body: dict[str, Any]) -> list[str]:
    allowed = spec.apis()[SAME_OBJECT.get(command, command)].response
    problems = []
    inner = [v for k, v in body.items() if k != "count"]
    for value in inner:
        for obj in value if isinstance(value, list) else [value]:
            if isinstance(obj, dict):
                extra = set(obj) - allowed
                if extra:
                    problems.append(f"{command}: {sorted(extra)} not in listApis response")
    return problems


def test_every_response_field_is_documented(lab: CloudStackLab, pool: Pool) -> None:
    """Build a whole zone through the raw API and check each answer's fields against listApis."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = lab.responses.handle

    def spy(params: dict[str, str]) -> Any:
        answer = original(params)
        if answer.status == 200 and answer.body:
            seen.append((params["command"], next(iter(answer.body.values()))))
        return answer

    lab.responses.handle = spy  # type: ignore[method-assign]
    c = cs.CloudStack(endpoint=lab.endpoint, key=lab.api_key, secret=lab.secret_key, poll_interval=0.01,
                      fetch_result=True)
    ids = build_zone(c, pool)
    c.createStoragePool(zoneid=ids.zone, podid=ids.pod, clusterid=ids.cluster, name="primary",
                        url="presetup://localhost/ceph-nfs-a")
    c.addImageStore(provider="S3", name="s3", details=s3_details())
    c.createSecondaryStagingStore(zoneid=ids.zone, url="nfs://127.0.0.1/export/staging")
    for command in ("listCapabilities", "listZones", "listPods", "listClusters", "listHosts", "listStoragePools",
                    "listImageStores", "listSecondaryStagingStores", "listPhysicalNetworks",
                    "listNetworkServiceProviders", "listVirtualRouterElements"):
        getattr(c, command)()
    c.listTrafficTypes(physicalnetworkid=ids.physical_network)
    problems: list[str] = []
    for command, body in seen:
        if command == "queryAsyncJobResult":
            problems += [f"queryAsyncJobResult: {k}" for k in set(body) - spec.apis()[command].response
                         - {"jobresult", "jobresulttype", "jobinstancetype"}]
            job = next(j for j in lab.jobs.all() if j.id == body["jobid"])
            problems += _fields_ok(job.command, body.get("jobresult") or {})
        elif not body.get("success"):
            problems += _fields_ok(command, body)
    assert len({c for c, _ in seen}) >= 20
    assert problems == []


def test_without_response_json_the_answer_is_xml(lab: CloudStackLab) -> None:
    import xml.etree.ElementTree as ET

    params = {"command": "listZones", "apiKey": lab.api_key}
    params["signature"] = sign(params, lab.secret_key)
    url = f"{lab.endpoint}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.headers["Content-Type"] == "text/xml; charset=UTF-8"
        root = ET.fromstring(resp.read())
    assert root.tag == "listzonesresponse" and root.attrib == {"cloud-stack-version": "4.18.0.0"}
    params = {"command": "listZones", "apiKey": lab.api_key, "signature": "bad"}
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{lab.endpoint}?{urllib.parse.urlencode(params)}", timeout=10)
    root = ET.fromstring(e.value.read())
    assert (root.tag, root.findtext("errorcode")) == ("listzonesresponse", "401")


def test_request_log_checker() -> None:
    from lab.cloudstack.conformance import problems

    zone = "7f1f6b0e-0000-4000-8000-000000000000"
    assert problems([("listZones", {"name": "z"}), ("createPod", {"zoneid": zone, "name": "p"})]) == []
    assert problems([
        ("listZone", {}),
        ("listZones", {"nmae": "z"}),
        ("createPod", {"name": "p"}),
        ("listPods", {"page": "two"}),
    ]) == [
        "listZone: not a CloudStack 4.18 command",
        "listZones: unknown parameter 'nmae'",
        "createPod: Unable to execute API command createpod due to missing parameter zoneid",
        "listPods: Unable to execute API command listpods due to invalid value two for parameter page",
    ]
