"""The CloudStack management-server API as the resources use it: calls, listings, async jobs.

Everything goes through the stock `cs` client (it signs requests the way the server checks them).
This module adds what `cs` leaves out and the resources need:

- ONE mapping of CloudStack errors (`errorcode`, `cserrorcode`, `errortext`, for answers and for
  failed async jobs alike) and of transport errors to the provider taxonomy: `map_error`;
- async jobs followed to their end through `providers._core.wait_for` (deadline, interval and
  clock injectable), never `cs`'s own unbounded poll;
- listings retried on retryable errors (they are safe); mutations are never retried blind: the
  resources look the object up again first (`providers._core.wait.ensure`, `remove`, with
  `Api.policy`).

Settings come from the stack-config object `<project>:cloudstack` via `configure()`; the secret
key lives only in memory of the provider process and never appears in a message.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from providers._core import (
    LISTINGS,
    REAL_CLOCK,
    Clock,
    NotFound,
    Permanent,
    ProviderError,
    Retryable,
    wait_for,
)
from providers._core.cache import Shared, current_read
from providers._core.wait import Policy

from .settings import Settings

if TYPE_CHECKING:
    from cs import CloudStack

T = TypeVar("T")

# queryAsyncJobResult jobstatus (JobInfo.Status ordinal).
JOB_PENDING, JOB_SUCCEEDED, JOB_FAILED, JOB_CANCELLED = 0, 1, 2, 3

# ApiErrorCode values that describe a temporary condition: throttling, a resource that is
# unavailable right now. Everything else CloudStack refuses is refused again unchanged.
RETRYABLE_CODES = {429, 534}
# CSExceptionErrorCode values of temporary conditions: ConcurrentOperationException,
# RequestLimitException, OperationTimedoutException, AgentUnavailableException.
RETRYABLE_CS_CODES = {4300, 4545, 4560, 4285}
# How CloudStack words "the object you named does not exist" (431 PARAM_ERROR in every case):
# the dispatcher's uuid translation ("... or entity does not exist ..."), "A zone with ID: x does
# not exist.", "unable to find zone by id x", "Can't find cluster by id x", "Host with id x doesn't
# exist". Narrow on purpose: "Unable to find the default physical network with traffic=Management"
# is a refusal, not a vanished object, and must not be mistaken for one.
NOT_FOUND = re.compile(
    r"does not exist|doesn't exist|(unable to|can't|cannot|could not) find [\w ]{1,40}? by (the )?id",
    re.IGNORECASE,
)


def _error_fields(error: Any) -> tuple[int | None, int | None, str]:
    """(errorcode, cserrorcode, errortext) of an error answer or a failed job's `jobresult`."""
    if not isinstance(error, Mapping):
        return None, None, str(error)
    code, cs_code = error.get("errorcode"), error.get("cserrorcode")
    return (
        int(code) if code is not None else None,
        int(cs_code) if cs_code is not None else None,
        str(error.get("errortext") or error),
    )


def map_error(resource: str, command: str, error: Any) -> ProviderError:
    """THE mapping of a CloudStack or transport failure to the taxonomy (the only one).

    `error` is what `cs` raised, a `requests` exception, or the `jobresult` of a failed job.
    Messages name the resource and the command and carry CloudStack's own words and codes.
    """
    import requests
    from cs import CloudStackApiException, CloudStackException

    if isinstance(error, ProviderError):
        return error
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return Retryable(resource, f"{command}: connection to the management server failed: {error}")
    if isinstance(error, CloudStackApiException):
        error = error.error
    elif isinstance(error, CloudStackException):
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        text = " ".join(str(a) for a in error.args)
        if status is not None and (status >= 500 or status == 429):
            return Retryable(resource, f"{command}: {text}")
        return Permanent(resource, f"{command}: {text}")
    code, cs_code, text = _error_fields(error)
    codes = f"errorcode {code}" + (f", cserrorcode {cs_code}" if cs_code is not None else "")
    message = f"{command}: {text} ({codes})"
    if code == 401:
        return Permanent(resource, message + "; check the apiKey and secretKey of the cloudstack config")
    if code in RETRYABLE_CODES or cs_code in RETRYABLE_CS_CODES:
        return Retryable(resource, message)
    if code in (430, 431) and NOT_FOUND.search(text):
        return NotFound(resource, message)
    return Permanent(resource, message)


def first_list(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The objects of a list answer (`{"count": n, "<object>": [...]}`, or `{}` when empty)."""
    for key, value in answer.items():
        if key != "count" and isinstance(value, list):
            return [dict(v) for v in value]
    return []


def single(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The object of a create/update answer: `{"<object>": {...}}` or `{"count":1,"<object>":[...]}`."""
    objs = first_list(answer)
    if objs:
        return objs[0]
    for value in answer.values():
        if isinstance(value, Mapping):
            return dict(value)
    return dict(answer)


def _client(s: Settings) -> CloudStack:
    from cs import CloudStack

    secret = s.secret_key.get_secret_value() if s.secret_key is not None else ""  # checked by the provider
    return CloudStack(endpoint=s.endpoint, key=s.api_key, secret=secret, timeout=s.http_timeout, method=s.method,
                      retry=0)


shared_client: Shared[Settings, CloudStack] = Shared(_client)
"""The process's `cs` client for these settings, shared by every operation and thread (it keeps no
state but its `requests` session): connections are kept for the next request, where a client per
operation opened one and closed it again for every read of a refresh."""


class Api:
    """A CloudStack client for one resource operation. Built per call from `Settings`; the `cs`
    client under it is the process's (`shared_client`)."""

    def __init__(self, settings: Settings, resource: str, clock: Clock = REAL_CLOCK) -> None:
        self.settings = settings
        self.resource = resource
        self.clock = clock
        self.policy = Policy(resource, settings.retry_timeout, settings.poll_interval, clock)
        self._client: CloudStack | None = None

    @property
    def _cs(self) -> CloudStack:
        """The `cs` client, imported and built when the first request is made."""
        if self._client is None:
            self._client = shared_client(self.settings)
        return self._client

    # --- raw calls ---------------------------------------------------------------------------

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        """One request; every failure is mapped. Not retried: the caller knows whether it is safe."""
        import requests
        from cs import CloudStackException

        clean = {k: v for k, v in params.items() if v is not None}
        try:
            answer = getattr(self._cs, command)(**clean)
        except (CloudStackException, requests.RequestException) as e:
            raise map_error(self.resource, command, e) from e
        return dict(answer) if isinstance(answer, Mapping) else {}

    def list(self, command: str, **params: Any) -> list[dict[str, Any]]:
        """A listing (safe: retried on retryable errors until the retry deadline); inside a
        provider's read, shared with the refresh's other reads (`providers._core.LISTINGS`)."""
        key = ("cloudstack", self.settings.endpoint, command, tuple(sorted((k, str(v)) for k, v in params.items())))
        return LISTINGS.get(key, lambda: self.policy.retry(lambda: first_list(self.call(command, **params)), command))

    def find(self, command: str, **params: Any) -> dict[str, Any] | None:
        """The one object a listing returns, or None. An id that no longer exists is None too.

        Inside a read, an object by id comes from the shared listing of every such object (the same
        command and filters but the id) when it holds it: one request for all the resources of
        the kind; else it is asked for alone.
        """
        if "id" in params and current_read() is not None:
            rest = {k: v for k, v in params.items() if k != "id"}
            with contextlib.suppress(Permanent, NotFound):  # a listing refused without the id: ask alone
                found = next((o for o in self.list(command, **rest) if o.get("id") == params["id"]), None)
                if found is not None:
                    return found
        try:
            objs = self.list(command, **params)
        except NotFound:
            return None
        return objs[0] if objs else None

    # --- async jobs --------------------------------------------------------------------------

    def job(self, command: str, what: str | None = None, **params: Any) -> dict[str, Any]:
        """Run an async command and follow its job to the end; the job's result object.

        The submission is not retried (it is a mutation); the polling is (queryAsyncJobResult is
        safe). A failed job raises through `map_error` with the job's own errortext and code.
        """
        submitted = self.call(command, **params)
        jobid = submitted.get("jobid")
        if not jobid:
            return single(submitted)
        return self.follow(command, str(jobid), what or command)

    def follow(self, command: str, jobid: str, what: str) -> dict[str, Any]:
        result = self.wait(
            lambda: self.call("queryAsyncJobResult", jobid=jobid),
            what=f"{what} (job {jobid})",
            done=lambda r: int(r.get("jobstatus", JOB_PENDING)) != JOB_PENDING,
            describe=lambda r: f"jobstatus {r.get('jobstatus')}, jobprocstatus {r.get('jobprocstatus')}",
        )
        status = int(result.get("jobstatus", JOB_PENDING))
        if status == JOB_SUCCEEDED and not result.get("jobresultcode"):
            outcome = result.get("jobresult") or {}
            return single(outcome) if isinstance(outcome, Mapping) else {}
        if status == JOB_CANCELLED:
            raise Permanent(self.resource, f"{command}: job {jobid} was cancelled")
        raise map_error(self.resource, command, result.get("jobresult") or {"errortext": "job failed"})

    # --- waits ------------------------------------------------------------------------------

    def wait(self, probe: Callable[[], T], *, what: str, done: Callable[[T], bool],
             failed: Callable[[T], str | None] = lambda _: None, describe: Callable[[T], str] = repr,
             timeout: float | None = None) -> T:
        """`wait_for` bounded by the job timeout (or `timeout`), polling every `pollInterval`."""
        return wait_for(probe, resource=self.resource, what=what, done=done, failed=failed, describe=describe,
                        timeout=self.settings.job_timeout if timeout is None else timeout,
                        interval=self.settings.poll_interval, clock=self.clock)

    def wait_state(
        self,
        command: str,
        obj_id: str,
        *,
        key: str,
        target: str,
        failures: tuple[str, ...] = (),
        what: str,
    ) -> dict[str, Any]:
        """Poll `command id=obj_id` until its `key` is `target`; a failure state stops the wait."""

        def probe() -> dict[str, Any]:
            obj = self.find(command, id=obj_id)
            if obj is None:
                raise NotFound(self.resource, f"{command}: {obj_id} vanished while waiting for {what}")
            return obj

        return self.wait(probe, what=what, done=lambda o: str(o.get(key)) == target,
                         failed=lambda o: f"{key} is {o.get(key)}" if str(o.get(key)) in failures else None,
                         describe=lambda o: f"{key} {o.get(key)}")
