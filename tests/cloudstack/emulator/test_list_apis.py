"""listApis answered as a 4.18 management server answers an admin: what CloudMonkey's `sync`
reads to build its command list, through the stock `cs` client."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import cs
import pytest

from lab.cloudstack import CloudStackLab
from lab.cloudstack.commands import HANDLERS

REFERENCE = Path(__file__).resolve().parents[3] / "lab" / "cloudstack" / "reference" / "listApis-4.18.json.gz"


def _reference() -> dict[str, object]:
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as f:
        return dict(json.load(f))


def test_list_apis_is_the_real_servers_answer(lab: CloudStackLab, client: cs.CloudStack) -> None:
    answer = client.listApis()
    reference = _reference()
    assert answer["count"] == reference["count"] == 705
    assert answer["api"] == reference["api"]  # descriptions, params, related, response fields
    by_name = {a["name"]: a for a in answer["api"]}
    # What a CLI needs to offer a command: its parameters with their types, and whether it is async.
    zones = by_name["createZone"]
    assert zones["isasync"] is False
    assert {"name": "networktype", "required": True, "type": "string"}.items() <= next(
        p for p in zones["params"] if p["name"] == "networktype").items()
    assert set(HANDLERS) <= set(by_name)


def test_list_apis_by_name(lab: CloudStackLab, client: cs.CloudStack) -> None:
    answer = client.listApis(name="addImageStoreS3")
    assert answer["count"] == 1
    (api,) = answer["api"]
    assert api["name"] == "addImageStoreS3" and api["isasync"] is False
    with pytest.raises(cs.CloudStackApiException) as e:
        client.listApis(name="listzones")  # names are case-sensitive
    assert e.value.error["errorcode"] == 530
    assert e.value.error["errortext"] == ("Api Discovery plugin was unable to find an api by that name or process "
                                          "any apis")
    assert [r.command for r in lab.request_log] == ["listApis", "listApis"]


def test_the_dispatchers_extract_is_the_full_answers() -> None:
    """reference/listApis-4.18.json (read at every start) is still _extract.py of the full answer."""
    import importlib.util

    path = REFERENCE.with_name("_extract.py")
    loader = importlib.util.spec_from_file_location("_extract", path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    assert module.extract(REFERENCE) == json.loads(REFERENCE.with_name("listApis-4.18.json").read_text())
