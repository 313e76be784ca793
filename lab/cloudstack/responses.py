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
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.faults import Faults
from lab.cloudstack.jobs import Job
from lab.cloudstack.models import Backend

# Parameters that belong to the transport, not to the command: left out of the request log.
TRANSPORT = {"apikey", "signature", "signatureversion", "expires", "response", "command", "sessionkey"}


class LoggedRequest(NamedTuple):
    """One served request: command, its parameters (no transport ones), and the error answered."""

    command: str
    params: dict[str, str]
    error: CloudStackError | None


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | None  # None: drop the connection
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


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


def verify(params: dict[str, str], api_key: str, secret_key: str, clock: Callable[[], float]) -> bool:
    """ApiServer.verifyRequest for one admin key pair."""
    lower = {k.lower(): v for k, v in params.items()}
    if spec.lookup(params.get("command")) is None:
        return False
    given_key, signature = lower.get("apikey"), lower.get("signature")
    if not given_key or not signature or given_key != api_key:
        return False
    if lower.get("signatureversion") == "3":
        expires = parse_expires(lower.get("expires", ""))
        if expires is None or expires.timestamp() < clock():
            return False
    expected = sign(params, secret_key)
    return hmac.compare_digest(expected.encode(), signature.encode())


# ------------------------------------------------------------------------------------ dispatch

Handler = Callable[["Responses", dict[str, Any]], "Reply"]
HANDLERS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    """Register a handler; the command must exist in listApis 4.18."""
    if spec.lookup(name) is None:
        raise ValueError(f"{name} is not a CloudStack 4.18 command")

    def deco(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return deco


@dataclass
class Reply:
    """A handler's result: the response body, or a job (async) with the id of what it creates."""

    body: dict[str, Any] | None = None
    job: Job | None = None
    created_id: str | None = None


def one(key: str, obj: dict[str, Any]) -> Reply:
    return Reply({key: obj})


def listing(key: str, objs: list[dict[str, Any]], p: dict[str, Any]) -> Reply:
    """`{"count": N, "<key>": [...]}`, or `{}` when empty; page/pagesize as BaseListCmd does."""
    total = len(objs)
    if "pagesize" in p and p["pagesize"] > 0:
        page = max(p.get("page", 1), 1)
        objs = objs[(page - 1) * p["pagesize"]: page * p["pagesize"]]
    if not objs:
        return Reply({})
    return Reply({"count": total, key: objs})


def success() -> Reply:
    return Reply({"success": True})


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

    def handle(self, params: dict[str, str]) -> Answer:
        command_name = params.get("command") or ""
        api = spec.lookup(command_name)
        logged = {k: v for k, v in params.items() if k.lower() not in TRANSPORT}
        response_name = api.response_name if api else "errorresponse"

        def fail(err: CloudStackError) -> Answer:
            self.request_log.append(LoggedRequest(command_name, logged, err))
            name = err.response_name or response_name
            return Answer(err.errorcode, {name: err.body()}, {"X-Description": err.errortext})

        if not verify(params, self.api_key, self.secret_key, self.clock) or api is None:
            err = errors.unauthorized()
            if api is None:
                err.response_name = "errorresponse"
            return fail(err)

        delay = 0.0
        lat = self.faults.take("latency", command_name)
        if lat is not None:
            delay = lat.seconds
        if self.faults.take("drop", command_name) is not None:
            self.request_log.append(LoggedRequest(command_name, logged, None))
            return Answer(0, None, delay=delay)
        injected = self.faults.take("error", command_name)
        if injected is not None and injected.error is not None:
            answer = fail(injected.error)
            answer.delay = delay
            return answer

        handler = HANDLERS.get(command_name)
        if handler is None:
            answer = fail(errors.unsupported(
                f"The CloudStack emulator does not implement {command_name} (it exists in CloudStack 4.18)"))
            answer.delay = delay
            return answer

        with self.backend.lock:
            try:
                typed = spec.process(api, params, self.backend.exists)
                job_fault = self.faults.take("job", command_name) if api.isasync else None
                self._job_fault = job_fault.error if job_fault is not None else None
                reply = handler(self, typed)
            except CloudStackError as err:
                answer = fail(err)
                answer.delay = delay
                return answer
        self.request_log.append(LoggedRequest(command_name, logged, None))
        if reply.job is not None:
            body: dict[str, Any] = {"jobid": reply.job.id}
            if reply.created_id is not None:
                body["id"] = reply.created_id
        else:
            body = reply.body or {}
        return Answer(200, {response_name: body}, delay=delay)

    _job_fault: CloudStackError | None = None

    def submit(self, command_name: str, instance_type: str, instance_id: str | None,
               run: Callable[[], dict[str, Any]], on_fail: Callable[[], None] | None = None) -> Job:
        """Start a job for the current request, failing it if a test asked for that."""
        return self.backend.submit(command_name, instance_type, instance_id, run,
                                   fail_with=self._job_fault, on_fail=on_fail)


# ------------------------------------------------------------------------------------ commands
# Each handler receives the typed parameters (spec.process) and calls the backend.


@command("listZones")
def list_zones(r: Responses, p: dict[str, Any]) -> Reply:
    from lab.cloudstack.models import Zone

    zones = r.backend.all(Zone)
    if "id" in p:
        zones = [z for z in zones if z.id == p["id"]]
    if "name" in p:
        zones = [z for z in zones if z.name == p["name"]]
    if "networktype" in p:
        zones = [z for z in zones if z.networktype == p["networktype"]]
    if "keyword" in p:
        zones = [z for z in zones if p["keyword"].lower() in z.name.lower()]
    return listing("zone", [z.to_api(r.backend) for z in r.backend.read(zones)], p)


@command("createZone")
def create_zone(r: Responses, p: dict[str, Any]) -> Reply:
    return one("zone", r.backend.create_zone(p).to_api(r.backend))


@command("updateZone")
def update_zone(r: Responses, p: dict[str, Any]) -> Reply:
    return one("zone", r.backend.update_zone(p).to_api(r.backend))


@command("deleteZone")
def delete_zone(r: Responses, p: dict[str, Any]) -> Reply:
    r.backend.delete_zone(p["id"])
    return success()


@command("queryAsyncJobResult")
def query_async_job_result(r: Responses, p: dict[str, Any]) -> Reply:
    job = r.backend.jobs.poll(p["jobid"])
    if job is None:
        raise errors.invalid_parameter(f"Unable to find a job by id {p['jobid']}")
    return Reply(job.to_api())
