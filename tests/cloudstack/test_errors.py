"""The one mapping of CloudStack failures to the taxonomy, settings, and the provider's API vocabulary."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from cs import CloudStackApiException, CloudStackException

from providers._core import InputError, NotFound, Permanent, ProviderError, Retryable, parse_settings
from providers.cloudstack.api import map_error
from providers.cloudstack.settings import Settings
from providers.cloudstack.zone import ZoneProvider
from tests.cloudstack.apispec import async_commands, commands

RES = "cloudstack.Zone 'z1'"


def api_error(code: int, text: str, cs_code: int | None = None) -> CloudStackApiException:
    body: dict[str, Any] = {"uuidList": [], "errorcode": code, "errortext": text}
    if cs_code is not None:
        body["cserrorcode"] = cs_code
    return CloudStackApiException(f"HTTP {code} response from CloudStack", error=body)


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (api_error(401, "unable to verify user credentials and/or request signature"), Permanent,
         ["errorcode 401", "apiKey"]),
        (api_error(431, "Unable to find zone by id", 4350), NotFound, ["errorcode 431, cserrorcode 4350"]),
        (api_error(431, "Invalid parameter id value=x due to incorrect long value format, or entity does not "
                        "exist or due to incorrect parameter annotation", 4350), NotFound, ["entity does not exist"]),
        (api_error(431, "Please specify a valid IPv4 address", 4350), Permanent, ["valid IPv4"]),
        (api_error(431, "A zone with ID: 5 does not exist.", 4350), NotFound, ["does not exist"]),
        (api_error(431, "Can't find cluster by id 7", 4350), NotFound, ["cluster by id"]),
        (api_error(431, "Cannot enable this Zone since: Unable to find the default physical network with "
                        "traffic=Management in the specified zone id", 4350), Permanent, ["Cannot enable"]),
        (api_error(432, "Unknown API command: frobnicate"), Permanent, ["errorcode 432"]),
        (api_error(429, "There are too many API calls", 4545), Retryable, ["too many"]),
        (api_error(530, "Unable to acquire lock on zone", 4300), Retryable, ["cserrorcode 4300"]),
        (api_error(530, "Something broke", 9999), Permanent, ["Something broke"]),
        (api_error(534, "Agent unavailable", 4380), Retryable, ["errorcode 534"]),
        (api_error(536, "The zone is not deletable because there are pods in this zone", 4375), Permanent,
         ["not deletable"]),
        # a failed async job's jobresult
        ({"errorcode": 530, "errortext": "Failed to add traffic type"}, Permanent, ["Failed to add traffic type"]),
        ({"errorcode": 534, "errortext": "Host is unavailable"}, Retryable, ["Host is unavailable"]),
        (requests.ConnectionError("Connection reset by peer"), Retryable, ["connection", "reset"]),
        (requests.Timeout("read timed out"), Retryable, ["timed out"]),
        (CloudStackException("HTTP 503 Service Unavailable", response=SimpleNamespace(status_code=503)), Retryable,
         ["503"]),
        (CloudStackException("JSON was expected", response=SimpleNamespace(status_code=200)), Permanent,
         ["JSON"]),
    ],
)
def test_map_error(error: Any, kind: type[ProviderError], words: list[str]) -> None:
    mapped = map_error(RES, "createZone", error)
    assert type(mapped) is kind
    assert mapped.resource == RES
    text = str(mapped)
    assert text.startswith(f"{RES}: createZone")
    for w in words:
        assert w.lower() in text.lower()


def test_settings_from_config_and_secret_not_in_repr() -> None:
    s = parse_settings(Settings, "cloudstack", {"endpoint": "http://cs/client/api", "apiKey": "k",
                                                "secretKey": "TOPSECRET", "pollInterval": 0.5})
    assert s.poll_interval == 0.5 and s.method == "post"
    assert "TOPSECRET" not in repr(s)
    with pytest.raises(InputError) as e:
        parse_settings(Settings, "cloudstack", {"endpoint": "http://cs/client/api", "apiKey": "k"})
    assert e.value.field == "cloudstack.secretKey"


def test_provider_pickles_without_settings() -> None:
    """The pickled provider (in state) never carries the endpoint or the keys."""
    p = ZoneProvider()
    blob = pickle.dumps(p)
    p.configure(SimpleNamespace(config={"cloudstack": '{"endpoint": "http://x", "apiKey": "AK", '
                                                      '"secretKey": "SECRET-XYZ"}'}))  # type: ignore[arg-type]
    assert p._settings is not None and p._settings.secret_key is not None
    assert p._settings.secret_key.get_secret_value() == "SECRET-XYZ"
    assert b"SECRET-XYZ" not in blob
    assert "_settings" not in ZoneProvider().__dict__


SOURCE = Path(__file__).resolve().parents[2] / "providers" / "cloudstack"
CALL = re.compile(r"""\.(call|list|find|job|wait_state)\(\s*"([A-Za-z]+)"|\.job\(\s*"([A-Za-z]+)\"""")


def used_commands() -> dict[str, set[str]]:
    """Every command the provider sends, by how it sends it (job: async, others: sync)."""
    used: dict[str, set[str]] = {}
    for path in SOURCE.glob("*.py"):
        for how, name, _ in CALL.findall(path.read_text()):
            used.setdefault(name, set()).add(how)
    return used


def test_every_command_the_provider_sends_exists_in_cloudstack_418() -> None:
    used = used_commands()
    assert len(used) > 30
    missing = sorted(c for c in used if c.lower() not in commands())
    assert missing == []


def test_async_commands_are_followed_as_jobs_and_sync_ones_are_not() -> None:
    for name, hows in used_commands().items():
        if name.lower() in async_commands():
            assert hows == {"job"}, f"{name} is async in 4.18: follow its job"
        else:
            assert "job" not in hows, f"{name} is sync in 4.18"
