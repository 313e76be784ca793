"""`<project>:ceph`: the one settings model of the Ceph backend.

The stack config and the providers' `configure()` validate with this same model.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from providers._core.settings import BackendSettings
from providers._core.types import HttpUrl


class CephSettings(BackendSettings):
    """The manager dashboard's REST API and RGW (Admin Ops and S3)."""

    section = "ceph"

    dashboard_url: HttpUrl = Field(description="Ceph Manager dashboard URL (REST API)")
    dashboard_user: str = Field(description="dashboard user with pool management rights")
    dashboard_password: SecretStr = Field(description="set with --secret")
    rgw_url: HttpUrl = Field(description="RGW endpoint: S3 and the Admin Ops API")
    rgw_access_key: str = Field(description="access key of an RGW user with users/buckets caps")
    rgw_secret_key: SecretStr = Field(description="set with --secret")


Settings = CephSettings
