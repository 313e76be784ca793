"""XAPI as the XCP-ng resources use it: sessions, calls, async tasks, and the one error mapping.

Everything goes through the stock `XenAPI` library (XML-RPC). This module adds what it leaves out:

- a session that follows the pool: logging in to a member answers `HOST_IS_SLAVE [master]`, and
  the login is retried on that master (once per address, so a loop of redirects ends);
- sessions are always logged out (`with Xapi(...) as x:`), also when a call fails; or, given a
  `providers._core.Sessions` (the provider process's `SESSIONS`), kept for the next operation on
  the same host and login by the reads of one provider process, logged out when it exits (a
  kept session XAPI no longer knows, a restarted host's, is logged in again by `XenAPI` itself
  on `SESSION_INVALID`);
- `Async.<class>.<message>` calls waited on as tasks through `providers._core.wait_for` with a
  deadline, the task destroyed afterwards, its `error_info` mapped like any other XAPI failure;
- ONE mapping of XAPI failures and transport errors to the provider taxonomy: `map_error`;
- reads retried on retryable errors (they are safe); mutations never retried blind.

Ints travel as decimal strings (`xint`), as XAPI's XML-RPC encoding has them.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
import xmlrpc.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers._core import (
    LISTINGS,
    REAL_CLOCK,
    Clock,
    NotFound,
    Permanent,
    Policy,
    ProviderError,
    Retryable,
    Sessions,
    wait_for,
)
from providers._core.cache import current_read

from .settings import Settings

ORIGINATOR = "privatecloud-pulumi"
API_VERSION = "1.0"
NULL_REF = "OpaqueRef:NULL"

# XAPI error codes meaning "that object does not exist".
NOT_FOUND_CODES = {"HANDLE_INVALID", "UUID_INVALID"}
# Codes of temporary conditions: another operation holds the object, the host is (re)starting,
# a pool member cannot be reached right now.
RETRYABLE_CODES = {
    "OTHER_OPERATION_IN_PROGRESS",
    "HOST_STILL_BOOTING",
    "HOST_NOT_LIVE",
    "HOST_OFFLINE",
    "CANNOT_CONTACT_HOST",
    "TOO_BUSY",
    "TOO_MANY_PENDING_TASKS",
    "SESSION_INVALID",
    "EVENTS_LOST",
}
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError)


def xint(value: int) -> str:
    """An XAPI `int` parameter as XML-RPC carries it: a decimal string."""
    return str(int(value))


def _xenapi() -> Any:
    """The XenAPI library, imported when a provider first talks to XAPI (not at import time)."""
    import XenAPI

    return XenAPI


def map_error(resource: str, what: str, error: BaseException | list[str]) -> ProviderError:
    """THE mapping of an XAPI failure or transport error to the taxonomy (the only one).

    `error` is what `XenAPI` raised, or a failed task's `error_info` list. The message names the
    resource and the operation and carries XAPI's own code and parameters.
    """
    if isinstance(error, ProviderError):
        return error
    if isinstance(error, list):
        details = [str(d) for d in error] or ["INTERNAL_ERROR", "task failed without error_info"]
    elif isinstance(error, _xenapi().Failure):
        details = [str(d) for d in error.details] or ["INTERNAL_ERROR"]
    elif isinstance(error, xmlrpc.client.Fault):
        return Permanent(resource, f"{what}: XML-RPC fault {error.faultCode}: {error.faultString}")
    elif isinstance(error, (socket.timeout, TimeoutError)):
        return Retryable(resource, f"{what}: no answer from XAPI in time: {error}")
    elif isinstance(error, TRANSPORT_ERRORS):
        return Retryable(resource, f"{what}: cannot reach XAPI: {error}")
    else:
        return Permanent(resource, f"{what}: {type(error).__name__}: {error}")
    code, params = details[0], details[1:]
    message = f"{what}: {code}" + (f" {params}" if params else "")
    if code in NOT_FOUND_CODES:
        return NotFound(resource, message)
    if code in RETRYABLE_CODES:
        return Retryable(resource, message)
    if code == "SESSION_AUTHENTICATION_FAILED":
        return Permanent(resource, message + "; check the username and password given for this host")
    return Permanent(resource, message)


class _Transport(xmlrpc.client.SafeTransport):
    """HTTP or HTTPS with a per-request timeout (the library's transports have none); HTTPS with no
    certificate check unless asked (XCP-ng's is self-signed)."""

    def __init__(self, settings: Settings) -> None:
        https = settings.scheme == "https"
        super().__init__(context=tls_context(settings.verify_tls) if https else None)
        self._timeout, self._https = settings.http_timeout, https

    def make_connection(self, host: Any) -> Any:
        base = xmlrpc.client.SafeTransport if self._https else xmlrpc.client.Transport
        conn = base.make_connection(self, host)
        conn.timeout = self._timeout
        return conn


@functools.cache
def tls_context(verify: bool) -> ssl.SSLContext:
    """The TLS settings of every HTTPS session of the process, made at the first: loading the
    system's certificate authorities takes 50-60 ms of CPU, once rather than at every login (and
    never for plain HTTP). Contexts are safe to share between threads once set up."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


@dataclass(frozen=True)
class Credentials:
    """Where to log in and as whom. The password never appears in messages or repr."""

    address: str
    username: str
    password: str = field(repr=False)


class Xapi:
    """One logged-in XAPI session, on the pool master reached from any host of the pool.

    Use as a context manager: the session is logged out on exit, whatever happened.
    """

    def __init__(
        self,
        settings: Settings,
        resource: str,
        creds: Credentials,
        *,
        clock: Clock = REAL_CLOCK,
        follow_master: bool = True,
        session_factory: Callable[[str], Any] | None = None,
        sessions: Sessions | None = None,
        declared: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.resource = resource
        self.creds = creds
        self.clock = clock
        self.follow_master = follow_master
        self._factory = session_factory or (lambda url: _xenapi().Session(url, transport=_Transport(settings)))
        self._session: Any = None
        self._sessions = sessions
        self._kept: contextlib.ExitStack | None = None
        self.address = creds.address  # the address actually logged in to (the master's)
        self.declared: Mapping[str, Any] = declared or {}  # what the resource it acts for declares

    # --- session ------------------------------------------------------------------------------
    def __enter__(self) -> Xapi:
        self._kept = contextlib.ExitStack()
        if self._sessions is None:
            self.login()
            self._kept.callback(self.logout)
        else:
            self._session, self.address = self._kept.enter_context(self._sessions.use(self._key, self._open, _logout))
        return self

    def __exit__(self, *exc: object) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.close()  # logs out, or gives a kept session back
        self._session = None

    def _open(self) -> tuple[Any, str]:
        self.login()
        return self._session, self.address

    @property
    def _key(self) -> tuple[str, ...]:
        """Which kept sessions fit: the address asked for and the login (in memory only)."""
        c = self.creds
        return ("xapi", self.settings.url(c.address), c.username, c.password, str(self.follow_master))

    def login(self) -> None:
        """Log in, following `HOST_IS_SLAVE [master address]` to the master when allowed."""
        target = self.creds.address
        tried: list[str] = []
        while True:
            tried.append(target)
            session = self._factory(self.settings.url(target))
            try:
                self._login_once(session, target)
            except _xenapi().Failure as e:
                details = [str(d) for d in e.details]
                if details[0] == "HOST_IS_SLAVE" and self.follow_master and len(details) > 1:
                    master = details[1]
                    if master in tried:
                        raise Permanent(
                            self.resource, f"login: HOST_IS_SLAVE loop between {[*tried, master]}"
                        ) from e
                    target = master
                    continue
                raise map_error(self.resource, f"login to {target}", e) from e
            self._session = session
            self.address = target
            return

    def _login_once(self, session: Any, target: str) -> None:
        """One login attempt, retried only on transport errors (a login has no side effect)."""

        def attempt() -> None:
            try:
                session.xenapi.login_with_password(self.creds.username, self.creds.password, API_VERSION, ORIGINATOR)
            except _xenapi().Failure:
                raise
            except Exception as e:  # transport: retried below when retryable
                raise map_error(self.resource, f"login to {target}", e) from e

        self.policy.retry(attempt, f"login to {target}")

    @property
    def policy(self) -> Policy:
        """How safe calls (logins, reads) are retried: on retryable errors, until the deadline."""
        return Policy(self.resource, self.settings.retry_timeout, self.settings.poll_interval, self.clock)

    def logout(self) -> None:
        """Log out; a failure here is not worth failing the operation (the session expires anyway)."""
        session, self._session = self._session, None
        if session is None:
            return
        with contextlib.suppress(Exception):
            session.xenapi.session.logout()

    # --- calls --------------------------------------------------------------------------------
    def call(self, method: str, *args: Any) -> Any:
        """Call `<class>.<message>` (or `Async.<class>.<message>`) once, mapping any failure."""
        if self._session is None:
            raise Permanent(self.resource, f"{method}: not logged in")
        fn: Any = self._session.xenapi
        for part in method.split("."):
            fn = getattr(fn, part)
        try:
            return fn(*args)
        except Exception as e:
            raise map_error(self.resource, method, e) from e

    def read(self, method: str, *args: Any) -> Any:
        """A safe call (getter, listing): retried on retryable errors until the deadline.

        `<class>.get_all_records` inside a provider's read is the listing the refresh's other reads
        of this pool share (`providers._core.LISTINGS`).
        """
        if method.endswith(".get_all_records") and not args:
            return LISTINGS.get(("xapi", self.settings.url(self.address), method), lambda: self._read(method))
        return self._read(method, *args)

    def record(self, cls: str, ref: str) -> dict[str, Any]:
        """`<cls>.get_record ref`; inside a read, from the shared listing when it holds `ref`."""
        found = self.read(f"{cls}.get_all_records").get(ref) if current_read() is not None else None
        return dict(found if found is not None else self._read(f"{cls}.get_record", ref))

    def ref_by_uuid(self, cls: str, uuid: str) -> str:
        """`<cls>.get_by_uuid`; inside a read, from the shared listing when it holds `uuid`."""
        if current_read() is not None:
            for ref, rec in self.read(f"{cls}.get_all_records").items():
                if rec.get("uuid") == uuid:
                    return str(ref)
        return str(self._read(f"{cls}.get_by_uuid", uuid))

    def _read(self, method: str, *args: Any) -> Any:
        return self.policy.retry(lambda: self.call(method, *args), method)

    def run(self, method: str, *args: Any, what: str | None = None) -> Any:
        """`Async.<method>` waited on as a task with a deadline; returns the decoded result."""
        return self.wait_task(self.call(f"Async.{method}", *args), what or method, self.settings.task_timeout)

    def wait_task(self, task: str, what: str, timeout: float) -> Any:
        """Poll `task.get_record` until the task leaves `pending`; destroy it; decode its result."""

        def status(rec: Mapping[str, Any]) -> str:
            return str(rec.get("status", "pending"))

        def failed(rec: Mapping[str, Any]) -> str | None:
            if status(rec) in ("failure", "cancelled"):
                raise map_error(self.resource, what, [str(d) for d in rec.get("error_info") or []])
            return None

        try:
            rec = wait_for(lambda: self.call("task.get_record", task), resource=self.resource, what=f"task {what}",
                           done=lambda r: status(r) not in ("pending", "cancelling"), failed=failed,
                           describe=lambda r: f"{status(r)} ({float(r.get('progress', 0.0)):.0%})",
                           timeout=timeout, interval=self.settings.poll_interval, clock=self.clock)
        finally:
            with contextlib.suppress(ProviderError):  # XAPI garbage-collects tasks anyway
                self.call("task.destroy", task)
        return decode_task_result(str(rec.get("result") or ""))


def _logout(kept: tuple[Any, str]) -> None:
    """Log out a kept (session, address) at exit."""
    kept[0].xenapi.session.logout()


def decode_task_result(result: str) -> Any:
    """A task's `result`: the XML-RPC encoding of the async call's value (`<value>...</value>`)."""
    text = result.strip()
    if not text:
        return ""
    if not text.startswith("<value"):
        return text
    params, _ = xmlrpc.client.loads(f"<params><param>{text}</param></params>")
    return params[0] if params else ""


def is_null(ref: Any) -> bool:
    return not ref or ref == NULL_REF
