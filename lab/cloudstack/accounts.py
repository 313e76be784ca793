"""Logging in to the management server: the `login` command's password check and the web sessions
it opens, over the users of `tenants.py` (who hold the passwords and the API keys).

A fresh install (`CloudStackLab.start(fresh=True)`) is what `cloudstack-setup-management` leaves:
the `admin` user of the ROOT domain with the initial password `password` and no API keys, so the
only way in is `login` (ApiServlet: POST only; a JSESSIONID cookie and a `sessionkey` that every
later request sends back) followed by `registerUserKeys` (tenants.py).

Texts from DefaultLoginAPIAuthenticatorCmd, ApiServer.loginUser and ApiServlet (session checks).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.store import Store
from lab.cloudstack.tenant_objects import User
from lab.cloudstack.tenants import Tenants

INITIAL_PASSWORD = "password"  # what a fresh install's admin logs in with
SESSION_TIMEOUT = 1800  # seconds: the servlet container's session timeout


@dataclass
class Session:
    jsessionid: str
    sessionkey: str
    user: User


class Accounts:
    """Login sessions of the tenants' users; the ROOT admin starts with the install's password."""

    def __init__(self, store: Store, tenants: Tenants) -> None:
        self.store = store
        self.tenants = tenants
        if not tenants.admin_user.password:
            tenants.admin_user.password = INITIAL_PASSWORD
        self.sessions: dict[str, Session] = {}

    @property
    def admin(self) -> User:
        return self.tenants.admin_user

    def login(self, username: str | None, password: str | None, domain: str | None) -> Session:
        """ApiServer.loginUser: an enabled user of the domain (ROOT when none is given) and its password."""
        path = (domain or "/").strip("/")
        users = [u for u in self.store.all(User) if u.name == username and u.state == "enabled"
                 and u.account is not None and u.account.domain is not None
                 and ((path in ("", "ROOT") and u.account.domain is self.tenants.root)
                      or u.account.domain.name == path.rsplit("/", 1)[-1])]
        if domain not in (None, "", "/") and not users and not any(
                d.name == path.rsplit("/", 1)[-1] for d in self.store.all(type(self.tenants.root))):
            raise login_failed(f"Unable to find the domain from the path /{path}/")
        user = users[0] if users else None
        if user is None or password is None or not user.password or not secrets.compare_digest(user.password,
                                                                                                password):
            raise login_failed(f"Failed to authenticate user {username} in domain 1; please provide valid "
                               "credentials")
        session = Session(secrets.token_hex(16).upper(), secrets.token_urlsafe(20), user)
        self.sessions[session.jsessionid] = session
        return session

    def logout(self, jsessionid: str | None) -> None:
        self.sessions.pop(jsessionid or "", None)

    def session(self, jsessionid: str | None) -> Session | None:
        found = self.sessions.get(jsessionid or "")
        if found is not None and self.store.get(User, found.user.id) is None:  # the user was deleted
            self.logout(found.jsessionid)
            return None
        return found


def login_failed(text: str) -> CloudStackError:
    """The login's ACCOUNT_ERROR (531), serialised from an int: no cserrorcode."""
    return CloudStackError(errors.ACCOUNT_ERROR, text, None)


def login_response(session: Session) -> dict[str, Any]:
    """LoginCmdResponse (every value a string, as the real server writes them)."""
    user = session.user
    account = user.account
    assert account is not None and account.domain is not None
    return {
        "username": user.name, "userid": user.id, "domainid": account.domain.id, "timeout": str(SESSION_TIMEOUT),
        "account": account.name, "firstname": user.firstname, "lastname": user.lastname,
        "type": str(account.accounttype), "registered": "false", "sessionkey": session.sessionkey,
        "is2faenabled": "false", "issuerfor2fa": "cloudstack",
    }
