"""`<project>:cloudstack`: the one settings model of the CloudStack backend.

The stack config (`components.config.StackConfig.cloudstack`) and the providers' `configure()`
validate with this same model, so every documented key is accepted and reaches the provider.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from providers._core.settings import BackendSettings
from providers._core.types import HttpUrl, Seconds, SingleLine


class CloudStackSettings(BackendSettings):
    """Management-server endpoint, API keys, deadlines and HTTP method."""

    section = "cloudstack"

    endpoint: HttpUrl = Field(description="management server API URL, e.g. http://cs:8080/client/api")
    api_key: SingleLine | None = Field(default=None, min_length=1, description="API key of a root admin; unset: "
                                       "the keys come from a ManagementServer (`privatecloud:managementServer`)")
    secret_key: SecretStr | None = Field(default=None, validate_default=True, description="set with --secret")
    job_timeout: Seconds = Field(default=900.0, gt=0, le=86400, description="seconds an async job may take")
    poll_interval: Seconds = Field(default=2.0, gt=0, le=3600, description="seconds between queryAsyncJobResult calls")
    retry_timeout: Seconds = Field(
        default=60.0, gt=0, le=86400, description="seconds safe calls are retried on retryable errors"
    )
    http_timeout: int = Field(default=30, gt=0, le=3600, strict=True, description="seconds per HTTP request")
    method: Literal["post", "get"] = Field(
        default="post", description="post keeps secrets (S3 keys, host passwords) out of URLs and access logs"
    )

    @field_validator("secret_key")
    @classmethod
    def _in_pairs(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and info.data.get("api_key") is not None:
            raise ValueError("required with apiKey (the keys come in pairs)")
        return value


Settings = CloudStackSettings
