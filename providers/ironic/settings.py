"""`<project>:ironic`: the one settings model of the Ironic backend.

The stack config and the providers' `configure()` validate with this same model.
"""

from __future__ import annotations

from pydantic import Field

from providers._core.settings import BackendSettings
from providers._core.types import HttpUrl, Seconds


class IronicSettings(BackendSettings):
    """The Ironic API endpoint (standalone Ironic: no Keystone)."""

    section = "ironic"

    endpoint: HttpUrl = Field(description="Ironic API URL, e.g. http://10.0.0.5:6385")
    http_timeout: Seconds = Field(
        default=60.0, gt=0, le=3600,
        description="seconds per API request: an Ironic that takes a request and never answers fails it then",
    )


Settings = IronicSettings
