"""The two remote Ceph APIs: the manager dashboard's REST API and RGW's Admin Ops (and S3) API.

Both clients are built lazily from the `<project>:ceph` stack-config object that `configure()`
stored; neither is ever pickled. `raise_for` is the one place where raw answers of either API
become the project's error taxonomy, keeping the API's own words (the dashboard's `detail`, RGW's
`Code`) in the message.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from providers._core import InputError, NotFound, Permanent, Retryable, retry, wait_for

DASHBOARD_MEDIA = "application/vnd.ceph.api.v1.0+json"
TIMEOUT = 60.0  # seconds for one HTTP request
TASK_TIMEOUT = 600.0  # a pool create waits for its PGs: generous for a real, busy cluster
READ_RETRY = 30.0  # seconds during which a read is retried on temporary errors


@dataclass(frozen=True)
class CephConfig:
    """The `<project>:ceph` stack-config object (camelCase keys on the wire)."""

    dashboard_url: str = ""
    dashboard_user: str = ""
    dashboard_password: str = ""
    rgw_url: str = ""
    rgw_access_key: str = ""
    rgw_secret_key: str = ""

    KEYS = {
        "dashboardUrl": "dashboard_url",
        "dashboardUser": "dashboard_user",
        "dashboardPassword": "dashboard_password",
        "rgwUrl": "rgw_url",
        "rgwAccessKey": "rgw_access_key",
        "rgwSecretKey": "rgw_secret_key",
    }

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> CephConfig:
        unknown = sorted(set(section) - set(cls.KEYS))
        if unknown:
            raise InputError("config", "ceph", unknown, f"unknown keys; known: {sorted(cls.KEYS)}")
        return cls(**{cls.KEYS[k]: str(v) for k, v in section.items()})

    def __repr__(self) -> str:  # never show the secrets
        return f"CephConfig(dashboard_url={self.dashboard_url!r}, rgw_url={self.rgw_url!r})"

    def need(self, resource: str, *names: str) -> None:
        missing = [k for k, v in self.KEYS.items() if v in names and not getattr(self, v)]
        if missing:
            raise InputError(resource, "config ceph", missing, "missing from the stack config object <project>:ceph")


def _body(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


def raise_for(resource: str, what: str, resp: requests.Response) -> None:
    """Map a non-2xx answer of either API to NotFound / Retryable / Permanent."""
    if resp.status_code < 400:
        return
    body = _body(resp)
    if isinstance(body, dict):
        # Dashboard: {"detail": "[errno -34] ...", "code": "..."}; RGW: {"Code": "NoSuchUser", ...}
        words = body.get("detail") or body.get("Code") or body.get("message") or json.dumps(body)
        if body.get("Code") and body.get("Message"):
            words = f"{body['Code']}: {body['Message']}"
    else:
        words = str(body).strip()[:500] or resp.reason
    message = f"{what}: HTTP {resp.status_code}: {words}"
    if resp.status_code == 404:
        raise NotFound(resource, message)
    if resp.status_code in (408, 429) or resp.status_code >= 500:
        raise Retryable(resource, message)
    raise Permanent(resource, message)


def _send(resource: str, what: str, session: requests.Session, method: str, url: str,
          **kwargs: Any) -> requests.Response:
    try:
        return session.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as e:
        raise Retryable(resource, f"{what}: {type(e).__name__}: {e}") from e


class Dashboard:
    """The manager dashboard's REST API: a bearer token from POST /api/auth, renewed on 401."""

    def __init__(self, cfg: CephConfig) -> None:
        self.cfg = cfg
        self.session = requests.Session()
        self.session.headers.update({"Accept": DASHBOARD_MEDIA, "Content-Type": "application/json"})
        self._token: str | None = None
        self._lock = threading.Lock()

    def _login(self, resource: str) -> None:
        resp = _send(resource, "dashboard login", self.session, "POST", f"{self.cfg.dashboard_url}/api/auth",
                     data=json.dumps({"username": self.cfg.dashboard_user,
                                      "password": self.cfg.dashboard_password}))
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
            resp = _send(resource, what, self.session, method, f"{self.cfg.dashboard_url}{path}",
                         headers={"Authorization": f"Bearer {token}"},
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


def sign_v2(secret_key: str, method: str, path: str, date: str, content_type: str = "") -> str:
    """AWS signature version 2 as RGW checks it (Admin Ops and S3): HMAC-SHA1, Base64.

    The string to sign is `METHOD\\n\\nContent-Type\\nDate\\n/path`; the admin sub-resources
    (`?caps`, `?key`, `?quota`) are not part of it, RGW does not sign them.
    """
    to_sign = f"{method}\n\n{content_type}\n{date}\n{path}"
    digest = hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class Rgw:
    """RGW's Admin Ops API (and plain S3 for buckets), signed with AWS signature v2."""

    def __init__(self, url: str, access_key: str, secret_key: str) -> None:
        self.url = url.rstrip("/")
        self.access_key = access_key
        self.secret_key = secret_key
        self.session = requests.Session()

    def request(self, resource: str, method: str, path: str, params: Mapping[str, Any] | None = None,
                sub: str | None = None, body: Any = None) -> requests.Response:
        date = email.utils.formatdate(usegmt=True)
        ctype = "application/json" if body is not None else ""
        query = [sub] if sub else []
        query += [f"{k}={quote(str(v), safe='')}" for k, v in (params or {}).items()]
        url = f"{self.url}{path}" + ("?" + "&".join(query) if query else "")
        headers = {"Date": date,
                   "Authorization": f"AWS {self.access_key}:{sign_v2(self.secret_key, method, path, date, ctype)}"}
        if ctype:
            headers["Content-Type"] = ctype
        what = f"{method} {path}{'?' + sub if sub else ''}"
        resp = _send(resource, what, self.session, method, url, headers=headers,
                     data=None if body is None else json.dumps(body))
        raise_for(resource, what, resp)
        return resp

    def admin(self, resource: str, method: str, sub: str | None = None, body: Any = None,
              **params: Any) -> Any:
        """An `/admin/user` call; parameters use the API's dashed names (pass them with `_`)."""
        wire = {k.replace("_", "-"): v for k, v in params.items() if v is not None}
        wire["format"] = "json"
        if method == "GET":
            resp = retry(lambda: self.request(resource, method, "/admin/user", wire, sub, body),
                         resource=resource, what=f"GET /admin/user {sub or ''}", timeout=READ_RETRY)
        else:
            resp = self.request(resource, method, "/admin/user", wire, sub, body)
        return _body(resp) if resp.content else None
