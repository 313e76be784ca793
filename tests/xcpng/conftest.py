"""Fixtures of the XCP-ng provider tests: the XAPI emulator, configured providers, a built pool.

Every emulator started here has its request log checked against the XenAPI datamodel when the
test ends (`xapispec.problems`), so each lifecycle test also proves it made only real calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab
from providers.xcpng import NetworkProvider, PoolProvider, Settings, SharedSRProvider

from . import xapispec

PASSWORD = "s3cret"
HOSTS = ("xcp-01", "xcp-02", "xcp-03")

# Fast polling; deadlines generous (they bound a broken run, they are not asserted on).
SETTINGS = Settings(scheme="http", poll_interval=0.01, task_timeout=60, join_timeout=60, retry_timeout=5,
                    http_timeout=30)


@pytest.fixture
def lab() -> Iterator[XapiLab]:
    lab = XapiLab.start(hosts=HOSTS, password=PASSWORD)
    try:
        yield lab
    finally:
        lab.stop()
    problems = xapispec.problems(lab.request_log)
    assert not problems, f"calls that are not valid XenAPI ({xapispec.spec().source}): {problems}"


@pytest.fixture
def pools() -> PoolProvider:
    p = PoolProvider()
    p.configure_with(SETTINGS)
    return p


@pytest.fixture
def networks() -> NetworkProvider:
    p = NetworkProvider()
    p.configure_with(SETTINGS)
    return p


@pytest.fixture
def srs() -> SharedSRProvider:
    p = SharedSRProvider()
    p.configure_with(SETTINGS)
    return p


def addresses(lab: XapiLab) -> list[str]:
    return [h.address for h in lab.hosts]


def pool_props(lab: XapiLab, count: int = 3, master: int = 0, **extra: Any) -> dict[str, Any]:
    a = addresses(lab)
    return {"name_label": "pool-a", "master": a[master], "hosts": a[:count], "password": PASSWORD, **extra}


@pytest.fixture
def pool(lab: XapiLab, pools: PoolProvider) -> dict[str, Any]:
    """A three-host pool, built; its outputs."""
    checked = pools.check({}, pool_props(lab))
    assert not checked.failures
    return out_of(pools.create(checked.inputs))


def connection(pool: dict[str, Any], via: str | None = None) -> dict[str, Any]:
    return {"address": via or pool["master_address"], "password": PASSWORD, "pool_uuid": pool["pool_uuid"]}


class Direct:
    """Out-of-band changes, as an operator with `xe` would make them (logged in to the master)."""

    def __init__(self, lab: XapiLab, address: str | None = None) -> None:
        host = next((h for h in lab.hosts if h.address == address), lab.hosts[0]) if address else lab.hosts[0]
        self.session = XenAPI.Session(host.url)
        try:
            self.session.xenapi.login_with_password(host.username, host.password, "1.0", "test")
        except XenAPI.Failure as e:
            if e.details[0] != "HOST_IS_SLAVE":
                raise
            self.session = XenAPI.Session(f"http://{e.details[1]}/")
            self.session.xenapi.login_with_password(host.username, host.password, "1.0", "test")
        self.x = self.session.xenapi

    def __enter__(self) -> Any:
        return self.x

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(XenAPI.Failure):  # after pool.join the host answers HOST_IS_SLAVE
            self.session.xenapi.session.logout()


def methods(lab: XapiLab, since: int = 0) -> list[str]:
    return [c.method for c in lab.request_log[since:]]


MUTATING_PREFIXES = ("Async.", "pool.set_", "network.set_", "network.create", "network.destroy", "SR.set_",
                     "PBD.create", "pool.join", "pool.eject")


def mutations(lab: XapiLab, since: int = 0) -> list[str]:
    """Calls since `since` that change something (task bookkeeping and sessions aside)."""
    return [m for m in methods(lab, since) if m.startswith(MUTATING_PREFIXES)]


def live_sessions(lab: XapiLab) -> int:
    """Sessions still open on every pool database of the emulator (ours must all be logged out)."""
    dbs = {id(n.db): n.db for n in lab.world.nodes.values()}
    return sum(len(db.tables["session"]) for db in dbs.values())


def out_of(result: Any) -> dict[str, Any]:
    """The outputs of a Create/Update/ReadResult (typed as optional by the SDK)."""
    return dict(result.outs or {})
