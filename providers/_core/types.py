"""Value types shared by the stack config and the providers' settings models (pydantic).

One declaration per kind of value: an API endpoint URL, a backend name. The stack config
(`components/config.py`) and each backend's settings model use these, so a value is parsed and
checked once, with the same rule wherever it appears.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator


def _http_url(value: str) -> str:
    """An http(s) API endpoint: scheme, host, a port in 1..65535, no credentials, no '..'."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme must be http or https, not {parts.scheme or '(none)'!r}")
    if not parts.hostname:
        raise ValueError("has no host")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials (set them as secrets in the stack config)")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"bad port: {e}") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is outside 1..65535")
    if ".." in parts.path.split("/"):
        raise ValueError("path must not contain '..'")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""An http or https API endpoint URL."""
