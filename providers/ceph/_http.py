"""The manager dashboard's REST API (RGW goes through `rgwadmin` and `boto3`: `_rgw.py`).

The client is built lazily from the `<project>:ceph` settings that `configure()` stored; it is
never pickled. One per settings in the process (`dashboard`, a core `Shared`), so every Ceph provider shares its
token (a login costs the manager 0.3-0.4 s: it checks the password hash), and a refresh logs in
before its first Ceph read (`log_in_early`, from providers._core.cache). `raise_for` is the one
place where the dashboard's raw answers become the project's error taxonomy, keeping the API's own
words (`detail`) in the message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from providers._core import NotFound, Permanent, Retryable, retry, wait_for
from providers._core.cache import Shared

from .settings import Settings

if TYPE_CHECKING:
    import requests

DASHBOARD_MEDIA = "application/vnd.ceph.api.v1.0+json"
TIMEOUT: float = Settings.model_fields["http_timeout"].default  # `httpTimeout` unless the stack config says
TASK_TIMEOUT = 600.0  # a pool create waits for its PGs: generous for a real, busy cluster
READ_RETRY = 30.0  # seconds during which a read is retried on temporary errors


def _body(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


def raise_for(resource: str, what: str, resp: requests.Response) -> None:
    """Map a non-2xx answer of the dashboard to NotFound / Retryable / Permanent."""
    if resp.status_code < 400:
        return
    body = _body(resp)
    if isinstance(body, dict):  # {"detail": "[errno -34] ...", "code": "..."}
        words = body.get("detail") or body.get("message") or json.dumps(body)
    else:
        words = str(body).strip()[:500] or resp.reason
    message = f"{what}: HTTP {resp.status_code}: {words}"
    if resp.status_code == 404:
        raise NotFound(resource, message)
    if resp.status_code in (408, 429) or resp.status_code >= 500:
        raise Retryable(resource, message)
    raise Permanent(resource, message)


class Dashboard:
    """The manager dashboard's REST API: a bearer token from POST /api/auth, renewed on 401."""

    def __init__(self, cfg: Settings) -> None:
        import requests

        self.cfg = cfg
        self.session = requests.Session()
        self.session.headers.update({"Accept": DASHBOARD_MEDIA, "Content-Type": "application/json"})
        self._token: str | None = None
        self._lock = threading.Lock()

    def _send(self, resource: str, what: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        import requests

        try:
            return self.session.request(method, f"{self.cfg.dashboard_url}{path}", timeout=self.cfg.http_timeout,
                                        **kwargs)
        except requests.RequestException as e:
            raise Retryable(resource, f"{what}: {type(e).__name__}: {e}") from e

    def log_in(self, resource: str) -> None:
        """Get a token unless there is one (a request waits meanwhile, then uses it)."""
        with self._lock:
            if self._token is None:
                self._login(resource)

    def _login(self, resource: str) -> None:
        resp = self._send(resource, "dashboard login", "POST", "/api/auth",
                          data=json.dumps({"username": self.cfg.dashboard_user,
                                           "password": self.cfg.dashboard_password.get_secret_value()}))
        raise_for(resource, "dashboard login", resp)
        self._token = str(resp.json()["token"])

    def request(self, resource: str, method: str, path: str, body: Any = None,
                params: Mapping[str, str] | None = None) -> requests.Response:
        what = f"{method} {path}"
        for attempt in (1, 2):
            with self._lock:
                if self._token is None:
                    self._login(resource)
                token = self._token
            resp = self._send(resource, what, method, path, headers={"Authorization": f"Bearer {token}"},
                              data=None if body is None else json.dumps(body), params=params)
            if resp.status_code == 401 and attempt == 1:
                with self._lock:
                    self._token = None
                continue
            raise_for(resource, what, resp)
            return resp
        raise AssertionError("unreachable")

    def call(self, resource: str, method: str, path: str, body: Any = None, *, task: str | None = None,
             task_meta: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None) -> Any:
        """Make a call; a 202 (still running as a dashboard task) is followed to its end.

        Reads are retried on temporary errors; mutations are not (the caller looks again first).
        """
        if method == "GET":
            resp = retry(lambda: self.request(resource, method, path, body, params), resource=resource,
                         what=f"GET {path}", timeout=READ_RETRY)
        else:
            resp = self.request(resource, method, path, body, params)
        if resp.status_code == 202 and task:
            self.wait_task(resource, task, task_meta or {})
            return None
        return _body(resp) if resp.content else None

    def wait_task(self, resource: str, name: str, meta: Mapping[str, str]) -> None:
        """Follow the dashboard task `name` whose metadata includes `meta` until it finishes."""

        def matches(t: Mapping[str, Any]) -> bool:
            md = t.get("metadata") or {}
            return t.get("name") == name and all(str(md.get(k)) == v for k, v in meta.items())

        def probe() -> tuple[bool, dict[str, Any] | None]:
            tasks = self.request(resource, "GET", "/api/task", params={"name": name}).json()
            running = any(matches(t) for t in tasks.get("executing_tasks", []))
            done = [t for t in tasks.get("finished_tasks", []) if matches(t)]
            return running, (done[0] if done else None)

        def failed(state: tuple[bool, dict[str, Any] | None]) -> str | None:
            running, last = state
            if running or last is None or last.get("success"):
                return None
            exc = last.get("exception") or {}
            return str(exc.get("detail") if isinstance(exc, dict) else exc) or "task failed"

        wait_for(probe, resource=resource, what=f"dashboard task {name} {dict(meta)}",
                 done=lambda s: not s[0] and s[1] is not None, failed=failed,
                 describe=lambda s: "running" if s[0] else "not listed yet",
                 timeout=TASK_TIMEOUT, interval=1.0)


dashboard: Shared[Settings, Dashboard] = Shared(Dashboard)
"""The process's dashboard client for the settings: one token for every Ceph provider."""


def log_in_early(raw: Mapping[str, Any]) -> None:
    """Log in with the stack config's `<project>:ceph` (`raw`), ahead of the first Ceph read."""
    dashboard(Settings.from_config(raw)).log_in("ceph dashboard")
