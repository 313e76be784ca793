"""`pulumi preview` refuses a mistaken stack config with the validator's own message, before any
backend is contacted.

Each case is a file of the single-mistake corpus (tests/unit/config_corpus) whose every endpoint
(Ironic, the Ceph dashboard, RGW, CloudStack, each XCP-ng host's XAPI, the image server) is pointed
at a listening socket of this test on 127.0.0.1. The real engine runs the real program on it; the
preview must fail, log each line `python -m components.config` prints for the same file, declare
no resource but the stack, and leave every socket without a single connection. No lab is needed:
a preview that fails at config validation must not need one.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.config import main
from tests.enginekit import REPO, EngineStack

pytestmark = [pytest.mark.engine]

CORPUS = Path(__file__).resolve().parents[1] / "unit" / "config_corpus"
DEV_PASSPHRASE = "privatecloud-dev"  # the corpus is Pulumi.dev.yaml with one mistake (README: State and secrets)
SECRET = "hunter2"
CASES = [
    "049-network-netmask-not-contiguous",  # a value the model refuses
    "030-identity-mac-short",  # a value type of providers._core.types
    "053-network-pool-vlan-in-guest-range",  # a cross-layer invariant
    "131-credential-bmc-password-plaintext",  # only the stack file shows it: the engine gets the section as a secret
    "143-namespace-other-namespace-xcpng",  # a key the old engine path never read
    "114-number-size-true",  # a boolean where a number belongs
]
ENDPOINTS = ["16385", "18080", "17480", "18096", "8000", *(f"1910{i}" for i in range(1, 7))]


class Backends:
    """One listening socket on 127.0.0.1 per endpoint of the dev stack; never accepts, only counts."""

    def __init__(self) -> None:
        self.sockets: dict[str, socket.socket] = {}
        for port in ENDPOINTS:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            s.setblocking(False)
            self.sockets[port] = s

    def rewrite(self, text: str) -> str:
        """The stack file with each dev endpoint's port replaced by its socket's."""
        def port(m: re.Match[str]) -> str:
            return f"127.0.0.1:{self.sockets[m.group(1)].getsockname()[1]}"
        return re.sub(r"127\.0\.0\.1:(\d+)", port, text)

    def contacted(self) -> dict[str, int]:
        """Dev port -> connections that arrived at its socket (accepted and closed here)."""
        out = {}
        for dev_port, s in self.sockets.items():
            n = 0
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                n += 1
            if n:
                out[dev_port] = n
        return out

    def close(self) -> None:
        for s in self.sockets.values():
            s.close()


@pytest.fixture()
def backends() -> Iterator[Backends]:
    b = Backends()
    try:
        yield b
    finally:
        b.close()


def test_the_probe_sees_a_connection(backends: Backends) -> None:
    """The check below is only as good as its probe: a connection to a socket is counted."""
    port = backends.sockets["18096"].getsockname()[1]
    with contextlib.closing(socket.create_connection(("127.0.0.1", port), timeout=5)):
        pass
    assert backends.contacted() == {"18096": 1}
    assert backends.contacted() == {}


@pytest.mark.parametrize("case", CASES)
def test_preview_fails_with_the_validators_message_before_any_backend_is_contacted(
    tmp_path: Path, engine_bin: Path, backends: Backends, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = EngineStack.create(
        tmp_path, engine_bin, project="privatecloud", program=(REPO / "__main__.py").read_text(),
        extra_env={"PULUMI_CONFIG_PASSPHRASE": DEV_PASSPHRASE},
    )
    stack_file = stack.workdir / f"Pulumi.{stack.name}.yaml"
    stack_file.write_text(backends.rewrite((CORPUS / f"{case}.yaml").read_text()))

    assert main([str(stack_file)]) == 1
    expected = [line.removeprefix(f"{stack_file}: ") for line in capsys.readouterr().out.splitlines()]
    assert expected

    result = stack.run("preview", "--diff")
    errors = "".join(result.diagnostics("error"))
    assert result.returncode != 0
    for line in expected:
        assert f"stack config: {line}" in errors, f"{line!r} not in the engine's errors:\n{errors}"
    assert f"the stack config has {len(expected)} problem(s)" in errors
    declared = {step.type for step in result.steps}
    assert declared <= {"pulumi:pulumi:Stack"}, declared
    assert backends.contacted() == {}
    # The program never shows the plaintext credential; the engine's own prelude does (it echoes
    # every config value that is not `secure:`), which is why the validator refuses it.
    assert SECRET not in "".join(result.diagnostics())
