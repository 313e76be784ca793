"""What start-up imports: the program and the provider process load no backend client.

A no-op preview talks to no backend, so neither the program (`__main__.py`'s imports) nor the
dynamic-provider process (which imports each resource's module when it unpickles its provider)
may import a backend's client library: each provider imports its client when it first talks to
the backend. Each check runs in a fresh interpreter and reads its `sys.modules`.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The top-level packages of the backends' clients (and the HTTP stack under them).
CLIENTS = {"XenAPI", "cs", "openstack", "ironicclient", "keystoneauth1", "rgwadmin", "boto3", "botocore",
           "requests", "urllib3", "paramiko"}


def program_imports() -> list[str]:
    """What `__main__.py` imports, read from its source (importing it would run the program)."""
    names: list[str] = []
    for node in ast.parse((REPO / "__main__.py").read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


PROGRAM = program_imports()
BACKENDS = ["ironic", "ceph", "xcpng", "cloudstack"]


def loaded_after(code: str) -> set[str]:
    """The modules loaded in a fresh interpreter after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO,
                         env=env).stdout
    return set(json.loads(out.splitlines()[-1]))


def clients_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in CLIENTS)


def test_the_program_imports_no_backend_client() -> None:
    modules = loaded_after("\n".join(f"import {m}" for m in PROGRAM))
    assert "components.region" in modules
    assert clients_in(modules) == []


def test_the_provider_modules_import_no_backend_client() -> None:
    """Every module under providers/, as the provider process imports them when it unpickles."""
    code = (
        "import importlib, pkgutil\n"
        f"for backend in {BACKENDS!r}:\n"
        "    package = importlib.import_module(f'providers.{backend}')\n"
        "    for info in pkgutil.iter_modules(package.__path__):\n"
        "        importlib.import_module(f'providers.{backend}.{info.name}')\n"
    )
    modules = loaded_after(code)
    assert {"providers.ironic.node", "providers.xcpng.pool", "providers.cloudstack.zone",
            "providers.ceph.rgw"} <= modules
    assert clients_in(modules) == []


def test_importing_the_provider_modules_builds_no_input_model() -> None:
    """A kind's pydantic input model is built at its first check: a refresh's reads, and the
    program (which imports the resource modules to declare), need none."""
    code = (
        "import importlib, json, pkgutil\n"
        f"for backend in {BACKENDS!r}:\n"
        "    package = importlib.import_module(f'providers.{backend}')\n"
        "    for info in pkgutil.iter_modules(package.__path__):\n"
        "        importlib.import_module(f'providers.{backend}.{info.name}')\n"
        "from providers._core.declare import Args\n"
        "def subclasses(c):\n"
        "    for s in c.__subclasses__():\n"
        "        yield s\n"
        "        yield from subclasses(s)\n"
        "kinds = [a for a in subclasses(Args) if a.__module__.startswith('providers.')]\n"
        "print(json.dumps([len(kinds), sorted(a.__qualname__ for a in kinds if '__model__' in a.__dict__)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    kinds, built = json.loads(out.splitlines()[-1])
    assert kinds > 30 and built == []


def test_a_settings_model_imports_none_of_its_backends_resources() -> None:
    """The stack config reads each backend's settings model; the packages load their resources
    lazily, so neither that nor unpickling one provider imports the backend's other modules."""
    modules = loaded_after("import providers.ironic.settings, providers.ceph.settings, providers.xcpng.settings")
    resources = {"providers.ironic.node", "providers.ironic.fleet", "providers.ceph.rgw", "providers.ceph.pool",
                 "providers.xcpng.pool", "providers.xcpng.network", "providers.xcpng._xapi"}
    assert sorted(modules & resources) == []
    assert "providers.ceph.rgw" not in loaded_after("import providers.ceph.pool")


def test_the_packages_still_export_their_names() -> None:
    from providers import ceph, ironic, xcpng
    from providers.ironic import NodeProvider
    from providers.ironic.node import NodeProvider as defined

    assert NodeProvider is defined
    for package in (ironic, ceph, xcpng):
        for name in package.__all__:
            assert getattr(package, name) is not None
            assert name in dir(package)


def test_the_provider_is_started_before_the_programs_own_imports() -> None:
    """`__main__.py` asks the engine for the dynamic-provider process (components.prestart) before
    it imports its own modules, and that costs no import of its own beyond the SDK's."""
    source = (REPO / "__main__.py").read_text()
    assert source.index("start_dynamic_provider()\n") < source.index("from components.config import")
    assert loaded_after("import pulumi\nimport components.prestart") - loaded_after("import pulumi") == {
        "components", "components.prestart"}
