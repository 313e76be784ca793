"""`<project>:xcpng`: the one settings model of the XCP-ng backend (all optional).

Credentials are not here: they are (secret) inputs of each resource, since every host of a pool
to be built has its own root password until it joins. The stack config and the providers'
`configure()` validate with this same model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from providers._core.settings import BackendSettings


class XcpngSettings(BackendSettings):
    """XAPI transport and deadlines."""

    section = "xcpng"

    scheme: Literal["https", "http"] = Field(
        default="https", description="XCP-ng serves XAPI on 443 with a self-signed certificate"
    )
    verify_tls: bool = Field(default=False, description="XCP-ng's certificate is self-signed by default")
    task_timeout: float = Field(
        default=600.0, ge=0, description="seconds an async task (SR.create, VLAN, bond) may take"
    )
    join_timeout: float = Field(
        default=1200.0, ge=0, description="seconds a pool.join/eject/designate may take, restarts included"
    )
    poll_interval: float = Field(default=2.0, ge=0, description="seconds between task polls")
    retry_timeout: float = Field(default=60.0, ge=0, description="seconds safe calls are retried on retryable errors")
    http_timeout: float = Field(default=60.0, ge=0, description="seconds per XML-RPC request")

    def url(self, address: str) -> str:
        return f"{self.scheme}://{address}/"


Settings = XcpngSettings
