"""`<project>:ironic`: the one settings model of the Ironic backend.

The stack config and the providers' `configure()` validate with this same model.
"""

from __future__ import annotations

from pydantic import Field

from providers._core.settings import BackendSettings
from providers._core.types import HttpUrl


class IronicSettings(BackendSettings):
    """The Ironic API endpoint (standalone Ironic: no Keystone)."""

    section = "ironic"

    endpoint: HttpUrl = Field(description="Ironic API URL, e.g. http://10.0.0.5:6385")


Settings = IronicSettings
