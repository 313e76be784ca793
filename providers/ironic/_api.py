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
    """This thread's python-ironicclient for `endpoint` (no auth), each request bounded by
    `timeout` seconds (its keystoneauth session's timeout; without it a request that is never
    answered waits for good).

    The API version is negotiated once per process (GET /v1, on the first request of the first
    client, which asks for `latest`): a client made before that negotiation ended, and not
    negotiated itself since, is made again with the version negotiated, so that no other thread's
    client asks Ironic again. Made with the client's documented `Client(version, endpoint_override,
    session)` on a keystoneauth session of its own: `get_client` would load openstacksdk's cloud
    config and keystoneauth's auth plugins (by entry point) for every client, for the same session.
    """
    cache: dict[tuple[str, float], Any] = _local.__dict__.setdefault("clients", {})
    key = (endpoint, timeout)
    mine = cache.get(key)
    if mine is not None and mine.current_api_version != "latest":
        return mine
    version = negotiated(endpoint)
    if mine is None or version != "latest":
        mine = cache[key] = _new_client(endpoint, timeout, version)
        if version == "latest":
            with _lock:
                _negotiating.setdefault(endpoint, []).append(mine)
    return mine


def _new_client(endpoint: str, timeout: float, version: str) -> Any:
    from ironicclient import client as ironic_client  # imported on first use, not at import
    from keystoneauth1 import noauth
    from keystoneauth1 import session as ks_session

    _choose_dbm_module()
    return ironic_client.Client("1", endpoint_override=endpoint, os_ironic_api_version=version, max_retries=0,
                                session=ks_session.Session(auth=noauth.NoAuth(), timeout=timeout))


_dbm_chosen = False


def _choose_dbm_module() -> None:
    """Let `dbm` choose its module once per process, in one thread, before the first client.

    python-ironicclient saves a negotiated version in a dbm file (dogpile's dbm backend), from
    whichever thread negotiated. The first `dbm.open` of a process tries `dbm.gnu`, `dbm.ndbm` and
    `dbm.dumb` in turn, and on a Python built without gdbm and ndbm, threads that do so at once race
    in CPython's import of a module that fails: the others get the half-made module ("module
    'dbm.gnu' has no attribute 'open'"). Once one `dbm.open` has finished, no thread imports again."""
    global _dbm_chosen
    import dbm
    import tempfile

    with _lock:
        if not _dbm_chosen:
            with tempfile.TemporaryDirectory() as tmp:
                dbm.open(f"{tmp}/choose", "c").close()
            _dbm_chosen = True


_lock = threading.Lock()
_negotiating: dict[str, list[Any]] = {}  # endpoint -> the clients made to negotiate (version `latest`)
_versions: dict[str, str] = {}  # endpoint -> the version one of them negotiated


def negotiated(endpoint: str) -> str:
    """The API version a client of this process negotiated with `endpoint`, or `latest`."""
    with _lock:
        if endpoint not in _versions:
            done = next((c for c in _negotiating.get(endpoint, ()) if c.is_api_version_negotiated), None)
            if done is not None:
                _versions[endpoint] = str(done.current_api_version)
                del _negotiating[endpoint]
        return _versions.get(endpoint, "latest")


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
