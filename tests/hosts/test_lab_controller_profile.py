"""The dev lab's controller and the dev stack agree on where the management server answers.

The endpoint is written once in Pulumi.dev.yaml (`privatecloud:cloudstack.endpoint`); the lab's dev
profile starts the management server on the controller host ctl-01. This pure check keeps the two
from drifting apart, and checks what `python -m lab env --format pulumi` prints for it.
"""

from __future__ import annotations

from typing import Any

import yaml

from lab import hosts
from lab.__main__ import DEV, UP_DEFAULT, pulumi_config
from tests.enginekit import REPO


def dev_stack() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]
    return config


def test_the_dev_stack_names_the_controllers_management_server() -> None:
    lab_hosts = [{**h, **hosts.management_server_info(h)} for h in DEV["hosts"]["hosts"]]
    [controller] = [h for h in lab_hosts if "management_server" in h]
    servers = dev_stack()["privatecloud:region"]["servers"]
    assert controller["name"] in [s["name"] for s in servers if s["role"] == "controller"]
    env = pulumi_config({"hosts": {"hosts": lab_hosts}})
    assert env["cloudstack"] == {"endpoint": f"http://{controller['address']}:8080/client/api"}
    assert env["cloudstack"]["endpoint"] == dev_stack()["privatecloud:cloudstack"]["endpoint"]
    # A fresh install: the admin's initial password, no keys.
    assert env["managementServer"] == {"adminUser": "admin", "adminPassword": "password"}


def test_the_lab_starts_no_management_server_of_its_own_by_default() -> None:
    assert "cloudstack" not in UP_DEFAULT and "hosts" in UP_DEFAULT
