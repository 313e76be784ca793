"""`cloudstack.ManagementServer`: day 0 of a management server, and the keys the program uses.

A fresh install has one way in: the ROOT `admin` user with the install's initial password. This
resource waits (bounded: `answer_timeout`) until the management server answers at all (a server
just deployed is still booting it), then logs in with it (`login`, POST, a session), changes the
password when `new_password` asks, and registers API keys for the user (`registerUserKeys`); its
outputs (endpoint, api_key, secret_key: secrets) are the `connection` of every other CloudStack
resource, so a bootstrapped region's stack config holds no CloudStack keys.

- Bumping `key_version` rotates the keys (an in-place update: the old pair stops working at once);
  the other resources take the new pair as an in-place update that calls nothing.
- A password already changed (a re-run after a failure) is recognised: the login tries
  `new_password` when the initial one is refused.
- Refresh checks the keys with a signed call; keys revoked or replaced out of band read as gone, so
  the next `up` registers new ones.
- Delete revokes the program's keys (registers a pair nobody keeps); the user and its password stay.

Secrets (passwords, keys) are never in a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from providers._core import Change, InputError, Permanent, wait_for
from providers._core.declare import Args, arg, output
from providers._core.provider import TableProvider
from providers._core.resource import Declared
from providers._core.types import HttpUrl

from .api import Api, map_error
from .settings import Settings

HTTP_TIMEOUT = 30


class ManagementServerArgs(Args, resource="cloudstack.ManagementServer"):
    """A management server as its install left it, and the API keys the program registers."""

    endpoint: pulumi.Input[str] = arg(change=Change.REPLACE, check=HttpUrl)
    """API URL of the management server, e.g. http://10.0.0.31:8080/client/api."""
    username: pulumi.Input[str] = arg(default="admin", change=Change.REPLACE, min_length=1)
    """The ROOT domain's admin user."""
    password: pulumi.Input[str] = arg(secret=True, min_length=1)
    """The admin's password as the install left it (CloudStack's initial one is `password`)."""
    new_password: pulumi.Input[str] | None = arg(None, secret=True, min_length=8)
    """The admin's password from now on (updateUser); unset: the password is left as it is."""
    key_version: pulumi.Input[int] = arg(default=1, ge=1)
    """Bump to rotate the API keys (registerUserKeys)."""
    answer_timeout: pulumi.Input[float] = arg(default=300.0, ge=0)
    """Seconds to wait for the management server to answer before logging in (it may still be
    starting on a controller that was just deployed)."""
    user_id: pulumi.Output[str] = output()
    """Id of the admin user."""
    api_key: pulumi.Output[str] = output(secret=True)
    """The program's API key."""
    secret_key: pulumi.Output[str] = output(secret=True)
    """The program's secret key."""


@dataclass
class Session:
    """A login session (JSESSIONID cookie + sessionkey), as the CloudStack UI holds one."""

    http: Any  # requests.Session
    endpoint: str
    key: str
    user_id: str
    resource: str

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        return post(self.http, self.endpoint, self.resource, command, sessionkey=self.key, **params)


def post(http: Any, endpoint: str, resource: str, command: str, **params: Any) -> dict[str, Any]:
    """One POSTed command (a `requests.Session` keeps the login's cookie); its answer, errors mapped."""
    import requests

    data = {**{k: str(v) for k, v in params.items() if v is not None}, "command": command, "response": "json"}
    try:
        r = http.post(endpoint, data=data, timeout=HTTP_TIMEOUT)
        body = r.json()
    except (requests.RequestException, ValueError) as e:
        raise map_error(resource, command, e) from e
    answer: Any = next(iter(body.values()), {}) if isinstance(body, Mapping) else {}
    if r.status_code != 200:
        raise map_error(resource, command, answer)
    return dict(answer)


def answers(endpoint: str, resource: str) -> bool:
    """True once the management server answers HTTP at `endpoint` (an unsigned call: it refuses it);
    a refused or dropped connection is Retryable."""
    import requests

    try:
        requests.get(endpoint, params={"command": "listCapabilities", "response": "json"}, timeout=HTTP_TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as e:
        raise map_error(resource, "listCapabilities", e) from e
    return True


def login(endpoint: str, username: str, password: str, resource: str) -> Session:
    """`login` (POST); CloudStack's refusal is a Permanent error in its own words."""
    import requests

    http = requests.Session()
    answer = post(http, endpoint, resource, "login", username=username, password=password, domain="/")
    if "sessionkey" not in answer:
        raise map_error(resource, "login", answer)
    return Session(http, endpoint, answer["sessionkey"], answer["userid"], resource)


class ManagementServerProvider(TableProvider):
    args = ManagementServerArgs
    label_field = "endpoint"

    def _login(self, wanted: Mapping[str, Any], *others: Mapping[str, Any]) -> tuple[Session, str]:
        """A session with the first password that works: the one wanted, then the ones known before."""
        candidates: list[str] = []
        for props in (wanted, *others):
            for key in ("new_password", "password"):
                if props.get(key) and props[key] not in candidates:
                    candidates.append(props[key])
        last: Permanent | None = None
        for password in candidates:
            try:
                return login(wanted["endpoint"], wanted["username"], password, self.label(wanted)), password
            except Permanent as e:
                last = e
        assert last is not None
        raise last

    def _converge(self, wanted: dict[str, Any], old: Mapping[str, Any], rotate: bool) -> dict[str, Any]:
        endpoint, resource = wanted["endpoint"], self.label(wanted)
        wait_for(lambda: answers(endpoint, resource), resource=resource, what=f"the management server at {endpoint}",
                 done=bool, timeout=float(wanted["answer_timeout"]))
        session, used = self._login(wanted, old)
        if wanted.get("new_password") and used != wanted["new_password"]:
            session.call("updateUser", id=session.user_id, password=wanted["new_password"])
        keys = {"api_key": old.get("api_key"), "secret_key": old.get("secret_key")}
        if rotate or not keys["api_key"]:
            answer = session.call("registerUserKeys", id=session.user_id)
            pair = answer.get("userkeys", answer)
            keys = {"api_key": pair["apikey"], "secret_key": pair["secretkey"]}
        session.call("logout")
        return {**wanted, "user_id": session.user_id, **keys}

    def create(self, props: dict[str, Any]) -> CreateResult:
        wanted = self.inputs(props)
        outs = self._converge(wanted, {}, rotate=True)
        return CreateResult(outs["user_id"], outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        wanted = self.inputs(news)
        rotate = int(olds.get("key_version") or 0) != int(wanted["key_version"])
        return UpdateResult(self._converge(wanted, olds, rotate))

    def _keys_work(self, props: Mapping[str, Any]) -> bool:
        settings = Settings.model_validate({"endpoint": props["endpoint"], "apiKey": props["api_key"],
                                            "secretKey": props["secret_key"], "retryTimeout": 10})
        try:
            Api(settings, self.label(props)).call("listCapabilities")
        except Permanent as e:
            if "errorcode 401" in e.message:
                return False
            raise
        return True

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not props.get("api_key") or not self._keys_work(props):
            return self.gone()  # revoked or replaced out of band: the next up registers new keys
        return ReadResult(id_, props, inputs=self.table.input_props(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Revoke the program's keys: a new pair replaces them, and nobody keeps it."""
        try:
            session, _ = self._login(props)
        except Permanent as e:
            raise InputError(self.label(props), "password", "(not shown)",
                             f"cannot log in to revoke the program's keys: {e.message}") from e
        session.call("registerUserKeys", id=session.user_id)
        session.call("logout")


class ManagementServer(Declared[ManagementServerArgs], module="cloudstack", name="ManagementServer"):
    """Day 0 of a management server: the admin's password and the program's API keys."""

    provider_type = ManagementServerProvider

    def connection(self) -> pulumi.Output[dict[str, str]]:
        """What the other CloudStack resources take as `connection` (secret)."""
        return pulumi.Output.secret(pulumi.Output.all(self.endpoint, self.api_key, self.secret_key).apply(
            lambda v: {"endpoint": v[0], "apiKey": v[1], "secretKey": v[2]}))
