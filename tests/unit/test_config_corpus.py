"""A corpus of single-mistake stack files (tests/unit/config_corpus), each refused by the validator.

Every file is Pulumi.dev.yaml with one mistake, and says in its header what the mistake is and a
part of the one-line message that must name it (`# expect: ...`). The validator must exit 1, print
only `<file>: <problem>` lines (no traceback), name the path in one of them, and never print a
secret: the corpus's plaintext secrets are all `hunter2` or `4815162342`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, load_config, main, parse_stack_file
from tests.enginekit import REPO

CORPUS = sorted((Path(__file__).parent / "config_corpus").glob("*.yaml"))
SECRETS = ("hunter2", "4815162342")
CLASSES = {"url", "identity", "network", "name", "storage", "number", "credential", "file", "namespace"}


def header(path: Path) -> tuple[str, str]:
    """(class, expected message part) from a corpus file's first two lines."""
    first, second = path.read_bytes().split(b"\n")[:2]
    cls = re.fullmatch(rb"# mistake \((\w+)\): .*", first)
    expect = re.fullmatch(rb"# expect: (.*)", second)
    assert cls and expect, f"{path.name}: no header"
    return cls.group(1).decode(), expect.group(1).decode()


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_single_mistake_is_refused(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, expect = header(path)
    status = main([str(path)])
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert status == 1, out.out
    assert out.err == ""
    assert lines and all(line.startswith(f"{path}: ") for line in lines), out.out
    assert any(expect in line for line in lines), f"no line holds {expect!r}:\n{out.out}"
    for secret in SECRETS:
        assert secret not in out.out


def test_corpus_covers_every_class() -> None:
    assert len(CORPUS) >= 100
    found = {header(p)[0] for p in CORPUS}
    assert found == CLASSES
    for cls in CLASSES:
        assert sum(header(p)[0] == cls for p in CORPUS) >= 5, cls


def test_cli_exit_codes_and_no_traceback() -> None:
    """The module as a command: 1 for the corpus (every file reported), 0 for the committed stacks."""
    run = subprocess.run([sys.executable, "-m", "components.config", *map(str, CORPUS)],
                         cwd=REPO, capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert run.stderr == ""
    assert {line.partition(": ")[0] for line in run.stdout.splitlines()} == {str(p) for p in CORPUS}
    ok = subprocess.run([sys.executable, "-m", "components.config", *map(str, sorted(REPO.glob("Pulumi.*.yaml")))],
                        cwd=REPO, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout


def as_the_engine_gives_it(path: Path) -> tuple[dict[str, Any], set[str]]:
    """The stack file's config as the engine hands it to the program: every key, objects as JSON
    strings, secrets decrypted (here to a stand-in), and the keys that hold a secret."""

    def decrypt(v: Any) -> Any:
        if isinstance(v, dict):
            return "decrypted" if set(v) == {"secure"} else {k: decrypt(x) for k, x in v.items()}
        return [decrypt(x) for x in v] if isinstance(v, list) else v

    config = (parse_stack_file(path.read_bytes()) or {}).get("config") or {}
    secret_keys = {k for k, v in config.items() if "'secure'" in repr(v)}
    return {k: json.dumps(decrypt(v)) for k, v in config.items()}, secret_keys


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_engine_path_refuses_exactly_what_the_cli_refuses(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(path)])
    cli = [line.removeprefix(f"{path}: ") for line in capsys.readouterr().out.splitlines()]
    try:
        config, secret_keys = as_the_engine_gives_it(path)
    except (ConfigError, AttributeError):
        config, secret_keys = {}, set()  # a file that is no stack file: its own problem is what is reported
    with pytest.raises(ConfigError) as e:
        load_config(config, secret_keys=secret_keys, stack_file=str(path))
    assert e.value.problems == cli
