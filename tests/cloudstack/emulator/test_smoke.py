"""The interface others code against: signed requests, zones, errors as CloudStack answers them."""

from __future__ import annotations

import cs
import pytest

from lab.cloudstack import CloudStackLab

ZONE = {"name": "z1", "networktype": "Advanced", "dns1": "8.8.8.8", "internaldns1": "10.0.0.2"}


def test_zone_create_list_delete(client: cs.CloudStack) -> None:
    assert client.listZones() == {}
    zone = client.createZone(**ZONE)["zone"]
    assert zone["allocationstate"] == "Disabled"
    listed = client.listZones(id=zone["id"])
    assert listed["count"] == 1 and listed["zone"][0]["name"] == "z1"
    assert client.deleteZone(id=zone["id"]) == {"success": True}
    assert client.listZones() == {}


def test_bad_signature_is_401_without_cserrorcode(lab: CloudStackLab) -> None:
    bad = cs.CloudStack(endpoint=lab.endpoint, key=lab.api_key, secret="wrong")
    with pytest.raises(cs.CloudStackApiException) as e:
        bad.listZones()
    assert e.value.response.status_code == 401
    assert e.value.error == {
        "uuidList": [],
        "errorcode": 401,
        "errortext": "unable to verify user credentials and/or request signature",
    }
    assert lab.request_log[-1].error is not None and lab.request_log[-1].error.errorcode == 401
