"""`<project>:cloudstack`: the one settings model of the CloudStack backend.

The stack config (`components.config.StackConfig.cloudstack`) and the providers' `configure()`
validate with this same model, so every documented key is accepted and reaches the provider.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from providers._core.settings import BackendSettings
from providers._core.types import HttpUrl


class CloudStackSettings(BackendSettings):
    """Management-server endpoint, API keys, deadlines and HTTP method."""

    section = "cloudstack"

    endpoint: HttpUrl = Field(description="management server API URL, e.g. http://cs:8080/client/api")
    api_key: str = Field(min_length=1, description="API key of a root admin")
    secret_key: SecretStr = Field(description="set with --secret")
    job_timeout: float = Field(default=900.0, gt=0, description="seconds an async job may take")
    poll_interval: float = Field(default=2.0, gt=0, description="seconds between queryAsyncJobResult calls")
    retry_timeout: float = Field(default=60.0, gt=0, description="seconds safe calls are retried on retryable errors")
    http_timeout: int = Field(default=30, gt=0, description="seconds per HTTP request")
    method: Literal["post", "get"] = Field(
        default="post", description="post keeps secrets (S3 keys, host passwords) out of URLs and access logs"
    )


Settings = CloudStackSettings
