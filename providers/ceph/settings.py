"""`<project>:ceph`: the one settings model of the Ceph backend.

The stack config and the providers' `configure()` validate with this same model.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from providers._core.settings import BackendSettings
from providers._core.types import HttpUrl, Seconds, SingleLine


class CephSettings(BackendSettings):
    """The manager dashboard's REST API and RGW (Admin Ops and S3)."""

    section = "ceph"

    dashboard_url: HttpUrl = Field(description="Ceph Manager dashboard URL (REST API)")
    dashboard_user: SingleLine = Field(description="dashboard user with pool management rights")
    dashboard_password: SecretStr = Field(description="set with --secret")
    rgw_url: HttpUrl = Field(description="RGW endpoint: S3 and the Admin Ops API")
    rgw_access_key: SingleLine = Field(description="access key of an RGW user with users/buckets caps")
    rgw_secret_key: SecretStr = Field(description="set with --secret")
    http_timeout: Seconds = Field(
        default=60.0, gt=0, le=3600,
        description="seconds per HTTP request to the dashboard and RGW: one that takes a request and never answers "
                    "fails it then",
    )


Settings = CephSettings
