"""The Ironic client and the one place where its errors become the provider's taxonomy.

Clients are built lazily, one per thread (the provider process serves four operations at a
time), from the endpoint `configure()` received; nothing here runs at import time and nothing
is pickled. `max_retries=0`: python-ironicclient would otherwise retry every 409 five times,
2 s apart, hiding the API's answer; the provider decides what is safe to retry.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from typing_extensions import override

from providers._core import NotFound, Permanent, Policy, ProviderError, Retryable, retry

_local = threading.local()
T = TypeVar("T")

# The fields a listing asks for: enough to follow many nodes with one request per poll.
LIST_FIELDS = ["uuid", "name", "provision_state", "target_provision_state", "last_error", "power_state",
               "target_power_state"]


def client(endpoint: str, timeout: float = 60.0) -> Any:
    """This thread's python-ironicclient for `endpoint` (API version `latest`, no auth), each
    request bounded by `timeout` seconds (openstacksdk's `api_timeout`, which ironicclient hands
    to its keystoneauth session; without it a request that is never answered waits for good)."""
    cache: dict[tuple[str, float], Any] = _local.__dict__.setdefault("clients", {})
    key = (endpoint, timeout)
    if key not in cache:
        from ironicclient import client as ironic_client  # imported on first use, not at import

        # The version one thread's client negotiated (GET /v1) is asked for by the others at once.
        known = _negotiated.get(endpoint)
        version = known.current_api_version if known is not None and known.is_api_version_negotiated else "latest"
        cache[key] = ironic_client.get_client(
            "1", endpoint=endpoint, auth_type="none", os_ironic_api_version=version, max_retries=0,
            api_timeout=timeout,
        )
        if version == "latest":
            _negotiated[endpoint] = cache[key]
    return cache[key]


_negotiated: dict[str, Any] = {}  # endpoint -> a client that negotiates the API version


def _api_words(err: Exception) -> str:
    """The API's own message: ironicclient's `message`, unwrapping a JSON `faultstring`."""
    msg = str(getattr(err, "message", None) or err)
    with contextlib.suppress(ValueError, TypeError):
        body = json.loads(msg)
        if isinstance(body, dict):
            msg = str(body.get("faultstring") or body.get("error_message") or msg)
    return msg


# A 409 that goes away by itself (a lock, a transition in progress) versus one that will not
# (a duplicate name or MAC, an action the state machine refuses).
_TRANSIENT_CONFLICT = ("locked", "state transition is in progress", "is being")


@contextlib.contextmanager
def errors(resource: str, action: str) -> Iterator[None]:
    """Map python-ironicclient's exceptions raised by `action` to NotFound/Retryable/Permanent."""
    from ironicclient.common.apiclient import exceptions as api_exc
    from keystoneauth1 import exceptions as ks_exc  # the transport under ironicclient

    try:
        yield
    except ProviderError:
        raise
    except api_exc.HttpError as e:
        status = getattr(e, "http_status", None) or 0
        words = f"{action}: {_api_words(e)} (HTTP {status})"
        if status == 404:
            raise NotFound(resource, words) from e
        if status == 409 and any(t in words for t in _TRANSIENT_CONFLICT):
            raise Retryable(resource, words) from e
        if status in (408, 429, 502, 503, 504):
            raise Retryable(resource, words) from e
        raise Permanent(resource, words) from e
    except (api_exc.ConnectionError, ks_exc.ConnectionError, ks_exc.RetriableConnectionFailure) as e:
        raise Retryable(resource, f"{action}: cannot reach Ironic: {e}") from e
    except (api_exc.ClientException, ks_exc.ClientException) as e:
        raise Permanent(resource, f"{action}: {_api_words(e)}") from e
    except OSError as e:
        raise Retryable(resource, f"{action}: cannot reach Ironic: {e}") from e


def call(resource: str, action: str, fn: Callable[[], T], *, interval: float = 1.0) -> T:
    """A safe request (a read, or one Ironic refuses without acting on it: a lock), its errors
    mapped by `errors` and retried while they are `Retryable`."""

    def attempt() -> T:
        with errors(resource, action):
            return fn()

    return retry(attempt, resource=resource, what="the request", interval=interval)


class Once(Policy):
    """Safe requests retry themselves (`call`); a create or delete as a whole is tried once: a
    node a failed create may have made is adopted by name by the next `up`."""

    @override
    def retry(self, call: Callable[[], T], what: str) -> T:
        return call()
