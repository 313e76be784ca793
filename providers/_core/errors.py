"""One error taxonomy for every backend.

Each backend maps its raw errors (HTTP status and body, XAPI failure codes, CloudStack error
codes) to these in exactly one place, and every message names the resource and carries the
API's own words, so an operator reading `pulumi up` output knows what failed and why.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every error a provider raises on purpose."""

    def __init__(self, resource: str, message: str) -> None:
        self.resource = resource
        self.message = message
        super().__init__(f"{resource}: {message}")


class NotFound(ProviderError):
    """The object does not exist (any more). `read` turns this into an empty id."""


class Retryable(ProviderError):
    """A temporary condition (busy, conflict, connection dropped). Safe calls may be retried."""


class Permanent(ProviderError):
    """The backend refused the request and will refuse it again unchanged."""


class Timeout(ProviderError):
    """A wait passed its deadline. The message says what was awaited and what was last seen."""


class InputError(ProviderError):
    """An input is invalid. Raised before any API call; names the field, the value and why."""

    def __init__(self, resource: str, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(resource, f"{field}={value!r}: {reason}")
