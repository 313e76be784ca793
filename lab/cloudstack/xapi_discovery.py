"""What CloudStack's XcpServerDiscoverer learns from a XenServer/XCP-ng pool, over real XAPI.

The management server logs in to the URL it was given with the stock XenAPI client; when that
host is a pool member it answers HOST_IS_SLAVE [master address] and the connection pool logs in
to the master instead (XenServerConnectionPool). It then reads the pool's uuid (which becomes the
cluster's guid), every host of the pool (each becomes a CloudStack host) and, for PreSetup
primary storage, the SRs by name-label. Deviation: the real server connects to the URL's host on
the standard port; the emulator keeps the port from the URL (the lab's hosts share 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import urllib.parse
from dataclasses import dataclass
from typing import Any

import XenAPI


class XapiDiscoveryError(Exception):
    """Discovery failed; the message is what CloudStack reports (DiscoveryException text)."""


@dataclass(frozen=True)
class XapiHost:
    uuid: str
    name_label: str
    hostname: str
    address: str
    product_version: str
    cpu_count: int
    cpu_speed: int
    memory_total: int


@dataclass(frozen=True)
class PoolInfo:
    pool_uuid: str
    master_url: str
    hosts: tuple[XapiHost, ...]
    sr_names: frozenset[str]


def _url_for(address: str, like: str) -> str:
    """The master's URL from HOST_IS_SLAVE's address, keeping the scheme of the URL we were given."""
    scheme = urllib.parse.urlsplit(like).scheme or "http"
    return f"{scheme}://{address}/"


def _login(url: str, username: str, password: str) -> tuple[Any, str]:
    session = XenAPI.Session(url)
    try:
        session.xenapi.login_with_password(username, password, "1.0", "cloudstack-emulator")
        return session, url
    except XenAPI.Failure as f:
        details = list(f.details)
        if details and details[0] == "HOST_IS_SLAVE" and len(details) > 1:
            master = _url_for(details[1], url)
            session = XenAPI.Session(master)
            try:
                session.xenapi.login_with_password(username, password, "1.0", "cloudstack-emulator")
            except XenAPI.Failure as f2:
                raise _failure(f2, master) from None
            return session, master
        raise _failure(f, url) from None
    except OSError as e:
        raise XapiDiscoveryError(f"Unable to get a connection to {url}") from e


def _failure(f: Any, url: str) -> XapiDiscoveryError:
    if list(f.details)[:1] == ["SESSION_AUTHENTICATION_FAILED"]:
        return XapiDiscoveryError("Authentication error")
    return XapiDiscoveryError(f"Unable to get a connection to {url}")


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def discover_pool(url: str, username: str, password: str) -> PoolInfo:
    """Log in (following HOST_IS_SLAVE), read the pool, its hosts and its SR name-labels, log out."""
    session, master_url = _login(url, username, password)
    try:
        x = session.xenapi
        pools = x.pool.get_all_records()
        if not pools:
            raise XapiDiscoveryError(f"Unable to add the host: Cannot find the server resources at {url}")
        pool = next(iter(pools.values()))
        hosts = []
        for ref, rec in x.host.get_all_records().items():
            memory = 0
            with contextlib.suppress(XenAPI.Failure):
                if rec.get("metrics") and rec["metrics"] != "OpaqueRef:NULL":
                    memory = _int(x.host_metrics.get_record(rec["metrics"]).get("memory_total"))
            cpu = rec.get("cpu_info") or {}
            hosts.append(XapiHost(
                uuid=rec["uuid"], name_label=rec.get("name_label", ""), hostname=rec.get("hostname", ""),
                address=rec.get("address", ""), product_version=(rec.get("software_version") or {}).get(
                    "product_version", ""),
                cpu_count=_int(cpu.get("cpu_count")), cpu_speed=_int(cpu.get("speed")), memory_total=memory))
            del ref
        srs = frozenset(r.get("name_label", "") for r in x.SR.get_all_records().values())
        return PoolInfo(pool["uuid"], master_url, tuple(hosts), srs)
    except XenAPI.Failure as f:
        raise XapiDiscoveryError(f"XenAPI exception: {' '.join(f.details)}") from None
    except OSError as e:
        raise XapiDiscoveryError(f"Unable to get a connection to {url}") from e
    finally:
        with contextlib.suppress(Exception):
            session.xenapi.session.logout()
