"""An OpenSSH sshd on 127.0.0.1 for tests: a throwaway host key and client key, stopped by its PID.

    with Sshd.start(tmp_path) as sshd:
        sshd.port, sshd.user, sshd.private_key   # what a client needs

Key authentication only. `AcceptEnv PULUMI_COMMAND_*` lets pulumi-command pass its environment.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from lab import procs

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def unavailable_reason() -> str | None:
    if not os.path.exists(SSHD):
        return "OpenSSH's sshd is not installed (bin/setup installs openssh-server as root)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed"
    return None


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@dataclass
class Sshd:
    proc: subprocess.Popen[bytes]
    port: int
    user: str
    private_key: str
    log: Path

    @classmethod
    def start(cls, root: Path, *, timeout: float = 30.0) -> Sshd:
        root.mkdir(parents=True, exist_ok=True)
        _keygen(root / "host_key")
        _keygen(root / "client_key")
        authorized = root / "authorized_keys"
        authorized.write_text((root / "client_key.pub").read_text())
        authorized.chmod(0o600)
        port = procs.free_port()  # sshd takes no port 0
        config = root / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1:{port}\n"
            f"HostKey {root / 'host_key'}\n"
            f"AuthorizedKeysFile {authorized}\n"
            f"PidFile {root / 'sshd.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "PermitRootLogin prohibit-password\n"
            # The keys live in a temporary directory under /tmp (world-writable, sticky).
            "StrictModes no\n"
            "AcceptEnv PULUMI_COMMAND_*\n"
            "Subsystem sftp internal-sftp\n"
        )
        # Privilege separation needs this directory; Debian creates it only when the service starts.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = root / "sshd.log"
        proc = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)], stdin=subprocess.DEVNULL)
        sshd = cls(proc, port, pwd.getpwuid(os.getuid()).pw_name, (root / "client_key").read_text(), log)
        sshd._wait_listening(timeout)
        return sshd

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port} within {timeout} s") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)

    def __enter__(self) -> Sshd:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
