"""An emulator of the Apache CloudStack 4.18 management-server API for what a zone needs.

In-process, for tests:

    from lab.cloudstack import CloudStackLab
    cs = CloudStackLab.start()                  # 127.0.0.1, free port, generated keys
    cs.endpoint, cs.api_key, cs.secret_key      # for cs.CloudStack(endpoint=, key=, secret=)
    cs.request_log                              # [LoggedRequest(command, params, error)]
    cs.faults.error("createPod", "boom", 530)   # faults on demand (faults.py)
    cs.jobs.hold(); cs.jobs.advance()           # async jobs under the test's control (jobs.py)
    cs.stop()

As a lab daemon (the lead's `python -m lab`): `start(state_dir, port=, api_key=, secret_key=)`
runs `python -m lab.cloudstack serve` through lab.procs and `stop(state_dir)` stops it by PID.
Split as moto does, on the lab core (lab.emu: server, faults, clock, error base, registry):
models.py (state and rules: objects, store, and the zones/compute/storage collaborators), jobs.py
(job state machine), commands.py (the handlers, mostly as table rows), responses.py (verify,
validate, dispatch, serialise), server.py (HTTP), errors.py, spec.py (listApis 4.18).
README.md says what is and is not modelled and how to add a command.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any

from lab.cloudstack.errors import CloudStackError
from lab.cloudstack.faults import Faults
from lab.cloudstack.jobs import Jobs
from lab.cloudstack.models import Backend
from lab.cloudstack.responses import LoggedRequest, Responses
from lab.cloudstack.server import Server
from lab.emu import daemon
from lab.emu.clock import Clock

NAME = "cloudstack"
REPO = Path(__file__).resolve().parent.parent.parent

__all__ = ["CloudStackError", "CloudStackLab", "LoggedRequest", "generate_key", "install", "start", "stop"]


def generate_key() -> str:
    """A random key in the shape CloudStack generates (URL-safe base64)."""
    return secrets.token_urlsafe(48)


RESTART_WORDS = "job cancelled because of management server restart or shutdown"


class CloudStackLab:
    """One emulated management server with its own state, keys, faults and job table."""

    def __init__(self, api_key: str | None, secret_key: str | None, port: int = 0, host: str = "127.0.0.1") -> None:
        # Clients sign with wall-clock expiry times: the clock follows the wall clock, and a test
        # may move it on (`lab.clock.advance(s)`) to see signatures expire and system VMs boot;
        # dates come from it too.
        self.clock = Clock(realtime=True)
        self.backend = Backend(self.clock)
        self.clock.on_change(self._scan)
        self.faults = Faults()
        self.responses = Responses(self.backend, api_key, secret_key, self.faults, clock=self.clock.time)
        self.server = Server(self.responses, host=host, port=port)

    def _scan(self) -> None:
        with self.backend.lock:
            self.backend.systemvms.scan()

    @classmethod
    def start(cls, api_key: str | None = None, secret_key: str | None = None, *, port: int = 0,
              host: str = "127.0.0.1", fresh: bool = False) -> CloudStackLab:
        """`fresh`: as a new install leaves it, the admin with password `password` and no API keys
        (`login`, then `registerUserKeys`); otherwise the admin has the given (or generated) keys."""
        if fresh:
            lab = cls(None, None, port=port, host=host)
        else:
            lab = cls(api_key or generate_key(), secret_key or generate_key(), port=port, host=host)
        lab.server.start()
        return lab

    @property
    def admin_password(self) -> str:
        return self.backend.tenants.admin_user.password

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def api_key(self) -> str:
        """The admin's API key (a fresh install has none until `registerUserKeys`: LookupError)."""
        return self._key(self.responses.api_key or self.backend.tenants.admin_user.apikey)

    @property
    def secret_key(self) -> str:
        """The admin's secret key: the lab's, or (a fresh install) the one registerUserKeys made."""
        if self.responses.api_key is not None:
            return self._key(self.responses.secret_key)
        return self._key(self.backend.tenants.admin_user.secretkey)

    @staticmethod
    def _key(key: str | None) -> str:
        if key is None:
            raise LookupError("the admin has no API keys yet (a fresh install): login, then registerUserKeys")
        return key

    @property
    def request_log(self) -> list[LoggedRequest]:
        return self.responses.request_log

    @property
    def jobs(self) -> Jobs:
        return self.backend.jobs

    def problems(self) -> list[str]:
        """What the real server would complain about later, in its words (e.g. S3 without staging)."""
        with self.backend.lock:
            return self.backend.problems()

    def info(self) -> dict[str, Any]:
        if self.responses.api_key is None:  # a fresh install: the admin's initial password is the way in
            return {"endpoint": self.endpoint, "admin_user": "admin", "admin_password": self.admin_password}
        return {"endpoint": self.endpoint, "api_key": self.api_key, "secret_key": self.secret_key}

    def restart(self) -> None:
        """Restart the management server: its endpoint closes (open connections too), pending async
        jobs fail as CloudStack's startup cleanup fails them (AsyncJobManagerImpl: 530, "job
        cancelled because of management server restart or shutdown"), the database stays; it
        answers again on the same port."""
        port = self.server.port
        self.server.stop()
        with self.backend.lock:
            for job in self.backend.jobs.pending():
                job.fail_with = CloudStackError(530, RESTART_WORDS, None)
                job.finish()
        self.server = Server(self.responses, host=self.server.host, port=port)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> CloudStackLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------------- lab CLI integration


def install() -> None:
    """Nothing to install: the emulator is pure Python on the project's virtualenv."""


def start(state_dir: Path, port: int = 18096, api_key: str | None = None, secret_key: str | None = None,
          timeout: float = 30.0, fresh: bool = False, **_: Any) -> dict[str, Any]:
    """Run the emulator as a daemon (`python -m lab.cloudstack serve`), wait until it answers.

    `fresh`: a new install (admin `admin` / `password`, no API keys); the answer then carries
    `admin_user` and `admin_password` instead of keys."""
    from lab import procs

    api_key = api_key or generate_key()
    secret_key = secret_key or generate_key()
    argv = [sys.executable, "-m", "lab.cloudstack", "serve", "--port", str(port), "--info",
            str(state_dir / "cloudstack.json"), *(["--fresh"] if fresh else [])]
    # Keys go through the environment, not argv, so they do not show in `ps`. The daemon writes
    # its info file once it has bound the port: until then, whatever answers on that port
    # (another lab's emulator, say) is not ours.
    env = {"CLOUDSTACK_API_KEY": api_key, "CLOUDSTACK_SECRET_KEY": secret_key, "PYTHONPATH": str(REPO)}
    daemon.start(NAME, argv, state_dir, state_dir / "cloudstack.json", env=env, cwd=REPO, timeout=timeout,
                 what=f"the CloudStack emulator on port {port}")
    endpoint = f"http://127.0.0.1:{port}/client/api"
    # An unsigned request is answered 401 once the server is up.
    procs.wait_http(f"{endpoint}?command=listZones&response=json", timeout=timeout, what="CloudStack emulator",
                    ok=(401,))
    if fresh:
        return {"endpoint": endpoint, "admin_user": "admin", "admin_password": "password"}
    return {"endpoint": endpoint, "api_key": api_key, "secret_key": secret_key}


def stop(state_dir: Path) -> None:
    from lab import procs

    procs.stop(NAME, state_dir)


def read_info(state_dir: Path) -> dict[str, Any]:
    return dict(json.loads((state_dir / "cloudstack.json").read_text()))
