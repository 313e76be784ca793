"""The management server's own login: the ROOT domain's `admin` user, its password, its API keys
and the web sessions `login` opens.

A fresh install (`Accounts(fresh=True)`) is what `cloudstack-setup-management` leaves: the `admin`
user of the ROOT domain with the initial password `password` and no API keys, so the only way in is
`login` (ApiServlet: POST only; a JSESSIONID cookie and a `sessionkey` that every later request
sends back) followed by `registerUserKeys`. Otherwise the admin has the key pair the lab was given.

Texts from DefaultLoginAPIAuthenticatorCmd, ApiServer.loginUser, ApiServlet (session checks) and
AccountManagerImpl (createApiKeyAndSecretKey, updateUser).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.jobs import ADMIN_ACCOUNT_ID, ADMIN_USER_ID, now
from lab.cloudstack.objects import ROOT_DOMAIN_ID, Resource
from lab.cloudstack.store import Store

INITIAL_PASSWORD = "password"  # what a fresh install's admin logs in with
SESSION_TIMEOUT = 1800  # seconds: the servlet container's session timeout


def new_key() -> str:
    """A key in the shape AccountManagerImpl.createUserApiKey makes (URL-safe Base64 of random bytes)."""
    return secrets.token_urlsafe(64)


@dataclass(eq=False)
class LoginUser(Resource):
    """A user who can log in (the ROOT admin): password and key pair."""

    password: str = INITIAL_PASSWORD
    apikey: str | None = None
    secretkey: str | None = None
    firstname: str = "admin"
    lastname: str = "cloud"
    created: str = field(default_factory=now)

    def to_api(self) -> dict[str, Any]:
        """UserResponse (updateUser): the key pair is listed, as 4.18 lists it to the root admin."""
        out = {
            "id": self.id, "username": self.name, "firstname": self.firstname, "lastname": self.lastname,
            "created": self.created, "state": "enabled", "account": "admin", "accountid": ADMIN_ACCOUNT_ID,
            "accounttype": 1, "domainid": ROOT_DOMAIN_ID, "domain": "ROOT", "roletype": "Admin",
            "rolename": "Root Admin", "isdefault": True, "usersource": "native", "iscallerchilddomain": False,
            "is2faenabled": False, "is2famandated": False,
        }
        if self.apikey is not None:
            out["apikey"] = self.apikey
        return out


@dataclass
class Session:
    jsessionid: str
    sessionkey: str
    user: LoginUser


class Accounts:
    """The admin user, key lookup for signed requests, and login sessions."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.admin = store.add(LoginUser(ADMIN_USER_ID, 2, "admin", created=store.stamp()))
        self.sessions: dict[str, Session] = {}

    # --- keys --------------------------------------------------------------------------------------
    def set_keys(self, api_key: str | None, secret_key: str | None) -> None:
        """The admin's key pair as the lab was given it (None, None: a fresh install)."""
        self.admin.apikey, self.admin.secretkey = api_key, secret_key

    def secret_for(self, api_key: str) -> str | None:
        """ApiServer.verifyRequest: the secret key of the user owning `api_key` (None: nobody)."""
        users = [u for u in self.store.all(LoginUser) if u.apikey is not None]
        return next((u.secretkey for u in users if secrets.compare_digest(u.apikey or "", api_key)), None)

    def user(self, uid: str) -> LoginUser:
        user = self.store.get(LoginUser, uid)
        if user is None:
            raise errors.invalid_parameter(f"unable to find user by id {uid}")
        return user

    def register_keys(self, uid: str) -> dict[str, str]:
        """registerUserKeys: a new pair replaces the old one, which stops working at once."""
        user = self.user(uid)
        user.apikey, user.secretkey = new_key(), new_key()
        return {"apikey": user.apikey, "secretkey": user.secretkey}

    def update_user(self, p: dict[str, Any]) -> LoginUser:
        """updateUser for the fields a login user has: password (a root admin needs no current
        password; a wrong one given is refused), names."""
        user = self.user(p["id"])
        if p.get("password") is not None:
            if not p["password"].strip():
                raise errors.invalid_parameter("Password cannot be empty or blank.")
            current = p.get("currentpassword")
            if current is not None and current != user.password:
                raise errors.invalid_parameter("Current password is incorrect.")
            user.password = p["password"]
        for key in ("firstname", "lastname"):
            if p.get(key):
                setattr(user, key, p[key])
        return user

    # --- login sessions ------------------------------------------------------------------------------
    def login(self, username: str | None, password: str | None, domain: str | None) -> Session:
        """ApiServer.loginUser in the ROOT domain (domain "/" or "ROOT" or none)."""
        if domain not in (None, "", "/", "ROOT", "/ROOT/", "ROOT/", "/ROOT"):
            raise login_failed(f"Unable to find the domain from the path {domain}")
        user = next((u for u in self.store.all(LoginUser) if u.name == username), None)
        if user is None or password is None or not secrets.compare_digest(user.password, password):
            raise login_failed(f"Failed to authenticate user {username} in domain 1; please provide valid "
                               "credentials")
        session = Session(secrets.token_hex(16).upper(), secrets.token_urlsafe(20), user)
        self.sessions[session.jsessionid] = session
        return session

    def logout(self, jsessionid: str | None) -> None:
        self.sessions.pop(jsessionid or "", None)

    def session(self, jsessionid: str | None) -> Session | None:
        return self.sessions.get(jsessionid or "")


def login_failed(text: str) -> CloudStackError:
    """The login's ACCOUNT_ERROR (531), serialised from an int: no cserrorcode."""
    return CloudStackError(errors.ACCOUNT_ERROR, text, None)


def login_response(session: Session) -> dict[str, Any]:
    """LoginCmdResponse (every value a string, as the real server writes them)."""
    user = session.user
    return {
        "username": user.name, "userid": user.id, "domainid": ROOT_DOMAIN_ID, "timeout": str(SESSION_TIMEOUT),
        "account": "admin", "firstname": user.firstname, "lastname": user.lastname, "type": "1",
        "registered": "false", "sessionkey": session.sessionkey, "is2faenabled": "false",
        "issuerfor2fa": "cloudstack",
    }
