"""Fixtures for the XAPI emulator tests: a lab of three hosts, and logged-in XenAPI sessions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import XenAPI

from lab.xapi import XapiLab

PASSWORD = "s3cret"


@pytest.fixture
def lab() -> Iterator[XapiLab]:
    lab = XapiLab.start(hosts=["xcp-01", "xcp-02", "xcp-03"], password=PASSWORD)
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def login(lab: XapiLab) -> Iterator[Callable[[int], Any]]:
    """login(i) -> a XenAPI session logged in to host i (logged out at teardown)."""
    sessions: list[Any] = []

    def _login(i: int) -> Any:
        s = XenAPI.Session(lab.hosts[i].url)
        s.xenapi.login_with_password("root", PASSWORD, "1.0", "tests")
        sessions.append(s)
        return s

    yield _login
    for s in sessions:
        with contextlib.suppress(Exception):  # the host may have become a member or been ejected
            s.xenapi.session.logout()
