"""Fixtures for the CloudStack emulator's own tests: a fresh emulator and a stock `cs` client."""

from __future__ import annotations

from collections.abc import Iterator

import cs
import pytest

from lab.cloudstack import CloudStackLab


@pytest.fixture
def lab() -> Iterator[CloudStackLab]:
    """A fresh emulator on 127.0.0.1 with a free port and generated keys."""
    emulator = CloudStackLab.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def client(lab: CloudStackLab) -> cs.CloudStack:
    """The stock `cs` client, unmodified, signing with the emulator's keys; jobs polled fast."""
    return cs.CloudStack(endpoint=lab.endpoint, key=lab.api_key, secret=lab.secret_key, poll_interval=0.01,
                         job_timeout=10)
