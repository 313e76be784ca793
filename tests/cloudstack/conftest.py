"""Fixtures for the CloudStack provider tests: the emulators, configured providers, a raw client.

Every test that uses `cs_lab` gets a fresh emulated management server (a threaded HTTP server on
127.0.0.1, port 0), stopped at the end. When the test is done, the requests it made are checked
against CloudStack 4.18's listApis (command known, parameters known, required ones present,
values of the right type): a problem there is a test error (issue 5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import XenAPI
from cs import CloudStack

from providers.cloudstack.base import CloudStackProvider
from providers.cloudstack.cluster import ClusterProvider
from providers.cloudstack.pod import PodProvider
from providers.cloudstack.settings import Settings
from providers.cloudstack.zone import ZoneProvider
from tests.cloudstack.apispec import all_problems
from tests.cloudstack.choreography import normalised

P = TypeVar("P", bound=CloudStackProvider)

XAPI_PASSWORD = "xcp-root-secret-1"
SR_NAME = "ceph-sr"


@pytest.fixture
def cs_lab() -> Iterator[Any]:
    from lab.cloudstack import CloudStackLab

    lab = CloudStackLab.start()
    try:
        yield lab
    finally:
        lab.stop()
    problems = all_problems((r.command, r.params) for r in lab.request_log)
    assert problems == [], "requests that CloudStack 4.18 would not take:\n" + "\n".join(problems)


@pytest.fixture
def settings(cs_lab: Any) -> Settings:
    # A short poll interval keeps the tests quick; the deadlines are only a safety net.
    return Settings(endpoint=cs_lab.endpoint, api_key=cs_lab.api_key, secret_key=cs_lab.secret_key,
                    job_timeout=60, poll_interval=0.01, retry_timeout=10, http_timeout=10)


@pytest.fixture
def configured(settings: Settings) -> Callable[[type[P]], P]:
    def make(cls: type[P]) -> P:
        provider = cls()
        provider.configure_with(settings)
        return provider

    return make


@pytest.fixture
def raw(cs_lab: Any) -> CloudStack:
    """A plain `cs` client on the emulator: the operator's hand for out-of-band changes."""
    return CloudStack(endpoint=cs_lab.endpoint, key=cs_lab.api_key, secret=cs_lab.secret_key, method="post")


@pytest.fixture
def xapi_lab() -> Iterator[Any]:
    """An XCP-ng pool of two joined hosts with a shared SR (CloudStack's addHost logs in to its master)."""
    from lab.xapi import XapiLab

    lab = XapiLab.start(hosts=["xcp-01", "xcp-02"], password=XAPI_PASSWORD)
    member = XenAPI.Session(lab.hosts[1].url)
    member.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "tests")
    member.xenapi.pool.join(lab.hosts[0].address, "root", XAPI_PASSWORD)
    # The pool's shared SR, which PreSetup primary storage names (CloudStack checks it exists).
    master = XenAPI.Session(lab.hosts[0].url)
    master.xenapi.login_with_password("root", XAPI_PASSWORD, "1.0", "tests")
    host = master.xenapi.pool.get_master(master.xenapi.pool.get_all()[0])
    master.xenapi.SR.create(host, {"server": "10.0.0.5", "serverpath": "/ceph"}, "0", SR_NAME, "", "nfs", "user",
                            True, {})
    master.xenapi.session.logout()
    try:
        yield lab
    finally:
        lab.stop()


# --- a zone, its pod and a cluster, made through the providers ---------------------------------

LABELS = {"Management": "xenbr0", "Guest": "cloud-guest", "Public": "cloud-public"}
ZONE = {"name": "zone-1", "dns1": "8.8.8.8", "internal_dns1": "10.0.0.2", "guest_cidr": "10.1.1.0/24"}
POD = {"name": "pod-1", "gateway": "192.168.10.1", "netmask": "255.255.255.0", "start_ip": "192.168.10.100",
       "end_ip": "192.168.10.150"}


@pytest.fixture
def zone_id(configured: Callable[..., Any]) -> str:
    zones = configured(ZoneProvider)
    return str(zones.create(normalised(zones, ZONE)).id)


@pytest.fixture
def pod_id(configured: Callable[..., Any], zone_id: str) -> str:
    pods = configured(PodProvider)
    return str(pods.create(normalised(pods, {**POD, "zone_id": zone_id})).id)


@pytest.fixture
def cluster_id(configured: Callable[..., Any], zone_id: str, pod_id: str, xapi_lab: Any) -> str:
    clusters = configured(ClusterProvider)
    props = {"zone_id": zone_id, "pod_id": pod_id, "name": "pool-1", "url": xapi_lab.hosts[0].url,
             "password": XAPI_PASSWORD}
    return str(clusters.create(normalised(clusters, props)).id)
