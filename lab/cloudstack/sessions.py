"""How ApiServlet authenticates a request before ApiServer sees it: `login`/`logout` (handled by
the servlet itself, POST only), and requests that carry a login session (JSESSIONID cookie plus
the `sessionkey` the login answered) instead of a signature.

A request whose JSESSIONID names no session is treated as sessionless: it must be signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.accounts import Accounts, Session, login_response
from lab.cloudstack.errors import CloudStackError


@dataclass
class Answered:
    """An answer the servlet gives itself (responses.py turns it into its Answer)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)


@dataclass
class Auth:
    """The servlet's verdict: an answer of its own (login, logout, a refused session), or go on
    to the command (`session` set: authenticated by it; None: the request must be signed)."""

    answer: Answered | None = None
    error: CloudStackError | None = None
    session: Session | None = None


def _param(params: dict[str, str], name: str) -> str | None:
    return next((v for k, v in params.items() if k.lower() == name), None)


def _refused(err: CloudStackError, response_name: str) -> Auth:
    return Auth(Answered(err.errorcode, {response_name: err.body()}, {"X-Description": err.errortext}), err)


def _login(accounts: Accounts, params: dict[str, str], method: str) -> Auth:
    if method != "POST":
        return _refused(CloudStackError(405, "Please use HTTP POST to authenticate using this API"), "loginresponse")
    try:
        session = accounts.login(_param(params, "username"), _param(params, "password"), _param(params, "domain"))
    except CloudStackError as err:
        return _refused(err, "loginresponse")
    cookies = [f"JSESSIONID={session.jsessionid}; Path=/client; HttpOnly", f"sessionkey={session.sessionkey};HttpOnly"]
    return Auth(Answered(200, {"loginresponse": login_response(session)}, cookies=cookies), session=session)


def authenticate(accounts: Accounts, params: dict[str, str], cookies: dict[str, str], method: str) -> Auth:
    """ApiServlet.processRequestInContext up to verifyRequest."""
    command = params.get("command")
    if command == "login":
        return _login(accounts, params, method)
    session = accounts.session(cookies.get("JSESSIONID"))
    if command == "logout":
        accounts.logout(cookies.get("JSESSIONID"))
        return Auth(Answered(200, {"logoutresponse": {"description": "success"}},
                             cookies=[f"{name}=; Max-Age=0" for name in cookies]))
    if session is None:
        return Auth()
    key = _param(params, "sessionkey") or cookies.get("sessionkey")
    if key != session.sessionkey:  # HttpUtils.validateSessionKey; the session is invalidated
        accounts.logout(session.jsessionid)
        return _refused(CloudStackError(errors.UNAUTHORIZED, "unable to verify user credentials", None),
                        f"{(command or 'error').lower()}response")
    return Auth(session=session)
