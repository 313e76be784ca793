"""Parse, verify, validate, call, serialise: one management-server request end to end.

The order is ApiServlet/ApiServer's: verify the request (command known, apiKey and signature
present, key known, signatureVersion 3 expiry, HMAC-SHA1 over the sorted, URL-encoded,
lower-cased parameters) -> 401 on any failure; then the faults a test asked for; then the
dispatcher's parameter processing (431); then the command. Sync commands answer
`{"<cmd>response": {...}}`; async ones `{"<cmd>response": {"jobid": ...}}` (plus "id" for an
async create) and run as jobs (see jobs.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from lab.cloudstack import errors, spec
from lab.cloudstack.commands import HANDLERS, Ctx
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.faults import Faults
from lab.cloudstack.models import Backend

# Parameters that belong to the transport, not to the command: left out of the request log.
TRANSPORT = {"apikey", "signature", "signatureversion", "expires", "response", "command", "sessionkey"}


class LoggedRequest(NamedTuple):
    """One request: command, its parameters (no transport ones: apiKey, signature, signatureVersion,
    expires, response), the error answered (None on success), and whether a fault dropped it."""

    command: str
    params: dict[str, str]
    error: CloudStackError | None
    dropped: bool = False


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | None  # None: drop the connection
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    xml: bool = False  # no response=json: the server's default, XML


# ----------------------------------------------------------------------------------- signature


def java_urlencode(value: str) -> str:
    """URLEncoder.encode(value, "UTF-8") with "+" replaced by "%20", as ApiServer signs."""
    return urllib.parse.quote(value, safe="*-._").replace("~", "%7E")


def string_to_sign(params: dict[str, str]) -> str:
    """All parameters but `signature` (any case), names sorted as sent (case-sensitive), lower-cased."""
    names = sorted(n for n in params if n.lower() != "signature")
    return "&".join(f"{n}={java_urlencode(params[n])}" for n in names).lower()


def sign(params: dict[str, str], secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), string_to_sign(params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


EXPIRES_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def parse_expires(text: str) -> datetime | None:
    """DateUtil.parseTZDateString: yyyy-MM-dd'T'HH:mm:ssZ (and the RFC 3339 forms clients send)."""
    m = EXPIRES_RE.match(text)
    if not m:
        return None
    tz = m.group(3)
    tz = "+0000" if tz == "Z" else tz.replace(":", "")
    try:
        return datetime.strptime(m.group(1) + tz, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def verify(params: dict[str, str], secret_for: Callable[[str], str | None], clock: Callable[[], float]) -> bool:
    """ApiServer.verifyRequest: the key names a user (`secret_for` gives its secret key), the
    signature is that user's."""
    lower = {k.lower(): v for k, v in params.items()}
    if spec.lookup(params.get("command")) is None:
        return False
    given_key, signature = lower.get("apikey"), lower.get("signature")
    secret_key = secret_for(given_key) if given_key else None
    if not given_key or not signature or secret_key is None:
        return False
    if lower.get("signatureversion") == "3":
        expires = parse_expires(lower.get("expires", ""))
        if expires is None or expires.timestamp() < clock():
            return False
    expected = sign(params, secret_key)
    return hmac.compare_digest(expected.encode(), signature.encode())


class Responses:
    """Request handling for one emulator: keys, backend, faults, request log."""

    def __init__(self, backend: Backend, api_key: str, secret_key: str, faults: Faults,
                 clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.api_key = api_key
        self.secret_key = secret_key
        self.faults = faults
        self.clock = clock
        self.request_log: list[LoggedRequest] = []

    def _secret_for(self, api_key: str) -> str | None:
        """The lab's admin key pair, or a user's own keys (registerUserKeys)."""
        if api_key == self.api_key:
            return self.secret_key
        with self.backend.lock:
            user = self.backend.tenants.user_by_key(api_key)
            return user.secretkey if user is not None else None

    def _caller(self, params: dict[str, str]) -> Any:
        """The account of a user who signed with their own keys; None for the lab's admin keys."""
        given = next((v for k, v in params.items() if k.lower() == "apikey"), "")
        if given == self.api_key:
            return None
        with self.backend.lock:
            user = self.backend.tenants.user_by_key(given)
            return user.account if user is not None else None

    def handle(self, params: dict[str, str]) -> Answer:
        answer = self._handle(params)
        wanted = next((v for k, v in params.items() if k.lower() == "response"), "")
        answer.xml = wanted.lower() != "json"
        return answer

    def _handle(self, params: dict[str, str]) -> Answer:
        command_name = params.get("command") or ""
        api = spec.lookup(command_name)
        logged = {k: v for k, v in params.items() if k.lower() not in TRANSPORT}
        if api is None or not verify(params, self._secret_for, self.clock):
            err = errors.unauthorized()
            if api is None:
                err.response_name = "errorresponse"
            return self._fail(command_name, logged, api.response_name if api else "errorresponse", err)
        latency = self.faults.take("latency", command_name)
        delay = latency.seconds if latency is not None else 0.0
        if self.faults.take("drop", command_name) is not None:
            self.request_log.append(LoggedRequest(command_name, logged, None, dropped=True))
            return Answer(0, None, delay=delay)
        try:
            body = self._run(api, params, self._caller(params))
        except CloudStackError as err:
            answer = self._fail(command_name, logged, api.response_name, err)
        else:
            self.request_log.append(LoggedRequest(command_name, logged, None))
            answer = Answer(200, {api.response_name: body})
        answer.delay = delay
        return answer

    def _fail(self, command_name: str, logged: dict[str, str], response_name: str, err: CloudStackError) -> Answer:
        self.request_log.append(LoggedRequest(command_name, logged, err))
        name = err.response_name or response_name
        return Answer(err.errorcode, {name: err.body()}, {"X-Description": err.errortext})

    def _run(self, api: spec.Api, params: dict[str, str], caller: Any) -> dict[str, Any]:
        """An injected error, or the command's answer; raises CloudStackError as the server answers.

        `caller` is the account of a user who signed with their own keys (None: the lab's admin):
        its role decides which commands it may call (432 otherwise), before anything else."""
        if caller is not None:
            self.backend.tenants.check_api(caller, api.name)
        injected = self.faults.take("error", api.name)
        if injected is not None and isinstance(injected.error, CloudStackError):
            raise injected.error
        handler = HANDLERS.get(api.name)
        if handler is None:
            raise errors.unsupported(
                f"The CloudStack emulator does not implement {api.name} (it exists in CloudStack 4.18)")
        with self.backend.lock:
            typed = spec.process(api, params, self.backend.store.exists)
            job_fault = self.faults.take("job", api.name) if api.isasync else None
            fail_job = job_fault.error if job_fault is not None else None
            assert fail_job is None or isinstance(fail_job, CloudStackError)
            try:
                return handler(Ctx(self.backend, api.name, fail_job, caller), typed).answer()
            except spec.UndeclaredParameter as bug:  # an emulator bug, made loud
                raise errors.internal_error(f"CloudStack emulator bug: {bug.args[0]}") from None
